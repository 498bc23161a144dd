// DDL: namespaces, tables (CREATE with column definitions and WITH options, DROP, ALTER) and
// storages. Each parser starts after the leading CREATE/DROP/ALTER, whose token it gets for the
// span. Name rules (reserved namespaces, `_` columns) are checked here so they carry positions.

import type {
  AlterStorageStmt,
  AlterTableAction,
  AlterTableStmt,
  ColumnDef,
  CreateNamespaceStmt,
  CreateStorageStmt,
  CreateTableStmt,
  DropNamespaceStmt,
  DropStorageStmt,
  DropTableStmt,
  OptionItem,
  TableType,
} from "../ast.ts";
import type { Token } from "../_lexer.ts";
import type { Parser } from "./_parser.ts";
import { parseExpr, parseTypeName } from "./expr.ts";

/** Namespaces that exist implicitly and can never be created by users. */
export const RESERVED_NAMESPACES: ReadonlySet<string> = new Set([
  "system",
  "default",
  "information_schema",
]);

/** `CREATE NAMESPACE [IF NOT EXISTS] name` (after CREATE). */
export function parseCreateNamespace(p: Parser, first: Token): CreateNamespaceStmt {
  p.expect("NAMESPACE");
  const ifNotExists = p.acceptAll("IF", "NOT", "EXISTS");
  const t = p.peek();
  const name = p.namespace();
  if (RESERVED_NAMESPACES.has(name.toLowerCase())) {
    p.fail(`Namespace name "${name}" is reserved`, t);
  }
  return { kind: "create_namespace", name, ifNotExists, span: p.spanFrom(first) };
}

/** `DROP NAMESPACE [IF EXISTS] name [CASCADE]` (after DROP). */
export function parseDropNamespace(p: Parser, first: Token): DropNamespaceStmt {
  p.expect("NAMESPACE");
  const ifExists = p.acceptAll("IF", "EXISTS");
  const name = p.namespace();
  const cascade = p.accept("CASCADE");
  if (!cascade) p.accept("RESTRICT");
  return { kind: "drop_namespace", name, ifExists, cascade, span: p.spanFrom(first) };
}

/** A user column name: `_` prefixes belong to system columns. */
function columnName(p: Parser): string {
  const t = p.peek();
  const name = p.objectName("column");
  if (name.startsWith("_")) {
    p.fail(`Column name "${name}" is not allowed: names starting with _ are reserved`, t);
  }
  return name;
}

/** `name type [NOT NULL | NULL | PRIMARY KEY | DEFAULT expr | AUTO_INCREMENT]…`. */
export function parseColumnDef(p: Parser): ColumnDef {
  const first = p.peek();
  const name = columnName(p);
  const { type, autoIncrement: serial } = parseTypeName(p);
  let notNull = false;
  let primaryKey = false;
  let autoIncrement = serial;
  let defaultExpr;
  while (true) {
    if (p.acceptAll("NOT", "NULL")) notNull = true;
    else if (p.accept("NULL")) notNull = false;
    else if (p.acceptAll("PRIMARY", "KEY")) primaryKey = true;
    else if (p.accept("AUTO_INCREMENT") || p.accept("AUTOINCREMENT")) autoIncrement = true;
    else if (p.at("DEFAULT")) {
      if (defaultExpr) p.fail("DEFAULT given twice");
      p.next();
      const from = p.pos;
      defaultExpr = parseExpr(p);
      // Every INSERT evaluates the DEFAULT afresh, with that INSERT's own parameters.
      const param = p.tokens.slice(from, p.pos).find((t) => t.kind === "param");
      if (param) p.fail(`A DEFAULT cannot use a parameter ($${param.value})`, param);
    } else if (p.at("UNIQUE") || p.at("REFERENCES") || p.at("CHECK")) {
      p.fail(`Column constraint ${p.peek().upper} is not supported`, p.peek(), "UNSUPPORTED");
    } else break;
  }
  return {
    name,
    // Auto-increment values are Snowflake ids, which only fit a BIGINT.
    type: autoIncrement && (type.base === "INT" || type.base === "SMALLINT")
      ? { base: "BIGINT" }
      : type,
    notNull,
    primaryKey,
    ...(defaultExpr ? { default: defaultExpr } : {}),
    autoIncrement,
    span: p.spanFrom(first),
  };
}

/** `(KEY = value, …)`: keys upper-cased; values are strings, numbers, booleans or bare words. */
export function parseOptionList(p: Parser): OptionItem[] {
  p.expectOp("(");
  const items: OptionItem[] = [];
  if (p.acceptOp(")")) return items;
  do {
    const first = p.peek();
    const key = p.name("an option name").toUpperCase();
    p.expectOp("=");
    items.push({ key, value: optionValue(p), span: p.spanFrom(first) });
  } while (p.acceptOp(","));
  p.expectOp(")");
  return items;
}

/** A string, a (signed) number, TRUE/FALSE, or a bare word kept as written. */
function optionValue(p: Parser): string | number | boolean {
  const t = p.peek();
  if (t.kind === "string") {
    p.next();
    return t.value;
  }
  const negative = p.atOp("-") && p.raw(1).kind === "number";
  if (negative) p.next();
  const num = p.peek();
  if (num.kind === "number") {
    p.next();
    return negative ? -Number(num.value) : Number(num.value);
  }
  if (t.kind === "ident") {
    p.next();
    if (!t.quoted && (t.upper === "TRUE" || t.upper === "FALSE")) return t.upper === "TRUE";
    return t.quoted ? t.value : p.text.slice(t.start, t.end);
  }
  return p.failExpected("an option value");
}

/** `CREATE [USER|SHARED|STREAM] TABLE [IF NOT EXISTS] ns.t (…) [WITH (…)]` (after CREATE). */
export function parseCreateTable(p: Parser, first: Token): CreateTableStmt {
  let typePrefix: TableType | undefined;
  for (const prefix of ["USER", "SHARED", "STREAM"] as const) {
    if (p.accept(prefix)) typePrefix = prefix;
  }
  p.expect("TABLE");
  const ifNotExists = p.acceptAll("IF", "NOT", "EXISTS");
  const table = p.tableName(true);
  p.expectOp("(");
  const columns: ColumnDef[] = [];
  let primaryKey: string[] | undefined;
  do {
    if (p.at("PRIMARY") && p.at("KEY", 1)) {
      const pk = p.peek();
      if (primaryKey) p.fail("PRIMARY KEY given twice", pk);
      p.next();
      p.next();
      p.expectOp("(");
      primaryKey = [];
      do primaryKey.push(p.name("a column name")); while (p.acceptOp(","));
      p.expectOp(")");
    } else {
      columns.push(parseColumnDef(p));
    }
  } while (p.acceptOp(","));
  p.expectOp(")");
  const options = p.accept("WITH") ? parseOptionList(p) : [];
  return {
    kind: "create_table",
    table,
    ...(typePrefix ? { typePrefix } : {}),
    ifNotExists,
    columns,
    ...(primaryKey ? { primaryKey } : {}),
    options,
    span: p.spanFrom(first),
  };
}

/** `DROP TABLE [IF EXISTS] ns.t` (after DROP). */
export function parseDropTable(p: Parser, first: Token): DropTableStmt {
  p.expect("TABLE");
  const ifExists = p.acceptAll("IF", "EXISTS");
  const table = p.tableName();
  return { kind: "drop_table", table, ifExists, span: p.spanFrom(first) };
}

/** `ALTER TABLE ns.t ADD|DROP|RENAME|SET …` (after ALTER). */
export function parseAlterTable(p: Parser, first: Token): AlterTableStmt {
  p.expect("TABLE");
  const table = p.tableName();
  const change = parseAlterAction(p);
  return { kind: "alter_table", table, change, span: p.spanFrom(first) };
}

function parseAlterAction(p: Parser): AlterTableAction {
  if (p.accept("ADD")) {
    p.accept("COLUMN");
    const ifNotExists = p.acceptAll("IF", "NOT", "EXISTS");
    return { action: "add_column", column: parseColumnDef(p), ifNotExists };
  }
  if (p.accept("DROP")) {
    p.accept("COLUMN");
    const ifExists = p.acceptAll("IF", "EXISTS");
    return { action: "drop_column", column: p.name("a column name"), ifExists };
  }
  if (p.accept("RENAME")) {
    p.expect("COLUMN");
    const from = p.name("a column name");
    p.expect("TO");
    return { action: "rename_column", from, to: columnName(p) };
  }
  if (p.accept("SET")) {
    const t = p.peek();
    const what = t.kind === "ident" && !t.quoted ? t.upper : "";
    p.next();
    p.acceptOp("=");
    switch (what) {
      case "TTL":
      case "TTL_SECONDS":
        return { action: "set_ttl", seconds: p.integer("a number of seconds") };
      case "STORAGE":
      case "STORAGE_ID":
        return { action: "set_storage", storageId: p.nameOrString("a storage id") };
      case "ACCESS_LEVEL": {
        const level = p.peek().kind === "ident" && !p.peek().quoted
          ? p.next().upper
          : p.nameOrString("an access level").toUpperCase();
        return { action: "set_access_level", level };
      }
      case "FLUSH_POLICY":
        return { action: "set_flush_policy", policy: p.string("a flush policy string") };
    }
    p.fail(
      `Expected TTL, STORAGE, ACCESS_LEVEL or FLUSH_POLICY after SET but found ${
        t.kind === "ident" ? t.value : "something else"
      }`,
      t,
    );
  }
  return p.failExpected("ADD, DROP, RENAME or SET");
}

/** `KEY 'value'` pairs (optionally `KEY = 'value'`, `SET KEY 'value'`, commas) until the end. */
function parseSettings(p: Parser, allowSet: boolean): OptionItem[] {
  const items: OptionItem[] = [];
  while (true) {
    if (allowSet) p.accept("SET");
    const first = p.peek();
    if (first.kind !== "ident") break;
    const key = p.name("a setting name").toUpperCase();
    p.acceptOp("=");
    const v = p.peek();
    if (v.kind !== "string" && v.kind !== "number") p.failExpected(`a value for ${key}`);
    p.next();
    items.push({
      key,
      value: v.kind === "string" ? v.value : Number(v.value),
      span: p.spanFrom(first),
    });
    p.acceptOp(",");
  }
  return items;
}

/** `CREATE STORAGE [IF NOT EXISTS] id TYPE filesystem|s3 KEY 'value' …` (after CREATE). */
export function parseCreateStorage(p: Parser, first: Token): CreateStorageStmt {
  p.expect("STORAGE");
  const ifNotExists = p.acceptAll("IF", "NOT", "EXISTS");
  const id = p.nameOrString("a storage id");
  p.expect("TYPE");
  const typeTok = p.peek();
  const storageType = p.nameOrString("a storage type (filesystem or s3)").toLowerCase();
  if (storageType !== "filesystem" && storageType !== "s3") {
    p.fail(`Unknown storage type "${storageType}": use filesystem or s3`, typeTok);
  }
  const settings = parseSettings(p, false);
  return {
    kind: "create_storage",
    id,
    ifNotExists,
    storageType,
    settings,
    span: p.spanFrom(first),
  };
}

/** `ALTER STORAGE id [SET] KEY 'value' …` (after ALTER). */
export function parseAlterStorage(p: Parser, first: Token): AlterStorageStmt {
  p.expect("STORAGE");
  const id = p.nameOrString("a storage id");
  const settings = parseSettings(p, true);
  if (settings.length === 0) p.failExpected("a setting (e.g. PATH '…')");
  return { kind: "alter_storage", id, settings, span: p.spanFrom(first) };
}

/** `DROP STORAGE [IF EXISTS] id` (after DROP). */
export function parseDropStorage(p: Parser, first: Token): DropStorageStmt {
  p.expect("STORAGE");
  const ifExists = p.acceptAll("IF", "EXISTS");
  const id = p.nameOrString("a storage id");
  return { kind: "drop_storage", id, ifExists, span: p.spanFrom(first) };
}
