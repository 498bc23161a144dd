// What live queries read from storage, and nothing more: the table, the scopes that hold rows,
// a synchronous snapshot of them with the seq it stands at, the change log since a seq, and
// the change feed. live/ sees storage only through this (and the statement authorizer), so the
// merged read of buffer and segments stays in one place.

import type { Principal } from "../auth/mod.ts";
import type { Row, Statement } from "../sql/mod.ts";
import type { Change, LiveQueries, TableInfo } from "./hot/mod.ts";
import { authorizeStatement, type StoreParts } from "./statements/mod.ts";

/** A snapshot taken in one synchronous step: the rows, and the seq every one of them is at. */
export interface LiveSnapshot {
  readonly rows: Row[];
  readonly seq: bigint;
}

export class LiveSource {
  readonly #e: StoreParts;

  constructor(engine: StoreParts) {
    this.#e = engine;
  }

  /** Makes `queries` the registry SHOW LIVE / KILL LIVE QUERY and system.live_queries see. */
  attach(queries: LiveQueries): void {
    this.#e.live.queries = queries;
  }

  /** The table, or a TABLE_NOT_FOUND error. */
  table(namespace: string, name: string): TableInfo {
    return this.#e.catalog.table(namespace, name);
  }

  /** The permission check a SELECT of the statement would get. */
  authorize(who: Principal, stmt: Statement): void {
    authorizeStatement(this.#e.catalog, who, stmt);
  }

  /** A fresh `_seq`-ordered id (statement `now()`-style functions of compiled filters). */
  nextId(): bigint {
    return this.#e.ids.next();
  }

  /** The scopes a subscription reads: the one given, or for "*" every user with rows. */
  scopes(table: TableInfo, scope: string): string[] {
    if (scope !== "*") return [scope];
    const users = new Set(this.#e.buffer.scopeRows(table.id).keys());
    for (const u of this.#e.cold.stats(table.id).keys()) users.add(u);
    return [...users];
  }

  /**
   * Loads what a synchronous snapshot of the scopes needs (their segments) into memory;
   * undefined when there is nothing to load (buffer-only scopes), so the caller need not wait.
   */
  prepare(table: TableInfo, scopes: readonly string[]): Promise<void> | undefined {
    const cold = scopes.filter((s) => this.#e.cold.hasColdData(table.id, s));
    if (cold.length === 0) return undefined;
    return (async () => {
      for (const s of cold) await this.#e.cold.preload(table, s);
    })();
  }

  /**
   * Every visible row of the scopes and the committed seq, in one synchronous step (nothing
   * commits in between); undefined when a segment it needs is no longer in memory (a flush or
   * compaction changed a manifest since `prepare`).
   */
  snapshotSync(table: TableInfo, scopes: readonly string[]): LiveSnapshot | undefined {
    const { buffer, cold } = this.#e;
    const rows: Row[] = [];
    for (const s of scopes) {
      const buffered = buffer.source(table, s, false);
      if (cold.hasColdData(table.id, s)) {
        const part = cold.scanCachedSync(table, s, buffered, {});
        if (!part) return undefined;
        rows.push(...part);
      } else {
        for (const batch of buffered.scanSync!({})) rows.push(...batch);
      }
    }
    // The open group's writes are above this seq: they come as changes.
    return { rows, seq: this.#e.committedSeq() };
  }

  /** The oldest seq a resume can replay from (older ones get a fresh snapshot). */
  changeFloor(): bigint {
    return this.#e.changeLog.floor();
  }

  /** The committed changes after `fromSeq` of one scope (null: every user). */
  changesSince(table: TableInfo, userId: string | null, fromSeq: bigint): Change[] {
    return this.#e.changeLog.since(table, userId, fromSeq);
  }

  /** Listens to one table's committed changes; returns the function that stops listening. */
  listen(tableId: number, listener: (changes: readonly Change[]) => void): () => void {
    return this.#e.changes.listen(tableId, listener);
  }
}
