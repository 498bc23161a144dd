// Group commit: write statements run one at a time on the writer connection, each inside its
// own SAVEPOINT (so a failing statement changes nothing), and statements that queue up while
// another runs share one transaction. Every statement's promise resolves only after the COMMIT
// that made it durable — acknowledged means committed — and after-commit hooks (live queries)
// run in commit order. With `defer` (the server), the COMMIT of an idle group waits for the end
// of the current event-loop turn, so writes from concurrent requests (each arriving in its own
// task) share one fsync; embedded batches commit at once, so a sequential writer never waits.
// The disk failing (full, I/O error, read-only) is STORAGE_ERROR. When SQLite has rolled the
// whole transaction back by itself (a disk full in the middle of a statement does that), every
// statement of the group fails with it — none was acknowledged — and the next write starts a
// new group.

import type { DatabaseSync } from "node:sqlite";
import { DbError } from "../../errors.ts";
import { setImmediate } from "node:timers";
import { releaseReadSnapshot } from "./sqlite.ts";
import { logError } from "../../log.ts";

/** A group never holds more statements than this, so acknowledgement latency stays bounded. */
const MAX_GROUP = 512;

/** What the group reports to caches that must follow the transaction (catalog, counters). */
export interface GroupHooks {
  /** A group's transaction began (nothing of it is committed yet). */
  begin?(): void;
  /** A statement's savepoint was taken (its changes may still roll back alone). */
  statement?(): void;
  /** A statement (`whole` false) or a whole group (`whole` true) was rolled back. */
  rollback(whole: boolean): void;
  /** A group committed. */
  commit?(): void;
}

/** SQLite's primary result codes for a disk that refuses writes: READONLY, IOERR, FULL, CANTOPEN. */
const DISK_CODES = new Set([8, 10, 13, 14]);

/** `err` as the STORAGE_ERROR a client sees when it is the disk's failure; else `err` itself. */
export function diskFailure(err: unknown, what: string): unknown {
  const code = (err as { errcode?: unknown })?.errcode;
  if (typeof code !== "number" || !DISK_CODES.has(code & 0xff)) return err;
  const failure = new DbError("STORAGE_ERROR", `${what} failed: ${(err as Error).message}`);
  failure.transient = true;
  return failure;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export class GroupCommit {
  #db: DatabaseSync;
  #hooks: GroupHooks;
  #locked = false;
  #queue: (() => void)[] = [];
  #open = false;
  #waiters: Waiter[] = [];
  /** After-commit callbacks of the open group's statements. */
  #after: (() => void)[] = [];
  #defer: boolean;
  #scheduled = false;

  /**
   * `hooks` follow statements, rollbacks and commits so caches can resync. `defer` delays an
   * idle group's COMMIT to the end of the turn.
   */
  constructor(db: DatabaseSync, hooks: GroupHooks, defer = false) {
    this.#db = db;
    this.#hooks = hooks;
    this.#defer = defer;
  }

  /**
   * Runs `fn` as one atomic statement of the current group and resolves with its result once the
   * group has committed. `fn` may register after-commit hooks with `afterCommit`. An `urgent`
   * statement (the background work that keeps the buffer bounded: flush steps, job bookkeeping)
   * goes ahead of the queued requests and commits its group at once, so a flush under a thousand
   * clients does not wait behind each of them at every one of its steps.
   */
  async run<T>(fn: () => T | Promise<T>, urgent = false): Promise<T> {
    await this.#acquire(urgent);
    let result: T;
    let failed = true;
    let done: Promise<void> | undefined;
    try {
      if (this.#open && this.#waiters.length >= MAX_GROUP) this.#commit();
      if (!this.#open) {
        this.#db.exec("BEGIN IMMEDIATE");
        this.#open = true;
        this.#hooks.begin?.();
      }
      this.#db.exec("SAVEPOINT stmt");
      this.#hooks.statement?.();
      const hooks = this.#after.length;
      try {
        result = await fn();
        this.#db.exec("RELEASE stmt");
        failed = false;
      } catch (err) {
        if (!this.#db.isTransaction) {
          const failure = diskFailure(err, "Write");
          this.#abandon(failure);
          throw failure;
        }
        this.#db.exec("ROLLBACK TO stmt");
        this.#db.exec("RELEASE stmt");
        this.#after.length = hooks;
        this.#hooks.rollback(false);
        throw diskFailure(err, "Write");
      }
      if (urgent) {
        done = this.#waitForCommit();
        this.#commit();
      }
    } finally {
      this.#release();
      // A failed statement still ends the group when nobody else is queued behind it.
      if (failed && !this.#locked && this.#open) this.#commitSoon();
    }
    if (!done) {
      done = this.#waitForCommit();
      if (!this.#locked && this.#open) this.#commitSoon();
    }
    await done;
    return result;
  }

  /**
   * Runs `fn` (synchronous) as its own transaction, committed without waiting for the disk when
   * the writer is idle: for writes a power cut may undo harmlessly because they are redone (a
   * flush's deletes of rows already in a segment). A later durable commit makes it durable too
   * (the WAL is written in order). When other writes are open or queued it joins their group
   * and its fsync, like `run`.
   */
  runRelaxed<T>(fn: () => T): Promise<T> {
    if (this.#locked || this.#open) return this.run(fn, true);
    const sync = this.#db.prepare("PRAGMA synchronous").get() as { synchronous: number };
    this.#locked = true;
    try {
      this.#db.exec("PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE");
      this.#hooks.statement?.();
      let result: T;
      try {
        result = fn();
        releaseReadSnapshot(this.#db);
        this.#db.exec("COMMIT");
        this.#hooks.commit?.();
      } catch (err) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        this.#hooks.rollback(true);
        throw diskFailure(err, "Write");
      }
      return Promise.resolve(result);
    } catch (err) {
      return Promise.reject(err);
    } finally {
      this.#db.exec(`PRAGMA synchronous = ${sync.synchronous}`);
      this.#release();
    }
  }

  /** Runs `hook` after the current statement's group commits (dropped if it rolls back). */
  afterCommit(hook: () => void): void {
    this.#after.push(hook);
  }

  /** Commits an idle group now, or (deferred) once the current turn's requests had their say. */
  #commitSoon(): void {
    if (!this.#defer) return this.#commit();
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#locked && this.#open) this.#commit();
    });
  }

  /** True while a group's transaction is open: its writes are not committed yet. */
  get inTransaction(): boolean {
    return this.#open;
  }

  /** Commits whatever is open (at close). */
  flush(): void {
    if (this.#open) this.#commit();
  }

  /** SQLite rolled the open group back by itself: its statements all fail with `failure`. */
  #abandon(failure: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    this.#after = [];
    this.#open = false;
    this.#hooks.rollback(true);
    for (const w of waiters) w.reject(failure);
  }

  #commit(): void {
    const waiters = this.#waiters;
    const hooks = this.#after;
    this.#waiters = [];
    this.#after = [];
    this.#open = false;
    try {
      // The reader's snapshot predates this commit: end it so the next read sees the commit,
      // and so the checkpoint that COMMIT may run is not held back by it.
      releaseReadSnapshot(this.#db);
      this.#db.exec("COMMIT");
      this.#hooks.commit?.();
    } catch (err) {
      try {
        this.#db.exec("ROLLBACK");
      } catch { /* already rolled back */ }
      this.#hooks.rollback(true);
      const failure = new DbError(
        "STORAGE_ERROR",
        `Commit failed: ${(err as Error).message}`,
      );
      failure.transient = true;
      for (const w of waiters) w.reject(failure);
      return;
    }
    for (const h of hooks) {
      try {
        h();
      } catch (err) {
        logError("after-commit hook", err);
      }
    }
    for (const w of waiters) w.resolve();
  }

  #waitForCommit(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #acquire(urgent: boolean): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      urgent ? this.#queue.unshift(resolve) : this.#queue.push(resolve)
    );
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next(); // hand over: stays locked, the group stays open
    else this.#locked = false;
  }
}
