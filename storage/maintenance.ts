// Maintenance statements and the jobs behind them: `FLUSH TABLE` / `FLUSH ALL TABLES IN ns`
// queue one flush job per table and answer at once with the job ids (SPEC §3); the job writes
// the table's buffered rows to Parquet (cold.ts) and reports rows, files and bytes.

import { DbError } from "../errors.ts";
import type { TableInfo } from "./catalog.ts";
import type { Engine, Handler } from "./engine.ts";
import { T, table } from "./engine.ts";
import type { Job } from "./jobs.ts";

/** Registers the job types with the engine's runner (before `resume`). */
export function registerJobs(e: Engine): void {
  e.jobs.register("flush", async (job, signal) => {
    const t = jobTable(e, job);
    if (!t) {
      return { message: `Table ${job.namespace}.${job.table} no longer exists`, skipped: true };
    }
    const r = await e.cold.flushTable(t, signal);
    if (r.rows === 0) return { message: "Nothing to flush: no buffered rows", skipped: true };
    return {
      message: `Flushed ${r.rows} row(s) to ${r.files} file(s), ${r.bytes} bytes`,
    };
  });
}

function jobTable(e: Engine, job: Job): TableInfo | undefined {
  if (!job.namespace || !job.table) return undefined;
  return e.catalog.findTable(job.namespace, job.table);
}

export const flushStatement: Handler<"flush"> = async (stmt, ctx) => {
  const { catalog, jobs } = ctx.engine;
  let tables: TableInfo[];
  if (stmt.table) {
    const t = catalog.table(stmt.table.namespace, stmt.table.name);
    if (t.tableType === "STREAM") {
      throw new DbError(
        "UNSUPPORTED",
        `${t.namespace}.${t.name} is a STREAM table: stream rows stay in memory tier and expire ` +
          "by TTL; they are never flushed to Parquet",
      );
    }
    tables = [t];
  } else {
    const ns = stmt.namespace!;
    if (!catalog.hasNamespace(ns)) {
      throw new DbError("NAMESPACE_NOT_FOUND", `Namespace "${ns}" does not exist`);
    }
    tables = catalog.tables().filter((t) => t.namespace === ns && t.tableType !== "STREAM");
  }
  const rows = [];
  for (const t of tables) {
    const id = await jobs.submit({ type: "flush", namespace: t.namespace, table: t.name });
    rows.push([id, t.namespace, t.name]);
  }
  return {
    ...table([["job_id", T.text], ["namespace", T.text], ["table_name", T.text]], rows),
    message: `Flush queued for ${rows.length} table(s)`,
  };
};
