// Pull-based SELECT operators: each `run` is an AsyncGenerator of row batches, and `runSync` the
// same batches synchronously when every source below can be read without waiting (`canRunSync`).
// Design decisions: a one-input operator is written once, as a per-execution `Stage` (batch in →
// batch out), and the two drivers in `Unary` run it either way; operators never mutate rows they
// receive (sources may share them), release their inputs by leaving their loop (which closes the
// child in `finally`), and check the AbortSignal between batches, so LIMIT stops a scan early and
// a cancelled query stops within one batch.

import { DbError } from "../../errors.ts";
import type { Expr, TableName } from "../ast.ts";
import type { Scope } from "../eval/mod.ts";
import { printExpr } from "../parse/mod.ts";
import type { ColumnRange, ExecContext, ScanOptions, TableSchema, TableSource } from "../source.ts";
import { compareValues, valueKey } from "../values.ts";
import type { Row, Value } from "../values.ts";

/** A node of a physical plan. */
export interface Operator {
  /** Layout of the rows this operator yields. */
  readonly scope: Scope;
  run(ctx: ExecContext): AsyncGenerator<Row[]>;
  /** The batches of `run`, synchronously; only when `canRunSync(ctx)`. */
  runSync(ctx: ExecContext): Generator<Row[]>;
  /** True when every source under this node can be read synchronously in this execution. */
  canRunSync(ctx: ExecContext): boolean;
  /** One line per node, children indented below. */
  explain(): string[];
}

/** A row filter / row function compiled once. */
export type RowTest = (row: Row, ctx: ExecContext) => boolean;
export type RowFn = (row: Row, ctx: ExecContext) => Value;

/** Most rows an operator that multiplies rows (a join) puts in one batch. */
export const BATCH = 1024;

/** Throws QUERY_TIMEOUT when the statement's signal has fired. */
export function checkAbort(ctx: ExecContext): void {
  if (ctx.signal?.aborted) throw new DbError("QUERY_TIMEOUT", "Query cancelled/timeout");
}

function indent(lines: string[]): string[] {
  return lines.map((l) => "  " + l);
}

/** Per-execution state of a one-input operator. */
export interface Stage {
  /** Output for one input batch (undefined or empty: nothing to emit). */
  push(batch: Row[]): Row[] | undefined;
  /** Set when no more input is wanted (LIMIT reached); checked before the first pull too. */
  done?: boolean;
  /** Rows to emit once the input is exhausted (Sort, Aggregate). */
  end?(): Row[] | undefined;
}

/** A one-input operator: its logic is a Stage, run by an async and a sync driver. */
export abstract class Unary implements Operator {
  abstract readonly child: Operator;
  abstract readonly scope: Scope;
  abstract stage(ctx: ExecContext): Stage;
  abstract explain(): string[];

  canRunSync(ctx: ExecContext): boolean {
    return this.child.canRunSync(ctx);
  }

  async *run(ctx: ExecContext): AsyncGenerator<Row[]> {
    const s = this.stage(ctx);
    if (s.done) return;
    for await (const batch of this.child.run(ctx)) {
      checkAbort(ctx);
      const out = s.push(batch);
      if (out && out.length) yield out;
      if (s.done) return;
    }
    if (!s.end) return;
    const tail = s.end();
    checkAbort(ctx);
    if (tail && tail.length) yield tail;
  }

  *runSync(ctx: ExecContext): Generator<Row[]> {
    const s = this.stage(ctx);
    if (s.done) return;
    for (const batch of this.child.runSync(ctx)) {
      checkAbort(ctx);
      const out = s.push(batch);
      if (out && out.length) yield out;
      if (s.done) return;
    }
    if (!s.end) return;
    const tail = s.end();
    checkAbort(ctx);
    if (tail && tail.length) yield tail;
  }
}

/** Same columns in the same order with the same ids and types: compiled plans stay valid. */
function sameLayout(a: TableSchema, b: TableSchema): boolean {
  if (a === b) return true;
  if (a.columns.length !== b.columns.length || a.pkIndex !== b.pkIndex) return false;
  for (let i = 0; i < a.columns.length; i++) {
    const x = a.columns[i];
    const y = b.columns[i];
    if (x.id !== y.id || x.type.base !== y.type.base) return false;
  }
  return true;
}

/**
 * Reads a table: a primary-key seek when `keys` yields values, else a scan; optional filter.
 * The source is bound per execution (`bind`), so one plan serves every user of its tables.
 */
export class TableScan implements Operator {
  readonly scope: Scope;
  /** The schema the plan was compiled against. */
  readonly schema: TableSchema;
  /** Primary-key values to seek, computed per execution (params). */
  keys?: (ctx: ExecContext) => Value[];
  /** Pushed-down comparisons a source may use to skip data (Parquet statistics). */
  ranges?: (ctx: ExecContext) => ColumnRange[];
  filter?: RowTest;
  includeDeleted = false;
  /** The columns the statement reads (see ScanOptions.columns); absent: all. */
  columns?: number[];
  /** The pushed-down WHERE conjuncts, for EXPLAIN. */
  filterExpr?: Expr;
  readonly #table: TableName;
  // The latest execution's source. One slot, not a WeakMap: WeakMap entries for short-lived keys
  // cost about a microsecond each in GC, a sixth of a primary-key lookup. An execution that lost
  // the slot to a concurrent one (async plans only) resolves its table again.
  #ctx: ExecContext;
  #source: TableSource;
  /** The options `canRunSync` computed for its execution, reused by `runSync`. */
  #prepared?: { ctx: ExecContext; options: ScanOptions };

  /** `source` is the planning execution's source (bound to `ctx`). */
  constructor(table: TableName, source: TableSource, scope: Scope, ctx: ExecContext) {
    this.#table = table;
    this.schema = source.schema;
    this.scope = scope;
    this.#ctx = ctx;
    this.#source = source;
  }

  /**
   * Resolves this execution's source through `ctx.catalog`. Call it synchronously at the start
   * of an execution; throws when the table no longer has the layout the plan was compiled for.
   */
  bind(ctx: ExecContext): TableSource {
    if (ctx === this.#ctx) return this.#source;
    const source = ctx.catalog.table(this.#table);
    if (!sameLayout(source.schema, this.schema)) {
      const s = this.schema;
      throw new DbError("INVALID_SQL", `Table "${s.namespace}.${s.name}" changed; retry`);
    }
    this.#ctx = ctx;
    this.#source = source;
    return source;
  }

  canRunSync(ctx: ExecContext): boolean {
    const source = this.bind(ctx);
    if (!source.scanSync) return false;
    if (!source.readyFor) return true;
    const options = this.#options(ctx);
    this.#prepared = { ctx, options };
    return source.readyFor(options);
  }

  #options(ctx: ExecContext): ScanOptions {
    return {
      keys: this.keys?.(ctx),
      ranges: this.ranges?.(ctx),
      includeDeleted: this.includeDeleted,
      columns: this.columns,
      signal: ctx.signal,
    };
  }

  async *run(ctx: ExecContext): AsyncGenerator<Row[]> {
    checkAbort(ctx);
    const source = this.bind(ctx);
    const filter = this.filter;
    const batches = source.scan(this.#options(ctx));
    for await (const batch of batches) {
      checkAbort(ctx);
      const out = filter ? filterBatch(batch, filter, ctx) : batch;
      if (out.length) yield out;
    }
  }

  *runSync(ctx: ExecContext): Generator<Row[]> {
    checkAbort(ctx);
    const source = this.bind(ctx);
    const filter = this.filter;
    const prepared = this.#prepared;
    this.#prepared = undefined;
    const batches = source.scanSync!(prepared?.ctx === ctx ? prepared.options : this.#options(ctx));
    for (const batch of batches) {
      checkAbort(ctx);
      const out = filter ? filterBatch(batch, filter, ctx) : batch;
      if (out.length) yield out;
    }
  }

  explain(): string[] {
    const s = this.schema;
    const alias = this.scope.columns[0]?.table;
    let line = `${this.keys ? "KeyLookup" : "Scan"} ${s.namespace}.${s.name}`;
    if (alias && alias !== s.name) line += ` AS ${alias}`;
    if (this.filterExpr) line += ` filter: ${printExpr(this.filterExpr)}`;
    if (this.includeDeleted) line += " (including deleted)";
    return [line];
  }
}

function filterBatch(batch: Row[], test: RowTest, ctx: ExecContext): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < batch.length; i++) if (test(batch[i], ctx)) out.push(batch[i]);
  return out;
}

/** One empty row: the input of `SELECT` without FROM. */
export class OneRow implements Operator {
  readonly scope: Scope = { columns: [] };
  async *run(): AsyncGenerator<Row[]> {
    yield [[]];
  }
  *runSync(): Generator<Row[]> {
    yield [[]];
  }
  canRunSync(): boolean {
    return true;
  }
  explain(): string[] {
    return ["OneRow"];
  }
}

/** Keeps the rows for which the test is true. */
export class Filter extends Unary {
  constructor(readonly child: Operator, readonly test: RowTest, readonly expr: Expr) {
    super();
  }
  get scope(): Scope {
    return this.child.scope;
  }
  stage(ctx: ExecContext): Stage {
    const test = this.test;
    return { push: (batch) => filterBatch(batch, test, ctx) };
  }
  explain(): string[] {
    return [`Filter ${printExpr(this.expr)}`, ...indent(this.child.explain())];
  }
}

/** Computes output rows from input rows. */
export class Project extends Unary {
  constructor(
    readonly child: Operator,
    readonly scope: Scope,
    readonly fns: readonly RowFn[],
  ) {
    super();
  }
  stage(ctx: ExecContext): Stage {
    const fns = this.fns;
    const n = fns.length;
    return {
      push(batch) {
        const out: Row[] = new Array(batch.length);
        for (let i = 0; i < batch.length; i++) {
          const row = batch[i];
          const r: Row = new Array(n);
          for (let j = 0; j < n; j++) r[j] = fns[j](row, ctx);
          out[i] = r;
        }
        return out;
      },
    };
  }
  explain(): string[] {
    return [
      `Project ${this.scope.columns.map((c) => c.name).join(", ")}`,
      ...indent(this.child.explain()),
    ];
  }
}

/** Drops rows whose first `width` values equal an earlier row's. */
export class Distinct extends Unary {
  constructor(readonly child: Operator, readonly width: number) {
    super();
  }
  get scope(): Scope {
    return this.child.scope;
  }
  stage(): Stage {
    const seen = new Set<string>();
    const w = this.width;
    return {
      push(batch) {
        const out: Row[] = [];
        for (const row of batch) {
          let key = "";
          for (let j = 0; j < w; j++) key += valueKey(row[j]) + "\u0001";
          if (!seen.has(key)) {
            seen.add(key);
            out.push(row);
          }
        }
        return out;
      },
    };
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
export class Sort extends Unary {
  constructor(readonly child: Operator, readonly keys: readonly SortKey[]) {
    super();
  }
  get scope(): Scope {
    return this.child.scope;
  }
  stage(): Stage {
    const rows: Row[] = [];
    const keys = this.keys;
    return {
      push(batch) {
        for (let i = 0; i < batch.length; i++) rows.push(batch[i]);
        return undefined;
      },
      end() {
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
        return rows;
      },
    };
  }
  explain(): string[] {
    const keys = this.keys.map((k) => `${printExpr(k.expr)}${k.desc ? " DESC" : ""}`).join(", ");
    return [`Sort ${keys}`, ...indent(this.child.explain())];
  }
}

/** OFFSET then LIMIT, evaluated per execution; stops pulling once the limit is reached. */
export class Limit extends Unary {
  constructor(
    readonly child: Operator,
    readonly limit: ((ctx: ExecContext) => number | undefined) | undefined,
    readonly offset: ((ctx: ExecContext) => number | undefined) | undefined,
  ) {
    super();
  }
  get scope(): Scope {
    return this.child.scope;
  }
  stage(ctx: ExecContext): Stage {
    const limit = this.limit?.(ctx) ?? Infinity;
    let skip = this.offset?.(ctx) ?? 0;
    let left = limit;
    const s: Stage = {
      done: limit <= 0,
      push(batch) {
        if (skip > 0) {
          if (batch.length <= skip) {
            skip -= batch.length;
            return undefined;
          }
          batch = batch.slice(skip);
          skip = 0;
        }
        if (batch.length >= left) {
          s.done = true;
          return batch.length === left ? batch : batch.slice(0, left);
        }
        left -= batch.length;
        return batch;
      },
    };
    return s;
  }
  explain(): string[] {
    return ["Limit", ...indent(this.child.explain())];
  }
}

/** Keeps the first `width` values of each row (drops hidden sort keys). */
export class Trim extends Unary {
  constructor(readonly child: Operator, readonly scope: Scope) {
    super();
  }
  stage(): Stage {
    const w = this.scope.columns.length;
    return { push: (batch) => batch.map((r) => r.slice(0, w)) };
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
  runSync(ctx: ExecContext): Generator<Row[]> {
    return this.child.runSync(ctx);
  }
  canRunSync(ctx: ExecContext): boolean {
    return this.child.canRunSync(ctx);
  }
  explain(): string[] {
    return [`Subquery AS ${this.name}`, ...indent(this.child.explain())];
  }
}

export { indent };
