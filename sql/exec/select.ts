// The SELECT planner: AST → operator tree, compiled once per statement and runnable many times
// (parameters, subquery results and table sources are bound per execution context, so a cached
// plan serves every user). Design decisions: WHERE conjuncts that touch one table are pushed into
// that table's scan, where `pk = …` / `pk IN (…)` become key seeks; uncorrelated subqueries run
// once, before rows flow; when every source can be read synchronously, `execute` runs the whole
// query in one synchronous step (no per-batch promise hops, one consistent snapshot).

import type { Expr, FromItem, SelectStmt, TypeName } from "../ast.ts";
import { assertNever, DbError } from "../../errors.ts";
import {
  compileExpr,
  conjuncts,
  exprKey,
  isAggregateCall,
  predicate,
  resolveColumn,
  visitExpr,
} from "../eval.ts";
import type { Compiled, CompileOptions, Scope, SubqueryHandle } from "../eval.ts";
import type { Catalog, EvalContext, ExecContext } from "../source.ts";
import { typeToString } from "../values.ts";
import type { ResultColumn, Row, Value } from "../values.ts";
import { planAggregate } from "./aggregate.ts";
import { planJoin, refersOnlyTo } from "./join.ts";
import { itemName, keyExtractor, rangeExtractor, tableScope } from "./keys.ts";
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
import type { Operator, SortKey } from "./operators.ts";

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

interface Leaf {
  readonly scan: TableScan;
  readonly offset: number;
  readonly nullable: boolean;
  readonly pushed: Expr[];
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

function and(parts: readonly Expr[]): Expr {
  return parts.reduce((a, b) => ({ kind: "binary", op: "AND", left: a, right: b, span: a.span }));
}

function checkAliases(leaves: readonly Leaf[]): void {
  const seen = new Set<string>();
  for (const l of leaves) {
    const alias = (l.scan.scope.columns[0]?.table ?? "").toLowerCase();
    if (seen.has(alias)) {
      throw new DbError("INVALID_SQL", `Table name "${alias}" specified more than once`);
    }
    seen.add(alias);
  }
}

/**
 * Tells each scan which of its columns the statement can read: those whose name appears in any
 * of its expressions (a name is enough: over-reading is harmless), plus the primary key and the
 * system columns. `*` and subqueries (which may refer outward) keep every column.
 */
function projectScans(stmt: SelectStmt, leaves: readonly Leaf[]): void {
  const names = new Set<string>();
  let all = false;
  const visit = (e: Expr | undefined) =>
    e && visitExpr(e, (n) => {
      // A star inside a call is COUNT(*), which reads no column.
      if (n.kind === "subquery" || n.kind === "exists" || n.kind === "in_subquery") all = true;
      else if (n.kind === "column") names.add(n.name.toLowerCase());
    });
  const visitFrom = (f: FromItem | undefined): void => {
    if (!f) return;
    if (f.kind === "subquery_ref") all = true;
    else if (f.kind === "join") {
      visitFrom(f.left);
      visitFrom(f.right);
      visit(f.on);
    }
  };
  if (stmt.items.some((i) => i.expr.kind === "star")) return;
  stmt.items.forEach((i) => visit(i.expr));
  visit(stmt.where);
  stmt.groupBy.forEach(visit);
  visit(stmt.having);
  stmt.orderBy.forEach((o) => visit(o.expr));
  visitFrom(stmt.from);
  if (all) return;
  for (const l of leaves) {
    const cols = l.scan.schema.columns;
    const keep = cols.flatMap((c, i) =>
      names.has(c.name.toLowerCase()) || i === l.scan.schema.pkIndex || c.name.startsWith("_")
        ? [i]
        : []
    );
    if (keep.length < cols.length) l.scan.columns = keep;
  }
}

/** Applies WHERE: `_deleted` visibility, pushdown into scans (with key seeks), the rest on top. */
function planWhere(
  root: Operator,
  where: Expr,
  leaves: Leaf[],
  options: CompileOptions,
): Operator {
  const input = root.scope;
  compileExpr(where, input, options); // names, ambiguity and types over the whole FROM
  visitExpr(where, (e) => {
    if (e.kind !== "column" || e.name.toLowerCase() !== "_deleted") return;
    const idx = resolveColumn(input, e.name, e.table);
    for (const l of leaves) {
      if (idx >= l.offset && idx < l.offset + l.scan.scope.columns.length) {
        l.scan.includeDeleted = true;
      }
    }
  });
  const rest: Expr[] = [];
  if (root instanceof TableScan) leaves[0].pushed.push(where);
  else {
    for (const part of conjuncts(where)) {
      const leaf = leaves.find((l) => !l.nullable && refersOnlyTo(part, l.scan.scope, options));
      if (leaf) leaf.pushed.push(part);
      else rest.push(part);
    }
  }
  for (const l of leaves) {
    if (!l.pushed.length) continue;
    const cond = and(l.pushed);
    const alias = l.scan.scope.columns[0]?.table;
    l.scan.filter = predicate(cond, l.scan.scope, options);
    l.scan.filterExpr = cond;
    l.scan.keys = keyExtractor(cond, l.scan.schema, alias);
    l.scan.ranges = rangeExtractor(cond, l.scan.schema, alias);
  }
  return rest.length ? new Filter(root, predicate(and(rest), input, options), and(rest)) : root;
}

interface OutItem {
  readonly name: string;
  readonly expr: Expr;
  readonly alias?: string;
  /** Set for columns expanded from `*`: the input column. */
  readonly index?: number;
}

function expandItems(stmt: SelectStmt, input: Scope): OutItem[] {
  const out: OutItem[] = [];
  for (const item of stmt.items) {
    const e = item.expr;
    if (e.kind !== "star") {
      out.push({ name: itemName(item), expr: e, alias: item.alias });
      continue;
    }
    if (!stmt.from) throw new DbError("INVALID_SQL", "SELECT * needs a FROM clause");
    const t = e.table?.toLowerCase();
    let any = false;
    input.columns.forEach((c, index) => {
      if (t !== undefined && c.table?.toLowerCase() !== t) return;
      any = true;
      out.push({
        name: c.name,
        expr: { kind: "column", table: c.table, name: c.name, span: e.span },
        index,
      });
    });
    if (!any) throw new DbError("INVALID_SQL", `Missing FROM-clause entry for table "${e.table}"`);
  }
  return out;
}

function ordinal(e: Expr, count: number, clause: string): number | undefined {
  if (e.kind !== "literal" || e.numeric !== "int") return undefined;
  const n = Number(e.value);
  if (n < 1 || n > count) {
    throw new DbError("INVALID_SQL", `${clause} position ${n} is not in select list`);
  }
  return n - 1;
}

function hasColumn(scope: Scope, name: string): boolean {
  const n = name.toLowerCase();
  return scope.columns.some((c) => c.name.toLowerCase() === n);
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
  let aggregate = stmt.groupBy.length > 0 || stmt.having !== undefined;
  const check = (e: Expr) =>
    visitExpr(e, (n) => {
      if (isAggregateCall(n)) aggregate = true;
    });
  items.forEach((i) => check(i.expr));
  stmt.orderBy.forEach((o) => check(o.expr));
  let exprOptions = options;
  if (aggregate) {
    const groupBy = stmt.groupBy.map((g) => {
      const n = ordinal(g, items.length, "GROUP BY");
      if (n !== undefined) return items[n].expr;
      if (g.kind === "column" && !g.table && !hasColumn(input, g.name)) {
        const named = items.find((i) => i.alias?.toLowerCase() === g.name.toLowerCase());
        if (named) return named.expr;
      }
      return g;
    });
    const planned = planAggregate(root, groupBy, options);
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
  const hidden: Compiled[] = [];
  const sortKeys: SortKey[] = [];
  let itemKeys: string[] | undefined;
  for (const o of stmt.orderBy) {
    const e = o.expr;
    let idx = ordinal(e, items.length, "ORDER BY");
    if (idx === undefined && e.kind === "column" && !e.table) {
      const n = e.name.toLowerCase();
      idx = items.findIndex((i) => i.alias?.toLowerCase() === n);
      if (idx < 0) {
        const named = items.filter((i) => !i.alias && i.name.toLowerCase() === n);
        idx = named.length === 1 ? items.indexOf(named[0]) : -1;
      }
      if (idx < 0) idx = undefined;
    }
    if (idx === undefined && e.kind !== "column") {
      itemKeys ??= items.map((i) => exprKey(i.expr));
      const k = itemKeys.indexOf(exprKey(e));
      if (k >= 0) idx = k;
    }
    let type: TypeName | null;
    if (idx === undefined) {
      if (stmt.distinct) {
        throw new DbError(
          "INVALID_SQL",
          "For SELECT DISTINCT, ORDER BY expressions must appear in select list",
        );
      }
      const c = compileExpr(e, input, exprOptions);
      hidden.push(c);
      idx = items.length + hidden.length - 1;
      type = c.type;
    } else type = types[idx];
    const nullsFirst = o.nulls ? o.nulls === "FIRST" : o.desc;
    sortKeys.push({
      index: idx,
      desc: o.desc,
      nullsFirst,
      decimal: type?.base === "DECIMAL",
      expr: e,
    });
  }

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

function count(
  e: Expr | undefined,
  clause: string,
  options: CompileOptions,
): ((ctx: ExecContext) => number | undefined) | undefined {
  if (!e) return undefined;
  const f = compileExpr(e, { columns: [] }, options).eval;
  const none: Row = [];
  return (ctx) => {
    const v: Value = f(none, ctx);
    if (v === null) return undefined;
    const n = typeof v === "string" ? Number(v) : Number(v as number | bigint);
    if (!Number.isInteger(n) || n < 0) {
      throw new DbError("INVALID_PARAMETER", `${clause} must be a non-negative integer`);
    }
    return n;
  };
}
