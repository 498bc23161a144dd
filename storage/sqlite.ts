// The one SQLite database of a data directory (WAL): catalog, write buffer and change log live
// together so that a write and its catalog checks commit in one transaction. Two connections:
// the writer (every write, inside group-commit transactions) and the reader (SELECTs see only
// committed data, never another statement's uncommitted group).

import { DatabaseSync, type StatementSync } from "node:sqlite";

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
CREATE INDEX IF NOT EXISTS changelog_by_table ON changelog (table_id, seq);
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

function asArrays(st: StatementSync): ArrayStatement {
  (st as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  return st as unknown as ArrayStatement;
}

function connect(path: string, durability: Durability): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${durability.toUpperCase()};
    PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY;
    PRAGMA cache_size = -65536;`);
  return db;
}

/**
 * The open SQLite file with its two connections and a statement cache per connection.
 * Integers are read as bigint where they may exceed 2^53 (seq, row ids) and converted by callers.
 */
export class SqliteStore {
  readonly writer: DatabaseSync;
  readonly reader: DatabaseSync;
  #cache = new Map<string, StatementSync>();
  #readCache = new Map<string, StatementSync>();
  #arrays = new Map<string, ArrayStatement>();

  constructor(path: string, durability: Durability = "full") {
    this.writer = connect(path, durability);
    this.writer.exec(SCHEMA);
    this.reader = connect(path, durability);
  }

  /** A cached prepared statement on the writer connection (reads bigints). */
  w(sql: string): StatementSync {
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
    const key = (writer ? "w:" : "r:") + sql;
    let st = this.#arrays.get(key);
    if (!st) {
      const raw = (writer ? this.writer : this.reader).prepare(sql);
      raw.setReadBigInts(true);
      st = asArrays(raw);
      this.#arrays.set(key, st);
    }
    return st;
  }

  close(): void {
    this.#arrays.clear();
    this.#cache.clear();
    this.#readCache.clear();
    try {
      this.reader.close();
    } finally {
      this.writer.close();
    }
  }
}
