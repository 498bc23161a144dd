// The merged read of one scope: the newest version of each key over the buffer's versions and
// the segments' rows, tombstones applied — one function for scans, key lookups, live snapshots
// and compaction. Pure over what the caller loaded; the tier decides what to load.

import { compareValues, type Row, type ScanOptions, type TableSource } from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import { keyOf, type TableInfo } from "../hot/mod.ts";
import { compareBounds } from "../parquet/mod.ts";
import {
  isTombstoned,
  keyString,
  type Manifest,
  mayContain,
  type SegmentInfo,
} from "./manifest.ts";
import { mayMatch } from "./pruning.ts";
import { type CachedSegment, keyIndex } from "./segment_cache.ts";

const BATCH = 1024;

/** What a merge counts (tests and benchmarks observe pruning with it). */
export interface ScanCounter {
  segmentsScanned: number;
}

/** The segments a read must look at: pk range for seeks, statistics for scans. */
export function neededSegments(
  table: TableInfo,
  m: Manifest,
  options: ScanOptions,
  pruning: boolean,
): SegmentInfo[] {
  const pk = table.schema.pkIndex;
  if (options.keys) {
    const pkId = table.schema.columns[pk].id;
    return m.segments.filter((seg) =>
      options.keys!.some((key) => key !== null && mayContain(seg, pkId, key, compareBounds))
    );
  }
  // Statistics pruning: a segment that cannot hold a matching row is not read. Its rows' newer
  // versions elsewhere are covered by tombstones, so skipping it hides nothing.
  const ranges = pruning ? options.ranges : undefined;
  return ranges ? m.segments.filter((seg) => mayMatch(table, seg, ranges)) : [...m.segments];
}

/** Newest version per key over buffer versions and segment rows; tombstones applied. */
export function combine(
  table: TableInfo,
  m: Manifest,
  newest: Map<string, Row>,
  loaded: ReadonlyMap<SegmentInfo, CachedSegment>,
  options: ScanOptions,
  counter: ScanCounter,
): Row[] {
  const pk = table.schema.pkIndex;
  const seqAt = table.schema.columns.length - 2;
  const live = (r: Row | undefined): r is Row =>
    r !== undefined && (options.includeDeleted || !r[seqAt + 1]);
  if (options.keys) {
    // Key lookups: the newest version of each key, found through the segments' key index.
    const found = new Map<string, Row | undefined>();
    for (const key of options.keys) {
      if (key === null) continue;
      const k = keyString(keyOf(key));
      if (!found.has(k)) found.set(k, newestOf(k, newest.get(k), loaded.values(), m, pk, seqAt));
    }
    const out = [...found.values()].filter(live);
    return out.length > 1 ? out.sort((a, b) => compareValues(a[pk]!, b[pk]!)) : out;
  }
  const fast = disjoint(table, m, newest, loaded, options, counter);
  if (fast) return fast;
  for (const cached of loaded.values()) {
    counter.segmentsScanned++;
    for (const r of cached.rows) {
      const k = keyString(keyOf(r[pk]));
      if (isTombstoned(m, k, r[seqAt] as bigint)) continue;
      const cur = newest.get(k);
      if (!cur || (cur[seqAt] as bigint) < (r[seqAt] as bigint)) newest.set(k, r);
    }
  }
  return [...newest.values()].filter(live).sort((a, b) => compareValues(a[pk]!, b[pk]!));
}

/**
 * The common case of a flushed scan: nothing buffered, no tombstones, integer keys and segments
 * whose key ranges do not overlap. Then no key can appear twice, and the segments in key order,
 * each already sorted, are the answer: no per-row map, no sort.
 */
function disjoint(
  table: TableInfo,
  m: Manifest,
  newest: Map<string, Row>,
  loaded: ReadonlyMap<SegmentInfo, CachedSegment>,
  options: ScanOptions,
  counter: ScanCounter,
): Row[] | undefined {
  const pk = table.schema.columns[table.schema.pkIndex];
  if (newest.size || m.tombstones.size) return undefined;
  if (!["SMALLINT", "INT", "BIGINT"].includes(pk.type.base)) return undefined;
  const parts = [...loaded].map(([seg, cached]) => ({ st: seg.stats.get(pk.id), cached }));
  if (parts.some((p) => !p.st || p.st.min === null || p.st.max === null)) return undefined;
  parts.sort((a, b) => compareBounds(a.st!.min!, b.st!.min!));
  for (let i = 1; i < parts.length; i++) {
    if (compareBounds(parts[i].st!.min!, parts[i - 1].st!.max!) <= 0) return undefined;
  }
  const deletedAt = table.schema.columns.length - 1;
  const out: Row[] = [];
  for (const p of parts) {
    counter.segmentsScanned++;
    for (const r of p.cached.rows) if (options.includeDeleted || !r[deletedAt]) out.push(r);
  }
  return out;
}

/** The newest version of key `k` among `buffered` and the segments' rows, tombstones applied. */
function newestOf(
  k: string,
  buffered: Row | undefined,
  segments: Iterable<CachedSegment>,
  m: Manifest,
  pk: number,
  seqAt: number,
): Row | undefined {
  let best = buffered;
  for (const cached of segments) {
    const at = keyIndex(cached, pk).get(k);
    if (at === undefined) continue;
    const r = cached.rows[at];
    if (isTombstoned(m, k, r[seqAt] as bigint)) continue;
    if (!best || (best[seqAt] as bigint) < (r[seqAt] as bigint)) best = r;
  }
  return best;
}

/** The buffer's versions of a scope (deleted ones too: they hide flushed rows), by key. */
export function bufferVersions(
  table: TableInfo,
  buffered: TableSource,
  options: ScanOptions,
): Map<string, Row> {
  const pk = table.schema.pkIndex;
  const newest = new Map<string, Row>();
  if (!buffered.scanSync) throw new Error("buffer source without scanSync");
  for (const batch of buffered.scanSync({ keys: options.keys, includeDeleted: true })) {
    for (const r of batch) newest.set(keyString(keyOf(r[pk])), r);
  }
  return newest;
}

/** Merged rows in batches of BATCH, checking the statement's deadline between them. */
export function* batches(rows: Row[], options: ScanOptions): Generator<Row[]> {
  if (rows.length <= BATCH) {
    yield rows;
    return;
  }
  for (let i = 0; i < rows.length; i += BATCH) {
    if (options.signal?.aborted) throw new DbError("QUERY_TIMEOUT", "Query cancelled/timeout");
    yield rows.slice(i, i + BATCH);
  }
}
