// Decoded segments in memory: whole segments or the part a scan needs (its columns and row
// groups), their parsed footers, and the sorted primary keys of segments this process flushed.
// All three are bounded; the least recently added go first.

import type { Row, ScanOptions, Value } from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import { keyOf, type TableInfo, untagValue } from "../hot/mod.ts";
import type { ObjectStore } from "../object_store/mod.ts";
import { decodeSegment, type SegmentMetadata, segmentMetadata } from "../parquet/mod.ts";
import { keyString, type SegmentInfo } from "./manifest.ts";
import { groupMayMatch } from "./pruning.ts";
import type { SortedKeys } from "./segment_keys.ts";

/** Decoded segment rows kept in memory (sum of rows over cached segments). */
const SEGMENT_CACHE_ROWS = 2_000_000;
/** Parsed segment footers kept (each a few KB). */
const FOOTERS = 20_000;
/** Keys of flushed segments kept in memory (8 bytes each for integer keys). */
const SEGMENT_KEYS = 8_000_000;

/** Where a table's files live: enough of TableInfo to find them after the table is dropped. */
export type TablePlace = Pick<TableInfo, "id" | "namespace" | "name" | "tableType" | "storageId">;

export interface CachedSegment {
  readonly rows: Row[];
  /** keyString(pk) → index in rows (built on first seek). */
  index?: Map<string, number>;
}

/** A segment the manifest lists but the store no longer has (a compaction deleted it). */
export class MissingSegment extends DbError {
  constructor(path: string) {
    super("STORAGE_ERROR", `Segment ${path} is missing`);
  }
}

/** Segment keys outlive table versions (keys do not change), so their id has no version. */
export function keySetId(table: TablePlace, dir: string, file: string): string {
  return `${table.id}:${dir}/${file}`;
}

/** keyString(pk) → row index of a decoded segment (built on first use). */
export function keyIndex(cached: CachedSegment, pk: number): Map<string, number> {
  return cached.index ??= new Map(cached.rows.map((r, i) => [keyString(keyOf(r[pk])), i]));
}

export class SegmentCache {
  #segments = new Map<string, CachedSegment>();
  /** Parsed footers of segments read (row-group statistics), to plan partial reads. */
  #footers = new Map<string, SegmentMetadata>();
  #cachedRows = 0;
  /**
   * The sorted primary keys of segments this process flushed (the worker lists them), so an
   * INSERT can tell that its keys are in no segment, and a flush which keys need a tombstone,
   * without decoding a segment. Bounded (least recently flushed out).
   */
  #segmentKeys = new Map<string, SortedKeys>();
  #segmentKeyCount = 0;
  /** Rows decoded from segment files since open (tests observe row-group pruning with it). */
  rowsDecoded = 0;

  /**
   * A segment's rows mapped onto the table's current columns (cached): whole, or for a scan that
   * needs fewer columns (ScanOptions.columns) or fewer row groups (its ranges against each
   * group's statistics) only those, the others left null or out. A whole cached segment serves
   * every read; a partial one serves reads that need the same part.
   */
  async load(
    table: TableInfo,
    dir: string,
    store: ObjectStore,
    seg: SegmentInfo,
    options: ScanOptions,
    pruning: boolean,
  ): Promise<CachedSegment> {
    const hit = this.cached(table, dir, seg, options, pruning);
    if (hit) return hit;
    const path = `${dir}/${seg.file}`;
    const bytes = await store.get(path);
    if (!bytes) throw new MissingSegment(path);
    const meta = this.#footer(keySetId(table, dir, seg.file), bytes);
    const part = readPart(table, seg, meta, options, pruning);
    const byId = new Map(seg.columns.map((c) => [c.id, c.name]));
    const names = part?.names ??
      table.columns.filter((c) => byId.has(c.id)).map((c) => byId.get(c.id)!);
    const decoded = await decodeSegment(bytes, {
      columns: [...names, "_seq", "_deleted"],
      metadata: meta,
      rowFilter: part?.groups && ((g) => part.groups!.has(g.index)),
    });
    this.rowsDecoded += decoded.rows.length;
    const rows = toCurrentColumns(table, byId, decoded);
    const entry: CachedSegment = { rows };
    this.#remember(cacheKey(table, dir, seg) + (part?.sig ?? ""), entry);
    return entry;
  }

  /** The cached rows that serve a read of `seg` (whole, or the part it needs), if any. */
  cached(
    table: TableInfo,
    dir: string,
    seg: SegmentInfo,
    options: ScanOptions,
    pruning: boolean,
  ): CachedSegment | undefined {
    const key = cacheKey(table, dir, seg);
    let hit = this.#segments.get(key);
    if (!hit && !options.keys && (options.columns || options.ranges)) {
      const meta = this.#footers.get(keySetId(table, dir, seg.file));
      const part = meta && readPart(table, seg, meta, options, pruning);
      if (part) hit = this.#segments.get(key + part.sig);
    }
    return hit;
  }

  /** The keys of a segment decoded in the cache, if it is. */
  decodedKeys(table: TableInfo, dir: string, seg: SegmentInfo): Map<string, number> | undefined {
    const cached = this.#segments.get(cacheKey(table, dir, seg));
    return cached && keyIndex(cached, table.schema.pkIndex);
  }

  /** The sorted keys of a segment this process flushed, if still remembered. */
  knownKeys(id: string): SortedKeys | undefined {
    return this.#segmentKeys.get(id);
  }

  rememberKeys(id: string, keys: SortedKeys): void {
    this.#segmentKeys.set(id, keys);
    this.#segmentKeyCount += keys.length;
    for (const [k, v] of this.#segmentKeys) {
      if (this.#segmentKeyCount <= SEGMENT_KEYS || k === id) break;
      this.#segmentKeys.delete(k);
      this.#segmentKeyCount -= v.length;
    }
  }

  /** Forgets a table's decoded segments, footers and key sets. */
  forget(tableId: number): void {
    for (const [k, v] of this.#segments) {
      if (k.startsWith(`${tableId}@`)) {
        this.#segments.delete(k);
        this.#cachedRows -= v.rows.length;
      }
    }
    for (const k of [...this.#footers.keys()]) {
      if (k.startsWith(`${tableId}:`)) this.#footers.delete(k);
    }
    for (const [k, v] of this.#segmentKeys) {
      if (k.startsWith(`${tableId}:`)) {
        this.#segmentKeys.delete(k);
        this.#segmentKeyCount -= v.length;
      }
    }
  }

  #footer(key: string, bytes: Uint8Array): SegmentMetadata {
    let meta = this.#footers.get(key);
    if (!meta) {
      meta = segmentMetadata(bytes);
      if (this.#footers.size >= FOOTERS) this.#footers.clear();
      this.#footers.set(key, meta);
    }
    return meta;
  }

  #remember(key: string, entry: CachedSegment): void {
    this.#segments.set(key, entry);
    this.#cachedRows += entry.rows.length;
    for (const [k, v] of this.#segments) {
      if (this.#cachedRows <= SEGMENT_CACHE_ROWS || k === key) break;
      this.#segments.delete(k);
      this.#cachedRows -= v.rows.length;
    }
  }
}

function cacheKey(table: TableInfo, dir: string, seg: SegmentInfo): string {
  return `${table.id}@${table.version}:${dir}/${seg.file}`;
}

/** Decoded segment rows in the table's current column order, then `_seq` and `_deleted`. */
function toCurrentColumns(
  table: TableInfo,
  byId: ReadonlyMap<number, string>,
  decoded: { columns: readonly string[]; rows: readonly (readonly Value[])[] },
): Row[] {
  const at = new Map(decoded.columns.map((n, i) => [n, i]));
  const plan = table.columns.map((c) => {
    const name = byId.get(c.id);
    if (name === undefined) return { from: undefined, fill: untagValue(c.fill) };
    return { from: at.get(name), fill: null }; // not read: null
  });
  const seqAt = at.get("_seq")!;
  const delAt = at.get("_deleted")!;
  return decoded.rows.map((src) => {
    const row: Value[] = plan.map((p) => p.from !== undefined ? src[p.from] : p.fill);
    row.push(src[seqAt], src[delAt]);
    return row;
  });
}

/**
 * The part of a segment a read needs: its columns (segment names) and row groups, and a cache
 * signature; undefined when that is all of it.
 */
function readPart(
  table: TableInfo,
  seg: SegmentInfo,
  meta: SegmentMetadata,
  options: ScanOptions,
  pruning: boolean,
): { names: string[]; groups?: Set<number>; sig: string } | undefined {
  // A key lookup decodes the whole segment, once: the lookups after it (the hot path) then hit
  // the whole cached segment without planning a part each time.
  if (options.keys) return undefined;
  const byId = new Map(seg.columns.map((c) => [c.id, c.name]));
  const present = table.columns.filter((c) => byId.has(c.id));
  const wantedIds = options.columns &&
    new Set(options.columns.map((i) => table.schema.columns[i]?.id));
  wantedIds?.add(table.schema.columns[table.schema.pkIndex].id);
  const names = present.filter((c) => !wantedIds || wantedIds.has(c.id)).map((c) =>
    byId.get(c.id)!
  );
  let groups: Set<number> | undefined;
  if (pruning && meta.rowGroups.length > 1 && options.ranges?.length) {
    const kept = meta.rowGroups.filter((g) => groupMayMatch(table, g, byId, options.ranges!));
    if (kept.length < meta.rowGroups.length) groups = new Set(kept.map((g) => g.index));
  }
  if (names.length === present.length && !groups) return undefined;
  const sig = `|c:${names.join(",")}|g:${groups ? [...groups].join(",") : "*"}`;
  return { names, groups, sig };
}
