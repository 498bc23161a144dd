// The change feed: committed inserts, updates and deletes, delivered to listeners (live queries)
// right after the COMMIT that made them durable, in `_seq` order, one call per statement.
// Whether a table has listeners is asked at commit time (a subscription may register between a
// write and its commit); a multi-row insert builds its change objects only then.

import type { Row } from "../sql/values.ts";
import type { TableInfo } from "./catalog.ts";

export type ChangeKind = "insert" | "update" | "delete";

/** One committed row change; rows are full rows (user columns, `_seq`, `_deleted`). */
export interface Change {
  readonly table: TableInfo;
  /** The partition: the user of a USER/STREAM row, "" for SHARED. */
  readonly user: string;
  readonly op: ChangeKind;
  readonly seq: bigint;
  /** The new version (absent for delete). */
  readonly row?: Row;
  /** The previous version (update, delete). */
  readonly old?: Row;
}

export type ChangeListener = (changes: readonly Change[]) => void;

export class ChangeFeed {
  #listeners = new Map<number, Set<ChangeListener>>();

  /** Listens to one table's changes; returns the function that stops listening. */
  listen(tableId: number, listener: ChangeListener): () => void {
    let set = this.#listeners.get(tableId);
    if (!set) this.#listeners.set(tableId, set = new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(tableId);
    };
  }

  /** Whether a write to this table needs to build its changes at all. */
  wants(tableId: number): boolean {
    return this.#listeners.has(tableId);
  }

  /** Delivers one statement's changes (called after its commit). */
  emit(changes: readonly Change[]): void {
    if (changes.length === 0) return;
    const set = this.#listeners.get(changes[0].table.id);
    if (!set) return;
    for (const listener of set) {
      try {
        listener(changes);
      } catch (err) {
        console.error("change listener failed:", err);
      }
    }
  }
}

/** A row of system.live_queries, as the live-query registry reports it. */
export interface LiveQueryInfo {
  readonly liveId: string;
  readonly connectionId: string;
  readonly user: string;
  readonly namespace: string;
  readonly table: string;
  readonly query: string;
  readonly options: string;
  readonly createdAt: number;
  readonly lastEventAt: number | null;
  readonly changesSent: number;
}

/** What the SQL side needs from live queries (SHOW LIVE QUERIES, KILL LIVE QUERY). */
export interface LiveQueries {
  list(): LiveQueryInfo[];
  /** Ends a subscription (its subscriber gets LIVE_QUERY_KILLED); false when unknown. */
  kill(liveId: string): boolean;
}

/** Where the live-query registry plugs in once a server runs (storage never imports live/). */
export class LiveBridge {
  queries?: LiveQueries;
}
