// Maintenance statements and the jobs behind them: `FLUSH TABLE` / `FLUSH ALL TABLES IN ns` and
// `COMPACT TABLE` queue one job per table and answer at once with the job ids (SPEC §3); the
// jobs run cold.ts and report rows, files and bytes. Tables flush on their own by FLUSH_POLICY
// (`rows:N,interval:S`, default rows:10000,interval:600): a 1 s tick queues a flush job for a
// table whose buffer holds N rows, or any rows for S seconds since its last flush. The same tick
// queues an eviction job for a STREAM table holding rows past their TTL.

import { registerTopicJobs } from "./topic_jobs.ts";
import { DbError } from "../../errors.ts";
import { SNOWFLAKE_EPOCH_MS, type TableInfo } from "../hot/mod.ts";
import type { TablePlace } from "../cold/mod.ts";
import { type Handler, storageOutage, type StoreParts, T, table } from "./context.ts";
import type { Job, JobOutcome, JobWork } from "../jobs/mod.ts";
import { logError } from "../../log.ts";
import { expireExports, registerExportJob } from "./export.ts";

/** Registers the job types with the engine's runner (before `resume`). */
export function registerJobs(e: StoreParts): void {
  registerTopicJobs(e);
  e.jobs.register(
    "flush",
    tableJob(e, async (t, _job, signal) => {
      const r = await e.cold.flushTable(t, signal);
      if (r.rows === 0) return { message: "Nothing to flush: no buffered rows", skipped: true };
      return {
        message: `Flushed ${r.rows} row(s) to ${r.files} file(s), ${r.bytes} bytes`,
      };
    }),
    { retryAlways: storageOutage },
  );
  e.jobs.register(
    "compact",
    tableJob(e, async (t, _job, signal) => {
      const r = await e.cold.compactTable(t, signal);
      if (r.filesRemoved === 0) {
        return { message: "Nothing to compact: no segments", skipped: true };
      }
      return {
        message: `Compacted ${r.filesRemoved} file(s): ${r.rowsBefore} row version(s) → ` +
          `${r.rowsAfter} row(s)`,
      };
    }),
    { retryAlways: storageOutage },
  );
  e.jobs.register("prune-changelog", async () => {
    const { retentionMs, maxEntries } = e.changeRetention;
    const ms = Date.now() - retentionMs - SNOWFLAKE_EPOCH_MS;
    const before = ms <= 0 ? 0n : BigInt(ms) << 22n;
    const n = await e.group.run(() => e.changeLog.prune(before, maxEntries), true);
    if (n === 0) return { message: "Change log within its retention", skipped: true };
    return { message: `Trimmed ${n} change-log entries (resume floor ${e.changeLog.floor()})` };
  });
  e.jobs.register(
    "evict",
    tableJob(e, async (t) => {
      const n = await e.group.run(() => e.buffer.evictExpired(t), true);
      if (n === 0) return { message: "No expired rows", skipped: true };
      return { message: `Evicted ${n} expired row(s) (TTL ${t.ttlSeconds} s)` };
    }),
  );
  e.jobs.register(
    "move",
    tableJob(e, async (t, job, signal) => {
      const to = String(job.parameters?.storage_id);
      if (t.storageId === to) return { message: `Already on storage ${to}`, skipped: true };
      const r = await e.cold.moveTable(t, to, () => {
        const now = e.catalog.table(t.namespace, t.name);
        e.catalog.alterOptions(now, { storageId: to });
        e.buffer.setStorage(t.id, to);
      }, signal);
      return { message: `Moved ${r.files} file(s), ${r.bytes} bytes to storage ${to}` };
    }),
    { retryAlways: storageOutage },
  );
  e.jobs.register("cleanup", async (job) => {
    const p = job.parameters as unknown as TablePlace & { scopes: string[] };
    const n = await e.cold.deleteFiles(p, p.scopes);
    return { message: `Deleted ${n} file(s) of dropped table ${p.namespace}.${p.name}` };
  }, { retryAlways: storageOutage });
  registerExportJob(e);
}

export const compactStatement: Handler<"compact"> = async (stmt, ctx) => {
  const t = ctx.engine.catalog.table(stmt.table.namespace, stmt.table.name);
  if (t.tableType === "STREAM") {
    throw new DbError(
      "UNSUPPORTED",
      `${t.namespace}.${t.name} is a STREAM table: nothing to compact`,
    );
  }
  const id = await ctx.engine.jobs.submit({
    type: "compact",
    namespace: t.namespace,
    table: t.name,
  });
  return {
    ...table([["job_id", T.text], ["namespace", T.text], ["table_name", T.text]], [[
      id,
      t.namespace,
      t.name,
    ]]),
    message: "Compaction queued",
  };
};

/** The policy of tables created without FLUSH_POLICY. */
export const DEFAULT_FLUSH_POLICY = "rows:10000,interval:600";

/** Starts the FLUSH_POLICY tick; returns its stop function. */
export function startAutoFlush(e: StoreParts, tickMs = 1000): () => void {
  const lastFlush = new Map<number, number>(); // table id → ms of the last queued flush
  const started = Date.now();
  let busy = false;
  let ticks = 0;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      // The change log is trimmed to its retention about once a minute.
      if (++ticks % 60 === 0) await e.jobs.submit({ type: "prune-changelog" });
      // …and the topics to theirs, half a minute later.
      if (ticks % 60 === 30) {
        await e.jobs.submit({ type: "trim-topics" });
        await e.jobs.submit({ type: "offload-topics" });
      }
      await expireExports(e);
      for (const t of e.catalog.tables()) {
        if (t.tableType === "STREAM") {
          // TTL: rows are invisible at once; the eviction job removes them physically.
          if (e.buffer.expiredCount(t) > 0) {
            await e.jobs.submit({ type: "evict", namespace: t.namespace, table: t.name });
          }
          continue;
        }
        const policy = parsePolicy(t.flushPolicy ?? DEFAULT_FLUSH_POLICY);
        const buffered = e.buffer.counts.pendingWrites(t.id);
        if (buffered === 0) continue;
        // Something will be flushed: start the flush workers now, not in the first flush.
        e.cold.warmUp();
        const since = Date.now() - (lastFlush.get(t.id) ?? started);
        const due = (policy.rows !== undefined && buffered >= policy.rows) ||
          (policy.interval !== undefined && since >= policy.interval * 1000);
        if (!due) continue;
        lastFlush.set(t.id, Date.now());
        await e.jobs.submit({ type: "flush", namespace: t.namespace, table: t.name });
      }
    } catch (err) {
      logError("auto flush", err);
    } finally {
      busy = false;
    }
  }, tickMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

function parsePolicy(text: string): { rows?: number; interval?: number } {
  const out: { rows?: number; interval?: number } = {};
  for (const part of text.split(",")) {
    const [k, v] = part.split(":");
    if (k === "rows") out.rows = Number(v);
    if (k === "interval") out.interval = Number(v);
  }
  return out;
}

/** A job about one table: skipped when the table was dropped since the job was queued. */
function tableJob(
  e: StoreParts,
  work: (t: TableInfo, job: Job, signal: AbortSignal) => Promise<JobOutcome>,
): JobWork {
  return (job, signal) => {
    const t = job.namespace && job.table
      ? e.catalog.findTable(job.namespace, job.table)
      : undefined;
    if (!t) {
      const message = `Table ${job.namespace}.${job.table} no longer exists`;
      return Promise.resolve({ message, skipped: true });
    }
    return work(t, job, signal);
  };
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

export const killStatement: Handler<"kill"> = async (stmt, ctx) => {
  if (stmt.target === "live_query") {
    if (!ctx.engine.live.queries?.kill(stmt.id)) {
      throw new DbError("NOT_FOUND", `Live query "${stmt.id}" does not exist`);
    }
    return { rowCount: 0, message: `Live query ${stmt.id} killed` };
  }
  return { rowCount: 0, message: await ctx.engine.jobs.kill(stmt.id) };
};
