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
import type { Value } from "../../sql/mod.ts";
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
CREATE TABLE IF NOT EXISTS cold_scopes (
  table_id INTEGER NOT NULL, user_id TEXT NOT NULL, rows INTEGER NOT NULL,
  segments INTEGER NOT NULL, bytes INTEGER NOT NULL, last_flush_ms INTEGER NOT NULL,
  PRIMARY KEY (table_id, user_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS exports (
  export_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, job_id TEXT NOT NULL,
  created_at INTEGER NOT NULL, finished_at INTEGER, snapshot_seq TEXT, bytes INTEGER,
  path TEXT);
CREATE TABLE IF NOT EXISTS topics (
  topic_id INTEGER PRIMARY KEY AUTOINCREMENT, namespace TEXT NOT NULL, name TEXT NOT NULL,
  partitions INTEGER NOT NULL, retention_s INTEGER NOT NULL, visibility_s INTEGER NOT NULL,
  max_deliveries INTEGER NOT NULL, dead_letter TEXT, created_at INTEGER NOT NULL,
  UNIQUE (namespace, name));
CREATE TABLE IF NOT EXISTS topic_sources (
  table_id INTEGER NOT NULL, topic_id INTEGER NOT NULL, ops TEXT NOT NULL, where_sql TEXT,
  payload TEXT NOT NULL, created_at INTEGER NOT NULL,
  PRIMARY KEY (table_id, topic_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS topic_partitions (
  topic_id INTEGER NOT NULL, part INTEGER NOT NULL, next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic_id, part)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS topic_messages (
  topic_id INTEGER NOT NULL, part INTEGER NOT NULL, msg_offset INTEGER NOT NULL, key TEXT,
  op TEXT NOT NULL, user_id TEXT, payload TEXT NOT NULL, published_at INTEGER NOT NULL,
  message_id TEXT, PRIMARY KEY (topic_id, part, msg_offset)) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS topic_message_ids ON topic_messages (topic_id, message_id)
  WHERE message_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS topic_cursors (
  topic_id INTEGER NOT NULL, group_name TEXT NOT NULL, part INTEGER NOT NULL,
  next_offset INTEGER NOT NULL, PRIMARY KEY (topic_id, group_name, part)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS topic_deliveries (
  topic_id INTEGER NOT NULL, group_name TEXT NOT NULL, part INTEGER NOT NULL,
  msg_offset INTEGER NOT NULL, key TEXT, acked INTEGER NOT NULL, consumer TEXT,
  visible_at INTEGER NOT NULL, delivery_count INTEGER NOT NULL,
  PRIMARY KEY (topic_id, group_name, part, msg_offset)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS topic_segments (
  topic_id INTEGER NOT NULL, part INTEGER NOT NULL, first_offset INTEGER NOT NULL,
  last_offset INTEGER NOT NULL, rows INTEGER NOT NULL, path TEXT NOT NULL,
  min_published INTEGER NOT NULL, max_published INTEGER NOT NULL, users TEXT NOT NULL,
  PRIMARY KEY (topic_id, part, first_offset)) WITHOUT ROWID;
-- Deliveries: acked 0 = handed out (claimed, or waiting for redelivery), 2 = parked
-- (not handed out yet: an earlier message of its key is out), 3 = ready (parked, and its key
-- was freed: next to hand out). Per-key order asks whether a key is out, parked or ready; the
-- ack that frees a key marks its oldest parked message ready; claims take ready ones and due
-- redeliveries by index.
CREATE INDEX IF NOT EXISTS topic_deliveries_by_key
  ON topic_deliveries (topic_id, group_name, part, key) WHERE acked = 0 AND key IS NOT NULL;
DROP INDEX IF EXISTS topic_deliveries_parked;
CREATE INDEX IF NOT EXISTS topic_deliveries_waiting
  ON topic_deliveries (topic_id, group_name, part, key, msg_offset) WHERE acked >= 2;
CREATE INDEX IF NOT EXISTS topic_deliveries_ready
  ON topic_deliveries (topic_id, group_name, part, msg_offset) WHERE acked = 3;
CREATE INDEX IF NOT EXISTS topic_deliveries_due
  ON topic_deliveries (topic_id, group_name, part, visible_at) WHERE acked = 0;
`;

export type Durability = "full" | "normal";

/** What SQLite binds: booleans travel as 0/1 (see `toSqlParam`). */
export type SqlParam = null | number | bigint | string | Uint8Array;

/** A value as SQLite binds and stores it (booleans as 0/1): the one conversion at the seam. */
export function toSqlParam(v: Value): SqlParam {
  return typeof v === "boolean" ? (v ? 1 : 0) : v;
}

/** A prepared statement that returns rows as arrays (node:sqlite's setReturnArrays). */
export interface SqlStatement {
  run(...params: SqlParam[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: SqlParam[]): unknown[] | undefined;
  all(...params: SqlParam[]): unknown[][];
  iterate(...params: SqlParam[]): IterableIterator<unknown[]>;
}

/** A prepared statement that returns rows as records keyed by column (catalog loads). */
export interface RecordStatement {
  get(...params: SqlParam[]): Record<string, unknown> | undefined;
  all(...params: SqlParam[]): Record<string, unknown>[];
}

/** `raw` as an array-returning statement that reads integers as bigint. */
export function arrayStatement(raw: StatementSync): SqlStatement {
  raw.setReadBigInts(true);
  (raw as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  return raw as unknown as SqlStatement;
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
  /** The writer connection: group commit runs its transactions on it. */
  readonly connection: DatabaseSync;
  readonly #reader: DatabaseSync;
  #writerStatements = new Map<string, SqlStatement>();
  #readerStatements = new Map<string, SqlStatement>();
  #records = new Map<string, RecordStatement>();
  readonly #durability: Durability;
  /** The reader is inside its read transaction. */
  #snapshot = false;

  constructor(path: string, durability: Durability = "full") {
    this.path = path;
    this.#durability = durability;
    prepareDatabaseFileSync(path); // 0600 before SQLite creates it (and its -wal, -shm) 0644
    this.connection = connect(path, durability);
    this.connection.exec(SCHEMA);
    this.#reader = connect(path, durability);
    stores.set(this.connection, this);
  }

  /**
   * A further read-only connection to the file, for a reader that keeps one snapshot across
   * awaits (`WriteBuffer.snapshot`); the caller closes it.
   */
  openConnection(): DatabaseSync {
    const db = connect(this.path, this.#durability);
    db.exec("PRAGMA query_only = 1");
    return db;
  }

  /** Opens the reader's snapshot when none is open (it then sees every committed write). */
  #read(): void {
    if (this.#snapshot) return;
    this.#reader.exec("BEGIN");
    this.#snapshot = true;
  }

  /** Ends the reader's snapshot, if open: the next read sees writes committed from now on. */
  releaseSnapshot(): void {
    if (!this.#snapshot) return;
    this.#snapshot = false;
    this.#reader.exec("COMMIT");
  }

  /**
   * A cached statement on the writer connection: it sees the open write group's changes, and
   * runs writes (inside group commit, or autocommitted).
   */
  writer(sql: string): SqlStatement {
    // Outside a transaction the statement may autocommit a write: end the reader's snapshot so
    // later reads see it (inside one, group commit ends the snapshot before its COMMIT).
    if (this.#snapshot && !this.connection.isTransaction) this.releaseSnapshot();
    // One map per connection keyed by the SQL itself: hot paths pass constant strings, whose
    // hash V8 caches, so a lookup costs no string building.
    let st = this.#writerStatements.get(sql);
    if (!st) {
      st = arrayStatement(this.connection.prepare(sql));
      this.#writerStatements.set(sql, st);
    }
    return st;
  }

  /** A cached statement on the reader connection: a snapshot of committed writes only. */
  reader(sql: string): SqlStatement {
    this.#read();
    let st = this.#readerStatements.get(sql);
    if (!st) {
      st = arrayStatement(this.#reader.prepare(sql));
      this.#readerStatements.set(sql, st);
    }
    return st;
  }

  /** A cached statement on the writer returning records keyed by column name (catalog loads). */
  records(sql: string): RecordStatement {
    let st = this.#records.get(sql);
    if (!st) {
      const raw = this.connection.prepare(sql);
      raw.setReadBigInts(true);
      st = raw as unknown as RecordStatement;
      this.#records.set(sql, st);
    }
    return st;
  }

  /** A value of the `meta` table (the store's own key-value settings), or undefined. */
  meta(key: string): string | undefined {
    const r = this.writer("SELECT value FROM meta WHERE key = ?").get(key);
    return r ? String(r[0]) : undefined;
  }

  /** Sets a `meta` value (inside a write). */
  setMeta(key: string, value: string): void {
    this.writer(
      `INSERT INTO meta (key, value) VALUES (?, ?)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(key, value);
  }

  /**
   * While another thread checkpoints the WAL (the flush reader), commits leave it to that thread
   * and checkpoint themselves only past a much larger WAL (a safety net if it falls behind).
   */
  checkpointElsewhere(elsewhere: boolean): void {
    this.connection.exec(`PRAGMA wal_autocheckpoint = ${elsewhere ? 4096 : 1000}`);
  }

  close(): void {
    this.#snapshot = false;
    this.#writerStatements.clear();
    this.#readerStatements.clear();
    this.#records.clear();
    try {
      this.#reader.close();
    } finally {
      this.connection.close();
    }
  }
}
