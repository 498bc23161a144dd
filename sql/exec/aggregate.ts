// GROUP BY and aggregates. Design decision: expressions after grouping (select list, HAVING,
// ORDER BY) are compiled with an `aggregates` hook that maps each aggregate call and each GROUP BY
// expression to a slot of the aggregate's output row `[...groupValues, ...aggregateResults]`;
// any other column reference is INVALID_SQL, as in PostgreSQL.

import type { Expr, FuncExpr, TypeName } from "../ast.ts";
import { assertNever, DbError } from "../../errors.ts";
import { compileExpr, exprKey, isAggregateCall, resolveColumn } from "../eval/mod.ts";
import type { Compiled, CompileOptions, Scope } from "../eval/mod.ts";
import { decimalArith, parseNumber, toDecimal } from "../functions/mod.ts";
import type { ExecContext } from "../source.ts";
import { printExpr } from "../parse/mod.ts";
import {
  BIGINT_MAX,
  BIGINT_MIN,
  compareValues,
  normalizeDecimal,
  outOfRange,
  valueKey,
} from "../values.ts";
import type { Row, Value } from "../values.ts";
import { indent, Unary } from "./operators.ts";
import type { Operator, RowFn, Stage } from "./operators.ts";

type AggName = "COUNT" | "SUM" | "AVG" | "MIN" | "MAX";

interface AggSpec {
  readonly name: AggName;
  /** Undefined for COUNT(*). */
  readonly arg?: RowFn;
  readonly argType: TypeName | null;
  readonly distinct: boolean;
  readonly type: TypeName | null;
  readonly expr: Expr;
}

interface Acc {
  step(v: Value): void;
  result(): Value;
}

const BIGINT: TypeName = { base: "BIGINT" };
const DOUBLE: TypeName = { base: "DOUBLE" };
const INTEGRAL = new Set(["SMALLINT", "INT", "BIGINT"]);
const NUMERIC = new Set(["SMALLINT", "INT", "BIGINT", "REAL", "DOUBLE", "DECIMAL"]);

function resultType(name: AggName, t: TypeName | null): TypeName | null {
  if (name === "COUNT") return BIGINT;
  if (name === "MIN" || name === "MAX") return t;
  if (t && !NUMERIC.has(t.base)) {
    throw new DbError("TYPE_MISMATCH", `${name.toLowerCase()}() needs a numeric argument`);
  }
  if (name === "AVG") return DOUBLE;
  if (t && INTEGRAL.has(t.base)) return BIGINT;
  return t?.base === "DECIMAL" ? { base: "DECIMAL" } : DOUBLE;
}

/** A SUM past the BIGINT range is an error, as PostgreSQL's "bigint out of range". */
function checkBigint(v: bigint): bigint {
  if (v < BIGINT_MIN || v > BIGINT_MAX) throw outOfRange("BIGINT");
  return v;
}

/** A double SUM / AVG that overflowed is an error, never an infinity. */
function finite(x: number): number {
  if (!Number.isFinite(x)) throw outOfRange("DOUBLE");
  return x;
}

function toNumber(v: Value): number {
  return typeof v === "number" ? v : Number(typeof v === "string" ? parseNumber(v) : v);
}

function newAcc(spec: AggSpec): Acc {
  const acc = baseAcc(spec);
  if (!spec.distinct) return acc;
  const seen = new Set<string>();
  const dec = spec.argType?.base === "DECIMAL";
  return {
    step(v) {
      const k = valueKey(dec && typeof v === "string" ? normalizeDecimal(v)! : v);
      if (seen.has(k)) return;
      seen.add(k);
      acc.step(v);
    },
    result: () => acc.result(),
  };
}

function baseAcc(spec: AggSpec): Acc {
  switch (spec.name) {
    case "COUNT": {
      let n = 0;
      return { step: () => void n++, result: () => BigInt(n) };
    }
    case "SUM": {
      let any = false;
      if (spec.type?.base === "BIGINT") {
        let n = 0;
        let big: bigint | null = null;
        return {
          step(v) {
            any = true;
            if (typeof v === "number" && big === null) {
              const r = n + v;
              if (Number.isSafeInteger(r)) return void (n = r);
            }
            big = (big ?? BigInt(n)) + BigInt(v as number | bigint);
          },
          result: () => (any ? checkBigint(big ?? BigInt(n)) : null),
        };
      }
      if (spec.type?.base === "DECIMAL") {
        let s = "0";
        return {
          step(v) {
            any = true;
            s = decimalArith("+", s, toDecimal(v!));
          },
          result: () => (any ? s : null),
        };
      }
      let x = 0;
      return {
        step(v) {
          any = true;
          x += toNumber(v);
        },
        result: () => (any ? finite(x) : null),
      };
    }
    case "AVG": {
      let n = 0;
      let x = 0;
      return {
        step(v) {
          n++;
          x += toNumber(v);
        },
        result: () => (n ? finite(x / n) : null),
      };
    }
    case "MIN":
    case "MAX": {
      const sign = spec.name === "MIN" ? 1 : -1;
      const dec = spec.argType?.base === "DECIMAL";
      let cur: Value = null;
      return {
        step(v) {
          if (cur === null || sign * compareValues(v!, cur, dec) < 0) cur = v;
        },
        result: () => cur,
      };
    }
    default:
      return assertNever(spec.name, "aggregate");
  }
}

/** Groups rows and computes aggregates; without GROUP BY, always exactly one output row. */
export class Aggregate extends Unary {
  readonly specs: AggSpec[] = [];
  constructor(
    readonly child: Operator,
    readonly groups: readonly Compiled[],
    readonly groupBy: readonly Expr[],
  ) {
    super();
  }

  get scope(): Scope {
    return {
      columns: [
        ...this.groups.map((g, i) => ({ name: `#group${i}`, type: g.type ?? { base: "TEXT" } })),
        ...this.specs.map((s, i) => ({ name: `#agg${i}`, type: s.type ?? { base: "TEXT" } })),
      ],
    };
  }

  stage(ctx: ExecContext): Stage {
    const specs = this.specs;
    const groupFns = this.groups.map((g) => g.eval);
    const decimalKey = this.groups.map((g) => g.type?.base === "DECIMAL");
    const groups = new Map<string, { keys: Value[]; accs: Acc[] }>();
    const ng = groupFns.length;
    return {
      push(batch) {
        for (const row of batch) {
          const keys: Value[] = new Array(ng);
          let key = "";
          for (let i = 0; i < ng; i++) {
            const v = groupFns[i](row, ctx);
            keys[i] = v;
            key += valueKey(decimalKey[i] && typeof v === "string" ? normalizeDecimal(v)! : v) +
              "\u0001";
          }
          let g = groups.get(key);
          if (!g) {
            g = { keys, accs: specs.map(newAcc) };
            groups.set(key, g);
          }
          for (let j = 0; j < specs.length; j++) {
            const arg = specs[j].arg;
            if (!arg) {
              g.accs[j].step(true);
              continue;
            }
            const v = arg(row, ctx);
            if (v !== null) g.accs[j].step(v);
          }
        }
        return undefined;
      },
      end() {
        if (ng === 0 && groups.size === 0) groups.set("", { keys: [], accs: specs.map(newAcc) });
        const out: Row[] = [];
        for (const g of groups.values()) out.push([...g.keys, ...g.accs.map((a) => a.result())]);
        return out;
      },
    };
  }

  explain(): string[] {
    const by = this.groupBy.length ? ` BY ${this.groupBy.map(printExpr).join(", ")}` : "";
    const aggs = this.specs.map((s) => printExpr(s.expr)).join(", ");
    return [`Aggregate${by}${aggs ? `: ${aggs}` : ""}`, ...indent(this.child.explain())];
  }
}

/**
 * Plans grouping over `child`: compiles the GROUP BY expressions and returns the Aggregate plus
 * the hook that compiles post-grouping expressions against its output row.
 */
export function planAggregate(
  child: Operator,
  groupBy: readonly Expr[],
  options: CompileOptions,
): { op: Aggregate; hook: (e: Expr) => Compiled | undefined } {
  const input = child.scope;
  const groups = groupBy.map((g) => compileExpr(g, input, options));
  const op = new Aggregate(child, groups, groupBy);
  const groupKeys = groupBy.map((g) => g.kind === "column" ? "" : exprKey(g));
  const groupCols = groupBy.map((g) =>
    g.kind === "column" ? resolveColumn(input, g.name, g.table) : -1
  );
  const aggSlots = new Map<string, number>();
  const slot = (i: number, type: TypeName | null): Compiled => ({
    type,
    eval: (row) => row[i],
  });

  const hook = (e: Expr): Compiled | undefined => {
    if (isAggregateCall(e)) {
      const key = exprKey(e);
      let j = aggSlots.get(key);
      if (j === undefined) {
        j = op.specs.length;
        op.specs.push(aggregateSpec(e, input, options));
        aggSlots.set(key, j);
      }
      return slot(groups.length + j, op.specs[j].type);
    }
    if (e.kind === "column") {
      let idx: number;
      try {
        idx = resolveColumn(input, e.name, e.table);
      } catch (err) {
        if (err instanceof DbError && err.code === "COLUMN_NOT_FOUND") return undefined;
        throw err;
      }
      const gi = groupCols.indexOf(idx);
      if (gi >= 0) return slot(gi, groups[gi].type);
      throw new DbError(
        "INVALID_SQL",
        `Column "${e.name}" must appear in the GROUP BY clause or be used in an aggregate function`,
      );
    }
    if (e.kind === "literal" || e.kind === "param") return undefined;
    if (groupKeys.some((k) => k !== "")) {
      const gi = groupKeys.indexOf(exprKey(e));
      if (gi >= 0) return slot(gi, groups[gi].type);
    }
    return undefined;
  };
  return { op, hook };
}

function aggregateSpec(
  e: FuncExpr,
  input: Scope,
  options: CompileOptions,
): AggSpec {
  const name = e.name.toUpperCase() as AggName;
  const star = e.args.length === 1 && e.args[0].kind === "star";
  if (star && name !== "COUNT") {
    throw new DbError("INVALID_SQL", `${name.toLowerCase()}(*) is not allowed`);
  }
  if (!star && e.args.length !== 1) {
    throw new DbError("INVALID_SQL", `Wrong number of arguments for ${name.toLowerCase()}()`);
  }
  const arg = star ? undefined : compileExpr(e.args[0], input, { subqueries: options.subqueries });
  const argType = arg?.type ?? null;
  return {
    name,
    arg: arg?.eval,
    argType,
    distinct: e.distinct,
    type: resultType(name, argType),
    expr: e,
  };
}
