// The manifest of one flush scope (a user's partition of a table, or a shared table): its
// Parquet segments with row counts, bytes, `_seq` range and per-column stats, plus
// **tombstones** — primary keys whose versions in older segments are superseded (updated or
// deleted later) with the `_seq` that superseded them. A reader drops a segment row whose key has
// a tombstone with a larger `_seq`, so pruning the newer segment by its stats can never bring an
// old version back. `flushedSeq` is the snapshot of the last flush: every buffered row of the
// scope with `_seq` ≤ it is in a segment, which is how a restart finishes an interrupted flush.
// Stored as JSON (bigints and bytes tagged) next to the segments, written temp + rename.

import type { Value } from "../../sql/mod.ts";
import { type TaggedValue, tagValue, untagValue } from "../hot/mod.ts";

/** Min/max/null count of one column in a segment, by stable column id. */
export interface ColumnStats {
  readonly min: Value;
  readonly max: Value;
  readonly nulls: number;
}

export interface SegmentInfo {
  /** File name relative to the scope directory (`batch-3.parquet`). */
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
  readonly minSeq: bigint;
  readonly maxSeq: bigint;
  /** The columns as written: stable id → Parquet column name (names change with RENAME). */
  readonly columns: readonly { readonly id: number; readonly name: string }[];
  /** Stats by column id (user columns only). */
  readonly stats: ReadonlyMap<number, ColumnStats>;
}

export interface Manifest {
  readonly nextBatch: number;
  readonly flushedSeq: bigint;
  readonly segments: readonly SegmentInfo[];
  /** Key (see `keyString`) → the `_seq` that superseded older versions of it. */
  readonly tombstones: ReadonlyMap<string, bigint>;
  /** When the last flush of this scope finished (ms), or 0. */
  readonly lastFlushMs: number;
}

export const EMPTY_MANIFEST: Manifest = {
  nextBatch: 1,
  flushedSeq: 0n,
  segments: [],
  tombstones: new Map(),
  lastFlushMs: 0,
};

/** A primary-key value as a map key: type-tagged so 1 (INT) and "1" (TEXT) never collide. */
export function keyString(v: Value): string {
  if (typeof v === "bigint") return `b${v}`;
  if (typeof v === "number") return `n${v}`;
  if (typeof v === "string") return `s${v}`;
  if (typeof v === "boolean") return v ? "t" : "f";
  return `j${JSON.stringify(tagValue(v))}`;
}

/** True when a segment row (key, seq) is superseded by a later version elsewhere. */
export function isTombstoned(m: Manifest, key: string, seq: bigint): boolean {
  const t = m.tombstones.get(key);
  return t !== undefined && t > seq;
}

/** The manifest after adding one flushed segment and the tombstones it brings. */
export function withSegment(
  m: Manifest,
  segment: SegmentInfo,
  tombstones: ReadonlyMap<string, bigint>,
  flushedSeq: bigint,
  nowMs: number,
): Manifest {
  const merged = new Map(m.tombstones);
  for (const [k, seq] of tombstones) {
    const old = merged.get(k);
    if (old === undefined || seq > old) merged.set(k, seq);
  }
  return {
    nextBatch: m.nextBatch + 1,
    flushedSeq: flushedSeq > m.flushedSeq ? flushedSeq : m.flushedSeq,
    segments: [...m.segments, segment],
    tombstones: merged,
    lastFlushMs: nowMs,
  };
}

/** Could `key` be in a segment, judging by the segment's stats of the primary-key column? */
export function mayContain(
  s: SegmentInfo,
  pkId: number,
  key: Value,
  compare: (a: NonNullable<Value>, b: NonNullable<Value>) => number,
): boolean {
  const st = s.stats.get(pkId);
  if (!st || st.min === null || st.max === null || key === null) return true;
  return compare(key, st.min) >= 0 && compare(key, st.max) <= 0;
}

// ---------------------------------------------------------------- JSON form

interface SegmentJson {
  file: string;
  rows: number;
  bytes: number;
  min_seq: string;
  max_seq: string;
  columns: { id: number; name: string }[];
  stats: [number, TaggedValue, TaggedValue, number][];
}

interface ManifestJson {
  format: 1;
  next_batch: number;
  flushed_seq: string;
  last_flush_ms: number;
  segments: SegmentJson[];
  tombstones: [string, string][];
}

export function encodeManifest(m: Manifest): Uint8Array {
  const json: ManifestJson = {
    format: 1,
    next_batch: m.nextBatch,
    flushed_seq: m.flushedSeq.toString(),
    last_flush_ms: m.lastFlushMs,
    segments: m.segments.map((s) => ({
      file: s.file,
      rows: s.rows,
      bytes: s.bytes,
      min_seq: s.minSeq.toString(),
      max_seq: s.maxSeq.toString(),
      columns: s.columns.map((c) => ({ id: c.id, name: c.name })),
      stats: [...s.stats].map(([id, st]) => [id, tagValue(st.min), tagValue(st.max), st.nulls]),
    })),
    tombstones: [...m.tombstones].map(([k, seq]) => [k, seq.toString()]),
  };
  return new TextEncoder().encode(JSON.stringify(json));
}

export function decodeManifest(bytes: Uint8Array): Manifest {
  const json = JSON.parse(new TextDecoder().decode(bytes)) as ManifestJson;
  if (json.format !== 1) throw new Error(`unknown manifest format ${json.format}`);
  return {
    nextBatch: json.next_batch,
    flushedSeq: BigInt(json.flushed_seq),
    lastFlushMs: json.last_flush_ms,
    segments: json.segments.map((s) => ({
      file: s.file,
      rows: s.rows,
      bytes: s.bytes,
      minSeq: BigInt(s.min_seq),
      maxSeq: BigInt(s.max_seq),
      columns: s.columns,
      stats: new Map(
        s.stats.map(([id, min, max, nulls]) => [
          id,
          { min: untagValue(min), max: untagValue(max), nulls },
        ]),
      ),
    })),
    tombstones: new Map(json.tombstones.map(([k, seq]) => [k, BigInt(seq)])),
  };
}
