// INNER / LEFT / CROSS joins. Design decision: the right side is materialized once (hashed on the
// equality key when ON has one, else kept as a list for a nested loop) and the left side streams,
// so output keeps the left side's order and LIMIT can stop the left scan early.

import { DbError } from "../../errors.ts";
import { compileExpr, conjuncts, hashKeys, predicate, visitExpr } from "../eval/mod.ts";
import type { CompileOptions, Scope } from "../eval/mod.ts";
import type { Expr } from "../ast.ts";
import type { ExecContext } from "../source.ts";
import { printExpr } from "../parse/mod.ts";
import type { Row, Value } from "../values.ts";
import { BATCH, checkAbort, indent } from "./operators.ts";
import type { Operator, RowFn, RowTest } from "./operators.ts";

type JoinType = "INNER" | "LEFT" | "CROSS";

interface HashKey {
  readonly left: RowFn;
  readonly right: RowFn;
  readonly leftKey: (v: Value) => string;
  readonly rightKey: (v: Value) => string;
}

/** A join of two operators; hash join when `hash` is set, else nested loop. */
export class Join implements Operator {
  readonly scope: Scope;
  constructor(
    readonly left: Operator,
    readonly right: Operator,
    readonly joinType: JoinType,
    readonly hash: HashKey | undefined,
    readonly residual: RowTest | undefined,
    readonly on: Expr | undefined,
  ) {
    this.scope = { columns: [...left.scope.columns, ...right.scope.columns] };
  }

  canRunSync(ctx: ExecContext): boolean {
    return this.left.canRunSync(ctx) && this.right.canRunSync(ctx);
  }

  async *run(ctx: ExecContext): AsyncGenerator<Row[]> {
    const state = this.#state(ctx);
    for await (const batch of this.right.run(ctx)) {
      checkAbort(ctx);
      state.build(batch);
    }
    for await (const batch of this.left.run(ctx)) {
      for (const out of state.probe(batch)) {
        checkAbort(ctx);
        yield out;
      }
    }
  }

  *runSync(ctx: ExecContext): Generator<Row[]> {
    const state = this.#state(ctx);
    for (const batch of this.right.runSync(ctx)) {
      checkAbort(ctx);
      state.build(batch);
    }
    for (const batch of this.left.runSync(ctx)) {
      for (const out of state.probe(batch)) {
        checkAbort(ctx);
        yield out;
      }
    }
  }

  /**
   * One execution's state: `build` takes the right side's batches, `probe` joins a left batch
   * into output batches of at most BATCH rows (a join can multiply rows: the abort check and
   * memory stay per batch).
   */
  #state(ctx: ExecContext): { build(batch: Row[]): void; probe(batch: Row[]): Generator<Row[]> } {
    const hash = this.hash;
    const residual = this.residual;
    const outer = this.joinType === "LEFT";
    const nulls: Value[] = new Array(this.right.scope.columns.length).fill(null);
    const buckets = new Map<string, Row[]>();
    const all: Row[] = [];
    return {
      build(batch) {
        for (const r of batch) {
          if (!hash) {
            all.push(r);
            continue;
          }
          const v = hash.right(r, ctx);
          if (v === null) continue;
          const k = hash.rightKey(v);
          const bucket = buckets.get(k);
          if (bucket) bucket.push(r);
          else buckets.set(k, [r]);
        }
      },
      *probe(batch) {
        let out: Row[] = [];
        for (const l of batch) {
          let candidates: Row[] | undefined = all;
          if (hash) {
            const v = hash.left(l, ctx);
            candidates = v === null ? undefined : buckets.get(hash.leftKey(v));
          }
          let matched = false;
          if (candidates) {
            for (const r of candidates) {
              const row = l.concat(r);
              if (residual && !residual(row, ctx)) continue;
              out.push(row);
              matched = true;
              if (out.length >= BATCH) {
                yield out;
                out = [];
              }
            }
          }
          if (!matched && outer) out.push(l.concat(nulls));
        }
        if (out.length) yield out;
      },
    };
  }

  explain(): string[] {
    const kind = this.hash ? "HashJoin" : "NestedLoopJoin";
    return [
      `${kind} ${this.joinType}${this.on ? ` ON ${printExpr(this.on)}` : ""}`,
      ...indent(this.left.explain()),
      ...indent(this.right.explain()),
    ];
  }
}

/** True when `expr` mentions columns and all of them resolve in `scope` alone. */
export function refersOnlyTo(expr: Expr, scope: Scope, options: CompileOptions): boolean {
  let columns = 0;
  visitExpr(expr, (e) => {
    if (e.kind === "column") columns++;
  });
  if (columns === 0) return false;
  try {
    compileExpr(expr, scope, options);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds a join: finds an equality conjunct of ON between the two sides for hashing and compiles
 * the rest as a residual test over the combined row.
 */
export function planJoin(
  left: Operator,
  right: Operator,
  joinType: JoinType,
  on: Expr | undefined,
  options: CompileOptions,
): Join {
  const combined: Scope = { columns: [...left.scope.columns, ...right.scope.columns] };
  if (joinType === "CROSS" || !on) {
    if (joinType !== "CROSS" && !on) throw new DbError("INVALID_SQL", "JOIN requires an ON clause");
    return new Join(left, right, "CROSS", undefined, undefined, undefined);
  }
  compileExpr(on, combined, options); // validates names and ambiguity over both sides
  const parts = conjuncts(on);
  let hash: HashKey | undefined;
  const rest: Expr[] = [];
  for (const part of parts) {
    if (!hash && part.kind === "binary" && part.op === "=") {
      let [a, b] = [part.left, part.right];
      if (!refersOnlyTo(a, left.scope, options)) [a, b] = [b, a];
      if (refersOnlyTo(a, left.scope, options) && refersOnlyTo(b, right.scope, options)) {
        const l = compileExpr(a, left.scope, options);
        const r = compileExpr(b, right.scope, options);
        const [leftKey, rightKey] = hashKeys(l.type, r.type);
        hash = { left: l.eval, right: r.eval, leftKey, rightKey };
        continue;
      }
    }
    rest.push(part);
  }
  const residual = rest.length
    ? predicate(
      rest.reduce((a, b) => ({ kind: "binary", op: "AND", left: a, right: b, span: a.span })),
      combined,
      options,
    )
    : undefined;
  return new Join(left, right, joinType, hash, residual, on);
}
