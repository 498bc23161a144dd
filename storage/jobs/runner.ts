// Background jobs (flush, compaction, cleanup, TTL eviction, moves): persisted in the `jobs`
// table (system.jobs), run by one runner with bounded concurrency and an AbortSignal per job.
// Statuses: new → queued → running → completed | failed | retrying → … | cancelled | skipped.
// Idempotency: submitting a job whose (type, namespace, table, parameters.key) already has one
// waiting or running returns that job's id instead of a second job. A job that was running at a crash is
// queued again at open (its work must be idempotent, as flush's four steps are).
// Retries back off exponentially up to `maxBackoffMs`. A job type may name errors that do not
// use up its retries (`retryAlways`): a flush facing an unreachable storage stays `retrying`
// for as long as the outage lasts and flushes on the first attempt after it, instead of failing
// after a few seconds. The runner's own bookkeeping writes may fail too (the SQLite disk full):
// the attempt is then retried from memory, and the status written once the disk takes it.

import { DbError } from "../../errors.ts";
import type { GroupCommit, SqliteStore } from "../hot/mod.ts";
import { elapsedMs } from "../_time.ts";
import { logError } from "../../log.ts";

export type JobStatus =
  | "new"
  | "queued"
  | "running"
  | "completed"
  | "failed"
  | "retrying"
  | "cancelled"
  | "skipped";

const ACTIVE: readonly JobStatus[] = ["new", "queued", "running", "retrying"];

export interface JobSpec {
  readonly type: string;
  readonly namespace?: string;
  readonly table?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

export interface Job extends JobSpec {
  readonly id: string;
  readonly retryCount: number;
}

/** What a job reports when done; `skipped` when there was nothing to do. */
export interface JobOutcome {
  readonly message: string;
  readonly skipped?: boolean;
}

/** One row of `jobs` as system.jobs shows it (times in ms since the epoch). */
export interface JobRow {
  readonly id: string;
  readonly type: string;
  readonly status: JobStatus;
  readonly namespace: string | null;
  readonly table: string | null;
  readonly parameters: string | null;
  readonly message: string | null;
  readonly retryCount: number;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly tookMs: number | null;
}

export type JobWork = (job: Job, signal: AbortSignal) => Promise<JobOutcome>;

export interface JobRunnerOptions {
  /** Jobs running at once per lane (default 1: few cores and SQLite has one writer). */
  readonly concurrency?: number;
  /** Attempts after the first failure (default 3). */
  readonly maxRetries?: number;
  /** First retry delay in ms, doubled each time (default 500). */
  readonly backoffMs?: number;
  /** The longest delay between two attempts (default 30 s). */
  readonly maxBackoffMs?: number;
}

/** How a job type runs: its lane, and the failures that are retried without a limit. */
export interface JobTypeOptions {
  /** Its own `concurrency` slots: a long export runs beside flushes instead of holding them up. */
  readonly lane?: string;
  /** True for an error that should not use up the job's retries (a storage outage). */
  readonly retryAlways?: (err: unknown) => boolean;
}

interface Entry {
  job: Job;
  /** Its row is not written yet: not started until it is (submit). */
  unrecorded?: boolean;
  controller?: AbortController;
  timer?: ReturnType<typeof setTimeout>;
}

export class JobRunner {
  #store: SqliteStore;
  #group: GroupCommit;
  #work = new Map<string, JobWork>();
  /** Job type → its lane (types without one share the main lane, ""). */
  #lanes = new Map<string, string>();
  #retryAlways = new Map<string, (err: unknown) => boolean>();
  #concurrency: number;
  #maxRetries: number;
  #backoffMs: number;
  #maxBackoffMs: number;
  #waiting: Entry[] = [];
  #running = new Map<string, Entry>();
  #delayed = new Map<string, Entry>();
  #idle: (() => void)[] = [];
  #counter = 0;
  #closed = false;

  constructor(store: SqliteStore, group: GroupCommit, options: JobRunnerOptions = {}) {
    this.#store = store;
    this.#group = group;
    this.#concurrency = options.concurrency ?? 1;
    this.#maxRetries = options.maxRetries ?? 3;
    this.#backoffMs = options.backoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  /** Registers the code of one job type (see `JobTypeOptions`). */
  register(type: string, work: JobWork, options: JobTypeOptions = {}): void {
    this.#work.set(type, work);
    if (options.lane) this.#lanes.set(type, options.lane);
    if (options.retryAlways) this.#retryAlways.set(type, options.retryAlways);
  }

  /** Queues again every job a previous process left unfinished (call once, after register). */
  resume(): void {
    const rows = this.#store.writer(
      `SELECT job_id, job_type, namespace, table_name, parameters, retry_count FROM jobs
        WHERE status IN ('new', 'queued', 'running', 'retrying') ORDER BY created_at, job_id`,
    ).all();
    for (const r of rows) {
      const job = jobOf(r);
      // At open no write group exists yet: a direct autocommit write is safe here.
      this.#store.writer("UPDATE jobs SET status = 'queued', message = ? WHERE job_id = ?")
        .run("resumed after restart", job.id);
      this.#waiting.push({ job });
    }
    this.#pump();
  }

  /**
   * Records and queues a job; returns its id (an already active job of the same kind and table
   * when there is one). Must not be called from inside a group-commit statement.
   */
  async submit(spec: JobSpec): Promise<string> {
    if (!this.#work.has(spec.type)) {
      throw new DbError("INTERNAL_ERROR", `No runner for job type ${spec.type}`);
    }
    const existing = [...this.#waiting, ...this.#running.values(), ...this.#delayed.values()]
      .find((e) =>
        e.job.type === spec.type && e.job.namespace === spec.namespace &&
        e.job.table === spec.table && e.job.parameters?.key === spec.parameters?.key
      );
    if (existing) return existing.job.id;
    const now = Date.now();
    const id = `${spec.type}-${now.toString(36)}-${(this.#counter++).toString(36)}`;
    const job: Job = { ...spec, id, retryCount: 0 };
    const entry: Entry = { job, unrecorded: true };
    this.#waiting.push(entry); // visible to the idempotency check before the write lands
    await this.#write(
      `INSERT INTO jobs (job_id, job_type, status, namespace, table_name, parameters, created_at)
        VALUES (?, ?, 'queued', ?, ?, ?, ?)`,
      [
        id,
        spec.type,
        spec.namespace ?? null,
        spec.table ?? null,
        spec.parameters ? JSON.stringify(spec.parameters) : null,
        now,
      ],
    ).catch((err) => {
      // Not recorded (the disk full): not queued either.
      const i = this.#waiting.indexOf(entry);
      if (i >= 0) this.#waiting.splice(i, 1);
      throw err;
    });
    entry.unrecorded = false;
    this.#pump();
    return id;
  }

  /** KILL JOB: cancels a waiting job, or aborts a running one. */
  async kill(id: string): Promise<string> {
    const row = this.#store.writer("SELECT status FROM jobs WHERE job_id = ?").get(id);
    if (!row) throw new DbError("NOT_FOUND", `Job "${id}" does not exist`);
    const status = String(row[0]) as JobStatus;
    if (!ACTIVE.includes(status)) {
      throw new DbError(
        "INVALID_PARAMETER",
        `Job ${id} is already ${status}: only a waiting or running job can be killed`,
      );
    }
    const waiting = this.#waiting.findIndex((e) => e.job.id === id);
    if (waiting >= 0) this.#waiting.splice(waiting, 1);
    const delayed = this.#delayed.get(id);
    if (delayed) {
      clearTimeout(delayed.timer);
      this.#delayed.delete(id);
    }
    this.#running.get(id)?.controller?.abort(new DbError("QUERY_TIMEOUT", "Job killed"));
    await this.#finish(id, "cancelled", "killed by KILL JOB", undefined);
    return `Job ${id} cancelled`;
  }

  /** One job's status and message, or undefined for an unknown id. */
  status(id: string): { status: JobStatus; message: string | null } | undefined {
    const r = this.#store.writer("SELECT status, message FROM jobs WHERE job_id = ?").get(id);
    return r ? { status: String(r[0]) as JobStatus, message: r[1] as string | null } : undefined;
  }

  /**
   * Why the newest failing job of a type and table failed: a `failed` one, or an active one
   * with a failed attempt behind it (`retrying`, or `running` its next attempt).
   */
  lastFailure(type: string, namespace: string, table: string): string | undefined {
    const r = this.#store.reader(
      `SELECT message FROM jobs WHERE job_type = ? AND namespace = ? AND table_name = ?
        AND message IS NOT NULL AND status IN ('retrying', 'running', 'failed')
        ORDER BY created_at DESC LIMIT 1`,
    ).get(type, namespace, table);
    return r?.[0] == null ? undefined : String(r[0]);
  }

  /** Every job, oldest first (system.jobs). */
  list(): JobRow[] {
    const st = this.#store.reader(
      `SELECT job_id, job_type, status, namespace, table_name, parameters, message,
        retry_count, created_at, started_at, finished_at, took_ms FROM jobs ORDER BY created_at`,
    );
    const ms = (v: unknown) => v === null ? null : Number(v);
    return st.all().map((r) => ({
      id: String(r[0]),
      type: String(r[1]),
      status: String(r[2]) as JobStatus,
      namespace: r[3] as string | null,
      table: r[4] as string | null,
      parameters: r[5] as string | null,
      message: r[6] as string | null,
      retryCount: Number(r[7]),
      createdAt: Number(r[8]),
      startedAt: ms(r[9]),
      finishedAt: ms(r[10]),
      tookMs: ms(r[11]),
    }));
  }

  /** Resolves when no job is waiting, delayed or running (tests, shutdown). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops starting jobs, aborts running ones (they resume at the next open). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const e of this.#delayed.values()) clearTimeout(e.timer);
    this.#delayed.clear();
    this.#waiting = [];
    for (const e of this.#running.values()) e.controller?.abort();
    await this.idle();
  }

  #isIdle(): boolean {
    return this.#waiting.length === 0 && this.#running.size === 0 && this.#delayed.size === 0;
  }

  #pump(): void {
    const busy = new Map<string, number>();
    for (const e of this.#running.values()) {
      const lane = this.#lanes.get(e.job.type) ?? "";
      busy.set(lane, (busy.get(lane) ?? 0) + 1);
    }
    for (let i = 0; !this.#closed && i < this.#waiting.length;) {
      const entry = this.#waiting[i];
      const lane = this.#lanes.get(entry.job.type) ?? "";
      if (entry.unrecorded || (busy.get(lane) ?? 0) >= this.#concurrency) {
        i++;
        continue;
      }
      busy.set(lane, (busy.get(lane) ?? 0) + 1);
      this.#waiting.splice(i, 1);
      this.#running.set(entry.job.id, entry);
      this.#start(entry);
    }
    if (this.#isIdle()) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #start(entry: Entry): Promise<void> {
    const { job } = entry;
    const controller = new AbortController();
    entry.controller = controller;
    const started = performance.now();
    let done: (() => Promise<void>) | undefined;
    try {
      await this.#write("UPDATE jobs SET status = 'running', started_at = ? WHERE job_id = ?", [
        Date.now(),
        job.id,
      ]);
      let outcome: JobOutcome;
      try {
        outcome = await this.#work.get(job.type)!(job, controller.signal);
      } catch (err) {
        if (!controller.signal.aborted) await this.#failed(job, err, started);
        // Aborted: KILL JOB already recorded `cancelled`; at close the job stays active to resume.
        return;
      }
      if (!controller.signal.aborted) {
        const status = outcome.skipped ? "skipped" : "completed";
        const tookMs = elapsedMs(started);
        // The work is done: when its record cannot be written, only the record is retried.
        done = () => this.#finish(job.id, status, outcome.message, tookMs);
        await done();
      }
    } catch (err) {
      // The jobs table itself could not be written (the SQLite disk full): try again later.
      logError(`job ${job.id} bookkeeping`, err);
      if (done) this.#recordLater(done, 1);
      else if (!controller.signal.aborted) this.#retryLater(job, job.retryCount);
    } finally {
      this.#running.delete(job.id);
      this.#pump();
    }
  }

  /** A failed attempt: `retrying` with a delay while retries are left (or always), else `failed`. */
  async #failed(job: Job, err: unknown, started: number): Promise<void> {
    const always = this.#retryAlways.get(job.type)?.(err) ?? false;
    if (!always && job.retryCount >= this.#maxRetries) {
      await this.#finish(job.id, "failed", reason(err), elapsedMs(started));
      return;
    }
    const retryCount = job.retryCount + 1;
    await this.#write(
      "UPDATE jobs SET status = 'retrying', retry_count = ?, message = ? WHERE job_id = ?",
      [retryCount, `attempt ${retryCount} failed: ${reason(err)}`, job.id],
    );
    this.#retryLater(job, retryCount);
  }

  /** Writes a finished job's record once the disk takes it (backing off like a retry). */
  #recordLater(record: () => Promise<void>, attempt: number): void {
    if (this.#closed) return;
    const delay = Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** Math.min(30, attempt - 1));
    setTimeout(() => {
      record().catch(() => this.#recordLater(record, attempt + 1));
    }, delay);
  }

  /** Queues `job` again after the backoff for its `retryCount`-th retry. */
  #retryLater(job: Job, retryCount: number): void {
    if (this.#closed) return;
    const retry = { job: { ...job, retryCount } };
    const delay = Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** Math.min(30, retryCount - 1));
    this.#delayed.set(job.id, {
      ...retry,
      timer: setTimeout(() => {
        this.#delayed.delete(job.id);
        this.#waiting.push(retry);
        this.#pump();
      }, Math.max(this.#backoffMs, delay)),
    });
  }

  #finish(id: string, status: JobStatus, message: string, tookMs: number | undefined) {
    return this.#write(
      `UPDATE jobs SET status = ?, message = ?, finished_at = ?, took_ms = ? WHERE job_id = ?`,
      [status, message, Date.now(), tookMs ?? null, id],
    );
  }

  /** Job bookkeeping: one urgent statement of a group commit (ahead of queued requests). */
  async #write(sql: string, params: (string | number | null)[]): Promise<void> {
    await this.#group.run(() => this.#store.writer(sql).run(...params), true);
  }
}

function jobOf(r: unknown[]): Job {
  return {
    id: String(r[0]),
    type: String(r[1]),
    namespace: (r[2] as string | null) ?? undefined,
    table: (r[3] as string | null) ?? undefined,
    parameters: r[4] ? JSON.parse(String(r[4])) : undefined,
    retryCount: Number(r[5]),
  };
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
