// Runtime values and column types: how each SQL type is held in memory, coerced on write,
// compared, and rendered. One representation per type, chosen so that comparisons are cheap and
// nothing loses precision:
//   BOOLEAN → boolean   SMALLINT/INT/REAL/DOUBLE → number   BIGINT → bigint
//   DECIMAL → canonical decimal string   TEXT/UUID/JSON → string (JSON as its canonical text)
//   DATE → "YYYY-MM-DD"   TIMESTAMP → bigint nanoseconds since the epoch   BYTES → Uint8Array
// Every value stays in its type's range (TYPE_MISMATCH "… out of range" otherwise); an integer
// given for a TIMESTAMP — literal, cast, column or parameter — is epoch milliseconds. Time
// values live in value_time.ts and rendering in value_text.ts, both re-exported from here.

import type { BaseType, LiteralExpr, TypeName } from "./ast.ts";
import { DbError } from "../errors.ts";
import {
  checkTimestamp,
  formatTimestamp,
  parseDate,
  parseTimestamp,
  timestampFromMs,
} from "./value_time.ts";

export * from "./value_time.ts";
export * from "./value_text.ts";

export type Value = null | boolean | number | bigint | string | Uint8Array;
export type Row = Value[];

/** A column as executors and storage see it. `id` is stable across renames. */
export interface ColumnSchema {
  readonly id: number;
  readonly name: string;
  readonly type: TypeName;
  readonly nullable: boolean;
  readonly primaryKey: boolean;
  /** SQL text of the DEFAULT expression, re-parsed when needed. */
  readonly default?: string;
  /** `_seq` and `_deleted`. */
  readonly system?: boolean;
}

/** Name and type of one result column, as sent to clients. */
export interface ResultColumn {
  readonly name: string;
  readonly type: string;
}

/** Printable name of a type: `BIGINT`, `DECIMAL(10,2)`, `VARCHAR(20)` stays `TEXT`. */
export function typeToString(t: TypeName): string {
  if (t.base === "DECIMAL" && t.precision !== undefined) {
    return `DECIMAL(${t.precision},${t.scale ?? 0})`;
  }
  return t.base;
}

const TYPE_ALIASES: Record<string, BaseType> = {
  BOOLEAN: "BOOLEAN",
  BOOL: "BOOLEAN",
  SMALLINT: "SMALLINT",
  INT2: "SMALLINT",
  INT: "INT",
  INTEGER: "INT",
  INT4: "INT",
  BIGINT: "BIGINT",
  INT8: "BIGINT",
  BIGSERIAL: "BIGINT",
  REAL: "REAL",
  FLOAT: "REAL",
  FLOAT4: "REAL",
  DOUBLE: "DOUBLE",
  FLOAT8: "DOUBLE",
  DECIMAL: "DECIMAL",
  NUMERIC: "DECIMAL",
  TEXT: "TEXT",
  VARCHAR: "TEXT",
  STRING: "TEXT",
  CHAR: "TEXT",
  BYTES: "BYTES",
  BLOB: "BYTES",
  BYTEA: "BYTES",
  JSON: "JSON",
  JSONB: "JSON",
  UUID: "UUID",
  DATE: "DATE",
  TIMESTAMP: "TIMESTAMP",
  TIMESTAMPTZ: "TIMESTAMP",
  DATETIME: "TIMESTAMP",
};

/** Resolves a type keyword (any case) to its base type, or undefined when unknown. */
export function baseTypeOf(word: string): BaseType | undefined {
  return TYPE_ALIASES[word.toUpperCase()];
}

// ---------------------------------------------------------------- decimals

const DECIMAL_RE = /^([+-])?(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;

/**
 * The most digits a DECIMAL holds before the point, and after it: PostgreSQL's maximum declared
 * precision, so DECIMAL(p,s) has 1 <= p <= 1000 and 0 <= s <= p.
 */
export const MAX_DECIMAL_DIGITS = 1000;

/** The error for a value outside its type's range (PostgreSQL: "bigint out of range"). */
export function outOfRange(type: string, column?: string): DbError {
  return new DbError(
    "TYPE_MISMATCH",
    `${type} out of range${column ? ` for column "${column}"` : ""}`,
  );
}

const ZERO = 48; // '0'

/**
 * Canonical decimal text: no exponent, no leading zeros, scale digits when given (rounded half
 * away from zero). Undefined when `text` is not a number; TYPE_MISMATCH "DECIMAL out of range"
 * when the exact value needs more than MAX_DECIMAL_DIGITS digits before or after the point
 * (`1e1000`, `1e-1001`) — checked before any digit is written, so no exponent can blow up memory.
 */
export function normalizeDecimal(text: string, scale?: number): string | undefined {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return undefined;
  const neg = m[1] === "-";
  let digits = m[2] + (m[3] ?? "");
  // Where the point sits in `digits`; an exponent only moves it.
  let point = m[2].length + (m[4] ? Number(m[4]) : 0);
  let lead = 0;
  while (lead < digits.length && digits.charCodeAt(lead) === ZERO) lead++;
  let end = digits.length;
  while (end > lead && digits.charCodeAt(end - 1) === ZERO) end--;
  digits = digits.slice(lead, end);
  point -= lead;
  let intPart: string;
  let frac: string;
  if (digits === "") {
    intPart = "0";
    frac = "";
  } else {
    if (point > MAX_DECIMAL_DIGITS || digits.length - point > MAX_DECIMAL_DIGITS) {
      throw outOfRange("DECIMAL");
    }
    if (point <= 0) {
      intPart = "0";
      frac = "0".repeat(-point) + digits;
    } else if (point >= digits.length) {
      intPart = digits + "0".repeat(point - digits.length);
      frac = "";
    } else {
      intPart = digits.slice(0, point);
      frac = digits.slice(point);
    }
  }
  if (scale !== undefined) {
    if (frac.length > scale) {
      // Round half away from zero at `scale` digits.
      const kept = BigInt(intPart + frac.slice(0, scale));
      const up = frac.charCodeAt(scale) >= 53; /* '5' */
      const total = (kept + (up ? 1n : 0n)).toString().padStart(scale + 1, "0");
      intPart = total.slice(0, total.length - scale).replace(/^0+(?=\d)/, "");
      frac = total.slice(total.length - scale);
      if (intPart.length > MAX_DECIMAL_DIGITS) throw outOfRange("DECIMAL");
    } else frac = frac.padEnd(scale, "0");
  }
  const body = frac ? `${intPart}.${frac}` : intPart;
  return neg && /[1-9]/.test(body) ? `-${body}` : body;
}

// ---------------------------------------------------------------- literals

/**
 * The value of a SQL literal as the parser read it: integers that fit 32 bits are numbers, larger
 * ones bigint, and beyond 64 bits exact decimal text (PostgreSQL types those NUMERIC); decimals
 * keep their exact text (PostgreSQL types `1.5` as NUMERIC), or are a double when the text is
 * unknown. The expression compiler types it; INSERT uses it without compiling.
 *
 * @example
 * literalValue(1.5, "decimal", "1.50"); // "1.5"
 */
export function literalValue(
  v: null | boolean | string | number | bigint,
  numeric?: "int" | "decimal",
  text?: string,
): Value {
  if (v === null || typeof v === "boolean" || typeof v === "string") return v;
  if (numeric === "decimal" || (typeof v === "number" && !Number.isInteger(v))) {
    const exact = text === undefined ? undefined : normalizeDecimal(text);
    return exact === undefined ? Number(v) : exact;
  }
  if (typeof v === "bigint" ? v >= -2147483648n && v <= 2147483647n : Math.abs(v) <= 2147483647) {
    return Number(v);
  }
  const big = BigInt(v);
  return big >= BIGINT_MIN && big <= BIGINT_MAX ? big : big.toString();
}

/** The static type of an integer literal's value (INT, BIGINT, or DECIMAL beyond 64 bits). */
export function integerLiteralType(v: Value): TypeName {
  return typeof v === "number" ? INT_TYPE : typeof v === "bigint" ? BIGINT_TYPE : DECIMAL_TYPE;
}

const INT_TYPE: TypeName = { base: "INT" };
const BIGINT_TYPE: TypeName = { base: "BIGINT" };
const DECIMAL_TYPE: TypeName = { base: "DECIMAL" };

// ---------------------------------------------------------------- coercion on write

function mismatch(value: Value, t: TypeName, column?: string): DbError {
  const shown = typeof value === "string" ? `'${value.slice(0, 40)}'` : String(value);
  const where = column ? ` for column "${column}"` : "";
  return new DbError("TYPE_MISMATCH", `Cannot store ${shown} as ${typeToString(t)}${where}`);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INT_RANGES: Partial<Record<BaseType, [number, number]>> = {
  SMALLINT: [-32768, 32767],
  INT: [-2147483648, 2147483647],
};
export const BIGINT_MIN = -(2n ** 63n);
export const BIGINT_MAX = 2n ** 63n - 1n;
const INTEGRAL: ReadonlySet<string> = new Set(["SMALLINT", "INT", "BIGINT"]);

/**
 * Converts a value to the representation of column type `t`, or throws TYPE_MISMATCH.
 * Strings convert to numbers/timestamps when they parse exactly (as PostgreSQL does for
 * literals); numbers never silently become text.
 */
export function coerceValue(value: Value, t: TypeName, column?: string): Value {
  if (value === null) return null;
  switch (t.base) {
    case "BOOLEAN":
      if (typeof value === "boolean") return value;
      if (typeof value === "number" && (value === 0 || value === 1)) return value === 1;
      if (typeof value === "string") {
        const s = value.trim().toLowerCase();
        if (s === "true" || s === "t" || s === "1") return true;
        if (s === "false" || s === "f" || s === "0") return false;
      }
      throw mismatch(value, t, column);
    case "SMALLINT":
    case "INT": {
      let n: number | undefined;
      if (typeof value === "number" && Number.isInteger(value)) n = value;
      else if (typeof value === "bigint") n = Number(value);
      else if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) n = Number(value);
      const [lo, hi] = INT_RANGES[t.base]!;
      if (n === undefined || n < lo || n > hi) throw mismatch(value, t, column);
      return n;
    }
    case "BIGINT": {
      let n: bigint | undefined;
      if (typeof value === "bigint") n = value;
      else if (typeof value === "number" && Number.isInteger(value)) n = BigInt(value);
      else if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) n = BigInt(value);
      if (n === undefined || n < BIGINT_MIN || n > BIGINT_MAX) throw mismatch(value, t, column);
      return n;
    }
    case "REAL":
    case "DOUBLE": {
      // Finite values only: JSON has no infinity or NaN, so they could not be given back.
      let n: number | undefined;
      if (typeof value === "number" || typeof value === "bigint") n = Number(value);
      else if (typeof value === "string" && value.trim() !== "") n = Number(value);
      if (n !== undefined && t.base === "REAL") n = Math.fround(n);
      if (n === undefined || Number.isNaN(n)) throw mismatch(value, t, column);
      if (!Number.isFinite(n)) throw outOfRange(t.base, column);
      return n;
    }
    case "DECIMAL": {
      if (typeof value === "boolean" || value instanceof Uint8Array) {
        throw mismatch(value, t, column);
      }
      // DECIMAL(p) is DECIMAL(p,0), as in PostgreSQL.
      const scale = t.scale ?? (t.precision === undefined ? undefined : 0);
      const d = normalizeDecimal(String(value), scale);
      if (d === undefined) throw mismatch(value, t, column);
      if (t.precision !== undefined) {
        const digits = d.replace(/^-/, "").replace(".", "").replace(/^0+/, "").length;
        if (digits > t.precision) throw mismatch(value, t, column);
      }
      return d;
    }
    case "TEXT":
      if (typeof value === "string") {
        if (t.precision !== undefined && [...value].length > t.precision) {
          throw mismatch(value, t, column);
        }
        return value;
      }
      if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
        return String(value);
      }
      throw mismatch(value, t, column);
    case "BYTES":
      if (value instanceof Uint8Array) return value;
      if (typeof value === "string") return new TextEncoder().encode(value);
      throw mismatch(value, t, column);
    case "JSON":
      if (typeof value === "string") {
        try {
          return JSON.stringify(JSON.parse(value));
        } catch {
          throw mismatch(value, t, column);
        }
      }
      if (typeof value === "number" || typeof value === "boolean") return JSON.stringify(value);
      if (typeof value === "bigint") return value.toString();
      throw mismatch(value, t, column);
    case "UUID":
      if (typeof value === "string" && UUID_RE.test(value)) return value.toLowerCase();
      throw mismatch(value, t, column);
    case "DATE": {
      if (typeof value === "string") {
        const d = parseDate(value);
        if (d !== undefined) return d;
      }
      if (typeof value === "bigint") return formatTimestamp(checkTimestamp(value)).slice(0, 10);
      if (typeof value === "number" && Number.isInteger(value)) {
        return formatTimestamp(timestampFromMs(value, column)).slice(0, 10);
      }
      throw mismatch(value, t, column);
    }
    case "TIMESTAMP": {
      // A bigint is already a TIMESTAMP (nanoseconds); a number is epoch milliseconds (what
      // JSON parameters carry). assignValue applies the same rule to integer-typed SQL values.
      if (typeof value === "bigint") return checkTimestamp(value, undefined, column);
      if (typeof value === "string") {
        const ns = parseTimestamp(value);
        if (ns !== undefined) return checkTimestamp(ns, `'${value.trim()}'`, column);
      }
      if (typeof value === "number" && Number.isInteger(value)) {
        return timestampFromMs(value, column);
      }
      throw mismatch(value, t, column);
    }
  }
}

/**
 * Converts the value of an expression for a column of type `to` (INSERT, UPDATE, DEFAULT, key
 * and range hints): coerceValue, plus the rule that needs the expression's type — an integer
 * (literal, INT/BIGINT column or expression) stored as a TIMESTAMP or DATE is epoch
 * milliseconds, exactly as a number parameter is; a bigint of unknown type stays nanoseconds.
 *
 * @example
 * assignValue(1700000000000n, { base: "TIMESTAMP" }, { base: "BIGINT" });
 * // 1700000000000000000n
 */
export function assignValue(
  value: Value,
  to: TypeName,
  from?: TypeName | null,
  column?: string,
): Value {
  if (
    (to.base === "TIMESTAMP" || to.base === "DATE") && from && INTEGRAL.has(from.base) &&
    (typeof value === "bigint" || typeof value === "number") && Number.isInteger(Number(value))
  ) {
    const ns = timestampFromMs(value, column);
    return to.base === "DATE" ? formatTimestamp(ns).slice(0, 10) : ns;
  }
  return coerceValue(value, to, column);
}

/**
 * A literal's value converted for a column of type `to` (the INSERT fast path, which does not
 * compile literals): the same as assignValue with the literal's static type.
 */
export function assignLiteral(e: LiteralExpr, to: TypeName, column?: string): Value {
  return assignLiteralValue(literalValue(e.value, e.numeric, e.text), e.numeric, to, column);
}

/** `assignLiteral` of a literal's value already converted by `literalValue`. */
export function assignLiteralValue(
  v: Value,
  numeric: LiteralExpr["numeric"],
  to: TypeName,
  column?: string,
): Value {
  return assignValue(v, to, numeric === "int" ? integerLiteralType(v) : null, column);
}

/**
 * A literal's static type from its source value and `literalValue`'s result: TEXT, BOOLEAN,
 * INT / BIGINT / DECIMAL by an integer's size, DECIMAL or DOUBLE for a decimal; null for NULL.
 */
export function literalType(
  source: LiteralExpr["value"],
  value: Value,
  numeric: LiteralExpr["numeric"],
): TypeName | null {
  if (value === null) return null;
  if (typeof value === "boolean") return BOOL_TYPE;
  if (typeof source === "string") return TEXT_TYPE;
  if (numeric === "decimal" || (typeof source === "number" && !Number.isInteger(source))) {
    return typeof value === "string" ? DECIMAL_TYPE : DOUBLE_TYPE;
  }
  return integerLiteralType(value);
}

const BOOL_TYPE: TypeName = { base: "BOOLEAN" };
const TEXT_TYPE: TypeName = { base: "TEXT" };
const DOUBLE_TYPE: TypeName = { base: "DOUBLE" };

// ---------------------------------------------------------------- comparison

function typeRank(v: Exclude<Value, null>): number {
  switch (typeof v) {
    case "boolean":
      return 0;
    case "number":
    case "bigint":
      return 1;
    case "string":
      return 2;
    default:
      return 3;
  }
}

/** Numeric value of a decimal string, for comparisons across representations. */
function decimalCompare(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (x !== y) return x < y ? -1 : 1;
  // Same double: compare exactly on scaled integers.
  const [ai, af = ""] = a.split(".");
  const [bi, bf = ""] = b.split(".");
  const scale = Math.max(af.length, bf.length);
  const X = BigInt(ai + af.padEnd(scale, "0"));
  const Y = BigInt(bi + bf.padEnd(scale, "0"));
  return X < Y ? -1 : X > Y ? 1 : 0;
}

/**
 * Total order over non-null values of the same SQL type. `decimal` says both sides are
 * DECIMAL strings (compared numerically, not as text). Nulls are handled by callers.
 */
export function compareValues(
  a: Exclude<Value, null>,
  b: Exclude<Value, null>,
  decimal = false,
): number {
  if (decimal && typeof a === "string" && typeof b === "string") return decimalCompare(a, b);
  if (
    typeof a === typeof b || (typeof a === "number" && typeof b === "bigint") ||
    (typeof a === "bigint" && typeof b === "number")
  ) {
    if (a instanceof Uint8Array && b instanceof Uint8Array) {
      const n = Math.min(a.length, b.length);
      for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
      return a.length - b.length;
    }
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return typeRank(a) - typeRank(b);
}

/** SQL equality for non-null values (used by hashing joins, DISTINCT, GROUP BY keys). */
export function valueKey(v: Value): string {
  if (v === null) return "n";
  switch (typeof v) {
    case "boolean":
      return v ? "t" : "f";
    case "number":
      return Number.isInteger(v) ? `i${v}` : `d${v}`;
    case "bigint":
      return `i${v}`;
    case "string":
      return `s${v}`;
    default:
      return `b${btoa(String.fromCharCode(...v))}`;
  }
}
