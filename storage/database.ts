// The Database facade: owns one data directory (lock, SQLite store, catalog, buffer, id
// generator, group commit) and executes SQL batches. Statements run in order and stop at the
// first error; each statement is atomic. Parsed batches are cached by text, so a repeated
// parameterised statement costs no parsing.

import { type Cancel, nowNs, type Statement, type Value } from "../sql/mod.ts";
import type { Role, UserRole } from "../auth/mod.ts";
import { DbError, toDbError } from "../errors.ts";
import {
  ackStatement,
  alterStorage,
  alterTable,
  alterTopic,
  alterUser,
  authorizeStatement,
  type BatchResult,
  clearTopic,
  compactStatement,
  consumeStatement,
  createNamespace,
  createStorage,
  createTable,
  createTopic,
  createUser,
  deleteRows,
  describe,
  dropNamespace,
  dropStorage,
  dropTable,
  dropTopic,
  dropUser,
  type ExecuteOptions,
  exportFile,
  exportStatement,
  flushStatement,
  type Handler,
  insert,
  killStatement,
  type Outcome,
  publishStatement,
  registerJobs,
  select,
  type Session,
  show,
  startAutoFlush,
  type StatementContext,
  type StatementResult,
  type StoreParts,
  subscribeStatement,
  update,
} from "./statements/mod.ts";
import {
  Catalog,
  ChangeFeed,
  ChangeLog,
  type Durability,
  GroupCommit,
  LiveBridge,
  lockDataDir,
  Snowflake,
  SqliteStore,
  WriteBuffer,
} from "./hot/mod.ts";
import { StorageHooks } from "./hooks.ts";
import { LiveSource } from "./live_source.ts";
import { ColdTier } from "./cold/mod.ts";
import type { ObjectStore } from "./object_store/mod.ts";
import { JobRunner } from "./jobs/mod.ts";
import { ExportsTable } from "./export/mod.ts";
import { Topics } from "./topics/mod.ts";
import { fixDataDirModesSync, makeDataDirSync } from "./_modes.ts";
import { elapsedMs } from "./_time.ts";
import { logError } from "../log.ts";
import { ParseCache } from "./parse_cache.ts";

export interface DatabaseOptions {
  /** Data directory; created when missing. */
  readonly dataDir: string;
  /** Snowflake node id, 0–1023. */
  readonly nodeId?: number;
  /** `full` (default) fsyncs every group commit; `normal` survives process crashes only. */
  readonly durability?: Durability;
  /**
   * Many independent writers (the server): group commits wait for the end of the event-loop
   * turn so concurrent requests share one fsync. Embedded batches leave it off.
   */
  readonly concurrentWriters?: boolean;
  /** Change-log entries are kept at least this long for live-query resume (default 24 h). */
  readonly changeLogRetentionMs?: number;
  /** …and at most this many (default 10 million); older ones are trimmed first. */
  readonly changeLogMaxEntries?: number;
  /** A written export is deleted this long after it was written (default 7 days). */
  readonly exportRetentionMs?: number;
  /**
   * Row versions one table's buffer may hold waiting for a flush (default 10 million); past it
   * writes to that table are STORAGE_ERROR until a flush succeeds. 0 = no bound.
   */
  readonly maxBufferedRows?: number;
  /**
   * Wraps every object store the database opens, like SQLite's test VFS shims: the reliability
   * suite injects storage faults with it (a refused write, a write that landed but reported
   * failure). Not for production use.
   */
  readonly objectStoreShim?: (storageId: string, store: ObjectStore) => ObjectStore;
  /**
   * Literal SQL shares the parse and plan of texts that differ only in literals (default true;
   * false for tests that compare both ways).
   */
  readonly parameterizeLiterals?: boolean;
}

type Handlers = { [K in Statement["kind"]]: Handler<K> };

const HANDLERS: Omit<Handlers, "execute_as"> = {
  select,
  insert,
  update,
  delete: deleteRows,
  create_namespace: createNamespace,
  drop_namespace: dropNamespace,
  create_table: createTable,
  drop_table: dropTable,
  alter_table: alterTable,
  create_storage: createStorage,
  alter_storage: alterStorage,
  drop_storage: dropStorage,
  create_user: createUser,
  alter_user: alterUser,
  drop_user: dropUser,
  show,
  describe,
  flush: flushStatement,
  compact: compactStatement,
  kill: killStatement,
  export_user_data: exportStatement,
  subscribe: subscribeStatement,
  create_topic: createTopic,
  drop_topic: dropTopic,
  clear_topic: clearTopic,
  alter_topic: alterTopic,
  publish: publishStatement,
  consume: consumeStatement,
  ack: ackStatement,
};

/** Far above any flush policy's threshold: reached only when flushes fail for long. */
const DEFAULT_MAX_BUFFERED_ROWS = 10_000_000;

/** Each open Database's parts, for storage's own tests (`partsOf`); the door does not export it. */
const engines = new WeakMap<Database, StoreParts>();

/** The parts of a Database: for tests inside storage/ only (outside, use `db.hooks`). */
export function partsOf(db: Database): StoreParts {
  const e = engines.get(db);
  if (!e) throw new Error("not a Database");
  return e;
}

/**
 * One open data directory.
 *
 * @example
 * const db = await Database.open({ dataDir: "./data" });
 * const { results } = await db.execute("SELECT * FROM system.namespaces");
 * await db.close();
 */
export class Database {
  readonly dataDir: string;
  #engine: StoreParts;
  #hooks?: StorageHooks;
  #live?: LiveSource;
  #unlock: () => void;
  #stopAutoFlush: () => void;
  #parsed: ParseCache;
  #closed = false;

  private constructor(
    dataDir: string,
    engine: StoreParts,
    unlock: () => void,
    parameterize: boolean,
  ) {
    this.#parsed = new ParseCache(parameterize);
    this.dataDir = dataDir;
    this.#engine = engine;
    engines.set(this, engine);
    this.#unlock = unlock;
    this.#stopAutoFlush = startAutoFlush(engine);
  }

  /** Opens (creating when needed) a data directory; throws STORAGE_ERROR when another process owns it. */
  static open(options: DatabaseOptions): Promise<Database> {
    const dir = options.dataDir;
    let unlock: () => void;
    try {
      makeDataDirSync(dir);
      unlock = lockDataDir(dir);
    } catch (err) {
      return Promise.reject(err); // a Promise-returning open never throws synchronously
    }
    try {
      fixDataDirModesSync(dir); // SPEC §12: a data dir of an older version had 0755 / 0644
      const store = new SqliteStore(`${dir}/kalamdb.sqlite`, options.durability ?? "full");
      const catalog = new Catalog(store);
      const changeLog = new ChangeLog(store);
      const buffer = new WriteBuffer(store, changeLog);
      const ids = new Snowflake(options.nodeId ?? 0, changeLog.maxSeq());
      let seqBeforeGroup = 0n;
      const group = new GroupCommit(
        store.connection,
        {
          begin: () => seqBeforeGroup = ids.last(),
          statement: () => buffer.counts.statementStarted(),
          rollback: (whole) => {
            catalog.resync(whole);
            buffer.counts.rolledBack(whole);
          },
          commit: () => buffer.counts.committed(),
        },
        options.concurrentWriters ?? false,
      );
      const cold = new ColdTier(catalog, buffer, changeLog, store, group, ids);
      cold.wrapStore = options.objectStoreShim;
      const jobs = new JobRunner(store, group);
      const changes = new ChangeFeed();
      const engine: StoreParts = {
        dataDir: dir,
        store,
        catalog,
        buffer,
        changeLog,
        ids,
        group,
        cold,
        jobs,
        exports: new ExportsTable(store, group),
        topics: new Topics(store, group, dir),
        changes,
        live: new LiveBridge(),
        committedSeq: () => group.inTransaction ? seqBeforeGroup : ids.last(),
        exportRetentionMs: options.exportRetentionMs ?? 7 * 86400_000,
        maxBufferedRows: options.maxBufferedRows ?? DEFAULT_MAX_BUFFERED_ROWS,
        changeRetention: {
          retentionMs: options.changeLogRetentionMs ?? 24 * 3600_000,
          maxEntries: options.changeLogMaxEntries ?? 10_000_000,
        },
      };
      bootstrap(engine);
      registerJobs(engine);
      jobs.resume();
      return Promise.resolve(
        new Database(dir, engine, unlock, options.parameterizeLiterals ?? true),
      );
    } catch (err) {
      unlock();
      throw err instanceof DbError ? err : new DbError(
        "STORAGE_ERROR",
        `Cannot open data directory ${dir}: ${(err as Error).message}`,
      );
    }
  }

  /** A stored user (with its password hash and creation time in ms, for authentication). */
  user(
    name: string,
  ): { name: string; role: UserRole; passwordHash: string | null; createdAt: number } | undefined {
    const u = this.#engine.catalog.user(name);
    return u &&
      {
        name: u.name,
        role: u.role as UserRole,
        passwordHash: u.passwordHash,
        createdAt: u.createdAt,
      };
  }

  /** A written export's owner, zip path and size (the download route), or undefined. */
  exportFile(exportId: string): { user: string; path: string; bytes: number } | undefined {
    return exportFile(this.#engine, exportId);
  }

  /** Named hooks for tests and benchmarks (flush now, wait for jobs, inspect tiers). */
  get hooks(): StorageHooks {
    return this.#hooks ??= new StorageHooks(this.#engine);
  }

  /** What a live-query registry reads: snapshots, the change log and the change feed. */
  get live(): LiveSource {
    return this.#live ??= new LiveSource(this.#engine);
  }

  /** Runs a batch of statements as `options.user` (default root). */
  async execute(sql: string, options: ExecuteOptions = {}): Promise<BatchResult> {
    const started = performance.now();
    const results: StatementResult[] = [];
    let session: Session = options.principal ?? { user: options.user ?? "root", role: "user" };
    // EXECUTE AS changes the effective user of its one statement only; `asUser` reports it.
    let asUser = session.user;
    let error: DbError | undefined;
    const errors: DbError[] = [];
    const finish = (): BatchResult => ({
      results,
      error,
      errors: error && errors.length === 0 ? [error] : errors,
      asUser,
      tookMs: elapsedMs(started),
    });
    if (this.#closed) {
      error = new DbError("STORAGE_ERROR", "The database is closed");
      return finish();
    }
    try {
      if (!options.principal) session = this.#session(session.user);
      asUser = session.user;
    } catch (err) {
      error = toDbError(err);
      return finish();
    }
    const given = (options.params ?? []) as Value[];
    const parsed = this.#parsed.get(sql, given.length > 0);
    const { statements, error: parseError } = parsed;
    if (statements.length === 0 && !parseError) {
      error = new DbError("EMPTY_SQL", "No SQL statement given");
      return finish();
    }
    const params = (parsed.params ?? given) as Value[];
    const signal = options.timeoutMs === undefined
      ? options.signal
      : new Deadline(options.signal, options.timeoutMs);
    if (given.length && statements.length + (parseError ? 1 : 0) > 1) {
      error = new DbError(
        "INVALID_PARAMETER",
        "Parameters are only allowed with a single statement",
      );
      return finish();
    }
    for (let i = 0; i < statements.length; i++) {
      const parsed = statements[i];
      const t0 = performance.now();
      try {
        const { outcome, user } = await this.#run(
          parsed.statement,
          session,
          params,
          signal,
          options.wsUrl,
        );
        asUser = user;
        results.push({ statement: i + 1, ...outcome, tookMs: elapsedMs(t0) });
      } catch (err) {
        const e = toDbError(err);
        if (!(err instanceof DbError)) logError("statement", err);
        e.statement = i + 1;
        if (e.line === undefined) {
          e.line = parsed.span.line;
          e.column = parsed.span.column;
        }
        error ??= e;
        errors.push(e);
        if (!options.continueOnError) return finish();
      }
    }
    if (parseError) {
      error ??= parseError;
      errors.push(parseError);
    }
    return finish();
  }

  #session(user: string): Session {
    const u = this.#engine.catalog.user(user);
    if (!u) throw new DbError("NOT_FOUND", `User "${user}" does not exist`);
    return { user, role: u.role as Role };
  }

  async #run(
    stmt: Statement,
    session: Session,
    params: readonly Value[],
    signal: Cancel | undefined,
    wsUrl?: () => string,
  ): Promise<{ outcome: Outcome; user: string }> {
    const { catalog } = this.#engine;
    // Permission before existence: nothing below resolves a name the caller may not use.
    authorizeStatement(catalog, session, stmt);
    if (stmt.kind === "execute_as") {
      const target = catalog.user(stmt.user);
      if (!target) throw new DbError("NOT_FOUND", `User "${stmt.user}" does not exist`);
      const inner = await this.#run(
        stmt.statement,
        { user: target.name, role: target.role as Role, impersonated: true },
        params,
        signal,
        wsUrl,
      );
      return { outcome: inner.outcome, user: target.name };
    }
    const ctx: StatementContext = {
      engine: this.#engine,
      session,
      params,
      signal,
      now: nowNs(),
      wsUrl,
    };
    const handler = HANDLERS[stmt.kind] as Handler<typeof stmt.kind>;
    return { outcome: await handler(stmt as never, ctx), user: session.user };
  }

  /** Ends every waiting CONSUME now (with what it has: nothing) and lets none wait again. */
  endWaits(): void {
    this.#engine.topics.endWaits();
  }

  /** Commits what is pending, closes SQLite and releases the data-directory lock. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#stopAutoFlush();
      this.#engine.topics.endWaits();
      await this.#engine.jobs.close();
      await this.#engine.cold.close();
      this.#engine.group.flush();
      this.#engine.store.close();
    } finally {
      this.#unlock();
    }
  }
}

/**
 * A statement deadline: reads as aborted once `ms` have passed (or `signal` aborted). Execution
 * polls `aborted` between batches of rows, so comparing the clock there needs no timer per
 * statement; one class keeps the property access monomorphic on the hot path.
 */
class Deadline implements Cancel {
  readonly #signal: Cancel | undefined;
  readonly #at: number;

  constructor(signal: Cancel | undefined, ms: number) {
    this.#signal = signal;
    this.#at = Date.now() + ms; // a builtin, where performance.now() is a call into the runtime
  }

  get aborted(): boolean {
    return (this.#signal?.aborted ?? false) || Date.now() >= this.#at;
  }
}

/** First-start state: the `local` storage and `root` (role system, empty password). */
function bootstrap(e: StoreParts): void {
  const now = Date.now();
  if (!e.catalog.storage("local")) {
    e.catalog.putStorage({
      id: "local",
      type: "filesystem",
      config: {
        PATH: `${e.dataDir}/storage`,
        SHARED_TABLES_TEMPLATE: "{namespace}/{table}",
        USER_TABLES_TEMPLATE: "{namespace}/{table}/{user_id}",
      },
      createdAt: now,
      updatedAt: now,
    }, null);
  }
  if (!e.catalog.user("root")) {
    e.catalog.putUser({
      name: "root",
      role: "system",
      passwordHash: null,
      email: null,
      createdAt: now,
      updatedAt: now,
    });
  }
}
