// The cold tier end to end on a real data directory: rows flushed to Parquet read back the same,
// UPDATE/DELETE on flushed rows, uniqueness against flushed rows, no resurrection across
// flushes and restarts, FLUSH as a job with rows/files/took_ms, compaction, DROP cleanup, and
// crash safety: a child process is SIGKILLed at each flush step, and after a restart every
// acknowledged write is there exactly once (and a later flush completes the interrupted one).

import { Database } from "../storage/mod.ts";
import { assert, assertEquals, displayRows, exec, execError, withTempDir } from "./_util.ts";

const FLUSHER = new URL("./_flusher.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

async function flushAll(db: Database): Promise<void> {
  for (const t of db.hooks.tables()) {
    if (t.tableType !== "STREAM") await db.hooks.flush(t);
  }
}

/** Runs SQL as `user`; the rows of its last statement as display text. */
async function rowsOf(db: Database, sql: string, user = "root"): Promise<string[][]> {
  const r = await exec(db, sql, { user });
  return displayRows(r.results[r.results.length - 1]);
}

async function run(db: Database, sql: string, user = "root") {
  return await exec(db, sql, { user });
}

async function open(dir: string): Promise<Database> {
  return await Database.open({ dataDir: dir, nodeId: 5, durability: "normal" });
}

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

Deno.test("cold: flush concurrent with writes to the same keys loses nothing", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await run(db, `CREATE NAMESPACE app; CREATE TABLE app.t (id INT PRIMARY KEY, n INT)`);
    const values = Array.from({ length: 200 }, (_, i) => `(${i}, 0)`).join(", ");
    await run(db, `INSERT INTO app.t (id, n) VALUES ${values}`);
    const t = db.hooks.table("app", "t");
    const writes = (async () => {
      for (let round = 1; round <= 5; round++) {
        await run(db, `UPDATE app.t SET n = ${round} WHERE id % 2 = 0`);
      }
    })();
    const flushes = (async () => {
      for (let i = 0; i < 5; i++) await db.hooks.flush(t);
    })();
    await Promise.all([writes, flushes]);
    const rows = await rowsOf(db, "SELECT n, COUNT(*) FROM app.t GROUP BY n ORDER BY n");
    assertEquals(rows, [["0", "100"], ["5", "100"]]);
    await db.hooks.flush(t);
    await db.close();
    const again = await open(dir);
    assertEquals(await rowsOf(again, "SELECT n, COUNT(*) FROM app.t GROUP BY n ORDER BY n"), rows);
    await again.close();
  });
});

/** Runs the flusher child; returns the acknowledged state (last ack per table/id). */
async function runFlusher(dir: string, round: number, crashAt?: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FLUSHER, dir, String(round)],
    cwd: ROOT,
    env: crashAt ? { KALAMDB_CRASH_AT: crashAt } : {},
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const acks = text.split("\n").filter((l) => l.startsWith("ack "));
  return {
    code: out.code,
    signal: out.signal,
    flushed: text.includes("\nflushed\n") || text.startsWith("flushed\n"),
    acks,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

for (const step of ["flush:after-segment", "flush:after-manifest", "flush:after-delete"]) {
  Deno.test(`cold: SIGKILL at ${step}: every acknowledged write survives exactly once`, async () => {
    await withTempDir(async (dir) => {
      const expected = new Map<string, string>(); // "notes 1001" → value or "deleted"
      for (const [round, crash] of [[1, undefined], [2, step], [3, undefined]] as const) {
        const r = await runFlusher(dir, round, crash);
        for (const line of r.acks) {
          const [, table, id, value] = line.split(" ");
          expected.set(`${table} ${id}`, value);
        }
        if (crash) assertEquals([r.signal, r.flushed], ["SIGKILL", false], r.stderr);
        else assertEquals([r.code, r.flushed], [0, true], r.stderr);
        const db = await open(dir);
        for (const [table, user] of [["notes", "alice"], ["cfg", "root"]]) {
          const got = await rowsOf(db, `SELECT id, v FROM app.${table}`, user);
          const ids = got.map((g) => g[0]);
          assertEquals(new Set(ids).size, ids.length, `duplicate rows in ${table}`);
          const want = [...expected].filter(([k, v]) => k.startsWith(table) && v !== "deleted")
            .map(([k, v]) => [k.split(" ")[1], v]).sort((a, b) => Number(a[0]) - Number(b[0]));
          assertEquals(got, want, `${table} after round ${round} (${crash ?? "no crash"})`);
        }
        await db.close();
      }
    });
  });
}

Deno.test("cold: a flush finishing a crashed first flush keeps its rows readable", async () => {
  await withTempDir(async (dir) => {
    // The first flush of alice's notes dies after its manifest, before the scope is recorded.
    const r = await runFlusher(dir, 1, "flush:after-manifest");
    assertEquals(r.signal, "SIGKILL", r.stderr);
    const db = await open(dir);
    const notes = () => rowsOf(db, "SELECT id FROM app.notes", "alice");
    assertEquals((await notes()).length, 40);
    // Nothing new to write: this flush records the scope and drops the buffered copies.
    await flushAll(db);
    assertEquals(db.hooks.bufferCounts(db.hooks.table("app", "notes")), []);
    assertEquals((await notes()).length, 40);
    await execError(db, "INSERT INTO app.notes (id, v) VALUES (1000, 'dup')", "UNIQUE_VIOLATION", {
      user: "alice",
    });
    await db.close();
  });
});

Deno.test("cold: a flush whose worker fails changes nothing, and the next one works", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    await run(
      db,
      `CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v TEXT);
      INSERT INTO app.t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')`,
    );
    const t = db.hooks.table("app", "t");
    const cold = db.hooks;
    // One buffered row made undecodable (an array of three holding one value): the encoder fails.
    const good = cold.bufferedData(t, 2)!;
    const setData = (data: Uint8Array) => cold.setBufferedData(t, 2, data);
    setData(new Uint8Array([0x93, 0x01]));
    let failed: unknown;
    try {
      await cold.flush(t);
    } catch (err) {
      failed = err;
    }
    assert(failed instanceof Error && /Flush encoding failed/.test(failed.message), String(failed));
    assertEquals(cold.coldStats(t).size, 0, "no segment recorded");
    setData(good);
    assertEquals(
      db.hooks.bufferCounts(t),
      [{ user: "", rows: 3, deleted: 0 }],
      "nothing deleted",
    );
    assertEquals((await cold.flush(t)).rows, 3);
    assertEquals(await rowsOf(db, "SELECT id, v FROM app.t"), [["1", "a"], ["2", "b"], ["3", "c"]]);
    await db.close();
  });
});

Deno.test("cold: ids after a restart stay above the last flush's snapshot, clock set back", async () => {
  await withTempDir(async (dir) => {
    let db = await open(dir);
    await run(
      db,
      `CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v TEXT);
      INSERT INTO app.t (id, v) VALUES (1, 'a')`,
    );
    const real = Date.now;
    try {
      Date.now = () => real() + 5_000; // the flush runs "later" than the next start's clock
      await flushAll(db);
    } finally {
      Date.now = real;
    }
    await db.close();
    db = await open(dir);
    await run(db, "INSERT INTO app.t (id, v) VALUES (2, 'b')");
    await flushAll(db);
    assertEquals(await rowsOf(db, "SELECT id, v FROM app.t"), [["1", "a"], ["2", "b"]]);
    await db.close();
  });
});

Deno.test("cold: storage path templates cannot escape or collide; KILL JOB of unknown ids", async () => {
  await withTempDir(async (dir) => {
    const db = await open(dir);
    for (
      const template of [
        "USER_TABLES_TEMPLATE '{namespace}/{table}'", // users would share a directory
        "SHARED_TABLES_TEMPLATE '../{namespace}/{table}'",
        "SHARED_TABLES_TEMPLATE '/abs/{namespace}/{table}'",
        "SHARED_TABLES_TEMPLATE '{namespace}/{tabel}/{table}'",
      ]
    ) {
      await execError(
        db,
        `CREATE STORAGE bad TYPE filesystem PATH '${dir}/x' ${template}`,
        "INVALID_PARAMETER",
      );
    }
    await execError(db, "CREATE STORAGE b/../x TYPE filesystem PATH '/tmp'", "INVALID_SQL");
    assertEquals(await rowsOf(db, "SELECT storage_id FROM system.storages"), [["local"]]);
    await execError(db, "KILL JOB 'no-such-job'", "NOT_FOUND");
    await db.close();
  });
});
