// The buffer's reads (the `buffer` table's SELECTs but a flush's, which are in buffer_sql.ts):
// key seeks and scans of one scope in primary-key order, on whichever connection the caller
// names — the writer (inside a write), the reader, or a snapshot's own (BufferSnapshot, for a
// reader that spans awaits).
//
// Design decision: scans read pages with `all()` (keyset pagination on row_id), several times
// cheaper per row than a statement iterator, all within one synchronous step, so nothing can
// commit in between and the pages form one snapshot.

import type { DatabaseSync } from "node:sqlite";
import { compareValues, type Row, type ScanOptions, type TableSource } from "../../sql/mod.ts";
import type { RowDecoder } from "./row_codec.ts";
import type { TableInfo } from "./catalog.ts";
import { SNOWFLAKE_EPOCH_MS } from "./snowflake.ts";
import { arrayStatement, type SqliteStore, type SqlStatement, toSqlParam } from "./sqlite.ts";

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
export const GET_SQL = `SELECT seq, deleted, version, data FROM buffer
  WHERE table_id = ? AND user_id = ? AND row_id = ?`;
/** The smallest `_seq` a stream row may have to be visible now. */
export function ttlFloor(table: TableInfo, now = Date.now()): bigint {
  if (table.tableType !== "STREAM" || table.ttlSeconds === null) return 0n;
  const ms = now - table.ttlSeconds * 1000 - SNOWFLAKE_EPOCH_MS;
  return ms <= 0 ? 0n : BigInt(ms) << 22n;
}

/** `[seq, deleted, version, data]` → a full row (user columns, `_seq`, `_deleted`). */
export function decodeRow(table: TableInfo, r: unknown[]): Row {
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

/** Statements by SQL on one connection (a scan does not care which). */
type Statements = (sql: string) => SqlStatement;

/** Statements on the writer (inside a write: sees its own changes) or the reader. */
export function statements(store: SqliteStore, writer: boolean): Statements {
  return writer ? (sql) => store.writer(sql) : (sql) => store.reader(sql);
}

/** Primary-key seeks, answered in key order like a scan; one batch. */
function seek(
  read: Statements,
  table: TableInfo,
  userId: string,
  options: ScanOptions,
): Row[] {
  const floor = ttlFloor(table);
  const get = read(GET_SQL);
  const out: Row[] = [];
  const found = (r: unknown[] | undefined) => {
    if (!r || (r[0] as bigint) < floor) return;
    if (!options.includeDeleted && (r[1] === 1n || r[1] === 1)) return;
    out.push(decodeRow(table, r));
  };
  const wanted = options.keys!;
  if (wanted.length === 1) {
    if (wanted[0] !== null) found(get.get(table.id, userId, toSqlParam(wanted[0])));
    return out;
  }
  const keys = wanted.filter((k) => k !== null).map(toSqlParam)
    .sort((a, b) => compareValues(a!, b!));
  const seen = new Set<unknown>();
  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    found(get.get(table.id, userId, key));
  }
  return out;
}

export function* scanSync(
  read: Statements,
  table: TableInfo,
  userId: string,
  options: ScanOptions,
  now = Date.now(),
): Generator<Row[]> {
  if (options.keys) {
    const rows = seek(read, table, userId, options);
    if (rows.length) yield rows;
    return;
  }
  const floor = ttlFloor(table, now);
  const all = options.includeDeleted;
  const next = read(all ? NEXT_PAGE_SQL : NEXT_PAGE_LIVE_SQL);
  const pk = table.schema.pkIndex;
  let page = read(all ? PAGE_SQL : PAGE_LIVE_SQL).all(table.id, userId, floor);
  for (;;) {
    const rows = decodePage(table, page);
    if (page.length < BATCH) {
      if (rows.length) yield rows;
      return;
    }
    if (options.signal?.aborted) return;
    yield rows;
    // The next page starts after the last key; the key value decodes to what was stored.
    const last = toSqlParam(rows[rows.length - 1][pk]);
    page = next.all(table.id, userId, floor, last);
  }
}

/**
 * The asynchronous form (used when a query also reads a source that waits): every page is read
 * in the first step, so the rows are one snapshot however long the consumer takes, and no reader
 * statement stays open across awaits.
 */
export async function* scanAsync(
  read: Statements,
  table: TableInfo,
  userId: string,
  options: ScanOptions,
): AsyncGenerator<Row[]> {
  const batches = [...scanSync(read, table, userId, { ...options, signal: undefined })];
  for (const batch of batches) {
    if (options.signal?.aborted) return;
    yield batch;
  }
}

/** See `WriteBuffer.snapshot`. */
export class BufferSnapshot {
  #db: DatabaseSync;
  #statements = new Map<string, SqlStatement>();
  /** When the snapshot was taken (ms): STREAM rows are visible as of then. */
  readonly #takenAt: number;
  #read: Statements = (sql) => {
    let st = this.#statements.get(sql);
    if (!st) this.#statements.set(sql, st = arrayStatement(this.#db.prepare(sql)));
    return st;
  };

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#takenAt = Date.now();
    try {
      // WAL: the read transaction's snapshot is taken at its first read, here and now.
      db.exec("BEGIN");
      this.#read("SELECT count(*) FROM meta").get();
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** One scope's rows in primary-key order; STREAM rows expire as of the snapshot's time. */
  scan(table: TableInfo, userId: string, options: ScanOptions = {}): Generator<Row[]> {
    return scanSync(this.#read, table, userId, { ...options, keys: undefined }, this.#takenAt);
  }

  close(): void {
    try {
      if (this.#db.isTransaction) this.#db.exec("COMMIT");
    } finally {
      this.#db.close();
    }
  }
}

export function emptySource(table: TableInfo): TableSource {
  return {
    schema: table.schema,
    async *scan() {},
    scanSync: () => [],
  };
}
