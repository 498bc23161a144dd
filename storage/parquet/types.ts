// How each SQL type is laid out in a Parquet segment, and the columnar conversions between our
// value model (sql/values.ts) and what hyparquet-writer takes / hyparquet returns. The one
// decision to know: every conversion is a tight loop per column chosen by a `switch` on the
// column's kind, never a closure per value, because flush throughput is bounded by this code.
//
//   SQL type         Parquet physical   annotation (converted / logical)        value written
//   BOOLEAN          BOOLEAN            —                                       boolean
//   SMALLINT         INT32              INT_16 / —                              number
//   INT              INT32              —                                       number
//   BIGINT           INT64              —                                       bigint
//   REAL             FLOAT              —                                       number
//   DOUBLE           DOUBLE             —                                       number
//   DECIMAL(p,s)     BYTE_ARRAY         DECIMAL / DECIMAL(p,s)   (p ≤ 38)        unscaled bigint
//   DECIMAL other    BYTE_ARRAY         UTF8 / STRING (exact text)              string
//   TEXT, UUID       BYTE_ARRAY         UTF8 / STRING                           string
//   JSON             BYTE_ARRAY         JSON / JSON                             UTF-8 of the text
//   BYTES            BYTE_ARRAY         —                                       Uint8Array
//   DATE             INT32              DATE / DATE                             days since epoch
//   TIMESTAMP        INT64              — / TIMESTAMP(NANOS, isAdjustedToUTC=false)  bigint ns

import type { SchemaElement } from "hyparquet";
// hyparquet-writer pins an older hyparquet whose types differ slightly from the reader's.
import type { SchemaElement as WriterElement } from "hyparquet-writer";
import { compareValues, type TypeName, type Value } from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";

/** How values of one column convert; decided once per column from its type. */
export type Kind =
  | "bool"
  | "int"
  | "bigint"
  | "float"
  | "text"
  | "json"
  | "bytes"
  | "decimal"
  | "date"
  | "timestamp";

/** One column of a segment: its SQL type, Parquet element and conversion. */
export interface ColumnPlan {
  readonly name: string;
  readonly type: TypeName;
  readonly kind: Kind;
  /** DECIMAL scale when `kind` is "decimal". */
  readonly scale: number;
  /** DECIMAL kept as text: Parquet's bounds are in text order, so they are not SQL bounds. */
  readonly unordered: boolean;
  readonly required: boolean;
}

/** Largest DECIMAL precision written with the DECIMAL annotation (DuckDB's and Arrow's limit). */
const MAX_DECIMAL_PRECISION = 38;

/**
 * TIMESTAMP columns are written with isAdjustedToUTC=false although our values are UTC instants:
 * readers without a nanosecond instant type (DuckDB 1.5 has no TIMESTAMPTZ_NS) turn an adjusted
 * nanosecond column into a microsecond TIMESTAMPTZ and drop the last three digits, while an
 * unadjusted one reads as TIMESTAMP_NS with every digit. Our own reader accepts both.
 */
const TIMESTAMP_ADJUSTED_TO_UTC = false;

const STRING_ELEMENT = {
  type: "BYTE_ARRAY",
  converted_type: "UTF8",
  logical_type: { type: "STRING" },
};

/** The plan for a column being written. `_seq` and `_deleted` are REQUIRED, the rest OPTIONAL. */
export function planColumn(name: string, type: TypeName, required: boolean): ColumnPlan {
  const plan = (kind: Kind, scale = 0, unordered = false): ColumnPlan => ({
    name,
    type,
    kind,
    scale,
    unordered,
    required,
  });
  switch (type.base) {
    case "BOOLEAN":
      return plan("bool");
    case "SMALLINT":
    case "INT":
      return plan("int");
    case "BIGINT":
      return plan("bigint");
    case "REAL":
    case "DOUBLE":
      return plan("float");
    case "DECIMAL":
      return decimalAnnotated(type) ? plan("decimal", type.scale) : plan("text", 0, true);
    case "TEXT":
    case "UUID":
      return plan("text");
    case "JSON":
      return plan("json");
    case "BYTES":
      return plan("bytes");
    case "DATE":
      return plan("date");
    case "TIMESTAMP":
      return plan("timestamp");
  }
}

/**
 * DECIMAL gets the Parquet DECIMAL annotation only with a declared precision ≤ 38 and scale:
 * an unconstrained DECIMAL keeps whatever scale each value has, which one Parquet scale cannot
 * hold, so it is stored as its exact text instead.
 */
function decimalAnnotated(t: TypeName): t is TypeName & { precision: number; scale: number } {
  return t.precision !== undefined && t.scale !== undefined && t.precision >= 1 &&
    t.precision <= MAX_DECIMAL_PRECISION && t.scale >= 0 && t.scale <= t.precision;
}

/**
 * The Parquet schema element written for a plan. JSON leaves `converted_type` unset here: the
 * writer would JSON-encode our text a second time if it saw it, so the caller sets it once the
 * data pages are written (see `encodeSegment`).
 */
export function schemaElement(plan: ColumnPlan): WriterElement {
  const base = {
    name: plan.name,
    repetition_type: plan.required ? "REQUIRED" : "OPTIONAL",
  } as const;
  const t = plan.type;
  switch (t.base) {
    case "BOOLEAN":
      return { ...base, type: "BOOLEAN" };
    case "SMALLINT":
      // No INTEGER(16) logical type: hyparquet-writer encodes its bitWidth as i32, not the i8
      // the Thrift spec has, and DuckDB rejects the whole footer. INT_16 says the same.
      return { ...base, type: "INT32", converted_type: "INT_16" };
    case "INT":
      return { ...base, type: "INT32" };
    case "BIGINT":
      return { ...base, type: "INT64" };
    case "REAL":
      return { ...base, type: "FLOAT" };
    case "DOUBLE":
      return { ...base, type: "DOUBLE" };
    case "DECIMAL":
      if (!decimalAnnotated(t)) return { ...base, ...STRING_ELEMENT } as WriterElement;
      // BYTE_ARRAY at every precision, not INT32/INT64 for small ones: hyparquet turns
      // integer-backed DECIMAL bounds into lossy numbers, byte-array bounds stay exact.
      return {
        ...base,
        type: "BYTE_ARRAY",
        converted_type: "DECIMAL",
        precision: t.precision,
        scale: t.scale,
        logical_type: { type: "DECIMAL", precision: t.precision, scale: t.scale },
      };
    case "TEXT":
    case "UUID":
      return { ...base, ...STRING_ELEMENT } as WriterElement;
    case "JSON":
      return { ...base, type: "BYTE_ARRAY", logical_type: { type: "JSON" } };
    case "BYTES":
      return { ...base, type: "BYTE_ARRAY" };
    case "DATE":
      return { ...base, type: "INT32", converted_type: "DATE", logical_type: { type: "DATE" } };
    case "TIMESTAMP":
      return {
        ...base,
        type: "INT64",
        logical_type: {
          type: "TIMESTAMP",
          isAdjustedToUTC: TIMESTAMP_ADJUSTED_TO_UTC,
          unit: "NANOS",
        },
      };
  }
}

/**
 * The plan for reading a column of any Parquet file: from the element alone, refined by the SQL
 * type the segment recorded (`declared`) when there is one.
 */
export function planFromElement(e: SchemaElement, declared?: TypeName): ColumnPlan {
  const ct = e.converted_type;
  const lt = e.logical_type?.type;
  const decimal = ct === "DECIMAL" || lt === "DECIMAL";
  const type = declared ?? typeFromElement(e);
  const plan = (kind: Kind, scale = 0): ColumnPlan => ({
    name: e.name,
    type,
    kind,
    scale,
    unordered: kind === "text" && type.base === "DECIMAL",
    required: e.repetition_type === "REQUIRED",
  });
  switch (e.type) {
    case "BOOLEAN":
      return plan("bool");
    case "INT32":
      if (decimal) return plan("decimal", e.scale ?? 0);
      return plan(ct === "DATE" || lt === "DATE" ? "date" : "int");
    case "INT64":
      if (decimal) return plan("decimal", e.scale ?? 0);
      return plan(isTimestamp(e) ? "timestamp" : "bigint");
    case "INT96":
      return plan("timestamp");
    case "FLOAT":
    case "DOUBLE":
      return plan("float");
    case "BYTE_ARRAY":
    case "FIXED_LEN_BYTE_ARRAY":
      if (decimal) return plan("decimal", e.scale ?? 0);
      if (ct === "UTF8" || ct === "ENUM" || lt === "STRING" || lt === "ENUM") return plan("text");
      if (ct === "JSON" || lt === "JSON") return plan("json");
      return plan("bytes");
    default:
      throw new DbError("STORAGE_ERROR", `Unsupported Parquet column "${e.name}" (${e.type})`);
  }
}

function isTimestamp(e: SchemaElement): boolean {
  return e.logical_type?.type === "TIMESTAMP" || e.converted_type === "TIMESTAMP_MILLIS" ||
    e.converted_type === "TIMESTAMP_MICROS";
}

function typeFromElement(e: SchemaElement): TypeName {
  const ct = e.converted_type;
  const lt = e.logical_type;
  if (ct === "DECIMAL" || lt?.type === "DECIMAL") {
    return { base: "DECIMAL", precision: e.precision, scale: e.scale ?? 0 };
  }
  switch (e.type) {
    case "BOOLEAN":
      return { base: "BOOLEAN" };
    case "INT32":
      if (ct === "DATE" || lt?.type === "DATE") return { base: "DATE" };
      return { base: ct === "INT_16" || ct === "INT_8" ? "SMALLINT" : "INT" };
    case "INT64":
      return { base: isTimestamp(e) ? "TIMESTAMP" : "BIGINT" };
    case "INT96":
      return { base: "TIMESTAMP" };
    case "FLOAT":
      return { base: "REAL" };
    case "DOUBLE":
      return { base: "DOUBLE" };
    default:
      if (ct === "UTF8" || lt?.type === "STRING" || ct === "ENUM") return { base: "TEXT" };
      if (ct === "JSON" || lt?.type === "JSON") return { base: "JSON" };
      return { base: "BYTES" };
  }
}

// ---------------------------------------------------------------- write: values → column data

const TYPEOF: Partial<Record<Kind, string>> = {
  bool: "boolean",
  int: "number",
  float: "number",
  bigint: "bigint",
  timestamp: "bigint",
  text: "string",
};

function badValue(plan: ColumnPlan, v: unknown): DbError {
  const what = v === null || v === undefined ? "NULL" : typeof v;
  return new DbError(
    "INTERNAL_ERROR",
    `Cannot write ${what} to segment column "${plan.name}" (${plan.type.base})`,
  );
}

const encoder = new TextEncoder();

/**
 * Text values as UTF-8 bytes (nulls kept), ASCII ones copied into one shared buffer without a
 * TextEncoder call each: hyparquet-writer would otherwise encode every string once to size its
 * dictionary and again to write it, an op call per value that cost a sixth of a flush.
 */
function utf8Values(values: unknown[]): unknown[] {
  let size = 0;
  for (const v of values) if (typeof v === "string") size += v.length;
  const buf = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "string") continue;
    const start = at;
    let ascii = true;
    for (let k = 0; k < v.length; k++) {
      const c = v.charCodeAt(k);
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      buf[at++] = c;
    }
    if (ascii) values[i] = buf.subarray(start, at);
    else {
      at = start + v.length; // keeps the reserved space; the bytes come from TextEncoder
      values[i] = encoder.encode(v);
    }
  }
  return values;
}

/** Column `j` of `rows` as the array hyparquet-writer takes for `plan`'s element. */
export function columnData(
  rows: readonly (readonly Value[])[],
  j: number,
  plan: ColumnPlan,
): unknown[] {
  const n = rows.length;
  const out = new Array(n);
  const required = plan.required;
  const expected = TYPEOF[plan.kind];
  if (expected !== undefined) {
    for (let i = 0; i < n; i++) {
      const v = rows[i][j];
      // `expected` is always a `typeof` result (see TYPEOF); one loop serves six kinds.
      // deno-lint-ignore valid-typeof
      if (typeof v === expected) out[i] = v;
      else if ((v === null || v === undefined) && !required) out[i] = null;
      else throw badValue(plan, v);
    }
    return plan.kind === "text" ? utf8Values(out) : out;
  }
  for (let i = 0; i < n; i++) {
    const v = rows[i][j];
    if (v === null || v === undefined) {
      if (required) throw badValue(plan, v);
      out[i] = null;
    } else if (plan.kind === "bytes") {
      if (!(v instanceof Uint8Array)) throw badValue(plan, v);
      out[i] = v;
    } else if (typeof v !== "string") {
      throw badValue(plan, v);
    } else if (plan.kind === "json") {
      out[i] = v;
    } else if (plan.kind === "date") {
      out[i] = dateToDays(v, plan);
    } else {
      out[i] = decimalToUnscaled(v, plan);
    }
  }
  return plan.kind === "json" ? utf8Values(out) : out;
}

const MS_PER_DAY = 86_400_000;

function dateToDays(text: string, plan: ColumnPlan): number {
  const ms = Date.parse(text); // ISO date-only forms parse as UTC midnight
  if (Number.isNaN(ms) || text.length !== 10) throw badValue(plan, text);
  return ms / MS_PER_DAY;
}

/** `YYYY-MM-DD` of a day number. */
export function daysToDate(days: number): string {
  return new Date(days * MS_PER_DAY).toISOString().slice(0, 10);
}

/** "-12.50" at scale 2 → -1250n. Digits past the scale must be zeros (the engine rounds first). */
function decimalToUnscaled(text: string, plan: ColumnPlan): bigint {
  const scale = plan.scale;
  const dot = text.indexOf(".");
  if (dot < 0) return BigInt(text) * 10n ** BigInt(scale);
  let frac = text.slice(dot + 1);
  if (frac.length > scale) {
    if (/[^0]/.test(frac.slice(scale))) {
      throw new DbError(
        "INTERNAL_ERROR",
        `Decimal ${text} has more than ${scale} fractional digits for column "${plan.name}"`,
      );
    }
    frac = frac.slice(0, scale);
  }
  const int = text.slice(0, dot);
  return BigInt(
    (int === "" || int === "-" || int === "+" ? int + "0" : int) + frac.padEnd(scale, "0"),
  );
}

// ---------------------------------------------------------------- read: column data → values

const decoder = new TextDecoder();

/** Unscaled integer → canonical decimal text with exactly `scale` fractional digits. */
export function unscaledToDecimal(v: bigint, scale: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, "0");
  const cut = digits.length - scale;
  const body = scale > 0 ? `${digits.slice(0, cut)}.${digits.slice(cut)}` : digits;
  return neg ? `-${body}` : body;
}

/** Big-endian two's complement bytes (Parquet DECIMAL byte arrays) → bigint. */
function bytesToBigInt(bytes: Uint8Array): bigint {
  const n = bytes.length;
  if (n === 0) return 0n;
  if (n <= 6) {
    let v = bytes[0] >= 0x80 ? bytes[0] - 0x100 : bytes[0];
    for (let i = 1; i < n; i++) v = v * 256 + bytes[i];
    return BigInt(v);
  }
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(bytes[i]);
  return bytes[0] >= 0x80 ? v - (1n << BigInt(n * 8)) : v;
}

function rawToDecimal(raw: unknown, scale: number): string {
  if (raw instanceof Uint8Array) return unscaledToDecimal(bytesToBigInt(raw), scale);
  return unscaledToDecimal(BigInt(raw as number | bigint), scale);
}

/**
 * One decoded chunk of a column (as hyparquet returns it with our parsers) → our values. Only
 * BYTES (copied out of the page buffer, so results do not pin whole pages) and DECIMAL (raw
 * unscaled → exact text) need work; everything else is already in our representation.
 */
export function chunkValues(data: ArrayLike<unknown>, plan: ColumnPlan): ArrayLike<unknown> {
  if (plan.kind === "bytes") {
    const out = new Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as Uint8Array | null | undefined;
      out[i] = v == null ? null : new Uint8Array(v);
    }
    return out;
  }
  if (plan.kind === "decimal") {
    const out = new Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      out[i] = v == null ? null : rawToDecimal(v, plan.scale);
    }
    return out;
  }
  return data;
}

/**
 * A min/max from the footer (parsed with byte arrays kept raw) → our value model, or null when
 * it is absent or cannot be trusted as a SQL bound.
 */
export function boundValue(v: unknown, plan: ColumnPlan): Value {
  if (v === undefined || v === null || plan.unordered) return null;
  switch (plan.kind) {
    case "text":
    case "json":
      return v instanceof Uint8Array ? decoder.decode(v) : String(v);
    case "bytes":
      return v instanceof Uint8Array ? new Uint8Array(v) : null;
    case "decimal":
      // hyparquet already turned INT32/INT64/fixed-length decimal bounds into lossy numbers.
      return v instanceof Uint8Array ? rawToDecimal(v, plan.scale) : null;
    case "int":
    case "float":
      return typeof v === "number" ? v : null;
    case "bigint":
    case "timestamp":
      return typeof v === "bigint" ? v : null;
    case "bool":
      return typeof v === "boolean" ? v : null;
    case "date":
      return typeof v === "string" ? v : null;
  }
}

// ---------------------------------------------------------------- ordering of bounds

/**
 * Order of stats bounds: numbers and bigints numerically, DECIMAL text numerically, other text
 * in Unicode code point order (= UTF-8 byte order, Parquet's order for strings; differs from
 * JavaScript's `<` only between astral characters and U+E000–U+FFFF), bytes unsigned bytewise.
 */
export function compareBounds(
  a: Exclude<Value, null>,
  b: Exclude<Value, null>,
  decimal = false,
): number {
  if (typeof a === "string" && typeof b === "string" && !decimal) return compareCodePoints(a, b);
  return compareValues(a, b, decimal);
}

function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  const x = a.codePointAt(i)!;
  const y = b.codePointAt(i)!;
  // A surrogate (astral character) sorts above every BMP character in code point order.
  const xs = x > 0xffff || (x >= 0xd800 && x <= 0xdfff);
  const ys = y > 0xffff || (y >= 0xd800 && y <= 0xdfff);
  if (xs !== ys) return xs ? 1 : -1;
  return a.charCodeAt(i) - b.charCodeAt(i);
}
