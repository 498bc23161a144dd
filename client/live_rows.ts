// Live rows: the reducer behind `client.live()` — an always-current array of a query's rows from
// its snapshot and changes, in primary-key order, keyed by the primary key (when the query shows
// it; otherwise by the whole row, in arrival order). A batch of changes copies the array once and
// edits the copy in place (binary search by key), so `get()` returns the same array until
// something changed and a new one after: what React's useSyncExternalStore, Svelte stores and
// Vue's shallowRef expect.

import type { Change } from "./subscription.ts";
import { compareValues, keyOf, type Row, type Value } from "./values.ts";

export class LiveRowsState<R extends Row = Row> {
  #pk?: string;
  #rows: R[] = [];
  /** The array `get()` last returned is never edited: a batch first copies it. */
  #shared = true;

  /** The primary key's output name (undefined: rows are keyed by their whole content). */
  setKey(pk: string | undefined): void {
    this.#pk = pk;
  }

  get(): R[] {
    this.#shared = true;
    return this.#rows;
  }

  get size(): number {
    return this.#rows.length;
  }

  /** A complete snapshot replaces everything. */
  reset(rows: readonly R[]): void {
    const pk = this.#pk;
    this.#rows = pk === undefined
      ? [...rows]
      : [...rows].sort((a, b) => compareValues(a[pk], b[pk]));
    this.#shared = false;
  }

  apply(change: Change<R>): void {
    const rows = this.#writable();
    const pk = this.#pk;
    if (pk !== undefined && change.rows.length === 1 && change.oldRows.length === 1) {
      // An update that keeps its key (the common case) replaces the row where it is.
      const { found, at } = search(rows, pk, change.oldRows[0][pk]);
      if (found && compareValues(change.rows[0][pk], change.oldRows[0][pk]) === 0) {
        rows[at] = change.rows[0];
        return;
      }
    }
    for (const old of change.oldRows) this.#remove(rows, old);
    for (const row of change.rows) this.#put(rows, row);
  }

  #writable(): R[] {
    if (this.#shared) {
      this.#rows = this.#rows.slice();
      this.#shared = false;
    }
    return this.#rows;
  }

  #put(rows: R[], row: R): void {
    const pk = this.#pk;
    if (pk === undefined) return void rows.push(row);
    const { found, at } = search(rows, pk, row[pk]);
    if (found) rows[at] = row;
    else rows.splice(at, 0, row);
  }

  #remove(rows: R[], row: R): void {
    const pk = this.#pk;
    if (pk !== undefined) {
      const { found, at } = search(rows, pk, row[pk]);
      if (found) rows.splice(at, 1);
      return;
    }
    const key = rowKey(row);
    const at = rows.findIndex((r) => rowKey(r) === key);
    if (at >= 0) rows.splice(at, 1);
  }
}

/** Where `key` is (or would go) in rows sorted by `pk`. */
function search<R extends Row>(rows: R[], pk: string, key: Value): { found: boolean; at: number } {
  let lo = 0, hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareValues(rows[mid][pk], key);
    if (c === 0) return { found: true, at: mid };
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return { found: false, at: lo };
}

function rowKey(row: Row): string {
  return Object.keys(row).map((k) => keyOf(row[k])).join("\u0000");
}
