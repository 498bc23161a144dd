// Snapshot: the rows a new subscription starts with — the table's current rows through the
// subscription's filter, the newest `last_rows` of them by `_seq`, projected, and sent as
// initial_data batches of `batch_size` (at least one batch, empty when nothing matches).

import type { Row } from "../sql/mod.ts";
import { MAX_BATCH_SIZE } from "../storage/mod.ts";
import { initialData } from "./protocol.ts";
import type { Subscription } from "./routing.ts";

/** The snapshot rows the subscription shows (filtered, newest `last_rows`), projected. */
export function initialRows(sub: Subscription, all: Row[]): Record<string, unknown>[] {
  let rows = all.filter((r) => sub.compiled.matches(r));
  const lastRows = sub.options.last_rows;
  if (lastRows !== undefined && lastRows >= 0) {
    const seqAt = sub.table.schema.columns.length - 2;
    rows = rows.sort((a, b) => compareSeq(a[seqAt] as bigint, b[seqAt] as bigint))
      .slice(Math.max(0, rows.length - lastRows));
  }
  return rows.map((r) => sub.compiled.project(r));
}

/** Sends the rows in batches; false when the socket overflowed (the rest was not sent). */
export function sendInitial(sub: Subscription, rows: Record<string, unknown>[]): boolean {
  const size = Math.min(sub.options.batch_size ?? 1000, MAX_BATCH_SIZE);
  let batch = 0;
  for (let i = 0; i === 0 || i < rows.length; i += size) {
    const part = rows.slice(i, i + size);
    if (!sub.conn.send(initialData(sub, part, batch++, i + size < rows.length))) return false;
  }
  return true;
}

function compareSeq(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
