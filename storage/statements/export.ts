// `EXPORT USER DATA` and `SHOW EXPORTS` (SPEC §9), and the `export` job behind them. The
// statement answers at once with the export and job ids; the job (persisted, retried, resumed
// after a restart like every job) takes one snapshot of every USER/STREAM table at one `_seq`
// and writes the zip (export/zip_file.ts) to `<data_dir>/exports/<user>/<export_id>.zip`.
//
// Consistency and memory: the job holds the user's scopes of every USER/STREAM table (no flush
// or compaction of them until it ends, so their segment files stay put), then in one
// synchronous step reads the committed seq and opens a snapshot of the buffer on its own SQLite
// connection. Every row at or below that seq is in the snapshot and nothing after it, however
// long the zip takes and whatever is written meanwhile. Rows then stream from the snapshot —
// buffered pages, then segment row groups read in ranges — into the zip (export/zip_file.ts):
// memory is a row group plus the keys of the user's buffered rows, not the user's data.
// Table flushes pass this user's held scopes by (flushed next time); the job runs in its own
// lane of the job runner, so other jobs go on meanwhile.

import { DbError } from "../../errors.ts";
import type { BufferSnapshot, TableInfo } from "../hot/mod.ts";
import type { Manifest } from "../cold/mod.ts";
import { type ExportRow, userDirName, writeExportZip } from "../export/mod.ts";
import type { JobStatus, JobWork } from "../jobs/mod.ts";
import { type Handler, msToNs, storageOutage, type StoreParts, T, table } from "./context.ts";

const JOB_TYPE = "export";
const EXPIRE_JOB = "expire-exports";
const ACTIVE: readonly string[] = ["new", "queued", "running", "retrying"];
const SNAPSHOT_ATTEMPTS = 20;

/** Registers the export job type (before the runner resumes). */
export function registerExportJob(e: StoreParts): void {
  registerExpiryJob(e);
  e.jobs.register(JOB_TYPE, exportJob(e), { lane: "export", retryAlways: storageOutage });
}

/** The export job (its own lane: flushes and other jobs go on while it runs). */
function exportJob(e: StoreParts): JobWork {
  return async (job, signal) => {
    const user = String(job.parameters?.user);
    const exportId = exportIdOf(job.id);
    // The account by its creation time too: a namesake created after a DROP is another person.
    const since = e.catalog.user(user)?.createdAt;
    if (since === undefined) return { message: `User ${user} was dropped`, skipped: true };
    await e.exports.add(exportId, user, job.id, Date.now());
    const createdAt = e.exports.get(exportId)?.createdAt ?? Date.now();
    const rel = `exports/${userDirName(user)}/${exportId}.zip`;
    const done = await withSnapshot(e, user, signal, async (snap) => {
      const written = await writeExportZip(`${e.dataDir}/${rel}`, {
        exportId,
        user,
        createdAt,
        snapshotSeq: snap.seq,
        signal,
        tables: snap.tables.map((t) => ({
          namespace: t.info.namespace,
          name: t.info.name,
          tableType: t.info.tableType,
          schemaVersion: t.info.version,
          columns: t.info.schema.columns,
          rows: () => e.cold.snapshotRows(t.info, user, snap.buffer, t.manifest),
        })),
      });
      return { ...written, seq: snap.seq };
    });
    await e.exports.finished(exportId, rel, done.bytes, done.seq);
    if (e.catalog.user(user)?.createdAt !== since) {
      // DROP USER ran while the zip was written: it goes with the user's other data.
      await Deno.remove(`${e.dataDir}/${rel}`).catch(() => {});
      await e.exports.remove(exportId);
      return { message: `User ${user} was dropped during the export`, skipped: true };
    }
    return {
      message: `Exported ${done.rows} row(s) of ${done.tables} table(s) of ${user}, ` +
        `${done.bytes} bytes`,
    };
  };
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

/** A user's tables at one committed seq: each with the manifest of its segments, if any. */
interface Snapshot {
  readonly seq: bigint;
  readonly buffer: BufferSnapshot;
  readonly tables: readonly { readonly info: TableInfo; readonly manifest?: Manifest }[];
}

/**
 * Runs `work` over one snapshot of every USER/STREAM table of `user`: no flush or compaction
 * of the user's scopes meanwhile (their manifests and segment files stay put), and the buffer
 * read through its own SQLite snapshot, taken in the same synchronous step as the committed seq
 * and the table list — so every row at or below the seq is in it and nothing after. A table
 * created or dropped while the scopes were being held makes it start over.
 */
async function withSnapshot<T>(
  e: StoreParts,
  user: string,
  signal: AbortSignal,
  work: (snap: Snapshot) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
    const held = perUserTables(e);
    const ids = held.map((t) => t.id);
    const result = await e.cold.holdScopes(ids, user, async () => {
      const manifests = new Map<number, Manifest>();
      for (const t of held) {
        if (e.cold.hasColdData(t.id, user)) manifests.set(t.id, await e.cold.manifest(t, user));
      }
      signal.throwIfAborted();
      // From here to `work` nothing awaits: no write commits in between.
      const now = perUserTables(e);
      if (now.map((t) => t.id).join() !== ids.join()) return undefined;
      if (now.some((t) => e.cold.hasColdData(t.id, user) !== manifests.has(t.id))) {
        return undefined;
      }
      const buffer = e.buffer.snapshot();
      try {
        const tables = now.map((info) => ({ info, manifest: manifests.get(info.id) }));
        return { value: await work({ seq: e.committedSeq(), buffer, tables }) };
      } finally {
        buffer.close();
      }
    });
    if (result) return result.value;
  }
  throw new DbError("STORAGE_ERROR", "Export snapshot kept racing DDL; will retry");
}

function perUserTables(e: StoreParts): TableInfo[] {
  return e.catalog.tables()
    .filter((t) => t.tableType === "USER" || t.tableType === "STREAM")
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
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
