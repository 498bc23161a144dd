// Routing: which subscriptions a committed change concerns. A subscription is registered under
// its table and partition (a user, "" for shared tables, "*" for all-users subscriptions), and
// within that by its `column = constant` conjunct when it has one, so a write looks only at the
// subscriptions its row can match. Kept apart from the registry so that the per-change lookup
// reads on its own.

import { valueKey } from "../sql/mod.ts";
import type { Change, SubscribeOptions, TableInfo } from "../storage/mod.ts";
import type { CompiledLive } from "./query.ts";
import type { LiveConnection } from "./protocol.ts";

/** One registered live query of one socket. */
export interface Subscription {
  readonly liveId: string;
  readonly id: string;
  readonly conn: LiveConnection;
  readonly sql: string;
  readonly options: SubscribeOptions;
  /** A user, "" (shared table) or "*" (all users). */
  readonly scope: string;
  table: TableInfo;
  compiled: CompiledLive;
  readonly createdAt: number;
  lastEventAt: number | null;
  changesSent: number;
}

/**
 * The subscriptions of one (table, partition): those with a `column = constant` conjunct are
 * indexed by (column, value), so a write looks only at the ones its row can match; the rest
 * are tested one by one.
 */
export class Bucket {
  readonly rest = new Set<Subscription>();
  readonly byColumn = new Map<number, Map<string, Set<Subscription>>>();
  size = 0;

  add(sub: Subscription): void {
    this.size++;
    const eq = sub.compiled.equality;
    if (!eq) return void this.rest.add(sub);
    let byValue = this.byColumn.get(eq.column);
    if (!byValue) this.byColumn.set(eq.column, byValue = new Map());
    let set = byValue.get(eq.key);
    if (!set) byValue.set(eq.key, set = new Set());
    set.add(sub);
  }

  delete(sub: Subscription): void {
    const eq = sub.compiled.equality;
    const set = eq ? this.byColumn.get(eq.column)?.get(eq.key) : this.rest;
    if (!set?.delete(sub)) return;
    this.size--;
    if (eq && set.size === 0) {
      const byValue = this.byColumn.get(eq.column)!;
      byValue.delete(eq.key);
      if (byValue.size === 0) this.byColumn.delete(eq.column);
    }
  }

  /** The subscriptions a change with these row versions may concern. */
  candidates(c: Change, out: Set<Subscription>): void {
    for (const s of this.rest) out.add(s);
    for (const [column, byValue] of this.byColumn) {
      for (const row of [c.row, c.old]) {
        if (!row) continue;
        const set = byValue.get(valueKey(row[column]));
        if (set) { for (const s of set) out.add(s); }
      }
    }
  }
}

/** The subscriptions of one table, per partition, and how to stop listening to its changes. */
export interface TableEntry {
  readonly unlisten: () => void;
  readonly scopes: Map<string, Bucket>;
}
