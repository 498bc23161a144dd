// The change feed: committed inserts, updates and deletes, delivered to listeners (live queries)
// right after the COMMIT that made them durable, in `_seq` order, one call per statement.
// Whether a table has listeners is asked at commit time (a subscription may register between a
// write and its commit); a multi-row insert builds its change objects only then.

import type { Row } from "../../sql/mod.ts";
import type { TableInfo } from "./catalog.ts";
import { DbError } from "../../errors.ts";
import { logError } from "../../log.ts";

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
        logError("change listener", err);
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

/** A subscription's options (SPEC §8), checked. */
export interface SubscribeOptions {
  /** Only the newest N matching rows in the snapshot. */
  readonly last_rows?: number;
  /** Snapshot rows per `initial_data` message. */
  readonly batch_size?: number;
  /** Resume after this `_seq` (digits). */
  readonly from_seq?: string;
  readonly all_users?: boolean;
  readonly storage_id?: string;
}

/** The largest `last_rows` and `batch_size` a subscription may ask for. */
export const MAX_LAST_ROWS = 1_000_000;
export const MAX_BATCH_SIZE = 10_000;

/**
 * Checks subscription options from a WebSocket message or `SUBSCRIBE TO … OPTIONS (…)` (keys
 * case-insensitive there): unknown keys and values of the wrong type or range are
 * INVALID_PARAMETER, never silently ignored or clamped.
 */
export function checkSubscribeOptions(raw: unknown): SubscribeOptions {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new DbError("INVALID_PARAMETER", "options must be a JSON object");
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    if (v === undefined || v === null) continue;
    switch (key) {
      case "last_rows":
        out[key] = integerIn(key, v, 0, MAX_LAST_ROWS);
        break;
      case "batch_size":
        out[key] = integerIn(key, v, 1, MAX_BATCH_SIZE);
        break;
      case "from_seq":
        if ((typeof v !== "string" && typeof v !== "number") || !/^\d{1,20}$/.test(String(v))) {
          throw new DbError(
            "INVALID_PARAMETER",
            "from_seq must be a _seq value (a string of digits)",
          );
        }
        out[key] = String(v);
        break;
      case "all_users":
        if (typeof v !== "boolean") {
          throw new DbError("INVALID_PARAMETER", "all_users must be true or false");
        }
        out[key] = v;
        break;
      case "storage_id":
        if (typeof v !== "string" || v === "") {
          throw new DbError("INVALID_PARAMETER", "storage_id must be a storage id (a string)");
        }
        out[key] = v;
        break;
      default:
        throw new DbError(
          "INVALID_PARAMETER",
          `Unknown subscription option "${key}" (last_rows, batch_size, from_seq, all_users, storage_id)`,
        );
    }
  }
  return out as SubscribeOptions;
}

function integerIn(key: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new DbError("INVALID_PARAMETER", `${key} must be an integer from ${min} to ${max}`);
  }
  return v;
}
