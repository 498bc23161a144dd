// Walks over expression trees that the planner and the aggregate stage share: visiting nodes,
// structural keys, AND conjuncts and spotting aggregate calls. No compiling happens here.

import type { Expr, FuncExpr } from "../ast.ts";
import { forEachChild } from "../ast.ts";

/** Names of the aggregate functions. */
export const AGGREGATES: ReadonlySet<string> = new Set(["COUNT", "SUM", "AVG", "MIN", "MAX"]);

/** Calls `fn` on every node of `expr` (not descending into subqueries). */
export function visitExpr(expr: Expr, fn: (e: Expr) => void): void {
  fn(expr);
  forEachChild(expr, (child) => {
    if (child && child.kind !== "select") visitExpr(child as Expr, fn);
  });
}

/** A structural key of an expression (spans ignored), to match GROUP BY and select items. */
export function exprKey(expr: Expr): string {
  return JSON.stringify(
    expr,
    (k, v) => k === "span" ? undefined : typeof v === "bigint" ? `${v}n` : v,
  );
}

/** Splits a condition into its top-level AND conjuncts. */
export function conjuncts(expr: Expr | undefined): Expr[] {
  if (!expr) return [];
  if (expr.kind === "binary" && expr.op === "AND") {
    return [...conjuncts(expr.left), ...conjuncts(expr.right)];
  }
  return [expr];
}

/** True when `f` is an aggregate call (COUNT, SUM, AVG, MIN, MAX). */
export function isAggregateCall(e: Expr): e is FuncExpr {
  return e.kind === "func" && AGGREGATES.has(e.name.toUpperCase());
}
