// What the clients know about the data, kept while the server is killed under them: per scope
// (one user's partition of the USER table, or the SHARED table) the state of every key as the
// last acknowledged write left it, and every write whose answer never came (its outcome is
// unknown: all of its rows carry the new state, or none do). Values are unique per write, so a
// row's value names the write that put it there; keys of an unknown write are never written
// again, so the final state tells which way it went.

export { rng } from "../_rng.ts";

/** A key's state after its last acknowledged write; `unknown` names the write in doubt. */
export type KeyState =
  | { readonly kind: "present"; readonly v: number }
  | { readonly kind: "deleted" }
  | { readonly kind: "unknown"; readonly op: number };

/** One row of a write in doubt: its state before (null: absent) and after, if applied. */
export interface Doubt {
  readonly k: number;
  readonly before: number | null;
  readonly after: number | null;
}

/** A write whose acknowledgement never came (connection lost, timeout or an error answer). */
export interface UnknownWrite {
  readonly id: number;
  readonly scope: string;
  readonly sql: string;
  readonly rows: readonly Doubt[];
  readonly reason: string;
}

/** One scope: a table (and the user whose partition it is), read and written with `auth`. */
export interface Scope {
  readonly name: string;
  readonly table: string;
  readonly user: string;
  auth: string;
  readonly keys: Map<number, KeyState>;
}

/** One write as sent, in order: acknowledged, or in doubt (`unknown` names it). */
export interface Write {
  readonly scope: string;
  readonly rows: readonly Doubt[];
  readonly unknown?: number;
}

/** The clients' whole knowledge, plus counters for the summary. */
export class Model {
  readonly scopes: Scope[] = [];
  readonly unknown: UnknownWrite[] = [];
  /** Every write sent, acknowledged or in doubt (what each subscriber must have seen). */
  readonly writes: Write[] = [];
  /** A few error answers, for the report. */
  readonly errorSamples: string[] = [];
  /** Every value some write (acknowledged or not) tried to store: value → key. */
  readonly written = new Map<number, number>();
  /** Anomalies seen while running (an ack whose row count is wrong, …). */
  readonly anomalies: string[] = [];
  acked = 0;
  ackedRows = 0;
  errors = 0;
  #nextOp = 1;
  #nextValue = 1;

  scope(name: string, table: string, user: string, auth: string): Scope {
    const s: Scope = { name, table, user, auth, keys: new Map() };
    this.scopes.push(s);
    return s;
  }

  /** A value never used before. */
  value(k: number): number {
    const v = this.#nextValue++;
    this.written.set(v, k);
    return v;
  }

  /** Records an acknowledged write: each row's new state (null: deleted). */
  ack(scope: Scope, rows: readonly Doubt[]): void {
    this.acked++;
    this.ackedRows += rows.length;
    this.writes.push({ scope: scope.name, rows });
    for (const r of rows) {
      scope.keys.set(r.k, r.after === null ? { kind: "deleted" } : { kind: "present", v: r.after });
    }
  }

  /** Records a write in doubt; its keys are frozen from now on. */
  doubt(scope: Scope, sql: string, rows: readonly Doubt[], reason: string): UnknownWrite {
    const w: UnknownWrite = { id: this.#nextOp++, scope: scope.name, sql, rows, reason };
    this.unknown.push(w);
    this.writes.push({ scope: scope.name, rows, unknown: w.id });
    for (const r of rows) scope.keys.set(r.k, { kind: "unknown", op: w.id });
    return w;
  }

  /** Keys of `scope` whose state is known present, for updates and deletes to pick from. */
  present(scope: Scope, keys: Iterable<number>): number[] {
    const out: number[] = [];
    for (const k of keys) if (scope.keys.get(k)?.kind === "present") out.push(k);
    return out;
  }
}
