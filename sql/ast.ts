// The SQL syntax tree: readonly plain objects tagged by `kind`, each with the span of source text
// it came from. Every switch over a `kind` ends in assertNever, so a new node kind fails to
// compile until every visitor (printer, evaluator, planner) handles it. The statements other
// than SELECT live in ast_statements.ts; this file re-exports them, so importers need only it.

import { assertNever } from "../errors.ts";
import type { Statement } from "./ast_statements.ts";

export type * from "./ast_statements.ts";

/**
 * How deep a syntax tree may be: the parser refuses deeper input (INVALID_SQL), so every
 * recursive walker after it (compiler, printer, visitors, planner) recurses at most this far.
 * Each node counts one level: an operator (also in a long `a + b + …` or `x OR y OR …` chain), a
 * call, CAST, CASE, a subquery and its SELECT, a join, EXECUTE AS; so does each parenthesis in
 * the text. Generous next to hand-written SQL (SQLite's own limit is 1000 operators), small
 * enough that the deepest walk stays far below Deno's default stack. The printer's fully
 * parenthesised text of any accepted tree is accepted again, so stored DEFAULTs always re-parse.
 */
export const MAX_EXPRESSION_DEPTH = 256;

/** Offsets into the statement's source text plus the 1-based line/column of `start`. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
}

// ---------------------------------------------------------------- names and types

/** `ns.table`; the parser rejects unqualified names, so `namespace` is always set. */
export interface TableName {
  readonly namespace: string;
  readonly name: string;
  readonly span: Span;
}

export type BaseType =
  | "BOOLEAN"
  | "SMALLINT"
  | "INT"
  | "BIGINT"
  | "REAL"
  | "DOUBLE"
  | "DECIMAL"
  | "TEXT"
  | "BYTES"
  | "JSON"
  | "UUID"
  | "DATE"
  | "TIMESTAMP";

/** A column type after aliases are resolved (INTEGER → INT, FLOAT → REAL, VARCHAR → TEXT, BLOB → BYTES). */
export interface TypeName {
  readonly base: BaseType;
  /** DECIMAL precision / VARCHAR length. */
  readonly precision?: number;
  /** DECIMAL scale. */
  readonly scale?: number;
}

// ---------------------------------------------------------------- expressions

export type BinaryOp =
  | "+"
  | "-"
  | "*"
  | "/"
  | "%"
  | "||"
  | "="
  | "<>"
  | "<"
  | "<="
  | ">"
  | ">="
  | "AND"
  | "OR"
  | "->>"
  | "->";

export type Expr =
  | LiteralExpr
  | ParamExpr
  | ColumnExpr
  | StarExpr
  | UnaryExpr
  | BinaryExpr
  | IsNullExpr
  | InListExpr
  | InSubqueryExpr
  | BetweenExpr
  | LikeExpr
  | FuncExpr
  | CastExpr
  | CaseExpr
  | SubqueryExpr
  | ExistsExpr;

/** Literal values: numbers keep their source text so BIGINT/DECIMAL never lose precision. */
export interface LiteralExpr {
  readonly kind: "literal";
  readonly value: null | boolean | string | number | bigint;
  /** For numbers: "int" (fits bigint) or "decimal" (has a point or exponent). */
  readonly numeric?: "int" | "decimal";
  /** Decimal literals: the source digits (`0.10`, `1e-3`) so DECIMAL values stay exact. */
  readonly text?: string;
  readonly span: Span;
}

/** `$1` → index 1. */
export interface ParamExpr {
  readonly kind: "param";
  readonly index: number;
  /**
   * Set when the engine turned this literal into a parameter (sql/parse/shape.ts): the literal of
   * the text the plan was made from. Its type is the parameter's; each run's value comes bound.
   */
  readonly literal?: LiteralExpr;
  readonly span: Span;
}

/** `col` or `t.col` (t = table name or alias). */
export interface ColumnExpr {
  readonly kind: "column";
  readonly table?: string;
  readonly name: string;
  readonly span: Span;
}

/** `*` or `t.*` in a select list, or the argument of COUNT(*). */
export interface StarExpr {
  readonly kind: "star";
  readonly table?: string;
  readonly span: Span;
}

export interface UnaryExpr {
  readonly kind: "unary";
  readonly op: "NOT" | "-" | "+";
  readonly operand: Expr;
  readonly span: Span;
}

export interface BinaryExpr {
  readonly kind: "binary";
  /** `!=` is parsed as `<>`. */
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

export interface IsNullExpr {
  readonly kind: "is_null";
  readonly operand: Expr;
  readonly negated: boolean;
  readonly span: Span;
}

export interface InListExpr {
  readonly kind: "in_list";
  readonly operand: Expr;
  readonly list: readonly Expr[];
  readonly negated: boolean;
  readonly span: Span;
}

export interface InSubqueryExpr {
  readonly kind: "in_subquery";
  readonly operand: Expr;
  readonly query: SelectStmt;
  readonly negated: boolean;
  readonly span: Span;
}

export interface BetweenExpr {
  readonly kind: "between";
  readonly operand: Expr;
  readonly low: Expr;
  readonly high: Expr;
  readonly negated: boolean;
  readonly span: Span;
}

export interface LikeExpr {
  readonly kind: "like";
  readonly operand: Expr;
  readonly pattern: Expr;
  /** `ESCAPE 'c'`: one character, or '' for none; absent = backslash (as PostgreSQL). */
  readonly escape?: Expr;
  readonly caseInsensitive: boolean;
  readonly negated: boolean;
  readonly span: Span;
}

/** Function call; `name` is upper-cased. `args` holds a StarExpr for COUNT(*). */
export interface FuncExpr {
  readonly kind: "func";
  readonly name: string;
  readonly args: readonly Expr[];
  readonly distinct: boolean;
  readonly span: Span;
}

export interface CastExpr {
  readonly kind: "cast";
  readonly operand: Expr;
  readonly type: TypeName;
  readonly span: Span;
}

export interface CaseExpr {
  readonly kind: "case";
  readonly operand?: Expr;
  readonly whens: readonly { readonly when: Expr; readonly then: Expr }[];
  readonly else?: Expr;
  readonly span: Span;
}

/** A scalar subquery `(SELECT …)`. */
export interface SubqueryExpr {
  readonly kind: "subquery";
  readonly query: SelectStmt;
  readonly span: Span;
}

export interface ExistsExpr {
  readonly kind: "exists";
  readonly query: SelectStmt;
  readonly negated: boolean;
  readonly span: Span;
}

// ---------------------------------------------------------------- SELECT

export interface SelectItem {
  readonly expr: Expr;
  readonly alias?: string;
}

export type FromItem = TableRef | SubqueryRef | JoinRef;

export interface TableRef {
  readonly kind: "table_ref";
  readonly table: TableName;
  readonly alias?: string;
  readonly span: Span;
}

export interface SubqueryRef {
  readonly kind: "subquery_ref";
  readonly query: SelectStmt;
  readonly alias: string;
  readonly span: Span;
}

export interface JoinRef {
  readonly kind: "join";
  readonly joinType: "INNER" | "LEFT" | "CROSS";
  readonly left: FromItem;
  readonly right: FromItem;
  readonly on?: Expr;
  readonly span: Span;
}

export interface OrderItem {
  readonly expr: Expr;
  readonly desc: boolean;
  /** Explicit NULLS FIRST/LAST; default (undefined) is NULLS LAST for ASC, FIRST for DESC. */
  readonly nulls?: "FIRST" | "LAST";
}

export interface SelectStmt {
  readonly kind: "select";
  readonly distinct: boolean;
  readonly items: readonly SelectItem[];
  /** Absent for `SELECT 1 + 1`. */
  readonly from?: FromItem;
  readonly where?: Expr;
  readonly groupBy: readonly Expr[];
  readonly having?: Expr;
  readonly orderBy: readonly OrderItem[];
  readonly limit?: Expr;
  readonly offset?: Expr;
  readonly span: Span;
}

/** One statement of a batch with the exact source text it was parsed from. */
export interface ParsedStatement {
  readonly statement: Statement;
  readonly text: string;
  readonly span: Span;
}

/** Any node of a syntax tree. */
export type SyntaxNode = Statement | Expr | FromItem;

/**
 * Calls `visit` on each direct child of `n` (subqueries included; absent optional children as
 * undefined). Exhaustive: a new node kind fails to compile. The one list of a node's children,
 * for every walker (the depth check, visitExpr).
 */
export function forEachChild(
  n: SyntaxNode,
  visit: (child: SyntaxNode | undefined) => void,
): void {
  switch (n.kind) {
    // expressions
    case "literal":
    case "param":
    case "column":
    case "star":
      return;
    case "unary":
    case "is_null":
    case "cast":
      return visit(n.operand);
    case "binary":
      visit(n.left);
      return visit(n.right);
    case "in_list":
      visit(n.operand);
      return n.list.forEach(visit);
    case "in_subquery":
      visit(n.operand);
      return visit(n.query);
    case "between":
      visit(n.operand);
      visit(n.low);
      return visit(n.high);
    case "like":
      visit(n.operand);
      visit(n.pattern);
      return visit(n.escape);
    case "func":
      return n.args.forEach(visit);
    case "case":
      visit(n.operand);
      for (const w of n.whens) {
        visit(w.when);
        visit(w.then);
      }
      return visit(n.else);
    case "subquery":
    case "exists":
      return visit(n.query);
    // FROM items
    case "table_ref":
      return;
    case "subquery_ref":
      return visit(n.query);
    case "join":
      visit(n.left);
      visit(n.right);
      return visit(n.on);
    // statements
    case "select":
      for (const item of n.items) visit(item.expr);
      visit(n.from);
      visit(n.where);
      n.groupBy.forEach(visit);
      visit(n.having);
      for (const o of n.orderBy) visit(o.expr);
      visit(n.limit);
      return visit(n.offset);
    case "insert":
      for (const row of n.rows) row.forEach(visit);
      for (const item of n.returning ?? []) visit(item.expr);
      return;
    case "update":
      for (const s of n.set) visit(s.value);
      visit(n.where);
      for (const item of n.returning ?? []) visit(item.expr);
      return;
    case "delete":
      visit(n.where);
      for (const item of n.returning ?? []) visit(item.expr);
      return;
    case "create_table":
      for (const c of n.columns) visit(c.default);
      return;
    case "alter_table":
      if (n.change.action === "add_column") visit(n.change.column.default);
      return;
    case "execute_as":
      return visit(n.statement);
    case "subscribe":
      return visit(n.query);
    case "alter_topic":
      if (n.change.action === "add_source") visit(n.change.where);
      return;
    case "publish":
      visit(n.key);
      visit(n.messageId);
      return visit(n.payload);
    case "create_topic":
    case "drop_topic":
    case "clear_topic":
    case "consume":
    case "ack":
    case "create_namespace":
    case "drop_namespace":
    case "drop_table":
    case "create_storage":
    case "alter_storage":
    case "drop_storage":
    case "create_user":
    case "alter_user":
    case "drop_user":
    case "show":
    case "describe":
    case "flush":
    case "compact":
    case "kill":
    case "export_user_data":
      return;
    default:
      return assertNever(n, "syntax node");
  }
}
