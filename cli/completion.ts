// What the shell knows about the text being typed: a scanner that tracks quotes and comments
// (so a `;` inside `'…'`, `"…"`, `--` or `/* */` neither ends a statement nor gets completed),
// statement completeness for multi-line input, and Tab completion as a pure function of the text
// and a catalog snapshot. Decision: completion looks only at the last keyword before the word
// (FROM/JOIN/INTO/UPDATE/TABLE/TO → tables, IN/NAMESPACE → namespaces), not at a grammar — a
// wrong guess costs one Tab, and the lists stay the ones a user expects from psql.

import type { BatchResult } from "../storage/mod.ts";

/** What the scanner is inside of at the end of the text. */
export type ScanState = "code" | "string" | "ident" | "line_comment" | "block_comment";

/** The state at the end of `text`, and where the last top-level `;` ends (-1 when none). */
export function scanSql(text: string): { state: ScanState; lastSemicolon: number } {
  let state: ScanState = "code";
  let lastSemicolon = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    switch (state) {
      case "code":
        if (c === "'") state = "string";
        else if (c === '"') state = "ident";
        else if (c === "-" && text[i + 1] === "-") (state = "line_comment"), i++;
        else if (c === "/" && text[i + 1] === "*") (state = "block_comment"), i++;
        else if (c === ";") lastSemicolon = i;
        break;
      case "string": // `''` inside a string is a quote: leaving and re-entering gives the same state
        if (c === "'") state = "code";
        break;
      case "ident":
        if (c === '"') state = "code";
        break;
      case "line_comment":
        if (c === "\n") state = "code";
        break;
      case "block_comment":
        if (c === "*" && text[i + 1] === "/") (state = "code"), i++;
        break;
    }
  }
  return { state, lastSemicolon };
}

/**
 * Splits typed input into the part ready to run (up to and including the last `;` outside quotes
 * and comments) and the rest still being typed (empty when only blanks or comments follow).
 *
 * @example
 * takeComplete("SELECT 1; SELECT"); // { ready: "SELECT 1;", rest: "SELECT" }
 */
export function takeComplete(input: string): { ready?: string; rest: string } {
  const { lastSemicolon } = scanSql(input);
  if (lastSemicolon < 0) return { rest: input };
  const rest = input.slice(lastSemicolon + 1);
  return { ready: input.slice(0, lastSemicolon + 1), rest: isBlank(rest) ? "" : rest.trimStart() };
}

/** True when `text` holds only whitespace and complete comments. */
export function isBlank(text: string): boolean {
  return stripComments(text).trim() === "" && scanSql(text).state !== "block_comment";
}

/** `text` without comments outside quotes (each comment becomes one space). */
export function stripComments(text: string): string {
  let out = "";
  let state: ScanState = "code";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (state === "line_comment") {
      if (c === "\n") (state = "code"), (out += c);
    } else if (state === "block_comment") {
      if (c === "*" && text[i + 1] === "/") (state = "code"), i++, (out += " ");
    } else if (state === "code" && c === "-" && text[i + 1] === "-") (state = "line_comment"), i++;
    else if (state === "code" && c === "/" && text[i + 1] === "*") (state = "block_comment"), i++;
    else {
      out += c;
      if (state === "code" && (c === "'" || c === '"')) state = c === "'" ? "string" : "ident";
      else if ((state === "string" && c === "'") || (state === "ident" && c === '"')) {
        state = "code";
      }
    }
  }
  return out;
}

/** A table's columns as the completer and `\subscribe` use them. */
export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
}

/** What completion can offer beyond keywords; `columns` holds only the tables fetched so far. */
export interface CatalogSnapshot {
  readonly namespaces: readonly string[];
  /** `ns.table` names. */
  readonly tables: readonly string[];
  readonly columns: ReadonlyMap<string, readonly ColumnInfo[]>;
}

export const EMPTY_CATALOG: CatalogSnapshot = { namespaces: [], tables: [], columns: new Map() };

/** Words completed at the start of a statement and anywhere in it. */
// deno-fmt-ignore
export const KEYWORDS: readonly string[] = [
  "ACCESS_LEVEL", "ACK", "ADD", "ALL", "ALTER", "AND", "AS", "ASC", "BETWEEN", "BIGINT", "BOOLEAN",
  "BY", "BYTES", "CASCADE", "CLEAR", "COLUMN", "COMPACT", "CONSUME", "CONSUMER", "COUNT", "CREATE",
  "CREDENTIALS", "DATE", "DEAD_LETTER", "DECIMAL", "DEFAULT", "DELAY", "DELETE", "DESC",
  "DESCRIBE", "DISTINCT", "DOUBLE", "DROP", "EARLIEST", "EMAIL", "EXECUTE", "EXISTS", "EXPORT",
  "FALSE", "FIRST", "FLUSH", "FLUSH_POLICY", "FOR", "FROM", "GROUP", "HAVING", "IF", "ILIKE",
  "IN", "INNER", "INSERT", "INT", "INTO", "IS", "JOB", "JOBS", "JOIN", "JSON", "KEY", "KILL",
  "LAST", "LATEST", "LEFT", "LIKE", "LIMIT", "LIVE", "MAX_DELIVERIES", "MESSAGE_ID", "NACK",
  "NAMESPACE", "NAMESPACES", "NOT", "NULL", "NULLS", "OFFSET", "OFFSETS", "ON", "OPTIONS", "OR",
  "ORDER", "PARTITIONS", "PASSWORD", "PATH", "PAYLOAD", "PRIMARY", "PUBLISH", "QUERIES", "QUERY",
  "REAL", "RENAME", "RETENTION_SECONDS", "RETURNING", "ROLE", "SELECT", "SET", "SHARED", "SHOW",
  "SMALLINT", "SOURCE", "STATS", "STORAGE", "STORAGES", "STREAM", "SUBSCRIBE", "TABLE", "TABLES",
  "TEXT", "TIMESTAMP", "TO", "TOPIC", "TOPICS", "TRUE", "TTL", "TYPE", "UPDATE", "USER", "USERS",
  "UUID", "VALUES", "VISIBILITY_TIMEOUT_SECONDS", "WAIT", "WHERE", "WITH",
];

/** Meta-command names (see cli/meta.ts), completed when the line starts with `\`. */
export type MetaNames = readonly string[];

const TABLE_AFTER = new Set(["FROM", "JOIN", "INTO", "UPDATE", "TABLE", "TO", "DESCRIBE"]);
const NAMESPACE_AFTER = new Set(["IN", "NAMESPACE"]);
const META_TABLE_ARG = new Set(["\\d", "\\dt", "\\flush", "\\stats"]);
const WORD = /[A-Za-z0-9_.\\]*$/;
const TABLE_MENTION = /\b([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\b/g;

/**
 * Tab completion in readline's shape: the candidates for the word before the cursor and that
 * word. `before` is the statement text up to the cursor (earlier lines included); `whole` the
 * whole statement typed so far (tables named after the cursor count for column names).
 *
 * @example
 * complete("SELECT * FROM ap", catalog, META); // [["app."], "ap"]
 */
export function complete(
  before: string,
  catalog: CatalogSnapshot,
  metaNames: MetaNames,
  whole = before,
): [string[], string] {
  const word = WORD.exec(before)?.[0] ?? "";
  const head = before.slice(0, before.length - word.length);
  if (scanSql(head).state !== "code") return [[], word];
  const trimmed = head.trimStart();
  if (trimmed === "" && word.startsWith("\\")) return [matching(metaNames, word), word];
  if (trimmed.startsWith("\\")) return [metaArgument(trimmed, word, catalog), word];
  const previous = lastWord(stripComments(head));
  if (TABLE_AFTER.has(previous)) return [tableNames(word, catalog), word];
  if (NAMESPACE_AFTER.has(previous)) return [matching(catalog.namespaces, word), word];
  if (word.includes(".")) return [dotted(word, catalog), word];
  // Columns of the tables the statement names win; keywords when no column fits the word.
  const columns = mentionedTables(whole, catalog).flatMap((t) => catalog.columns.get(t) ?? [])
    .map((c) => c.name);
  const fitting = word === "" ? [] : unique(matching(columns, word));
  if (fitting.length > 0) return [fitting, word];
  return [matching(KEYWORDS, word.toUpperCase()).map((k) => inCaseOf(word, k)), word];
}

/** Tables named `ns.t` anywhere in `text` that the catalog knows. */
export function mentionedTables(text: string, catalog: CatalogSnapshot): string[] {
  const known = new Set(catalog.tables);
  const found: string[] = [];
  for (const m of stripComments(text).matchAll(TABLE_MENTION)) {
    const name = `${m[1]}.${m[2]}`;
    if (known.has(name) && !found.includes(name)) found.push(name);
  }
  return found;
}

function metaArgument(line: string, word: string, catalog: CatalogSnapshot): string[] {
  const [command, ...args] = line.trim().split(/\s+/);
  if (args.length > 0) return [];
  if (META_TABLE_ARG.has(command)) return tableNames(word, catalog);
  if (command === "\\format") return matching(["table", "json", "csv"], word);
  if (command === "\\timing") return matching(["on", "off"], word);
  if (command === "\\subscribe") return matching(["SELECT"], word.toUpperCase());
  return [];
}

/** `ns.` completes to tables of ns; a bare word to namespaces (with the dot) and tables. */
function tableNames(word: string, catalog: CatalogSnapshot): string[] {
  if (word.includes(".")) return matching(catalog.tables, word);
  return unique([...catalog.namespaces.map((n) => `${n}.`), ...catalog.tables])
    .filter((n) => n.startsWith(word));
}

/** `ns.t` → tables; `ns.t.c` → that table's columns. */
function dotted(word: string, catalog: CatalogSnapshot): string[] {
  const parts = word.split(".");
  if (parts.length === 2) return matching(catalog.tables, word);
  const table = `${parts[0]}.${parts[1]}`;
  return matching((catalog.columns.get(table) ?? []).map((c) => `${table}.${c.name}`), word);
}

function lastWord(text: string): string {
  const m = /([A-Za-z_]+)[\s(]*$/.exec(text);
  return m ? m[1].toUpperCase() : "";
}

function matching(list: readonly string[], prefix: string): string[] {
  return list.filter((x) => x.startsWith(prefix) && x !== prefix);
}

/** Keywords follow the case the user typed in: `sel` → `select`, `SEL` or `` → `SELECT`. */
function inCaseOf(word: string, keyword: string): string {
  return /[a-z]/.test(word) && !/[A-Z]/.test(word) ? keyword.toLowerCase() : keyword;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/** Runs one statement for the catalog: the session's execute. */
export type CatalogQuery = (sql: string) => Promise<BatchResult>;

/**
 * The catalog behind completion, fetched through the session with statements every role may run
 * (SHOW NAMESPACES, SHOW TABLES and DESCRIBE TABLE list only what the caller may read). Columns
 * are fetched per table the first time a statement names it. A failing fetch leaves the list
 * empty: completion then offers keywords only.
 */
export class Catalog {
  #query: CatalogQuery;
  #snapshot: CatalogSnapshot = EMPTY_CATALOG;
  #columns = new Map<string, readonly ColumnInfo[]>();
  #loading?: Promise<void>;

  constructor(query: CatalogQuery) {
    this.#query = query;
  }

  get snapshot(): CatalogSnapshot {
    return this.#snapshot;
  }

  /** Forgets everything and fetches namespaces and tables again (after DDL). */
  refresh(): Promise<void> {
    this.#columns = new Map();
    const loading = this.#load();
    this.#loading = loading;
    return loading;
  }

  /** The snapshot once the pending refresh and the columns of the tables in `text` are in. */
  async forText(text: string): Promise<CatalogSnapshot> {
    await (this.#loading ??= this.#load());
    const missing = mentionedTables(text, this.#snapshot).filter((t) => !this.#columns.has(t));
    await Promise.all(missing.map((t) => this.columnsOf(t)));
    return this.#snapshot;
  }

  /** A table's columns (cached); empty when DESCRIBE fails. */
  async columnsOf(table: string): Promise<readonly ColumnInfo[]> {
    const hit = this.#columns.get(table);
    if (hit) return hit;
    const rows = await this.#rows(`DESCRIBE TABLE ${table}`, ["column_name", "data_type"]);
    const columns = rows.map(([name, type]) => ({ name, type }));
    this.#columns.set(table, columns);
    this.#snapshot = { ...this.#snapshot, columns: this.#columns };
    return columns;
  }

  async #load(): Promise<void> {
    const [namespaces, tables] = await Promise.all([
      this.#rows("SHOW NAMESPACES", ["name"]),
      this.#rows("SHOW TABLES", ["namespace", "table_name"]),
    ]);
    this.#snapshot = {
      namespaces: namespaces.map(([n]) => n).sort(),
      tables: tables.map(([ns, t]) => `${ns}.${t}`).sort(),
      columns: this.#columns,
    };
  }

  /** The named columns of a statement's rows, as text; [] on any error. */
  async #rows(sql: string, names: readonly string[]): Promise<string[][]> {
    try {
      const r = (await this.#query(sql)).results[0];
      const at = names.map((n) => r?.schema?.findIndex((c) => c.name === n) ?? -1);
      if (!r?.rows || at.some((i) => i < 0)) return [];
      return r.rows.map((row) => at.map((i) => String(row[i])));
    } catch {
      return [];
    }
  }
}
