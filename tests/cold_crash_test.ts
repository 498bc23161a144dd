// Crash safety and concurrency of the cold tier: a flush concurrent with writes to the same
// keys, a child process SIGKILLed at each flush step (after a restart every acknowledged write
// is there exactly once, and a later flush completes the interrupted one), a failing flush
// worker, ids after a restart with the clock set back, and storage path templates that cannot
// escape or collide. Split from cold_test.ts to keep each file short.

import { flushAll, open, rowsOf, run } from "./_cold.ts";
import { assert, assertEquals, execError, withTempDir } from "./_util.ts";

const FLUSHER = new URL("./_flusher.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

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
