// The one SQLite database of a data directory (WAL): catalog, write buffer and change log live
// together so that a write and its catalog checks commit in one transaction. Two connections:
// the writer (every write, inside group-commit transactions) and the reader (SELECTs see only
// committed data, never another statement's uncommitted group).
//
// Design decision: the reader keeps one read transaction open between commits instead of paying
// an implicit one per statement (more than half the cost of a primary-key lookup). The snapshot
// is released before every commit on the writer (group commit calls `releaseReadSnapshot`) and
// whenever a writer statement is fetched (autocommit writes), so it always includes every
// committed write, and checkpoints are never held back by it. Reader statements must therefore
// run to completion in the synchronous step that fetched them (`get`/`all`, not a suspended
// `iterate`).

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { prepareDatabaseFileSync } from "../_modes.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS namespaces (
  name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tables (
  table_id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, name TEXT NOT NULL,
  table_type TEXT NOT NULL, storage_id TEXT NOT NULL, access_level TEXT,
  flush_policy TEXT, ttl_seconds INTEGER, schema_version INTEGER NOT NULL,
  created_at INTEGER NOT NULL, UNIQUE (namespace, name));
CREATE TABLE IF NOT EXISTS table_schemas (
  table_id INTEGER NOT NULL, version INTEGER NOT NULL, columns TEXT NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (table_id, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS storages (
  storage_id TEXT PRIMARY KEY, storage_type TEXT NOT NULL, config TEXT NOT NULL,
  credentials TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT, email TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS buffer (
  table_id INTEGER NOT NULL, user_id TEXT NOT NULL, row_id NOT NULL, storage_id TEXT NOT NULL,
  seq INTEGER NOT NULL, deleted INTEGER NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (table_id, user_id, row_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changelog (
  seq INTEGER PRIMARY KEY, table_id INTEGER NOT NULL, user_id TEXT NOT NULL, op INTEGER NOT NULL,
  version INTEGER NOT NULL, row BLOB, old_row BLOB);
-- No index by table: every write would pay for it, and the readers (resume: seq > X AND
-- table_id = T) walk the primary key from X. DROP TABLE's cleanup scans, which is rare.
DROP INDEX IF EXISTS changelog_by_table;
CREATE TABLE IF NOT EXISTS jobs (
  job_id TEXT PRIMARY KEY, job_type TEXT NOT NULL, status TEXT NOT NULL, namespace TEXT,
  table_name TEXT, parameters TEXT, message TEXT, retry_count INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER, took_ms REAL);
`;

export type Durability = "full" | "normal";

type Param = null | number | bigint | string | Uint8Array;

/** A prepared statement that returns rows as arrays (node:sqlite's setReturnArrays). */
export interface ArrayStatement {
  get(...params: Param[]): unknown[] | undefined;
  all(...params: Param[]): unknown[][];
  iterate(...params: Param[]): IterableIterator<unknown[]>;
}

export function asArrays(st: StatementSync): ArrayStatement {
  (st as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  return st as unknown as ArrayStatement;
}

/** Writer connection → its store, for `releaseReadSnapshot`. */
const stores = new WeakMap<DatabaseSync, SqliteStore>();

/** Ends the reader's snapshot of the store whose writer is `writer`; call it before COMMIT. */
export function releaseReadSnapshot(writer: DatabaseSync): void {
  stores.get(writer)?.releaseSnapshot();
}

function connect(path: string, durability: Durability): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;
    PRAGMA synchronous = ${durability.toUpperCase()}; PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY;
    PRAGMA cache_size = -65536;`);
  return db;
}

/**
 * The open SQLite file with its two connections and a statement cache per connection.
 * Integers are read as bigint where they may exceed 2^53 (seq, row ids) and converted by callers.
 */
export class SqliteStore {
  /** The database file (a flush worker opens its own connection to it). */
  readonly path: string;
  readonly writer: DatabaseSync;
  readonly reader: DatabaseSync;
  #cache = new Map<string, StatementSync>();
  #readCache = new Map<string, StatementSync>();
  #arrays = new Map<string, ArrayStatement>();
  #writerArrays = new Map<string, ArrayStatement>();
  /** The reader is inside its read transaction. */
  #snapshot = false;

  constructor(path: string, durability: Durability = "full") {
    this.path = path;
    prepareDatabaseFileSync(path); // 0600 before SQLite creates it (and its -wal, -shm) 0644
    this.writer = connect(path, durability);
    this.writer.exec(SCHEMA);
    this.reader = connect(path, durability);
    stores.set(this.writer, this);
  }

  /** Opens the reader's snapshot when none is open (it then sees every committed write). */
  #read(): void {
    if (this.#snapshot) return;
    this.reader.exec("BEGIN");
    this.#snapshot = true;
  }

  /** Ends the reader's snapshot, if open: the next read sees writes committed from now on. */
  releaseSnapshot(): void {
    if (!this.#snapshot) return;
    this.#snapshot = false;
    this.reader.exec("COMMIT");
  }

  /** A cached prepared statement on the writer connection (reads bigints). */
  w(sql: string): StatementSync {
    // The statement may autocommit a write (outside group commit): end the reader's snapshot.
    this.releaseSnapshot();
    let st = this.#cache.get(sql);
    if (!st) {
      st = this.writer.prepare(sql);
      st.setReadBigInts(true);
      this.#cache.set(sql, st);
    }
    return st;
  }

  /** A cached prepared statement on the reader connection (reads bigints). */
  r(sql: string): StatementSync {
    this.#read();
    let st = this.#readCache.get(sql);
    if (!st) {
      st = this.reader.prepare(sql);
      st.setReadBigInts(true);
      this.#readCache.set(sql, st);
    }
    return st;
  }

  /** A cached array-returning statement on the writer (`writer`) or the reader connection. */
  rows(sql: string, writer = false): ArrayStatement {
    // One map per connection keyed by the SQL itself: hot paths pass constant strings, whose
    // hash V8 caches, so a lookup costs no string building.
    if (!writer) this.#read();
    const cache = writer ? this.#writerArrays : this.#arrays;
    let st = cache.get(sql);
    if (!st) {
      const raw = (writer ? this.writer : this.reader).prepare(sql);
      raw.setReadBigInts(true);
      st = asArrays(raw);
      cache.set(sql, st);
    }
    return st;
  }

  /**
   * While another thread checkpoints the WAL (the flush reader), commits leave it to that thread
   * and checkpoint themselves only past a much larger WAL (a safety net if it falls behind).
   */
  checkpointElsewhere(elsewhere: boolean): void {
    this.writer.exec(`PRAGMA wal_autocheckpoint = ${elsewhere ? 4096 : 1000}`);
  }

  close(): void {
    this.#snapshot = false;
    this.#arrays.clear();
    this.#writerArrays.clear();
    this.#cache.clear();
    this.#readCache.clear();
    try {
      this.reader.close();
    } finally {
      this.writer.close();
    }
  }
}
