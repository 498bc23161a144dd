// Shared helpers of the cold-tier tests (cold_test.ts, cold_jobs_test.ts, cold_crash_test.ts):
// opening a data directory the same way, running SQL as a user, reading rows back as display
// text and flushing every table. Storage is reached only through storage/mod.ts.

import { Database } from "../storage/mod.ts";
import { displayRows, exec } from "./_util.ts";

/** Flushes every table but STREAM ones. */
export function flushAll(db: Database): Promise<void> {
  return db.hooks.flushAll();
}

/** Runs SQL as `user`; the rows of its last statement as display text. */
export async function rowsOf(db: Database, sql: string, user = "root"): Promise<string[][]> {
  const r = await exec(db, sql, { user });
  return displayRows(r.results[r.results.length - 1]);
}

/** Runs SQL as `user`; the whole result. */
export async function run(db: Database, sql: string, user = "root") {
  return await exec(db, sql, { user });
}

/** Opens `dir` as node 5 with `durability: "normal"`. */
export async function open(dir: string): Promise<Database> {
  return await Database.open({ dataDir: dir, nodeId: 5, durability: "normal" });
}
