// The `exports` table's owner: one row per export (its user, the job that writes it, and once
// written the zip's path, size and snapshot seq). The job's own status lives in `jobs`; an
// export row is "completed" when it has a path.

import type { GroupCommit, SqliteStore } from "../hot/mod.ts";

export interface ExportRow {
  readonly exportId: string;
  readonly user: string;
  readonly jobId: string;
  readonly createdAt: number;
  readonly finishedAt: number | null;
  readonly snapshotSeq: string | null;
  readonly bytes: number | null;
  /** The zip, relative to the data directory; null until the job finished writing it. */
  readonly path: string | null;
}

const COLUMNS = "export_id, user_id, job_id, created_at, finished_at, snapshot_seq, bytes, path";

export class ExportsTable {
  readonly #store: SqliteStore;
  readonly #group: GroupCommit;

  constructor(store: SqliteStore, group: GroupCommit) {
    this.#store = store;
    this.#group = group;
  }

  /** Records an export (a no-op when it is recorded already: the job and the statement both do). */
  async add(exportId: string, user: string, jobId: string, createdAt: number): Promise<void> {
    await this.#group.run(() =>
      this.#store.writer(
        `INSERT OR IGNORE INTO exports (export_id, user_id, job_id, created_at)
          VALUES (?, ?, ?, ?)`,
      ).run(exportId, user, jobId, createdAt)
    );
  }

  /** Marks an export written. */
  async finished(exportId: string, path: string, bytes: number, seq: bigint): Promise<void> {
    await this.#group.run(() =>
      this.#store.writer(
        `UPDATE exports SET path = ?, bytes = ?, snapshot_seq = ?, finished_at = ?
          WHERE export_id = ?`,
      ).run(path, bytes, String(seq), Date.now(), exportId)
    );
  }

  /** Written exports finished before `ms` (the expiry job's work). */
  expired(ms: number): ExportRow[] {
    return this.#store.writer(
      `SELECT ${COLUMNS} FROM exports WHERE path IS NOT NULL AND finished_at < ?`,
    ).all(ms).map(rowOf);
  }

  /** Whether some written export finished before `ms` (the 1 s tick asks). */
  hasExpired(ms: number): boolean {
    return this.#store.writer(
      "SELECT 1 FROM exports WHERE path IS NOT NULL AND finished_at < ? LIMIT 1",
    ).get(ms) !== undefined;
  }

  /** Forgets an export (its file is deleted first). */
  async remove(exportId: string): Promise<void> {
    await this.#group.run(() =>
      this.#store.writer("DELETE FROM exports WHERE export_id = ?").run(exportId)
    );
  }

  /** Forgets every export of a user (DROP USER, inside its write; files deleted first). */
  eraseUser(user: string): void {
    this.#store.writer("DELETE FROM exports WHERE user_id = ?").run(user);
  }

  get(exportId: string): ExportRow | undefined {
    const r = this.#store.writer(`SELECT ${COLUMNS} FROM exports WHERE export_id = ?`)
      .get(exportId);
    return r ? rowOf(r) : undefined;
  }

  /** One user's exports (every user's for undefined), oldest first. */
  list(user?: string): ExportRow[] {
    const rows = user === undefined
      ? this.#store.writer(`SELECT ${COLUMNS} FROM exports ORDER BY created_at, export_id`).all()
      : this.#store.writer(
        `SELECT ${COLUMNS} FROM exports WHERE user_id = ? ORDER BY created_at, export_id`,
      ).all(user);
    return rows.map(rowOf);
  }
}

function rowOf(r: unknown[]): ExportRow {
  const num = (v: unknown) => v === null ? null : Number(v);
  return {
    exportId: String(r[0]),
    user: String(r[1]),
    jobId: String(r[2]),
    createdAt: Number(r[3]),
    finishedAt: num(r[4]),
    snapshotSeq: r[5] === null ? null : String(r[5]),
    bytes: num(r[6]),
    path: r[7] === null ? null : String(r[7]),
  };
}
