// Writers for the crash harness: each owns a lane of one scope's keys (k ≡ lane mod lanes) and
// sends one statement at a time — a multi-row INSERT of fresh keys, an UPDATE of one or two
// known rows (a CASE gives each its own new value), a DELETE of one or two — recording the
// outcome in the model: acknowledged (HTTP 200 success, with the row count it must have), or in
// doubt (no answer before the server died, or an error answer), which freezes its keys.

import type { Cluster, Reply } from "./_crash_server.ts";
import type { Doubt, Model, Scope } from "./_crash_model.ts";

export interface WriterOptions {
  readonly scope: Scope;
  readonly lane: number;
  readonly lanes: number;
  readonly rand: () => number;
  /** True once the writer should finish its current statement and return. */
  readonly stopped: () => boolean;
}

/** How long one statement may take before its outcome counts as unknown. */
const STATEMENT_MS = 20_000;

/** Runs one writer until `stopped()`; returns how many statements it sent. */
export async function runWriter(cluster: Cluster, model: Model, o: WriterOptions): Promise<number> {
  const { scope, rand } = o;
  const live: number[] = []; // keys of this lane known present
  let next = 0;
  let sent = 0;
  const fresh = () => 1 + o.lane + (next++) * o.lanes;
  const take = (n: number) => {
    const out: number[] = [];
    while (out.length < n && live.length > 0) {
      out.push(live.splice(Math.floor(rand() * live.length), 1)[0]);
    }
    return out;
  };
  while (!o.stopped()) {
    const server = await cluster.ready();
    const dice = rand();
    let sql: string;
    let rows: Doubt[];
    if (live.length < 4 || dice < 0.45) {
      rows = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => {
        const k = fresh();
        return { k, before: null, after: model.value(k) };
      });
      sql = `INSERT INTO ${scope.table} (k, v) VALUES ${
        rows.map((r) => `(${r.k}, ${r.after})`).join(", ")
      }`;
    } else if (dice < 0.8) {
      rows = take(rand() < 0.5 ? 1 : 2).map((k) => ({
        k,
        before: value(scope, k),
        after: model.value(k),
      }));
      const set = rows.length === 1
        ? String(rows[0].after)
        : `CASE WHEN k = ${rows[0].k} THEN ${rows[0].after} ELSE ${rows[1].after} END`;
      sql = `UPDATE ${scope.table} SET v = ${set} WHERE k IN (${rows.map((r) => r.k).join(", ")})`;
    } else {
      rows = take(rand() < 0.7 ? 1 : 2).map((k) => ({ k, before: value(scope, k), after: null }));
      sql = `DELETE FROM ${scope.table} WHERE k IN (${rows.map((r) => r.k).join(", ")})`;
    }
    sent++;
    let reply: Reply | undefined;
    let reason = "";
    try {
      reply = await server.sql(sql, scope.auth, STATEMENT_MS);
    } catch (err) {
      reason = `no answer: ${(err as Error).message.slice(0, 120)}`;
    }
    if (reply?.status === 200 && reply.body?.status === "success") {
      const count = reply.body.results?.[0]?.row_count;
      if (count !== rows.length) {
        model.anomalies.push(
          `${scope.name}: "${sql}" acknowledged ${count} row(s), not ${rows.length}`,
        );
      }
      model.ack(scope, rows);
      for (const r of rows) if (r.after !== null) live.push(r.k);
      continue;
    }
    if (reply) {
      model.errors++;
      reason = `HTTP ${reply.status} ${reply.text.slice(0, 200)}`;
      if (model.errorSamples.length < 5) model.errorSamples.push(`${scope.name}: ${reason}`);
    }
    model.doubt(scope, sql, rows, reason);
  }
  return sent;
}

/** The known value of a present key (the writer only picks those). */
function value(scope: Scope, k: number): number {
  const s = scope.keys.get(k);
  if (s?.kind !== "present") throw new Error(`${scope.name}: key ${k} is not known present`);
  return s.v;
}
