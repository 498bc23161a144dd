// What the expression compiler produces and works against: row layouts (Scope), compiled
// expressions with their static types, the options the executor passes in, and the small
// constructors and column lookup every part of the compiler shares.

import type { Expr, SelectStmt, TypeName } from "../ast.ts";
import { DbError } from "../../errors.ts";
import type { EvalContext } from "../source.ts";
import type { Row, Value } from "../values.ts";

/** One column of a row layout: `row[i]` holds `columns[i]`. `table` is the alias or table name. */
export interface ScopeColumn {
  readonly table?: string;
  readonly name: string;
  readonly type: TypeName;
}

/** The layout of the rows an expression is evaluated against. */
export interface Scope {
  readonly columns: readonly ScopeColumn[];
}

/** A compiled expression. */
export interface Compiled {
  /** Static type; null when unknown (a parameter, the NULL literal). */
  readonly type: TypeName | null;
  readonly eval: (row: Row, ctx: EvalContext) => Value;
  /** True when the value does not depend on the row (literals, params, NOW()…): evaluate once. */
  readonly constant?: boolean;
}

/** Results of an uncorrelated subquery, computed by the executor before rows flow. */
export interface SubqueryHandle {
  readonly types: readonly TypeName[];
  rows(ctx: EvalContext): readonly Row[];
}

export interface CompileOptions {
  /**
   * Called for every sub-expression before it is compiled; a returned Compiled replaces it. The
   * aggregate stage maps aggregate calls and GROUP BY expressions to slots of its output row and
   * rejects other column references. Without it, aggregate calls are INVALID_SQL.
   */
  readonly aggregates?: (expr: Expr) => Compiled | undefined;
  /** Supplies subquery results; without it, subqueries are INVALID_SQL. */
  readonly subqueries?: (query: SelectStmt) => SubqueryHandle;
}

/** `true` only for the boolean true (NULL and false both reject a row). */
export function isTruthy(v: Value): boolean {
  return v === true;
}

/** Index of a column in a scope; COLUMN_NOT_FOUND when absent, INVALID_SQL when ambiguous. */
export function resolveColumn(scope: Scope, name: string, table?: string): number {
  let found = find(scope, name, table, false);
  if (found === -1) found = find(scope, name, table, true);
  if (found === -1) {
    const shown = table ? `${table}.${name}` : name;
    throw new DbError("COLUMN_NOT_FOUND", `Column "${shown}" does not exist`);
  }
  return found;
}

function find(scope: Scope, name: string, table: string | undefined, fold: boolean): number {
  const n = fold ? name.toLowerCase() : name;
  const t = fold ? table?.toLowerCase() : table;
  let found = -1;
  const cols = scope.columns;
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i];
    if ((fold ? c.name.toLowerCase() : c.name) !== n) continue;
    if (t !== undefined && (fold ? c.table?.toLowerCase() : c.table) !== t) continue;
    if (found !== -1) throw new DbError("INVALID_SQL", `Column reference "${name}" is ambiguous`);
    found = i;
  }
  return found;
}

export const BOOL: TypeName = { base: "BOOLEAN" };
export const TEXT: TypeName = { base: "TEXT" };

/** A compile-time constant. */
export function constant(value: Value, type: TypeName | null): Compiled {
  return { type, constant: true, eval: () => value };
}

/** A node whose value depends only on `parts`: constant when they all are. */
export function derive(
  parts: readonly Compiled[],
  type: TypeName | null,
  f: (row: Row, ctx: EvalContext) => Value,
): Compiled {
  return { type, constant: parts.every((p) => p.constant), eval: f };
}
