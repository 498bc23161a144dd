// The clause-by-clause steps of planning one SELECT: FROM alias checks, which columns scans
// read, WHERE pushdown into scans (with key seeks), select-list expansion, GROUP BY and ORDER BY
// resolution (ordinals, output names) and LIMIT/OFFSET. select.ts strings them together.

import type { Expr, FromItem, SelectStmt, TypeName } from "../ast.ts";
import { DbError } from "../../errors.ts";
import {
  compileExpr,
  conjuncts,
  exprKey,
  isAggregateCall,
  predicate,
  resolveColumn,
  visitExpr,
} from "../eval/mod.ts";
import type { Compiled, CompileOptions, Scope } from "../eval/mod.ts";
import type { ExecContext } from "../source.ts";
import type { Row, Value } from "../values.ts";
import { refersOnlyTo } from "./join.ts";
import { itemName, keyExtractor, rangeExtractor } from "./keys.ts";
import { Filter, TableScan } from "./operators.ts";
import type { Operator, SortKey } from "./operators.ts";

/** A table scan of FROM: where it sits in the joined row and what WHERE pushes into it. */
export interface Leaf {
  readonly scan: TableScan;
  readonly offset: number;
  readonly nullable: boolean;
  readonly pushed: Expr[];
}

export function and(parts: readonly Expr[]): Expr {
  return parts.reduce((a, b) => ({ kind: "binary", op: "AND", left: a, right: b, span: a.span }));
}

export function checkAliases(leaves: readonly Leaf[]): void {
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
export function projectScans(stmt: SelectStmt, leaves: readonly Leaf[]): void {
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
export function planWhere(
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

export interface OutItem {
  readonly name: string;
  readonly expr: Expr;
  readonly alias?: string;
  /** Set for columns expanded from `*`: the input column. */
  readonly index?: number;
}

export function expandItems(stmt: SelectStmt, input: Scope): OutItem[] {
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

export function ordinal(e: Expr, count: number, clause: string): number | undefined {
  if (e.kind !== "literal" || e.numeric !== "int") return undefined;
  const n = Number(e.value);
  if (n < 1 || n > count) {
    throw new DbError("INVALID_SQL", `${clause} position ${n} is not in select list`);
  }
  return n - 1;
}

export function hasColumn(scope: Scope, name: string): boolean {
  const n = name.toLowerCase();
  return scope.columns.some((c) => c.name.toLowerCase() === n);
}

export function count(
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

/** True when the query aggregates: GROUP BY, HAVING, or an aggregate in the output or ORDER BY. */
export function usesAggregates(stmt: SelectStmt, items: readonly OutItem[]): boolean {
  let aggregate = stmt.groupBy.length > 0 || stmt.having !== undefined;
  const check = (e: Expr) =>
    visitExpr(e, (n) => {
      if (isAggregateCall(n)) aggregate = true;
    });
  items.forEach((i) => check(i.expr));
  stmt.orderBy.forEach((o) => check(o.expr));
  return aggregate;
}

/** The GROUP BY expressions, with ordinals and output aliases replaced by the items they name. */
export function groupByExprs(stmt: SelectStmt, items: readonly OutItem[], input: Scope): Expr[] {
  return stmt.groupBy.map((g) => {
    const n = ordinal(g, items.length, "GROUP BY");
    if (n !== undefined) return items[n].expr;
    if (g.kind === "column" && !g.table && !hasColumn(input, g.name)) {
      const named = items.find((i) => i.alias?.toLowerCase() === g.name.toLowerCase());
      if (named) return named.expr;
    }
    return g;
  });
}

/**
 * The sort keys of ORDER BY: output ordinals, output names, select-list expressions, else hidden
 * keys — extra columns computed after the output ones (`hidden`), trimmed after sorting.
 */
export function orderKeys(
  stmt: SelectStmt,
  items: readonly OutItem[],
  types: readonly TypeName[],
  input: Scope,
  exprOptions: CompileOptions,
): { sortKeys: SortKey[]; hidden: Compiled[] } {
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
  return { sortKeys, hidden };
}
