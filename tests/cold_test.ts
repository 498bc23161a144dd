// The cold tier end to end on a real data directory: rows flushed to Parquet read back the same,
// buffer and segments merge, cached scopes read synchronously, tombstones only for superseded
// keys, per-scope buffered counters, reads decoding only the row groups and columns they need,
// flushes of one scope serialised, and UPDATE/DELETE/uniqueness on flushed rows without
// resurrection. Statistics pruning and the jobs are in cold_jobs_test.ts; crash safety in
// cold_crash_test.ts.

import { flushAll, open, rowsOf, run } from "./_cold.ts";
import { assert, assertEquals, exec, execError, withTempDir } from "./_util.ts";

Deno.test("cold: flushed rows read back the same; buffer and segments merge", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await exec(
      db,
      `CREATE NAMESPACE app;
      CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v TEXT, at TIMESTAMP, n BIGINT);
      INSERT INTO app.t (id, v, at, n) VALUES
        (3, 'c', '2026-01-01T00:00:00.123456789Z', 9007199254740993),
        (1, 'a', NULL, -1), (2, 'b', NULL, 0)`,
    );
    const before = await rowsOf(db, "SELECT id, v, at, n FROM app.t");
    await flushAll(db);
    assertEquals(db.hooks.bufferCounts(db.hooks.table("app", "t")), []);
    assertEquals(await rowsOf(db, "SELECT id, v, at, n FROM app.t"), before);
    await run(db, "INSERT INTO app.t (id, v) VALUES (0, 'zero'), (4, 'd')");
    assertEquals(
      (await rowsOf(db, "SELECT id FROM app.t")).map((r) => r[0]),
      ["0", "1", "2", "3", "4"],
    );
    assertEquals(await rowsOf(db, "SELECT v FROM app.t WHERE id = 3"), [["c"]]);
    await db.close();
  });
});

Deno.test("cold: a scope whose segments are all cached reads synchronously and sees every change", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await run(db, "CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT)");
    await run(db, "INSERT INTO app.t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    await flushAll(db);
    /** Whether a full scan of the table can run synchronously now. */
    const sync = () => db.hooks.scanIsSync(db.hooks.table("app", "t"), "");
    const all = async () => (await rowsOf(db, "SELECT id, v FROM app.t")).map((r) => r.join("="));
    assertEquals(sync(), false, "nothing decoded yet");
    assertEquals(await all(), ["1=a", "2=b", "3=c"]);
    assertEquals(sync(), true, "the read cached every segment");
    await run(
      db,
      "INSERT INTO app.t (id, v) VALUES (4, 'd'); UPDATE app.t SET v = 'B' WHERE id = 2",
    );
    await run(db, "DELETE FROM app.t WHERE id = 3");
    assertEquals(sync(), true);
    assertEquals(await all(), ["1=a", "2=B", "4=d"]);
    assertEquals(await rowsOf(db, "SELECT v FROM app.t WHERE id = 2"), [["B"]]);
    assertEquals(await rowsOf(db, "SELECT v FROM app.t WHERE id = 3"), []);
    await flushAll(db);
    assertEquals(sync(), false, "the new segment is not decoded until read");
    assertEquals(await all(), ["1=a", "2=B", "4=d"]);
    assertEquals(sync(), true);
    await run(db, "ALTER TABLE app.t ADD COLUMN n INT DEFAULT 7");
    assertEquals(sync(), false, "a new table version decodes again");
    assertEquals(await rowsOf(db, "SELECT id, n FROM app.t WHERE id = 4"), [["4", "7"]]);
    assertEquals(sync(), false, "a key lookup decodes only the segments that may hold the key");
    assertEquals(await rowsOf(db, "SELECT SUM(n) FROM app.t"), [["21"]]);
    assertEquals(sync(), false, "SUM(n) decoded only the columns it reads");
    assertEquals((await rowsOf(db, "SELECT * FROM app.t")).length, 3);
    assertEquals(sync(), true);
    await db.close();
  });
});

Deno.test("cold: interleaved key ranges get tombstones only for keys really superseded", async () => {
  await withTempDir(async (dir) => {
    let db = await open(dir);
    await run(db, "CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT)");
    // Two writers' id ranges (0.., 1000..) interleave: every segment's key range overlaps the
    // next one's, but only id 1 is written twice.
    await run(db, "INSERT INTO app.t (id, v) VALUES (0, 'a'), (1, 'b'), (1000, 'c'), (1001, 'd')");
    await flushAll(db);
    await run(db, "INSERT INTO app.t (id, v) VALUES (2, 'e'), (1002, 'f')");
    await run(db, "UPDATE app.t SET v = 'B' WHERE id = 1");
    await flushAll(db);
    const t = db.hooks.table("app", "t");
    const manifest = await db.hooks.manifest(t, "");
    assertEquals(manifest.segments.length, 2);
    assertEquals([...manifest.tombstones.keys()], ["n1"]);
    // Uniqueness against flushed keys (answered from the flush's key set, without a read).
    await execError(db, "INSERT INTO app.t (id, v) VALUES (1001, 'dup')", "UNIQUE_VIOLATION");
    await execError(db, "INSERT INTO app.t (id, v) VALUES (2, 'dup')", "UNIQUE_VIOLATION");
    await run(db, "INSERT INTO app.t (id, v) VALUES (3, 'g')");
    assertEquals(
      (await rowsOf(db, "SELECT id, v FROM app.t")).map((r) => r.join("=")),
      ["0=a", "1=B", "2=e", "3=g", "1000=c", "1001=d", "1002=f"],
    );
    await db.close();
    // After a restart nothing is known: the same answers come from reading the segments.
    db = await open(dir);
    await execError(db, "INSERT INTO app.t (id, v) VALUES (1001, 'dup')", "UNIQUE_VIOLATION");
    await run(db, "INSERT INTO app.t (id, v) VALUES (4, 'h')");
    await run(db, "UPDATE app.t SET v = 'bb' WHERE id = 1");
    await flushAll(db);
    const after = await db.hooks.manifest(db.hooks.table("app", "t"), "");
    assert(after.tombstones.has("n1"), "id 1 superseded again");
    assert(!after.tombstones.has("n3") && !after.tombstones.has("n4"), "new keys need none");
    assertEquals(await rowsOf(db, "SELECT v FROM app.t WHERE id = 1"), [["bb"]]);
    await db.close();
  });
});

Deno.test("cold: per-scope buffered counters match the buffer through writes, rollbacks, flushes", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await run(
      db,
      `CREATE NAMESPACE app; CREATE USER TABLE app.n (id INT PRIMARY KEY, v TEXT);
      CREATE USER alice WITH PASSWORD 'pw' ROLE user; CREATE USER bob WITH PASSWORD 'pw' ROLE user`,
    );
    const t = () => db.hooks.table("app", "n");
    /** The counters, and the exact GROUP BY they must equal. */
    const check = (label: string) => {
      const counters = [...db.hooks.bufferedScopes(t())]
        .map(([user, c]) => [user, c.rows, c.deleted])
        .sort();
      const exact = db.hooks.bufferCounts(t()).map((c) => [c.user, c.rows, c.deleted]).sort();
      assertEquals(counters, exact, label);
    };
    check("empty");
    await run(db, "INSERT INTO app.n (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')", "alice");
    await run(db, "INSERT INTO app.n (id, v) VALUES (1, 'x')", "bob");
    check("inserts");
    await execError(
      db,
      "INSERT INTO app.n (id, v) VALUES (4, 'd'), (1, 'dup')",
      "UNIQUE_VIOLATION",
      {
        user: "alice",
      },
    );
    check("a rolled-back multi-row insert");
    await run(db, "UPDATE app.n SET v = 'B' WHERE id = 2; DELETE FROM app.n WHERE id = 3", "alice");
    check("update and delete of buffered rows");
    await run(db, "INSERT INTO app.n (id, v) VALUES (3, 'again')", "alice");
    check("a marker replaced by an insert");
    await flushAll(db);
    check("after a flush");
    assertEquals([...db.hooks.bufferedScopes(t()).keys()], [], "nothing buffered");
    await run(db, "UPDATE app.n SET v = 'A' WHERE id = 1; DELETE FROM app.n WHERE id = 2", "alice");
    check("update and delete of flushed rows");
    // Flush concurrent with writes to the same keys: the counters follow, or are recounted.
    const writes = (async () => {
      for (let i = 0; i < 5; i++) {
        await run(db, `UPDATE app.n SET v = 'w${i}' WHERE id = 1`, "alice");
        await run(db, `INSERT INTO app.n (id, v) VALUES (${10 + i}, 'n')`, "bob");
      }
    })();
    await Promise.all([writes, flushAll(db)]);
    check("flush racing writes");
    const stats = Object.fromEntries(await rowsOf(db, "SHOW STATS FOR TABLE app.n"));
    const exact = db.hooks.bufferCounts(t());
    assertEquals(stats.buffered_rows, String(exact.reduce((n, c) => n + c.rows, 0)));
    await db.close();
  });
});

Deno.test("cold: reads decode only the row groups and columns they need", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await run(db, "CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT, n INT)");
    // 40,000 rows: one segment of three 16,384-row groups, ids ascending.
    for (let s = 0; s < 40_000; s += 2_000) {
      const values = Array.from(
        { length: 2_000 },
        (_, i) => `(${s + i}, 'v${s + i}', ${(s + i) % 7})`,
      );
      await run(db, `INSERT INTO app.t (id, v, n) VALUES ${values.join(", ")}`);
    }
    await flushAll(db);
    const cold = db.hooks;
    const decoded = async (sql: string) => {
      cold.forgetCold(db.hooks.table("app", "t"));
      const before = cold.rowsDecoded;
      const rows = await rowsOf(db, sql);
      return { rows, decoded: cold.rowsDecoded - before };
    };
    const tail = await decoded("SELECT COUNT(*), SUM(n) FROM app.t WHERE id >= 35000");
    assertEquals(tail.rows, [["5000", String(sumMod7(35_000, 40_000))]]);
    assertEquals(tail.decoded, 40_000 - 2 * 16_384, "only the last row group");
    const one = await decoded("SELECT n FROM app.t WHERE id = 20000");
    assertEquals(one, { rows: [[String(20_000 % 7)]], decoded: 40_000 }, "a key lookup: whole");
    const before = cold.rowsDecoded;
    assertEquals(await rowsOf(db, "SELECT n FROM app.t WHERE id = 30000"), [[String(30_000 % 7)]]);
    assertEquals(cold.rowsDecoded, before, "later lookups hit the cached segment");
    // Versions superseded after the flush stay hidden when their newer group is skipped.
    await run(db, "UPDATE app.t SET n = 100 WHERE id = 1; DELETE FROM app.t WHERE id = 39999");
    await flushAll(db);
    const low = await decoded("SELECT id, n FROM app.t WHERE id < 3");
    assertEquals(low.rows, [["0", "0"], ["1", "100"], ["2", "2"]]);
    assertEquals((await decoded("SELECT COUNT(*) FROM app.t WHERE n = 100")).rows, [["1"]]);
    assertEquals((await decoded("SELECT COUNT(*) FROM app.t WHERE id > 39990")).rows, [["8"]]);
    assertEquals((await decoded("SELECT COUNT(*), SUM(n) FROM app.t")).rows, [[
      "39999",
      String(sumMod7(0, 40_000) - 1 + 100 - (39_999 % 7)),
    ]]);
    await db.close();
  });
});

function sumMod7(from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n += i % 7;
  return n;
}

Deno.test("cold: a flush waits for the scope's flush in flight, so no manifest update is lost", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await run(
      db,
      `CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, n INT);
      INSERT INTO app.t (id, n) VALUES (0, 0), (1, 1), (2, 2)`,
    );
    const t = db.hooks.table("app", "t");
    const cold = db.hooks;
    // The first flush's manifest write is held back, as an auto-flush job's was when its encoding
    // queued behind a direct flush's in the worker: the flushes after it get every chance to run.
    const store = cold.objectStore(t.storageId);
    const put = store.put.bind(store);
    let reached!: () => void, release!: () => void;
    const atManifest = new Promise<void>((resolve) => reached = resolve);
    const held = new Promise<void>((resolve) => release = resolve);
    let hold = true;
    store.put = async (path, data) => {
      if (hold && path.endsWith("/manifest.json")) {
        hold = false;
        reached();
        await held;
      }
      await put(path, data);
    };
    const first = cold.flush(t);
    await atManifest;
    // Run at once, these would start from the manifest the held flush started from too, and its
    // write, landing last, would drop their segment (and the update, already out of the buffer).
    const later = (async () => {
      await cold.flush(t);
      await run(db, "UPDATE app.t SET n = 100 WHERE id = 1");
      await cold.flush(t);
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([later, new Promise((resolve) => timer = setTimeout(resolve, 300))]);
    clearTimeout(timer);
    release();
    await Promise.all([first, later]);
    const expected = [["0", "0"], ["1", "100"], ["2", "2"]];
    assertEquals(await rowsOf(db, "SELECT id, n FROM app.t"), expected);
    cold.forgetCold(t);
    assertEquals(await rowsOf(db, "SELECT id, n FROM app.t"), expected, "the manifest stored");
    await db.close();
  });
});

Deno.test("cold: UPDATE/DELETE on flushed rows, uniqueness, no resurrection", async () => {
  await withTempDir(async (dir) => {
    let db = await open(dir);
    await exec(
      db,
      `CREATE NAMESPACE app; CREATE USER alice WITH PASSWORD 'pw' ROLE user;
      CREATE USER TABLE app.notes (id INT PRIMARY KEY, v TEXT)`,
    );
    await run(db, "INSERT INTO app.notes (id, v) VALUES (1, 'one'), (2, 'two')", "alice");
    await flushAll(db);
    assertEquals(
      (await execError(
        db,
        "INSERT INTO app.notes (id, v) VALUES (1, 'again')",
        "UNIQUE_VIOLATION",
        {
          user: "alice",
        },
      )).code,
      "UNIQUE_VIOLATION",
    );
    await run(db, "UPDATE app.notes SET v = 'uno' WHERE id = 1", "alice");
    await flushAll(db);
    assertEquals(await rowsOf(db, "SELECT id, v FROM app.notes", "alice"), [["1", "uno"], [
      "2",
      "two",
    ]]);
    await run(db, "DELETE FROM app.notes WHERE id = 1", "alice");
    await flushAll(db);
    await db.close();
    db = await open(dir);
    assertEquals(await rowsOf(db, "SELECT id, v FROM app.notes", "alice"), [["2", "two"]]);
    assertEquals(
      await rowsOf(db, "SELECT id, v FROM app.notes WHERE _deleted = true", "alice"),
      [["1", "uno"]],
    );
    // The stats filter `v = 'one'` matches only the oldest segment: the tombstone hides it.
    assertEquals(await rowsOf(db, "SELECT id FROM app.notes WHERE v = 'one'", "alice"), []);
    // A deleted key may be inserted again, also when only flushed.
    await run(db, "INSERT INTO app.notes (id, v) VALUES (1, 'reborn')", "alice");
    assertEquals(await rowsOf(db, "SELECT v FROM app.notes WHERE id = 1", "alice"), [["reborn"]]);
    // Root's partition stays empty: flushed scopes are per user.
    assertEquals(await rowsOf(db, "SELECT id FROM app.notes"), []);
    await db.close();
  });
});
