// The cold tier's scans and jobs on a real data directory: statistics pruning skips segments
// the WHERE excludes, FLUSH TABLE as a job with rows/files/took_ms (STREAM unsupported),
// COMPACT, ALTER TABLE SET STORAGE moving the files, and DROP TABLE's cleanup job. Split from
// cold_test.ts to keep each file short.

import { flushAll, open, rowsOf, run } from "./_cold.ts";
import { assert, assertEquals, exec, execError, withTempDir } from "./_util.ts";

Deno.test("cold: scans skip segments whose statistics exclude the WHERE", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await run(db, "CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT)");
    for (let s = 0; s < 4; s++) {
      const values = Array.from({ length: 10 }, (_, i) => `(${s * 10 + i}, 'v${s}')`).join(", ");
      await run(db, `INSERT INTO app.t (id, v) VALUES ${values}`);
      await flushAll(db);
    }
    const cold = db.hooks;
    const scanned = async (sql: string) => {
      const before = cold.segmentsScanned;
      const rows = await rowsOf(db, sql);
      return { rows, segments: cold.segmentsScanned - before };
    };
    assertEquals(await scanned("SELECT COUNT(*) FROM app.t WHERE id >= 35"), {
      rows: [["5"]],
      segments: 1,
    });
    assertEquals(await scanned("SELECT COUNT(*) FROM app.t WHERE v = 'v2' AND id < 100"), {
      rows: [["10"]],
      segments: 1,
    });
    assertEquals(await scanned("SELECT COUNT(*) FROM app.t WHERE id BETWEEN 5 AND 14"), {
      rows: [["10"]],
      segments: 2,
    });
    assertEquals(await scanned("SELECT COUNT(*) FROM app.t WHERE id > 100"), {
      rows: [["0"]],
      segments: 0,
    });
    // ORs are not pruned (conservative), and the results stay right.
    assertEquals(await scanned("SELECT COUNT(*) FROM app.t WHERE id = 1 OR v = 'v3'"), {
      rows: [["11"]],
      segments: 4,
    });
    cold.pruning = false;
    assertEquals((await scanned("SELECT COUNT(*) FROM app.t WHERE id >= 35")).segments, 4);
    await db.close();
  });
});

Deno.test("cold: FLUSH TABLE is a job with rows, files and took_ms; STREAM is UNSUPPORTED", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await exec(
      db,
      `CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT);
      CREATE STREAM TABLE app.ev (id INT PRIMARY KEY) WITH (TTL_SECONDS = 60);
      INSERT INTO app.t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')`,
    );
    const jobId = (await rowsOf(db, "FLUSH TABLE app.t"))[0][0];
    await db.hooks.idle();
    const job = await rowsOf(
      db,
      `SELECT status, message, took_ms > 0 FROM system.jobs WHERE job_id = '${jobId}'`,
    );
    assertEquals(job[0][0], "completed");
    assert(job[0][1].startsWith("Flushed 3 row(s) to 1 file(s)"), job[0][1]);
    assertEquals(job[0][2], "true");
    const stats = Object.fromEntries(await rowsOf(db, "SHOW STATS FOR TABLE app.t"));
    assertEquals([stats.buffered_rows, stats.flushed_rows, stats.segments], ["0", "3", "1"]);
    assert(Number(stats.bytes_on_storage) > 0);
    await execError(db, "FLUSH TABLE app.ev", "UNSUPPORTED");
    // A second flush with nothing buffered is skipped, not a 0-row file.
    await run(db, "STORAGE FLUSH TABLE app.t");
    await db.hooks.idle();
    const last = await rowsOf(
      db,
      "SELECT status FROM system.jobs WHERE job_type = 'flush' ORDER BY created_at DESC LIMIT 1",
    );
    assertEquals(last, [["skipped"]]);
    await db.close();
  });
});

Deno.test("cold: COMPACT merges segments and drops superseded and deleted rows", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await run(db, `CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT)`);
    for (let i = 0; i < 4; i++) {
      await run(db, `INSERT INTO app.t (id, v) VALUES (${i * 2}, 'a'), (${i * 2 + 1}, 'b')`);
      await run(db, `UPDATE app.t SET v = 'u' WHERE id = 0`);
      await flushAll(db);
    }
    await run(db, "DELETE FROM app.t WHERE id = 1");
    await flushAll(db);
    const before = await rowsOf(db, "SELECT id, v FROM app.t");
    const t = db.hooks.table("app", "t");
    assertEquals([...db.hooks.coldStats(t).values()][0].segments, 5);
    await run(db, "COMPACT TABLE app.t");
    await db.hooks.idle();
    assertEquals(await rowsOf(db, "SELECT id, v FROM app.t"), before);
    const s = [...db.hooks.coldStats(t).values()][0];
    assertEquals([s.segments, s.rows], [1, 7]);
    const files = await db.hooks.objectStore("local").list(
      `${db.hooks.scopeDir(t, "")}/`,
    );
    assertEquals(files.filter((f) => f.endsWith(".parquet")).length, 1);
    await db.close();
  });
});

Deno.test("cold: ALTER TABLE SET STORAGE moves the files in a job; reads keep working", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await run(
      db,
      `CREATE NAMESPACE app; CREATE USER alice WITH PASSWORD 'pw' ROLE user;
      CREATE USER TABLE app.notes (id INT PRIMARY KEY, v TEXT);
      CREATE STORAGE archive TYPE filesystem PATH '${dir}/archive'`,
    );
    await run(db, "INSERT INTO app.notes (id, v) VALUES (1, 'a'), (2, 'b')", "alice");
    await flushAll(db);
    await run(db, "INSERT INTO app.notes (id, v) VALUES (3, 'c')", "alice");
    const t = db.hooks.table("app", "notes");
    const oldDir = `${db.hooks.scopeDir(t, "alice")}/`;
    const altered = await run(db, "ALTER TABLE app.notes SET STORAGE archive");
    const message = altered.results[0].message ?? "";
    assert(message.includes("moving to storage archive"), message);
    await db.hooks.idle();
    const moved = db.hooks.table("app", "notes");
    assertEquals(moved.storageId, "archive");
    assertEquals(await db.hooks.objectStore("local").list(oldDir), []);
    const files = await db.hooks.objectStore("archive").list("");
    assert(files.some((f) => f.endsWith("manifest.json")), files.join());
    const all = [["1", "a"], ["2", "b"], ["3", "c"]];
    assertEquals(await rowsOf(db, "SELECT id, v FROM app.notes", "alice"), all);
    await flushAll(db); // new flushes land on the new storage
    assertEquals(await rowsOf(db, "SELECT id, v FROM app.notes", "alice"), all);
    const stats = Object.fromEntries(await rowsOf(db, "SHOW STATS FOR TABLE app.notes"));
    assertEquals([stats.storage_id, stats.flushed_rows, stats.segments], ["archive", "3", "2"]);
    await db.close();
  });
});

Deno.test("cold: DROP TABLE removes the files in a cleanup job", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await exec(
      db,
      `CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT);
      INSERT INTO app.t (id, v) VALUES (1, 'a')`,
    );
    await flushAll(db);
    const t = db.hooks.table("app", "t");
    const prefix = `${db.hooks.scopeDir(t, "")}/`;
    const store = db.hooks.objectStore("local");
    assert((await store.list(prefix)).length >= 2);
    await run(db, "DROP TABLE app.t");
    await db.hooks.idle();
    assertEquals(await store.list(prefix), []);
    await run(db, "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT)");
    assertEquals(await rowsOf(db, "SELECT id FROM app.t"), []);
    await db.close();
  });
});
