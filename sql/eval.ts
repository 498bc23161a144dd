// The expression compiler: turns an Expr into a closure once per statement, with its static type,
// so rows are never re-interpreted. Design decision: coercions (timestamp vs string, decimal vs
// number, uuid case…) are chosen at compile time from the static types of both sides; values of
// unknown type (parameters, NULL) are converted at run time, and row-independent sides are
// converted once per statement context. The compiler recurses over the tree, whose depth the
// parser bounds (MAX_EXPRESSION_DEPTH); results are range-checked by their static type.

import type { BinaryExpr, Expr, FuncExpr, LikeExpr, SelectStmt, TypeName } from "./ast.ts";
import { forEachChild } from "./ast.ts";
import { assertNever, DbError } from "../errors.ts";
import type { EvalContext } from "./source.ts";
import {
  compareValues,
  integerLiteralType,
  literalValue,
  normalizeDecimal,
  valueKey,
} from "./values.ts";
import type { Row, Value } from "./values.ts";
import {
  arithmetic,
  arithmeticType,
  castValue,
  comparePlan,
  FUNCTIONS,
  joinText,
  jsonAccess,
  likeRegExp,
  negate,
  rangeCheck,
  textOf,
} from "./_functions.ts";
import type { Conversion } from "./_functions.ts";

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

/** Names of the aggregate functions. */
export const AGGREGATES: ReadonlySet<string> = new Set(["COUNT", "SUM", "AVG", "MIN", "MAX"]);

/** `true` only for the boolean true (NULL and false both reject a row). */
export function isTruthy(v: Value): boolean {
  return v === true;
}

/**
 * Compiles an expression against a row layout.
 *
 * @example
 * const c = compileExpr(parseExpression("a + 1"), { columns: [{ name: "a", type: { base: "INT" } }] });
 * c.eval([41], ctx); // 42
 */
export function compileExpr(expr: Expr, scope: Scope, options: CompileOptions = {}): Compiled {
  return compile(expr, { scope, options });
}

/** Compiles a WHERE-style condition to a row filter (NULL counts as false). */
export function predicate(
  expr: Expr,
  scope: Scope,
  options?: CompileOptions,
): (row: Row, ctx: EvalContext) => boolean {
  const f = compileExpr(expr, scope, options).eval;
  return (row, ctx) => f(row, ctx) === true;
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

// ---------------------------------------------------------------- compiler

interface Env {
  readonly scope: Scope;
  readonly options: CompileOptions;
}

const BOOL: TypeName = { base: "BOOLEAN" };
const TEXT: TypeName = { base: "TEXT" };
const DOUBLE: TypeName = { base: "DOUBLE" };
const DECIMAL: TypeName = { base: "DECIMAL" };

/** A compile-time constant. */
export function constant(value: Value, type: TypeName | null): Compiled {
  return { type, constant: true, eval: () => value };
}

function compile(expr: Expr, env: Env): Compiled {
  const hooked = env.options.aggregates?.(expr);
  if (hooked) return hooked;
  switch (expr.kind) {
    case "literal":
      return literal(expr.value, expr.numeric, expr.text);
    case "param": {
      const i = expr.index - 1;
      return {
        type: null,
        constant: true,
        eval: (_row, ctx) => {
          if (i < 0 || i >= ctx.params.length) {
            throw new DbError("INVALID_PARAMETER", `No value for parameter $${expr.index}`);
          }
          return ctx.params[i];
        },
      };
    }
    case "column": {
      if (
        !expr.table &&
        !env.scope.columns.some((c) => c.name.toLowerCase() === expr.name.toLowerCase())
      ) {
        const word = expr.name.toUpperCase();
        if (word === "CURRENT_TIMESTAMP" || word === "CURRENT_USER") {
          return compileCall({ ...expr, kind: "func", name: word, args: [], distinct: false }, env);
        }
      }
      const i = resolveColumn(env.scope, expr.name, expr.table);
      return { type: env.scope.columns[i].type, eval: (row) => row[i] };
    }
    case "star":
      throw new DbError("INVALID_SQL", "* is not allowed here");
    case "unary": {
      const operand = compile(expr.operand, env);
      const f = operand.eval;
      if (expr.op === "+") return operand;
      if (expr.op === "-") {
        const range = rangeCheck(operand.type);
        return derive([operand], operand.type, (row, ctx) => range(negate(f(row, ctx))));
      }
      return derive([operand], BOOL, (row, ctx) => {
        const v = f(row, ctx);
        return v === null ? null : v !== true;
      });
    }
    case "binary":
      return binary(expr, env);
    case "is_null": {
      const f = compile(expr.operand, env);
      const neg = expr.negated;
      return derive([f], BOOL, (row, ctx) => (f.eval(row, ctx) === null) !== neg);
    }
    case "in_list":
      return inList(
        compile(expr.operand, env),
        expr.list.map((e) => compile(e, env)),
        expr.negated,
      );
    case "in_subquery": {
      const handle = subquery(expr.query, env);
      if (handle.types.length !== 1) {
        throw new DbError("INVALID_SQL", "Subquery has too many columns");
      }
      return inSubquery(compile(expr.operand, env), handle, expr.negated);
    }
    case "between": {
      const x = compile(expr.operand, env);
      const lo = comparison(">=", x, compile(expr.low, env)).eval;
      const hi = comparison("<=", x, compile(expr.high, env)).eval;
      const neg = expr.negated;
      return { type: BOOL, eval: (row, ctx) => not(and(lo(row, ctx), hi(row, ctx)), neg) };
    }
    case "like":
      return compileLike(
        expr,
        compile(expr.operand, env),
        compile(expr.pattern, env),
        expr.escape && compile(expr.escape, env),
      );
    case "func":
      return compileCall(expr, env);
    case "cast":
      return compileCast(compile(expr.operand, env), expr.type);
    case "case":
      return caseExpr(expr, env);
    case "subquery": {
      const handle = subquery(expr.query, env);
      if (handle.types.length !== 1) {
        throw new DbError("INVALID_SQL", "Subquery must return only one column");
      }
      return {
        type: handle.types[0],
        eval: (_row, ctx) => {
          const rows = handle.rows(ctx);
          if (rows.length > 1) {
            throw new DbError("INVALID_SQL", "More than one row returned by a subquery");
          }
          return rows.length ? rows[0][0] : null;
        },
      };
    }
    case "exists": {
      const handle = subquery(expr.query, env);
      const neg = expr.negated;
      return { type: BOOL, eval: (_row, ctx) => (handle.rows(ctx).length > 0) !== neg };
    }
    default:
      return assertNever(expr, "expression");
  }
}

/** A node whose value depends only on `parts`: constant when they all are. */
export function derive(
  parts: readonly Compiled[],
  type: TypeName | null,
  f: (row: Row, ctx: EvalContext) => Value,
): Compiled {
  return { type, constant: parts.every((p) => p.constant), eval: f };
}

function literal(
  v: LiteralValue,
  numeric: "int" | "decimal" | undefined,
  text: string | undefined,
): Compiled {
  const value = literalValue(v, numeric, text);
  if (value === null) return constant(null, null);
  if (typeof value === "boolean") return constant(value, BOOL);
  if (typeof v === "string") return constant(value, TEXT);
  if (numeric === "decimal" || (typeof v === "number" && !Number.isInteger(v))) {
    return constant(value, typeof value === "string" ? DECIMAL : DOUBLE);
  }
  return constant(value, integerLiteralType(value));
}
type LiteralValue = null | boolean | string | number | bigint;

function subquery(query: SelectStmt, env: Env): SubqueryHandle {
  if (!env.options.subqueries) throw new DbError("INVALID_SQL", "Subqueries are not allowed here");
  return env.options.subqueries(query);
}

// ---------------------------------------------------------------- three-valued logic

function and(a: Value, b: Value): Value {
  if (a === false || b === false) return false;
  return a === null || b === null ? null : true;
}

function not(v: Value, negate: boolean): Value {
  return negate && v !== null ? v !== true : v;
}

function binary(expr: BinaryExpr, env: Env): Compiled {
  const left = compile(expr.left, env);
  const right = compile(expr.right, env);
  const l = left.eval;
  const r = right.eval;
  const op = expr.op;
  switch (op) {
    case "AND":
      return derive([left, right], BOOL, (row, ctx) => {
        const a = l(row, ctx);
        if (a === false) return false;
        const b = r(row, ctx);
        if (b === false) return false;
        return a === null || b === null ? null : true;
      });
    case "OR":
      return derive([left, right], BOOL, (row, ctx) => {
        const a = l(row, ctx);
        if (a === true) return true;
        const b = r(row, ctx);
        if (b === true) return true;
        return a === null || b === null ? null : false;
      });
    case "=":
    case "<>":
    case "<":
    case "<=":
    case ">":
    case ">=":
      return comparison(op, left, right);
    case "+":
    case "-":
    case "*":
    case "/":
    case "%": {
      const { mode, type, range } = arithmeticType(op, left.type, right.type);
      return derive([left, right], type, (row, ctx) => {
        const a = l(row, ctx);
        if (a === null) return null;
        const b = r(row, ctx);
        return b === null ? null : range(arithmetic(op, a, b, mode));
      });
    }
    case "||": {
      const lt = left.type;
      const rt = right.type;
      return derive([left, right], TEXT, (row, ctx) => {
        const a = l(row, ctx);
        if (a === null) return null;
        const b = r(row, ctx);
        return b === null ? null : joinText(textOf(a, lt), textOf(b, rt));
      });
    }
    case "->>":
    case "->": {
      const asText = op === "->>";
      return derive([left, right], asText ? TEXT : { base: "JSON" }, (row, ctx) => {
        const a = l(row, ctx);
        if (a === null) return null;
        const b = r(row, ctx);
        return b === null ? null : jsonAccess(a, b, asText);
      });
    }
    default:
      return assertNever(op, "operator");
  }
}

// ---------------------------------------------------------------- comparisons

/** Applies a conversion to a compiled side; constant sides are converted once per context. */
function convert(c: Compiled, conv: Conversion | undefined): Compiled {
  if (!conv) return c;
  const f = c.eval;
  if (!c.constant) {
    return { type: c.type, eval: (row, ctx) => conv(f(row, ctx)) };
  }
  let lastCtx: EvalContext | undefined;
  let last: Value = null;
  return {
    type: c.type,
    constant: true,
    eval: (row, ctx) => {
      if (ctx !== lastCtx) {
        last = conv(f(row, ctx));
        lastCtx = ctx;
      }
      return last;
    },
  };
}

/** Three-valued comparison with the coercions chosen from both static types. */
export function comparison(op: string, left: Compiled, right: Compiled): Compiled {
  const plan = comparePlan(left.type, right.type);
  const l = convert(left, plan.left).eval;
  const r = convert(right, plan.right).eval;
  const dec = plan.decimal;
  const test = COMPARE[op];
  if (op === "=" || op === "<>") {
    const eq = op === "=";
    return derive([left, right], BOOL, (row, ctx) => {
      const a = l(row, ctx);
      if (a === null) return null;
      const b = r(row, ctx);
      if (b === null) return null;
      if (typeof a === typeof b && typeof a !== "object" && !dec) return (a === b) === eq;
      return (compareValues(a, b, dec) === 0) === eq;
    });
  }
  return derive([left, right], BOOL, (row, ctx) => {
    const a = l(row, ctx);
    if (a === null) return null;
    const b = r(row, ctx);
    return b === null ? null : test(compareValues(a, b, dec));
  });
}

const COMPARE: Record<string, (c: number) => boolean> = {
  "=": (c) => c === 0,
  "<>": (c) => c !== 0,
  "<": (c) => c < 0,
  "<=": (c) => c <= 0,
  ">": (c) => c > 0,
  ">=": (c) => c >= 0,
};

/**
 * Key converters for hashing two sides that must compare equal (hash joins, IN sets): equal
 * values under the comparison semantics get equal `valueKey`s.
 */
export function hashKeys(
  a: TypeName | null,
  b: TypeName | null,
): [(v: Value) => string, (v: Value) => string] {
  const plan = comparePlan(a, b);
  const wrap = (conv: Conversion | undefined) => {
    if (plan.decimal) {
      return (v: Value) =>
        v === null ? "n" : valueKey(normalizeDecimal(String(conv ? conv(v) : v))!);
    }
    return conv ? (v: Value) => valueKey(v === null ? null : conv(v)) : valueKey;
  };
  return [wrap(plan.left), wrap(plan.right)];
}

function inList(x: Compiled, items: Compiled[], negated: boolean): Compiled {
  if (items.length > 0 && items.every((i) => i.constant)) {
    // Constant list: a hash set built once per context.
    const [keyX, keyItem] = hashKeys(x.type, items.find((i) => i.type)?.type ?? null);
    const none: Row = [];
    return setMembership(
      x,
      keyX,
      (ctx) => ctx,
      (ctx) => items.map((i) => i.eval(none, ctx)),
      keyItem,
      negated,
    );
  }
  const tests = items.map((i) => comparison("=", x, i).eval);
  return derive([x, ...items], BOOL, (row, ctx) => {
    let sawNull = false;
    for (const t of tests) {
      const v = t(row, ctx);
      if (v === true) return !negated;
      if (v === null) sawNull = true;
    }
    return sawNull ? null : negated;
  });
}

function inSubquery(x: Compiled, handle: SubqueryHandle, negated: boolean): Compiled {
  const [keyX, keyItem] = hashKeys(x.type, handle.types[0]);
  return setMembership(
    x,
    keyX,
    (ctx) => handle.rows(ctx),
    (ctx) => handle.rows(ctx).map((r) => r[0]),
    keyItem,
    negated,
  );
}

/** IN over a value set that is rebuilt only when `token` changes (new context / new rows). */
function setMembership(
  x: Compiled,
  keyX: (v: Value) => string,
  token: (ctx: EvalContext) => object,
  values: (ctx: EvalContext) => Value[],
  keyItem: (v: Value) => string,
  negated: boolean,
): Compiled {
  let lastToken: object | undefined;
  let set = new Set<string>();
  let hasNull = false;
  const f = x.eval;
  return {
    type: BOOL,
    eval: (row, ctx) => {
      const t = token(ctx);
      if (t !== lastToken) {
        const vs = values(ctx);
        set = new Set();
        hasNull = false;
        for (const v of vs) v === null ? (hasNull = true) : set.add(keyItem(v));
        lastToken = t;
      }
      const v = f(row, ctx);
      if (v === null) return set.size === 0 && !hasNull ? negated : null;
      if (set.has(keyX(v))) return !negated;
      return hasNull ? null : negated;
    },
  };
}

function caseExpr(expr: Extract<Expr, { kind: "case" }>, env: Env): Compiled {
  const subject = expr.operand ? compile(expr.operand, env) : undefined;
  const whens = expr.whens.map((w) => {
    const when = compile(w.when, env);
    return {
      when,
      test: (subject ? comparison("=", subject, when) : when).eval,
      then: compile(w.then, env),
    };
  });
  const otherwise = expr.else ? compile(expr.else, env) : undefined;
  const type = whens.find((w) => w.then.type)?.then.type ?? otherwise?.type ?? null;
  const els = otherwise?.eval;
  const parts = [...whens.map((w) => w.then), ...(otherwise ? [otherwise] : [])];
  return {
    type,
    constant: [...whens.map((w) => w.when), ...parts].every((p) => p.constant),
    eval: (row, ctx) => {
      for (const w of whens) if (w.test(row, ctx) === true) return w.then.eval(row, ctx);
      return els ? els(row, ctx) : null;
    },
  };
}

/** True when `f` is an aggregate call (COUNT, SUM, AVG, MIN, MAX). */
export function isAggregateCall(e: Expr): e is FuncExpr {
  return e.kind === "func" && AGGREGATES.has(e.name.toUpperCase());
}

// ---------------------------------------------------------------- calls, CAST, LIKE

function compileCall(expr: FuncExpr, env: Env): Compiled {
  const name = expr.name.toUpperCase();
  if (AGGREGATES.has(name)) {
    throw new DbError(
      "INVALID_SQL",
      `Aggregate function ${name.toLowerCase()}() is not allowed here`,
    );
  }
  const args = expr.args.map((a) => compile(a, env));
  if (name === "COALESCE") {
    if (args.length === 0) throw arity(name);
    const fs = args.map((a) => a.eval);
    return derive(args, args.find((a) => a.type)?.type ?? null, (row, ctx) => {
      for (const f of fs) {
        const v = f(row, ctx);
        if (v !== null) return v;
      }
      return null;
    });
  }
  if (name === "NULLIF") {
    if (args.length !== 2) throw arity(name);
    const eq = comparison("=", args[0], args[1]).eval;
    const a = args[0].eval;
    return derive(args, args[0].type, (row, ctx) => eq(row, ctx) === true ? null : a(row, ctx));
  }
  const def = FUNCTIONS[name];
  if (!def) throw new DbError("INVALID_SQL", `Function ${name.toLowerCase()}() does not exist`);
  if (args.length < def.arity[0] || args.length > def.arity[1]) throw arity(name);
  const types = args.map((a) => a.type);
  const fs = args.map((a) => a.eval);
  const n = fs.length;
  const { call, strict } = def;
  const result: Compiled = {
    type: def.type(types),
    constant: !def.volatile && args.every((a) => a.constant),
    eval: (row, ctx) => {
      const vs: Value[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = fs[i](row, ctx);
        if (v === null && strict) return null;
        vs[i] = v;
      }
      return call(vs, ctx, types);
    },
  };
  return result;
}

function arity(name: string): DbError {
  return new DbError("INVALID_SQL", `Wrong number of arguments for ${name.toLowerCase()}()`);
}

function compileCast(operand: Compiled, to: TypeName): Compiled {
  const f = operand.eval;
  const from = operand.type;
  return derive([operand], to, (row, ctx) => castValue(f(row, ctx), from, to));
}

function compileLike(
  expr: LikeExpr,
  operand: Compiled,
  pattern: Compiled,
  escape: Compiled | undefined,
): Compiled {
  const ci = expr.caseInsensitive;
  const neg = expr.negated;
  const f = operand.eval;
  const p = pattern.eval;
  const esc = escape?.eval;
  const ft = operand.type;
  let lastPattern: Value = null;
  let lastEscape: Value = "\\";
  let re = /$^/;
  const parts = escape ? [operand, pattern, escape] : [operand, pattern];
  return derive(parts, BOOL, (row, ctx) => {
    const v = f(row, ctx);
    if (v === null) return null;
    const pat = p(row, ctx);
    if (pat === null) return null;
    const e = esc ? esc(row, ctx) : "\\";
    if (e === null) return null;
    if (pat !== lastPattern || e !== lastEscape) {
      re = likeRegExp(textOf(pat, pattern.type), ci, textOf(e, escape?.type ?? TEXT));
      lastPattern = pat;
      lastEscape = e;
    }
    return re.test(textOf(v, ft)) !== neg;
  });
}
