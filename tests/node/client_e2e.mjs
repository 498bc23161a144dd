// The client SDK's end-to-end suite under Node ≥ 22 (issue 12): it imports the *bundled* browser
// file (KALAMDB_CLIENT_BUNDLE, built by `deno task build:client`) and talks to a real server
// (KALAMDB_URL), proving the module is runtime-neutral — Node's own fetch and WebSocket, no
// shims. Plain JS, no dependencies; run by tests/node/node_client_test.ts, or by hand:
//
//   KALAMDB_CLIENT_BUNDLE=dist/kalamdb-client.js KALAMDB_URL=http://127.0.0.1:2900 \
//     node --test tests/node/client_e2e.mjs
//
// Every test uses its own namespace, every wait has a deadline, every client is closed.

import { strict as assert } from "node:assert";
import { createServer } from "node:net";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";

const BUNDLE = process.env.KALAMDB_CLIENT_BUNDLE;
const URL_ = process.env.KALAMDB_URL;
if (!BUNDLE || !URL_) throw new Error("set KALAMDB_CLIENT_BUNDLE and KALAMDB_URL");
const { createClient, KalamError, Timestamp } = await import(pathToFileURL(BUNDLE).href);

/** Bound of every single wait (the suite may run beside a parallel `deno test`). */
const WAIT_MS = 20_000;
const TEST = { timeout: 60_000 };
const BIG = 9007199254740993n; // 2^53 + 1: a Number would round it

/** Polls `fn` until it returns something truthy (or throws the last failure at the deadline). */
async function until(fn, ms = WAIT_MS, what = "condition") {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Awaits `promise`, failing at the deadline instead of hanging. */
async function within(promise, what, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Awaits a rejection and returns its error (fails when the promise resolves). */
async function rejection(promise, what) {
  try {
    await within(promise, what);
  } catch (err) {
    return err;
  }
  assert.fail(`${what}: expected a rejection`);
}

let counter = 0;
/** A namespace name no other test (or earlier run on the same server) uses. */
const unique = (p) => `${p}_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 7)}`;

const clients = [];
/** A client that is closed after the suite even when its test fails. */
function client(options = {}) {
  const db = createClient({ url: URL_, auth: { user: "root", password: "" }, ...options });
  clients.push(db);
  return db;
}
after(() => {
  for (const db of clients) db.close();
});

test("query: values arrive typed by the schema", TEST, async () => {
  const db = client();
  const ns = unique("nv");
  await db.query(`CREATE NAMESPACE ${ns};
    CREATE SHARED TABLE ${ns}.v (id BIGINT PRIMARY KEY, d DECIMAL(12,3), at TIMESTAMP, b BYTES,
      j JSON, n INT, ok BOOLEAN, s TEXT);
    INSERT INTO ${ns}.v VALUES (${BIG}, 123456789.125, '2026-11-25T20:15:01.123456789Z',
      CAST('hé' AS BYTES), '{"k":[1,2],"o":{"x":null}}', 42, true, 'é'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL);`);
  const r = await db.query(`SELECT * FROM ${ns}.v ORDER BY id DESC`);
  assert.deepEqual(r.schema.slice(0, 8).map((c) => c.type), [
    "BIGINT",
    "DECIMAL(12,3)",
    "TIMESTAMP",
    "BYTES",
    "JSON",
    "INT",
    "BOOLEAN",
    "TEXT",
  ]);
  assert.equal(r.rowCount, 2);
  const [a, b] = r.rows;
  assert.equal(typeof a.id, "bigint");
  assert.equal(a.id, BIG, "BIGINT beyond 2^53 stays exact");
  assert.equal(a.d, "123456789.125", "DECIMAL is its exact text");
  assert.ok(a.at instanceof Timestamp, `TIMESTAMP is a Timestamp: ${a.at}`);
  assert.equal(a.at.epochNanos, 1795637701123456789n, "nanoseconds kept");
  assert.equal(a.at.toString(), "2026-11-25T20:15:01.123456789Z");
  assert.ok(a.at.toDate() instanceof Date);
  assert.equal(a.at.toDate().getTime(), Date.UTC(2026, 10, 25, 20, 15, 1, 123));
  assert.ok(a.b instanceof Uint8Array, "BYTES is a Uint8Array");
  assert.deepEqual([...a.b], [104, 0xc3, 0xa9], "the text's UTF-8 bytes");
  assert.deepEqual(a.j, { k: [1, 2], o: { x: null } }, "JSON is parsed");
  assert.deepEqual([a.n, a.ok, a.s], [42, true, "é"]);
  assert.equal(b.id, 2n);
  assert.deepEqual([b.d, b.at, b.b, b.j, b.n, b.ok, b.s], [
    null,
    null,
    null,
    null,
    null,
    null,
    null,
  ]);
});

test("query: a multi-statement batch returns every result in order", TEST, async () => {
  const db = client();
  const ns = unique("nb");
  const r = await db.query(`CREATE NAMESPACE ${ns};
    CREATE SHARED TABLE ${ns}.t (id BIGINT PRIMARY KEY, v TEXT);
    INSERT INTO ${ns}.t VALUES (1, 'one'), (2, 'two'), (3, 'three');
    SELECT id, v FROM ${ns}.t WHERE id >= 2 ORDER BY id;`);
  assert.equal(r.results.length, 4);
  assert.equal(r.results[2].rowCount, 3, "the insert's row count");
  assert.match(r.results[2].message ?? "", /3/);
  assert.deepEqual(r.results[2].rows, []);
  assert.deepEqual(r.results[3].rows, [{ id: 2n, v: "two" }, { id: 3n, v: "three" }]);
  assert.deepEqual(r.rows, r.results[3].rows, "the top level is the last result");
  assert.equal(r.asUser, "root");
  assert.ok(typeof r.tookMs === "number" && r.tookMs > 0, `tookMs ${r.tookMs}`);
});

test("queryOne and $1 params, a bigint param beyond 2^53 exact", TEST, async () => {
  const db = client();
  const ns = unique("np");
  await db.query(`CREATE NAMESPACE ${ns};
    CREATE SHARED TABLE ${ns}.t (id BIGINT PRIMARY KEY, v TEXT, n INT);`);
  await db.query(`INSERT INTO ${ns}.t VALUES ($1, $2, $3)`, [BIG, "it's", 7]);
  await db.query(`INSERT INTO ${ns}.t VALUES ($1, $2, $3)`, [BIG + 1n, "next", 8]);
  const one = await db.queryOne(`SELECT id, v, n FROM ${ns}.t WHERE id = $1`, [BIG]);
  assert.deepEqual(one, { id: BIG, v: "it's", n: 7 });
  const byText = await db.queryOne(`SELECT id FROM ${ns}.t WHERE v = $1 AND n > $2`, ["next", 1]);
  assert.deepEqual(byText, { id: BIG + 1n });
  assert.equal(await db.queryOne(`SELECT id FROM ${ns}.t WHERE id = $1`, [3n]), undefined);
  const count = await db.queryOne(`SELECT COUNT(*) AS c FROM ${ns}.t`);
  assert.equal(BigInt(count.c), 2n);
});

test("a syntax error in statement 2 is a KalamError with its position", TEST, async () => {
  const db = client();
  const err = await rejection(db.query("SELECT 1 AS a;\n\n  SELEC 2;"), "bad batch");
  assert.ok(err instanceof KalamError, `a KalamError: ${err}`);
  assert.equal(err.name, "KalamError");
  assert.equal(err.code, "INVALID_SQL");
  assert.equal(err.status, 400);
  assert.equal(err.statement, 2);
  assert.equal(err.line, 3, "line in the batch");
  assert.equal(err.column, 3);
  assert.ok(err.message.length > 0);
  const missing = await rejection(db.query("SELECT * FROM nope_ns.t"), "missing table");
  assert.deepEqual([missing.code, missing.status, missing.statement], [
    "NAMESPACE_NOT_FOUND",
    404,
    1,
  ]);
});

test("a closed port is NETWORK_ERROR with status 0", TEST, async () => {
  const port = await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
  const gone = client({ url: `http://127.0.0.1:${port}`, auth: undefined });
  const err = await rejection(gone.query("SELECT 1"), "closed port");
  assert.ok(err instanceof KalamError, `a KalamError: ${err}`);
  assert.deepEqual([err.code, err.status], ["NETWORK_ERROR", 0]);
  assert.ok(err.cause !== undefined, "the runtime's error is the cause");
  gone.close();
  const closed = await rejection(gone.query("SELECT 1"), "closed client");
  assert.equal(closed.code, "CLIENT_CLOSED");
});

test("login with user and password; rows are the user's own", TEST, async () => {
  const root = client();
  const ns = unique("nl");
  const user = unique("u");
  await root.query(`CREATE NAMESPACE ${ns};
    CREATE USER TABLE ${ns}.notes (id BIGINT PRIMARY KEY, v TEXT);
    CREATE USER ${user} WITH PASSWORD 'pw-${user}' ROLE user;`);
  const alice = client({ auth: { user, password: `pw-${user}` } });
  const ins = await alice.query(`INSERT INTO ${ns}.notes VALUES (1, 'mine')`);
  assert.equal(ins.asUser, user);
  assert.equal(alice.session.user, user);
  assert.ok(alice.session.expiresAt instanceof Date && alice.session.expiresAt > new Date());
  assert.deepEqual((await alice.query(`SELECT id, v FROM ${ns}.notes`)).rows, [
    { id: 1n, v: "mine" },
  ]);
  assert.deepEqual((await root.query(`SELECT id FROM ${ns}.notes`)).rows, [], "root's partition");
  const denied = await rejection(alice.query(`CREATE NAMESPACE ${unique("nx")}`), "user DDL");
  assert.deepEqual([denied.code, denied.status], ["PERMISSION_DENIED", 403]);
  const wrong = client({ auth: { user, password: "wrong" } });
  const bad = await rejection(wrong.query("SELECT 1"), "wrong password");
  assert.deepEqual([bad.code, bad.status], ["UNAUTHORIZED", 401]);
});

/** Creates `ns.m (id BIGINT PRIMARY KEY, v TEXT)` with rows 1 'one', 2 'two'. */
async function table(db, prefix) {
  const ns = unique(prefix);
  await db.query(`CREATE NAMESPACE ${ns};
    CREATE SHARED TABLE ${ns}.m (id BIGINT PRIMARY KEY, v TEXT);
    INSERT INTO ${ns}.m VALUES (1, 'one'), (2, 'two');`);
  return `${ns}.m`;
}

test("subscribe: snapshot, then insert/update/delete with seq, to handlers", TEST, async () => {
  const db = client();
  const t = await table(db, "ns");
  const seen = [];
  const changes = [];
  let snapshot;
  const sub = db.subscribe(`SELECT * FROM ${t}`, {
    onSnapshot: (rows, info) => snapshot = { rows, seq: info.seq },
    onChange: (c) => changes.push(c),
    onInsert: (rows) => seen.push(`+${rows[0].id}:${rows[0].v}`),
    onUpdate: (rows, old) => seen.push(`~${old[0].v}>${rows[0].v}`),
    onDelete: (old) => seen.push(`-${old[0].id}`),
  });
  await within(sub.ready, "snapshot");
  assert.deepEqual(snapshot.rows.map((r) => ({ id: r.id, v: r.v })), [
    { id: 1n, v: "one" },
    { id: 2n, v: "two" },
  ]);
  assert.match(snapshot.seq, /^\d+$/);
  assert.equal(sub.primaryKey, "id");
  await db.query(`INSERT INTO ${t} VALUES (3, 'three')`);
  await db.query(`UPDATE ${t} SET v = 'uno' WHERE id = 1`);
  await db.query(`DELETE FROM ${t} WHERE id = 2`);
  await until(() => changes.length === 3, WAIT_MS, "three changes");
  assert.deepEqual(seen, ["+3:three", "~one>uno", "-2"]);
  assert.deepEqual(changes.map((c) => c.op), ["insert", "update", "delete"]);
  let prev = BigInt(snapshot.seq);
  for (const c of changes) {
    assert.match(c.seq, /^\d+$/);
    assert.ok(BigInt(c.seq) > prev, `seq ${c.seq} after ${prev}`);
    prev = BigInt(c.seq);
  }
  assert.equal(changes[1].rows[0].id, 1n);
  assert.equal(changes[1].oldRows[0].v, "one");
  assert.deepEqual(changes[2].rows, []);
  assert.equal(changes[2].oldRows[0].id, 2n);
  assert.equal(sub.lastSeq, changes[2].seq);
  sub.unsubscribe();
  assert.equal(sub.active, false);
});

test("subscribe: for await iterates the changes; breaking out unsubscribes", TEST, async () => {
  const db = client();
  const t = await table(db, "ni");
  const sub = db.subscribe(`SELECT id, v FROM ${t} WHERE id > 1`);
  await within(sub.ready, "subscribed");
  const events = [];
  const iterating = (async () => {
    for await (const ev of sub) {
      events.push(ev);
      if (events.length === 3) break;
    }
  })();
  await db.query(`INSERT INTO ${t} VALUES (3, 'three')`);
  await db.query(`UPDATE ${t} SET v = 'deux' WHERE id = 2`);
  await db.query(`INSERT INTO ${t} VALUES (0, 'filtered out')`);
  await db.query(`DELETE FROM ${t} WHERE id = 3`);
  await within(iterating, "three events");
  assert.deepEqual(
    events.map((e) => [e.type, e.op, e.rows[0]?.id ?? e.oldRows[0]?.id]),
    [["change", "insert", 3n], ["change", "update", 2n], ["change", "delete", 3n]],
  );
  assert.deepEqual(events[1].rows, [{ id: 2n, v: "deux" }]);
  assert.ok(BigInt(events[0].seq) < BigInt(events[1].seq));
  assert.ok(BigInt(events[1].seq) < BigInt(events[2].seq));
  assert.equal(sub.active, false, "breaking out unsubscribed");
});

test("live(): rows stay in primary-key order across changes", TEST, async () => {
  const db = client();
  const ns = unique("nlv");
  await db.query(`CREATE NAMESPACE ${ns};
    CREATE SHARED TABLE ${ns}.todo (id BIGINT PRIMARY KEY, title TEXT, done BOOLEAN);
    INSERT INTO ${ns}.todo VALUES (5, 'e', false), (1, 'a', false), (3, 'c', true);`);
  const calls = [];
  const live = db.live(
    `SELECT id, title FROM ${ns}.todo WHERE done = false`,
    (rows) => calls.push(rows.map((r) => r.id)),
  );
  const first = await within(live.ready, "live snapshot");
  assert.deepEqual(first.map((r) => r.id), [1n, 5n]);
  await db.query(`INSERT INTO ${ns}.todo VALUES (4, 'd', false), (2, 'b', false), (9, 'i', true)`);
  await until(() => live.get().length === 4, WAIT_MS, "inserted rows");
  assert.deepEqual(live.get().map((r) => r.title), ["a", "b", "d", "e"]);
  await db.query(`UPDATE ${ns}.todo SET done = true WHERE id = 1`);
  await db.query(`UPDATE ${ns}.todo SET done = false WHERE id = 3`);
  await db.query(`UPDATE ${ns}.todo SET title = 'E' WHERE id = 5`);
  await db.query(`DELETE FROM ${ns}.todo WHERE id = 4`);
  await until(() => live.get().map((r) => r.id).join() === "2,3,5", WAIT_MS, "changes applied");
  assert.deepEqual(live.get(), [
    { id: 2n, title: "b" },
    { id: 3n, title: "c" },
    { id: 5n, title: "E" },
  ]);
  assert.deepEqual(calls.at(-1), [2n, 3n, 5n], "onRows saw the last state");
  live();
  assert.equal(live.subscription.active, false);
});

test("two subscriptions share one WebSocket", TEST, async () => {
  const opened = [];
  class Counting extends WebSocket {
    constructor(url) {
      super(url);
      opened.push(url);
    }
  }
  const db = client({ WebSocket: Counting });
  const t = await table(db, "nw");
  const a = [];
  const b = [];
  const s1 = db.subscribe(`SELECT id FROM ${t}`, { onInsert: (rows) => a.push(rows[0].id) });
  const s2 = db.subscribe(`SELECT id, v FROM ${t} WHERE id > 1`, {
    onInsert: (rows) => b.push(rows[0].id),
  });
  await within(Promise.all([s1.ready, s2.ready]), "both subscribed");
  assert.equal(db.connectionState, "open");
  await db.query(`INSERT INTO ${t} VALUES (7, 'seven')`);
  await until(() => a.length === 1 && b.length === 1, WAIT_MS, "both got the insert");
  assert.deepEqual([a, b], [[7n], [7n]]);
  assert.equal(opened.length, 1, `one socket for both: ${opened}`);
  assert.match(opened[0], /^ws:\/\/127\.0\.0\.1:\d+\/v1\/ws$/);
  s1.unsubscribe();
  s2.unsubscribe();
  await until(() => db.connectionState === "idle", WAIT_MS, "socket closed when unused");
});

test(
  "a socket dropped under the client resumes from the last seq: every change once",
  TEST,
  async () => {
    const opened = [];
    class Tracked extends WebSocket {
      constructor(url) {
        super(url);
        opened.push(this);
      }
    }
    const db = client({ WebSocket: Tracked, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    const writer = client();
    const t = await table(db, "nr");
    const seqs = [];
    let resumed = 0;
    const live = db.live(`SELECT id, v FROM ${t}`);
    const sub = db.subscribe(`SELECT id FROM ${t}`, {
      onChange: (c) => seqs.push(c.seq),
      onResumed: () => resumed++,
    });
    await within(Promise.all([sub.ready, live.ready]), "subscribed");
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) {
        const id = 100 + round * 10 + i;
        await writer.query(`INSERT INTO ${t} VALUES (${id}, 'r${round}')`);
      }
      opened[opened.length - 1].close(); // the link drops while changes may be in flight
      await writer.query(`UPDATE ${t} SET v = 'after drop ${round}' WHERE id = 1`);
      // The next round drops the next connection's socket, not this closed one again.
      await until(() => resumed === round + 1, WAIT_MS, `resumed after drop ${round + 1}`);
    }
    await until(() => seqs.length >= 18, WAIT_MS, "18 changes");
    assert.equal(seqs.length, 18, "every change, once");
    assert.equal(new Set(seqs).size, 18, "no change twice");
    const expected = (await writer.query(`SELECT id, v FROM ${t} ORDER BY id`)).rows;
    await until(() => live.get().length === expected.length, WAIT_MS, "live rows complete");
    assert.deepEqual(live.get(), expected);
    assert.ok(opened.length >= 4, `reconnected: ${opened.length} sockets`);
  },
);
