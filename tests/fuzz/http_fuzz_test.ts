// Hostile bodies for `POST /v1/api/sql` on a real server process (issue 15 item 3): malformed
// JSON, wrong types for `sql` and `params`, huge bodies and parameter lists, deep nesting,
// invalid UTF-8, NUL bytes, odd Content-Types and Authorization headers. Property: the answer is
// 200 success or a 4xx whose JSON body carries a SPEC §4 code with that code's status — never a
// 5xx — and the healthcheck still answers afterwards. The server runs with a 1 MiB body limit
// and a 256 KiB SQL limit so "huge" inputs cross them without costing much.

import {
  assert,
  assertEquals,
  ROOT,
  SPEC_STATUS,
  startServer,
  type TestServer,
} from "../server/_server.ts";
import { fc, params, preview, regressionBytes, regressions, Tally, within } from "./_fuzz.ts";
import { FIXTURE, hostileSql, oddText } from "./_sql_gen.ts";

const MAX_BODY = 1024 * 1024;
const MAX_SQL = 256 * 1024;
const REQUEST_DEADLINE_MS = 30_000;

const enc = new TextEncoder();

interface Hostile {
  readonly body: Uint8Array;
  readonly contentType?: string;
  readonly auth?: string;
}

/** JSON values that are odd as parameters: big numbers, NUL, deep arrays, long strings. */
const oddParam = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  oddText,
  fc.constantFrom(1e308, -0, 2 ** 63, Number.MAX_SAFE_INTEGER + 2, "\0", "", "9223372036854775808"),
  fc.integer({ min: 1, max: 5000 }).map((n) => nestArrays(n)),
  fc.integer({ min: 1, max: 300_000 }).map((n) => "x".repeat(n)),
);

/** `n` nested arrays around 1, built without recursion. */
function nestArrays(n: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}

const json = (v: unknown) => enc.encode(JSON.stringify(v));

/** A JSON text nested `n` deep (`[[[…]]]` or `{"a":{"a":…}}`), written as text: never parsed here. */
const deepJson = fc.tuple(fc.integer({ min: 1, max: 200_000 }), fc.boolean(), fc.boolean()).map(
  ([n, arrays, closed]) => {
    const open = arrays ? "[" : '{"a":';
    const close = arrays ? "]" : "}";
    const inner = `{"sql":"SELECT 1","params":${open.repeat(n)}1${closed ? close.repeat(n) : ""}}`;
    return enc.encode(arrays && n % 2 ? open.repeat(n) + close.repeat(n) : inner);
  },
);

const wrongTypes = fc.record({
  sql: fc.oneof(fc.jsonValue({ maxDepth: 2 }), hostileSql, fc.constant(undefined)),
  params: fc.oneof(
    fc.constant(undefined),
    fc.array(oddParam, { maxLength: 6 }),
    fc.jsonValue({ maxDepth: 2 }),
    fc.integer({ min: 0, max: 100_000 }).map((n) => Array.from({ length: n }, (_, i) => i)),
  ),
}, { requiredKeys: [] }).map(json);

const bodies: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(hostileSql, fc.array(oddParam, { maxLength: 4 })).map(([sql, p]) =>
      json(p.length ? { sql, params: p } : { sql })
    ),
  },
  { weight: 3, arbitrary: wrongTypes },
  { weight: 1, arbitrary: deepJson },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }).map((s) => enc.encode(s)) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.nat()).map(([v, cut]) => {
      const text = JSON.stringify({ sql: "SELECT 1", x: v });
      return enc.encode(text.slice(0, cut % (text.length + 1)));
    }),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat({ max: 20 })).map(
      ([junk, at]) => {
        // Invalid UTF-8 (or a NUL) inside an otherwise valid SQL string.
        const head = enc.encode('{"sql":"SELECT \'' + "a".repeat(at));
        const tail = enc.encode("'\"}");
        return Uint8Array.from([...head, ...junk, ...tail]);
      },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: MAX_SQL - 16, max: MAX_BODY + 4096 }).map((n) =>
      json({ sql: `SELECT '${"x".repeat(n)}'` })
    ),
  },
);

const hostile: fc.Arbitrary<Hostile> = fc.record({
  body: bodies,
  contentType: fc.oneof(
    { weight: 8, arbitrary: fc.constant("application/json") },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        undefined,
        "text/plain",
        "application/json; charset=latin1",
        "application/JSON ;x=1",
        "multipart/form-data; boundary=x",
      ),
    },
  ),
  auth: fc.oneof(
    { weight: 8, arbitrary: fc.constant(ROOT) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        undefined,
        "Basic",
        "Basic !!!",
        "Bearer",
        "Bearer a.b.c",
        "Basic " + btoa("alice:alice-pw"),
        "Digest x",
        "Basic " + btoa("\0:\0"),
      ),
    },
  ),
});

/** Sends one hostile request and checks the property. */
async function check(server: TestServer, h: Hostile): Promise<void> {
  const headers: Record<string, string> = {};
  if (h.contentType !== undefined) headers["content-type"] = h.contentType;
  if (h.auth !== undefined) headers["authorization"] = h.auth;
  const what = `${h.contentType} ${h.auth?.slice(0, 12)} ${preview(h.body)}`;
  const res = await within(
    fetch(`${server.url}/v1/api/sql`, { method: "POST", headers, body: h.body as BodyInit }).then(
      async (r) => ({
        status: r.status,
        text: await r.text(),
      }),
    ),
    REQUEST_DEADLINE_MS,
    what,
  );
  const ctx = `HTTP ${res.status} ${res.text.slice(0, 300)} for ${what}`;
  assert(res.status < 500, `5xx: ${ctx}`);
  // deno-lint-ignore no-explicit-any
  let body: any;
  try {
    body = JSON.parse(res.text);
  } catch {
    throw new Error(`not JSON: ${ctx}`);
  }
  if (res.status === 200) {
    assertEquals(body.status, "success", ctx);
    return;
  }
  assertEquals(body.status, "error", ctx);
  const code = body.error?.code;
  assert(code in SPEC_STATUS, `code ${code} is not in SPEC §4: ${ctx}`);
  assertEquals(res.status, SPEC_STATUS[code], `status of ${code}: ${ctx}`);
}

async function healthy(server: TestServer): Promise<void> {
  const r = await within(
    server.request("GET", "/v1/api/healthcheck"),
    REQUEST_DEADLINE_MS,
    "health",
  );
  assertEquals(r.status, 200, `healthcheck after fuzzing: ${r.text}`);
}

Deno.test("fuzz http: hostile /v1/api/sql bodies get 200 or a coded 4xx, never a 5xx", async () => {
  const tally = new Tally("http");
  const server = await startServer({
    KALAMDB_MAX_BODY_BYTES: String(MAX_BODY),
    KALAMDB_MAX_SQL_BYTES: String(MAX_SQL),
    KALAMDB_QUERY_TIMEOUT_MS: "5000",
  });
  try {
    await server.root(FIXTURE);
    for (const r of regressions("http")) {
      tally.one();
      await check(server, {
        body: regressionBytes(r),
        contentType: r.kind ?? "application/json",
        auth: ROOT,
      });
    }
    // A few fixed extremes on every run: a body past the limit, one of a million `[`.
    for (
      const body of [enc.encode(" ".repeat(MAX_BODY + 1)), enc.encode("[".repeat(MAX_BODY - 1))]
    ) {
      tally.one();
      await check(server, { body, contentType: "application/json", auth: ROOT });
    }
    await fc.assert(
      fc.asyncProperty(hostile, async (h) => {
        tally.one();
        await check(server, h);
      }),
      params(250, false),
    );
    await healthy(server);
  } finally {
    const out = await server.stop();
    tally.print();
    const errors = out.stderr.split("\n").filter((l) => /error in|uncaught/i.test(l));
    assertEquals(errors, [], `server logged errors:\n${out.stderr.slice(-3000)}`);
    assertEquals(out.code, 0, `server exit status; stderr:\n${out.stderr.slice(-3000)}`);
  }
});
