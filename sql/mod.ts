// The sql folder's door: AST types, values, the source interfaces, the parser and printer, the
// expression compiler and the SELECT executor. The engine is pure: it reads data only through
// TableSource / Catalog, which storage implements.

export type * from "./ast.ts";
export { MAX_EXPRESSION_DEPTH } from "./ast.ts";
export * from "./values.ts";
export type * from "./source.ts";
export {
  bindShape,
  parseBatch,
  parseExpression,
  parseSql,
  printExpr,
  printStatement,
  printString,
  shapeOf,
  templateOf,
} from "./parse/mod.ts";
export type { Diagnostic, Shape, Template } from "./parse/mod.ts";
export {
  AGGREGATES,
  compileExpr,
  conjuncts,
  isAggregateCall,
  isTruthy,
  predicate,
  resolveColumn,
  visitExpr,
} from "./eval/mod.ts";
export type { Compiled, CompileOptions, Scope, ScopeColumn, SubqueryHandle } from "./eval/mod.ts";
export {
  compileAssignment,
  compileDefault,
  executeSelect,
  extractKeys,
  keyExtractor,
  planSelect,
  projectReturning,
  rangeExtractor,
  tableScope,
} from "./exec/mod.ts";
export type { Plan, SelectResult, TargetColumn } from "./exec/mod.ts";
