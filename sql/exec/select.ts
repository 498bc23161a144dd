// The SELECT planner: AST → operator tree, compiled once per statement and runnable many times
// (parameters, subquery results and table sources are bound per execution context, so a cached
// plan serves every user). Design decisions: WHERE conjuncts that touch one table are pushed into
// that table's scan, where `pk = …` / `pk IN (…)` become key seeks; uncorrelated subqueries run
// once, before rows flow; when every source can be read synchronously, `execute` runs the whole
// query in one synchronous step (no per-batch promise hops, one consistent snapshot).

import type { FromItem, SelectStmt, TypeName } from "../ast.ts";
import { assertNever, DbError } from "../../errors.ts";
import { compileExpr, predicate } from "../eval/mod.ts";
import type { Compiled, CompileOptions, Scope, SubqueryHandle } from "../eval/mod.ts";
import type { Catalog, EvalContext, ExecContext } from "../source.ts";
import { typeToString } from "../values.ts";
import type { ResultColumn, Row, Value } from "../values.ts";
import { planAggregate } from "./aggregate.ts";
import {
  checkAliases,
  count,
  expandItems,
  groupByExprs,
  orderKeys,
  planWhere,
  projectScans,
  usesAggregates,
} from "./clauses.ts";
import type { Leaf } from "./clauses.ts";
import { planJoin } from "./join.ts";
import { tableScope } from "./keys.ts";
import {
  Alias,
  Distinct,
  Filter,
  Limit,
  OneRow,
  Project,
  Sort,
  TableScan,
  Trim,
} from "./operators.ts";
import type { Operator } from "./operators.ts";

/**
 * The rows of a SELECT with their column names and types. Rows may be shared with the source
 * (a plain `SELECT *` passes them through): treat them as read-only.
 */
export interface SelectResult {
  columns: ResultColumn[];
  types: TypeName[];
  rows: Row[];
}

/** A compiled SELECT: run it any number of times with different contexts. */
export interface Plan {
  readonly columns: ResultColumn[];
  readonly types: TypeName[];
  /** Streams result batches (subqueries are evaluated first). */
  run(ctx: ExecContext): AsyncGenerator<Row[]>;
  execute(ctx: ExecContext): Promise<SelectResult>;
  /** The operator tree, one node per line. */
  explain(): string;
}

/** An uncorrelated subquery, evaluated once per execution before the main tree runs. */
interface PreStep {
  readonly root: Operator;
  readonly results: WeakMap<EvalContext, Row[]>;
}

interface Planner {
  readonly catalog: Catalog;
  /** The planning execution (its sources are bound as they are resolved). */
  readonly ctx: ExecContext;
  /** Subqueries to evaluate before the main tree runs, innermost first. */
  readonly pre: PreStep[];
  readonly handles: Map<SelectStmt, SubqueryHandle>;
  /** Every table scan of the plan, subqueries included, for binding per execution. */
  readonly scans: TableScan[];
}

interface Planned {
  readonly root: Operator;
  readonly names: string[];
  readonly types: TypeName[];
}

const TEXT: TypeName = { base: "TEXT" };

/**
 * An output column of unknown type (an untyped `$1`) is TEXT, as in PostgreSQL: its values are
 * shown as text too, so the schema and the values agree (`SELECT $1` with `[0]` gives "0").
 */
function asTextWhenUntyped(c: Compiled): Compiled {
  if (c.type !== null) return c;
  return { ...c, type: TEXT, eval: (row, ctx) => untypedText(c.eval(row, ctx)) };
}

function untypedText(v: Value): Value {
  if (v === null || typeof v === "string") return v;
  if (typeof v === "object" && !(v instanceof Uint8Array)) return JSON.stringify(v);
  return v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v);
}

/**
 * Runs a SELECT and collects its rows.
 *
 * @example
 * const { columns, rows } = await executeSelect(parseBatch("SELECT 1 AS one")[0].statement, ctx);
 */
export async function executeSelect(stmt: SelectStmt, ctx: ExecContext): Promise<SelectResult> {
  return await planSelect(stmt, ctx).execute(ctx);
}

/** Plans a SELECT (resolving tables through `ctx.catalog`) without running it. */
export function planSelect(stmt: SelectStmt, ctx: ExecContext): Plan {
  const planner: Planner = { catalog: ctx.catalog, ctx, pre: [], handles: new Map(), scans: [] };
  const planned = planQuery(stmt, planner);
  return new SelectPlan(planned, planner.pre, planner.scans);
}

/** Appends `batch` to `rows`, adopting the batch itself when `rows` is undefined. */
function collect(rows: Row[] | undefined, batch: Row[]): Row[] {
  if (!rows) return batch;
  for (let i = 0; i < batch.length; i++) rows.push(batch[i]);
  return rows;
}

class SelectPlan implements Plan {
  readonly columns: ResultColumn[];
  readonly types: TypeName[];
  readonly #root: Operator;
  readonly #pre: readonly PreStep[];
  readonly #scans: readonly TableScan[];

  constructor(planned: Planned, pre: readonly PreStep[], scans: readonly TableScan[]) {
    this.#root = planned.root;
    this.#pre = pre;
    this.#scans = scans;
    this.types = planned.types;
    this.columns = planned.names.map((name, i) => ({ name, type: typeToString(planned.types[i]) }));
  }

  /** Resolves every table for this execution, in one synchronous step (same catalog state). */
  #bind(ctx: ExecContext): void {
    for (const scan of this.#scans) scan.bind(ctx);
  }

  run(ctx: ExecContext): AsyncGenerator<Row[]> {
    this.#bind(ctx);
    return this.#run(ctx);
  }

  async *#run(ctx: ExecContext): AsyncGenerator<Row[]> {
    for (const step of this.#pre) {
      let rows: Row[] = [];
      for await (const batch of step.root.run(ctx)) rows = collect(rows, batch);
      step.results.set(ctx, rows);
    }
    yield* this.#root.run(ctx);
  }

  execute(ctx: ExecContext): Promise<SelectResult> {
    try {
      this.#bind(ctx);
      const sync = this.#root.canRunSync(ctx) && this.#pre.every((p) => p.root.canRunSync(ctx));
      if (!sync) return this.#executeAsync(ctx);
      for (const step of this.#pre) {
        let rows: Row[] = [];
        for (const batch of step.root.runSync(ctx)) rows = collect(rows, batch);
        step.results.set(ctx, rows);
      }
      let rows: Row[] | undefined;
      for (const batch of this.#root.runSync(ctx)) rows = collect(rows, batch);
      return Promise.resolve(this.#result(rows));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #executeAsync(ctx: ExecContext): Promise<SelectResult> {
    let rows: Row[] | undefined;
    for await (const batch of this.#run(ctx)) rows = collect(rows, batch);
    return this.#result(rows);
  }

  #result(rows: Row[] | undefined): SelectResult {
    // The first batch is adopted, not copied: copy if it could be a source's own array.
    return { columns: this.columns, types: this.types, rows: rows ? rows.slice() : [] };
  }

  explain(): string {
    return this.#root.explain().join("\n");
  }
}

function subqueryHandle(query: SelectStmt, p: Planner): SubqueryHandle {
  let handle = p.handles.get(query);
  if (handle) return handle;
  const sub = planQuery(query, p);
  const results = new WeakMap<EvalContext, Row[]>();
  p.pre.push({ root: sub.root, results });
  handle = {
    types: sub.types,
    rows: (ctx) => {
      const rows = results.get(ctx);
      if (!rows) throw new DbError("INTERNAL_ERROR", "Subquery was not evaluated");
      return rows;
    },
  };
  p.handles.set(query, handle);
  return handle;
}

function planFrom(
  item: FromItem,
  p: Planner,
  options: CompileOptions,
  nullable: boolean,
  offset: number,
  leaves: Leaf[],
): Operator {
  switch (item.kind) {
    case "table_ref": {
      const source = p.catalog.table(item.table);
      const scope = tableScope(source.schema, item.alias ?? item.table.name);
      const scan = new TableScan(item.table, source, scope, p.ctx);
      p.scans.push(scan);
      leaves.push({ scan, offset, nullable, pushed: [] });
      return scan;
    }
    case "subquery_ref": {
      const sub = planQuery(item.query, p);
      const columns = sub.names.map((name, i) => ({ table: item.alias, name, type: sub.types[i] }));
      return new Alias(sub.root, { columns }, item.alias);
    }
    case "join": {
      const left = planFrom(item.left, p, options, nullable, offset, leaves);
      const right = planFrom(
        item.right,
        p,
        options,
        nullable || item.joinType === "LEFT",
        offset + left.scope.columns.length,
        leaves,
      );
      return planJoin(left, right, item.joinType, item.on, options);
    }
    default:
      return assertNever(item, "FROM item");
  }
}

function planQuery(stmt: SelectStmt, p: Planner): Planned {
  const options: CompileOptions = { subqueries: (q) => subqueryHandle(q, p) };
  const leaves: Leaf[] = [];
  let root: Operator = stmt.from ? planFrom(stmt.from, p, options, false, 0, leaves) : new OneRow();
  checkAliases(leaves);
  projectScans(stmt, leaves);
  const input = root.scope;
  if (stmt.where) root = planWhere(root, stmt.where, leaves, options);
  const items = expandItems(stmt, input);

  // Grouping: GROUP BY (ordinals and output aliases allowed), aggregates, HAVING.
  const aggregate = usesAggregates(stmt, items);
  let exprOptions = options;
  if (aggregate) {
    const planned = planAggregate(root, groupByExprs(stmt, items, input), options);
    root = planned.op;
    exprOptions = { ...options, aggregates: planned.hook };
  }
  const compiled: Compiled[] = items.map((i) =>
    i.index !== undefined && !aggregate
      ? { type: input.columns[i.index].type, eval: (row: Row) => row[i.index!] }
      : asTextWhenUntyped(compileExpr(i.expr, input, exprOptions))
  );
  if (stmt.having) {
    root = new Filter(root, predicate(stmt.having, input, exprOptions), stmt.having);
  }
  const types = compiled.map((c) => c.type ?? TEXT);

  // ORDER BY: output ordinals, output names, select-list expressions, else hidden keys.
  const { sortKeys, hidden } = orderKeys(stmt, items, types, input, exprOptions);

  // Projection (skipped when it would copy input rows unchanged).
  const names = items.map((i) => i.name);
  const outScope: Scope = { columns: names.map((name, i) => ({ name, type: types[i] })) };
  const identity = !aggregate && hidden.length === 0 && items.length === input.columns.length &&
    items.every((i, k) => i.index === k);
  if (!identity) {
    const fns = [...compiled, ...hidden].map((c) => c.eval);
    const columns = [
      ...outScope.columns,
      ...hidden.map((h, i) => ({ name: `#sort${i}`, type: h.type ?? TEXT })),
    ];
    root = new Project(root, { columns }, fns);
  }
  if (stmt.distinct) root = new Distinct(root, items.length);
  if (sortKeys.length) root = new Sort(root, sortKeys);
  if (stmt.limit || stmt.offset) {
    root = new Limit(
      root,
      count(stmt.limit, "LIMIT", options),
      count(stmt.offset, "OFFSET", options),
    );
  }
  if (hidden.length) root = new Trim(root, outScope);
  return { root, names, types };
}
