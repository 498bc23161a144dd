// Security: guessing passwords and reaching other users' rows (issue 15 item 4). Guesses are
// throttled under the default limit also when sent all at once and over the WebSocket, without
// locking out other users, other addresses or the victim's valid tokens (tests/server/
// limits_test.ts covers the sequential cases). A `user` gets none of another user's rows through
// joins, subqueries, EXECUTE AS, RETURNING, error messages, live subscriptions (all_users,
// from_seq replays), SHOW commands or exports.

import {
  assert,
  assertEquals,
  assertSuccess,
  basic,
  bearer,
  rows,
  withServer,
} from "../server/_server.ts";
import { LiveClient } from "../server/_live.ts";
import { untilJobsIdle } from "../server/_jobs.ts";
import { unzip } from "./_kit.ts";
import { until } from "../_util.ts";

Deno.test("security/access: a password spray over many names sent at once is bounded per address", async () => {
  await withServer(
    { KALAMDB_TRUSTED_PROXIES: "127.0.0.1", KALAMDB_LOGIN_SPRAY_LIMIT: "20" },
    async (s) => {
      await s.root("CREATE USER carol WITH PASSWORD 'carol-pw' ROLE user");
      const from = { "x-forwarded-for": "10.4.4.4" };
      // 120 names, one guess each, all at once: a name counts once it failed, and attempts still
      // being checked hold their place, so at most 20 are checked.
      const spray = await Promise.all(
        Array.from({ length: 120 }, (_, i) => s.login(`name${i}`, "Summer2026!", from)),
      );
      const codes = spray.map((r) => r.body?.error?.code);
      assert(codes.every((c) => c === "UNAUTHORIZED" || c === "RATE_LIMITED"), codes.join());
      const checked = codes.filter((c) => c === "UNAUTHORIZED").length;
      assert(checked <= 20, `${checked} of 120 sprayed names were checked (limit 20)`);
      assertEquals((await s.login("carol", "carol-pw", from)).status, 429, "the address refused");
      // Another address, and tokens, are not affected.
      assertEquals(
        (await s.login("carol", "carol-pw", { "x-forwarded-for": "10.4.4.5" })).status,
        200,
      );
    },
  );
});

Deno.test("security/access: parallel and WebSocket guesses are throttled for that name only", async () => {
  // Default limits, except that 127.0.0.1 may relay other addresses.
  await withServer({ KALAMDB_TRUSTED_PROXIES: "127.0.0.1" }, async (s) => {
    await s.root(`CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
      CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user`);
    const token = await s.token("alice", "alice-pw");
    const from = { "x-forwarded-for": "10.3.3.3" };
    // 60 wrong passwords at once: only a handful may even be checked.
    const guesses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => s.login("alice", `guess-${i}`, from)),
    );
    const codes = guesses.map((r) => r.body?.error?.code);
    const checked = codes.filter((c) => c === "UNAUTHORIZED").length;
    assert(codes.every((c) => c === "UNAUTHORIZED" || c === "RATE_LIMITED"), codes.join());
    assert(checked <= 10, `${checked} of 60 parallel guesses were checked (limit 10 a minute)`);
    assertEquals(guesses.at(-1)!.status, 429);
    assertEquals((await s.login("alice", "alice-pw", from)).status, 429, "locked for alice");
    // Over the WebSocket from the same address: also refused.
    const ws = await LiveClient.open(s.url);
    ws.send({ type: "authenticate", user: "alice", password: "alice-pw" });
    const answer = await ws.next((m) => m.type === "auth_error" || m.type === "auth_success");
    await ws.close();
    // Loopback is not 10.3.3.3: the socket comes from 127.0.0.1, so it may log in.
    assertEquals(answer.type, "auth_success", JSON.stringify(answer));
    // Guesses over the WebSocket count too.
    for (let i = 0; i < 12; i++) {
      const g = await LiveClient.open(s.url);
      g.send({ type: "authenticate", user: "bob", password: `nope-${i}` });
      await g.next((m) => m.type === "auth_error");
      await g.closed();
    }
    const bobLocal = await s.login("bob", "bob-pw");
    assertEquals(bobLocal.status, 429, `bob after 12 WebSocket guesses: ${bobLocal.text}`);
    // Nobody else is locked: bob elsewhere, alice from loopback, alice's token, root.
    assertEquals((await s.login("bob", "bob-pw", { "x-forwarded-for": "10.3.3.4" })).status, 200);
    assertEquals((await s.login("alice", "alice-pw")).status, 200);
    const via = await s.sql("SELECT CURRENT_USER()", { auth: token, headers: from });
    assertEquals(rows(via), [["alice"]]);
    assertEquals(
      assertSuccess(await s.sql("SELECT 1", { auth: basic("root", "") })).as_user,
      "root",
    );
  });
});

Deno.test("security/access: a user reaches none of another user's rows, by any route", async () => {
  await withServer({}, async (s) => {
    await s.root(`CREATE NAMESPACE app;
      CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT);
      CREATE USER TABLE app.tags (id BIGINT PRIMARY KEY, note BIGINT, tag TEXT);
      CREATE STREAM TABLE app.events (id BIGINT PRIMARY KEY, v TEXT) WITH (TTL_SECONDS = 3600);
      CREATE SHARED TABLE app.pub (id BIGINT PRIMARY KEY, owner TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
      INSERT INTO app.pub (id, owner) VALUES (1, 'bob');
      CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
      CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;
      CREATE USER svc WITH PASSWORD 'svc-pw' ROLE service`);
    const alice = await s.token("alice", "alice-pw");
    const bob = await s.token("bob", "bob-pw");
    const BOB = "bob-only-Q7";
    // alice's socket is open before bob writes: none of bob's changes may reach it.
    const ws = await LiveClient.open(s.url, alice);
    const mine = await ws.subscribe("mine", "SELECT * FROM app.notes");
    assertEquals(mine.rows, []);
    const ev = await ws.subscribe("ev", "SELECT * FROM app.events");
    assertEquals(ev.rows, []);
    const seqBefore = String(mine.ack.snapshot_seq);
    const ok = async (sql: string, auth: string) => assertSuccess(await s.sql(sql, { auth }), sql);
    await ok(`INSERT INTO app.notes (id, v) VALUES (1, '${BOB}-1'), (2, '${BOB}-2')`, bob);
    await ok(`INSERT INTO app.tags (id, note, tag) VALUES (1, 1, '${BOB}-tag')`, bob);
    await ok(`INSERT INTO app.events (id, v) VALUES (1, '${BOB}-ev')`, bob);
    await s.root("FLUSH TABLE app.notes");
    await untilJobsIdle(s);
    await ok(`INSERT INTO app.notes (id, v) VALUES (3, '${BOB}-3')`, bob); // buffered on top
    await ok("INSERT INTO app.notes (id, v) VALUES (10, 'alice-10')", alice);
    const seen: [string, string][] = [];
    const tryAs = async (sql: string, auth = alice) => {
      const r = await s.sql(sql, { auth });
      seen.push([sql, r.text]);
      return r;
    };
    for (
      const sql of [
        "SELECT * FROM app.notes",
        "SELECT * FROM app.notes WHERE _deleted = false OR _deleted = true",
        "SELECT n.v, t.tag FROM app.notes n LEFT JOIN app.tags t ON t.note = n.id",
        "SELECT * FROM app.tags t JOIN app.notes n ON 1 = 1",
        "SELECT p.owner, n.v FROM app.pub p LEFT JOIN app.notes n ON n.id = p.id",
        "SELECT * FROM app.notes WHERE id IN (SELECT note FROM app.tags)",
        "SELECT * FROM (SELECT * FROM app.notes) x",
        "SELECT COUNT(*), MAX(v), MIN(v) FROM app.notes",
        "SELECT * FROM app.events",
        "EXECUTE AS USER 'bob' (SELECT * FROM app.notes)",
        "UPDATE app.notes SET v = 'x' WHERE id IN (1, 2, 3) RETURNING *",
        "DELETE FROM app.notes WHERE id = 2 RETURNING *",
        "UPDATE app.notes SET v = v || '!' RETURNING id, v",
        // Same keys as bob's rows: another partition, so no conflict and no echo of his row.
        "INSERT INTO app.notes (id, v) VALUES (1, 'alice-1') RETURNING *",
        // A duplicate in alice's own partition names nothing of bob's.
        "INSERT INTO app.notes (id, v) VALUES (1, 'again')",
        "INSERT INTO app.notes (id, v) VALUES (3, 'alice-3'), (3, 'dup')",
        "SELECT CAST(v AS BIGINT) FROM app.notes",
        "SHOW LIVE QUERIES",
        "SHOW EXPORTS",
        "SHOW STATS FOR TABLE app.notes",
        "SHOW JOBS",
        "SELECT * FROM system.live_queries",
        "SUBSCRIBE TO app.notes",
      ]
    ) await tryAs(sql);
    // Bob's rows are untouched by alice's UPDATE/DELETE.
    assertEquals(
      rows(await s.sql("SELECT id, v FROM app.notes ORDER BY id", { auth: bob })),
      [
        [1, `${BOB}-1`],
        [2, `${BOB}-2`],
        [3, `${BOB}-3`],
      ].map(([id, v]) => [String(id), v]),
    );
    // Subscriptions: all_users is refused, a replay from before bob's writes holds only alice's.
    const all = await ws.subscribe("all", "SELECT * FROM app.notes", { all_users: true });
    assertEquals(all.ack.code, "PERMISSION_DENIED", JSON.stringify(all.ack));
    for (const v of ["true", 1, "yes"]) {
      const odd = await ws.subscribe(`odd-${v}`, "SELECT * FROM app.notes", { all_users: v });
      seen.push([`all_users ${v}`, JSON.stringify(odd)]);
    }
    await ws.subscribe("replay", "SELECT * FROM app.notes", { from_seq: seqBefore });
    await ws.subscribe("last", "SELECT * FROM app.notes", { last_rows: 100 });
    await ws.subscribe("ev2", "SELECT * FROM app.events", { from_seq: seqBefore });
    const joined = await ws.subscribe(
      "j",
      "SELECT * FROM app.notes WHERE id IN (SELECT id FROM app.tags)",
    );
    seen.push(["subscription with a subquery", JSON.stringify(joined.ack)]);
    await ws.roundTrip();
    seen.push(["alice's socket", JSON.stringify(ws.messages)]);
    await ws.close();
    // alice's export holds alice's rows only.
    await ok("EXPORT USER DATA", alice);
    const shown = await until(async () => {
      const r = rows(await s.sql("SHOW EXPORTS", { auth: alice }));
      return r[0]?.[2] === "completed" ? r[0] : undefined;
    }, "alice's export");
    const path = String(shown[5]).replace(/^https?:\/\/[^/]+/, "");
    const zip = await fetch(s.url + path, { headers: { authorization: alice } });
    for (const [name, bytes] of await unzip(new Uint8Array(await zip.arrayBuffer()))) {
      seen.push([`export ${name}`, new TextDecoder().decode(bytes)]);
    }
    // bob's own export cannot be started or fetched by alice.
    await tryAs("EXECUTE AS USER 'bob' (EXPORT USER DATA)");
    await ok("EXPORT USER DATA", bob);
    const bobs = await until(async () => {
      const r = rows(await s.sql("SHOW EXPORTS", { auth: bob }));
      return r[0]?.[2] === "completed" ? r[0] : undefined;
    }, "bob's export");
    const bobPath = String(bobs[5]).replace(/^https?:\/\/[^/]+/, "");
    const stolen = await s.request("GET", bobPath, { auth: alice });
    seen.push([`alice downloads ${bobPath}`, `${stolen.status} ${stolen.text}`]);
    assertEquals(stolen.status, 403);
    const crossed = await s.request("GET", bobPath.replace("/bob/", "/alice/"), { auth: alice });
    assertEquals(crossed.status, 404, "bob's export id under alice's name");
    const hits = seen.filter(([, text]) => text.includes(BOB)).map(([what, t]) =>
      `${what}: ${t.slice(0, 300)}`
    );
    assert(hits.length === 0, `bob's rows reached alice:\n- ${hits.join("\n- ")}`);
    // Controls: the queries did run, and bob does see his own.
    assert(seen.some(([, t]) => t.includes("alice-10")), "alice sees her own row");
    assert((await s.sql("SELECT * FROM app.notes", { auth: bob })).text.includes(BOB));
    assert(bearer("x") !== alice);
  });
});
