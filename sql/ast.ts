// The SQL syntax tree: readonly plain objects tagged by `kind`, each with the span of source text
// it came from. Every switch over a `kind` ends in assertNever, so a new node kind fails to
// compile until every visitor (printer, evaluator, planner) handles it.

import { assertNever } from "../errors.ts";

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

// ---------------------------------------------------------------- DML

export interface InsertStmt {
  readonly kind: "insert";
  readonly table: TableName;
  /** Empty means all user columns in table order. */
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Expr[])[];
  readonly returning?: readonly SelectItem[];
  readonly span: Span;
}

export interface UpdateStmt {
  readonly kind: "update";
  readonly table: TableName;
  readonly set: readonly { readonly column: string; readonly value: Expr }[];
  readonly where?: Expr;
  readonly returning?: readonly SelectItem[];
  readonly span: Span;
}

export interface DeleteStmt {
  readonly kind: "delete";
  readonly table: TableName;
  readonly where?: Expr;
  readonly returning?: readonly SelectItem[];
  readonly span: Span;
}

// ---------------------------------------------------------------- DDL

export interface ColumnDef {
  readonly name: string;
  readonly type: TypeName;
  readonly notNull: boolean;
  readonly primaryKey: boolean;
  readonly default?: Expr;
  /** Written as BIGSERIAL / AUTO_INCREMENT: means DEFAULT SNOWFLAKE_ID(). */
  readonly autoIncrement: boolean;
  readonly span: Span;
}

/** `WITH (KEY = value, …)` or `OPTIONS (…)`: keys upper-cased, values as written. */
export interface OptionItem {
  readonly key: string;
  readonly value: string | number | boolean;
  readonly span: Span;
}

export type TableType = "USER" | "SHARED" | "STREAM";

export interface CreateNamespaceStmt {
  readonly kind: "create_namespace";
  readonly name: string;
  readonly ifNotExists: boolean;
  readonly span: Span;
}

export interface DropNamespaceStmt {
  readonly kind: "drop_namespace";
  readonly name: string;
  readonly ifExists: boolean;
  readonly cascade: boolean;
  readonly span: Span;
}

export interface CreateTableStmt {
  readonly kind: "create_table";
  readonly table: TableName;
  /** The `CREATE USER TABLE` prefix, if any. */
  readonly typePrefix?: TableType;
  readonly ifNotExists: boolean;
  readonly columns: readonly ColumnDef[];
  /** Table-level `PRIMARY KEY (col)`. */
  readonly primaryKey?: readonly string[];
  readonly options: readonly OptionItem[];
  readonly span: Span;
}

export interface DropTableStmt {
  readonly kind: "drop_table";
  readonly table: TableName;
  readonly ifExists: boolean;
  readonly span: Span;
}

export type AlterTableAction =
  | { readonly action: "add_column"; readonly column: ColumnDef; readonly ifNotExists: boolean }
  | { readonly action: "drop_column"; readonly column: string; readonly ifExists: boolean }
  | { readonly action: "rename_column"; readonly from: string; readonly to: string }
  | { readonly action: "set_ttl"; readonly seconds: number }
  | { readonly action: "set_storage"; readonly storageId: string }
  | { readonly action: "set_access_level"; readonly level: string }
  | { readonly action: "set_flush_policy"; readonly policy: string };

export interface AlterTableStmt {
  readonly kind: "alter_table";
  readonly table: TableName;
  readonly change: AlterTableAction;
  readonly span: Span;
}

export interface CreateStorageStmt {
  readonly kind: "create_storage";
  readonly id: string;
  readonly ifNotExists: boolean;
  /** `filesystem` or `s3`, lower-cased. */
  readonly storageType: string;
  /** PATH, BUCKET, ENDPOINT, REGION, CREDENTIALS, SHARED_TABLES_TEMPLATE, USER_TABLES_TEMPLATE… (upper-cased keys). */
  readonly settings: readonly OptionItem[];
  readonly span: Span;
}

export interface AlterStorageStmt {
  readonly kind: "alter_storage";
  readonly id: string;
  readonly settings: readonly OptionItem[];
  readonly span: Span;
}

export interface DropStorageStmt {
  readonly kind: "drop_storage";
  readonly id: string;
  readonly ifExists: boolean;
  readonly span: Span;
}

// ---------------------------------------------------------------- users

export type Role = "user" | "service" | "dba" | "system";

export interface CreateUserStmt {
  readonly kind: "create_user";
  readonly name: string;
  readonly ifNotExists: boolean;
  readonly password: string;
  readonly role: Role;
  readonly email?: string;
  readonly span: Span;
}

export interface AlterUserStmt {
  readonly kind: "alter_user";
  readonly name: string;
  readonly change:
    | { readonly set: "password"; readonly password: string }
    | { readonly set: "role"; readonly role: Role }
    | { readonly set: "email"; readonly email: string };
  readonly span: Span;
}

export interface DropUserStmt {
  readonly kind: "drop_user";
  readonly name: string;
  readonly ifExists: boolean;
  readonly span: Span;
}

export interface ExecuteAsStmt {
  readonly kind: "execute_as";
  readonly user: string;
  readonly statement: Statement;
  readonly span: Span;
}

// ---------------------------------------------------------------- SHOW / maintenance / live

export type ShowWhat =
  | { readonly what: "namespaces" }
  | { readonly what: "tables"; readonly namespace?: string }
  | { readonly what: "storages" }
  | { readonly what: "users" }
  | { readonly what: "live_queries" }
  | { readonly what: "jobs" }
  | { readonly what: "exports" }
  | { readonly what: "stats"; readonly table: TableName };

export interface ShowStmt {
  readonly kind: "show";
  readonly target: ShowWhat;
  readonly span: Span;
}

export interface DescribeStmt {
  readonly kind: "describe";
  readonly table: TableName;
  readonly span: Span;
}

export interface FlushStmt {
  readonly kind: "flush";
  /** One table, or every table in `namespace`. */
  readonly table?: TableName;
  readonly namespace?: string;
  readonly span: Span;
}

export interface CompactStmt {
  readonly kind: "compact";
  readonly table: TableName;
  readonly span: Span;
}

export interface KillStmt {
  readonly kind: "kill";
  readonly target: "job" | "live_query";
  readonly id: string;
  readonly span: Span;
}

export interface ExportStmt {
  readonly kind: "export_user_data";
  readonly span: Span;
}

export interface SubscribeStmt {
  readonly kind: "subscribe";
  /** `SUBSCRIBE TO app.t WHERE …` as the equivalent `SELECT * FROM app.t WHERE …`. */
  readonly query: SelectStmt;
  readonly options: readonly OptionItem[];
  readonly span: Span;
}

export type Statement =
  | SelectStmt
  | InsertStmt
  | UpdateStmt
  | DeleteStmt
  | CreateNamespaceStmt
  | DropNamespaceStmt
  | CreateTableStmt
  | DropTableStmt
  | AlterTableStmt
  | CreateStorageStmt
  | AlterStorageStmt
  | DropStorageStmt
  | CreateUserStmt
  | AlterUserStmt
  | DropUserStmt
  | ExecuteAsStmt
  | ShowStmt
  | DescribeStmt
  | FlushStmt
  | CompactStmt
  | KillStmt
  | ExportStmt
  | SubscribeStmt;

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
