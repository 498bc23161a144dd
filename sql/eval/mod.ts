// The expression compiler's room: Expr → closures with static types, compiled once per
// statement, plus the tree walks the planner shares. It may import the sql vocabulary (ast.ts,
// values.ts, source.ts), errors.ts and functions/ (through its door); exec/ uses it.

export { compileExpr, predicate } from "./compile.ts";
export { comparison, hashKeys } from "./compare.ts";
export { constant, derive, isTruthy, resolveColumn } from "./compiled.ts";
export type { Compiled, CompileOptions, Scope, ScopeColumn, SubqueryHandle } from "./compiled.ts";
export { AGGREGATES, conjuncts, exprKey, isAggregateCall, visitExpr } from "./tree.ts";
