// The shell's meta-commands (SPEC §7): `\help`, `\q`, `\dn`, `\dt`, `\d`, `\session`, `\live`,
// `\kill`, `\subscribe`, `\jobs`, `\flush`, `\stats`, `\format`, `\timing`, `\export`. Each is
// planned here as a pure value — SQL to run, a subscription, text to print or a setting — and the
// shell carries it out, so meta-commands print through the same path as typed SQL. Also here:
// turning `SUBSCRIBE TO …` into the SELECT it streams, and the lines a subscription prints.
// Decision: meta-commands build SQL only from validated names (`ns.t`, identifiers), never by
// pasting arbitrary text into a statement; live ids are quoted as SQL strings.

import type { OutputFormat } from "./args.ts";
import type { LiveEvent, SessionInfo } from "./session.ts";
import type { StatementResult } from "../storage/mod.ts";
import { parseSql, printStatement } from "../sql/mod.ts";

/** A meta-command line split into its name and arguments (a trailing `;` dropped). */
export interface MetaCommand {
  readonly name: string;
  readonly args: readonly string[];
  /** Everything after the name, trimmed (what `\subscribe` runs). */
  readonly rest: string;
}

/** What the shell does for a meta-command. */
export type MetaAction =
  | { readonly kind: "sql"; readonly sql: string }
  | { readonly kind: "subscribe"; readonly sql: string; readonly lastRows?: number }
  | { readonly kind: "print"; readonly text: string }
  | { readonly kind: "error"; readonly text: string }
  | { readonly kind: "session" }
  | { readonly kind: "quit" }
  | { readonly kind: "format"; readonly format: OutputFormat }
  | { readonly kind: "timing"; readonly on: boolean }
  | { readonly kind: "export"; readonly output?: string }
  | {
    readonly kind: "consume";
    readonly topic: string;
    readonly group: string;
    readonly ack: boolean;
  };

/** Settings meta-commands read (`\format` without an argument shows the current one). */
export interface MetaState {
  readonly format: OutputFormat;
  readonly timing: boolean;
}

interface Spec {
  readonly name: string;
  readonly usage: string;
  readonly help: string;
  plan(cmd: MetaCommand, state: MetaState): MetaAction;
}

const NAME = String.raw`(?:[A-Za-z_][A-Za-z0-9_]*|"[^"]+")`;
const TABLE = new RegExp(`^${NAME}\\.${NAME}$`);
const NAMESPACE = new RegExp(`^${NAME}$`);
const FORMATS: readonly OutputFormat[] = ["table", "json", "csv"];
const JOBS_SQL = "SELECT job_id, job_type, status, namespace, table_name, took_ms, created_at, " +
  "message FROM system.jobs ORDER BY created_at DESC LIMIT 20";

const SPECS: readonly Spec[] = [
  spec("\\help", "\\help", "this list", () => ({ kind: "print", text: helpText() })),
  spec("\\q", "\\q", "quit (also Ctrl-D)", () => ({ kind: "quit" })),
  spec("\\dn", "\\dn", "list namespaces", () => ({ kind: "sql", sql: "SHOW NAMESPACES" })),
  spec("\\dt", "\\dt [ns]", "list tables (of one namespace)", (c) => {
    if (c.args.length === 0) return { kind: "sql", sql: "SHOW TABLES" };
    return namespaceArg(c, (ns) => `SHOW TABLES IN ${ns}`);
  }),
  spec("\\d", "\\d ns.table", "describe a table's columns (no argument: \\dt)", (c) => {
    if (c.args.length === 0) return { kind: "sql", sql: "SHOW TABLES" };
    return tableArg(c, (t) => `DESCRIBE TABLE ${t}`);
  }),
  spec("\\session", "\\session", "where you are connected and as whom", () => ({
    kind: "session",
  })),
  spec("\\live", "\\live", "live queries (yours; all for dba/system)", () => ({
    kind: "sql",
    sql: "SHOW LIVE QUERIES",
  })),
  spec("\\kill", "\\kill live_id", "end a live query", (c) => {
    if (c.args.length !== 1) return usage(c);
    return { kind: "sql", sql: `KILL LIVE QUERY ${quote(c.args[0])}` };
  }),
  spec("\\subscribe", "\\subscribe SELECT …", "stream a query's changes until Ctrl-C", (c) => {
    if (!/^select\b/i.test(c.rest)) return usage(c);
    return { kind: "subscribe", sql: c.rest };
  }),
  spec(
    "\\jobs",
    "\\jobs",
    "the latest 20 jobs (dba/system)",
    () => ({ kind: "sql", sql: JOBS_SQL }),
  ),
  spec("\\flush", "\\flush ns.table | ns", "flush a table (or a namespace) to Parquet", (c) => {
    if (c.args.length === 1 && NAMESPACE.test(c.args[0])) {
      return { kind: "sql", sql: `FLUSH ALL TABLES IN ${c.args[0]}` };
    }
    return tableArg(c, (t) => `FLUSH TABLE ${t}`);
  }),
  spec(
    "\\stats",
    "\\stats ns.table",
    "row counts: buffered vs flushed, segments, bytes",
    (c) => tableArg(c, (t) => `SHOW STATS FOR TABLE ${t}`),
  ),
  spec("\\format", "\\format [table|json|csv]", "output format", (c, state) => {
    if (c.args.length === 0) return { kind: "print", text: `Output format is ${state.format}.` };
    const f = c.args[0].toLowerCase() as OutputFormat;
    if (c.args.length !== 1 || !FORMATS.includes(f)) return usage(c);
    return { kind: "format", format: f };
  }),
  spec("\\timing", "\\timing [on|off]", "show or hide the Took: lines (on by default)", (c, s) => {
    const arg = c.args[0]?.toLowerCase();
    if (c.args.length > 1 || (arg !== undefined && arg !== "on" && arg !== "off")) return usage(c);
    return { kind: "timing", on: arg === undefined ? !s.timing : arg === "on" };
  }),
  spec(
    "\\consume",
    "\\consume ns.topic [group] [--no-ack]",
    "print a topic's messages until Ctrl-C (acked, unless --no-ack)",
    (c) => {
      const args = c.args.filter((a) => a !== "--no-ack");
      if (args.length < 1 || args.length > 2 || !TABLE.test(args[0])) return usage(c);
      return {
        kind: "consume",
        topic: args[0],
        group: args[1] ?? "shell",
        ack: !c.args.includes("--no-ack"),
      };
    },
  ),
  spec("\\export", "\\export [-o file]", "export your data as a zip", (c) => {
    if (c.args.length === 0) return { kind: "export" };
    if (c.args.length === 2 && c.args[0] === "-o") return { kind: "export", output: c.args[1] };
    return usage(c);
  }),
];

const ALIASES: Readonly<Record<string, string>> = {
  "\\?": "\\help",
  "\\h": "\\help",
  "\\quit": "\\q",
  "\\exit": "\\q",
  "\\conninfo": "\\session",
};

/** Every meta-command name, for completion. */
export const META_NAMES: readonly string[] = SPECS.map((s) => s.name);

/**
 * Splits a meta-command line.
 *
 * @example
 * parseMeta("\\d app.todos;"); // { name: "\\d", args: ["app.todos"], rest: "app.todos" }
 */
export function parseMeta(line: string): MetaCommand {
  const text = line.trim().replace(/;+\s*$/, "");
  const m = /^(\\[^\s]*)\s*(.*)$/s.exec(text);
  const name = m?.[1] ?? text;
  const rest = (m?.[2] ?? "").trim();
  return { name, args: rest === "" ? [] : rest.split(/\s+/), rest };
}

/** What to do for a meta-command line; unknown names get a suggestion. */
export function planMeta(line: string, state: MetaState): MetaAction {
  const cmd = parseMeta(line);
  const name = ALIASES[cmd.name] ?? cmd.name;
  const found = SPECS.find((s) => s.name === name);
  if (found) return found.plan({ ...cmd, name }, state);
  const close = suggest(cmd.name);
  return {
    kind: "error",
    text: `Unknown command ${cmd.name} — try \\help${close ? ` (did you mean ${close}?)` : ""}`,
  };
}

/** The `\help` text: one line per meta-command, then the keys. */
export function helpText(): string {
  const width = Math.max(...SPECS.map((s) => s.usage.length));
  return [
    "Meta-commands:",
    ...SPECS.map((s) => `  ${s.usage.padEnd(width)}  ${s.help}`),
    "",
    "SQL statements end with `;` and may span lines. SUBSCRIBE TO ns.t [WHERE …] streams like",
    "\\subscribe. Tab completes keywords, names and columns; Up/Down walk the history.",
    "Ctrl-C clears the input or cancels what runs; Ctrl-D exits.",
  ].join("\n");
}

/** The closest meta-command name within two edits, if any. */
export function suggest(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of [...META_NAMES, ...Object.keys(ALIASES)]) {
    const d = distance(name, candidate);
    if (d < bestDistance) (best = ALIASES[candidate] ?? candidate), (bestDistance = d);
  }
  return best;
}

/**
 * The SELECT that a single `SUBSCRIBE TO …` statement streams, with its `last_rows` option;
 * undefined when `sql` is not exactly one SUBSCRIBE TO statement.
 *
 * @example
 * subscription("SUBSCRIBE TO app.t WHERE id > 1;"); // { sql: "SELECT * FROM app.t WHERE id > 1" }
 */
export function subscription(sql: string): { sql: string; lastRows?: number } | undefined {
  if (!/^\s*subscribe\b/i.test(sql)) return undefined;
  const { statements, diagnostics } = parseSql(sql);
  const s = statements[0]?.statement;
  if (diagnostics.length > 0 || statements.length !== 1 || s?.kind !== "subscribe") {
    return undefined;
  }
  const lastRows = s.options.find((o) => o.key === "LAST_ROWS")?.value;
  return {
    sql: printStatement(s.query),
    ...(typeof lastRows === "number" ? { lastRows } : {}),
  };
}

/** `\session`: aligned `key: value` lines. */
export function sessionText(info: SessionInfo, client: string, now = new Date()): string {
  const remote = info.mode === "remote";
  const rows: [string, string][] = remote
    ? [
      ["mode", "remote (HTTP API and /v1/ws)"],
      ["server", info.target],
      ["server version", info.serverVersion ?? "unknown"],
      ["client", client],
    ]
    : [
      ["mode", "embedded (the data directory, opened by this process)"],
      ["data dir", info.target],
      ["version", client],
    ];
  rows.push(["user", info.user], ["role", info.role], ["credentials", info.credentials]);
  if (info.tokenExpiresAt) rows.push(["token expires", expiry(info.tokenExpiresAt, now)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join("\n");
}

function expiry(at: Date, now: Date): string {
  const minutes = Math.round((at.getTime() - now.getTime()) / 60_000);
  const iso = at.toISOString().replace(/\.\d{3}Z$/, "Z");
  if (minutes < 0) return `${iso} (expired; renewed with the refresh token on the next statement)`;
  if (minutes < 120) return `${iso} (in ${minutes} min)`;
  return `${iso} (in ${Math.round(minutes / 60)} h)`;
}

function spec(name: string, usage: string, help: string, plan: Spec["plan"]): Spec {
  return { name, usage, help, plan };
}

function usage(cmd: MetaCommand): MetaAction {
  const s = SPECS.find((x) => x.name === cmd.name);
  return { kind: "error", text: `usage: ${s?.usage ?? cmd.name}` };
}

function tableArg(cmd: MetaCommand, sql: (table: string) => string): MetaAction {
  if (cmd.args.length !== 1 || !TABLE.test(cmd.args[0])) return usage(cmd);
  return { kind: "sql", sql: sql(cmd.args[0]) };
}

function namespaceArg(cmd: MetaCommand, sql: (ns: string) => string): MetaAction {
  if (cmd.args.length !== 1 || !NAMESPACE.test(cmd.args[0])) return usage(cmd);
  return { kind: "sql", sql: sql(cmd.args[0]) };
}

function quote(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** Levenshtein distance (short strings). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

// ------------------------------------------------------------------ subscription output

/** How a subscription's rows print: hidden columns and the table's column types. */
export interface LiveLayout {
  /** Columns not shown (`_seq`, `_deleted` unless the query names them). */
  readonly hidden: ReadonlySet<string>;
  /** Column types from DESCRIBE (`BIGINT`…), so `"1"` from the wire prints as the number 1. */
  readonly types: ReadonlyMap<string, string>;
}

const SYSTEM_COLUMNS = ["_seq", "_deleted"];
const INTEGER = /^(SMALLINT|INT|INTEGER|BIGINT|DECIMAL.*|REAL|DOUBLE)$/i;

/** The layout for `sql`: system columns hidden unless the query mentions them. */
export function liveLayout(sql: string, types: ReadonlyMap<string, string>): LiveLayout {
  return { hidden: new Set(SYSTEM_COLUMNS.filter((c) => !sql.includes(c))), types };
}

/**
 * The lines one change event prints: `12:00:01.234 INSERT {id: 1, title: "x"}` per row, UPDATE
 * as `old → new`, DELETE with the deleted row. Snapshot and reset events are tables (the shell
 * prints them with `snapshotRows`); `resumed` says where the stream picked up.
 *
 * @example
 * changeLines({ kind: "insert", rows: [{ id: "1" }] }, layout, new Date()); // ["12:00:01.234 INSERT {id: 1}"]
 */
export function changeLines(e: LiveEvent, layout: LiveLayout, at: Date): string[] {
  const time = clock(at);
  switch (e.kind) {
    case "insert":
      return e.rows.map((r) => `${time} INSERT ${inlineRow(r, layout)}`);
    case "delete":
      return (e.oldRows?.length ? e.oldRows : e.rows).map((r) =>
        `${time} DELETE ${inlineRow(r, layout)}`
      );
    case "update":
      return e.rows.map((r, i) => {
        const old = e.oldRows?.[i];
        const from = old ? `${inlineRow(old, layout)} → ` : "";
        return `${time} UPDATE ${from}${inlineRow(r, layout)}`;
      });
    case "resumed":
      return [`${time} RESUMED${e.seq ? ` after seq ${e.seq}` : ""}`];
    case "snapshot":
    case "reset":
      return [];
  }
}

/** `{id: 1, title: "x", done: false}` in the row's key order, hidden columns left out. */
export function inlineRow(row: Record<string, unknown>, layout: LiveLayout): string {
  const parts = Object.entries(row).filter(([k]) => !layout.hidden.has(k))
    .map(([k, v]) => `${k}: ${inlineValue(v, layout.types.get(k))}`);
  return `{${parts.join(", ")}}`;
}

/** A snapshot's rows as a result table (column names from the first row). */
export function snapshotRows(
  rows: readonly Record<string, unknown>[],
  layout: LiveLayout,
): { names: string[]; rows: (null | boolean | number | bigint | string)[][] } {
  const names = Object.keys(rows[0] ?? {}).filter((k) => !layout.hidden.has(k));
  return {
    names,
    rows: rows.map((r) => names.map((n) => tableValue(r[n], layout.types.get(n)))),
  };
}

/** A snapshot as the result the shell prints: no rows (no names on the wire) is a count alone. */
export function snapshotResult(
  rows: readonly Record<string, unknown>[],
  layout: LiveLayout,
  tookMs: number,
): StatementResult {
  const shown = snapshotRows(rows, layout);
  if (shown.names.length === 0) return { statement: 1, rowCount: 0, message: "(0 rows)", tookMs };
  return {
    statement: 1,
    schema: shown.names.map((name) => ({ name, type: layout.types.get(name) ?? "TEXT" })),
    rows: shown.rows,
    rowCount: shown.rows.length,
    tookMs,
  };
}

/** A change as one line of JSON (`\format json`): BIGINT values as strings, as the HTTP API. */
export function changeJson(e: LiveEvent): string {
  const change = { at: new Date().toISOString(), op: e.kind, rows: e.rows, old_rows: e.oldRows };
  return JSON.stringify(change, (_k, v) => typeof v === "bigint" ? String(v) : v);
}

function inlineValue(v: unknown, type: string | undefined): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "string") {
    return type && INTEGER.test(type) && /^-?\d+(\.\d+)?$/.test(v) ? v : JSON.stringify(v);
  }
  const t = tableValue(v, type);
  return typeof t === "string" && typeof v === "object" ? t : String(t);
}

function tableValue(
  v: unknown,
  type: string | undefined,
): null | boolean | number | bigint | string {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" && type && /^(SMALLINT|INT|INTEGER|BIGINT)$/i.test(type)) {
    return /^-?\d+$/.test(v) ? BigInt(v) : v;
  }
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "number") return v;
  if (typeof v === "bigint") return v;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) {
    return `\\x${[...v].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  }
  if (typeof v === "object" && v.toString !== Object.prototype.toString) return String(v);
  return JSON.stringify(v);
}

/** `HH:MM:SS.mmm`, local time. */
function clock(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${
    p(d.getMilliseconds(), 3)
  }`;
}
