// The storage subsystem's door: open a data directory and execute SQL against it.

export { Database, type DatabaseOptions } from "./database.ts";
export type { BatchResult, ExecuteOptions, StatementResult } from "./result.ts";
export { elapsedMs } from "./result.ts";
export type {
  Change,
  ChangeKind,
  LiveQueries,
  LiveQueryInfo,
  SubscribeOptions,
} from "./changes.ts";
export { checkSubscribeOptions, MAX_BATCH_SIZE, MAX_LAST_ROWS } from "./changes.ts";
export type { TableInfo } from "./catalog.ts";
export type { Engine } from "./engine.ts";
export type {
  FlushResult,
  Manifest,
  ObjectStore,
  ScopeStats,
  StorageHooks,
  StorageInfo,
} from "./hooks.ts";
export { authorizeStatement } from "./authorize.ts";
export { scopeOf } from "./dml.ts";
