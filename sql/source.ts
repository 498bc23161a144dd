// The interfaces through which the pure SQL engine reads data. Storage implements them (the
// SQLite buffer today, buffer + Parquet segments later); the engine never does I/O itself.

import type { TableName, TableType } from "./ast.ts";
import type { ColumnSchema, Row, Value } from "./values.ts";

/** A table as the executor sees it: columns in order, user columns first, then `_seq`, `_deleted`. */
export interface TableSchema {
  readonly namespace: string;
  readonly name: string;
  readonly tableType: TableType | "SYSTEM";
  readonly version: number;
  readonly columns: readonly ColumnSchema[];
  /** Index of the primary-key column in `columns`, or -1 for system tables without one. */
  readonly pkIndex: number;
}

/** `columns[column] op value`: one pushed-down comparison (see `ScanOptions.ranges`). */
export interface ColumnRange {
  /** Index into `TableSchema.columns`. */
  readonly column: number;
  readonly op: "=" | "<" | "<=" | ">" | ">=";
  readonly value: Exclude<Value, null>;
}

export interface ScanOptions {
  /**
   * Primary-key values to seek instead of scanning (from `pk = v` or `pk IN (…)` in WHERE).
   * Absent means a full scan of the caller's visible rows.
   */
  readonly keys?: readonly Value[];
  /**
   * Conjuncts of the WHERE that every wanted row satisfies (`col op constant`, values already
   * coerced to the column's type). Hints only: a source may use them to skip data it can prove
   * does not match (Parquet statistics); the executor still applies the whole WHERE.
   */
  readonly ranges?: readonly ColumnRange[];
  /**
   * Indexes (into `schema.columns`) of the columns the statement reads; the others may come
   * back null. Absent: all. A source may use it to decode less (Parquet columns).
   */
  readonly columns?: readonly number[];
  /** Include soft-deleted rows (the query filters on `_deleted`). */
  readonly includeDeleted?: boolean;
  readonly signal?: Cancel;
}

/**
 * What long work polls to stop early: an AbortSignal fits, and so does a statement deadline
 * (storage/database.ts), which compares the clock instead of arming a timer per statement.
 */
export interface Cancel {
  readonly aborted: boolean;
}

/**
 * A readable table, already bound to the caller's visibility (USER/STREAM: the effective user's
 * partition; STREAM: TTL applied). Rows are full rows in `schema.columns` order, yielded in
 * primary-key order, in batches.
 */
export interface TableSource {
  readonly schema: TableSchema;
  scan(options: ScanOptions): AsyncIterable<Row[]>;
  /**
   * The same rows as `scan`, for sources that never wait (the SQLite buffer). A query whose
   * sources all have it runs in one synchronous step: nothing can commit in between, so its reads
   * form one consistent snapshot without holding a transaction open across awaits.
   */
  scanSync?(options: ScanOptions): Iterable<Row[]>;
  /**
   * Whether `scanSync` can serve these options now (a source whose data may be in memory or
   * not: flushed segments); absent means always.
   */
  readyFor?(options: ScanOptions): boolean;
}

/**
 * Resolves qualified table names for the executor; throws DbError (TABLE_NOT_FOUND, …). A plan
 * resolves its tables once when planned (for their schemas) and again at the start of every
 * execution (for the sources bound to that execution's user), so plans can be cached.
 */
export interface Catalog {
  table(name: TableName): TableSource;
}

/** Per-statement inputs to expression evaluation. */
export interface EvalContext {
  /** `$1` is params[0]. */
  readonly params: readonly Value[];
  /** The effective user, for CURRENT_USER(). */
  readonly user: string;
  /** Statement time (ns), fixed for the statement, for NOW() / CURRENT_TIMESTAMP. */
  readonly now: bigint;
  /** Fresh id for SNOWFLAKE_ID() defaults. */
  nextId(): bigint;
}

export interface ExecContext extends EvalContext {
  readonly catalog: Catalog;
  readonly signal?: Cancel;
}
