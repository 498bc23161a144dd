// Flush: one scope's buffered rows to a Parquet segment, in the four steps of DESIGN.md
// ("Storage invariants"): (1) inside a group commit, take S = a fresh `_seq`; once it commits,
// every row with `_seq` ≤ S is committed, and later writes get larger ones; (2) write
// `batch-<n>.parquet` (temp + fsync + rename, or one PUT); (3) write the manifest with the
// segment and its tombstones; (4) record the scope in `cold_scopes` and delete from the buffer
// exactly the versions written (`_seq` ≤ S, in chunks of keys). A crash before (3) leaves an
// unreferenced file (overwritten by the next flush); between (3) and (4) the rows are in both
// tiers and reads keep the one with the larger `_seq` (equal: the same row); the next flush
// skips rows with `_seq` ≤ the manifest's `flushedSeq` and finishes their deletion.

import type { Value } from "../../sql/mod.ts";
import type {
  ChangeLog,
  GroupCommit,
  Snowflake,
  SqlParam,
  TableInfo,
  WriteBuffer,
} from "../hot/mod.ts";
import { keyOf } from "../hot/mod.ts";
import type { ObjectStore } from "../object_store/mod.ts";
import { compareBounds } from "../parquet/mod.ts";
import { yieldToIo } from "../_time.ts";
import type { BuildResult, Encoder } from "./flush_encoder.ts";
import {
  encodeManifest,
  keyString,
  type Manifest,
  mayContain,
  type SegmentInfo,
  withSegment,
} from "./manifest.ts";
import { segmentInfo } from "./pruning.ts";
import type { ColdScopes } from "./scopes.ts";
import { keySetId, type SegmentCache, type TablePlace } from "./segment_cache.ts";
import { commonKeys, type SortedKeys } from "./segment_keys.ts";

export interface FlushResult {
  readonly rows: number;
  readonly files: number;
  readonly bytes: number;
}

const NOTHING: FlushResult = { rows: 0, files: 0, bytes: 0 };

/**
 * Flushed versions deleted per write (~2 ms of the writer). Each is a commit, but under load it
 * joins the requests' group commit, and alone an fsync costs well under a millisecond here.
 */
const DELETE_CHUNK = 16_384;

/** A scope's files as the tier keeps them: manifests (cached), directories, object stores. */
export interface ScopeFiles {
  /** The scope's manifest; `fresh` reads it from the store even when it is cached. */
  manifest(table: TableInfo, userId: string, fresh?: boolean): Promise<Manifest>;
  /** Makes `m` the scope's manifest for readers (after it was written). */
  publish(tableId: number, userId: string, m: Manifest): void;
  scopeDir(table: TablePlace, userId: string): string;
  objectStore(storageId: string): ObjectStore;
}

/** What a flush works with. */
export interface FlushParts {
  readonly files: ScopeFiles;
  readonly buffer: WriteBuffer;
  readonly changeLog: ChangeLog;
  readonly group: GroupCommit;
  readonly ids: Snowflake;
  readonly encoder: Encoder;
  /** The SQLite file the flush workers read. */
  readonly sqlitePath: string;
  readonly scopes: ColdScopes;
  readonly cache: SegmentCache;
}

/**
 * Test hook: `KALAMDB_CRASH_AT=flush:after-segment` (or `after-manifest`, `after-delete`) kills
 * the process with SIGKILL at that point of a flush, so tests can prove every step is crash-safe.
 */
const CRASH_AT = (() => {
  try {
    return Deno.env.get("KALAMDB_CRASH_AT");
  } catch {
    return undefined;
  }
})();

function crashPoint(name: string): void {
  if (CRASH_AT === name) Deno.kill(Deno.pid, "SIGKILL");
}

/** The four steps for one scope (the caller keeps flushes of one scope apart). */
export async function flushScope(
  p: FlushParts,
  table: TableInfo,
  userId: string,
): Promise<FlushResult> {
  // (1) the snapshot: taken inside a write so every row at or below it is committed on return.
  const snapshot = await p.group.run(() => takeSnapshot(p, table.id, userId), true);
  if (snapshot === null) return NOTHING;
  // A scope cold_scopes does not list is read from the store, never from the cache: a cached
  // manifest of it may be a dropped user's (or one a crashed flush wrote but did not record).
  const manifest = await p.files.manifest(table, userId, !p.scopes.has(table.id, userId));
  const built = await readAndEncode(p, table, userId, snapshot, manifest);
  // (2) and (3): the segment, then the manifest naming it.
  const written = built.bytes && built.stats
    ? await writeSegment(p, table, userId, manifest, built, snapshot)
    : undefined;
  // (4) record the scope, then drop exactly the flushed versions from the buffer. Also when this
  // flush wrote nothing new (it finishes one that crashed before recording the scope): reads
  // must merge the segments before the buffered copies go.
  const final = written?.manifest ?? manifest;
  if (final.segments.length) {
    await p.group.run(() => p.scopes.record(table.id, userId, final), true);
    p.scopes.show(table.id, userId, final);
  }
  await deleteFlushed(p, table.id, userId, built.chunks, snapshot);
  crashPoint("flush:after-delete");
  return written?.result ?? NOTHING;
}

/**
 * A `_seq` above every one assigned so far (statements take theirs inside group commit, so
 * once this write commits, each version below it is committed too), or null when the scope
 * has nothing buffered. A fresh id, not the scope's largest `_seq`: that needs a scan. It
 * becomes the manifest's flushedSeq, so it is also recorded as a floor for the ids after a
 * restart (a clock set back must not hand out ids the next flush would take as flushed).
 */
function takeSnapshot(p: FlushParts, tableId: number, userId: string): bigint | null {
  if (!p.buffer.hasRows(tableId, userId)) return null;
  const seq = p.ids.next();
  p.changeLog.recordSeqFloor(seq);
  return seq;
}

/**
 * The flush workers read the versions in primary-key order (the buffer's order) through their
 * own connection, decode and encode them; versions at or below the manifest's flushedSeq are
 * already in a segment (a flush that crashed before its step 4) and are only deleted after.
 */
function readAndEncode(
  p: FlushParts,
  table: TableInfo,
  userId: string,
  snapshot: bigint,
  manifest: Manifest,
): Promise<BuildResult> {
  return p.encoder.build({
    path: p.sqlitePath,
    tableId: table.id,
    userId,
    snapshot,
    flushedSeq: manifest.flushedSeq,
    pkType: table.schema.columns[table.schema.pkIndex].type.base,
    deleteChunk: DELETE_CHUNK,
    current: table.columns,
    versions: [...table.versions],
    columns: table.schema.columns.map((c) => ({ name: c.name, type: c.type })),
  });
}

/** Steps 2 and 3: the segment file, then the manifest that makes readers see it. */
async function writeSegment(
  p: FlushParts,
  table: TableInfo,
  userId: string,
  manifest: Manifest,
  built: BuildResult,
  snapshot: bigint,
): Promise<{ manifest: Manifest; result: FlushResult }> {
  const bytes = built.bytes!;
  const dir = p.files.scopeDir(table, userId);
  const file = `batch-${manifest.nextBatch}.parquet`;
  const segment = segmentInfo(table, file, built.rows, bytes, built.stats!);
  const store = p.files.objectStore(table.storageId);
  await store.put(`${dir}/${file}`, bytes);
  crashPoint("flush:after-segment");
  const tombstones = supersededKeys(p.cache, table, dir, manifest, segment, built);
  const next = withSegment(manifest, segment, tombstones, snapshot, Date.now());
  // (3) the manifest; readers see the segment from here on, before any buffered row goes away.
  await store.put(`${dir}/manifest.json`, encodeManifest(next));
  p.files.publish(table.id, userId, next);
  if (built.sorted) p.cache.rememberKeys(keySetId(table, dir, file), built.keys as SortedKeys);
  p.scopes.show(table.id, userId, next);
  crashPoint("flush:after-manifest");
  return { manifest: next, result: { rows: built.rows, files: 1, bytes: bytes.byteLength } };
}

/**
 * Tombstones: keys of the new segment that an older segment may also hold, with the new
 * version's `_seq`. Only segments whose key range overlaps the new one's can hold such keys
 * (none, for the usual ever-growing Snowflake ids), so most flushes skip the per-row check
 * entirely; and where an older segment's keys are known (flushed by this process, or decoded),
 * only the keys it really holds get one, so interleaved key ranges do not pile tombstones up.
 */
function supersededKeys(
  cache: SegmentCache,
  table: TableInfo,
  dir: string,
  manifest: Manifest,
  segment: SegmentInfo,
  built: BuildResult,
): Map<string, bigint> {
  const pkId = table.schema.columns[table.schema.pkIndex].id;
  const own = segment.stats.get(pkId);
  const overlapping = manifest.segments.filter((s) => {
    const st = s.stats.get(pkId);
    if (!own || own.min === null || own.max === null || !st || st.min === null) return true;
    if (st.max === null) return true;
    return compareBounds(own.min, st.max) <= 0 && compareBounds(st.min, own.max) <= 0;
  });
  const fresh: readonly Value[] | SortedKeys = built.keys;
  const tombstones = new Map<string, bigint>();
  const supersedes = (at: number) => {
    tombstones.set(keyString(keyOf(fresh[at] as Value)), built.seqs[at]);
  };
  for (const older of overlapping) {
    const known = built.sorted && cache.knownKeys(keySetId(table, dir, older.file));
    if (known) {
      commonKeys(known, fresh as SortedKeys, supersedes);
      continue;
    }
    // Keys unknown without a read: decoded ones answer exactly, else any key in range counts.
    const decoded = cache.decodedKeys(table, dir, older);
    for (let at = 0; at < fresh.length; at++) {
      const key = fresh[at] as Value;
      if (!mayContain(older, pkId, key, compareBounds)) continue;
      if (!decoded || decoded.has(keyString(keyOf(key)))) supersedes(at);
    }
  }
  return tombstones;
}

/**
 * Every buffered version with `_seq` ≤ the snapshot is in a segment now, and any later write has
 * a larger `_seq`: so "seq ≤ snapshot" within a key range deletes exactly flushed versions. It
 * runs in chunks of keys (each its own write) so that no single transaction holds up requests;
 * a crash between chunks leaves versions that the next flush recognises by `flushedSeq`.
 */
async function deleteFlushed(
  p: FlushParts,
  tableId: number,
  userId: string,
  chunks: readonly SqlParam[],
  snapshot: bigint,
): Promise<void> {
  for (let i = 0; i < chunks.length; i += 4) {
    const [first, last, rows, deleted] = chunks.slice(i, i + 4);
    await p.group.runRelaxed(() => {
      p.buffer.deleteFlushed(tableId, userId, first, last, snapshot, {
        rows: Number(rows),
        deleted: Number(deleted),
      });
    });
    await yieldToIo();
  }
}
