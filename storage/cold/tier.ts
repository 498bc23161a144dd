// The cold tier's facade: flushing scopes to Parquet segments (flush.ts), compaction, moves and
// cleanup (compact.ts), and reading segments and buffer back as one table (merged_read.ts over
// segment_cache.ts). One code path for USER (scope = one user) and SHARED (scope = "") tables;
// STREAM tables never flush. This file owns what they share: manifests in memory, scope
// directories, object stores, and the per-scope lock that keeps flushes and compactions apart.
//
// Reads: the buffer snapshot is taken first (synchronously), then the manifest; since a flush
// publishes its manifest before deleting buffer rows, a reader always sees every row in at least
// one tier. `cold_scopes` says which scopes have segments, so a scope without any costs nothing.

import type { Row, ScanOptions, TableSource, Value } from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import {
  type BufferSnapshot,
  type Catalog,
  type ChangeLog,
  type GroupCommit,
  keyOf,
  type Snowflake,
  type SqliteStore,
  type TableInfo,
  type WriteBuffer,
} from "../hot/mod.ts";
import { type ObjectStore, openObjectStore } from "../object_store/mod.ts";
import { compareBounds } from "../parquet/mod.ts";
import {
  type CompactParts,
  type CompactResult,
  compactScope,
  deleteFiles,
  moveTable,
} from "./compact.ts";
import { Encoder } from "./flush_encoder.ts";
import { type FlushParts, type FlushResult, flushScope, type ScopeFiles } from "./flush.ts";
import {
  decodeManifest,
  EMPTY_MANIFEST,
  keyString,
  type Manifest,
  mayContain,
  type SegmentInfo,
} from "./manifest.ts";
import {
  batches,
  bufferVersions,
  combine,
  neededSegments,
  type ScanCounter,
} from "./merged_read.ts";
import { storeConfig } from "./pruning.ts";
import { ColdScopes, type ScopeStats } from "./scopes.ts";
import {
  type CachedSegment,
  keySetId,
  MissingSegment,
  SegmentCache,
  type TablePlace,
} from "./segment_cache.ts";
import { hasKey } from "./segment_keys.ts";
import { scopeSnapshotRows } from "./segment_stream.ts";
import { buildScopeDir } from "./scope_dir.ts";

/** Scopes whose directory is remembered per table object (cleared when full). */
const DIR_MEMO = 100_000;

export class ColdTier implements ScopeFiles, ScanCounter {
  #catalog: Catalog;
  #buffer: WriteBuffer;
  #cache = new SegmentCache();
  #scopes: ColdScopes;
  #objectStores = new Map<string, { config: string; store: ObjectStore }>();
  #manifests = new Map<string, Manifest>();
  /** Per scope, the end of its latest flush or compaction (see `#exclusive`). */
  #scopeWork = new Map<string, Promise<void>>();
  /** Scopes `holdScopes` holds: table flushes and compactions pass them by. */
  #held = new Set<string>();
  /** scopeDir per table object and user (the storage object tells when a template changed). */
  #dirs = new WeakMap<TablePlace, { storage: unknown; dirs: Map<string, string> }>();
  #encoder: Encoder;
  #flush: FlushParts;
  #compactParts: CompactParts;
  /**
   * Skip segments and row groups by their statistics (benchmarks turn it off to measure the
   * difference).
   */
  pruning = true;
  /** Segments read by scans since open (tests and benchmarks observe pruning with it). */
  segmentsScanned = 0;
  /** Wraps each storage's object store as it is opened (fault injection, instrumentation). */
  wrapStore?: (storageId: string, store: ObjectStore) => ObjectStore;

  constructor(
    catalog: Catalog,
    buffer: WriteBuffer,
    changeLog: ChangeLog,
    store: SqliteStore,
    group: GroupCommit,
    ids: Snowflake,
  ) {
    this.#catalog = catalog;
    this.#buffer = buffer;
    this.#scopes = new ColdScopes(store);
    this.#encoder = new Encoder(store.path, (elsewhere) => store.checkpointElsewhere(elsewhere));
    this.#flush = {
      files: this,
      buffer,
      changeLog,
      group,
      ids,
      encoder: this.#encoder,
      sqlitePath: store.path,
      scopes: this.#scopes,
      cache: this.#cache,
    };
    this.#compactParts = {
      files: this,
      group,
      scopes: this.#scopes,
      cache: this.#cache,
      counter: this,
    };
  }

  /** Rows decoded from segment files since open (tests observe row-group pruning with it). */
  get rowsDecoded(): number {
    return this.#cache.rowsDecoded;
  }

  /** Per-scope cold stats of a table (empty when nothing was flushed). */
  stats(tableId: number): ReadonlyMap<string, ScopeStats> {
    return this.#scopes.of(tableId);
  }

  /** True when the scope has segments (else reads are buffer-only). */
  hasColdData(tableId: number, userId: string): boolean {
    return this.#scopes.has(tableId, userId);
  }

  // ------------------------------------------------------------------ flush, compaction, moves

  /**
   * Flushes every scope of a table that has buffered rows, but those an export holds
   * (`holdScopes`): they stay buffered for a later flush instead of holding up the other users.
   */
  async flushTable(table: TableInfo, signal?: AbortSignal): Promise<FlushResult> {
    if (table.tableType === "STREAM") {
      throw new DbError("UNSUPPORTED", "STREAM tables are never flushed to Parquet");
    }
    let rows = 0, files = 0, bytes = 0;
    for (const user of [...this.#buffer.scopeRows(table.id).keys()]) {
      if (signal?.aborted) throw new DbError("QUERY_TIMEOUT", "Flush cancelled");
      if (this.#held.has(scopeKey(table.id, user))) continue;
      const r = await this.flushScope(table, user);
      rows += r.rows;
      files += r.files;
      bytes += r.bytes;
    }
    this.#buffer.counts.recount(table.id);
    return { rows, files, bytes };
  }

  /** The four flush steps for one scope, once its flush or compaction in flight is done. */
  flushScope(table: TableInfo, userId: string): Promise<FlushResult> {
    return this.#exclusive(table.id, userId, () => flushScope(this.#flush, table, userId));
  }

  /** COMPACT TABLE: every scope with segments is rewritten (see compact.ts) but held ones. */
  async compactTable(table: TableInfo, signal?: AbortSignal): Promise<CompactResult> {
    let before = 0, after = 0, files = 0;
    for (const userId of [...this.stats(table.id).keys()]) {
      if (signal?.aborted) throw new DbError("QUERY_TIMEOUT", "Compaction cancelled");
      if (this.#held.has(scopeKey(table.id, userId))) continue;
      const r = await this.compactScope(table, userId);
      before += r.rowsBefore;
      after += r.rowsAfter;
      files += r.filesRemoved;
    }
    return { rowsBefore: before, rowsAfter: after, filesRemoved: files };
  }

  compactScope(table: TableInfo, userId: string): Promise<CompactResult> {
    return this.#exclusive(table.id, userId, () => compactScope(this.#compactParts, table, userId));
  }

  /** Copies a table's files to storage `to`, switches over in one write, deletes the old. */
  moveTable(
    table: TableInfo,
    to: string,
    switchOver: () => void,
    signal?: AbortSignal,
  ): Promise<{ files: number; bytes: number }> {
    return moveTable(this.#compactParts, table, to, switchOver, signal);
  }

  /**
   * Runs `work` after the scope's earlier flushes and compactions. Each reads the manifest, adds
   * to it and writes it back: two at once would start from the same one, and the one written
   * last would drop the other's segment, whose rows are already gone from the buffer. (Jobs run
   * one at a time, but `flushTable` is also called directly, beside an auto-flush job.)
   */
  async #exclusive<T>(tableId: number, userId: string, work: () => Promise<T>): Promise<T> {
    const key = scopeKey(tableId, userId);
    const before = this.#scopeWork.get(key);
    let done!: () => void;
    const mine = new Promise<void>((resolve) => done = resolve);
    this.#scopeWork.set(key, mine);
    try {
      await before;
      return await work();
    } finally {
      if (this.#scopeWork.get(key) === mine) this.#scopeWork.delete(key);
      done();
    }
  }

  /**
   * Runs `work` while no flush or compaction touches user `userId`'s scope of any of `tableIds`:
   * their manifests and segment files stay as they are, so a read spanning many awaits (an
   * export) sees one set of files. A flush or compaction of a whole table passes those scopes
   * by; one of such a scope itself waits.
   */
  holdScopes<T>(tableIds: readonly number[], userId: string, work: () => Promise<T>): Promise<T> {
    const [first, ...rest] = tableIds;
    if (first === undefined) return work();
    return this.#exclusive(first, userId, async () => {
      const key = scopeKey(first, userId);
      this.#held.add(key);
      try {
        return await this.holdScopes(rest, userId, work);
      } finally {
        this.#held.delete(key);
      }
    });
  }

  /** A scope's rows from a buffer snapshot and its manifest, held (segment_stream.ts). */
  snapshotRows(table: TableInfo, userId: string, buffer: BufferSnapshot, manifest?: Manifest) {
    return scopeSnapshotRows(this, table, userId, buffer, manifest);
  }

  /** The scopes of a table that may have files (recorded ones and buffered ones). */
  scopesOf(table: TableInfo): string[] {
    const scopes = new Set(this.stats(table.id).keys());
    for (const user of this.#buffer.scopeRows(table.id).keys()) scopes.add(user);
    return [...scopes];
  }

  /** Forgets a dropped table's scopes, or a dropped user's one (inside the DROP's write). */
  dropScopes(tableId: number, userId?: string): void {
    if (userId === undefined) this.#scopes.dropTable(tableId);
    else this.#scopes.forgetScope(tableId, userId);
  }

  /** After DROP USER committed: the user's scopes and whatever was cached of them are gone. */
  forgetUser(tableIds: readonly number[], userId: string): void {
    for (const id of tableIds) this.#scopes.unlist(id, userId);
    for (const id of tableIds) this.forget(id);
  }

  /** The files each scope's manifest lists: a dropped table's, or (held) a dropped user's. */
  deleteFiles(place: TablePlace, scopes: readonly string[]): Promise<number> {
    this.forget(place.id);
    return deleteFiles(this, place, scopes);
  }

  /** Forgets a table's cached manifests and segments (drop, alter, storage move). */
  forget(tableId: number): void {
    for (const k of this.#manifests.keys()) {
      if (k.startsWith(`${tableId}/`)) this.#manifests.delete(k);
    }
    this.#cache.forget(tableId);
  }

  /** Starts the flush workers ahead of the first flush (their start-up takes a while). */
  warmUp(): void {
    this.#encoder.start();
  }

  /** Stops the flush worker (at close). */
  close(): Promise<void> {
    return this.#encoder.close();
  }

  // ------------------------------------------------------------------ paths, stores, manifests

  /** The object store of a storage id (rebuilt when its configuration changes). */
  objectStore(storageId: string): ObjectStore {
    const info = this.#catalog.storage(storageId);
    if (!info) throw new DbError("NOT_FOUND", `Storage "${storageId}" does not exist`);
    const config = `${JSON.stringify(info.config)}@${info.updatedAt}`;
    const hit = this.#objectStores.get(storageId);
    if (hit && hit.config === config) return hit.store;
    const opened = openObjectStore(storeConfig(info, this.#catalog.storageSecret(storageId)));
    const store = this.wrapStore?.(storageId, opened) ?? opened;
    this.#objectStores.set(storageId, { config, store });
    return store;
  }

  /** The scope's directory from the storage's path template. */
  scopeDir(table: TablePlace, userId: string): string {
    const info = this.#catalog.storage(table.storageId);
    if (!info) throw new DbError("NOT_FOUND", `Storage "${table.storageId}" does not exist`);
    let memo = this.#dirs.get(table);
    if (!memo || memo.storage !== info || memo.dirs.size >= DIR_MEMO) {
      memo = { storage: info, dirs: new Map() };
      this.#dirs.set(table, memo);
    }
    let dir = memo.dirs.get(userId);
    if (dir === undefined) {
      dir = buildScopeDir(info.config, table, userId);
      memo.dirs.set(userId, dir);
    }
    return dir;
  }

  /** A scope's manifest (cached unless `fresh`; EMPTY when nothing was flushed). */
  async manifest(table: TableInfo, userId: string, fresh = false): Promise<Manifest> {
    const key = scopeKey(table.id, userId);
    const hit = this.#manifests.get(key);
    if (hit && !fresh) return hit;
    if (fresh) this.#manifests.delete(key);
    const bytes = await this.objectStore(table.storageId).get(
      `${this.scopeDir(table, userId)}/manifest.json`,
    );
    const m = bytes ? decodeManifest(bytes) : EMPTY_MANIFEST;
    // A flush or compaction may have published a newer one while this read was under way.
    const newer = this.#manifests.get(key);
    if (newer) return newer;
    this.#manifests.set(key, m);
    return m;
  }

  publish(tableId: number, userId: string, m: Manifest): void {
    this.#manifests.set(scopeKey(tableId, userId), m);
  }

  // ------------------------------------------------------------------ reads

  /**
   * A TableSource over buffer + segments of one scope. Without cold data it is the buffer's
   * own source (synchronous fast path).
   */
  source(table: TableInfo, userId: string, buffered: TableSource): TableSource {
    if (!this.hasColdData(table.id, userId)) return buffered;
    // A read whose segments are all decoded in memory needs no wait: the query can then run in
    // one synchronous step, as buffer-only reads do. The manifest is looked up in that step (the
    // buffer is read in it too, so no flush can come between them).
    let last: { options: ScanOptions; m: Manifest; loaded: Map<SegmentInfo, CachedSegment> };
    const cached = (options: ScanOptions) => {
      const m = this.#manifests.get(scopeKey(table.id, userId));
      if (!m) return undefined;
      if (last?.options !== options || last.m !== m) {
        const loaded = this.#cachedSegments(table, userId, m, options);
        if (!loaded) return undefined;
        last = { options, m, loaded };
      }
      return last;
    };
    return {
      schema: buffered.schema,
      scan: (options) => this.#mergedScan(table, userId, buffered, options),
      scanSync: (options) => {
        const hit = cached(options);
        if (!hit) throw new Error("scanSync of a read whose segments are not cached");
        const newest = bufferVersions(table, buffered, options);
        return batches(combine(table, hit.m, newest, hit.loaded, options, this), options);
      },
      readyFor: (options) => cached(options) !== undefined,
    };
  }

  /** A merged read that loads what it needs (manifest, segments) first. */
  async *#mergedScan(
    table: TableInfo,
    userId: string,
    buffered: TableSource,
    options: ScanOptions,
  ): AsyncGenerator<Row[]> {
    // A compaction may delete the files of the manifest a read started with: read again.
    for (let attempt = 0;; attempt++) {
      let rows: Row[];
      try {
        rows = await this.#mergeOnce(table, userId, buffered, options);
      } catch (err) {
        if (!(err instanceof MissingSegment) || attempt >= 3) throw err;
        continue;
      }
      yield* batches(rows, options);
      return;
    }
  }

  async #mergeOnce(
    table: TableInfo,
    userId: string,
    buffered: TableSource,
    options: ScanOptions,
  ): Promise<Row[]> {
    // WriteBuffer first (see the file comment), then the manifest and the segments it needs.
    const newest = bufferVersions(table, buffered, options);
    const m = await this.manifest(table, userId);
    const loaded = await this.#load(table, userId, m, options);
    return combine(table, m, newest, loaded, options, this);
  }

  /** Loads (or finds cached) the segments of `m` that a read with `options` needs. */
  async #load(
    table: TableInfo,
    userId: string,
    m: Manifest,
    options: ScanOptions,
  ): Promise<Map<SegmentInfo, CachedSegment>> {
    const dir = this.scopeDir(table, userId);
    const loaded = new Map<SegmentInfo, CachedSegment>();
    for (const seg of neededSegments(table, m, options, this.pruning)) {
      // The object store only on a miss: finding it costs a catalog lookup and a config check.
      const hit = this.#cache.cached(table, dir, seg, options, this.pruning) ??
        await this.#cache.load(
          table,
          dir,
          this.objectStore(table.storageId),
          seg,
          options,
          this.pruning,
        );
      loaded.set(seg, hit);
    }
    return loaded;
  }

  /** Loads a scope's manifest and segments into the caches (before `scanCachedSync`). */
  async preload(table: TableInfo, userId: string, options: ScanOptions = {}): Promise<void> {
    await this.#load(table, userId, await this.manifest(table, userId), options);
  }

  /**
   * The merged rows of a scope in one synchronous step, when its manifest and every segment it
   * needs are cached (see `preload`); undefined otherwise. Live-query snapshots use it so that
   * reading and subscribing happen with nothing committed in between.
   */
  scanCachedSync(
    table: TableInfo,
    userId: string,
    buffered: TableSource,
    options: ScanOptions,
  ): Row[] | undefined {
    if (!this.hasColdData(table.id, userId)) return undefined;
    const m = this.#manifests.get(scopeKey(table.id, userId));
    const loaded = m && this.#cachedSegments(table, userId, m, options);
    if (!loaded) return undefined;
    return combine(table, m, bufferVersions(table, buffered, options), loaded, options, this);
  }

  /** The segments a read needs, when all of them are cached. */
  #cachedSegments(
    table: TableInfo,
    userId: string,
    m: Manifest,
    options: ScanOptions,
  ): Map<SegmentInfo, CachedSegment> | undefined {
    const dir = this.scopeDir(table, userId);
    const loaded = new Map<SegmentInfo, CachedSegment>();
    for (const seg of neededSegments(table, m, options, this.pruning)) {
      const hit = this.#cache.cached(table, dir, seg, options, this.pruning);
      if (!hit) return undefined;
      loaded.set(seg, hit);
    }
    return loaded;
  }

  /**
   * True when none of `keys` can be in any segment of the scope, decided from the cached
   * manifest, segment statistics, the scope's key set and decoded segments alone; false when
   * that cannot be told without reading (then the caller does the merged read).
   */
  keysAbsentSync(table: TableInfo, userId: string, keys: readonly Value[]): boolean {
    const m = this.#manifests.get(scopeKey(table.id, userId));
    if (!m) return false;
    const pkId = table.schema.columns[table.schema.pkIndex].id;
    let dir: string | undefined;
    for (const seg of m.segments) {
      for (const key of keys) {
        if (key === null || !mayContain(seg, pkId, key, compareBounds)) continue;
        dir ??= this.scopeDir(table, userId);
        const known = this.#cache.knownKeys(keySetId(table, dir, seg.file));
        if (known) {
          if (hasKey(known, key)) return false;
          continue;
        }
        const decoded = this.#cache.decodedKeys(table, dir, seg);
        if (!decoded || decoded.has(keyString(keyOf(key)))) return false;
      }
    }
    return true;
  }
}

function scopeKey(tableId: number, userId: string): string {
  return `${tableId}/${userId}`;
}
