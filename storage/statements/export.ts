// `EXPORT USER DATA` and `SHOW EXPORTS` (SPEC §9), and the `export` job behind them. The
// statement answers at once with the export and job ids; the job (persisted, retried, resumed
// after a restart like every job) takes one snapshot of every USER/STREAM table at one `_seq`
// and writes the zip (export/zip_file.ts) to `<data_dir>/exports/<user>/<export_id>.zip`.
//
// Consistency: the snapshot is the live-query snapshot's method over all tables at once —
// first load the user's segments of every table (async), then read buffer + segments of every
// table in one synchronous step, so no write commits in between and every row is at or below
// the committed seq read in that step. A flush or compaction that replaced a segment between
// the two steps makes the synchronous step fail; it is then retried. The price: one user's
// rows of every table are in memory at once while the zip is written (they are streamed into
// the zip in batches, never the zip itself).

import { DbError } from "../../errors.ts";
import type { Row } from "../../sql/mod.ts";
import type { TableInfo } from "../hot/mod.ts";
import { type ExportRow, type ExportTable, userDirName, writeExportZip } from "../export/mod.ts";
import type { JobStatus } from "../jobs/mod.ts";
import { type Handler, msToNs, type StoreParts, T, table } from "./context.ts";

const JOB_TYPE = "export";
const EXPIRE_JOB = "expire-exports";
const ACTIVE: readonly string[] = ["new", "queued", "running", "retrying"];
const SNAPSHOT_ATTEMPTS = 20;

/** Registers the export job type (before the runner resumes). */
export function registerExportJob(e: StoreParts): void {
  registerExpiryJob(e);
  e.jobs.register(JOB_TYPE, async (job, signal) => {
    const user = String(job.parameters?.user);
    const exportId = exportIdOf(job.id);
    await e.exports.add(exportId, user, job.id, Date.now());
    const createdAt = e.exports.get(exportId)?.createdAt ?? Date.now();
    const snap = await snapshot(e, user, signal);
    signal.throwIfAborted();
    const rel = `exports/${userDirName(user)}/${exportId}.zip`;
    const bytes = await writeExportZip(`${e.dataDir}/${rel}`, {
      exportId,
      user,
      createdAt,
      snapshotSeq: snap.seq,
      tables: snap.tables,
    });
    await e.exports.finished(exportId, rel, bytes, snap.seq);
    const rows = snap.tables.reduce((n, t) => n + t.rows.length, 0);
    return {
      message: `Exported ${rows} row(s) of ${snap.tables.length} table(s) of ${user}, ` +
        `${bytes} bytes`,
    };
  });
}

/** Registers the job that deletes exports past their retention (queued by the 1 s tick). */
function registerExpiryJob(e: StoreParts): void {
  e.jobs.register(EXPIRE_JOB, async () => {
    const old = e.exports.expired(Date.now() - e.exportRetentionMs);
    for (const x of old) {
      await Deno.remove(`${e.dataDir}/${x.path}`).catch((err) => {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      });
      await e.exports.remove(x.exportId);
    }
    if (old.length === 0) return { message: "No expired exports", skipped: true };
    return { message: `Deleted ${old.length} expired export(s)` };
  });
}

/** Queues the expiry job when some export is past its retention (one small query). */
export async function expireExports(e: StoreParts): Promise<void> {
  if (!e.exports.hasExpired(Date.now() - e.exportRetentionMs)) return;
  await e.jobs.submit({ type: EXPIRE_JOB });
}

/** The export id of an export job: its id without the type prefix. */
function exportIdOf(jobId: string): string {
  return jobId.startsWith(`${JOB_TYPE}-`) ? jobId.slice(JOB_TYPE.length + 1) : jobId;
}

/** One user's rows of every USER/STREAM table that has some, at one committed seq. */
async function snapshot(
  e: StoreParts,
  user: string,
  signal: AbortSignal,
): Promise<{ tables: ExportTable[]; seq: bigint }> {
  for (let attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
    for (const t of perUserTables(e)) {
      if (e.cold.hasColdData(t.id, user)) await e.cold.preload(t, user);
    }
    signal.throwIfAborted();
    // From here to the return nothing awaits: no write commits in between.
    const tables: ExportTable[] = [];
    let complete = true;
    for (const t of perUserTables(e)) {
      const rows = readSync(e, t, user);
      if (!rows) {
        complete = false;
        break;
      }
      if (rows.length === 0) continue;
      tables.push({
        namespace: t.namespace,
        name: t.name,
        tableType: t.tableType,
        schemaVersion: t.version,
        columns: t.schema.columns,
        rows,
      });
    }
    if (complete) return { tables, seq: e.committedSeq() };
  }
  throw new DbError("STORAGE_ERROR", "Export snapshot kept racing flushes; will retry");
}

function perUserTables(e: StoreParts): TableInfo[] {
  return e.catalog.tables()
    .filter((t) => t.tableType === "USER" || t.tableType === "STREAM")
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** Buffer + segments of one scope, visible rows only; undefined when a segment is not cached. */
function readSync(e: StoreParts, t: TableInfo, user: string): Row[] | undefined {
  const buffered = e.buffer.source(t, user, false);
  if (e.cold.hasColdData(t.id, user)) return e.cold.scanCachedSync(t, user, buffered, {});
  const rows: Row[] = [];
  for (const batch of buffered.scanSync!({})) rows.push(...batch);
  return rows;
}

/** `EXPORT USER DATA`: queues the caller's export (or names the one already running). */
export const exportStatement: Handler<"export_user_data"> = async (_stmt, ctx) => {
  const { user, role } = ctx.session;
  if (role === "anonymous") {
    throw new DbError("PERMISSION_DENIED", "Anonymous callers have no data to export");
  }
  const { jobs, exports } = ctx.engine;
  const running = exports.list(user).find((x) => ACTIVE.includes(statusOf(ctx.engine, x)));
  let row = running;
  if (!row) {
    const jobId = await jobs.submit({ type: JOB_TYPE, parameters: { key: user, user } });
    const exportId = exportIdOf(jobId);
    await exports.add(exportId, user, jobId, Date.now());
    row = exports.get(exportId)!;
  }
  return {
    ...table(
      [["export_id", T.text], ["job_id", T.text], ["user_id", T.text], ["download_url", T.text]],
      [[row.exportId, row.jobId, user, downloadUrl(row)]],
    ),
    message: running
      ? `Export ${row.exportId} of ${user} is already running (job ${row.jobId})`
      : `Export ${row.exportId} of ${user} queued (job ${row.jobId})`,
  };
};

/** `SHOW EXPORTS`: the caller's exports; dba and system see every user's. */
export function showExports(e: StoreParts, user: string, role: string) {
  const all = role === "dba" || role === "system";
  const rows = e.exports.list(all ? undefined : user).map((x) => [
    x.exportId,
    x.jobId,
    statusOf(e, x),
    msToNs(x.createdAt),
    x.bytes === null ? null : BigInt(x.bytes),
    downloadUrl(x),
  ]);
  return table(
    [
      ["export_id", T.text],
      ["job_id", T.text],
      ["status", T.text],
      ["created_at", T.ts],
      ["bytes", T.bigint],
      ["download_url", T.text],
    ],
    rows,
  );
}

/** `completed` once the zip is written; before that the job's status. */
function statusOf(e: StoreParts, x: ExportRow): JobStatus | "completed" {
  if (x.path !== null) return "completed";
  const job = e.jobs.status(x.jobId)?.status ?? "failed";
  return job === "completed" || job === "skipped" ? "failed" : job;
}

/** The download path on the server (relative: the storage does not know the server's host). */
function downloadUrl(x: ExportRow): string {
  return `/v1/exports/${encodeURIComponent(x.user)}/${encodeURIComponent(x.exportId)}`;
}

/** What the download route needs: the owner and the written zip, or undefined. */
export function exportFile(
  e: StoreParts,
  exportId: string,
): { user: string; path: string; bytes: number } | undefined {
  const x = e.exports.get(exportId);
  if (!x || x.path === null) return undefined;
  return { user: x.user, path: `${e.dataDir}/${x.path}`, bytes: x.bytes ?? 0 };
}
