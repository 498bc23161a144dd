// Rendering statement results for the CLI: psql-like tables, JSON Lines and CSV, the `Took:`
// line and `ERROR <CODE>: …` lines. Pure functions over `StatementResult`; the caller decides
// the width (the terminal's, or none when stdout is not a TTY).

import type { StatementResult } from "../storage/mod.ts";
import { DbError } from "../errors.ts";
import type { TypeName } from "../sql/mod.ts";
import { displayValue, encodeBase64, toJsonValue, type Value } from "../sql/mod.ts";
import { displayWidth, graphemes, graphemeWidth, truncateWidth } from "./width.ts";

/** Options for table output. */
export interface TableOptions {
  /**
   * Fit lines into this many terminal columns (display width: CJK and emoji count 2) by
   * truncating cells with `…`; no limit when omitted.
   */
  readonly maxWidth?: number;
}

const NUMERIC = new Set(["SMALLINT", "INT", "BIGINT", "REAL", "DOUBLE", "DECIMAL"]);
/** Columns are never squeezed below this width (enough for "ab…"). */
const MIN_WIDTH = 3;

/**
 * `Took: 0.412 ms` with three decimals; never `0.000` (at least `0.001`).
 *
 * @example
 * formatTook(0.00001); // "Took: 0.001 ms"
 */
export function formatTook(ms: number): string {
  return `Took: ${roundMs(ms).toFixed(3)} ms`;
}

/** Milliseconds rounded to µs, at least 0.001 (a printed zero would be a lie). */
export function roundMs(ms: number): number {
  const r = Math.round(ms * 1000) / 1000;
  return Number.isFinite(r) && r >= 0.001 ? r : 0.001;
}

/** The parts of an error its ERROR lines show: a `DbError`, or the client SDK's `KalamError`. */
export interface ErrorParts {
  readonly code: string;
  readonly message: string;
  readonly statement?: number;
  readonly line?: number;
  readonly column?: number;
}

/** Options for `formatError`. */
export interface ErrorOptions {
  /** Window the `LINE n:` line into this many columns around the caret (default 80). */
  readonly maxWidth?: number;
}

/** Columns `LINE n:` lines are windowed into when the caller gives no width. */
const ERROR_WIDTH = 80;
/** Columns kept right of the caret when a long line is windowed (psql keeps 10 too). */
const RIGHT_CONTEXT = 10;
const TAB_STOP = 8;

/**
 * `ERROR INVALID_SQL: message (statement 2, line 3, column 15)`; position parts only when known.
 * Given the batch's SQL text and an error with a line, psql-style context follows: the line as
 * `LINE 3: …` and, when the column is known, a `^` under it (by display width, tabs expanded,
 * long lines windowed around the column with `…`).
 *
 * @example
 * formatError(err, "SELECT 1;\nSELECT * FRM t;");
 * // ERROR INVALID_SQL: Unexpected "FRM" … (statement 2, line 2, column 10)
 * // LINE 2: SELECT * FRM t;
 * //                  ^
 */
export function formatError(err: ErrorParts, sql?: string, options: ErrorOptions = {}): string {
  const where: string[] = [];
  if (err.statement !== undefined) where.push(`statement ${err.statement}`);
  if (err.line !== undefined) where.push(`line ${err.line}`);
  if (err.column !== undefined) where.push(`column ${err.column}`);
  const first = `ERROR ${err.code}: ${err.message}${where.length ? ` (${where.join(", ")})` : ""}`;
  if (sql === undefined || err.line === undefined) return first;
  const context = errorContext(sql, err.line, err.column, options.maxWidth);
  return [first, ...context].join("\n");
}

/**
 * ERROR lines for anything thrown: `formatError` for a `DbError` or the client's `KalamError`
 * (with context when `sql` is given), else `ERROR INTERNAL_ERROR: <message>` — the CLI is the user's own process, so
 * messages of other errors are shown as they are rather than hidden as on the HTTP API.
 */
export function formatAnyError(err: unknown, sql?: string, options: ErrorOptions = {}): string {
  if (err instanceof DbError || (err instanceof Error && err.name === "KalamError")) {
    return formatError(err as Error & ErrorParts, sql, options);
  }
  return `ERROR INTERNAL_ERROR: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * The `LINE n: text` line of `sql` (1-based `line`, LF-separated, CR dropped) and, when `column`
 * (1-based, in UTF-16 units as the lexer counts) is given, a caret line under it. Empty when the
 * text has no such line. The text is windowed into `maxWidth` columns around the caret.
 */
export function errorContext(
  sql: string,
  line: number,
  column?: number,
  maxWidth = ERROR_WIDTH,
): string[] {
  const text = sql.split("\n")[line - 1]?.replace(/\r$/, "");
  if (text === undefined) return [];
  const prefix = `LINE ${line}: `;
  const cells = expandTabs(text);
  const total = cells.reduce((w, c) => w + c.width, 0);
  const caretAt = column === undefined ? 0 : caretColumn(cells, column - 1, text.length, total);
  const room = Math.max(maxWidth - prefix.length, RIGHT_CONTEXT * 2 + 2);
  const { shown, caret } = windowAround(cells, total, caretAt, room);
  const out = [(prefix + shown).trimEnd()];
  if (column !== undefined) out.push(" ".repeat(prefix.length + caret) + "^");
  return out;
}

/** A grapheme of an error's source line: the text shown, its columns and its UTF-16 offset. */
interface Cell {
  readonly text: string;
  readonly width: number;
  readonly index: number;
}

/** The line's graphemes with tabs turned into spaces up to the next multiple of 8. */
function expandTabs(text: string): Cell[] {
  const cells: Cell[] = [];
  let at = 0;
  for (const { segment, index } of graphemes(text)) {
    const width = segment === "\t" ? TAB_STOP - at % TAB_STOP : graphemeWidth(segment);
    cells.push({ text: segment === "\t" ? " ".repeat(width) : segment, width, index });
    at += width;
  }
  return cells;
}

/** Display column (0-based) of the grapheme holding UTF-16 offset `offset`; past the end: end. */
function caretColumn(
  cells: readonly Cell[],
  offset: number,
  length: number,
  total: number,
): number {
  let at = 0;
  for (let i = 0; i < cells.length; i++) {
    const next = cells[i + 1]?.index ?? length;
    if (offset < next) return at;
    at += cells[i].width;
  }
  return total;
}

/**
 * The part of a line shown in `room` columns: all of it when it fits, else a window that keeps
 * the caret and up to RIGHT_CONTEXT columns after it, with `…` where text was cut. Returns the
 * text and the caret's column within it.
 */
function windowAround(
  cells: readonly Cell[],
  total: number,
  caretAt: number,
  room: number,
): { shown: string; caret: number } {
  if (total <= room) return { shown: cells.map((c) => c.text).join(""), caret: caretAt };
  let from = 0;
  let to = room - 1;
  if (caretAt + RIGHT_CONTEXT > to) {
    to = Math.min(total, caretAt + RIGHT_CONTEXT + 1);
    from = to - (to === total ? room - 1 : room - 2);
  }
  let shown = "";
  let start = -1;
  let at = 0;
  for (const c of cells) {
    if (at >= from && at + c.width <= to) {
      if (start < 0) start = at;
      shown += c.text;
    }
    at += c.width;
  }
  if (start < 0) start = from;
  const left = from > 0 ? "…" : "";
  const right = to < total ? "…" : "";
  return { shown: left + shown + right, caret: left.length + caretAt - start };
}

/**
 * One statement's result as the `table` format prints it: a psql-like table and a row count for
 * statements that return rows, else the message; then the `Took:` line.
 */
export function formatTable(result: StatementResult, options: TableOptions = {}): string {
  if (!result.schema) {
    return `${result.message ?? `${result.rowCount} row(s)`}\n${formatTook(result.tookMs)}`;
  }
  const names = result.schema.map((c) => c.name);
  const rows = (result.rows ?? []).map((row) => row.map((v, i) => cellText(v, result.types?.[i])));
  const right = names.map((_, i) => isNumericColumn(result, i));
  const measured = rows.map((r) => r.map(displayWidth));
  const widths = names.map((n, i) =>
    measured.reduce((w, r) => Math.max(w, r[i] ?? 0), displayWidth(n))
  );
  if (options.maxWidth !== undefined) fitWidths(widths, options.maxWidth);
  const line = (
    cells: readonly string[],
    cellWidths: readonly number[],
    align: readonly boolean[],
  ) =>
    " " + cells.map((c, i) => {
      const fitted = cellWidths[i] <= widths[i] ? c : truncateWidth(c, widths[i]);
      const w = fitted === c ? cellWidths[i] : displayWidth(fitted);
      return pad(fitted, w, widths[i], align[i], i === cells.length - 1);
    }).join(" | ");
  const n = rows.length;
  return [
    line(names, names.map(displayWidth), names.map(() => false)).trimEnd(),
    widths.map((w) => "-".repeat(w + 2)).join("+"),
    ...rows.map((r, i) => line(r, measured[i], right).trimEnd()),
    `(${n} row${n === 1 ? "" : "s"})`,
    formatTook(result.tookMs),
  ].join("\n");
}

/**
 * One statement's result as a JSON object (one line, JSON Lines): rows as objects keyed by column
 * name, values encoded as the HTTP API does (BIGINT as string, TIMESTAMP as RFC 3339…).
 */
export function formatJson(result: StatementResult): string {
  const out: Record<string, unknown> = { statement: result.statement };
  if (result.schema) {
    const keys = uniqueKeys(result.schema.map((c) => c.name));
    out.schema = result.schema;
    out.rows = (result.rows ?? []).map((row) =>
      Object.fromEntries(keys.map((k, i) => [k, jsonValue(row[i] ?? null, result.types?.[i])]))
    );
  }
  out.row_count = result.rowCount;
  if (result.message !== undefined) out.message = result.message;
  out.took_ms = roundMs(result.tookMs);
  return JSON.stringify(out);
}

/**
 * A row-returning result as CSV (header + rows, RFC 4180 quoting, `\n` line ends like psql).
 * NULL is an empty field and the empty string is `""`, so the two stay distinguishable.
 * Results without rows print nothing: CSV output holds only data.
 */
export function formatCsv(result: StatementResult): string | undefined {
  if (!result.schema) return undefined;
  const lines = [result.schema.map((c) => csvField(c.name)).join(",")];
  for (const row of result.rows ?? []) {
    lines.push(
      row.map((v, i) => v === null ? "" : csvField(displayValue(v, result.types?.[i]))).join(","),
    );
  }
  return lines.join("\n");
}

/** Quotes a CSV field when it holds a comma, quote, CR or LF, or is empty. */
export function csvField(s: string): string {
  return s === "" || /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function jsonValue(v: Value, t: TypeName | undefined): unknown {
  if (t) return toJsonValue(v, t);
  if (typeof v === "bigint") return String(v);
  if (v instanceof Uint8Array) return encodeBase64(v);
  return v;
}

/** `id, id` → `id, id_2`: JSON objects cannot hold two keys of one name. */
function uniqueKeys(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const count = (seen.get(n) ?? 0) + 1;
    seen.set(n, count);
    return count === 1 ? n : `${n}_${count}`;
  });
}

function isNumericColumn(result: StatementResult, i: number): boolean {
  const t = result.types?.[i];
  if (t) return NUMERIC.has(t.base);
  const first = result.rows?.find((r) => r[i] !== null)?.[i];
  return typeof first === "number" || typeof first === "bigint";
}

/** Cell text for tables: control characters shown escaped so one row stays one line. */
function cellText(v: Value, t: TypeName | undefined): string {
  return escapeControls(displayValue(v, t));
}

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Control characters shown escaped (`\n`, `\x1b`, `\u009b`…): one row stays one line, and a
 * value never sends escape sequences to the terminal (another user's query text in `\live`).
 */
export function escapeControls(s: string): string {
  // deno-lint-ignore no-control-regex -- the control characters are what it finds
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    NAMED[c] ??
      (c.charCodeAt(0) < 0x80
        ? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`
        : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

/** Shrinks the widest columns one step at a time until a line fits `max` columns. */
function fitWidths(widths: number[], max: number): void {
  const lineWidth = () => widths.reduce((a, b) => a + b, 0) + 3 * widths.length - 1;
  while (lineWidth() > max) {
    let widest = 0;
    for (let i = 1; i < widths.length; i++) if (widths[i] > widths[widest]) widest = i;
    if (widths[widest] <= MIN_WIDTH) return;
    widths[widest]--;
  }
}

/** `s` (which takes `used` columns) padded to `width`; the last left-aligned cell is not. */
function pad(s: string, used: number, width: number, right: boolean, last: boolean): string {
  if (last && !right) return s;
  const gap = " ".repeat(Math.max(width - used, 0));
  return right ? gap + s : s + gap;
}
