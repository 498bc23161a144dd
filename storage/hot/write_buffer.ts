// The write buffer: rows keyed by (table, user, primary key) in SQLite, each with its storage id,
// `_seq`, `_deleted` flag, schema version and MessagePack data; and the change log every write
// appends to. Shared tables use the empty user. Reads are index seeks (one key) or index range
// scans (one user's rows, in primary-key order).
//
// Design decisions: scans read pages with `all()` (keyset pagination on row_id), several times
// cheaper per row than a statement iterator, all within one synchronous step, so nothing can
// commit in between and the pages form one snapshot. Inserts write up to MAX_CHUNK rows per
// SQLite statement (multi-row VALUES, per-statement values bound once), in conflict modes that
// need no statement journal, and find duplicate keys from the rows the insert skipped.

import {
  compareValues,
  type Row,
  type ScanOptions,
  type TableSource,
  type Value,
} from "../../sql/mod.ts";
import { encodeRow, type RowDecoder } from "./row_codec.ts";
import type { TableInfo } from "./catalog.ts";
import type { Change } from "./change_log.ts";
import { SNOWFLAKE_EPOCH_MS } from "./snowflake.ts";
import type { SqliteStore } from "./sqlite.ts";
import type { StatementSync } from "node:sqlite";

/** Change-log operation codes. */
export const OP = { insert: 1, update: 2, delete: 3 } as const;
export type ChangeOp = keyof typeof OP;

/** Rows per batch (and per page of a synchronous scan). */
const BATCH = 1024;
const SCAN_SQL = `SELECT seq, deleted, version, data FROM buffer
  WHERE table_id = ? AND user_id = ? AND seq >= ? ORDER BY row_id`;
const SCAN_LIVE_SQL = `SELECT seq, deleted, version, data FROM buffer
  WHERE table_id = ? AND user_id = ? AND seq >= ? AND deleted = 0 ORDER BY row_id`;
const PAGE_SQL = `${SCAN_SQL} LIMIT ${BATCH}`;
const PAGE_LIVE_SQL = `${SCAN_LIVE_SQL} LIMIT ${BATCH}`;
const NEXT_PAGE_SQL = `SELECT seq, deleted, version, data FROM buffer
  WHERE table_id = ? AND user_id = ? AND seq >= ? AND row_id > ? ORDER BY row_id LIMIT ${BATCH}`;
const NEXT_PAGE_LIVE_SQL = `SELECT seq, deleted, version, data FROM buffer
  WHERE table_id = ? AND user_id = ? AND seq >= ? AND deleted = 0 AND row_id > ?
  ORDER BY row_id LIMIT ${BATCH}`;
const GET_SQL = `SELECT seq, deleted, version, data FROM buffer
  WHERE table_id = ? AND user_id = ? AND row_id = ?`;
const PUT_SQL =
  `INSERT INTO buffer (table_id, user_id, row_id, storage_id, seq, deleted, version, data)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (table_id, user_id, row_id) DO UPDATE SET
  storage_id = excluded.storage_id, seq = excluded.seq, deleted = excluded.deleted,
  version = excluded.version, data = excluded.data`;
const REPLACE_SQL = `UPDATE buffer SET storage_id = ?, seq = ?, deleted = 0, version = ?, data = ?
  WHERE table_id = ? AND user_id = ? AND row_id = ?`;
const LOG_SQL = `INSERT INTO changelog (seq, table_id, user_id, op, version, row, old_row)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;
/**
 * Most rows one insert statement writes (3 bound values per row, plus 4 per statement). Measured:
 * 32 rows per statement cost a third less per row than one row per statement; beyond ~64 rows
 * SQLite's cost per row rises again.
 */
const MAX_CHUNK = 32;

/** A primary-key value as SQLite stores it. */
export function keyOf(v: Value): Value {
  return typeof v === "boolean" ? (v ? 1 : 0) : v;
}

/** The smallest `_seq` a stream row may have to be visible now. */
export function ttlFloor(table: TableInfo): bigint {
  if (table.tableType !== "STREAM" || table.ttlSeconds === null) return 0n;
  const ms = Date.now() - table.ttlSeconds * 1000 - SNOWFLAKE_EPOCH_MS;
  return ms <= 0 ? 0n : BigInt(ms) << 22n;
}

/** `[seq, deleted, version, data]` → a full row (user columns, `_seq`, `_deleted`). */
function decodeRow(table: TableInfo, r: unknown[]): Row {
  const decode = table.decoders.get(Number(r[2]));
  if (!decode) throw new Error(`no decoder for ${table.namespace}.${table.name} v${r[2]}`);
  const row = decode(r[3] as Uint8Array);
  row.push(r[0] as bigint, r[1] === 1n || r[1] === 1);
  return row;
}

/** Decodes a page of `[seq, deleted, version, data]`, looking the decoder up once per version. */
function decodePage(table: TableInfo, page: unknown[][]): Row[] {
  const out: Row[] = new Array(page.length);
  let version: unknown;
  let decode: RowDecoder | undefined;
  for (let i = 0; i < page.length; i++) {
    const r = page[i];
    if (r[2] !== version || !decode) {
      decode = table.decoders.get(Number(r[2]));
      if (!decode) throw new Error(`no decoder for ${table.namespace}.${table.name} v${r[2]}`);
      version = r[2];
    }
    const row = decode(r[3] as Uint8Array);
    row.push(r[0] as bigint, r[1] === 1n || r[1] === 1);
    out[i] = row;
  }
  return out;
}

/** Multi-row statements for one chunk size: the buffer insert and the change-log insert. */
interface InsertStatements {
  readonly buffer: StatementSync;
  readonly log: StatementSync;
}

/** One scope's buffered versions: live rows and deletion markers. */
export interface ScopeRows {
  rows: number;
  deleted: number;
}

/** A table's counters: every scope (`complete`), or the scopes asked for so far. */
interface TableCounts {
  complete: boolean;
  users: Map<string, ScopeRows>;
}

const NONE: Readonly<ScopeRows> = { rows: 0, deleted: 0 };

export class Buffer {
  #pending = new Map<number, number>();
  #store: SqliteStore;
  #inserts = new Map<number, InsertStatements>();
  /**
   * Buffered versions per table and scope, counted once (a scope when first read, all of a table
   * when first listed) and then kept by every write. Changes of the open write group are
   * journaled so that a rolled-back statement or group takes its counts back with it.
   */
  #scopes = new Map<number, TableCounts>();
  #journal: { table: number; user: string; rows: number; deleted: number }[] = [];
  #mark = 0;
  /** Tables counted during the open group (their count may include what rolls back). */
  #countedInGroup = new Set<number>();

  constructor(store: SqliteStore) {
    this.#store = store;
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
      scan: (options) => scanAsync(store, table, userId, writer, options),
      scanSync: (options) => scanSync(store, table, userId, writer, options),
    };
  }

  /**
   * The buffered versions of each scope of a table (users for USER/STREAM tables, "" for SHARED),
   * kept as counters: no scan after the first call. Only scopes with versions are listed.
   */
  scopeRows(tableId: number): ReadonlyMap<string, Readonly<ScopeRows>> {
    let t = this.#scopes.get(tableId);
    if (!t?.complete) {
      // Through the writer: it sees the open group's writes, which the journal will then undo
      // or keep together with the rest (see rolledBack).
      t = { complete: true, users: new Map() };
      const st = this.#store.rows(
        `SELECT user_id, SUM(deleted = 0), SUM(deleted = 1) FROM buffer WHERE table_id = ?
          GROUP BY user_id`,
        true,
      );
      for (const r of st.all(tableId)) {
        t.users.set(String(r[0]), { rows: Number(r[1]), deleted: Number(r[2]) });
      }
      this.#scopes.set(tableId, t);
      this.#countedInGroup.add(tableId);
    }
    return t.users;
  }

  /** True when the scope has no buffered version (so a read can skip the buffer). */
  isEmpty(tableId: number, userId: string): boolean {
    const c = this.#scope(tableId, userId);
    return c.rows === 0 && c.deleted === 0;
  }

  /** One scope's counters (counted by an index range the first time it is asked for). */
  #scope(tableId: number, userId: string): Readonly<ScopeRows> {
    let t = this.#scopes.get(tableId);
    let c = t?.users.get(userId);
    if (c) return c;
    if (t?.complete) return NONE;
    if (!t) this.#scopes.set(tableId, t = { complete: false, users: new Map() });
    const r = this.#store.rows(
      `SELECT SUM(deleted = 0), SUM(deleted = 1) FROM buffer WHERE table_id = ? AND user_id = ?`,
      true,
    ).get(tableId, userId);
    c = { rows: Number(r?.[0] ?? 0), deleted: Number(r?.[1] ?? 0) };
    t.users.set(userId, c);
    this.#countedInGroup.add(tableId);
    return c;
  }

  /** The counters of a scope that is counted (a partly counted table tracks only some). */
  #tracked(table: number, user: string): ScopeRows | undefined {
    const t = this.#scopes.get(table);
    return t?.users.get(user) ?? (t?.complete ? { rows: 0, deleted: 0 } : undefined);
  }

  /** Counts `rows` live versions and `deleted` markers more (or fewer) in a scope. */
  #count(table: number, user: string, rows: number, deleted: number): void {
    if (rows === 0 && deleted === 0) return;
    const c = this.#tracked(table, user);
    if (!c) return;
    this.#adjust(table, user, c, rows, deleted);
    this.#journal.push({ table, user, rows, deleted });
  }

  #adjust(table: number, user: string, c: ScopeRows, rows: number, deleted: number): void {
    const t = this.#scopes.get(table)!;
    c.rows += rows;
    c.deleted += deleted;
    // A complete table lists only scopes with versions; a partial one remembers zeros too.
    if (t.complete && c.rows <= 0 && c.deleted <= 0) t.users.delete(user);
    else t.users.set(user, c);
  }

  /**
   * A flush deleted `n` of a scope's versions, having read `rows` live ones and `deleted`
   * markers there; when a write replaced some in between (n differs), the table is counted again
   * on next use.
   */
  removed(tableId: number, userId: string, n: number, rows: number, deleted: number): void {
    if (n === rows + deleted) this.#count(tableId, userId, -rows, -deleted);
    else this.#scopes.delete(tableId);
  }

  /** Group-commit hooks: a statement starts, rolls back (or its whole group), a group commits. */
  statementStarted(): void {
    this.#mark = this.#journal.length;
  }

  rolledBack(whole: boolean): void {
    const from = whole ? 0 : this.#mark;
    for (let i = this.#journal.length - 1; i >= from; i--) {
      const j = this.#journal[i];
      const c = this.#tracked(j.table, j.user);
      if (c) this.#adjust(j.table, j.user, c, -j.rows, -j.deleted);
    }
    this.#journal.length = from;
    for (const t of this.#countedInGroup) this.#scopes.delete(t);
    this.#countedInGroup.clear();
  }

  committed(): void {
    this.#journal.length = 0;
    this.#mark = 0;
    this.#countedInGroup.clear();
  }

  /** The current version of one row (deleted ones too), read through the writer. */
  get(table: TableInfo, userId: string, key: Value): Row | undefined {
    const r = this.#store.rows(GET_SQL, true).get(table.id, userId, keyOf(key) as never);
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
    this.#counted(table.id, 1);
    const pk = table.schema.pkIndex;
    const data = encodeRow(values);
    const key = keyOf(values[pk]) as never;
    const deleted = op === "delete" ? 1 : 0;
    // The version this one replaces, if buffered (the scope's counters follow the change).
    const was = this.#tracked(table.id, userId)
      ? this.#store.rows(GET_SQL, true).get(table.id, userId, key)
      : undefined;
    this.#store.w(PUT_SQL).run(
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
    this.#count(
      table.id,
      userId,
      (1 - deleted) - (was ? 1 - wasDeleted : 0),
      deleted - wasDeleted,
    );
    this.#store.w(LOG_SQL).run(
      seq,
      table.id,
      userId,
      OP[op],
      table.version,
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
    this.#counted(table.id, rows.length);
    const pk = table.schema.pkIndex;
    let done = 0;
    while (done < rows.length) {
      let k = MAX_CHUNK;
      while (k > rows.length - done) k >>= 1;
      const st = this.#insertStatements(k);
      const args: unknown[] = new Array(4 + 3 * k);
      const log: unknown[] = new Array(3 + 2 * k);
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
      const changes = Number(st.buffer.run(...(args as never[])).changes);
      this.#count(table.id, userId, changes, 0);
      if (changes !== k) {
        const dup = this.#resolve(table, userId, args, k);
        if (dup >= 0) return done + dup;
      }
      st.log.run(...(log as never[]));
      done += k;
    }
    return -1;
  }

  /**
   * After a chunk's insert skipped rows: in row order, a skipped row whose key holds a deleted or
   * expired version replaces it; one whose key holds a live version (buffered before, or written
   * by an earlier row of this statement) is a duplicate, whose index in the chunk is returned.
   */
  #resolve(table: TableInfo, userId: string, args: readonly unknown[], k: number): number {
    const get = this.#store.rows(GET_SQL, true);
    const floor = ttlFloor(table);
    for (let j = 0; j < k; j++) {
      const key = args[4 + 3 * j];
      const seq = args[5 + 3 * j] as bigint;
      const r = get.get(table.id, userId, key as never);
      if (!r) {
        throw new Error(
          `insert: row ${String(key)} of ${table.name} was neither written nor found`,
        );
      }
      if (r[0] === seq) continue; // written by the chunk's insert
      if (r[1] === 0n && (r[0] as bigint) >= floor) return j;
      if (r[1] === 1n) this.#count(table.id, userId, 1, -1); // a marker becomes a row
      this.#store.w(REPLACE_SQL).run(
        table.storageId,
        seq,
        table.version,
        args[6 + 3 * j] as Uint8Array,
        table.id,
        userId,
        key as never,
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
    const logs: string[] = [];
    for (let j = 0; j < k; j++) {
      const p = 5 + 3 * j;
      rows.push(`(?1, ?2, ?${p}, ?3, ?${p + 1}, 0, ?4, ?${p + 2})`);
      const q = 4 + 2 * j;
      logs.push(`(?${q}, ?1, ?2, ${OP.insert}, ?3, ?${q + 1}, NULL)`);
    }
    st = {
      buffer: this.#store.w(
        `INSERT OR IGNORE INTO buffer
        (table_id, user_id, row_id, storage_id, seq, deleted, version, data)
        VALUES ${rows.join(", ")}`,
      ),
      log: this.#store.w(
        `INSERT OR FAIL INTO changelog (seq, table_id, user_id, op, version, row, old_row)
        VALUES ${logs.join(", ")}`,
      ),
    };
    this.#inserts.set(k, st);
    return st;
  }

  /** Removes every buffered row and change of a table (DROP TABLE). */
  /**
   * Row versions written to a table's buffer since it was last counted: a counter kept in
   * memory, so the flush policy's once-a-second look costs nothing. It starts from a real count
   * (the first time, and after each flush via `recount`) and only grows with writes; a rolled
   * back write makes it overcount a little, which only brings a flush forward.
   */
  pendingWrites(tableId: number): number {
    let n = this.#pending.get(tableId);
    if (n === undefined) n = this.recount(tableId);
    return n;
  }

  /** Counts a table's buffered versions exactly (after a flush, or the first time). */
  recount(tableId: number): number {
    let n = 0;
    for (const c of this.scopeRows(tableId).values()) n += c.rows + c.deleted;
    this.#pending.set(tableId, n);
    return n;
  }

  #counted(tableId: number, n: number): void {
    const cur = this.#pending.get(tableId);
    if (cur !== undefined) this.#pending.set(tableId, cur + n);
  }

  dropTable(tableId: number): void {
    this.#pending.delete(tableId);
    this.#scopes.delete(tableId);
    this.#store.w("DELETE FROM buffer WHERE table_id = ?").run(tableId);
    this.#store.w("DELETE FROM changelog WHERE table_id = ?").run(tableId);
  }

  /**
   * Committed changes of a table after `fromSeq`, in `_seq` order, from the change log (resume of
   * live queries). `userId` narrows to one partition; null means every user.
   */
  changesSince(table: TableInfo, userId: string | null, fromSeq: bigint): Change[] {
    const sql = `SELECT seq, user_id, op, version, row, old_row FROM changelog
      WHERE table_id = ? AND seq > ?${userId === null ? "" : " AND user_id = ?"} ORDER BY seq`;
    const args: (number | bigint | string)[] = [table.id, fromSeq];
    if (userId !== null) args.push(userId);
    const out: Change[] = [];
    const ops = ["", "insert", "update", "delete"] as const;
    for (const r of this.#store.rows(sql).all(...args)) {
      const decode = table.decoders.get(Number(r[3]));
      if (!decode) continue; // written under a schema version that no longer decodes
      const seq = BigInt(r[0] as bigint);
      const op = ops[Number(r[2])] as ChangeOp;
      const row = r[4] ? [...decode(r[4] as Uint8Array), seq, false] : undefined;
      // The old version's own `_seq` is not logged; the change's seq stands in for ordering.
      const old = r[5] ? [...decode(r[5] as Uint8Array), seq, false] : undefined;
      out.push({ table, user: String(r[1]), op, seq, row, old });
    }
    return out;
  }

  /** How many of a STREAM table's rows are past their TTL (invisible, not yet evicted). */
  expiredCount(table: TableInfo): number {
    const floor = ttlFloor(table);
    if (floor === 0n) return 0;
    const r = this.#store.rows("SELECT COUNT(*) FROM buffer WHERE table_id = ? AND seq < ?")
      .get(table.id, floor);
    return Number(r?.[0] ?? 0);
  }

  /** Physically removes a STREAM table's expired rows (inside a write); returns how many. */
  evictExpired(table: TableInfo): number {
    const floor = ttlFloor(table);
    if (floor === 0n) return 0;
    const r = this.#store.w("DELETE FROM buffer WHERE table_id = ? AND seq < ?")
      .run(table.id, floor);
    if (Number(r.changes)) this.#scopes.delete(table.id); // counted again on next use
    return Number(r.changes);
  }

  /**
   * Trims the change log (inside a write): entries with `_seq` below `beforeSeq`, and beyond the
   * newest `maxEntries`. Records the new floor, below which a resume cannot replay. Returns how
   * many entries went.
   */
  pruneChanges(beforeSeq: bigint, maxEntries: number): number {
    let floor = beforeSeq;
    const nth = this.#store.rows(
      "SELECT seq FROM changelog ORDER BY seq DESC LIMIT 1 OFFSET ?",
      true,
    )
      .get(maxEntries);
    if (nth && BigInt(nth[0] as bigint) >= floor) floor = BigInt(nth[0] as bigint) + 1n;
    const r = this.#store.w("DELETE FROM changelog WHERE seq < ?").run(floor);
    if (Number(r.changes) > 0 || floor > this.changeFloor()) {
      this.#store.w(
        `INSERT INTO meta (key, value) VALUES ('changelog_floor', ?)
          ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ).run(String(floor));
    }
    return Number(r.changes);
  }

  /** The oldest `_seq` the change log can still replay from (0 when never trimmed). */
  changeFloor(): bigint {
    const r = this.#store.rows("SELECT value FROM meta WHERE key = 'changelog_floor'", true).get();
    return r ? BigInt(String(r[0])) : 0n;
  }

  /** Row counts per user for a table, counted now (tests check `scopeRows`' counters with it). */
  counts(tableId: number): { user: string; rows: number; deleted: number }[] {
    const st = this.#store.rows(
      `SELECT user_id, SUM(deleted = 0), SUM(deleted = 1) FROM buffer WHERE table_id = ?
        GROUP BY user_id ORDER BY user_id`,
    );
    return st.all(tableId).map((r) => ({
      user: String(r[0]),
      rows: Number(r[1]),
      deleted: Number(r[2]),
    }));
  }

  /** Largest `_seq` ever written (for the Snowflake floor after restart). */
  maxSeq(): bigint {
    const st = this.#store.w("SELECT MAX(seq) AS m FROM changelog");
    const r = st.get() as { m: bigint | null };
    const floor = this.#store.rows("SELECT value FROM meta WHERE key = 'seq_floor'", true).get();
    let max = r.m ?? 0n;
    for (const v of [floor ? BigInt(String(floor[0])) : 0n, this.changeFloor() - 1n]) {
      if (v > max) max = v;
    }
    return max;
  }

  /**
   * Records a `_seq` handed out without a change-log entry (a flush snapshot, inside its write)
   * so that ids after a restart stay above it even if the clock went back.
   */
  recordSeqFloor(seq: bigint): void {
    this.#store.w(
      `INSERT INTO meta (key, value) VALUES ('seq_floor', ?)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(String(seq));
  }
}

/** Primary-key seeks, answered in key order like a scan; one batch. */
function seek(
  store: SqliteStore,
  table: TableInfo,
  userId: string,
  writer: boolean,
  options: ScanOptions,
): Row[] {
  const floor = ttlFloor(table);
  const get = store.rows(GET_SQL, writer);
  const out: Row[] = [];
  const found = (r: unknown[] | undefined) => {
    if (!r || (r[0] as bigint) < floor) return;
    if (!options.includeDeleted && (r[1] === 1n || r[1] === 1)) return;
    out.push(decodeRow(table, r));
  };
  const wanted = options.keys!;
  if (wanted.length === 1) {
    if (wanted[0] !== null) found(get.get(table.id, userId, keyOf(wanted[0]) as never));
    return out;
  }
  const keys = wanted.filter((k) => k !== null).map(keyOf)
    .sort((a, b) => compareValues(a!, b!));
  const seen = new Set<unknown>();
  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    found(get.get(table.id, userId, key as never));
  }
  return out;
}

function* scanSync(
  store: SqliteStore,
  table: TableInfo,
  userId: string,
  writer: boolean,
  options: ScanOptions,
): Generator<Row[]> {
  if (options.keys) {
    const rows = seek(store, table, userId, writer, options);
    if (rows.length) yield rows;
    return;
  }
  const floor = ttlFloor(table);
  const all = options.includeDeleted;
  const next = store.rows(all ? NEXT_PAGE_SQL : NEXT_PAGE_LIVE_SQL, writer);
  const pk = table.schema.pkIndex;
  let page = store.rows(all ? PAGE_SQL : PAGE_LIVE_SQL, writer).all(table.id, userId, floor);
  for (;;) {
    const rows = decodePage(table, page);
    if (page.length < BATCH) {
      if (rows.length) yield rows;
      return;
    }
    if (options.signal?.aborted) return;
    yield rows;
    // The next page starts after the last key; the key value decodes to what was stored.
    const last = keyOf(rows[rows.length - 1][pk]);
    page = next.all(table.id, userId, floor, last as never);
  }
}

/**
 * The asynchronous form (used when a query also reads a source that waits): every page is read
 * in the first step, so the rows are one snapshot however long the consumer takes, and no reader
 * statement stays open across awaits.
 */
async function* scanAsync(
  store: SqliteStore,
  table: TableInfo,
  userId: string,
  writer: boolean,
  options: ScanOptions,
): AsyncGenerator<Row[]> {
  const batches = [...scanSync(store, table, userId, writer, { ...options, signal: undefined })];
  for (const batch of batches) {
    if (options.signal?.aborted) return;
    yield batch;
  }
}

function emptySource(table: TableInfo): TableSource {
  return {
    schema: table.schema,
    async *scan() {},
    scanSync: () => [],
  };
}
