// The write buffer: rows keyed by (table, user, primary key) in SQLite, each with its storage id,
// `_seq`, `_deleted` flag, schema version and MessagePack data; and the change log every write
// appends to. Shared tables use the empty user. Reads are index seeks (one key) or index range
// scans (one user's rows, in primary-key order).

import type { ScanOptions, TableSource } from "../sql/source.ts";
import { compareValues, type Row, type Value } from "../sql/values.ts";
import { encodeRow } from "./codec.ts";
import type { TableInfo } from "./catalog.ts";
import { SNOWFLAKE_EPOCH_MS } from "./snowflake.ts";
import type { SqliteStore } from "./sqlite.ts";

/** Change-log operation codes. */
export const OP = { insert: 1, update: 2, delete: 3 } as const;
export type ChangeOp = keyof typeof OP;

const BATCH = 1024;
const SCAN_SQL = `SELECT seq, deleted, version, data FROM buffer
  WHERE table_id = ? AND user_id = ? AND seq >= ? ORDER BY row_id`;
const SCAN_LIVE_SQL = `SELECT seq, deleted, version, data FROM buffer
  WHERE table_id = ? AND user_id = ? AND seq >= ? AND deleted = 0 ORDER BY row_id`;
const GET_SQL = `SELECT seq, deleted, version, data FROM buffer
  WHERE table_id = ? AND user_id = ? AND row_id = ?`;

/** A primary-key value as SQLite stores it. */
export function keyOf(v: Value): Value {
  return typeof v === "boolean" ? (v ? 1 : 0) : v;
}

/** The smallest `_seq` a stream row may have to be visible at `nowMs`. */
function ttlFloor(table: TableInfo, nowMs: number): bigint {
  if (table.tableType !== "STREAM" || table.ttlSeconds === null) return 0n;
  const ms = nowMs - table.ttlSeconds * 1000 - SNOWFLAKE_EPOCH_MS;
  return ms <= 0 ? 0n : BigInt(ms) << 22n;
}

export class Buffer {
  #store: SqliteStore;

  constructor(store: SqliteStore) {
    this.#store = store;
  }

  #decode(table: TableInfo, r: unknown[]): Row {
    const decode = table.decoders.get(Number(r[2]));
    if (!decode) throw new Error(`no decoder for ${table.namespace}.${table.name} v${r[2]}`);
    const row = decode(r[3] as Uint8Array);
    row.push(r[0] as bigint, r[1] === 1n || r[1] === 1);
    return row;
  }

  /**
   * A TableSource over one scope of `table` (a user's partition, or "" for shared tables).
   * `writer` reads through the writer connection (inside a write's transaction).
   */
  source(table: TableInfo, userId: string, writer: boolean): TableSource {
    const store = this.#store;
    // deno-lint-ignore no-this-alias
    const self = this;
    return {
      schema: table.schema,
      async *scan(options: ScanOptions): AsyncGenerator<Row[]> {
        const floor = ttlFloor(table, Date.now());
        if (options.keys) {
          const out: Row[] = [];
          const get = store.rows(GET_SQL, writer);
          const seen = new Set<unknown>();
          // Seeks answer in primary-key order, like a scan.
          const keys = options.keys.filter((k) => k !== null).map(keyOf)
            .sort((a, b) => compareValues(a!, b!));
          for (const key of keys) {
            if (seen.has(key)) continue;
            seen.add(key);
            const r = get.get(table.id, userId, key as never);
            if (!r || (r[0] as bigint) < floor) continue;
            if (!options.includeDeleted && (r[1] === 1n || r[1] === 1)) continue;
            out.push(self.#decode(table, r));
          }
          if (out.length) yield out;
          return;
        }
        const st = store.rows(options.includeDeleted ? SCAN_SQL : SCAN_LIVE_SQL, writer);
        let batch: Row[] = [];
        for (const r of st.iterate(table.id, userId, floor)) {
          batch.push(self.#decode(table, r));
          if (batch.length >= BATCH) {
            if (options.signal?.aborted) return;
            yield batch;
            batch = [];
          }
        }
        if (batch.length) yield batch;
      },
    };
  }

  /** The current version of one row (deleted ones too), read through the writer. */
  get(table: TableInfo, userId: string, key: Value): Row | undefined {
    const r = this.#store.rows(GET_SQL, true).get(table.id, userId, keyOf(key) as never);
    if (!r || (r[0] as bigint) < ttlFloor(table, Date.now())) return undefined;
    return this.#decode(table, r);
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
    const pk = table.schema.pkIndex;
    const data = encodeRow(values);
    this.#store.w(
      `INSERT INTO buffer (table_id, user_id, row_id, storage_id, seq, deleted, version, data)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (table_id, user_id, row_id) DO UPDATE SET
        storage_id = excluded.storage_id, seq = excluded.seq, deleted = excluded.deleted,
        version = excluded.version, data = excluded.data`,
    ).run(
      table.id,
      userId,
      keyOf(values[pk]) as never,
      table.storageId,
      seq,
      op === "delete" ? 1 : 0,
      table.version,
      data,
    );
    this.#store.w(
      `INSERT INTO changelog (seq, table_id, user_id, op, version, row, old_row)
        VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      seq,
      table.id,
      userId,
      OP[op],
      table.version,
      op === "delete" ? null : data,
      old ? encodeRow(old.slice(0, table.columns.length)) : null,
    );
  }

  /** Removes every buffered row and change of a table (DROP TABLE). */
  dropTable(tableId: number): void {
    this.#store.w("DELETE FROM buffer WHERE table_id = ?").run(tableId);
    this.#store.w("DELETE FROM changelog WHERE table_id = ?").run(tableId);
  }

  /** Row counts per user for a table (SHOW STATS). */
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
    return r.m ?? 0n;
  }
}
