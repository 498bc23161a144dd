// The fast paths of the DML handlers keep their semantics: multi-row INSERT (chunked statements,
// duplicate keys found in the same statement and named in the error, deleted keys reusable),
// paged scans (more than one page, any key type, deleted rows hidden), cached SELECT plans (one
// plan for every user, replanned after DDL) and the reader's snapshot (a read after an
// acknowledged write sees it, a read during an open write group does not).

import { Database } from "../mod.ts";
import { partsOf } from "../database.ts";
import { SNOWFLAKE_EPOCH_MS } from "../hot/mod.ts";
import type { DbError } from "../../errors.ts";
import { assert, assertEquals } from "../../sql/_test_util.ts";
import { exec, withDatabase } from "../../tests/_util.ts";

const withDb = withDatabase;

async function rows(db: Database, sql: string, user?: string) {
  return (await exec(db, sql, { user })).results.at(-1)?.rows ?? [];
}

async function fails(db: Database, sql: string, user?: string): Promise<DbError> {
  const r = await db.execute(sql, { user });
  assert(r.error, `expected an error from ${sql.slice(0, 60)}`);
  return r.error;
}

function values(from: number, to: number, text = (i: number) => `'r${i}'`): string {
  const out = [];
  for (let i = from; i < to; i++) out.push(`(${i}, ${text(i)})`);
  return out.join(", ");
}

Deno.test("multi-row INSERT: duplicates anywhere in a long statement fail it whole, named", async () => {
  await withDb(async (db) => {
    await rows(
      db,
      `CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT);
      INSERT INTO app.t (id, v) VALUES ${values(0, 100)}`,
    );
    // A key that exists, far past the first chunk of rows.
    let e = await fails(db, `INSERT INTO app.t (id, v) VALUES ${values(1000, 1250)}, (77, 'x')`);
    assertEquals(e.code, "UNIQUE_VIOLATION");
    assert(e.message.includes("id = 77"), e.message);
    // The same key twice in one statement, in different chunks.
    e = await fails(db, `INSERT INTO app.t (id, v) VALUES ${values(2000, 2300)}, (2005, 'again')`);
    assertEquals(e.code, "UNIQUE_VIOLATION");
    assert(e.message.includes("id = 2005"), e.message);
    // The first duplicate in row order is the one reported.
    e = await fails(db, `INSERT INTO app.t (id, v) VALUES (3000, 'a'), (5, 'b'), (3000, 'c')`);
    assert(e.message.includes("id = 5"), e.message);
    assertEquals(await rows(db, "SELECT COUNT(*) FROM app.t"), [[100n]]);
    // 333 rows: chunks of 64, 16, 4 and 1 rows.
    await rows(db, `INSERT INTO app.t (id, v) VALUES ${values(5000, 5333)}`);
    assertEquals(await rows(db, "SELECT COUNT(*), MIN(id), MAX(id) FROM app.t WHERE id >= 5000"), [
      [333n, 5000n, 5332n],
    ]);
  });
});

Deno.test("multi-row INSERT reuses deleted keys, with a newer _seq", async () => {
  await withDb(async (db) => {
    await rows(
      db,
      `CREATE NAMESPACE app; CREATE USER TABLE app.t (id INT PRIMARY KEY, v TEXT);
      INSERT INTO app.t (id, v) VALUES ${values(0, 10)}`,
      "root",
    );
    const [[before]] = await rows(db, "SELECT _seq FROM app.t WHERE id = 3");
    await rows(db, "DELETE FROM app.t WHERE id IN (3, 4)");
    await rows(db, "INSERT INTO app.t (id, v) VALUES (3, 'new'), (4, 'new'), (10, 'new')");
    assertEquals(await rows(db, "SELECT id, v FROM app.t WHERE v = 'new'"), [
      [3, "new"],
      [4, "new"],
      [10, "new"],
    ]);
    const [[after]] = await rows(db, "SELECT _seq FROM app.t WHERE id = 3");
    assert((after as bigint) > (before as bigint), "re-inserted row has a newer _seq");
    let e = await fails(db, "INSERT INTO app.t (id, v) VALUES (11, 'x'), (3, 'dup')");
    assertEquals(e.code, "UNIQUE_VIOLATION");
    // A deleted key given twice: the first replaces the deleted row, the second is a duplicate.
    await rows(db, "DELETE FROM app.t WHERE id = 5");
    e = await fails(db, "INSERT INTO app.t (id, v) VALUES (5, 'a'), (5, 'b')");
    assert(e.message.includes("id = 5"), e.message);
    assertEquals(await rows(db, "SELECT id, _deleted FROM app.t WHERE id = 5 AND _deleted"), [
      [5, true],
    ]);
  });
});

Deno.test("a stream row past its TTL is invisible and its key can be inserted again", async () => {
  await withDb(async (db) => {
    await rows(
      db,
      `CREATE NAMESPACE app;
      CREATE STREAM TABLE app.ev (id INT PRIMARY KEY, kind TEXT) WITH (TTL_SECONDS = 60)`,
    );
    const { buffer, catalog, group } = partsOf(db);
    const t = catalog.table("app", "ev");
    // Written two minutes ago: its _seq carries that time.
    const old = BigInt(Date.now() - 120_000 - SNOWFLAKE_EPOCH_MS) << 22n;
    await group.run(() => {
      assertEquals(buffer.insert(t, "root", [[1, "old"], [2, "old"]], [old, old + 1n]), -1);
    });
    assertEquals(await rows(db, "SELECT id FROM app.ev"), []);
    assertEquals(await rows(db, "SELECT id FROM app.ev WHERE id = 1"), []);
    await rows(db, "INSERT INTO app.ev (id, kind) VALUES (3, 'new'), (1, 'new')");
    assertEquals(await rows(db, "SELECT id, kind FROM app.ev"), [[1, "new"], [3, "new"]]);
    const e = await fails(db, "INSERT INTO app.ev (id, kind) VALUES (1, 'again')");
    assertEquals(e.code, "UNIQUE_VIOLATION");
  });
});

Deno.test("scans page through more than one batch, in key order, for any key type", async () => {
  await withDb(async (db) => {
    await rows(
      db,
      `CREATE NAMESPACE app;
      CREATE SHARED TABLE app.n (id BIGINT PRIMARY KEY, v TEXT);
      CREATE SHARED TABLE app.s (k TEXT PRIMARY KEY, v INT)`,
    );
    await rows(db, `INSERT INTO app.n (id, v) VALUES ${values(0, 2500)}`);
    await rows(db, "DELETE FROM app.n WHERE id >= 1000 AND id < 1100");
    const all = await rows(db, "SELECT id FROM app.n");
    assertEquals(all.length, 2400);
    assert(all.every((r, i) => i === 0 || (r[0] as bigint) > (all[i - 1][0] as bigint)), "order");
    assertEquals(all[999], [999n]);
    assertEquals(all[1000], [1100n]);
    assertEquals(await rows(db, "SELECT COUNT(*) FROM app.n WHERE _deleted"), [[100n]]);
    assertEquals(await rows(db, "SELECT id FROM app.n LIMIT 2 OFFSET 2000"), [[2100n], [2101n]]);
    const texts = [];
    for (let i = 0; i < 2100; i++) texts.push(`('k${String(i).padStart(5, "0")}', ${i})`);
    await rows(db, `INSERT INTO app.s (k, v) VALUES ${texts.join(", ")}`);
    const s = await rows(db, "SELECT v FROM app.s");
    assertEquals(s.length, 2100);
    assert(s.every((r, i) => r[0] === i), "text keys in order, no page repeated or skipped");
  });
});

Deno.test("one cached plan serves every user; DDL replans", async () => {
  await withDb(async (db) => {
    await rows(
      db,
      `CREATE NAMESPACE app; CREATE USER TABLE app.notes (id INT PRIMARY KEY, v TEXT);
      CREATE USER alice WITH PASSWORD 'a' ROLE user; CREATE USER bob WITH PASSWORD 'b' ROLE user`,
    );
    await rows(db, "INSERT INTO app.notes (id, v) VALUES (1, 'alice 1'), (2, 'alice 2')", "alice");
    await rows(db, "INSERT INTO app.notes (id, v) VALUES (1, 'bob 1')", "bob");
    const sql = "SELECT * FROM app.notes";
    for (let i = 0; i < 2; i++) {
      assertEquals((await rows(db, sql, "alice")).map((r) => r[1]), ["alice 1", "alice 2"]);
      assertEquals((await rows(db, sql, "bob")).map((r) => r[1]), ["bob 1"]);
      assertEquals(await rows(db, "SELECT v FROM app.notes WHERE id = 1", "bob"), [["bob 1"]]);
    }
    await rows(db, "ALTER TABLE app.notes ADD COLUMN extra INT DEFAULT 7");
    const r = await db.execute(sql, { user: "alice" });
    assertEquals(r.results[0].schema?.map((c) => c.name), ["id", "v", "extra", "_seq", "_deleted"]);
    assertEquals(r.results[0].rows?.map((row) => row[2]), [7, 7]);
  });
});

Deno.test("reads see every acknowledged write, and nothing of a group still open", async () => {
  await withDb(async (db) => {
    await rows(db, "CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY)");
    for (let i = 0; i < 20; i++) {
      await rows(db, `INSERT INTO app.t (id) VALUES (${i})`);
      assertEquals(await rows(db, `SELECT id FROM app.t WHERE id = ${i}`), [[i]]);
      assertEquals(await rows(db, "SELECT COUNT(*) FROM app.t"), [[BigInt(i + 1)]]);
    }
    // A write group held open across an await: a read in the meantime sees only committed rows.
    const { group, buffer, catalog } = partsOf(db);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const pending = group.run(async () => {
      const t = catalog.table("app", "t");
      assertEquals(buffer.insert(t, "", [[100]], [partsOf(db).ids.next()]), -1);
      await gate;
    });
    await Promise.resolve();
    assertEquals(await rows(db, "SELECT COUNT(*) FROM app.t"), [[20n]]);
    release();
    await pending;
    assertEquals(await rows(db, "SELECT COUNT(*) FROM app.t"), [[21n]]);
  });
});
