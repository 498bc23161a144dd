// Injected object-store faults (issue 15 item 2), through the Database's store shim around the
// real filesystem store, the way SQLite's test VFS injects I/O errors:
// - `refused`: every write fails and writes nothing (a full or read-only disk);
// - `landed`: the bytes reach their final name, then the write reports failure (fsync of the
//   file or its directory failing after the rename): the flush must treat the object as not
//   written, yet never count a row twice once it retries.
// Each against segments, manifests, or both, while rows are inserted, flushed rows updated and
// deleted, and reads go on. Then the fault is cleared: the retried flush must leave the table
// equal to the model, manifests consistent with their segment files (read back with hyparquet),
// no key live in two segments — also after closing and reopening the data directory.

import { Database } from "../../storage/mod.ts";
import { PassThroughStore } from "../_store.ts";
import { DbError } from "../../errors.ts";
import { assert, assertEquals, exec, until, withTempDir } from "../_util.ts";
import { checkManifests, emptyTally } from "../../scripts/mod.ts";

type Kind = "refused" | "landed";

/** The real store with writes failing on demand for paths that match. */
class FaultyStore extends PassThroughStore {
  fault: { kind: Kind; paths: RegExp } | undefined;
  failures = 0;

  override async put(path: string, data: Uint8Array): Promise<void> {
    const f = this.fault;
    if (!f || !f.paths.test(path)) return this.inner.put(path, data);
    this.failures++;
    if (f.kind === "landed") await this.inner.put(path, data);
    const why = f.kind === "landed"
      ? "fsync failed after the write (injected)"
      : "no space (injected)";
    const err = new DbError(
      "STORAGE_ERROR",
      `Could not write object ${JSON.stringify(path)}: ${why}`,
    );
    err.transient = true; // as the real stores mark a disk or a server that refused
    throw err;
  }
}

const TABLE = "app.shared";
const SCOPE = { name: "shared", table: TABLE, user: "", auth: "", keys: new Map() };

async function open(dir: string, stores: FaultyStore[]) {
  return await Database.open({
    dataDir: dir,
    objectStoreShim: (_id, store) => {
      const f = new FaultyStore(store);
      stores.push(f);
      return f;
    },
  });
}

async function state(db: Database): Promise<Map<number, number>> {
  const r = await exec(db, `SELECT k, v FROM ${TABLE} ORDER BY k`);
  const m = new Map<number, number>();
  for (const [k, v] of r.results[0].rows!) {
    assert(!m.has(Number(k)), `key ${k} twice in a scan`);
    m.set(Number(k), Number(v));
  }
  return m;
}

/** Manifests and segments on disk: consistent, and holding exactly `model` once flushed. */
async function checkDisk(dir: string, model: Map<number, number>, what: string) {
  const tally = emptyTally();
  const cold = await checkManifests(dir, [SCOPE], tally);
  assertEquals(
    [tally.manifestProblems, tally.duplicates],
    [0, 0],
    `${what}: ${tally.problems.join("; ")}`,
  );
  assertEquals([...(cold.get("shared") ?? [])].sort((a, b) => a[0] - b[0]), [...model], what);
  return tally;
}

async function scenario(kind: Kind, target: "segments" | "manifests" | "both") {
  await withTempDir(async (dir) => {
    const stores: FaultyStore[] = [];
    let db = await open(dir, stores);
    try {
      const model = new Map<number, number>();
      const insert = async (from: number, to: number) => {
        const values = [];
        for (let k = from; k <= to; k++) values.push(`(${k}, ${k})`);
        await exec(db, `INSERT INTO ${TABLE} (k, v) VALUES ${values.join(", ")}`);
        for (let k = from; k <= to; k++) model.set(k, k);
      };
      await exec(
        db,
        `CREATE NAMESPACE app; CREATE SHARED TABLE ${TABLE} (k BIGINT PRIMARY KEY, v BIGINT)
        WITH (FLUSH_POLICY = 'rows:1000000,interval:3600')`,
      );
      await insert(1, 100);
      await exec(db, `FLUSH TABLE ${TABLE}`);
      await db.hooks.idle();

      const store = stores.at(-1)!;
      const paths = { segments: /\.parquet$/, manifests: /manifest\.json$/, both: /./ }[target];
      store.fault = { kind, paths };
      await insert(101, 200);
      await exec(db, `UPDATE ${TABLE} SET v = v + 1000 WHERE k <= 50`); // flushed rows
      for (let k = 1; k <= 50; k++) model.set(k, k + 1000);
      await exec(db, `DELETE FROM ${TABLE} WHERE k BETWEEN 51 AND 60 OR k BETWEEN 191 AND 200`);
      for (let k = 51; k <= 60; k++) model.delete(k);
      for (let k = 191; k <= 200; k++) model.delete(k);
      await exec(db, `FLUSH TABLE ${TABLE}`);
      // The flush fails twice (and stays `retrying`); reads and writes go on meanwhile.
      await until(
        async () => {
          const jobs = await exec(
            db,
            `SELECT status FROM system.jobs WHERE job_type = 'flush'
          ORDER BY created_at DESC LIMIT 1`,
          );
          return store.failures >= 2 && jobs.results[0].rows![0][0] === "retrying";
        },
        `the flush retrying under ${kind} ${target} faults`,
        30_000,
      );
      await insert(201, 220);
      assertEquals(await state(db), model, "reads during the fault");

      store.fault = undefined;
      await until(
        async () => {
          const r = await exec(
            db,
            `SELECT COUNT(*) FROM system.jobs WHERE job_type = 'flush'
          AND status = 'retrying'`,
          );
          return Number(r.results[0].rows![0][0]) === 0;
        },
        "the retried flush done",
        60_000,
      );
      await exec(db, `FLUSH TABLE ${TABLE}`); // rows 201..220, written during the fault
      await db.hooks.idle();
      const jobs = await exec(db, `SELECT status FROM system.jobs WHERE job_type = 'flush'`);
      assert(
        jobs.results[0].rows!.every(([s]) => s === "completed" || s === "skipped"),
        `every flush completed (or found nothing left): ${JSON.stringify(jobs.results[0].rows)}`,
      );
      assertEquals(await state(db), model, "after the fault");
      const tally = await checkDisk(dir, model, "on disk after the fault");
      console.log(
        `  ${kind} ${target}: ${store.failures} writes failed; ${tally.segments} segments, ` +
          `${tally.orphans} unlisted segment file(s) left by failed writes`,
      );
      await db.close();
      db = await open(dir, stores);
      assertEquals(await state(db), model, "after reopening");
    } finally {
      await db.close();
    }
  });
}

for (const kind of ["refused", "landed"] as const) {
  for (const target of ["segments", "manifests", "both"] as const) {
    Deno.test(`store faults: ${kind} writes of ${target}; the retried flush loses and doubles nothing`, () =>
      scenario(kind, target));
  }
}
