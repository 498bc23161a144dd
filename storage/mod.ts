// The storage subsystem's door: open a data directory and execute SQL against it.

export { Database, type DatabaseOptions } from "./database.ts";
export type { BatchResult, ExecuteOptions, StatementResult } from "./statements/mod.ts";
export { elapsedMs } from "./_time.ts";
export type {
  Change,
  ChangeKind,
  LiveQueries,
  LiveQueryInfo,
  SubscribeOptions,
} from "./hot/mod.ts";
export { checkSubscribeOptions, MAX_BATCH_SIZE, MAX_LAST_ROWS } from "./hot/mod.ts";
export type { TableInfo } from "./hot/mod.ts";
export type { LiveSnapshot, LiveSource } from "./live_source.ts";
export type {
  FlushResult,
  Manifest,
  ObjectStore,
  ScopeStats,
  StorageHooks,
  StorageInfo,
} from "./hooks.ts";
export { scopeOf } from "./statements/mod.ts";
/** The Parquet segment encoder alone, for benchmarks against the raw writer. */
export { encodeSegment, type SegmentColumn } from "./parquet/mod.ts";
