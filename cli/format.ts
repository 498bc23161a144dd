// Rendering statement results for the CLI: psql-like tables, JSON Lines and CSV, the `Took:`
// line and `ERROR <CODE>: …` lines. Pure functions over `StatementResult`; the caller decides
// the width (the terminal's, or none when stdout is not a TTY).

import type { StatementResult } from "../storage/mod.ts";
import type { DbError } from "../errors.ts";
import type { TypeName } from "../sql/mod.ts";
import { displayValue, encodeBase64, toJsonValue, type Value } from "../sql/mod.ts";

/** Options for table output. */
export interface TableOptions {
  /** Fit lines into this many columns by truncating cells with `…`; no limit when omitted. */
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

/**
 * `ERROR INVALID_SQL: message (statement 2, line 3, column 15)`; position parts only when known.
 */
export function formatError(
  err: Pick<DbError, "code" | "message" | "statement" | "line" | "column">,
): string {
  const where: string[] = [];
  if (err.statement !== undefined) where.push(`statement ${err.statement}`);
  if (err.line !== undefined) where.push(`line ${err.line}`);
  if (err.column !== undefined) where.push(`column ${err.column}`);
  return `ERROR ${err.code}: ${err.message}${where.length ? ` (${where.join(", ")})` : ""}`;
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
  const widths = names.map((n, i) => Math.max(len(n), ...rows.map((r) => len(r[i] ?? ""))));
  if (options.maxWidth !== undefined) fitWidths(widths, options.maxWidth);
  const line = (cells: readonly string[], align: readonly boolean[]) =>
    " " + cells.map((c, i) => pad(fit(c, widths[i]), widths[i], align[i], i === cells.length - 1))
      .join(" | ");
  const n = rows.length;
  return [
    line(names, names.map(() => false)).trimEnd(),
    widths.map((w) => "-".repeat(w + 2)).join("+"),
    ...rows.map((r) => line(r, right).trimEnd()),
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
  return displayValue(v, t).replace(
    /[\n\r\t]/g,
    (c) => c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\t",
  );
}

/** Shrinks the widest columns one step at a time until a line fits `max` characters. */
function fitWidths(widths: number[], max: number): void {
  const lineWidth = () => widths.reduce((a, b) => a + b, 0) + 3 * widths.length - 1;
  while (lineWidth() > max) {
    let widest = 0;
    for (let i = 1; i < widths.length; i++) if (widths[i] > widths[widest]) widest = i;
    if (widths[widest] <= MIN_WIDTH) return;
    widths[widest]--;
  }
}

/** Length in code points (not UTF-16 units). */
function len(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function fit(s: string, width: number): string {
  if (len(s) <= width) return s;
  return [...s].slice(0, Math.max(width - 1, 0)).join("") + "…";
}

function pad(s: string, width: number, right: boolean, last: boolean): string {
  const gap = " ".repeat(Math.max(width - len(s), 0));
  if (right) return gap + s;
  return last ? s : s + gap;
}
