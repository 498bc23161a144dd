// The cold room: flushing scopes of the write buffer to Parquet segments and reading them back
// merged with the buffer (newest `_seq` wins, tombstones applied), compaction, storage moves and
// the dropped tables' cleanup. It may use hot/, parquet/, object_store/ and sql/ values; the
// statements and the database facade reach it only through ColdTier.

export type { CompactResult } from "./compact.ts";
export type { FlushResult } from "./flush.ts";
export type { Manifest } from "./manifest.ts";
export type { ScopeStats } from "./scopes.ts";
export type { TablePlace } from "./segment_cache.ts";
export { ColdTier } from "./tier.ts";
