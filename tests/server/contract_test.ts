// Smaller contract gaps (issue 10, item 12), end to end through a real server: SUBSCRIBE TO over
// HTTP, KILL JOB of a finished job, what a `user` may learn about tables it cannot read, checked
// WebSocket subscribe options, a row bigger than the socket's buffer cap, untyped parameters,
// invalid UTF-8 bodies, and the per-user subscription cap under concurrent subscribes.

import {
  assert,
  assertEquals,
  assertError,
  basic,
  ROOT,
  rows,
  type TestServer,
  until,
  withServer,
} from "./_server.ts";
import { untilJobsIdle } from "./_jobs.ts";
import { LiveClient } from "./_live.ts";

const ALICE = basic("alice", "alice-pw");

async function setup(s: TestServer): Promise<void> {
  await s.root(`CREATE NAMESPACE app;
    CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
    CREATE SHARED TABLE app.secret (id BIGINT PRIMARY KEY, v TEXT);
    CREATE SHARED TABLE app.news (id BIGINT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
    CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT)`);
}

Deno.test("contract: SUBSCRIBE TO over HTTP answers the WebSocket URL and the subscription SQL", async () => {
  await withServer({}, async (s) => {
    await setup(s);
    const r = await s.sql("SUBSCRIBE TO app.notes WHERE v LIKE 'x%' OPTIONS (last_rows = 5)", {
      auth: ALICE,
    });
    assertEquals(r.status, 200, r.text);
    const [wsUrl, sql, options] = rows(r)[0] as [string, string, Record<string, unknown>];
    assertEquals(wsUrl, `${s.url.replace(/^http/, "ws")}/v1/ws`);
    assertEquals(sql, "SELECT * FROM app.notes WHERE v LIKE 'x%'");
    assertEquals(options, { last_rows: 5 });
    // What it says works as is.
    await s.sql("INSERT INTO app.notes (id, v) VALUES (1, 'xa'), (2, 'b')", { auth: ALICE });
    const live = await LiveClient.open(s.url, ALICE);
    const sub = await live.subscribe("s", sql, options);
    assertEquals(sub.ack.type, "subscription_ack", JSON.stringify(sub.ack));
    assertEquals(sub.rows.map((x) => x.id), ["1"]);
    await live.close();
    // Every spelling the parser takes answers it (keywords fold like toUpperCase: ſ is S).
    for (
      const text of ["subscribe to app.notes", "ſubscribe TO app.notes", "SUBSCRıBE TO app.notes"]
    ) {
      const again = await s.sql(text, { auth: ALICE });
      assertEquals(rows(again)[0][0], wsUrl, text);
    }
    // The same checks as a WebSocket subscribe, before anything is answered.
    assertError(await s.sql("SUBSCRIBE TO app.secret", { auth: ALICE }), "PERMISSION_DENIED");
    assertError(await s.sql("SUBSCRIBE TO app.nope", { auth: ROOT }), "TABLE_NOT_FOUND");
    assertError(
      await s.sql("SUBSCRIBE TO app.notes OPTIONS (last_rows = -1)", { auth: ALICE }),
      "INVALID_PARAMETER",
    );
  });
});

Deno.test("contract: KILL JOB of a finished job is INVALID_PARAMETER; unknown ids NOT_FOUND", async () => {
  await withServer({}, async (s) => {
    await setup(s);
    await s.sql("INSERT INTO app.notes (id, v) VALUES (1, 'a')", { auth: ALICE });
    await s.root("FLUSH TABLE app.notes");
    await untilJobsIdle(s);
    const [[id, status]] = rows(
      await s.root("SELECT job_id, status FROM system.jobs WHERE job_type = 'flush'"),
    ) as [string, string][];
    assertEquals(status, "completed");
    const killed = assertError(
      await s.sql(`KILL JOB '${id}'`, { auth: ROOT }),
      "INVALID_PARAMETER",
    );
    assert(killed.message.includes("already completed"), killed.message);
    assertError(await s.sql("KILL JOB 'no-such-job'", { auth: ROOT }), "NOT_FOUND");
    const after = rows(await s.root(`SELECT status FROM system.jobs WHERE job_id = '${id}'`));
    assertEquals(after, [["completed"]]);
  });
});

Deno.test("contract: a user learns nothing of tables it cannot read (CREATE, SHOW NAMESPACES)", async () => {
  await withServer({}, async (s) => {
    await setup(s);
    // app.secret is PRIVATE: the same answer as for a name the user may not take.
    for (
      const sql of [
        "CREATE USER TABLE app.secret (id BIGINT PRIMARY KEY)",
        "CREATE USER TABLE IF NOT EXISTS app.secret (id BIGINT PRIMARY KEY)",
      ]
    ) {
      const e = assertError(await s.sql(sql, { auth: ALICE }), "PERMISSION_DENIED");
      assert(!/exist/i.test(e.message), e.message);
    }
    // A table the user can read is reported as existing, as before.
    assertError(
      await s.sql("CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY)", { auth: ALICE }),
      "ALREADY_EXISTS",
    );
    const ns = (auth: string) =>
      s.sql("SHOW NAMESPACES", { auth }).then((r) =>
        rows(r).map((x) => [x[0], Number(x[1])]).filter((x) => x[0] === "app")
      );
    assertEquals(await ns(ALICE), [["app", 2]], "notes and news, not secret");
    assertEquals(await ns(ROOT), [["app", 3]]);
  });
});

Deno.test("contract: WebSocket subscribe options are checked; a bad one registers nothing", async () => {
  await withServer({}, async (s) => {
    await setup(s);
    const live = await LiveClient.open(s.url, ALICE);
    const bad = [
      { last_rows: "abc" },
      { last_rows: -1 },
      { last_rows: 1.5 },
      { batch_size: -1 },
      { batch_size: 0 },
      { batch_size: 1e9 },
      { from_seq: "12x" },
      { all_users: "yes" },
      { storage_id: 5 },
      { bogus: 1 },
      "not an object",
    ];
    for (const [i, options] of bad.entries()) {
      const { ack } = await live.subscribe(`b${i}`, "SELECT * FROM app.notes", options as never);
      assertEquals([ack.type, ack.code], ["error", "INVALID_PARAMETER"], JSON.stringify(options));
    }
    const count = rows(await s.root("SELECT COUNT(*) FROM system.live_queries"));
    assertEquals(Number(count[0][0]), 0);
    const ok = await live.subscribe("ok", "SELECT * FROM app.notes", {
      last_rows: 0,
      batch_size: 1,
    });
    assertEquals(ok.ack.type, "subscription_ack");
    await live.close();
  });
});

Deno.test("contract: a row bigger than the socket's buffer cap reaches every subscription of a reading client", async () => {
  await withServer({}, async (s) => {
    await setup(s);
    const live = await LiveClient.open(s.url, ROOT);
    await live.subscribe("all", "SELECT * FROM app.news");
    await live.subscribe("ids", "SELECT id FROM app.news");
    const big = "b".repeat(9 * 1024 * 1024); // over the 8 MiB cap on its own
    const r = await s.sql("INSERT INTO app.news (id, v) VALUES (1, $1)", {
      auth: ROOT,
      params: [big],
    });
    assertEquals(r.status, 200, r.text.slice(0, 300));
    await s.root("INSERT INTO app.news (id, v) VALUES (2, 'small')");
    await live.collect("ids", "change", 2);
    await live.collect("all", "change", 2);
    assertEquals(live.messages.filter((m) => m.type === "error"), []);
    assertEquals(live.of("all", "change")[0].rows[0].v.length, big.length);
    assertEquals(live.of("ids", "change").map((c) => c.rows[0].id), ["1", "2"]);
    await live.close();
  });
});

Deno.test("contract: an untyped $1 is TEXT and its value is text", async () => {
  await withServer({}, async (s) => {
    const cases: [unknown, unknown][] = [[0, "0"], [1.5, "1.5"], [true, "true"], ["x", "x"], [
      null,
      null,
    ], [{ a: 1 }, '{"a":1}']];
    for (const [param, shown] of cases) {
      const r = await s.sql("SELECT $1 AS p", { auth: ROOT, params: [param] });
      assertEquals(r.status, 200, r.text);
      assertEquals(r.body.results[0].schema, [{ name: "p", type: "TEXT" }]);
      assertEquals(rows(r), [[shown]], JSON.stringify(param));
    }
  });
});

Deno.test("contract: a body that is not valid UTF-8 is 400 and stores nothing", async () => {
  await withServer({}, async (s) => {
    await setup(s);
    const head = new TextEncoder().encode('{"sql":"INSERT INTO app.news (id, v) VALUES (1, \'');
    const tail = new TextEncoder().encode("')\"}");
    const body = new Uint8Array([...head, 0xff, 0xfe, 0x41, ...tail]);
    const r = await s.request("POST", "/v1/api/sql", { auth: ROOT, body });
    assertError(r, "INVALID_PARAMETER");
    assertEquals(rows(await s.root("SELECT COUNT(*) FROM app.news")), [["0"]]);
  });
});

Deno.test("contract: concurrent subscribes never pass the per-user cap, nor share an id", async () => {
  await withServer({}, async (s) => {
    await setup(s);
    await s.sql("INSERT INTO app.notes (id, v) VALUES (1, 'a')", { auth: ALICE });
    await s.root("FLUSH TABLE app.notes"); // cold data: every subscribe awaits its preload
    await untilJobsIdle(s);
    const live = await LiveClient.open(s.url, ALICE);
    const N = 1_010;
    for (let i = 0; i < N; i++) {
      live.send({
        type: "subscribe",
        id: `s${i}`,
        sql: `SELECT id FROM app.notes WHERE id = ${i}`,
      });
    }
    // The same id twice at once: one ack, one ALREADY_EXISTS.
    await until(async () => {
      await live.roundTrip();
      return live.messages.filter((m) => m.type === "subscription_ack" || m.type === "error")
        .length >= N;
    }, `${N} answers`);
    const acks = live.messages.filter((m) => m.type === "subscription_ack").length;
    const limited = live.messages.filter((m) => m.code === "RATE_LIMITED").length;
    assertEquals([acks, limited], [1000, 10]);
    const held = rows(await s.root("SELECT COUNT(*) FROM system.live_queries"));
    assertEquals(Number(held[0][0]), 1000);
    await live.close();
    const twice = await LiveClient.open(s.url, ALICE);
    twice.send({ type: "subscribe", id: "d", sql: "SELECT id FROM app.notes" });
    twice.send({ type: "subscribe", id: "d", sql: "SELECT id FROM app.notes" });
    await until(async () => {
      await twice.roundTrip();
      return twice.messages.filter((m) => m.id === "d").length >= 2;
    }, "two answers for d");
    const answers = twice.messages.filter((m) => m.id === "d" && m.type !== "initial_data");
    assertEquals(answers.map((m) => m.type === "error" ? m.code : m.type).sort(), [
      "ALREADY_EXISTS",
      "subscription_ack",
    ]);
    await twice.close();
  });
});

Deno.test("contract: text built past its limit is INVALID_PARAMETER, never a 500", async () => {
  await withServer({}, async (s) => {
    const mb = "m".repeat(1024 * 1024);
    const concat = `SELECT LENGTH(CONCAT(${Array(20).fill("$1").join(", ")}))`;
    assertError(await s.sql(concat, { params: [mb] }), "INVALID_PARAMETER");
    const pipes = `SELECT LENGTH(${Array(20).fill("$1").join(" || ")})`;
    assertError(await s.sql(pipes, { params: [mb] }), "INVALID_PARAMETER");
    // Under the limit it works.
    const fine = await s.sql(`SELECT LENGTH(CONCAT($1, $1))`, { params: [mb] });
    assertEquals(rows(fine), [[2 * mb.length]]);
  });
});

Deno.test("contract: one address may keep at most 64 WebSockets waiting to authenticate", async () => {
  // A long auth timeout: on a loaded machine the first sockets must still be waiting at the 65th.
  await withServer({ KALAMDB_WS_AUTH_TIMEOUT_MS: "600000" }, async (s) => {
    const waiting: LiveClient[] = [];
    try {
      for (let i = 0; i < 64; i++) waiting.push(await LiveClient.open(s.url));
      // The 65th unauthenticated upgrade is refused before it becomes a socket…
      const refused = await s.request("GET", "/v1/ws", {
        headers: {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-version": "13",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
      });
      assertError(refused, "RATE_LIMITED");
      // A malformed handshake is the client's error, not a 500.
      const malformed = await s.request("GET", "/v1/ws", {
        auth: ROOT,
        headers: { upgrade: "websocket" },
      });
      assertEquals(malformed.status, 400, malformed.text);
      // …while one with credentials is not, and a waiting one that authenticates frees a place.
      const withAuth = await LiveClient.open(s.url, ROOT);
      await withAuth.next((m) => m.type === "auth_success");
      waiting[0].send({ type: "authenticate" });
      await waiting[0].next((m) => m.type === "auth_success");
      const another = await LiveClient.open(s.url);
      another.send({ type: "authenticate" });
      assertEquals((await another.next((m) => m.type.startsWith("auth"))).type, "auth_success");
      waiting.push(another, withAuth);
    } finally {
      await Promise.all(waiting.map((c) => c.close()));
    }
  });
});
