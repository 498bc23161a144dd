// The registry against a real Database with fake connections: a connection whose queue is full
// makes its subscription overflow (SUBSCRIPTION_OVERFLOW, subscription removed, memory bounded),
// routing touches only the writer's partition, and expired STREAM rows never reach a snapshot.

import { Database } from "../storage/mod.ts";
import { assert, assertEquals, withTempDir } from "../tests/_util.ts";
import { type LiveConnection, LiveRegistry } from "./mod.ts";

type Msg = Record<string, unknown>;

function fakeConnection(
  user: string,
  role: "user" | "system" | "anonymous",
  capacity = Infinity,
) {
  const sent: Msg[] = [];
  const conn: LiveConnection = {
    id: `fake-${user}`,
    principal: { user, role },
    send(m) {
      if (sent.length >= capacity && m.type !== "error") return false;
      sent.push(m);
      return true;
    },
  };
  return { conn, sent };
}

async function open(dir: string): Promise<Database> {
  const db = await Database.open({ dataDir: dir, durability: "normal" });
  const r = await db.execute(`CREATE NAMESPACE app;
    CREATE USER TABLE app.t (id INT PRIMARY KEY, v TEXT);
    CREATE STREAM TABLE app.ev (id INT PRIMARY KEY, v TEXT) WITH (TTL_SECONDS = 60)`);
  if (r.error) throw r.error;
  return db;
}

Deno.test("live registry: a reader that cannot keep up overflows; nothing grows", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    const registry = new LiveRegistry(db.live);
    const slow = fakeConnection("root", "system", 5);
    await registry.subscribe(slow.conn, "s", "SELECT id FROM app.t");
    assertEquals(slow.sent.map((m) => m.type), ["subscription_ack", "initial_data"]);
    for (let i = 0; i < 10; i++) {
      const r = await db.execute(`INSERT INTO app.t (id, v) VALUES (${i}, 'x')`);
      assert(!r.error);
    }
    assertEquals(slow.sent.map((m) => m.type), [
      "subscription_ack",
      "initial_data",
      "change",
      "change",
      "change",
      "error",
    ]);
    assertEquals(slow.sent[5].code, "SUBSCRIPTION_OVERFLOW");
    assertEquals(registry.size, 0);
    await db.close();
  });
});

Deno.test("live registry: routing by partition; STREAM snapshots skip expired rows", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    const registry = new LiveRegistry(db.live);
    const alice = fakeConnection("alice", "user");
    const bob = fakeConnection("bob", "user");
    await registry.subscribe(alice.conn, "a", "SELECT id FROM app.t");
    await registry.subscribe(bob.conn, "b", "SELECT id FROM app.t");
    await db.execute("INSERT INTO app.t (id, v) VALUES (1, 'x')", {
      principal: { user: "bob", role: "user" },
    });
    assertEquals(alice.sent.filter((m) => m.type === "change").length, 0);
    assertEquals(bob.sent.filter((m) => m.type === "change").length, 1);
    // A stream row older than the TTL is invisible at once: write one, let the TTL pass by
    // moving the clock of the row (an old _seq), then subscribe. The TTL is a minute so the
    // fresh row stays fresh however slowly a loaded machine gets to the snapshot and the job.
    const t = db.hooks.table("app", "ev");
    const oldSeq = (BigInt(Date.now() - 120_000 - 1_704_067_200_000) << 22n) | 1n;
    db.hooks.putVersion(t, "alice", oldSeq, [7, "expired"]);
    await db.execute("INSERT INTO app.ev (id, v) VALUES (8, 'fresh')", {
      principal: { user: "alice", role: "user" },
    });
    await registry.subscribe(alice.conn, "e", "SELECT id, v FROM app.ev");
    const initial = alice.sent.find((m) => m.id === "e" && m.type === "initial_data")!;
    assertEquals(initial.rows, [{ id: 8, v: "fresh" }]);
    // The eviction job removes the expired row for good; the fresh one stays.
    assertEquals(db.hooks.expiredCount(t), 1);
    await db.hooks.runJob({ type: "evict", namespace: "app", table: "ev" });
    assertEquals(db.hooks.expiredCount(t), 0);
    assertEquals(db.hooks.bufferCounts(t).map((c) => [c.user, c.rows]), [["alice", 1]]);
    const job = await db.execute(
      "SELECT status, message FROM system.jobs WHERE job_type = 'evict'",
    );
    assertEquals(job.results[0].rows, [["completed", "Evicted 1 expired row(s) (TTL 60 s)"]]);
    await db.close();
  });
});

Deno.test("live registry: equality routing sends a moved row as delete and insert", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    const registry = new LiveRegistry(db.live);
    const a = fakeConnection("root", "system");
    const b = fakeConnection("root", "system");
    await registry.subscribe(a.conn, "a", "SELECT id FROM app.t WHERE v = 'a'");
    await registry.subscribe(b.conn, "b", "SELECT id FROM app.t WHERE v = 'b' AND id > 0");
    const run = async (sql: string) => assert(!(await db.execute(sql)).error, sql);
    await run("INSERT INTO app.t (id, v) VALUES (1, 'a'), (2, 'c')");
    await run("UPDATE app.t SET v = 'b' WHERE id = 1");
    await run("UPDATE app.t SET v = 'b' WHERE id = 2");
    const changes = (c: { sent: Msg[] }) =>
      c.sent.filter((m) => m.type === "change").map((m) => [m.op, JSON.stringify(m.rows)]);
    assertEquals(changes(a), [["insert", '[{"id":1}]'], ["delete", "[]"]]);
    assertEquals(changes(b), [["insert", '[{"id":1}]'], ["insert", '[{"id":2}]']]);
    await db.close();
  });
});

Deno.test("live registry: a resume older than the trimmed change log gets a fresh snapshot", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    const registry = new LiveRegistry(db.live);
    const first = await db.execute("INSERT INTO app.t (id, v) VALUES (1, 'a') RETURNING _seq");
    const seq = String(first.results[0].rows![0][0]);
    await db.execute("INSERT INTO app.t (id, v) VALUES (2, 'b')");
    const resumable = fakeConnection("root", "system");
    await registry.subscribe(resumable.conn, "r", "SELECT id FROM app.t", { from_seq: seq });
    assertEquals(resumable.sent[0].resumed, true);
    assertEquals(resumable.sent.filter((m) => m.type === "change").length, 1);
    // Keep only the newest entry: the floor passes `seq`.
    const trimmed = await db.hooks.trimChangeLog(0n, 1);
    assertEquals(trimmed, 1); // two inserts logged, the newest one kept
    assert(db.live.changeFloor() > BigInt(seq));
    const late = fakeConnection("root", "system");
    await registry.subscribe(late.conn, "r", "SELECT id FROM app.t", { from_seq: seq });
    assertEquals(late.sent[0].resumed, false);
    const initial = late.sent.find((m) => m.type === "initial_data")!;
    assertEquals(initial.rows, [{ id: 1 }, { id: 2 }]);
    await db.close();
  });
});

Deno.test("live registry: subscriptions are capped per user, per socket for anonymous", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await db.execute(
      "CREATE SHARED TABLE app.pub (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PUBLIC')",
    );
    const registry = new LiveRegistry(db.live, { maxPerUser: 2 });
    const a1 = fakeConnection("alice", "user");
    const a2 = fakeConnection("alice", "user");
    await registry.subscribe(a1.conn, "1", "SELECT id FROM app.t");
    await registry.subscribe(a2.conn, "2", "SELECT id FROM app.t");
    let code = "";
    await registry.subscribe(a2.conn, "3", "SELECT id FROM app.t").catch((e) => code = e.code);
    assertEquals(code, "RATE_LIMITED");
    assert(registry.unsubscribe(a1.conn, "1"));
    await registry.subscribe(a2.conn, "3", "SELECT id FROM app.t"); // a slot came free
    const anon = [
      fakeConnection("anonymous", "anonymous"),
      fakeConnection("anonymous", "anonymous"),
    ];
    for (const c of anon) {
      await registry.subscribe(c.conn, "x", "SELECT id FROM app.pub");
      await registry.subscribe(c.conn, "y", "SELECT id FROM app.pub");
    }
    assertEquals(registry.size, 2 + 4);
    await db.close();
  });
});

Deno.test("live registry: a subscribe still loading when its socket closes, or it is unsubscribed, registers nothing", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    const r = await db.execute(`CREATE SHARED TABLE app.s (id INT PRIMARY KEY, v TEXT);
      INSERT INTO app.s (id, v) VALUES (1, 'a'); FLUSH TABLE app.s`);
    if (r.error) throw r.error;
    await db.hooks.idle();
    const registry = new LiveRegistry(db.live);
    const { conn, sent } = fakeConnection("root", "system");
    const pending = registry.subscribe(conn, "s1", "SELECT * FROM app.s"); // awaits its segments
    registry.dropConnection(conn); // the socket's onclose, meanwhile
    await pending;
    assertEquals(registry.size, 0);
    assertEquals(registry.list(), []);
    assertEquals(sent, []);
    // Likewise one unsubscribed while it loads.
    const other = fakeConnection("root", "system");
    const loading = registry.subscribe(other.conn, "s2", "SELECT * FROM app.s");
    assertEquals(registry.unsubscribe(other.conn, "s2"), true);
    await loading;
    assertEquals(registry.size, 0);
    assertEquals(other.sent, []);
    await db.close();
  });
});

Deno.test("live registry: a subscription counts once against the cap, also while it finishes", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    // Flushed rows: each subscribe awaits its segments, so it is not one synchronous step.
    const r = await db.execute(`CREATE SHARED TABLE app.s (id INT PRIMARY KEY)
      WITH (ACCESS_LEVEL = 'PUBLIC'); INSERT INTO app.s (id) VALUES (1); FLUSH TABLE app.s`);
    if (r.error) throw r.error;
    await db.hooks.idle();
    const registry = new LiveRegistry(db.live, { maxPerUser: 2 });
    const conn = fakeConnection("alice", "user");
    // The second subscribe starts from the first one's ack, after it registered and before its
    // call returned: the first must count as held only, not also as still loading.
    let second: Promise<void> | undefined;
    const send = conn.conn.send;
    conn.conn.send = (m, json) => {
      if (m.type === "subscription_ack" && m.id === "1") {
        second = registry.subscribe(conn.conn, "2", "SELECT id FROM app.s");
      }
      return send(m, json);
    };
    await registry.subscribe(conn.conn, "1", "SELECT id FROM app.s");
    await second;
    assertEquals(registry.size, 2);
    const acks = conn.sent.filter((m) => m.type === "subscription_ack").map((m) => m.id);
    assertEquals(acks, ["1", "2"]);
    await db.close();
  });
});

Deno.test("live registry: an unsubscribe from the ack's handler ends the subscription", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    const registry = new LiveRegistry(db.live);
    const c = fakeConnection("root", "system");
    const send = c.conn.send;
    let answered: boolean | undefined;
    c.conn.send = (m, json) => {
      const ok = send(m, json);
      if (m.type === "subscription_ack") answered = registry.unsubscribe(c.conn, "u");
      return ok;
    };
    await registry.subscribe(c.conn, "u", "SELECT id FROM app.t");
    assertEquals(answered, true);
    assertEquals(registry.size, 0);
    assertEquals(c.sent.map((m) => m.type), ["subscription_ack"], "no snapshot after it");
    await db.execute("INSERT INTO app.t (id, v) VALUES (1, 'x')");
    assertEquals(c.sent.length, 1, "no change after it");
    await db.close();
  });
});

Deno.test("live registry: an ack the full queue refuses overflows instead of going missing", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    const registry = new LiveRegistry(db.live);
    // Capacity 0: every message but an error is refused, the ack first of all.
    for (const options of [{}, { from_seq: "1" }]) {
      const full = fakeConnection("root", "system", 0);
      await registry.subscribe(full.conn, "s", "SELECT id FROM app.t", options);
      assertEquals(full.sent.map((m) => [m.type, m.code]), [["error", "SUBSCRIPTION_OVERFLOW"]]);
      assertEquals(registry.size, 0, "not left registered without its ack");
    }
    await db.close();
  });
});
