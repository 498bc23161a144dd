// Storage unit tests: Snowflake ordering, the row codec across schema versions, group commit
// under concurrency (a failing statement changes nothing and does not hold up the others), the
// data-directory lock, and restart keeping `_seq` increasing.

import { Database } from "./mod.ts";
import { partsOf } from "./database.ts";
import {
  encodeRow,
  makeDecoder,
  Snowflake,
  SNOWFLAKE_EPOCH_MS,
  snowflakeMs,
  type StoredColumn,
  tagValue,
} from "./hot/mod.ts";
import type { DbError } from "../errors.ts";
import { assert, assertEquals } from "../sql/_test_util.ts";

async function withDb(fn: (db: Database, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-storage-" });
  const db = await Database.open({ dataDir: dir });
  try {
    await fn(db, dir);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function ok(db: Database, sql: string, user?: string) {
  const r = await db.execute(sql, { user });
  if (r.error) throw r.error;
  return r.results;
}

Deno.test("snowflake ids are strictly increasing, carry node id and time, respect the floor", () => {
  const ids = new Snowflake(7);
  let last = 0n;
  for (let i = 0; i < 10_000; i++) {
    const id = ids.next();
    assert(id > last, `not increasing at ${i}`);
    last = id;
  }
  assertEquals(Number((last >> 12n) & 0x3ffn), 7);
  assert(Math.abs(snowflakeMs(last) - Date.now()) < 60_000, "time part is now");
  const future = (BigInt(Date.now() + 3_600_000 - SNOWFLAKE_EPOCH_MS) << 22n) | 5n;
  const after = new Snowflake(7, future);
  assert(after.next() > future, "floor from disk is respected");
});

Deno.test("codec decodes old schema versions onto the current columns by column id", () => {
  const v1: StoredColumn[] = [
    { id: 1, name: "id", type: { base: "BIGINT" }, nullable: false, primaryKey: true },
    { id: 2, name: "title", type: { base: "TEXT" }, nullable: true, primaryKey: false },
    { id: 3, name: "gone", type: { base: "INT" }, nullable: true, primaryKey: false },
  ];
  const v2: StoredColumn[] = [
    v1[0],
    { ...v1[1], name: "headline" },
    {
      id: 4,
      name: "at",
      type: { base: "TIMESTAMP" },
      nullable: true,
      primaryKey: false,
      fill: tagValue(5n),
    },
  ];
  const data = encodeRow([1n, "hello", 3]);
  assertEquals(makeDecoder(v1, v2)(data), [1n, "hello", 5n]);
  assertEquals(makeDecoder(v1, v1)(encodeRow([2n ** 62n, null, 9])), [2n ** 62n, null, 9]);
});

Deno.test("group commit: concurrent inserts all land, a duplicate fails alone", async () => {
  await withDb(async (db) => {
    await ok(db, "CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)");
    const runs = Array.from(
      { length: 200 },
      (_, i) =>
        db.execute("INSERT INTO app.t (id, v) VALUES ($1, $2)", { params: [i % 150, `v${i}`] }),
    );
    const results = await Promise.all(runs);
    const failed = results.filter((r) => r.error);
    assertEquals(failed.length, 50);
    const codes = new Set(failed.map((r) => (r.error as DbError).code));
    assertEquals([...codes], ["UNIQUE_VIOLATION"]);
    const [count] = await ok(db, "SELECT COUNT(*) FROM app.t");
    assertEquals(count.rows, [[150n]]);
    const [first] = await ok(db, "SELECT v FROM app.t WHERE id = 3");
    assertEquals(first.rows, [["v3"]], "the first writer of a key wins");
  });
});

Deno.test("a failing multi-row insert writes nothing; the change log only has committed rows", async () => {
  await withDb(async (db) => {
    await ok(db, "CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT NOT NULL)");
    const r = await db.execute("INSERT INTO app.t (id, v) VALUES (1, 'a'), (2, NULL)");
    assertEquals(r.error?.code, "NOT_NULL_VIOLATION");
    const [count] = await ok(db, "SELECT COUNT(*) FROM app.t");
    assertEquals(count.rows, [[0n]]);
    await ok(
      db,
      "INSERT INTO app.t (id, v) VALUES (1, 'a'); UPDATE app.t SET v = 'b' WHERE id = 1",
    );
    await ok(db, "DELETE FROM app.t WHERE id = 1");
    const log = partsOf(db).store.reader("SELECT op FROM changelog ORDER BY seq").all();
    assertEquals(log.map((r) => Number(r[0])), [1, 2, 3]);
  });
});

Deno.test("a second opener of a data directory gets STORAGE_ERROR naming the owner pid", async () => {
  await withDb(async (_db, dir) => {
    let error: DbError | undefined;
    try {
      await Database.open({ dataDir: dir });
    } catch (e) {
      error = e as DbError;
    }
    assertEquals(error?.code, "STORAGE_ERROR");
    assert(error!.message.includes(`pid ${Deno.pid}`), error!.message);
  });
});

Deno.test("restart keeps rows, schemas and increasing _seq", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-restart-" });
  try {
    let db = await Database.open({ dataDir: dir });
    await ok(db, "CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT)");
    await ok(db, "INSERT INTO app.t (id, v) VALUES (1, 'a')");
    await ok(db, "ALTER TABLE app.t ADD COLUMN n INT DEFAULT 7");
    const [before] = await ok(db, "SELECT _seq FROM app.t");
    await db.close();
    db = await Database.open({ dataDir: dir });
    await ok(db, "INSERT INTO app.t (id, v, n) VALUES (2, 'b', 8)");
    const [rows] = await ok(db, "SELECT id, v, n, _seq FROM app.t ORDER BY id");
    assertEquals(rows.rows!.map((r) => r.slice(0, 3)), [[1, "a", 7], [2, "b", 8]]);
    assert((rows.rows![1][3] as bigint) > (before.rows![0][0] as bigint), "_seq increases");
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("EXECUTE AS changes the user of its one statement only, not the rest of the batch", async () => {
  await withDb(async (db) => {
    await ok(db, "CREATE NAMESPACE app; CREATE USER TABLE app.m (id INT PRIMARY KEY, v TEXT)");
    await ok(db, "CREATE USER alice WITH PASSWORD 'pw' ROLE user");
    const r = await db.execute(`EXECUTE AS USER 'alice' (INSERT INTO app.m (id, v) VALUES (1, 'a'));
      INSERT INTO app.m (id, v) VALUES (2, 'root'); SELECT id, v FROM app.m`);
    assertEquals(r.error, undefined);
    assertEquals(r.results[2].rows, [[2, "root"]], "root sees only its own row");
    assertEquals(r.asUser, "root");
    const [alice] = await ok(db, "SELECT id, v FROM app.m", "alice");
    assertEquals(alice.rows, [[1, "a"]]);
  });
});
