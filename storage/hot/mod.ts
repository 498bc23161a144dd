// The hot room: the data directory's one SQLite file and everything that lives in it — the
// connections and the one SCHEMA (sqlite.ts), group commit, the catalog, the write buffer and
// its scope counters, the change log and the in-process change feed, the row codec, the
// Snowflake id generator and the data-directory lock. Every table's DDL is in sqlite.ts's SCHEMA;
// each table has one owner file that holds every statement on it (`buffer`'s: write_buffer.ts,
// with its reads in buffer_read.ts and a flush's in buffer_sql.ts; cold/scopes.ts owns
// `cold_scopes`, jobs/runner.ts `jobs`, export/exports_table.ts `exports`).
// It may use sql/ (values, types) and storage/_modes.ts; nothing of the cold tier, statements,
// live queries or the server.

export { Catalog } from "./catalog.ts";
export type { StorageInfo, TableInfo } from "./catalog.ts";
export {
  ChangeFeed,
  checkSubscribeOptions,
  LiveBridge,
  MAX_BATCH_SIZE,
  MAX_LAST_ROWS,
} from "./change_feed.ts";
export type {
  Change,
  ChangeKind,
  LiveQueries,
  LiveQueryInfo,
  SubscribeOptions,
} from "./change_feed.ts";
export { ChangeLog, OP } from "./change_log.ts";
export type { ChangeOp } from "./change_log.ts";
export { GroupCommit } from "./group_commit.ts";
export { lockDataDir } from "./lock.ts";
export { encodeRow, makeDecoder, tagValue, untagValue } from "./row_codec.ts";
export type { RowDecoder, StoredColumn, TaggedValue } from "./row_codec.ts";
export type { ScopeRows } from "./scope_counts.ts";
export { Snowflake, SNOWFLAKE_EPOCH_MS, snowflakeMs } from "./snowflake.ts";
export { arrayStatement, SqliteStore, toSqlParam } from "./sqlite.ts";
export type { Durability, SqlParam, SqlStatement } from "./sqlite.ts";
export { flushReadSql } from "./buffer_sql.ts";
export { keyOf, WriteBuffer } from "./write_buffer.ts";
export { BufferSnapshot } from "./buffer_read.ts";
