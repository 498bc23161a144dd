export { Catalog } from "./catalog.ts";
export type { StorageInfo, TableInfo } from "./catalog.ts";
export {
  ChangeFeed,
  checkSubscribeOptions,
  LiveBridge,
  MAX_BATCH_SIZE,
  MAX_LAST_ROWS,
} from "./change_log.ts";
export type {
  Change,
  ChangeKind,
  LiveQueries,
  LiveQueryInfo,
  SubscribeOptions,
} from "./change_log.ts";
export { GroupCommit } from "./group_commit.ts";
export { lockDataDir } from "./lock.ts";
export { encodeRow, makeDecoder, tagValue, untagValue } from "./row_codec.ts";
export type { RowDecoder, StoredColumn, TaggedValue } from "./row_codec.ts";
export { Snowflake, SNOWFLAKE_EPOCH_MS, snowflakeMs } from "./snowflake.ts";
export { asArrays, SqliteStore } from "./sqlite.ts";
export type { ArrayStatement, Durability } from "./sqlite.ts";
export { Buffer, keyOf } from "./write_buffer.ts";
