// End-to-end tests of the server's limits: query timeout (QUERY_TIMEOUT 408), body and SQL size
// (PAYLOAD_TOO_LARGE 413), per-identity request rate and per-address failed-login lockout
// (RATE_LIMITED 429). Each test starts its own server with small limits set via the environment.

import {
  assert,
  assertEquals,
  assertError,
  assertSuccess,
  basic,
  ROOT,
  rows,
  withServer,
} from "./_server.ts";

const SLOW = "SELECT COUNT(*) FROM a.t x CROSS JOIN a.t y CROSS JOIN a.t z;"; // 27M rows

Deno.test("limits: query timeout, body size, SQL size", async (t) => {
  const env = {
    KALAMDB_QUERY_TIMEOUT_MS: "200",
    KALAMDB_MAX_BODY_BYTES: "65536",
    KALAMDB_MAX_SQL_BYTES: "16384",
  };
  await withServer(env, async (s) => {
    const values = Array.from({ length: 300 }, (_, i) => `(${i + 1})`).join(", ");
    await s.root(`CREATE NAMESPACE a; CREATE TABLE a.t (id INT PRIMARY KEY);
      INSERT INTO a.t (id) VALUES ${values};`);

    await t.step("a slow query answers QUERY_TIMEOUT 408 soon after the limit", async () => {
      const t0 = performance.now();
      const r = await s.sql(SLOW, { auth: ROOT });
      const elapsed = performance.now() - t0;
      const e = assertError(r, "QUERY_TIMEOUT");
      assertEquals(e.statement, 1, r.text);
      assert(elapsed < 5000, `answered after ${elapsed} ms; the timeout is 200 ms`);
      assert(r.body.took_ms >= 150, `took_ms ${r.body.took_ms} should reflect the wait`);
      // The server is still responsive and nothing was lost.
      assertEquals(rows(await s.root("SELECT COUNT(*) FROM a.t;")), [["300"]]);
    });

    await t.step("a timeout mid-batch keeps the earlier statements' results", async () => {
      const r = await s.sql(`INSERT INTO a.t (id) VALUES (1000);\n${SLOW}`, { auth: ROOT });
      const e = assertError(r, "QUERY_TIMEOUT");
      assertEquals([e.statement, e.line], [2, 2], r.text);
      assertEquals(r.body.results.length, 1, r.text);
      assertEquals(rows(await s.root("SELECT id FROM a.t WHERE id = 1000;")), [[1000]]);
    });

    await t.step("body limit: exactly the limit passes, one byte more is 413", async () => {
      const head = '{"sql":"SELECT 1;"';
      const bodyOf = (size: number) => head + " ".repeat(size - head.length - 1) + "}";
      const at = await s.request("POST", "/v1/api/sql", { auth: ROOT, body: bodyOf(65536) });
      assertSuccess(at, "a body of exactly KALAMDB_MAX_BODY_BYTES");
      const over = await s.request("POST", "/v1/api/sql", { auth: ROOT, body: bodyOf(65537) });
      assertError(over, "PAYLOAD_TOO_LARGE", "limit + 1");
      const huge = await s.request("POST", "/v1/api/sql", { auth: ROOT, body: bodyOf(1 << 20) });
      assertError(huge, "PAYLOAD_TOO_LARGE", "1 MiB");
    });

    await t.step("body limit also holds for a chunked body without Content-Length", async () => {
      const chunk = new TextEncoder().encode(" ".repeat(16384));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 0) controller.enqueue(new TextEncoder().encode('{"sql":"SELECT 1;"'));
          if (sent++ < 8) controller.enqueue(chunk);
          else {
            controller.enqueue(new TextEncoder().encode("}"));
            controller.close();
          }
        },
      });
      const r = await s.request("POST", "/v1/api/sql", { auth: ROOT, body: stream });
      assertError(r, "PAYLOAD_TOO_LARGE", "chunked 128 KiB");
    });

    await t.step("SQL limit counts UTF-8 bytes: 16384 passes, 16385 is 413", async () => {
      const sqlOf = (bytes: number) => "SELECT 1; -- " + "x".repeat(bytes - 13);
      assertEquals(new TextEncoder().encode(sqlOf(16384)).length, 16384);
      assertSuccess(await s.sql(sqlOf(16384), { auth: ROOT }), "SQL of exactly the limit");
      assertError(await s.sql(sqlOf(16385), { auth: ROOT }), "PAYLOAD_TOO_LARGE", "limit + 1");
      // 8200 two-byte characters: under the limit in characters, over it in bytes.
      const wide = "SELECT 1; -- " + "é".repeat(8200);
      assert(wide.length < 16384 && new TextEncoder().encode(wide).length > 16384);
      assertError(await s.sql(wide, { auth: ROOT }), "PAYLOAD_TOO_LARGE", "multi-byte SQL");
    });
  });
});

Deno.test("limits: per-identity rate limit (5/s, burst 10)", async () => {
  await withServer({ KALAMDB_RATE_LIMIT: "5" }, async (s) => {
    await s.root(
      "CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;\n" +
        "CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;",
    );
    const alice = await s.token("alice", "alice-pw");
    const bob = await s.token("bob", "bob-pw");
    const replies = await Promise.all(
      Array.from({ length: 30 }, () => s.sql("SELECT 1;", { auth: alice })),
    );
    const ok = replies.filter((r) => r.status === 200);
    const limited = replies.filter((r) => r.status === 429);
    const statuses = replies.map((r) => r.status).join(",");
    assertEquals(ok.length + limited.length, 30, `only 200 or 429: ${statuses}`);
    // The burst (10) passes, plus whatever 5/s refilled while the 30 were being served.
    assert(ok.length >= 8 && ok.length <= 20, `burst of 10 (+ refill) passes: ${statuses}`);
    for (const r of ok) assertEquals(assertSuccess(r).as_user, "alice");
    for (const r of limited) assertError(r, "RATE_LIMITED");
    // Another identity has its own budget.
    assertEquals(assertSuccess(await s.sql("SELECT 1;", { auth: bob })).as_user, "bob");
  });
});

Deno.test("limits: failed logins lock out one client address", async () => {
  const env = { KALAMDB_LOGIN_FAILURE_LIMIT: "3", KALAMDB_TRUSTED_PROXIES: "127.0.0.1" };
  await withServer(env, async (s) => {
    await s.root("CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;");
    const from = (ip: string) => ({ "x-forwarded-for": ip });
    for (let i = 1; i <= 3; i++) {
      const r = await s.login("alice", `wrong-${i}`, from("10.9.9.9"));
      assertError(r, "UNAUTHORIZED", `failure ${i}`);
    }
    const locked = await s.login("alice", "alice-pw", from("10.9.9.9"));
    assertError(locked, "RATE_LIMITED", "4th attempt, even with the right password");
    const lockedSql = await s.sql("SELECT 1;", {
      auth: basic("alice", "alice-pw"),
      headers: from("10.9.9.9"),
    });
    assertError(lockedSql, "RATE_LIMITED", "Basic auth from the locked address");

    // Other addresses are not affected.
    const other = await s.login("alice", "alice-pw", from("10.9.9.8"));
    assertEquals(other.status, 200, other.text);
    assertEquals(assertSuccess(await s.sql("SELECT 1;", { auth: ROOT })).as_user, "root");

    // Failures through Basic auth on /v1/api/sql count too.
    for (let i = 1; i <= 3; i++) {
      const r = await s.sql("SELECT 1;", {
        auth: basic("alice", `bad-${i}`),
        headers: from("10.7.7.7"),
      });
      assertError(r, "UNAUTHORIZED", `basic failure ${i}`);
    }
    assertError(await s.login("alice", "alice-pw", from("10.7.7.7")), "RATE_LIMITED");
  });
});
