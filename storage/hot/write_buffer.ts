// The write buffer: rows keyed by (table, user, primary key) in SQLite (the `buffer` table; this
// file holds its SQL, but for a flush's reads in buffer_sql.ts), each with its storage id,
// `_seq`, `_deleted` flag, schema version and MessagePack data; every write also appends to the
// change log. Shared tables use the empty user. Reads are index seeks (one key) or index range
// scans (one user's rows, in primary-key order).
//
// Its reads are in buffer_read.ts. Design decisions: inserts write up to MAX_CHUNK rows per
// SQLite statement (multi-row VALUES, per-statement values bound once), in conflict modes that
// need no statement journal, and find duplicate keys from the rows the insert skipped.

import type { Row, TableSource, Value } from "../../sql/mod.ts";
import { encodeRow } from "./row_codec.ts";
import type { TableInfo } from "./catalog.ts";
import type { ChangeLog, ChangeOp } from "./change_log.ts";
import { ScopeCounts, type ScopeRows } from "./scope_counts.ts";
import {
  BufferSnapshot,
  decodeRow,
  emptySource,
  GET_SQL,
  scanAsync,
  scanSync,
  statements,
  ttlFloor,
} from "./buffer_read.ts";
import { type SqliteStore, type SqlParam, type SqlStatement, toSqlParam } from "./sqlite.ts";

const PUT_SQL =
  `INSERT INTO buffer (table_id, user_id, row_id, storage_id, seq, deleted, version, data)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (table_id, user_id, row_id) DO UPDATE SET
  storage_id = excluded.storage_id, seq = excluded.seq, deleted = excluded.deleted,
  version = excluded.version, data = excluded.data`;
const REPLACE_SQL = `UPDATE buffer SET storage_id = ?, seq = ?, deleted = 0, version = ?, data = ?
  WHERE table_id = ? AND user_id = ? AND row_id = ?`;
/**
 * Most rows one insert statement writes (3 bound values per row, plus 4 per statement). Measured:
 * 32 rows per statement cost a third less per row than one row per statement; beyond ~64 rows
 * SQLite's cost per row rises again.
 */
const MAX_CHUNK = 32;

/** A primary-key value as SQLite stores it. */
export const keyOf: (v: Value) => SqlParam = toSqlParam;

/** Multi-row statements for one chunk size: the buffer insert and the change-log insert. */
interface InsertStatements {
  readonly buffer: SqlStatement;
  readonly log: SqlStatement;
}

export class WriteBuffer {
  #store: SqliteStore;
  #log: ChangeLog;
  #inserts = new Map<number, InsertStatements>();
  /** Buffered versions per scope and writes per table, kept by every write. */
  readonly counts: ScopeCounts;

  constructor(store: SqliteStore, log: ChangeLog) {
    this.#store = store;
    this.#log = log;
    // Through the writer: it sees the open group's writes, which the counters' journal then
    // undoes or keeps together with the rest.
    this.counts = new ScopeCounts({
      table: (tableId) =>
        store.writer(
          `SELECT user_id, SUM(deleted = 0), SUM(deleted = 1) FROM buffer WHERE table_id = ?
            GROUP BY user_id`,
        ).all(tableId).map((r) => [String(r[0]), Number(r[1]), Number(r[2])]),
      scope: (tableId, userId) => {
        const r = store.writer(
          `SELECT SUM(deleted = 0), SUM(deleted = 1) FROM buffer WHERE table_id = ? AND user_id = ?`,
        ).get(tableId, userId);
        return { rows: Number(r?.[0] ?? 0), deleted: Number(r?.[1] ?? 0) };
      },
    });
  }

  /**
   * A TableSource over one scope of `table` (a user's partition, or "" for shared tables).
   * `writer` reads through the writer connection (inside a write's transaction).
   */
  source(table: TableInfo, userId: string, writer: boolean): TableSource {
    const store = this.#store;
    // An empty scope (the counters say so) is not asked: its reads skip SQLite entirely.
    if (this.isEmpty(table.id, userId)) return emptySource(table);
    return {
      schema: table.schema,
      scan: (options) => scanAsync(statements(store, writer), table, userId, options),
      scanSync: (options) => scanSync(statements(store, writer), table, userId, options),
    };
  }

  /**
   * A snapshot of every committed buffered row, as of now, on a connection of its own: it stays
   * one position however long its reader takes and however much is written meanwhile (an
   * export reads all of a user's tables through one). `close` it when done — until then SQLite
   * cannot checkpoint the WAL past it.
   */
  snapshot(): BufferSnapshot {
    return new BufferSnapshot(this.#store.openConnection());
  }

  /** The buffered versions of each scope of a table (see ScopeCounts.of). */
  scopeRows(tableId: number): ReadonlyMap<string, Readonly<ScopeRows>> {
    return this.counts.of(tableId);
  }

  /** True when the scope has no buffered version (so a read can skip the buffer). */
  isEmpty(tableId: number, userId: string): boolean {
    return this.counts.isEmpty(tableId, userId);
  }

  /** The current version of one row (deleted ones too), read through the writer. */
  get(table: TableInfo, userId: string, key: Value): Row | undefined {
    const r = this.#store.writer(GET_SQL).get(table.id, userId, keyOf(key));
    if (!r || (r[0] as bigint) < ttlFloor(table)) return undefined;
    return decodeRow(table, r);
  }

  /** Writes a row version (user columns only) and its change-log entry. */
  put(
    table: TableInfo,
    userId: string,
    op: ChangeOp,
    seq: bigint,
    values: readonly Value[],
    old: readonly Value[] | undefined,
  ): void {
    this.counts.wrote(table.id, 1);
    const pk = table.schema.pkIndex;
    const data = encodeRow(values);
    const key = keyOf(values[pk]);
    const deleted = op === "delete" ? 1 : 0;
    // The version this one replaces, if buffered (the scope's counters follow the change).
    const was = this.counts.tracked(table.id, userId)
      ? this.#store.writer(GET_SQL).get(table.id, userId, key)
      : undefined;
    this.#store.writer(PUT_SQL).run(
      table.id,
      userId,
      key,
      table.storageId,
      seq,
      deleted,
      table.version,
      data,
    );
    const wasDeleted = was ? (was[1] === 1n ? 1 : 0) : 0;
    this.counts.count(
      table.id,
      userId,
      (1 - deleted) - (was ? 1 - wasDeleted : 0),
      deleted - wasDeleted,
    );
    this.#log.append(
      seq,
      table,
      userId,
      op,
      op === "delete" ? null : data,
      old ? encodeRow(old.slice(0, table.columns.length)) : null,
    );
  }

  /**
   * Inserts new rows (user columns in current order) into one scope, `seqs[i]` being the `_seq`
   * of `rows[i]`, with their change-log entries. A row may replace a deleted or expired one; a
   * live row with the same key (already buffered, or earlier in `rows`) makes it a duplicate:
   * returns the index of the first duplicate row (after which the caller must roll back), else -1.
   */
  insert(
    table: TableInfo,
    userId: string,
    rows: readonly Value[][],
    seqs: readonly bigint[],
  ): number {
    this.counts.wrote(table.id, rows.length);
    const pk = table.schema.pkIndex;
    let done = 0;
    while (done < rows.length) {
      let k = MAX_CHUNK;
      while (k > rows.length - done) k >>= 1;
      const st = this.#insertStatements(k);
      const args: SqlParam[] = new Array(4 + 3 * k);
      const log: SqlParam[] = new Array(3 + 2 * k);
      args[0] = log[0] = table.id;
      args[1] = log[1] = userId;
      args[2] = table.storageId;
      args[3] = log[2] = table.version;
      for (let j = 0; j < k; j++) {
        const values = rows[done + j];
        const data = encodeRow(values);
        args[4 + 3 * j] = keyOf(values[pk]);
        args[5 + 3 * j] = log[3 + 2 * j] = seqs[done + j];
        args[6 + 3 * j] = log[4 + 2 * j] = data;
      }
      const changes = Number(st.buffer.run(...args).changes);
      this.counts.count(table.id, userId, changes, 0);
      if (changes !== k) {
        const dup = this.#resolve(table, userId, args, k);
        if (dup >= 0) return done + dup;
      }
      st.log.run(...log);
      done += k;
    }
    return -1;
  }

  /**
   * After a chunk's insert skipped rows: in row order, a skipped row whose key holds a deleted or
   * expired version replaces it; one whose key holds a live version (buffered before, or written
   * by an earlier row of this statement) is a duplicate, whose index in the chunk is returned.
   */
  #resolve(table: TableInfo, userId: string, args: readonly SqlParam[], k: number): number {
    const get = this.#store.writer(GET_SQL);
    const floor = ttlFloor(table);
    for (let j = 0; j < k; j++) {
      const key = args[4 + 3 * j];
      const seq = args[5 + 3 * j] as bigint;
      const r = get.get(table.id, userId, key);
      if (!r) {
        throw new Error(
          `insert: row ${String(key)} of ${table.name} was neither written nor found`,
        );
      }
      if (r[0] === seq) continue; // written by the chunk's insert
      if (r[1] === 0n && (r[0] as bigint) >= floor) return j;
      if (r[1] === 1n) this.counts.count(table.id, userId, 1, -1); // a marker becomes a row
      this.#store.writer(REPLACE_SQL).run(
        table.storageId,
        seq,
        table.version,
        args[6 + 3 * j] as Uint8Array,
        table.id,
        userId,
        key,
      );
    }
    return -1;
  }

  /**
   * Statements writing `k` rows: parameters ?1 table, ?2 user, ?3 storage, ?4 version are bound
   * once; each row binds its key, seq and data. `OR IGNORE` skips rows whose key exists (resolved
   * afterwards) and, like `OR FAIL` on the change log, spares SQLite the statement journal a
   * multi-row statement otherwise keeps to undo itself (a quarter of its cost; the caller's
   * savepoint undoes a failed statement anyway).
   */
  #insertStatements(k: number): InsertStatements {
    let st = this.#inserts.get(k);
    if (st) return st;
    const rows: string[] = [];
    for (let j = 0; j < k; j++) {
      const p = 5 + 3 * j;
      rows.push(`(?1, ?2, ?${p}, ?3, ?${p + 1}, 0, ?4, ?${p + 2})`);
    }
    st = {
      buffer: this.#store.writer(
        `INSERT OR IGNORE INTO buffer
        (table_id, user_id, row_id, storage_id, seq, deleted, version, data)
        VALUES ${rows.join(", ")}`,
      ),
      log: this.#log.inserts(k),
    };
    this.#inserts.set(k, st);
    return st;
  }

  /** Removes every buffered row and change of a table (DROP TABLE, inside its write). */
  dropTable(tableId: number): void {
    this.counts.dropTable(tableId);
    this.#store.writer("DELETE FROM buffer WHERE table_id = ?").run(tableId);
    this.#log.dropTable(tableId);
  }

  /**
   * Removes every buffered version and logged change of one user in `tableIds` (DROP USER,
   * inside its write); returns the versions removed.
   */
  eraseUser(tableIds: readonly number[], userId: string): number {
    let n = 0;
    for (const id of tableIds) {
      const r = this.#store.writer("DELETE FROM buffer WHERE table_id = ? AND user_id = ?")
        .run(id, userId);
      n += Number(r.changes);
      this.counts.forget(id); // counted again on next use, inside this group if need be
      this.#log.eraseUser(id, userId);
    }
    return n;
  }

  /** True when the scope holds any version (deleted ones too), seen through the writer. */
  hasRows(tableId: number, userId: string): boolean {
    return this.#store.writer("SELECT 1 FROM buffer WHERE table_id = ? AND user_id = ? LIMIT 1")
      .get(tableId, userId) !== undefined;
  }

  /**
   * Deletes a flush's versions (inside a write): keys `first`…`last` of the scope with
   * `_seq` ≤ `snapshot`, of which the flush read `rows` live ones and `deleted` markers.
   */
  deleteFlushed(
    tableId: number,
    userId: string,
    first: SqlParam,
    last: SqlParam,
    snapshot: bigint,
    counted: { rows: number; deleted: number },
  ): void {
    const r = this.#store.writer(
      `DELETE FROM buffer WHERE table_id = ? AND user_id = ? AND row_id >= ? AND row_id <= ?
        AND seq <= ?`,
    ).run(tableId, userId, first, last, snapshot);
    this.counts.removed(tableId, userId, Number(r.changes), counted.rows, counted.deleted);
  }

  /** Moves a table's buffered rows to another storage (inside the move's switch-over write). */
  setStorage(tableId: number, storageId: string): void {
    this.#store.writer("UPDATE buffer SET storage_id = ? WHERE table_id = ?").run(
      storageId,
      tableId,
    );
  }

  /** Live rows buffered over every table (SHOW STATS). */
  liveRows(): number {
    const r = this.#store.reader("SELECT COUNT(*) FROM buffer WHERE deleted = 0").get();
    return Number(r?.[0] ?? 0);
  }

  /** How many of a STREAM table's rows are past their TTL (invisible, not yet evicted). */
  expiredCount(table: TableInfo): number {
    const floor = ttlFloor(table);
    if (floor === 0n) return 0;
    const r = this.#store.reader("SELECT COUNT(*) FROM buffer WHERE table_id = ? AND seq < ?")
      .get(table.id, floor);
    return Number(r?.[0] ?? 0);
  }

  /** Physically removes a STREAM table's expired rows (inside a write); returns how many. */
  evictExpired(table: TableInfo): number {
    const floor = ttlFloor(table);
    if (floor === 0n) return 0;
    const r = this.#store.writer("DELETE FROM buffer WHERE table_id = ? AND seq < ?")
      .run(table.id, floor);
    if (Number(r.changes)) this.counts.forget(table.id); // counted again on next use
    return Number(r.changes);
  }

  /** Row counts per user for a table, counted now (tests check `scopeRows`' counters with it). */
  exactCounts(tableId: number): { user: string; rows: number; deleted: number }[] {
    const st = this.#store.reader(
      `SELECT user_id, SUM(deleted = 0), SUM(deleted = 1) FROM buffer WHERE table_id = ?
        GROUP BY user_id ORDER BY user_id`,
    );
    return st.all(tableId).map((r) => ({
      user: String(r[0]),
      rows: Number(r[1]),
      deleted: Number(r[2]),
    }));
  }
  /** The stored bytes of a row's buffered versions' newest one (tests corrupt a row with it). */
  rawData(tableId: number, rowId: SqlParam): Uint8Array | undefined {
    const r = this.#store.writer(
      "SELECT data FROM buffer WHERE table_id = ? AND row_id = ? ORDER BY seq DESC LIMIT 1",
    ).get(tableId, rowId);
    return r ? r[0] as Uint8Array : undefined;
  }

  /** Replaces the stored bytes of every buffered version of a row (see `rawData`). */
  setRawData(tableId: number, rowId: SqlParam, data: Uint8Array): void {
    this.#store.writer("UPDATE buffer SET data = ? WHERE table_id = ? AND row_id = ?")
      .run(data, tableId, rowId);
  }
}
