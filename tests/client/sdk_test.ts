// The client SDK end to end against a real server process: typed values, batches, errors, the
// three credential kinds and token renewal, subscriptions sharing one socket, iteration, live
// rows. (Reconnects and exactly-once delivery: resume_test.ts.)

import { createClient, KalamError, type Row, Timestamp } from "../../client/mod.ts";
import { assert, assertEquals, startServer, type TestServer, until } from "../server/_server.ts";
import { assertRejects } from "../_util.ts";
import { trackedSockets } from "./_sockets.ts";

async function withSdkServer(fn: (s: TestServer) => Promise<void>, env = {}): Promise<void> {
  const server = await startServer(env);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

const root = (s: TestServer) => createClient({ url: s.url, auth: { user: "root", password: "" } });

Deno.test("sdk: values arrive typed by the schema; a batch returns every result", async () => {
  await withSdkServer(async (s) => {
    const db = root(s);
    try {
      const r = await db.query(`
        CREATE NAMESPACE t1;
        CREATE SHARED TABLE t1.v (id BIGINT PRIMARY KEY, d DECIMAL(12,3), at TIMESTAMP,
          b BYTES, j JSON, n INT, ok BOOLEAN, s TEXT);
        INSERT INTO t1.v VALUES (9007199254740993, 123456789.125, '2026-11-25T20:15:01.123456789Z',
          NULL, '{"k":[1,2]}', 42, true, 'é'), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        UPDATE t1.v SET b = $1 WHERE id = 9007199254740993;`.replace("$1", "NULL"));
      assertEquals(r.results.length, 4);
      const set = await db.query("UPDATE t1.v SET b = CAST('AB' AS BYTES) WHERE id = $1", [
        9007199254740993n,
      ]);
      assertEquals(set.rowCount, 1);
      // JSON has no bytes: a Uint8Array parameter is refused before anything is sent.
      const bytes = await assertRejects(() => db.query("SELECT $1", [new Uint8Array([1])]));
      assertEquals((bytes as KalamError).code, "INVALID_PARAMETER");
      const r2 = await db.query("SELECT id, d, at, b, j, n, ok, s FROM t1.v ORDER BY id DESC");
      assertEquals(r.results[2].rowCount, 2);
      assert(r.results.every((x) => x.tookMs > 0), "each statement's own server time");
      assert(r.tookMs > 0, "tookMs");
      assertEquals(r2.schema.map((c) => c.type), [
        "BIGINT",
        "DECIMAL(12,3)",
        "TIMESTAMP",
        "BYTES",
        "JSON",
        "INT",
        "BOOLEAN",
        "TEXT",
      ]);
      const [a, b] = r2.rows;
      assertEquals(a.id, 9007199254740993n);
      assertEquals(a.d, "123456789.125");
      assert(a.at instanceof Timestamp);
      assertEquals(a.at.toString(), "2026-11-25T20:15:01.123456789Z");
      assertEquals(a.at.toDate().getTime(), Date.UTC(2026, 10, 25, 20, 15, 1, 123));
      assertEquals(a.b, new Uint8Array([65, 66]));
      assertEquals(a.j, { k: [1, 2] });
      assertEquals([a.n, a.ok, a.s], [42, true, "é"]);
      assertEquals(Object.values(b).slice(1), [null, null, null, null, null, null, null]);
      // Parameters: a bigint beyond 2^53 and a Timestamp go out exactly.
      const one = await db.queryOne("SELECT id, at FROM t1.v WHERE id = $1", [9007199254740993n]);
      assertEquals(one?.id, 9007199254740993n);
      const at = await db.queryOne("SELECT id FROM t1.v WHERE at = $1", [a.at]);
      assertEquals(at?.id, 9007199254740993n);
      assertEquals(await db.queryOne("SELECT id FROM t1.v WHERE id = $1", [3]), undefined);
    } finally {
      db.close();
    }
  });
});

Deno.test("sdk: errors are KalamErrors with code, status and position; the network its own", async () => {
  await withSdkServer(async (s) => {
    const db = root(s);
    try {
      const e = await assertRejects(() =>
        db.query("SELECT 1;\nSELECT * FROM\n  nope.t;")
      ) as KalamError;
      assert(e instanceof KalamError, String(e));
      assertEquals([e.code, e.status, e.statement], ["NAMESPACE_NOT_FOUND", 404, 2]);
      assertEquals(e.results?.map((r) => r.rows), [[{ "?column?": 1 }]], "statement 1 ran");
      const syntax = await assertRejects(() => db.query("SELECT 1;\nSELEC 2;")) as KalamError;
      assertEquals([syntax.code, syntax.status, syntax.statement, syntax.line], [
        "INVALID_SQL",
        400,
        2,
        2,
      ]);
      assert(typeof syntax.column === "number" && syntax.column >= 1, `column ${syntax.column}`);
      const ac = new AbortController();
      ac.abort();
      const aborted = await assertRejects(() => db.query("SELECT 1", [], { signal: ac.signal }));
      assertEquals((aborted as KalamError).code, "ABORTED");
    } finally {
      db.close();
    }
    // A port nobody listens on: a distinct code, not a server error.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const gone = createClient({ url: `http://127.0.0.1:${port}` });
    const n = await assertRejects(() => gone.query("SELECT 1")) as KalamError;
    assertEquals([n.code, n.status], ["NETWORK_ERROR", 0]);
    gone.close();
    const closed = await assertRejects(() => gone.query("SELECT 1")) as KalamError;
    assertEquals(closed.code, "CLIENT_CLOSED");
  });
});

Deno.test("sdk: password, token, tokenProvider and anonymous; tokens renew before expiry", async () => {
  await withSdkServer(async (s) => {
    await s.root(`CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
      CREATE NAMESPACE t2; CREATE SHARED TABLE t2.pub (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PUBLIC');
      INSERT INTO t2.pub VALUES (1);`);
    const paths: string[] = [];
    const counting: typeof fetch = (input, init) => {
      paths.push(new URL(String(input)).pathname);
      return fetch(input, init);
    };
    const alice = createClient({
      url: s.url,
      auth: { user: "alice", password: "alice-pw" },
      fetch: counting,
    });
    assertEquals((await alice.query("SELECT 1 AS x")).asUser, "alice");
    assertEquals((await alice.query("SELECT 2 AS x")).rows, [{ x: 2 }]);
    assertEquals(paths.filter((p) => p === "/v1/api/auth/login").length, 1, "logged in once");
    // The access token lives 2 s: past half its life the next call refreshes first.
    const renewAt = alice.session.expiresAt!.getTime() - 200;
    await until(() => Date.now() >= renewAt, "token half-life", 10_000, 50);
    assertEquals((await alice.query("SELECT 3 AS x")).asUser, "alice");
    // At least this refresh (a loaded machine may have refreshed earlier too: the server rounds
    // the expiry down to the second), and never a second login.
    assert(paths.includes("/v1/api/auth/refresh"), `refreshed: ${paths}`);
    assertEquals(paths.filter((p) => p === "/v1/api/auth/login").length, 1, `one login: ${paths}`);
    alice.close();

    const token = (await s.login("alice", "alice-pw")).body.access_token as string;
    const byToken = createClient({ url: s.url, auth: { token } });
    assertEquals((await byToken.query("SELECT 1 AS x")).asUser, "alice");
    byToken.close();
    let asked = 0;
    const provided = createClient({ url: s.url, auth: { tokenProvider: () => (asked++, token) } });
    assertEquals((await provided.query("SELECT 1 AS x")).asUser, "alice");
    assertEquals(asked, 1);
    provided.close();
    const bad = createClient({ url: s.url, auth: { user: "alice", password: "wrong" } });
    assertEquals(
      ((await assertRejects(() => bad.query("SELECT 1"))) as KalamError).code,
      "UNAUTHORIZED",
    );
    bad.close();
    const anon = createClient({ url: s.url });
    assertEquals((await anon.query("SELECT id FROM t2.pub")).rows, [{ id: 1 }]);
    const denied = await assertRejects(() => anon.query("CREATE NAMESPACE nope")) as KalamError;
    assertEquals(denied.code, "PERMISSION_DENIED");
    anon.close();
  }, { KALAMDB_ACCESS_TOKEN_TTL: "2" });
});

Deno.test("sdk: subscriptions share one socket; snapshot, changes, iteration, errors", async () => {
  await withSdkServer(async (s) => {
    const sockets = trackedSockets();
    const db = createClient({
      url: s.url,
      auth: { user: "root", password: "" },
      WebSocket: sockets.WebSocket,
    });
    try {
      await db.query(`CREATE NAMESPACE t3; CREATE SHARED TABLE t3.m (id BIGINT PRIMARY KEY, v TEXT);
        INSERT INTO t3.m VALUES (1, 'one'), (2, 'two');`);
      const seen: string[] = [];
      let snapshot: Row[] = [];
      const all = db.subscribe("SELECT id, v FROM t3.m", {
        onSnapshot: (rows) => snapshot = rows,
        onInsert: (rows) => seen.push(`+${rows[0].id}`),
        onUpdate: (rows, old) => seen.push(`~${old[0].v}>${rows[0].v}`),
        onDelete: (old) => seen.push(`-${old[0].id}`),
      });
      const filtered = db.subscribe<{ id: bigint }>("SELECT id FROM t3.m WHERE id > 1");
      await all.ready;
      await filtered.ready;
      assertEquals(snapshot, [{ id: 1n, v: "one" }, { id: 2n, v: "two" }]);
      assertEquals(all.primaryKey, "id");
      assertEquals(sockets.opened.length, 1, "one socket for both");
      const events: string[] = [];
      const iterating = (async () => {
        for await (const ev of filtered) {
          events.push(
            ev.type === "change" ? `${ev.op}:${ev.rows[0]?.id ?? ev.oldRows[0]?.id}` : ev.type,
          );
          if (events.length === 3) break; // breaking out unsubscribes
        }
      })();
      await db.query(
        "INSERT INTO t3.m VALUES (3, 'three'); UPDATE t3.m SET v = 'uno' WHERE id = 1",
      );
      await db.query("DELETE FROM t3.m WHERE id = 2; INSERT INTO t3.m VALUES (4, 'four')");
      await iterating;
      assertEquals(events, ["insert:3", "delete:2", "insert:4"]);
      await until(() => seen.length === 4, "all changes");
      assertEquals(seen, ["+3", "~one>uno", "-2", "+4"]);
      assert(BigInt(all.lastSeq!) > 0n, `lastSeq ${all.lastSeq}`);
      assertEquals(filtered.active, false);
      // A failing subscription rejects ready and reports the server's code.
      let reported: KalamError | undefined;
      const missing = db.subscribe("SELECT * FROM t3.none", { onError: (e) => reported = e });
      const err = await assertRejects(() => missing.ready) as KalamError;
      assertEquals([err.code, reported?.code], ["TABLE_NOT_FOUND", "TABLE_NOT_FOUND"]);
      all.unsubscribe();
      await until(() => db.connectionState === "idle", "socket closed with no subscriptions");
    } finally {
      db.close();
    }
  });
});

Deno.test("sdk: live() keeps rows in primary-key order, one callback per batch", async () => {
  await withSdkServer(async (s) => {
    const db = root(s);
    try {
      await db.query(
        `CREATE NAMESPACE t4; CREATE SHARED TABLE t4.todo (id BIGINT PRIMARY KEY, title TEXT, done BOOLEAN);
        INSERT INTO t4.todo VALUES (5, 'e', false), (1, 'a', false), (3, 'c', true);`,
      );
      const calls: bigint[][] = [];
      const live = db.live<{ id: bigint; title: string }>(
        "SELECT id, title FROM t4.todo WHERE done = false",
        (rows) => calls.push(rows.map((r) => r.id)),
      );
      assertEquals((await live.ready).map((r) => r.id), [1n, 5n]);
      let fromStore: bigint[] = [];
      const off = live.subscribe((rows) => fromStore = rows.map((r) => r.id));
      // One statement of 3 rows: one commit, delivered together, one callback.
      await db.query("INSERT INTO t4.todo VALUES (4, 'd', false), (2, 'b', false), (9, 'i', true)");
      await until(() => live.get().length === 4, "inserted rows");
      assertEquals(live.get().map((r) => r.title), ["a", "b", "d", "e"]);
      await db.query(
        "UPDATE t4.todo SET done = true WHERE id = 1; UPDATE t4.todo SET done = false WHERE id = 3",
      );
      await until(() => live.get()[0]?.id === 2n, "1 left, 3 entered");
      assertEquals(live.get().map((r) => r.id), [2n, 3n, 4n, 5n]);
      assertEquals(fromStore, [2n, 3n, 4n, 5n]);
      assert(calls.length <= 4, `callbacks per batch, not per row: ${calls.length}`);
      assertEquals(calls[1], [1n, 2n, 4n, 5n], "the 3-row insert arrived as one batch");
      off();
      live();
      assertEquals(live.subscription.active, false);
    } finally {
      db.close();
    }
  });
});

Deno.test("sdk: SUBSCRIPTION_OVERFLOW resumes from the last seq until caught up", async () => {
  // A queue of 8 messages per socket: a 60-row insert overflows the subscription, and each
  // resume replays only what fits before it overflows again — yet it converges, once each.
  await withSdkServer(async (s) => {
    const db = root(s);
    try {
      await db.query(`CREATE NAMESPACE t5; CREATE SHARED TABLE t5.q (id BIGINT PRIMARY KEY);`);
      const seqs: string[] = [];
      let resumed = 0;
      const live = db.live<{ id: bigint }>("SELECT id FROM t5.q");
      const sub = db.subscribe("SELECT id FROM t5.q", {
        onChange: (c) => seqs.push(c.seq),
        onResumed: () => resumed++,
      });
      await Promise.all([sub.ready, live.ready]);
      const values = Array.from({ length: 60 }, (_, i) => `(${i})`).join(", ");
      await db.query(`INSERT INTO t5.q VALUES ${values}`);
      await until(() => live.get().length === 60 && seqs.length === 60, "caught up", 30_000);
      assertEquals(live.get().map((r) => Number(r.id)), Array.from({ length: 60 }, (_, i) => i));
      assertEquals(new Set(seqs).size, 60, "each change once");
      assert(resumed >= 1, `resumed after overflow: ${resumed}`);
    } finally {
      db.close();
    }
  }, { KALAMDB_WS_MAX_QUEUE: "8" });
});

Deno.test("sdk: a snapshot that can never fit the socket's queue fails instead of looping", async () => {
  await withSdkServer(async (s) => {
    const db = root(s);
    try {
      await db.query(`CREATE NAMESPACE t6; CREATE SHARED TABLE t6.q (id BIGINT PRIMARY KEY);
        INSERT INTO t6.q VALUES ${Array.from({ length: 30 }, (_, i) => `(${i})`).join(", ")};`);
      let reported = "";
      const sub = db.subscribe("SELECT id FROM t6.q", { onError: (e) => reported = e.code }, {
        batchSize: 1, // 30 initial_data messages for a queue of 8: every attempt overflows
      });
      const err = await assertRejects(() => sub.ready) as KalamError;
      assertEquals([err.code, reported], ["SUBSCRIPTION_OVERFLOW", "SUBSCRIPTION_OVERFLOW"]);
      assertEquals(sub.active, false);
      // A batch size that fits works on the same client.
      const ok = db.subscribe("SELECT id FROM t6.q", {}, { batchSize: 1000 });
      await ok.ready;
      ok.unsubscribe();
    } finally {
      db.close();
    }
  }, { KALAMDB_WS_MAX_QUEUE: "8" });
});
