// The printer: AST → SQL text that parses back to the same tree (spans aside). Every compound
// sub-expression is parenthesised, so the output never depends on precedence; names are quoted
// whenever a bare word would read differently (upper case, reserved word, odd characters).
// Recursive: trees are at most MAX_EXPRESSION_DEPTH deep (the parser's check), and the text has
// no more nested parentheses than the tree has levels, so it always parses back.

import { assertNever, DbError } from "../errors.ts";
import type {
  AlterTableAction,
  ColumnDef,
  Expr,
  FromItem,
  OptionItem,
  SelectItem,
  SelectStmt,
  ShowWhat,
  Statement,
  TableName,
  TypeName,
} from "./ast.ts";
import { RESERVED } from "./_lexer.ts";

const BARE_NAME = /^[a-z_][a-z0-9_$]*$/;
const BARE_KEY = /^[A-Z_][A-Z0-9_$]*$/;

/** A name as an identifier: bare when that reads back the same, otherwise "quoted". */
export function printName(name: string): string {
  if (BARE_NAME.test(name) && !RESERVED.has(name.toUpperCase())) return name;
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string literal with `''` escapes. */
export function printString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function printTable(t: TableName): string {
  return `${printName(t.namespace)}.${printName(t.name)}`;
}

/** `BIGINT`, `DECIMAL(10,2)`, `VARCHAR(20)`. */
export function printType(t: TypeName): string {
  const base = t.base === "TEXT" && t.precision !== undefined ? "VARCHAR" : t.base;
  if (t.precision === undefined) return base;
  return `${base}(${t.precision}${t.scale !== undefined ? `,${t.scale}` : ""})`;
}

/** Kinds whose text is self-delimiting, so they never need parentheses as operands. */
function isAtomic(e: Expr): boolean {
  switch (e.kind) {
    case "literal":
      // A negative number prints with a leading "-", which reads back as unary minus.
      return !((typeof e.value === "number" || typeof e.value === "bigint") && e.value < 0);
    case "param":
    case "column":
    case "star":
    case "func":
    case "cast":
    case "case":
    case "subquery":
      return true;
    case "exists":
      return !e.negated;
    default:
      return false;
  }
}

function operand(e: Expr): string {
  return isAtomic(e) ? printExpr(e) : `(${printExpr(e)})`;
}

function not(negated: boolean): string {
  return negated ? "NOT " : "";
}

/**
 * Prints an expression, parenthesising every compound operand.
 *
 * @example
 * printExpr(parseExpression("a + b * 2")); // "a + (b * 2)"
 */
export function printExpr(e: Expr): string {
  switch (e.kind) {
    case "literal": {
      const v = e.value;
      if (v === null) return "NULL";
      if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
      if (typeof v === "string") return printString(v);
      if (e.numeric === "decimal" && e.text !== undefined) return e.text;
      return String(v);
    }
    case "param":
      return `$${e.index}`;
    case "column":
      return e.table !== undefined
        ? `${printName(e.table)}.${printName(e.name)}`
        : printName(e.name);
    case "star":
      return e.table !== undefined ? `${printName(e.table)}.*` : "*";
    case "unary":
      return e.op === "NOT" ? `NOT ${operand(e.operand)}` : `${e.op}${operand(e.operand)}`;
    case "binary":
      return `${operand(e.left)} ${e.op} ${operand(e.right)}`;
    case "is_null":
      return `${operand(e.operand)} IS ${not(e.negated)}NULL`;
    case "in_list":
      return `${operand(e.operand)} ${not(e.negated)}IN (${e.list.map(printExpr).join(", ")})`;
    case "in_subquery":
      return `${operand(e.operand)} ${not(e.negated)}IN (${printSelect(e.query)})`;
    case "between":
      return `${operand(e.operand)} ${not(e.negated)}BETWEEN ${operand(e.low)} AND ${
        operand(e.high)
      }`;
    case "like":
      return `${operand(e.operand)} ${not(e.negated)}${e.caseInsensitive ? "ILIKE" : "LIKE"} ${
        operand(e.pattern)
      }${e.escape ? ` ESCAPE ${operand(e.escape)}` : ""}`;
    case "func": {
      const name = BARE_KEY.test(e.name) ? e.name : printName(e.name);
      return `${name}(${e.distinct ? "DISTINCT " : ""}${e.args.map(printExpr).join(", ")})`;
    }
    case "cast":
      return `CAST(${printExpr(e.operand)} AS ${printType(e.type)})`;
    case "case": {
      const parts = ["CASE"];
      if (e.operand) parts.push(printExpr(e.operand));
      for (const w of e.whens) parts.push(`WHEN ${printExpr(w.when)} THEN ${printExpr(w.then)}`);
      if (e.else) parts.push(`ELSE ${printExpr(e.else)}`);
      parts.push("END");
      return parts.join(" ");
    }
    case "subquery":
      return `(${printSelect(e.query)})`;
    case "exists":
      return `${not(e.negated)}EXISTS (${printSelect(e.query)})`;
    default:
      return assertNever(e, "expression");
  }
}

function printItems(items: readonly SelectItem[]): string {
  return items.map((i) =>
    i.alias !== undefined ? `${printExpr(i.expr)} AS ${printName(i.alias)}` : printExpr(i.expr)
  ).join(", ");
}

function printFrom(f: FromItem): string {
  switch (f.kind) {
    case "table_ref":
      return printTable(f.table) + (f.alias !== undefined ? ` AS ${printName(f.alias)}` : "");
    case "subquery_ref":
      return `(${printSelect(f.query)}) AS ${printName(f.alias)}`;
    case "join": {
      const right = f.right.kind === "join" ? `(${printFrom(f.right)})` : printFrom(f.right);
      const on = f.on ? ` ON ${printExpr(f.on)}` : "";
      return `${printFrom(f.left)} ${f.joinType} JOIN ${right}${on}`;
    }
    default:
      return assertNever(f, "FROM item");
  }
}

function printSelect(s: SelectStmt): string {
  let sql = `SELECT ${s.distinct ? "DISTINCT " : ""}${printItems(s.items)}`;
  if (s.from) sql += ` FROM ${printFrom(s.from)}`;
  if (s.where) sql += ` WHERE ${printExpr(s.where)}`;
  if (s.groupBy.length > 0) sql += ` GROUP BY ${s.groupBy.map(printExpr).join(", ")}`;
  if (s.having) sql += ` HAVING ${printExpr(s.having)}`;
  if (s.orderBy.length > 0) {
    const items = s.orderBy.map((o) =>
      printExpr(o.expr) + (o.desc ? " DESC" : "") + (o.nulls ? ` NULLS ${o.nulls}` : "")
    );
    sql += ` ORDER BY ${items.join(", ")}`;
  }
  if (s.limit) sql += ` LIMIT ${printExpr(s.limit)}`;
  if (s.offset) sql += ` OFFSET ${printExpr(s.offset)}`;
  return sql;
}

function printColumnDef(c: ColumnDef): string {
  let sql = `${printName(c.name)} ${printType(c.type)}`;
  if (c.notNull) sql += " NOT NULL";
  if (c.primaryKey) sql += " PRIMARY KEY";
  if (c.autoIncrement) sql += " AUTO_INCREMENT";
  if (c.default) sql += ` DEFAULT ${printExpr(c.default)}`;
  return sql;
}

function printKey(key: string): string {
  return BARE_KEY.test(key) ? key : printName(key);
}

function printValue(v: string | number | boolean): string {
  if (typeof v === "string") return printString(v);
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  // `1e309` parses to Infinity, which String() would print as a word that reads back as a name.
  if (!Number.isFinite(v)) return v > 0 ? "1e999" : "-1e999";
  return String(v);
}

function printOptions(options: readonly OptionItem[]): string {
  return `(${options.map((o) => `${printKey(o.key)} = ${printValue(o.value)}`).join(", ")})`;
}

function printSettings(settings: readonly OptionItem[]): string {
  return settings.map((o) => `${printKey(o.key)} ${printValue(o.value)}`).join(", ");
}

function printAlter(a: AlterTableAction): string {
  switch (a.action) {
    case "add_column":
      return `ADD COLUMN ${a.ifNotExists ? "IF NOT EXISTS " : ""}${printColumnDef(a.column)}`;
    case "drop_column":
      return `DROP COLUMN ${a.ifExists ? "IF EXISTS " : ""}${printName(a.column)}`;
    case "rename_column":
      return `RENAME COLUMN ${printName(a.from)} TO ${printName(a.to)}`;
    case "set_ttl":
      return `SET TTL ${a.seconds}`;
    case "set_storage":
      return `SET STORAGE ${printName(a.storageId)}`;
    case "set_access_level":
      return `SET ACCESS_LEVEL ${printString(a.level)}`;
    case "set_flush_policy":
      return `SET FLUSH_POLICY ${printString(a.policy)}`;
    default:
      return assertNever(a, "ALTER TABLE action");
  }
}

function printShow(w: ShowWhat): string {
  switch (w.what) {
    case "namespaces":
      return "NAMESPACES";
    case "tables":
      return w.namespace !== undefined ? `TABLES IN ${printName(w.namespace)}` : "TABLES";
    case "storages":
      return "STORAGES";
    case "users":
      return "USERS";
    case "live_queries":
      return "LIVE QUERIES";
    case "jobs":
      return "JOBS";
    case "exports":
      return "EXPORTS";
    case "topics":
      return w.namespace ? `TOPICS IN ${printName(w.namespace)}` : "TOPICS";
    case "stats":
      return `STATS FOR TABLE ${printTable(w.table)}`;
    default:
      return assertNever(w, "SHOW target");
  }
}

const ifNot = (b: boolean): string => b ? "IF NOT EXISTS " : "";
const ifEx = (b: boolean): string => b ? "IF EXISTS " : "";

/**
 * Prints a statement (without a trailing `;`) so that parsing it gives the same tree.
 *
 * @example
 * printStatement(parseBatch("select a from app.t where a>1")[0].statement);
 * // "SELECT a FROM app.t WHERE a > 1"
 */
export function printStatement(s: Statement): string {
  switch (s.kind) {
    case "select":
      return printSelect(s);
    case "insert": {
      const cols = s.columns.length > 0 ? ` (${s.columns.map(printName).join(", ")})` : "";
      const rows = s.rows.map((r) => `(${r.map(printExpr).join(", ")})`).join(", ");
      const ret = s.returning ? ` RETURNING ${printItems(s.returning)}` : "";
      return `INSERT INTO ${printTable(s.table)}${cols} VALUES ${rows}${ret}`;
    }
    case "update": {
      const set = s.set.map((a) => `${printName(a.column)} = ${printExpr(a.value)}`).join(", ");
      const where = s.where ? ` WHERE ${printExpr(s.where)}` : "";
      const ret = s.returning ? ` RETURNING ${printItems(s.returning)}` : "";
      return `UPDATE ${printTable(s.table)} SET ${set}${where}${ret}`;
    }
    case "delete": {
      const where = s.where ? ` WHERE ${printExpr(s.where)}` : "";
      const ret = s.returning ? ` RETURNING ${printItems(s.returning)}` : "";
      return `DELETE FROM ${printTable(s.table)}${where}${ret}`;
    }
    case "create_namespace":
      return `CREATE NAMESPACE ${ifNot(s.ifNotExists)}${printName(s.name)}`;
    case "drop_namespace":
      return `DROP NAMESPACE ${ifEx(s.ifExists)}${printName(s.name)}${s.cascade ? " CASCADE" : ""}`;
    case "create_table": {
      const parts = s.columns.map(printColumnDef);
      if (s.primaryKey) parts.push(`PRIMARY KEY (${s.primaryKey.map(printName).join(", ")})`);
      const prefix = s.typePrefix ? `${s.typePrefix} ` : "";
      const withOpts = s.options.length > 0 ? ` WITH ${printOptions(s.options)}` : "";
      return `CREATE ${prefix}TABLE ${ifNot(s.ifNotExists)}${printTable(s.table)} (${
        parts.join(", ")
      })${withOpts}`;
    }
    case "drop_table":
      return `DROP TABLE ${ifEx(s.ifExists)}${printTable(s.table)}`;
    case "alter_table":
      return `ALTER TABLE ${printTable(s.table)} ${printAlter(s.change)}`;
    case "create_storage": {
      const settings = s.settings.length > 0 ? ` ${printSettings(s.settings)}` : "";
      return `CREATE STORAGE ${ifNot(s.ifNotExists)}${printName(s.id)} TYPE ${
        printName(s.storageType)
      }${settings}`;
    }
    case "alter_storage":
      return `ALTER STORAGE ${printName(s.id)} SET ${printSettings(s.settings)}`;
    case "drop_storage":
      return `DROP STORAGE ${ifEx(s.ifExists)}${printName(s.id)}`;
    case "create_user": {
      const email = s.email !== undefined ? ` EMAIL ${printString(s.email)}` : "";
      return `CREATE USER ${ifNot(s.ifNotExists)}${printName(s.name)} WITH PASSWORD ${
        printString(s.password)
      } ROLE ${s.role}${email}`;
    }
    case "alter_user": {
      const c = s.change;
      const set = c.set === "password"
        ? `PASSWORD ${printString(c.password)}`
        : c.set === "role"
        ? `ROLE ${c.role}`
        : `EMAIL ${printString(c.email)}`;
      return `ALTER USER ${printName(s.name)} SET ${set}`;
    }
    case "drop_user":
      return `DROP USER ${ifEx(s.ifExists)}${printName(s.name)}`;
    case "execute_as":
      return `EXECUTE AS USER ${printString(s.user)} (${printStatement(s.statement)})`;
    case "show":
      return `SHOW ${printShow(s.target)}`;
    case "describe":
      return `DESCRIBE TABLE ${printTable(s.table)}`;
    case "flush":
      if (s.table) return `FLUSH TABLE ${printTable(s.table)}`;
      return `FLUSH ALL TABLES IN ${printName(s.namespace ?? "")}`;
    case "compact":
      return `COMPACT TABLE ${printTable(s.table)}`;
    case "kill":
      return `KILL ${s.target === "job" ? "JOB" : "LIVE QUERY"} ${printString(s.id)}`;
    case "export_user_data":
      return "EXPORT USER DATA";
    case "subscribe": {
      const from = s.query.from;
      if (from?.kind !== "table_ref") {
        throw new DbError("UNSUPPORTED", "SUBSCRIBE prints only SELECT * FROM one table");
      }
      const where = s.query.where ? ` WHERE ${printExpr(s.query.where)}` : "";
      const opts = s.options.length > 0 ? ` OPTIONS ${printOptions(s.options)}` : "";
      return `SUBSCRIBE TO ${printTable(from.table)}${where}${opts}`;
    }
    case "create_topic": {
      const parts = s.partitions !== undefined ? ` PARTITIONS ${s.partitions}` : "";
      const withOpts = s.options.length > 0 ? ` WITH ${printOptions(s.options)}` : "";
      return `CREATE TOPIC ${ifNot(s.ifNotExists)}${printTable(s.topic)}${parts}${withOpts}`;
    }
    case "drop_topic":
      return `DROP TOPIC ${ifEx(s.ifExists)}${printTable(s.topic)}`;
    case "clear_topic":
      return `CLEAR TOPIC ${printTable(s.topic)}`;
    case "alter_topic": {
      const c = s.change;
      if (c.action === "drop_source") {
        return `ALTER TOPIC ${printTable(s.topic)} DROP SOURCE ${printTable(c.table)}`;
      }
      const where = c.where ? ` WHERE ${printExpr(c.where)}` : "";
      const withOpts = c.options.length > 0 ? ` WITH ${printOptions(c.options)}` : "";
      return `ALTER TOPIC ${printTable(s.topic)} ADD SOURCE ${printTable(c.table)} ON ${
        c.ops.map((o) => o.toUpperCase()).join(", ")
      }${where}${withOpts}`;
    }
    case "publish": {
      const key = s.key ? ` KEY ${printExpr(s.key)}` : "";
      const id = s.messageId ? ` MESSAGE_ID ${printExpr(s.messageId)}` : "";
      return `PUBLISH TO ${printTable(s.topic)}${key}${id} PAYLOAD ${printExpr(s.payload)}`;
    }
    case "consume": {
      const consumer = s.consumer !== undefined ? ` CONSUMER ${printString(s.consumer)}` : "";
      const from = s.from === undefined
        ? ""
        : ` FROM ${typeof s.from === "number" ? s.from : s.from.toUpperCase()}`;
      const limit = s.limit !== undefined ? ` LIMIT ${s.limit}` : "";
      const wait = s.waitMs !== undefined ? ` WAIT ${s.waitMs}` : "";
      return `CONSUME FROM ${printTable(s.topic)} GROUP ${
        printString(s.group)
      }${consumer}${from}${limit}${wait}`;
    }
    case "ack": {
      const offsets = s.offsets.map(([p, o]) => `${p}:${o}`).join(", ");
      const delay = s.delaySeconds !== undefined ? ` DELAY ${s.delaySeconds}` : "";
      const consumer = s.consumer !== undefined ? ` CONSUMER ${printString(s.consumer)}` : "";
      return `${s.nack ? "NACK" : "ACK"} ${printTable(s.topic)} GROUP ${
        printString(s.group)
      }${consumer} OFFSETS ${
        s.offsetsParam !== undefined ? `$${s.offsetsParam}` : `(${offsets})`
      }${delay}`;
    }
    default:
      return assertNever(s, "statement");
  }
}
