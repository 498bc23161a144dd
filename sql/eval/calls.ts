// Function calls, CAST and LIKE, compiled over already-compiled arguments: COALESCE and NULLIF
// (lazy, so handled here), the built-in table of functions/, CAST and LIKE with its pattern
// recompiled only when the pattern or escape changes.

import type { LikeExpr, TypeName } from "../ast.ts";
import { DbError } from "../../errors.ts";
import type { Value } from "../values.ts";
import { castValue, FUNCTIONS, likeRegExp, textOf } from "../functions/mod.ts";
import { BOOL, derive, TEXT } from "./compiled.ts";
import type { Compiled } from "./compiled.ts";
import { comparison } from "./compare.ts";

/**
 * A call of the scalar function `name` (upper-cased, not an aggregate) on compiled arguments;
 * INVALID_SQL for an unknown function or a wrong number of arguments.
 */
export function compileFunction(name: string, args: readonly Compiled[]): Compiled {
  if (name === "COALESCE") {
    if (args.length === 0) throw arity(name);
    const type = commonType(args, "COALESCE");
    const fs = args.map((a) => asType(a, type).eval);
    return derive(args, type, (row, ctx) => {
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

/** Integer types, narrowest first. */
const INTEGERS = ["SMALLINT", "INT", "BIGINT"];
const FLOATS = ["REAL", "DOUBLE"];

/**
 * The one type of the values that branches of `what` (CASE, COALESCE) yield: their common type
 * when they all have it, the widest of mixed numeric types (any float → DOUBLE, else any DECIMAL
 * → an unconstrained DECIMAL, else the widest integer); anything else mixed (a number and a
 * text column, a boolean and a timestamp) is TYPE_MISMATCH, so the expression never yields a
 * value of a type it is not. A text constant (a string literal) takes the type of the other
 * branches, as PostgreSQL's literals of unknown type do (`COALESCE(ts, '2024-01-01')`), and so do
 * untyped branches (NULL, parameters): `asType` converts them.
 */
export function commonType(parts: readonly Compiled[], what: string): TypeName | null {
  const typed = parts.filter((p) => p.type !== null);
  const firm = typed.filter((p) => !(p.constant && p.type!.base === "TEXT"));
  const known = (firm.length ? firm : typed).map((p) => p.type!);
  if (known.length === 0) return null;
  const bases = new Set(known.map((t) => t.base));
  if (bases.size === 1) {
    const t = known[0];
    return known.every((k) => sameType(k, t)) ? t : { base: t.base };
  }
  const numeric = [...bases].every((b) =>
    INTEGERS.includes(b) || FLOATS.includes(b) || b === "DECIMAL"
  );
  if (!numeric) {
    throw new DbError(
      "TYPE_MISMATCH",
      `${what} yields values of different types (${[...bases].join(", ")}); CAST them to one`,
    );
  }
  if ([...bases].some((b) => FLOATS.includes(b))) return { base: "DOUBLE" };
  if (bases.has("DECIMAL")) return { base: "DECIMAL" };
  const widest = Math.max(...[...bases].map((b) => INTEGERS.indexOf(b)));
  return { base: INTEGERS[widest] as TypeName["base"] };
}

function sameType(a: TypeName, b: TypeName): boolean {
  return a.base === b.base && a.precision === b.precision && a.scale === b.scale;
}

/** Branch `c` converted to `type` unless it has it already (untyped branches too). */
export function asType(c: Compiled, type: TypeName | null): Compiled {
  return type && !(c.type && sameType(c.type, type)) ? compileCast(c, type) : c;
}

export function compileCast(operand: Compiled, to: TypeName): Compiled {
  const f = operand.eval;
  const from = operand.type;
  return derive([operand], to, (row, ctx) => castValue(f(row, ctx), from, to));
}

export function compileLike(
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
