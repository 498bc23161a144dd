// Named hooks on the storage door for tests and benchmarks in other folders: what they need to
// see or force (flush now, wait for jobs, look at the buffer or the manifest) without reaching
// into the engine's parts. Nothing here is reachable over SQL or HTTP.

import type { StoreParts } from "./statements/mod.ts";
import type { StorageInfo, TableInfo } from "./hot/mod.ts";
import type { JobSpec } from "./jobs/mod.ts";
import type { Value } from "../sql/mod.ts";
import type { FlushResult, Manifest, ScopeStats } from "./cold/mod.ts";
import type { ObjectStore } from "./object_store/mod.ts";

export type { FlushResult, Manifest, ObjectStore, ScopeStats, StorageInfo };

export class StorageHooks {
  readonly #s: StoreParts;

  constructor(store: StoreParts) {
    this.#s = store;
  }

  /** The table, or a TABLE_NOT_FOUND error. */
  table(namespace: string, name: string): TableInfo {
    return this.#s.catalog.table(namespace, name);
  }

  tables(): TableInfo[] {
    return this.#s.catalog.tables();
  }

  /** Flushes every buffered scope of the table now (what a FLUSH job does). */
  flush(table: TableInfo): Promise<FlushResult> {
    return this.#s.cold.flushTable(table);
  }

  /** Flushes every table that has a cold tier. */
  async flushAll(): Promise<void> {
    for (const t of this.#s.catalog.tables()) {
      if (t.tableType !== "STREAM") await this.#s.cold.flushTable(t);
    }
  }

  /** Resolves when no background job is queued or running. */
  idle(): Promise<void> {
    return this.#s.jobs.idle();
  }

  /** Exact per-scope buffer counts (rows, tombstones), counted from the rows themselves. */
  bufferCounts(table: TableInfo): { user: string; rows: number; deleted: number }[] {
    return this.#s.buffer.exactCounts(table.id);
  }

  /** The maintained per-scope counters, keyed by scope ("" for a shared table). */
  bufferedScopes(table: TableInfo): ReadonlyMap<string, { rows: number; deleted: number }> {
    return this.#s.buffer.scopeRows(table.id);
  }

  /** Rows (tombstones included) one scope holds in the buffer, decoded as a flush reads them. */
  bufferedRows(table: TableInfo, scope: string): number {
    let n = 0;
    const scan = this.#s.buffer.source(table, scope, false).scanSync!({ includeDeleted: true });
    for (const batch of scan) n += batch.length;
    return n;
  }

  /** Per-scope segment statistics of the cold tier. */
  coldStats(table: TableInfo): ReadonlyMap<string, ScopeStats> {
    return this.#s.cold.stats(table.id);
  }

  manifest(table: TableInfo, scope: string): Promise<Manifest> {
    return this.#s.cold.manifest(table, scope);
  }

  /** The scope's folder inside its storage (for listing its files). */
  scopeDir(table: TableInfo, scope: string): string {
    return this.#s.cold.scopeDir(table, scope);
  }

  objectStore(storageId: string): ObjectStore {
    return this.#s.cold.objectStore(storageId);
  }

  /** A storage's row, or undefined. */
  storage(id: string): StorageInfo | undefined {
    return this.#s.catalog.storage(id);
  }

  /** Drops the table's cached segments, so the next read is a cold one. */
  forgetCold(table: TableInfo): void {
    this.#s.cold.forget(table.id);
  }

  /** Segments read since open (a counter for pruning benchmarks). */
  get segmentsScanned(): number {
    return this.#s.cold.segmentsScanned;
  }

  /** Creates users without passwords in one transaction (fixtures for large benchmarks). */
  async createUsers(names: readonly string[]): Promise<void> {
    const { group, catalog } = this.#s;
    await group.run(() => {
      const now = Date.now();
      for (const name of names) {
        catalog.putUser({
          name,
          role: "user",
          passwordHash: null,
          email: null,
          createdAt: now,
          updatedAt: now,
        });
      }
    });
  }

  /** A user's row exists (fixtures that create users once). */
  hasUser(name: string): boolean {
    return this.#s.catalog.user(name) !== undefined;
  }

  /**
   * Writes one row version with a chosen `_seq` straight into the buffer, as if it had been
   * written at that seq's time (a STREAM row older than its TTL, without waiting for it).
   */
  putVersion(table: TableInfo, scope: string, seq: bigint, row: readonly Value[]): void {
    this.#s.buffer.put(table, scope, "insert", seq, row, undefined);
  }

  /** STREAM rows past their TTL still in the buffer (the eviction job removes them). */
  expiredCount(table: TableInfo): number {
    return this.#s.buffer.expiredCount(table);
  }

  /** Submits a background job and waits until every job is done. */
  async runJob(spec: JobSpec): Promise<void> {
    await this.#s.jobs.submit(spec);
    await this.#s.jobs.idle();
  }

  /** Trims the change log as its retention job does; returns how many entries went. */
  trimChangeLog(beforeSeq: bigint, maxEntries: number): Promise<number> {
    return this.#s.group.run(() => this.#s.changeLog.prune(beforeSeq, maxEntries));
  }

  /** Rows decoded from segment files since open (row-group pruning benchmarks). */
  get rowsDecoded(): number {
    return this.#s.cold.rowsDecoded;
  }

  /** Turns statistics pruning of segments and row groups off (benchmarks measure its effect). */
  set pruning(on: boolean) {
    this.#s.cold.pruning = on;
  }

  /** Whether a full scan of the scope can run in one synchronous step now (segments decoded). */
  scanIsSync(table: TableInfo, scope: string): boolean {
    const source = this.#s.cold.source(table, scope, this.#s.buffer.source(table, scope, false));
    return source.scanSync !== undefined && (source.readyFor?.({}) ?? true);
  }

  /** The stored bytes of a buffered row (by its integer key), to corrupt and restore it. */
  bufferedData(table: TableInfo, key: number): Uint8Array | undefined {
    return this.#s.buffer.rawData(table.id, key);
  }

  setBufferedData(table: TableInfo, key: number, data: Uint8Array): void {
    this.#s.buffer.setRawData(table.id, key, data);
  }
}
