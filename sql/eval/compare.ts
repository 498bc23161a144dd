// Comparisons and IN: three-valued `= <> < <= > >=` with the coercions chosen at compile time
// from both static types, the hash keys that make equal values collide (hash joins, IN sets),
// and IN over constant lists and subquery results as hash sets rebuilt only when their input
// changes.

import type { TypeName } from "../ast.ts";
import { DbError } from "../../errors.ts";
import type { EvalContext } from "../source.ts";
import { compareValues, normalizeDecimal, valueKey } from "../values.ts";
import type { Row, Value } from "../values.ts";
import { comparePlan } from "../functions/mod.ts";
import type { Conversion } from "../functions/mod.ts";
import { BOOL, derive } from "./compiled.ts";
import type { Compiled, SubqueryHandle } from "./compiled.ts";

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
      return (v: Value) => {
        if (v === null) return "n";
        // A side typed DECIMAL may still hold other text (a CASE typed by its first branch).
        const d = normalizeDecimal(String(conv ? conv(v) : v));
        if (d === undefined) {
          throw new DbError("TYPE_MISMATCH", `Cannot use ${String(v)} as DECIMAL`);
        }
        return valueKey(d);
      };
    }
    return conv ? (v: Value) => valueKey(v === null ? null : conv(v)) : valueKey;
  };
  return [wrap(plan.left), wrap(plan.right)];
}

export function inList(x: Compiled, items: Compiled[], negated: boolean): Compiled {
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

export function inSubquery(x: Compiled, handle: SubqueryHandle, negated: boolean): Compiled {
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
