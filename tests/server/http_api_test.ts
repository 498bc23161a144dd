// End-to-end tests of the HTTP API's transport contract (SPEC §4): routing, request validation,
// the success and error body shapes, value encodings, params, a batch failing midway, as_user.
// One server (default limits) for the whole file; each test works in its own namespace.

import {
  assert,
  assertEquals,
  assertError,
  assertMatch,
  assertSuccess,
  ROOT,
  rows,
  type TestServer,
  withServer,
} from "./_server.ts";

Deno.test("http api", async (t) => {
  await withServer({}, async (s) => {
    await t.step("healthcheck answers 200 with the SPEC fields", async () => {
      const r = await s.request("GET", "/v1/api/healthcheck");
      assertEquals(r.status, 200, r.text);
      assertEquals(r.body.status, "ok");
      assertEquals(r.body.version, "0.1.0");
      assert(typeof r.body.commit === "string" && r.body.commit !== "", r.text);
      assert(typeof r.body.build_date === "string" && r.body.build_date !== "", r.text);
      assert(typeof r.body.uptime_s === "number" && r.body.uptime_s >= 0, r.text);
    });

    await t.step("CORS: any origin; preflight allows the Authorization header", async () => {
      const pre = await s.request("OPTIONS", "/v1/api/sql");
      assertEquals(pre.status, 204);
      assertEquals(pre.headers.get("access-control-allow-origin"), "*");
      assertEquals(
        pre.headers.get("access-control-allow-headers"),
        "authorization, content-type",
      );
      const r = await s.sql("SELECT 1 AS one;");
      assertEquals(r.headers.get("access-control-allow-origin"), "*");
    });

    await t.step("routing: unknown route 404 NOT_FOUND, wrong method 405 UNSUPPORTED", async () => {
      const missing = await s.request("GET", "/v1/api/nope");
      assertError(missing, "NOT_FOUND");
      assertEquals(missing.body.results, []);
      assertEquals(missing.headers.get("content-type")?.split(";")[0], "application/json");
      assertError(await s.request("POST", "/nope", { body: { sql: "SELECT 1;" } }), "NOT_FOUND");
      for (
        const [method, path] of [
          ["GET", "/v1/api/sql"],
          ["PUT", "/v1/api/sql"],
          ["DELETE", "/v1/api/sql"],
          ["GET", "/v1/api/auth/login"],
          ["GET", "/v1/api/auth/refresh"],
          ["POST", "/v1/api/healthcheck"],
        ]
      ) {
        const r = await s.request(method, path);
        assertEquals(r.status, 405, `${method} ${path}: ${r.text}`);
        assertEquals(r.body?.error?.code, "UNSUPPORTED", `${method} ${path}: ${r.text}`);
        assertEquals(r.body.status, "error", r.text);
        assert(r.body.took_ms > 0 && Array.isArray(r.body.results), r.text);
      }
    });

    await t.step("request validation answers INVALID_PARAMETER / EMPTY_SQL", async () => {
      await checkValidation(s);
    });

    await t.step("success body: exact shape and value encodings", async () => {
      await checkEncodings(s);
    });

    await t.step("params: $1, $2 bind values; params with a batch is refused", async () => {
      await s.root("CREATE NAMESPACE p; CREATE TABLE p.t (id INT PRIMARY KEY, v TEXT);");
      assertSuccess(
        await s.sql("INSERT INTO p.t (id, v) VALUES ($1, $2);", {
          auth: ROOT,
          params: [7, "it's"],
        }),
      );
      const r = await s.sql("SELECT v FROM p.t WHERE id = $1", { auth: ROOT, params: [7] });
      assertEquals(rows(r), [["it's"]]);
      const batch = await s.sql("SELECT 1; SELECT 2;", { auth: ROOT, params: [1] });
      assertError(batch, "INVALID_PARAMETER", "params with two statements");
    });

    await t.step("a batch failing midway: earlier results + error position", async () => {
      await s.root("CREATE NAMESPACE m; CREATE TABLE m.t (id INT PRIMARY KEY);");
      const r = await s.sql(
        "INSERT INTO m.t (id) VALUES (1);\n  SELECT * FROM m.nope;\nSELECT 3;",
        {
          auth: ROOT,
        },
      );
      const err = assertError(r, "TABLE_NOT_FOUND");
      assertEquals(r.body.results.length, 1, r.text);
      assertEquals(r.body.results[0].row_count, 1, r.text);
      assertEquals(r.body.results[0].message, "Inserted 1 row(s)", r.text);
      assertEquals([err.statement, err.line], [2, 2], r.text);
      assert(err.column === 3 || err.column === 17, `column of the statement or name: ${r.text}`);
      // The statement before the failure was committed.
      assertEquals(rows(await s.root("SELECT id FROM m.t;")), [[1]]);
      const syntax = await s.sql("SELECT 1;\n  SELEC x;", { auth: ROOT });
      const e2 = assertError(syntax, "INVALID_SQL");
      assertEquals([e2.statement, e2.line, e2.column], [2, 2, 3], syntax.text);
      assertEquals(syntax.body.results.length, 1, syntax.text);
    });

    await t.step("as_user: anonymous without credentials, root with Basic root:", async () => {
      await s.root(
        "CREATE NAMESPACE w; CREATE TABLE w.pub (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PUBLIC');",
      );
      assertEquals(assertSuccess(await s.sql("SELECT * FROM w.pub;")).as_user, "anonymous");
      assertEquals(assertSuccess(await s.sql("SELECT 1;", { auth: ROOT })).as_user, "root");
      const anonDenied = await s.sql("SELECT * FROM system.users;");
      assertError(anonDenied, "PERMISSION_DENIED");
    });

    await t.step("took_ms is a float rounded to µs, > 0", async () => {
      for (let i = 0; i < 5; i++) {
        const took = assertSuccess(await s.sql("SELECT 1;", { auth: ROOT })).took_ms;
        assert(took > 0, `took_ms ${took}`);
        assert(Math.abs(took * 1000 - Math.round(took * 1000)) < 1e-6, `µs rounding: ${took}`);
      }
    });

    await t.step("default body limit is 10 MiB: 10 MiB + 1 byte → PAYLOAD_TOO_LARGE", async () => {
      const head = '{"sql":"SELECT 1;"';
      const body = head + " ".repeat(10 * 1024 * 1024 + 1 - head.length - 1) + "}";
      assertEquals(new TextEncoder().encode(body).length, 10 * 1024 * 1024 + 1);
      assertError(
        await s.request("POST", "/v1/api/sql", { auth: ROOT, body }),
        "PAYLOAD_TOO_LARGE",
      );
    });

    await t.step("default SQL limit is 1 MiB: 1 MiB passes, 1 MiB + 1 byte is 413", async () => {
      const sqlOf = (bytes: number) => "SELECT 1; -- " + "x".repeat(bytes - 13);
      assertSuccess(await s.sql(sqlOf(1024 * 1024), { auth: ROOT }), "exactly 1 MiB of SQL");
      assertError(await s.sql(sqlOf(1024 * 1024 + 1), { auth: ROOT }), "PAYLOAD_TOO_LARGE");
    });
  });
});

async function checkValidation(s: TestServer): Promise<void> {
  const post = (body: string, headers: Record<string, string> = {}) =>
    s.request("POST", "/v1/api/sql", { auth: ROOT, body, headers });
  const json = { "content-type": "application/json" };
  assertError(
    await post('{"sql":"SELECT 1;"}', { "content-type": "text/plain" }),
    "INVALID_PARAMETER",
    "text/plain",
  );
  const noType = await fetch(`${s.url}/v1/api/sql`, {
    method: "POST",
    headers: { authorization: ROOT },
    body: new TextEncoder().encode('{"sql":"SELECT 1;"}'),
  });
  const noTypeText = await noType.text();
  assertEquals(noType.status, 400, `no content-type: ${noTypeText}`);
  assertEquals(JSON.parse(noTypeText).error.code, "INVALID_PARAMETER", noTypeText);
  assertSuccess(
    await post('{"sql":"SELECT 1;"}', { "content-type": "application/json; charset=utf-8" }),
    "charset parameter is fine",
  );
  for (const bad of ["{", '{"sql":"SELECT 1;"', "[]", "42", "null", '"SELECT 1;"']) {
    assertError(await post(bad, json), "INVALID_PARAMETER", `body ${bad}`);
  }
  for (const bad of ['{"query":"SELECT 1;"}', '{"sql":42}', '{"sql":null}', '{"sql":["x"]}']) {
    assertError(await post(bad, json), "INVALID_PARAMETER", `body ${bad}`);
  }
  assertError(
    await post('{"sql":"SELECT $1;","params":{"a":1}}', json),
    "INVALID_PARAMETER",
    "params not an array",
  );
  for (const empty of ["", "   \n\t ", "-- just a comment\n", "/* block */", "-- a\n/* b */  "]) {
    assertError(await s.sql(empty, { auth: ROOT }), "EMPTY_SQL", `sql ${JSON.stringify(empty)}`);
  }
}

async function checkEncodings(s: TestServer): Promise<void> {
  const create = await s.sql(
    "CREATE NAMESPACE enc;\n" +
      "CREATE TABLE enc.v (id BIGINT PRIMARY KEY, n INT, b BOOLEAN, d DOUBLE, amount DECIMAL(10,2)," +
      " t TEXT, bin BYTES, j JSON, ts TIMESTAMP, dt DATE, u UUID);",
    { auth: ROOT },
  );
  assertEquals(assertSuccess(create).results.map(strip), [
    { row_count: 0, message: "Namespace enc created" },
    { row_count: 0, message: "SHARED table enc.v created" },
  ]);
  const ins = await s.sql(
    "INSERT INTO enc.v (id, n, b, d, amount, t, bin, j, ts, dt, u) VALUES " +
      "(9007199254740993, 42, TRUE, 2.25, 12.3, 'héllo', 'hi', '{\"a\":[1,{\"b\":null}]}', " +
      "'2026-11-25T20:15:01.123456789Z', '2026-02-28', '0190A6E0-0000-7000-8000-000000000001'), " +
      "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);",
    { auth: ROOT },
  );
  const insBody = assertSuccess(ins);
  assertEquals(insBody.as_user, "root");
  assertEquals(insBody.results.map(strip), [{ row_count: 2, message: "Inserted 2 row(s)" }]);

  const sel = await s.sql(
    "SELECT id, n, b, d, amount, t, bin, j, ts, dt, u FROM enc.v ORDER BY id DESC;",
    { auth: ROOT },
  );
  const body = assertSuccess(sel);
  assertEquals(Object.keys(body).sort(), ["as_user", "results", "status", "took_ms"], sel.text);
  assertEquals(body.results.length, 1);
  assertEquals(strip(body.results[0]), {
    schema: [
      { name: "id", type: "BIGINT" },
      { name: "n", type: "INT" },
      { name: "b", type: "BOOLEAN" },
      { name: "d", type: "DOUBLE" },
      { name: "amount", type: "DECIMAL(10,2)" },
      { name: "t", type: "TEXT" },
      { name: "bin", type: "BYTES" },
      { name: "j", type: "JSON" },
      { name: "ts", type: "TIMESTAMP" },
      { name: "dt", type: "DATE" },
      { name: "u", type: "UUID" },
    ],
    rows: [
      [
        "9007199254740993",
        42,
        true,
        2.25,
        "12.30",
        "héllo",
        "aGk=",
        { a: [1, { b: null }] },
        "2026-11-25T20:15:01.123456789Z",
        "2026-02-28",
        "0190a6e0-0000-7000-8000-000000000001",
      ],
      ["2", null, null, null, null, null, null, null, null, null, null],
    ],
    row_count: 2,
  });
  // SELECT * puts _seq (a BIGINT, so a string) and _deleted last; NOW() has 9 fraction digits.
  const star = assertSuccess(
    await s.sql("SELECT *, NOW() AS now FROM enc.v WHERE id = 2;", { auth: ROOT }),
  );
  const names = star.results[0].schema.map((c: { name: string }) => c.name);
  assertEquals(names.slice(-3), ["_seq", "_deleted", "now"], JSON.stringify(names));
  const row = star.results[0].rows[0];
  assertMatch(row[names.indexOf("_seq")], /^\d{15,19}$/);
  assertEquals(row[names.indexOf("_deleted")], false);
  assertMatch(row[names.indexOf("now")], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
}

/** A statement result without its optional per-statement timing/index fields. */
function strip(result: Record<string, unknown>): Record<string, unknown> {
  const { took_ms: _t, statement: _s, ...rest } = result;
  return rest;
}
