// The cold tier: flushing a scope's buffered rows to a Parquet segment and reading segments and
// buffer back as one table. One code path for USER (scope = one user) and SHARED (scope = "")
// tables; STREAM tables never flush.
//
// Flush (DESIGN.md "Storage invariants"): (1) inside a group commit, take S = a fresh `_seq`;
// once it commits, every row with `_seq` ≤ S is committed, and later writes get larger ones;
// (2) write `batch-<n>.parquet` (temp + fsync + rename, or one PUT); (3) write the manifest with
// the segment and its tombstones; (4) record the scope in `cold_scopes` and delete from the
// buffer exactly the versions written (`_seq` ≤ S, in chunks of keys). A crash before (3)
// leaves an unreferenced file (overwritten by the next flush); between (3) and (4) the rows are in
// both tiers and reads keep the one with the larger `_seq` (equal: the same row); the next flush
// skips rows with `_seq` ≤ the manifest's `flushedSeq` and finishes their deletion.
//
// Reads: the buffer snapshot is taken first (synchronously), then the manifest; since a flush
// publishes its manifest before deleting buffer rows, a reader always sees every row in at least
// one tier. `cold_scopes` says which scopes have segments, so a scope without any costs nothing.

import {
  compareValues,
  type Row,
  type ScanOptions,
  type TableSource,
  type Value,
} from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import {
  type Buffer,
  type Catalog,
  type GroupCommit,
  keyOf,
  type Snowflake,
  type SqliteStore,
  type TableInfo,
  untagValue,
} from "../hot/mod.ts";
import {
  decodeManifest,
  EMPTY_MANIFEST,
  encodeManifest,
  isTombstoned,
  keyString,
  type Manifest,
  mayContain,
  type SegmentInfo,
  withSegment,
} from "./manifest.ts";
import { checkObjectPath, type ObjectStore, openObjectStore } from "../object_store/mod.ts";
import {
  compareBounds,
  decodeSegment,
  encodeSegment,
  type SegmentMetadata,
  segmentMetadata,
} from "../parquet/mod.ts";
import { Encoder } from "./flush_encoder.ts";
import { commonKeys, hasKey, type SortedKeys } from "./segment_keys.ts";
import { groupMayMatch, mayMatch, segmentInfo, storeConfig } from "./pruning.ts";
import { yieldToIo } from "../_time.ts";

const BATCH = 1024;

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
/** Decoded segment rows kept in memory (sum of rows over cached segments). */
const SEGMENT_CACHE_ROWS = 2_000_000;

/** What `cold_scopes` records per scope (SHOW STATS, read fast path). */
export interface ScopeStats {
  readonly rows: number;
  readonly segments: number;
  readonly bytes: number;
  readonly lastFlushMs: number;
}

/** Where a table's files live: enough of TableInfo to find them after the table is dropped. */
export type TablePlace = Pick<TableInfo, "id" | "namespace" | "name" | "tableType" | "storageId">;

export interface CompactResult {
  readonly rowsBefore: number;
  readonly rowsAfter: number;
  readonly filesRemoved: number;
}

export interface FlushResult {
  readonly rows: number;
  readonly files: number;
  readonly bytes: number;
}

interface CachedSegment {
  readonly rows: Row[];
  /** keyString(pk) → index in rows (built on first seek). */
  index?: Map<string, number>;
}

export class ColdTier {
  #catalog: Catalog;
  #buffer: Buffer;
  #store: SqliteStore;
  #group: GroupCommit;
  #ids: Snowflake;
  #objectStores = new Map<string, { config: string; store: ObjectStore }>();
  #manifests = new Map<string, Manifest>();
  /** Per scope, the end of its latest flush or compaction (see `#exclusive`). */
  #scopeWork = new Map<string, Promise<void>>();
  #scopes = new Map<number, Map<string, ScopeStats>>();
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
  /** scopeDir per table object and user (the storage object tells when a template changed). */
  #dirs = new WeakMap<TablePlace, { storage: unknown; dirs: Map<string, string> }>();
  #encoder: Encoder;
  /**
   * Skip segments and row groups by their statistics (benchmarks turn it off to measure the
   * difference).
   */
  pruning = true;
  /** Segments read by scans since open (tests and benchmarks observe pruning with it). */
  segmentsScanned = 0;
  /** Rows decoded from segment files since open (tests observe row-group pruning with it). */
  rowsDecoded = 0;

  constructor(
    catalog: Catalog,
    buffer: Buffer,
    store: SqliteStore,
    group: GroupCommit,
    ids: Snowflake,
  ) {
    this.#ids = ids;
    this.#encoder = new Encoder(store.path, (elsewhere) => store.checkpointElsewhere(elsewhere));
    this.#catalog = catalog;
    this.#buffer = buffer;
    this.#store = store;
    this.#group = group;
    store.writer.exec(`CREATE TABLE IF NOT EXISTS cold_scopes (
      table_id INTEGER NOT NULL, user_id TEXT NOT NULL, rows INTEGER NOT NULL,
      segments INTEGER NOT NULL, bytes INTEGER NOT NULL, last_flush_ms INTEGER NOT NULL,
      PRIMARY KEY (table_id, user_id)) WITHOUT ROWID`);
    for (const r of store.rows("SELECT * FROM cold_scopes", true).all()) {
      this.#scopeMap(Number(r[0])).set(String(r[1]), {
        rows: Number(r[2]),
        segments: Number(r[3]),
        bytes: Number(r[4]),
        lastFlushMs: Number(r[5]),
      });
    }
  }

  /** Per-scope cold stats of a table (empty when nothing was flushed). */
  stats(tableId: number): ReadonlyMap<string, ScopeStats> {
    return this.#scopes.get(tableId) ?? new Map();
  }

  /** True when the scope has segments (else reads are buffer-only). */
  hasColdData(tableId: number, userId: string): boolean {
    return this.#scopes.get(tableId)?.has(userId) ?? false;
  }

  // ------------------------------------------------------------------ flush

  /** Flushes every scope of a table that has buffered rows. */
  async flushTable(table: TableInfo, signal?: AbortSignal): Promise<FlushResult> {
    if (table.tableType === "STREAM") {
      throw new DbError("UNSUPPORTED", "STREAM tables are never flushed to Parquet");
    }
    let rows = 0, files = 0, bytes = 0;
    const scopes = [...this.#buffer.scopeRows(table.id).keys()];
    for (const user of scopes) {
      if (signal?.aborted) throw new DbError("QUERY_TIMEOUT", "Flush cancelled");
      const r = await this.flushScope(table, user);
      rows += r.rows;
      files += r.files;
      bytes += r.bytes;
    }
    this.#buffer.recount(table.id);
    return { rows, files, bytes };
  }

  /** The four flush steps for one scope, once its flush or compaction in flight is done. */
  flushScope(table: TableInfo, userId: string): Promise<FlushResult> {
    return this.#exclusive(table.id, userId, () => this.#flushScope(table, userId));
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

  async #flushScope(table: TableInfo, userId: string): Promise<FlushResult> {
    // (1) the snapshot: taken inside a write so every row at or below it is committed on return.
    const snapshot = await this.#group.run(() => this.#snapshot(table.id, userId));
    if (snapshot === null) return { rows: 0, files: 0, bytes: 0 };
    const pkAt = table.schema.pkIndex;
    const manifest = await this.manifest(table, userId);
    // (2) the segment: the flush worker reads the versions in primary-key order (the buffer's
    // order) through its own connection, decodes and encodes them; versions at or below the
    // manifest's flushedSeq are already in a segment (a flush that crashed before its step 4)
    // and are only deleted below.
    const pkType = table.schema.columns[pkAt].type.base;
    const built = await this.#encoder.build({
      path: this.#store.path,
      tableId: table.id,
      userId,
      snapshot,
      flushedSeq: manifest.flushedSeq,
      pkType,
      deleteChunk: DELETE_CHUNK,
      current: table.columns,
      versions: [...table.versions],
      columns: table.schema.columns.map((c) => ({ name: c.name, type: c.type })),
    });
    let result: FlushResult = { rows: 0, files: 0, bytes: 0 };
    let next = manifest;
    if (built.bytes && built.stats) {
      const dir = this.scopeDir(table, userId);
      const segment = segmentInfo(
        table,
        `batch-${manifest.nextBatch}.parquet`,
        built.rows,
        built.bytes,
        built.stats,
      );
      const bytes = built.bytes;
      const file = segment.file;
      const store = this.objectStore(table.storageId);
      await store.put(`${dir}/${file}`, bytes);
      crashPoint("flush:after-segment");
      // Tombstones: keys of this segment that an older segment may also hold.
      // Only segments whose key range overlaps the new one's can hold such keys (none, for the
      // usual ever-growing Snowflake ids), so most flushes skip the per-row check entirely; and
      // where an older segment's keys are known (flushed by this process, or decoded), only the
      // keys it really holds get one, so interleaved key ranges do not pile tombstones up.
      const pkId = table.schema.columns[pkAt].id;
      const own = segment.stats.get(pkId);
      const overlapping = manifest.segments.filter((s) => {
        const st = s.stats.get(pkId);
        if (!own || own.min === null || own.max === null || !st || st.min === null) return true;
        if (st.max === null) return true;
        return compareBounds(own.min, st.max) <= 0 && compareBounds(st.min, own.max) <= 0;
      });
      const fresh = built.keys;
      const tombstones = new Map<string, bigint>();
      const supersedes = (at: number) => {
        tombstones.set(keyString(keyOf(fresh[at])), built.seqs[at]);
      };
      for (const older of overlapping) {
        const known = built.sorted && this.#segmentKeys.get(keySetId(table, dir, older.file));
        if (known) {
          commonKeys(known, fresh as SortedKeys, supersedes);
          continue;
        }
        // Keys unknown without a read: decoded ones answer exactly, else any key in range counts.
        const decoded = this.#decodedKeys(table, userId, older);
        for (let at = 0; at < fresh.length; at++) {
          const key = fresh[at];
          if (!mayContain(older, pkId, key, compareBounds)) continue;
          if (!decoded || decoded.has(keyString(keyOf(key)))) supersedes(at);
        }
      }
      next = withSegment(manifest, segment, tombstones, snapshot, Date.now());
      // (3) the manifest; readers see the segment from here on.
      await store.put(`${dir}/manifest.json`, encodeManifest(next));
      this.#manifests.set(scopeKey(table.id, userId), next);
      if (built.sorted) this.#rememberKeys(keySetId(table, dir, file), fresh as SortedKeys);
      // Readers merge this scope from now on, before any buffered row goes away.
      this.#scopeMap(table.id).set(userId, scopeStats(next));
      crashPoint("flush:after-manifest");
      result = { rows: built.rows, files: 1, bytes: bytes.byteLength };
    }
    // (4) drop exactly the flushed versions from the buffer; record the scope. Every buffered
    // version with `_seq` ≤ the snapshot is in a segment now, and any later write has a larger
    // `_seq`: so "seq ≤ snapshot" within a key range deletes exactly flushed versions. It runs in
    // chunks of keys (each its own write) so that no single transaction holds up requests; a
    // crash between chunks leaves versions that the next flush recognises by `flushedSeq`.
    const final = next;
    await this.#group.run(() => {
      if (final.segments.length) this.#recordScope(table.id, userId, final);
    });
    // Also when this flush wrote nothing new (it finishes one that crashed before recording the
    // scope): reads must merge the segments before the buffered copies go.
    if (final.segments.length) this.#scopeMap(table.id).set(userId, scopeStats(final));
    for (let i = 0; i < built.chunks.length; i += 4) {
      const [first, last, live, markers] = built.chunks.slice(i, i + 4) as [
        unknown,
        unknown,
        number,
        number,
      ];
      await this.#group.runRelaxed(() => {
        const r = this.#store.w(
          `DELETE FROM buffer WHERE table_id = ? AND user_id = ? AND row_id >= ? AND row_id <= ?
            AND seq <= ?`,
        ).run(table.id, userId, first as never, last as never, snapshot);
        this.#buffer.removed(table.id, userId, Number(r.changes), live, markers);
      });
      await yieldToIo();
    }
    crashPoint("flush:after-delete");
    return result;
  }

  /** One Parquet segment of rows in the table's current columns, and what the manifest keeps. */
  #encode(
    table: TableInfo,
    rows: Row[],
    file: string,
  ): { bytes: Uint8Array; segment: SegmentInfo } {
    const columns = table.schema.columns.map((c) => ({ name: c.name, type: c.type }));
    const { bytes, stats } = encodeSegment(columns, rows);
    return { bytes, segment: segmentInfo(table, file, rows.length, bytes, stats) };
  }

  /** Starts the flush workers ahead of the first flush (their start-up takes a while). */
  warmUp(): void {
    this.#encoder.start();
  }

  /** Stops the flush worker (at close). */
  close(): Promise<void> {
    return this.#encoder.close();
  }

  /**
   * A `_seq` above every one assigned so far (statements take theirs inside group commit, so
   * once this write commits, each version below it is committed too), or null when the scope
   * has nothing buffered. A fresh id, not the scope's largest `_seq`: that needs a scan. It
   * becomes the manifest's flushedSeq, so it is also recorded as a floor for the ids after a
   * restart (a clock set back must not hand out ids the next flush would take as flushed).
   */
  #snapshot(tableId: number, userId: string): bigint | null {
    const any = this.#store.rows(
      "SELECT 1 FROM buffer WHERE table_id = ? AND user_id = ? LIMIT 1",
      true,
    ).get(tableId, userId);
    if (!any) return null;
    const seq = this.#ids.next();
    this.#buffer.recordSeqFloor(seq);
    return seq;
  }

  #recordScope(tableId: number, userId: string, m: Manifest): void {
    const stats = scopeStats(m);
    this.#store.w(
      `INSERT INTO cold_scopes (table_id, user_id, rows, segments, bytes, last_flush_ms)
        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (table_id, user_id) DO UPDATE SET
        rows = excluded.rows, segments = excluded.segments, bytes = excluded.bytes,
        last_flush_ms = excluded.last_flush_ms`,
    ).run(tableId, userId, stats.rows, stats.segments, stats.bytes, stats.lastFlushMs);
  }

  #scopeMap(tableId: number): Map<string, ScopeStats> {
    let m = this.#scopes.get(tableId);
    if (!m) this.#scopes.set(tableId, m = new Map());
    return m;
  }

  // ------------------------------------------------------------------ paths and stores

  /** The object store of a storage id (rebuilt when its configuration changes). */
  objectStore(storageId: string): ObjectStore {
    const info = this.#catalog.storage(storageId);
    if (!info) throw new DbError("NOT_FOUND", `Storage "${storageId}" does not exist`);
    const config = `${JSON.stringify(info.config)}@${info.updatedAt}`;
    const hit = this.#objectStores.get(storageId);
    if (hit && hit.config === config) return hit.store;
    const store = openObjectStore(storeConfig(info, this.#catalog.storageSecret(storageId)));
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

  /** A scope's manifest (cached; EMPTY when nothing was flushed). */
  async manifest(table: TableInfo, userId: string): Promise<Manifest> {
    const key = scopeKey(table.id, userId);
    const hit = this.#manifests.get(key);
    if (hit) return hit;
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

  // ------------------------------------------------------------------ reads

  /**
   * A TableSource over buffer + segments of one scope. Without cold data it is the buffer's
   * own source (synchronous fast path).
   */
  source(table: TableInfo, userId: string, buffered: TableSource): TableSource {
    if (!this.hasColdData(table.id, userId)) return buffered;
    // deno-lint-ignore no-this-alias
    const cold = this;
    // A read whose segments are all decoded in memory needs no wait: the query can then run in
    // one synchronous step, as buffer-only reads do. The manifest is looked up in that step (the
    // buffer is read in it too, so no flush can come between them).
    let last: { options: ScanOptions; m: Manifest; loaded: Map<SegmentInfo, CachedSegment> };
    const cached = (options: ScanOptions) => {
      const m = cold.#manifests.get(scopeKey(table.id, userId));
      if (!m) return undefined;
      if (last?.options !== options || last.m !== m) {
        const loaded = cold.#cachedSegments(table, userId, m, options);
        if (!loaded) return undefined;
        last = { options, m, loaded };
      }
      return last;
    };
    return {
      schema: buffered.schema,
      scan: (options) => cold.#mergedScan(table, userId, buffered, options),
      scanSync: (options) => {
        const hit = cached(options);
        if (!hit) throw new Error("scanSync of a read whose segments are not cached");
        return cold.#fromCache(table, hit.m, buffered, options, hit.loaded);
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
    yield* batches(await this.#mergedRows(table, userId, buffered, options), options);
  }

  async #mergedRows(
    table: TableInfo,
    userId: string,
    buffered: TableSource,
    options: ScanOptions,
  ): Promise<Row[]> {
    // A compaction may delete the files of the manifest a read started with: read again.
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#mergeOnce(table, userId, buffered, options);
      } catch (err) {
        if (!(err instanceof MissingSegment) || attempt >= 3) throw err;
      }
    }
  }

  async #mergeOnce(
    table: TableInfo,
    userId: string,
    buffered: TableSource,
    options: ScanOptions,
  ): Promise<Row[]> {
    // Buffer first (see the file comment), then the manifest and the segments it needs.
    const newest = bufferVersions(table, buffered, options);
    const m = await this.manifest(table, userId);
    const loaded = new Map<SegmentInfo, CachedSegment>();
    for (const seg of this.#needed(table, m, options)) {
      loaded.set(seg, await this.#segment(table, userId, seg, options));
    }
    return this.#combine(table, m, newest, loaded, options);
  }

  #rememberKeys(id: string, keys: SortedKeys): void {
    this.#segmentKeys.set(id, keys);
    this.#segmentKeyCount += keys.length;
    for (const [k, v] of this.#segmentKeys) {
      if (this.#segmentKeyCount <= SEGMENT_KEYS || k === id) break;
      this.#segmentKeys.delete(k);
      this.#segmentKeyCount -= v.length;
    }
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
        const known = this.#segmentKeys.get(keySetId(table, dir, seg.file));
        if (known) {
          if (hasKey(known, key)) return false;
          continue;
        }
        const decoded = this.#decodedKeys(table, userId, seg);
        if (!decoded || decoded.has(keyString(keyOf(key)))) return false;
      }
    }
    return true;
  }

  /** The keys of a segment decoded in the cache, if it is. */
  #decodedKeys(
    table: TableInfo,
    userId: string,
    seg: SegmentInfo,
  ): Map<string, number> | undefined {
    const cached = this.#segments.get(this.#cacheKey(table, userId, seg));
    return cached && keyIndex(cached, table.schema.pkIndex);
  }

  /** The merged rows of a read whose segments are `loaded` from the cache, in batches. */
  #fromCache(
    table: TableInfo,
    m: Manifest,
    buffered: TableSource,
    options: ScanOptions,
    loaded: Map<SegmentInfo, CachedSegment>,
  ): Iterable<Row[]> {
    return batches(
      this.#combine(table, m, bufferVersions(table, buffered, options), loaded, options),
      options,
    );
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
    return this.#combine(table, m, bufferVersions(table, buffered, options), loaded, options);
  }

  /** The segments a read needs, when all of them are cached. */
  #cachedSegments(
    table: TableInfo,
    userId: string,
    m: Manifest,
    options: ScanOptions,
  ): Map<SegmentInfo, CachedSegment> | undefined {
    const loaded = new Map<SegmentInfo, CachedSegment>();
    for (const seg of this.#needed(table, m, options)) {
      const hit = this.#cachedSegment(table, userId, seg, options);
      if (!hit) return undefined;
      loaded.set(seg, hit);
    }
    return loaded;
  }

  /** Loads a scope's manifest and segments into the caches (before `scanCachedSync`). */
  async preload(table: TableInfo, userId: string, options: ScanOptions = {}): Promise<void> {
    const m = await this.manifest(table, userId);
    for (const seg of this.#needed(table, m, options)) {
      await this.#segment(table, userId, seg, options);
    }
  }

  /** The segments a read must look at: pk range for seeks, statistics for scans. */
  #needed(table: TableInfo, m: Manifest, options: ScanOptions): SegmentInfo[] {
    const pk = table.schema.pkIndex;
    if (options.keys) {
      const pkId = table.schema.columns[pk].id;
      return m.segments.filter((seg) =>
        options.keys!.some((key) => key !== null && mayContain(seg, pkId, key, compareBounds))
      );
    }
    // Statistics pruning: a segment that cannot hold a matching row is not read. Its rows' newer
    // versions elsewhere are covered by tombstones, so skipping it hides nothing.
    const ranges = this.pruning ? options.ranges : undefined;
    return ranges ? m.segments.filter((seg) => mayMatch(table, seg, ranges)) : [...m.segments];
  }

  /** Newest version per key over buffer versions and segment rows; tombstones applied. */
  #combine(
    table: TableInfo,
    m: Manifest,
    newest: Map<string, Row>,
    loaded: ReadonlyMap<SegmentInfo, CachedSegment>,
    options: ScanOptions,
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
    const fast = this.#disjoint(table, m, newest, loaded, options);
    if (fast) return fast;
    for (const cached of loaded.values()) {
      this.segmentsScanned++;
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
  #disjoint(
    table: TableInfo,
    m: Manifest,
    newest: Map<string, Row>,
    loaded: ReadonlyMap<SegmentInfo, CachedSegment>,
    options: ScanOptions,
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
      this.segmentsScanned++;
      for (const r of p.cached.rows) if (options.includeDeleted || !r[deletedAt]) out.push(r);
    }
    return out;
  }

  #cacheKey(table: TableInfo, userId: string, seg: SegmentInfo): string {
    return `${table.id}@${table.version}:${this.scopeDir(table, userId)}/${seg.file}`;
  }

  /**
   * A segment's rows mapped onto the table's current columns (cached): whole, or for a scan that
   * needs fewer columns (ScanOptions.columns) or fewer row groups (its ranges against each
   * group's statistics) only those, the others left null or out. A whole cached segment serves
   * every read; a partial one serves reads that need the same part.
   */
  async #segment(
    table: TableInfo,
    userId: string,
    seg: SegmentInfo,
    options: ScanOptions = {},
  ): Promise<CachedSegment> {
    const hit = this.#cachedSegment(table, userId, seg, options);
    if (hit) return hit;
    const dir = this.scopeDir(table, userId);
    const path = `${dir}/${seg.file}`;
    const bytes = await this.objectStore(table.storageId).get(path);
    if (!bytes) throw new MissingSegment(path);
    const footerKey = keySetId(table, dir, seg.file);
    let meta = this.#footers.get(footerKey);
    if (!meta) {
      meta = segmentMetadata(bytes);
      if (this.#footers.size >= FOOTERS) this.#footers.clear();
      this.#footers.set(footerKey, meta);
    }
    const part = readPart(table, seg, meta, options, this.pruning);
    const byId = new Map(seg.columns.map((c) => [c.id, c.name]));
    const names = part?.names ??
      table.columns.filter((c) => byId.has(c.id)).map((c) => byId.get(c.id)!);
    const decoded = await decodeSegment(bytes, {
      columns: [...names, "_seq", "_deleted"],
      metadata: meta,
      rowFilter: part?.groups && ((g) => part.groups!.has(g.index)),
    });
    this.rowsDecoded += decoded.rows.length;
    const at = new Map(decoded.columns.map((n, i) => [n, i]));
    const plan = table.columns.map((c) => {
      const name = byId.get(c.id);
      if (name === undefined) return { from: undefined, fill: untagValue(c.fill) };
      return { from: at.get(name), fill: null }; // not read: null
    });
    const seqAt = at.get("_seq")!;
    const delAt = at.get("_deleted")!;
    const rows = decoded.rows.map((src) => {
      const row: Value[] = plan.map((p) => p.from !== undefined ? src[p.from] : p.fill);
      row.push(src[seqAt], src[delAt]);
      return row;
    });
    const entry: CachedSegment = { rows };
    const cacheKey = this.#cacheKey(table, userId, seg) + (part?.sig ?? "");
    this.#segments.set(cacheKey, entry);
    this.#cachedRows += rows.length;
    for (const [k, v] of this.#segments) {
      if (this.#cachedRows <= SEGMENT_CACHE_ROWS || k === cacheKey) break;
      this.#segments.delete(k);
      this.#cachedRows -= v.rows.length;
    }
    return entry;
  }

  /** The cached rows that serve a read of `seg` (whole, or the part it needs), if any. */
  #cachedSegment(
    table: TableInfo,
    userId: string,
    seg: SegmentInfo,
    options: ScanOptions,
  ): CachedSegment | undefined {
    const key = this.#cacheKey(table, userId, seg);
    let hit = this.#segments.get(key);
    if (!hit && !options.keys && (options.columns || options.ranges)) {
      const meta = this.#footers.get(keySetId(table, this.scopeDir(table, userId), seg.file));
      const part = meta && readPart(table, seg, meta, options, this.pruning);
      if (part) hit = this.#segments.get(key + part.sig);
    }
    return hit;
  }

  // ------------------------------------------------------------------ compaction, cleanup

  /** COMPACT TABLE: every scope with segments is rewritten (see `compactScope`). */
  async compactTable(table: TableInfo, signal?: AbortSignal): Promise<CompactResult> {
    let before = 0, after = 0, files = 0;
    for (const userId of [...this.stats(table.id).keys()]) {
      if (signal?.aborted) throw new DbError("QUERY_TIMEOUT", "Compaction cancelled");
      const r = await this.compactScope(table, userId);
      before += r.rowsBefore;
      after += r.rowsAfter;
      files += r.filesRemoved;
    }
    return { rowsBefore: before, rowsAfter: after, filesRemoved: files };
  }

  /**
   * Rewrites a scope's segments as one, without superseded versions, tombstones and deleted
   * rows; merges small files. The new manifest is published before old files are deleted, and a
   * reader that still used the old manifest retries.
   */
  compactScope(table: TableInfo, userId: string): Promise<CompactResult> {
    return this.#exclusive(table.id, userId, () => this.#compactScope(table, userId));
  }

  async #compactScope(table: TableInfo, userId: string): Promise<CompactResult> {
    const m = await this.manifest(table, userId);
    if (m.segments.length === 0) return { rowsBefore: 0, rowsAfter: 0, filesRemoved: 0 };
    // The segments' newest live version per key: the read path's merge with an empty buffer.
    const loaded = new Map<SegmentInfo, CachedSegment>();
    let before = 0;
    for (const seg of m.segments) {
      const cached = await this.#segment(table, userId, seg);
      loaded.set(seg, cached);
      before += cached.rows.length;
    }
    const live = this.#combine(table, m, new Map(), loaded, {});
    const dir = this.scopeDir(table, userId);
    const store = this.objectStore(table.storageId);
    let next: Manifest = { ...m, segments: [], tombstones: new Map(), lastFlushMs: Date.now() };
    if (live.length) {
      const { bytes, segment } = this.#encode(table, live, `batch-${m.nextBatch}.parquet`);
      await store.put(`${dir}/${segment.file}`, bytes);
      next = { ...next, nextBatch: m.nextBatch + 1, segments: [segment] };
    }
    await store.put(`${dir}/manifest.json`, encodeManifest(next));
    this.#manifests.set(scopeKey(table.id, userId), next);

    await this.#group.run(() => {
      if (next.segments.length) this.#recordScope(table.id, userId, next);
      else {
        this.#store.w("DELETE FROM cold_scopes WHERE table_id = ? AND user_id = ?")
          .run(table.id, userId);
      }
    });
    if (next.segments.length) this.#scopeMap(table.id).set(userId, scopeStats(next));
    else this.#scopeMap(table.id).delete(userId);
    for (const seg of m.segments) await store.delete(`${dir}/${seg.file}`);
    return { rowsBefore: before, rowsAfter: live.length, filesRemoved: m.segments.length };
  }

  /**
   * Copies every segment and manifest of a table to storage `to`, then runs `switchOver` in one
   * write (the catalog's storage id changes there), then deletes the old files. Readers use the
   * old storage until the switch and the new one after; the job runner serializes this with the
   * table's flushes and compactions.
   */
  async moveTable(
    table: TableInfo,
    to: string,
    switchOver: () => void,
    signal?: AbortSignal,
  ): Promise<{ files: number; bytes: number }> {
    const from = this.objectStore(table.storageId);
    const dest = this.objectStore(to);
    const moved: { scope: string; files: string[] }[] = [];
    let files = 0, bytes = 0;
    for (const userId of this.stats(table.id).keys()) {
      if (signal?.aborted) throw new DbError("QUERY_TIMEOUT", "Move cancelled");
      const m = await this.manifest(table, userId);
      const src = this.scopeDir(table, userId);
      const dst = this.scopeDir({ ...table, storageId: to }, userId);
      for (const seg of m.segments) {
        const data = await from.get(`${src}/${seg.file}`);
        if (!data) throw new MissingSegment(`${src}/${seg.file}`);
        await dest.put(`${dst}/${seg.file}`, data);
        files++;
        bytes += data.byteLength;
      }
      await dest.put(`${dst}/manifest.json`, encodeManifest(m));
      moved.push({ scope: src, files: [...m.segments.map((s) => s.file), "manifest.json"] });
    }
    await this.#group.run(switchOver);
    for (const { scope, files } of moved) {
      for (const f of files) await from.delete(`${scope}/${f}`);
    }
    return { files, bytes };
  }

  /** The scopes of a table that may have files (recorded ones and buffered ones). */
  scopesOf(table: TableInfo): string[] {
    const scopes = new Set(this.stats(table.id).keys());
    for (const user of this.#buffer.scopeRows(table.id).keys()) scopes.add(user);
    return [...scopes];
  }

  /** Forgets a dropped table's scopes (inside the DROP's write). */
  dropScopes(tableId: number): void {
    this.#store.w("DELETE FROM cold_scopes WHERE table_id = ?").run(tableId);
    this.#scopes.delete(tableId);
  }

  /**
   * Deletes the files of the given scopes of a dropped table (the cleanup job): exactly what each
   * scope's manifest lists, the one segment name a crashed flush may have left (the manifest's
   * next batch), and the manifest last — never a directory listing, so nothing that some other
   * object wrote beside them can be taken.
   */
  async deleteFiles(place: TablePlace, scopes: readonly string[]): Promise<number> {
    this.forget(place.id);
    const store = this.objectStore(place.storageId);
    let n = 0;
    for (const userId of scopes) {
      const dir = this.scopeDir(place, userId);
      const bytes = await store.get(`${dir}/manifest.json`);
      const m = bytes ? decodeManifest(bytes) : EMPTY_MANIFEST;
      const files = [...m.segments.map((s) => s.file), `batch-${m.nextBatch}.parquet`];
      for (const file of [...files, "manifest.json"]) {
        if (!(await store.head(`${dir}/${file}`))) continue;
        await store.delete(`${dir}/${file}`);
        n++;
      }
    }
    return n;
  }

  /** Forgets a table's cached manifests and segments (drop, alter, storage move). */
  forget(tableId: number): void {
    for (const k of this.#manifests.keys()) {
      if (k.startsWith(`${tableId}/`)) this.#manifests.delete(k);
    }
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

/** keyString(pk) → row index of a decoded segment (built on first use). */
function keyIndex(cached: CachedSegment, pk: number): Map<string, number> {
  return cached.index ??= new Map(cached.rows.map((r, i) => [keyString(keyOf(r[pk])), i]));
}

/** Parsed segment footers kept (each a few KB). */
const FOOTERS = 20_000;

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

/** Segment keys outlive table versions (keys do not change), so their id has no version. */
function keySetId(table: TablePlace, dir: string, file: string): string {
  return `${table.id}:${dir}/${file}`;
}

class MissingSegment extends DbError {
  constructor(path: string) {
    super("STORAGE_ERROR", `Segment ${path} is missing`);
  }
}

/**
 * Flushed versions deleted per write (~2 ms of the writer). Each is a commit, but under load it
 * joins the requests' group commit, and alone an fsync costs well under a millisecond here.
 */
const DELETE_CHUNK = 16_384;
/** Keys of flushed segments kept in memory (8 bytes each for integer keys). */
const SEGMENT_KEYS = 8_000_000;

function scopeStats(m: Manifest): ScopeStats {
  return {
    rows: m.segments.reduce((n, s) => n + s.rows, 0),
    segments: m.segments.length,
    bytes: m.segments.reduce((n, s) => n + s.bytes, 0),
    lastFlushMs: m.lastFlushMs,
  };
}

function scopeKey(tableId: number, userId: string): string {
  return `${tableId}/${userId}`;
}

/** The buffer's versions of a scope (deleted ones too: they hide flushed rows), by key. */
function bufferVersions(
  table: TableInfo,
  buffered: TableSource,
  options: ScanOptions,
): Map<string, Row> {
  const pk = table.schema.pkIndex;
  const newest = new Map<string, Row>();
  for (const batch of scanSync(buffered, { keys: options.keys, includeDeleted: true })) {
    for (const r of batch) newest.set(keyString(keyOf(r[pk])), r);
  }
  return newest;
}

function scanSync(source: TableSource, options: ScanOptions): Iterable<Row[]> {
  if (!source.scanSync) throw new Error("buffer source without scanSync");
  return source.scanSync(options);
}

/** Scopes whose directory is remembered per table object (cleared when full). */
const DIR_MEMO = 100_000;

/** A scope's directory from the storage's path template (validated: no escaping the root). */
function buildScopeDir(
  config: Readonly<Record<string, string>>,
  table: TablePlace,
  userId: string,
): string {
  const template = table.tableType === "SHARED"
    ? config.SHARED_TABLES_TEMPLATE ?? "{namespace}/{table}"
    : config.USER_TABLES_TEMPLATE ?? "{namespace}/{table}/{user_id}";
  const dir = template
    .replaceAll("{namespace}", table.namespace)
    .replaceAll("{table}", `${table.name}-${table.id}`)
    .replaceAll("{user_id}", userId);
  return checkObjectPath(dir.replace(/\/+$/, ""));
}

/** Merged rows in batches of BATCH, checking the statement's deadline between them. */
function* batches(rows: Row[], options: ScanOptions): Generator<Row[]> {
  if (rows.length <= BATCH) {
    yield rows;
    return;
  }
  for (let i = 0; i < rows.length; i += BATCH) {
    if (options.signal?.aborted) throw new DbError("QUERY_TIMEOUT", "Query cancelled/timeout");
    yield rows.slice(i, i + BATCH);
  }
}
