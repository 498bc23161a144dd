// End-to-end tests of the server's limits: query timeout (QUERY_TIMEOUT 408), body and SQL size
// (PAYLOAD_TOO_LARGE 413), per-identity request rate, and the password lockout per (address, user)
// with its per-address ceiling on distinct names (RATE_LIMITED 429), which never refuses a valid
// token. Each test starts its own server with small limits set via the environment.

import {
  assert,
  assertEquals,
  assertError,
  assertSuccess,
  basic,
  bearer,
  forgeToken,
  type Reply,
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

Deno.test("limits: password lockouts are per (address, user); tokens are never refused", async (t) => {
  const env = {
    KALAMDB_LOGIN_FAILURE_LIMIT: "3",
    KALAMDB_LOGIN_SPRAY_LIMIT: "5",
    KALAMDB_TRUSTED_PROXIES: "127.0.0.1",
  };
  await withServer(env, async (s) => {
    await s.root(
      "CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;\n" +
        "CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;",
    );
    const pair = (await s.login("alice", "alice-pw")).body;
    const aliceToken = bearer(pair.access_token);
    const from = (ip: string) => ({ "x-forwarded-for": ip });
    const sqlAs = (auth: string, ip: string) => s.sql("SELECT 1;", { auth, headers: from(ip) });
    const refresh = (token: string, ip: string) =>
      s.request("POST", "/v1/api/auth/refresh", {
        body: { refresh_token: token },
        headers: from(ip),
      });
    const loggedIn = (r: Reply, what: string) => assertEquals(r.status, 200, `${what}: ${r.text}`);

    await t.step(
      "a locked user is locked from that address only; others and tokens work",
      async () => {
        const ip = "10.9.9.9";
        for (let i = 1; i <= 3; i++) {
          assertError(
            await s.login("alice", `wrong-${i}`, from(ip)),
            "UNAUTHORIZED",
            `failure ${i}`,
          );
        }
        const locked = await s.login("alice", "alice-pw", from(ip));
        assertError(locked, "RATE_LIMITED", "4th attempt, even with the right password");
        assertError(await s.login("ALICE", "alice-pw", from(ip)), "RATE_LIMITED", "name's case");
        assertError(await sqlAs(basic("alice", "alice-pw"), ip), "RATE_LIMITED", "Basic as alice");
        // The same address: another user's password, alice's tokens, root from loopback.
        loggedIn(await s.login("bob", "bob-pw", from(ip)), "bob from the locked address");
        assertEquals(assertSuccess(await sqlAs(basic("bob", "bob-pw"), ip)).as_user, "bob");
        assertEquals(assertSuccess(await sqlAs(aliceToken, ip)).as_user, "alice");
        loggedIn(await refresh(pair.refresh_token, ip), "alice's refresh token");
        assertEquals(assertSuccess(await s.sql("SELECT 1;", { auth: ROOT })).as_user, "root");
        // Another address is not affected.
        loggedIn(await s.login("alice", "alice-pw", from("10.9.9.8")), "alice elsewhere");
      },
    );

    await t.step("failures through Basic auth on /v1/api/sql count too", async () => {
      const ip = "10.7.7.7";
      for (let i = 1; i <= 3; i++) {
        assertError(await sqlAs(basic("alice", `bad-${i}`), ip), "UNAUTHORIZED", `failure ${i}`);
      }
      assertError(await s.login("alice", "alice-pw", from(ip)), "RATE_LIMITED");
      loggedIn(await s.login("bob", "bob-pw", from(ip)), "bob");
    });

    await t.step("50 bad tokens lock out nobody's password", async () => {
      const ip = "10.6.6.6";
      const now = Math.floor(Date.now() / 1000);
      const bad = [
        "Bearer not-a-jwt",
        "Bearer",
        "Basic !!!",
        bearer(pair.access_token.slice(0, -2) + "xx"),
        bearer(pair.refresh_token),
        bearer(
          await forgeToken({ sub: "alice", role: "user", token_type: "access", exp: now - 60 }),
        ),
        bearer(
          await forgeToken(
            { sub: "alice", role: "user", token_type: "access" },
            "another-secret-0123456789abcdef",
          ),
        ),
      ];
      for (let i = 0; i < 50; i++) {
        assertError(await sqlAs(bad[i % bad.length], ip), "UNAUTHORIZED", `bad token ${i}`);
      }
      for (let i = 0; i < 5; i++) {
        assertError(await refresh(`bad-${i}`, ip), "UNAUTHORIZED", `bad refresh ${i}`);
      }
      loggedIn(await s.login("alice", "alice-pw", from(ip)), "alice after bad tokens");
      assertEquals(assertSuccess(await sqlAs(basic("bob", "bob-pw"), ip)).as_user, "bob");
    });

    await t.step(
      "spraying 5 distinct names refuses the address's passwords, not its tokens",
      async () => {
        const ip = "10.5.5.5";
        // user0 fails three times (locked) but is one distinct name.
        for (const name of ["user0", "user0", "user0", "user1", "user2", "user3"]) {
          assertError(await s.login(name, "guess", from(ip)), "UNAUTHORIZED", name);
        }
        loggedIn(await s.login("alice", "alice-pw", from(ip)), "4 distinct names: not yet");
        assertError(await s.login("user4", "guess", from(ip)), "UNAUTHORIZED", "user4");
        assertError(await s.login("alice", "alice-pw", from(ip)), "RATE_LIMITED", "5 distinct");
        assertError(await sqlAs(basic("bob", "bob-pw"), ip), "RATE_LIMITED", "Basic as bob");
        // Valid signed tokens still work from that address.
        assertEquals(assertSuccess(await sqlAs(aliceToken, ip)).as_user, "alice");
        const bobToken = await forgeToken({ sub: "bob", role: "user", token_type: "access" });
        assertEquals(assertSuccess(await sqlAs(bearer(bobToken), ip)).as_user, "bob");
        loggedIn(await refresh(pair.refresh_token, ip), "alice's refresh token");
        loggedIn(await s.login("alice", "alice-pw", from("10.5.5.4")), "alice elsewhere");
      },
    );
  });
});
