// Rewriting and moving a table's files: compaction (one segment per scope, without superseded
// versions, tombstones and deleted rows), a move to another storage, and the dropped table's
// cleanup. Each publishes what readers need before it deletes what they used.

import { DbError } from "../../errors.ts";
import type { GroupCommit, TableInfo } from "../hot/mod.ts";
import { encodeSegment } from "../parquet/mod.ts";
import {
  decodeManifest,
  EMPTY_MANIFEST,
  encodeManifest,
  type Manifest,
  type SegmentInfo,
} from "./manifest.ts";
import type { ScopeFiles } from "./flush.ts";
import { combine, type ScanCounter } from "./merged_read.ts";
import { segmentInfo } from "./pruning.ts";
import type { ColdScopes } from "./scopes.ts";
import {
  type CachedSegment,
  MissingSegment,
  type SegmentCache,
  type TablePlace,
} from "./segment_cache.ts";

export interface CompactResult {
  readonly rowsBefore: number;
  readonly rowsAfter: number;
  readonly filesRemoved: number;
}

/** What compaction and moves work with. */
export interface CompactParts {
  readonly files: ScopeFiles;
  readonly group: GroupCommit;
  readonly scopes: ColdScopes;
  readonly cache: SegmentCache;
  readonly counter: ScanCounter;
}

/**
 * Rewrites a scope's segments as one, without superseded versions, tombstones and deleted
 * rows; merges small files. The new manifest is published before old files are deleted, and a
 * reader that still used the old manifest retries (the caller keeps work on one scope apart).
 */
export async function compactScope(
  p: CompactParts,
  table: TableInfo,
  userId: string,
): Promise<CompactResult> {
  const m = await p.files.manifest(table, userId);
  if (m.segments.length === 0) return { rowsBefore: 0, rowsAfter: 0, filesRemoved: 0 };
  const dir = p.files.scopeDir(table, userId);
  const store = p.files.objectStore(table.storageId);
  // The segments' newest live version per key: the read path's merge with an empty buffer.
  const loaded = new Map<SegmentInfo, CachedSegment>();
  let before = 0;
  for (const seg of m.segments) {
    const cached = await p.cache.load(table, dir, store, seg, {}, false);
    loaded.set(seg, cached);
    before += cached.rows.length;
  }
  const live = combine(table, m, new Map(), loaded, {}, p.counter);
  let next: Manifest = { ...m, segments: [], tombstones: new Map(), lastFlushMs: Date.now() };
  if (live.length) {
    const columns = table.schema.columns.map((c) => ({ name: c.name, type: c.type }));
    const { bytes, stats } = encodeSegment(columns, live);
    const segment = segmentInfo(table, `batch-${m.nextBatch}.parquet`, live.length, bytes, stats);
    await store.put(`${dir}/${segment.file}`, bytes);
    next = { ...next, nextBatch: m.nextBatch + 1, segments: [segment] };
  }
  await store.put(`${dir}/manifest.json`, encodeManifest(next));
  p.files.publish(table.id, userId, next);
  await p.group.run(() => p.scopes.record(table.id, userId, next), true);
  p.scopes.show(table.id, userId, next);
  for (const seg of m.segments) await store.delete(`${dir}/${seg.file}`);
  return { rowsBefore: before, rowsAfter: live.length, filesRemoved: m.segments.length };
}

/**
 * Copies every segment and manifest of a table to storage `to`, then runs `switchOver` in one
 * write (the catalog's storage id changes there), then deletes the old files. Readers use the
 * old storage until the switch and the new one after; the job runner serializes this with the
 * table's flushes and compactions.
 */
export async function moveTable(
  p: CompactParts,
  table: TableInfo,
  to: string,
  switchOver: () => void,
  signal?: AbortSignal,
): Promise<{ files: number; bytes: number }> {
  const from = p.files.objectStore(table.storageId);
  const dest = p.files.objectStore(to);
  const moved: { userId: string; scope: string; dst: string; files: string[] }[] = [];
  let files = 0, bytes = 0;
  for (const userId of p.scopes.of(table.id).keys()) {
    if (signal?.aborted) throw new DbError("QUERY_TIMEOUT", "Move cancelled");
    const m = await p.files.manifest(table, userId);
    const src = p.files.scopeDir(table, userId);
    const dst = p.files.scopeDir({ ...table, storageId: to }, userId);
    for (const seg of m.segments) {
      const data = await from.get(`${src}/${seg.file}`);
      if (!data) throw new MissingSegment(`${src}/${seg.file}`);
      await dest.put(`${dst}/${seg.file}`, data);
      files++;
      bytes += data.byteLength;
    }
    await dest.put(`${dst}/manifest.json`, encodeManifest(m));
    const names = [...m.segments.map((s) => s.file), "manifest.json"];
    moved.push({ userId, scope: src, dst, files: names });
  }
  await p.group.run(switchOver, true);
  // A user dropped while the files were copied (DROP USER erased them on the old storage and
  // forgot the scope): the copies on the new storage go too, nothing of theirs is left there.
  const live = p.scopes.of(table.id);
  for (const { userId, dst, files } of moved) {
    if (live.has(userId)) continue;
    for (const f of files) await dest.delete(`${dst}/${f}`);
  }
  for (const { scope, files } of moved) {
    for (const f of files) await from.delete(`${scope}/${f}`);
  }
  return { files, bytes };
}

/**
 * Deletes the files of the given scopes of a dropped table (the cleanup job): exactly what each
 * scope's manifest lists, the one segment name a crashed flush may have left (the manifest's
 * next batch), and the manifest last — never a directory listing, so nothing that some other
 * object wrote beside them can be taken.
 */
export async function deleteFiles(
  files: ScopeFiles,
  place: TablePlace,
  scopes: readonly string[],
): Promise<number> {
  const store = files.objectStore(place.storageId);
  let n = 0;
  for (const userId of scopes) {
    const dir = files.scopeDir(place, userId);
    const bytes = await store.get(`${dir}/manifest.json`);
    const m = bytes ? decodeManifest(bytes) : EMPTY_MANIFEST;
    const names = [...m.segments.map((s) => s.file), `batch-${m.nextBatch}.parquet`];
    for (const file of [...names, "manifest.json"]) {
      if (!(await store.head(`${dir}/${file}`))) continue;
      await store.delete(`${dir}/${file}`);
      n++;
    }
  }
  return n;
}
