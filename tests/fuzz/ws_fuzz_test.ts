// Hostile frames on `/v1/ws` of a real server process (issue 15 item 3): garbage text, binary
// frames, JSON of the wrong shape, subscribe with hostile SQL and options, unknown unsubscribes,
// oversized frames, subscribe/unsubscribe floods and sockets that never authenticate. Property:
// everything the server sends is a JSON message (or array of them) of a known type, every error
// carries a catalogued code other than INTERNAL_ERROR, a socket is closed only with 1000, 1008
// or 1009, and an observer socket subscribed throughout still gets its change at the end.

import {
  assert,
  assertEquals,
  SPEC_STATUS,
  startServer,
  type TestServer,
} from "../server/_server.ts";
import { ERROR_CODES } from "../../errors.ts";
import { fc, params, preview, regressionBytes, regressions, Tally, within } from "./_fuzz.ts";
import { FIXTURE, hostileSql, oddText, sqlExpr } from "./_sql_gen.ts";

const MAX_SQL = 64 * 1024;
/** The server's largest message: maxSqlBytes + 64 KiB (server/ws.ts). */
const MAX_MESSAGE = MAX_SQL + 65536;
const AUTH_TIMEOUT_MS = 1000;
const DEADLINE_MS = 20_000;

const KNOWN_TYPES = new Set([
  "auth_success",
  "auth_error",
  "subscription_ack",
  "initial_data",
  "change",
  "unsubscribed",
  "pong",
  "error",
]);

type Frame = string | Uint8Array;
// deno-lint-ignore no-explicit-any
type Msg = any;

/** A socket whose messages queue up and are awaited with a deadline. */
class Client {
  readonly ws: WebSocket;
  readonly messages: Msg[] = [];
  readonly problems: string[] = [];
  closeCode?: number;
  #wake?: () => void;
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url.replace("http", "ws") + "/v1/ws");
    this.ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error("socket error before open"));
    });
    this.closed = new Promise((resolve) => {
      this.ws.onclose = (ev) => {
        this.closeCode = ev.code;
        this.#wake?.();
        resolve();
      };
    });
    this.ws.onmessage = (ev) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(ev.data));
      } catch {
        this.problems.push(`not JSON: ${preview(String(ev.data))}`);
        return;
      }
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        const why = problemOf(m);
        if (why) this.problems.push(why);
        this.messages.push(m);
      }
      this.#wake?.();
    };
  }

  /** The first queued message `pick` accepts (removed), awaited until the deadline. */
  async next(pick: (m: Msg) => boolean, what: string, ms = DEADLINE_MS): Promise<Msg | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.messages.findIndex(pick);
      if (i >= 0) return this.messages.splice(i, 1)[0];
      if (this.closeCode !== undefined) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  send(frame: Frame): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame as string);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close();
    }
    await within(this.closed, DEADLINE_MS, "socket close");
  }
}

/** Why a server message breaks the protocol, or undefined. */
function problemOf(m: Msg): string | undefined {
  if (typeof m !== "object" || m === null || !KNOWN_TYPES.has(m.type)) {
    return `unknown message ${preview(JSON.stringify(m))}`;
  }
  if (m.type === "error" || m.type === "auth_error") {
    if (!(m.code in ERROR_CODES) || m.code === "INTERNAL_ERROR") {
      return `bad code ${m.code}: ${m.message}`;
    }
  }
  return undefined;
}

async function rootClient(server: TestServer): Promise<Client> {
  const c = new Client(server.url);
  await within(c.opened, DEADLINE_MS, "open");
  c.send(JSON.stringify({ type: "authenticate", user: "root", password: "" }));
  const ok = await c.next((m) => m.type === "auth_success" || m.type === "auth_error", "auth");
  assertEquals(ok?.type, "auth_success", `authenticate as root: ${JSON.stringify(ok)}`);
  return c;
}

const json = (v: unknown) => JSON.stringify(v);

/** One hostile frame for an authenticated socket. */
const frame: fc.Arbitrary<Frame> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.string({ maxLength: 8 }),
      hostileSql,
      fc.option(fc.jsonValue({ maxDepth: 2 })),
    ).map(([id, sql, options]) => json({ type: "subscribe", id, sql, options })),
  },
  {
    weight: 2,
    arbitrary: sqlExpr.map((w) =>
      json({
        type: "subscribe",
        id: "w",
        sql: `SELECT * FROM app.s WHERE ${w}`,
        options: { last_rows: 2 },
      })
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      last_rows: fc.jsonValue(),
      batch_size: fc.jsonValue(),
      from_seq: fc.jsonValue(),
      all_users: fc.jsonValue(),
      storage_id: fc.jsonValue(),
    }, { requiredKeys: [] }).map((options) =>
      json({ type: "subscribe", id: "o", sql: "SELECT * FROM app.u", options })
    ),
  },
  {
    weight: 2,
    arbitrary: fc.oneof(fc.string({ maxLength: 6 }), fc.jsonValue()).map((id) =>
      json({ type: "unsubscribe", id })
    ),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.oneof(oddText, fc.jsonValue()),
      id: fc.jsonValue(),
      sql: fc.jsonValue(),
    }).map(json),
  },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 100 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      json({ type: "ping" }),
      json({ type: "authenticate" }),
      "",
      "null",
      "[]",
      '[{"type":"ping"}]',
      '{"type":"ping"',
      "\0",
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
  },
);

/** Sends `frames` on a fresh root socket, then a ping; everything must be answered properly. */
async function session(server: TestServer, frames: Frame[], tally: Tally): Promise<void> {
  const c = await rootClient(server);
  try {
    for (const f of frames) {
      tally.one();
      c.send(f);
    }
    c.send(json({ type: "ping" }));
    const pong = await c.next(
      (m) => m.type === "pong",
      `pong after ${frames.map((f) => preview(f, 80)).join(" | ")}`,
    );
    assert(pong !== undefined || c.closeCode !== undefined, "pong or close");
    if (pong === undefined) {
      assert([1000, 1008, 1009].includes(c.closeCode!), `close code ${c.closeCode}`);
    }
    assertEquals(
      c.problems,
      [],
      `protocol problems after ${frames.map((f) => preview(f, 120)).join(" | ")}`,
    );
  } finally {
    await c.close();
  }
}

/** An observer subscribed to app.s for the whole test: its change must still arrive at the end. */
async function observer(server: TestServer): Promise<Client> {
  const c = await rootClient(server);
  c.send(json({ type: "subscribe", id: "obs", sql: "SELECT id, name FROM app.s" }));
  const ack = await c.next(
    (m) => m.id === "obs" && (m.type === "subscription_ack" || m.type === "error"),
    "observer ack",
  );
  assertEquals(ack?.type, "subscription_ack", `observer: ${JSON.stringify(ack)}`);
  return c;
}

Deno.test("fuzz ws: hostile frames get coded answers; the server and other sockets carry on", async () => {
  const tally = new Tally("ws");
  const server = await startServer({
    KALAMDB_MAX_SQL_BYTES: String(MAX_SQL),
    KALAMDB_WS_AUTH_TIMEOUT_MS: String(AUTH_TIMEOUT_MS),
  });
  let watcher: Client | undefined;
  try {
    await server.root(FIXTURE);
    watcher = await observer(server);
    const replay = regressions("ws").map((r) =>
      r.kind === "binary" ? regressionBytes(r) : r.text ?? ""
    );
    if (replay.length) await session(server, replay, tally);

    await fc.assert(
      fc.asyncProperty(
        fc.array(frame, { minLength: 1, maxLength: 6 }),
        (frames) => session(server, frames, tally),
      ),
      params(60, false),
    );

    // Oversized text and binary frames: PAYLOAD_TOO_LARGE, then close 1009.
    for (const big of ["x".repeat(MAX_MESSAGE + 1), new Uint8Array(MAX_MESSAGE + 1)]) {
      tally.one();
      const c = await rootClient(server);
      c.send(big);
      const err = await c.next((m) => m.type === "error", "PAYLOAD_TOO_LARGE");
      assertEquals(err?.code, "PAYLOAD_TOO_LARGE");
      await within(c.closed, DEADLINE_MS, "close after an oversized frame");
      assertEquals(c.closeCode, 1009);
    }

    // A bounded subscribe/unsubscribe flood on one socket, then a ping.
    {
      const c = await rootClient(server);
      const n = 300;
      for (let i = 0; i < n; i++) {
        tally.one();
        c.send(json({ type: "subscribe", id: `f${i}`, sql: "SELECT * FROM app.s WHERE id = 1" }));
        c.send(json({ type: "unsubscribe", id: `f${i}` }));
      }
      c.send(json({ type: "ping" }));
      assert(
        await c.next((m) => m.type === "pong", "pong after the flood"),
        "pong after the flood",
      );
      assertEquals(c.problems, []);
      await c.close();
    }

    // Sockets that never authenticate (or send garbage first): auth_error, then close 1008.
    const silent = Array.from({ length: 10 }, () => new Client(server.url));
    await Promise.all(silent.map((c) => within(c.opened, DEADLINE_MS, "open")));
    silent.slice(0, 5).forEach((c, i) => c.send(i % 2 ? new Uint8Array([0, 1, 2]) : "garbage"));
    for (const c of silent) {
      tally.one();
      const e = await c.next((m) => m.type === "auth_error", "auth_error");
      assertEquals(e?.code, "UNAUTHORIZED");
      await within(c.closed, DEADLINE_MS, "close of an unauthenticated socket");
      assertEquals(c.closeCode, 1008);
      assertEquals(c.problems, []);
    }

    // The observer is unaffected.
    await server.root("INSERT INTO app.s (id, name) VALUES (424242, 'after the fuzz')");
    const change = await watcher.next(
      (m) => m.type === "change" && m.id === "obs",
      "observer change",
    );
    assertEquals(change?.rows?.[0]?.name, "after the fuzz");
    const health = await server.request("GET", "/v1/api/healthcheck");
    assertEquals(health.status, 200);
    assert(SPEC_STATUS.UNAUTHORIZED === 401);
  } finally {
    await watcher?.close().catch(() => {});
    const out = await server.stop();
    tally.print();
    const errors = out.stderr.split("\n").filter((l) => /error in|uncaught/i.test(l));
    assertEquals(errors, [], `server logged errors:\n${out.stderr.slice(-3000)}`);
    assertEquals(out.code, 0, `server exit status; stderr:\n${out.stderr.slice(-3000)}`);
  }
});
