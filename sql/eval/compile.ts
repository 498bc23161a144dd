// The expression compiler: turns an Expr into a closure once per statement, with its static type,
// so rows are never re-interpreted. Design decision: coercions (timestamp vs string, decimal vs
// number, uuid case…) are chosen at compile time from the static types of both sides; values of
// unknown type (parameters, NULL) are converted at run time, and row-independent sides are
// converted once per statement context. The compiler recurses over the tree, whose depth the
// parser bounds (MAX_EXPRESSION_DEPTH); results are range-checked by their static type.

import type { BinaryExpr, Expr, FuncExpr, SelectStmt } from "../ast.ts";
import { assertNever, DbError } from "../../errors.ts";
import type { EvalContext } from "../source.ts";
import { literalType, literalValue } from "../values.ts";
import type { Row, Value } from "../values.ts";
import {
  arithmetic,
  arithmeticType,
  joinText,
  jsonAccess,
  negate,
  rangeCheck,
  textOf,
} from "../functions/mod.ts";
import { BOOL, constant, derive, resolveColumn, TEXT } from "./compiled.ts";
import type { Compiled, CompileOptions, Scope, SubqueryHandle } from "./compiled.ts";
import { AGGREGATES } from "./tree.ts";
import { comparison, inList, inSubquery } from "./compare.ts";
import { asType, commonType, compileCast, compileFunction, compileLike } from "./calls.ts";

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

interface Env {
  readonly scope: Scope;
  readonly options: CompileOptions;
}

function compile(expr: Expr, env: Env): Compiled {
  const hooked = env.options.aggregates?.(expr);
  if (hooked) return hooked;
  switch (expr.kind) {
    case "literal":
      return literal(expr.value, expr.numeric, expr.text);
    case "param": {
      const i = expr.index - 1;
      // A literal the engine made a parameter (sql/parse/shape.ts) keeps the literal's type.
      const lit = expr.literal;
      return {
        type: lit
          ? literalType(lit.value, literalValue(lit.value, lit.numeric, lit.text), lit.numeric)
          : null,
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

function literal(
  v: LiteralValue,
  numeric: "int" | "decimal" | undefined,
  text: string | undefined,
): Compiled {
  const value = literalValue(v, numeric, text);
  return constant(value, literalType(v, value, numeric));
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

function caseExpr(expr: Extract<Expr, { kind: "case" }>, env: Env): Compiled {
  const subject = expr.operand ? compile(expr.operand, env) : undefined;
  const thens = expr.whens.map((w) => compile(w.then, env));
  const otherwise0 = expr.else ? compile(expr.else, env) : undefined;
  const type = commonType([...thens, ...(otherwise0 ? [otherwise0] : [])], "CASE");
  const whens = expr.whens.map((w, i) => {
    const when = compile(w.when, env);
    return {
      when,
      test: (subject ? comparison("=", subject, when) : when).eval,
      then: asType(thens[i], type),
    };
  });
  const otherwise = otherwise0 && asType(otherwise0, type);
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

function compileCall(expr: FuncExpr, env: Env): Compiled {
  const name = expr.name.toUpperCase();
  if (AGGREGATES.has(name)) {
    throw new DbError(
      "INVALID_SQL",
      `Aggregate function ${name.toLowerCase()}() is not allowed here`,
    );
  }
  return compileFunction(name, expr.args.map((a) => compile(a, env)));
}
