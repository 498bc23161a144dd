// Table scopes, primary-key seeks, RETURNING projections and stored values (assignments and
// DEFAULTs) — the pieces storage reuses for DML.
// Design decision: key extraction only looks at AND-conjuncts / ORs of `pk = const` and
// `pk IN (consts)`; the full WHERE is still applied to the rows a seek returns, so extraction
// may be conservative but never changes results.

import type { Expr, SelectItem, TypeName } from "../ast.ts";
import { DbError } from "../../errors.ts";
import { compileExpr, resolveColumn } from "../eval/mod.ts";
import { parseExpression } from "../parse/mod.ts";
import type { Compiled, Scope } from "../eval/mod.ts";
import type { ColumnRange, EvalContext, TableSchema } from "../source.ts";
import { assignValue, parseTimestamp, typeToString, valueKey } from "../values.ts";
import type { ResultColumn, Row, Value } from "../values.ts";

/** The scope of a table's full rows; columns are qualified by `alias` (default: table name). */
export function tableScope(schema: TableSchema, alias?: string): Scope {
  const table = alias ?? schema.name;
  return { columns: schema.columns.map((c) => ({ table, name: c.name, type: c.type })) };
}

const EMPTY: Scope = { columns: [] };
const NUMERIC = new Set(["SMALLINT", "INT", "BIGINT", "REAL", "DOUBLE", "DECIMAL"]);

function constantOf(e: Expr): Compiled | undefined {
  try {
    const c = compileExpr(e, EMPTY);
    return c.constant ? c : undefined;
  } catch {
    return undefined;
  }
}

function isPk(e: Expr, schema: TableSchema, alias: string): boolean {
  if (e.kind !== "column" || schema.pkIndex < 0) return false;
  if (e.table !== undefined && e.table.toLowerCase() !== alias.toLowerCase()) return false;
  return e.name.toLowerCase() === schema.columns[schema.pkIndex].name.toLowerCase();
}

function keyExprs(e: Expr, schema: TableSchema, alias: string): Compiled[] | undefined {
  if (e.kind === "binary") {
    if (e.op === "=") {
      const [col, other] = isPk(e.left, schema, alias) ? [e.left, e.right] : [e.right, e.left];
      if (!isPk(col, schema, alias)) return undefined;
      const c = constantOf(other);
      return c ? [c] : undefined;
    }
    if (e.op === "AND") {
      return keyExprs(e.left, schema, alias) ?? keyExprs(e.right, schema, alias);
    }
    if (e.op === "OR") {
      const a = keyExprs(e.left, schema, alias);
      const b = a && keyExprs(e.right, schema, alias);
      return a && b ? [...a, ...b] : undefined;
    }
    return undefined;
  }
  if (e.kind === "in_list" && !e.negated && isPk(e.operand, schema, alias)) {
    const items = e.list.map(constantOf);
    return items.every((i) => i) ? items as Compiled[] : undefined;
  }
  return undefined;
}

/**
 * Compiles the primary-key seek implied by a WHERE clause, or undefined when it needs a scan.
 * The returned function evaluates the keys for one execution (params), coerced to the key type,
 * deduplicated, NULLs dropped.
 */
export function keyExtractor(
  where: Expr | undefined,
  schema: TableSchema,
  alias?: string,
): ((ctx: EvalContext) => Value[]) | undefined {
  if (!where || schema.pkIndex < 0) return undefined;
  const exprs = keyExprs(where, schema, alias ?? schema.name);
  if (!exprs) return undefined;
  const pk = schema.columns[schema.pkIndex];
  const fns = exprs.map((c) => c.eval);
  const from = exprs.map((c) => c.type);
  const timestampKey = pk.type.base === "TIMESTAMP";
  const numeric = exprs.map((c) =>
    typeof c.type?.base === "string" && NUMERIC.has(c.type.base) && NUMERIC.has(pk.type.base)
  );
  const none: Row = [];
  return (ctx) => {
    const out: Value[] = [];
    let seen: Set<string> | undefined;
    for (let i = 0; i < fns.length; i++) {
      const raw = fns[i](none, ctx);
      if (raw === null) continue;
      let v: Value;
      try {
        v = assignValue(raw, pk.type, from[i], pk.name);
      } catch (err) {
        // A number that cannot be a key (1.5 for a BIGINT key) matches no row; so does a date
        // outside the TIMESTAMP range ('9999-12-31'), which compares fine but cannot be stored.
        if (
          err instanceof DbError &&
          (numeric[i] || typeof raw === "number" || typeof raw === "bigint" ||
            (timestampKey && typeof raw === "string" && parseTimestamp(raw) !== undefined))
        ) {
          continue;
        }
        throw err;
      }
      if (fns.length > 1) {
        seen ??= new Set();
        const k = valueKey(v);
        if (seen.has(k)) continue;
        seen.add(k);
      }
      out.push(v);
    }
    return out;
  };
}

/**
 * Primary-key values a WHERE clause pins down (`pk = v`, `pk IN (…)`, AND/OR of those), coerced
 * to the key's type; undefined when the statement must scan.
 *
 * @example
 * extractKeys(parseExpression("id = $1"), schema, "t", ctx); // [42n]
 */
export function extractKeys(
  where: Expr | undefined,
  schema: TableSchema,
  scopeAlias: string | undefined,
  ctx: EvalContext,
): Value[] | undefined {
  return keyExtractor(where, schema, scopeAlias)?.(ctx);
}

/** The column a value is stored in: its name (for messages) and type. */
export interface TargetColumn {
  readonly name: string;
  readonly type: TypeName;
}

/**
 * Compiles an expression whose value is stored in `column` (UPDATE … SET, INSERT … VALUES): its
 * value converted by assignValue with the expression's static type, so an INT/BIGINT going into
 * a TIMESTAMP is epoch milliseconds like a literal or a parameter.
 *
 * @example
 * const set = compileAssignment(parseExpression("n + 1"), tableScope(schema), schema.columns[1]);
 * set(row, ctx); // the new value, already of the column's type
 */
export function compileAssignment(
  expr: Expr,
  scope: Scope,
  column: TargetColumn,
): (row: Row, ctx: EvalContext) => Value {
  const c = compileExpr(expr, scope);
  const f = c.eval;
  const { type } = column;
  const { type: from } = c;
  const name = column.name;
  return (row, ctx) => assignValue(f(row, ctx), type, from, name);
}

/**
 * Compiles a column's stored DEFAULT text exactly as every INSERT evaluates it: re-parsed, with
 * no columns, converted for the column. CREATE TABLE and ADD COLUMN evaluate it once with the
 * text they are about to store, so a DEFAULT that could not be read back is refused there.
 *
 * @example
 * compileDefault("NOW()", { name: "at", type: { base: "TIMESTAMP" } })(ctx); // ctx.now
 */
export function compileDefault(text: string, column: TargetColumn): (ctx: EvalContext) => Value {
  const f = compileAssignment(parseExpression(text), EMPTY, column);
  const none: Row = [];
  return (ctx) => f(none, ctx);
}

/** Output name of a select item: alias, column name, function name, else `?column?`. */
export function itemName(item: SelectItem): string {
  if (item.alias) return item.alias;
  let e = item.expr;
  while (e.kind === "cast") e = e.operand;
  if (e.kind === "column") return e.name;
  if (e.kind === "func") return e.name.toLowerCase();
  return "?column?";
}

/**
 * Compiles a RETURNING list against a table's full rows (for INSERT/UPDATE/DELETE).
 *
 * @example
 * const r = projectReturning(stmt.returning!, schema, ctx);
 * const out = rows.map(r.project);
 */
export function projectReturning(
  items: readonly SelectItem[],
  schema: TableSchema,
  ctx: EvalContext,
): { columns: ResultColumn[]; types: TypeName[]; project(row: Row): Row } {
  const scope = tableScope(schema);
  const names: string[] = [];
  const compiled: Compiled[] = [];
  for (const item of items) {
    if (item.expr.kind === "star") {
      if (item.expr.table && item.expr.table.toLowerCase() !== schema.name.toLowerCase()) {
        throw new DbError("INVALID_SQL", `Table "${item.expr.table}" is not in the statement`);
      }
      scope.columns.forEach((c, i) => {
        names.push(c.name);
        compiled.push({ type: c.type, eval: (row) => row[i] });
      });
      continue;
    }
    if (item.expr.kind === "column") resolveColumn(scope, item.expr.name, item.expr.table);
    names.push(itemName(item));
    compiled.push(compileExpr(item.expr, scope));
  }
  const types = compiled.map((c) => c.type ?? { base: "TEXT" as const });
  const fns = compiled.map((c) => c.eval);
  return {
    columns: names.map((name, i) => ({ name, type: typeToString(types[i]) })),
    types,
    project: (row) => fns.map((f) => f(row, ctx)),
  };
}

const FLIP = { "=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<=" } as const;
type RangeOp = keyof typeof FLIP;

/** The schema column an expression names (in this table's scope), or -1. */
function columnIndex(e: Expr, schema: TableSchema, alias: string): number {
  if (e.kind !== "column") return -1;
  if (e.table !== undefined && e.table.toLowerCase() !== alias.toLowerCase()) return -1;
  const name = e.name.toLowerCase();
  return schema.columns.findIndex((c) => c.name.toLowerCase() === name);
}

/**
 * Compiles the `col op constant` conjuncts of a WHERE (and `col BETWEEN a AND b`) into
 * `ColumnRange`s for one execution, or undefined when there are none. Like key extraction it is
 * conservative: only top-level AND-conjuncts, constants coercible to the column's type.
 */
export function rangeExtractor(
  where: Expr | undefined,
  schema: TableSchema,
  alias?: string,
): ((ctx: EvalContext) => ColumnRange[]) | undefined {
  if (!where) return undefined;
  const name = alias ?? schema.name;
  const parts: { column: number; op: RangeOp; value: Compiled }[] = [];
  const add = (col: Expr, op: RangeOp, other: Expr) => {
    const column = columnIndex(col, schema, name);
    const value = column >= 0 ? constantOf(other) : undefined;
    if (value) parts.push({ column, op, value });
  };
  const visit = (e: Expr) => {
    if (e.kind === "binary" && e.op === "AND") {
      visit(e.left);
      visit(e.right);
    } else if (e.kind === "binary" && e.op in FLIP) {
      const op = e.op as RangeOp;
      if (e.left.kind === "column") add(e.left, op, e.right);
      else if (e.right.kind === "column") add(e.right, FLIP[op], e.left);
    } else if (e.kind === "between" && !e.negated) {
      add(e.operand, ">=", e.low);
      add(e.operand, "<=", e.high);
    }
  };
  visit(where);
  if (parts.length === 0) return undefined;
  const none: Row = [];
  return (ctx) => {
    const out: ColumnRange[] = [];
    for (const p of parts) {
      const col = schema.columns[p.column];
      const raw = p.value.eval(none, ctx);
      if (raw === null) continue;
      try {
        const value = assignValue(raw, col.type, p.value.type, col.name);
        if (value === null) continue;
        // Converting may round the constant into the column's domain (0.999 → 1.00 for a
        // DECIMAL(10,2), 0.1 → fround(0.1) for a REAL): a strict bound then becomes inclusive,
        // which still admits every matching value (none lies between the two).
        const op = value === raw ? p.op : p.op === ">" ? ">=" : p.op === "<" ? "<=" : p.op;
        out.push({ column: p.column, op, value });
      } catch {
        // Not comparable as the column's type (1.5 against an INT): no hint.
      }
    }
    return out;
  };
}
