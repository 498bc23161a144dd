// Pull-based SELECT operators: each `run` is an AsyncGenerator of row batches. Design decision:
// operators never mutate rows they receive (sources may share them), release their inputs by
// leaving `for await` (which closes the child in `finally`), and check the AbortSignal between
// batches, so LIMIT stops a scan early and a cancelled query stops within one batch.

import { DbError } from "../../errors.ts";
import type { Expr } from "../ast.ts";
import type { Scope } from "../eval.ts";
import { printExpr } from "../parse/mod.ts";
import type { ExecContext, TableSource } from "../source.ts";
import { compareValues, valueKey } from "../values.ts";
import type { Row, Value } from "../values.ts";

/** A node of a physical plan. */
export interface Operator {
  /** Layout of the rows this operator yields. */
  readonly scope: Scope;
  run(ctx: ExecContext): AsyncGenerator<Row[]>;
  /** One line per node, children indented below. */
  explain(): string[];
}

/** A row filter / row function compiled once. */
export type RowTest = (row: Row, ctx: ExecContext) => boolean;
export type RowFn = (row: Row, ctx: ExecContext) => Value;

/** Throws QUERY_TIMEOUT when the statement's signal has fired. */
export function checkAbort(ctx: ExecContext): void {
  if (ctx.signal?.aborted) throw new DbError("QUERY_TIMEOUT", "Query cancelled/timeout");
}

function indent(lines: string[]): string[] {
  return lines.map((l) => "  " + l);
}

/** Reads a table: a primary-key seek when `keys` yields values, else a scan; optional filter. */
export class TableScan implements Operator {
  readonly scope: Scope;
  readonly source: TableSource;
  /** Primary-key values to seek, computed per execution (params). */
  keys?: (ctx: ExecContext) => Value[];
  filter?: RowTest;
  includeDeleted = false;
  /** The pushed-down WHERE conjuncts, for EXPLAIN. */
  filterExpr?: Expr;

  constructor(source: TableSource, scope: Scope) {
    this.source = source;
    this.scope = scope;
  }

  async *run(ctx: ExecContext): AsyncGenerator<Row[]> {
    checkAbort(ctx);
    const keys = this.keys?.(ctx);
    const filter = this.filter;
    const batches = this.source.scan({
      keys,
      includeDeleted: this.includeDeleted,
      signal: ctx.signal,
    });
    for await (const batch of batches) {
      checkAbort(ctx);
      if (!filter) {
        if (batch.length) yield batch;
        continue;
      }
      const out: Row[] = [];
      for (let i = 0; i < batch.length; i++) if (filter(batch[i], ctx)) out.push(batch[i]);
      if (out.length) yield out;
    }
  }

  explain(): string[] {
    const s = this.source.schema;
    const alias = this.scope.columns[0]?.table;
    let line = `${this.keys ? "KeyLookup" : "Scan"} ${s.namespace}.${s.name}`;
    if (alias && alias !== s.name) line += ` AS ${alias}`;
    if (this.filterExpr) line += ` filter: ${printExpr(this.filterExpr)}`;
    if (this.includeDeleted) line += " (including deleted)";
    return [line];
  }
}

/** One empty row: the input of `SELECT` without FROM. */
export class OneRow implements Operator {
  readonly scope: Scope = { columns: [] };
  async *run(): AsyncGenerator<Row[]> {
    yield [[]];
  }
  explain(): string[] {
    return ["OneRow"];
  }
}

/** Keeps the rows for which the test is true. */
export class Filter implements Operator {
  constructor(readonly child: Operator, readonly test: RowTest, readonly expr: Expr) {}
  get scope(): Scope {
    return this.child.scope;
  }
  async *run(ctx: ExecContext): AsyncGenerator<Row[]> {
    const test = this.test;
    for await (const batch of this.child.run(ctx)) {
      checkAbort(ctx);
      const out: Row[] = [];
      for (let i = 0; i < batch.length; i++) if (test(batch[i], ctx)) out.push(batch[i]);
      if (out.length) yield out;
    }
  }
  explain(): string[] {
    return [`Filter ${printExpr(this.expr)}`, ...indent(this.child.explain())];
  }
}

/** Computes output rows from input rows. */
export class Project implements Operator {
  constructor(
    readonly child: Operator,
    readonly scope: Scope,
    readonly fns: readonly RowFn[],
  ) {}
  async *run(ctx: ExecContext): AsyncGenerator<Row[]> {
    const fns = this.fns;
    const n = fns.length;
    for await (const batch of this.child.run(ctx)) {
      checkAbort(ctx);
      const out: Row[] = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) {
        const row = batch[i];
        const r: Row = new Array(n);
        for (let j = 0; j < n; j++) r[j] = fns[j](row, ctx);
        out[i] = r;
      }
      yield out;
    }
  }
  explain(): string[] {
    return [
      `Project ${this.scope.columns.map((c) => c.name).join(", ")}`,
      ...indent(this.child.explain()),
    ];
  }
}

/** Drops rows whose first `width` values equal an earlier row's. */
export class Distinct implements Operator {
  constructor(readonly child: Operator, readonly width: number) {}
  get scope(): Scope {
    return this.child.scope;
  }
  async *run(ctx: ExecContext): AsyncGenerator<Row[]> {
    const seen = new Set<string>();
    const w = this.width;
    for await (const batch of this.child.run(ctx)) {
      checkAbort(ctx);
      const out: Row[] = [];
      for (const row of batch) {
        let key = "";
        for (let j = 0; j < w; j++) key += valueKey(row[j]) + "\u0001";
        if (!seen.has(key)) {
          seen.add(key);
          out.push(row);
        }
      }
      if (out.length) yield out;
    }
  }
  explain(): string[] {
    return ["Distinct", ...indent(this.child.explain())];
  }
}

/** One ORDER BY key: a column of the input rows. */
export interface SortKey {
  readonly index: number;
  readonly desc: boolean;
  readonly nullsFirst: boolean;
  readonly decimal: boolean;
  readonly expr: Expr;
}

/** Materializes and sorts (stable: ties keep input order, i.e. primary-key order). */
export class Sort implements Operator {
  constructor(readonly child: Operator, readonly keys: readonly SortKey[]) {}
  get scope(): Scope {
    return this.child.scope;
  }
  async *run(ctx: ExecContext): AsyncGenerator<Row[]> {
    const rows: Row[] = [];
    for await (const batch of this.child.run(ctx)) {
      checkAbort(ctx);
      for (let i = 0; i < batch.length; i++) rows.push(batch[i]);
    }
    const keys = this.keys;
    rows.sort((a, b) => {
      for (const k of keys) {
        const x = a[k.index];
        const y = b[k.index];
        if (x === y) continue;
        if (x === null) return k.nullsFirst ? -1 : 1;
        if (y === null) return k.nullsFirst ? 1 : -1;
        const c = compareValues(x, y, k.decimal);
        if (c !== 0) return k.desc ? -c : c;
      }
      return 0;
    });
    checkAbort(ctx);
    if (rows.length) yield rows;
  }
  explain(): string[] {
    const keys = this.keys.map((k) => `${printExpr(k.expr)}${k.desc ? " DESC" : ""}`).join(", ");
    return [`Sort ${keys}`, ...indent(this.child.explain())];
  }
}

/** OFFSET then LIMIT, evaluated per execution; stops pulling once the limit is reached. */
export class Limit implements Operator {
  constructor(
    readonly child: Operator,
    readonly limit: ((ctx: ExecContext) => number | undefined) | undefined,
    readonly offset: ((ctx: ExecContext) => number | undefined) | undefined,
  ) {}
  get scope(): Scope {
    return this.child.scope;
  }
  async *run(ctx: ExecContext): AsyncGenerator<Row[]> {
    const limit = this.limit?.(ctx) ?? Infinity;
    let skip = this.offset?.(ctx) ?? 0;
    if (limit <= 0) return;
    let left = limit;
    for await (let batch of this.child.run(ctx)) {
      checkAbort(ctx);
      if (skip > 0) {
        if (batch.length <= skip) {
          skip -= batch.length;
          continue;
        }
        batch = batch.slice(skip);
        skip = 0;
      }
      if (batch.length >= left) {
        yield batch.length === left ? batch : batch.slice(0, left);
        return;
      }
      left -= batch.length;
      yield batch;
    }
  }
  explain(): string[] {
    return ["Limit", ...indent(this.child.explain())];
  }
}

/** Keeps the first `width` values of each row (drops hidden sort keys). */
export class Trim implements Operator {
  constructor(readonly child: Operator, readonly scope: Scope) {}
  async *run(ctx: ExecContext): AsyncGenerator<Row[]> {
    const w = this.scope.columns.length;
    for await (const batch of this.child.run(ctx)) yield batch.map((r) => r.slice(0, w));
  }
  explain(): string[] {
    return this.child.explain();
  }
}

/** Renames the columns of a child (a subquery in FROM under its alias). */
export class Alias implements Operator {
  constructor(readonly child: Operator, readonly scope: Scope, readonly name: string) {}
  run(ctx: ExecContext): AsyncGenerator<Row[]> {
    return this.child.run(ctx);
  }
  explain(): string[] {
    return [`Subquery AS ${this.name}`, ...indent(this.child.explain())];
  }
}

export { indent };
