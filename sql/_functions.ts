// Scalar building blocks for the expression compiler: the built-in function table, CAST, LIKE
// patterns, decimal arithmetic and id generators. Design decision: every function here works on
// already-evaluated values (no AST), so eval.ts compiles once and calls these per row.

import type { TypeName } from "./ast.ts";
import { assertNever, DbError } from "../errors.ts";
import type { EvalContext } from "./source.ts";
import {
  assignValue,
  BIGINT_MAX,
  BIGINT_MIN,
  coerceValue,
  formatTimestamp,
  MAX_DECIMAL_DIGITS,
  msToNs,
  normalizeDecimal,
  outOfRange,
  parseDate,
  parseTimestamp,
  TIMESTAMP_MAX,
  TIMESTAMP_MIN,
  typeToString,
} from "./values.ts";
import type { Value } from "./values.ts";

// ---------------------------------------------------------------- text

const decoder = new TextDecoder();

/**
 * The longest text a function or `||` may build (characters): above any request body, so only
 * computed growth (CONCAT of a value with itself, again and again) meets it — as an error with a
 * code, never as the engine running out of string length or memory.
 */
export const MAX_BUILT_TEXT = 16 * 1024 * 1024;

/** `a + b`, refused (INVALID_PARAMETER) when the result would be longer than MAX_BUILT_TEXT. */
export function joinText(a: string, b: string): string {
  if (a.length + b.length > MAX_BUILT_TEXT) {
    throw new DbError(
      "INVALID_PARAMETER",
      `A text result would be longer than ${MAX_BUILT_TEXT} characters`,
    );
  }
  return a + b;
}

/** Text form of a value for `||`, CONCAT and CAST AS TEXT; `type` tells a TIMESTAMP from a BIGINT. */
export function textOf(v: Exclude<Value, null>, type: TypeName | null): string {
  if (typeof v === "string") return v;
  if (typeof v === "bigint" && type?.base === "TIMESTAMP") return formatTimestamp(v);
  if (v instanceof Uint8Array) return decoder.decode(v);
  return String(v);
}

/** Number of characters (code points), as PostgreSQL's `length`. */
export function charLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

/** `SUBSTR(s, start[, len])`, 1-based, with PostgreSQL's handling of start < 1. */
export function substr(s: string, start: number, len?: number): string {
  if (len !== undefined && len < 0) {
    throw new DbError("INVALID_PARAMETER", "Negative substring length not allowed");
  }
  const chars = Array.from(s);
  const end = len === undefined ? chars.length + 1 : start + len;
  return chars.slice(Math.max(start, 1) - 1, Math.max(end - 1, 0)).join("");
}

const likeCache = new Map<string, RegExp>();

/**
 * Compiles a LIKE pattern to an anchored RegExp (cached): `%` any run, `_` any one character,
 * and `escape` (backslash by default, as PostgreSQL; '' for none) makes the next character
 * literal; a pattern ending in the escape character is INVALID_PARAMETER (as PostgreSQL).
 * Characters are code points (`u`).
 */
export function likeRegExp(pattern: string, caseInsensitive: boolean, escape = "\\"): RegExp {
  if (Array.from(escape).length > 1) {
    throw new DbError("INVALID_PARAMETER", "ESCAPE must be a single character (or '')");
  }
  const key = `${caseInsensitive ? "i" : "s"}${escape.length}:${escape}${pattern}`; // unambiguous
  let re = likeCache.get(key);
  if (re) return re;
  let src = "^";
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === escape) {
      if (i + 1 === chars.length) {
        throw new DbError("INVALID_PARAMETER", "LIKE pattern must not end with escape character");
      }
      src += escapeRe(chars[++i]);
    } else if (c === "%") src += "[\\s\\S]*";
    else if (c === "_") src += "[\\s\\S]";
    else src += escapeRe(c);
  }
  re = new RegExp(src + "$", caseInsensitive ? "iu" : "u");
  if (likeCache.size > 500) likeCache.clear();
  likeCache.set(key, re);
  return re;
}

/** A RegExp source matching `c` literally under the `u` flag (which rejects needless escapes). */
function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? "\\" + c : c;
}

// ---------------------------------------------------------------- decimals

/** Decimal text → scaled integer. */
function parseDec(s: string): [bigint, number] {
  const neg = s.charCodeAt(0) === 45; /* - */
  const body = neg || s.charCodeAt(0) === 43 ? s.slice(1) : s;
  const dot = body.indexOf(".");
  const int = dot < 0 ? body : body.slice(0, dot);
  const frac = dot < 0 ? "" : body.slice(dot + 1);
  const v = BigInt((int || "0") + frac);
  return [neg ? -v : v, frac.length];
}

function formatDec(v: bigint, scale: number): string {
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(scale + 1, "0");
  const body = scale ? `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}` : s;
  return neg && /[1-9]/.test(body) ? `-${body}` : body;
}

const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

/** Canonical decimal text of any numeric-looking value, or TYPE_MISMATCH. */
export function toDecimal(v: Exclude<Value, null>): string {
  if (typeof v === "string" && PLAIN_DECIMAL.test(v)) return v; // keeps its scale: 10.50
  const d = typeof v === "boolean" || v instanceof Uint8Array ? undefined : normalizeDecimal(
    String(v),
  );
  if (d === undefined) throw new DbError("TYPE_MISMATCH", `Cannot use ${String(v)} as DECIMAL`);
  return d;
}

/**
 * Exact `+ - *` on decimal text via scaled bigints; `/` and `%` go through doubles (about 15-17
 * significant digits — the documented precision limit of DECIMAL division here). Results keep
 * within MAX_DECIMAL_DIGITS: a product's fraction is rounded to that many digits (as
 * PostgreSQL caps its scale), a larger integer part is TYPE_MISMATCH "DECIMAL out of range".
 */
export function decimalArith(op: string, a: string, b: string): string {
  if (op === "/" || op === "%") {
    const y = Number(b);
    if (y === 0) throw divisionByZero();
    const r = op === "/" ? Number(a) / y : Number(a) % y;
    if (!Number.isFinite(r)) throw outOfRange("DECIMAL");
    return normalizeDecimal(String(r))!;
  }
  const [x, sx] = parseDec(a);
  const [y, sy] = parseDec(b);
  if (op === "*") {
    let scale = sx + sy;
    let v = x * y;
    if (scale > MAX_DECIMAL_DIGITS) {
      v = roundScaled(v, 10n ** BigInt(scale - MAX_DECIMAL_DIGITS));
      scale = MAX_DECIMAL_DIGITS;
    }
    return checkDecimal(v, scale);
  }
  const s = Math.max(sx, sy);
  const X = x * 10n ** BigInt(s - sx);
  const Y = y * 10n ** BigInt(s - sy);
  return checkDecimal(op === "+" ? X + Y : X - Y, s);
}

/** `v / unit` rounded half away from zero (unit > 0). */
function roundScaled(v: bigint, unit: bigint): bigint {
  const q = v / unit;
  const r = v % unit;
  const twice = (r < 0n ? -r : r) * 2n;
  return twice >= unit ? q + (v < 0n ? -1n : 1n) : q;
}

/** A scaled integer as decimal text, or "DECIMAL out of range" past MAX_DECIMAL_DIGITS. */
function checkDecimal(v: bigint, scale: number): string {
  const text = formatDec(v, scale);
  const intDigits = text.length - (scale ? scale + 1 : 0) - (text.startsWith("-") ? 1 : 0);
  if (intDigits > MAX_DECIMAL_DIGITS) throw outOfRange("DECIMAL");
  return text;
}

/** The error for `/ 0` and `% 0`. */
export function divisionByZero(): DbError {
  return new DbError("INVALID_PARAMETER", "Division by zero");
}

// ---------------------------------------------------------------- CAST

/**
 * `CAST(v AS to)`: coerceValue plus the conversions PostgreSQL allows for explicit casts
 * (anything → TEXT, TIMESTAMP → BIGINT ns, BOOLEAN ↔ integers, rounding of fractions to integers)
 * and integers → TIMESTAMP / DATE as epoch milliseconds.
 */
export function castValue(v: Value, from: TypeName | null, to: TypeName): Value {
  if (v === null) return null;
  try {
    switch (to.base) {
      case "TEXT":
        return coerceValue(textOf(v, from), to);
      case "SMALLINT":
      case "INT":
      case "BIGINT": {
        if (typeof v === "boolean") return coerceValue(v ? 1 : 0, to);
        if (typeof v === "number" && !Number.isInteger(v)) return coerceValue(roundHalfAway(v), to);
        if (typeof v === "string" && v.includes(".")) {
          return coerceValue(normalizeDecimal(v, 0) ?? v, to);
        }
        return coerceValue(v, to);
      }
      case "BOOLEAN":
        if (typeof v === "number" || typeof v === "bigint") return v !== 0 && v !== 0n;
        return coerceValue(v, to);
      case "REAL":
      case "DOUBLE":
        if (typeof v === "boolean") return v ? 1 : 0;
        return coerceValue(v, to);
      case "JSON":
        if (
          typeof v === "string" && from?.base !== "JSON" && from !== null && from.base !== "TEXT"
        ) {
          return JSON.stringify(v);
        }
        return coerceValue(v, to);
      case "DATE":
      case "TIMESTAMP":
        // Integers are epoch milliseconds, whatever their type (SQL literal, BIGINT column…).
        return assignValue(v, to, from);
      case "DECIMAL":
      case "BYTES":
      case "UUID":
        return coerceValue(v, to);
      default:
        return assertNever(to.base, "type");
    }
  } catch (err) {
    if (err instanceof DbError && err.code === "TYPE_MISMATCH") {
      const shown = typeof v === "string" ? `'${v.slice(0, 40)}'` : String(v);
      throw new DbError("TYPE_MISMATCH", `Cannot cast ${shown} to ${typeToString(to)}`);
    }
    throw err;
  }
}

/**
 * Round half away from zero (PostgreSQL's numeric rounding) of a double at `digits` decimal
 * places; digits past a double's precision leave it unchanged, so any `digits` is safe.
 */
export function roundHalfAway(x: number, digits = 0): number {
  const a = Math.abs(x);
  let r: number;
  if (digits >= 0) {
    const f = 10 ** digits;
    const scaled = a * f;
    // Past 2^53 a double has no fraction left to round at this scale.
    if (!Number.isFinite(scaled) || scaled >= 2 ** 53) return x;
    r = Math.round(scaled) / f;
  } else {
    const f = 10 ** -digits;
    r = Number.isFinite(f) ? Math.round(a / f) * f : 0;
  }
  return x < 0 && r !== 0 ? -r : r;
}

// ---------------------------------------------------------------- ids

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** RFC 9562 UUID version 7: 48-bit Unix ms, version, 74 random bits. */
export function uuidV7(nowMs: number): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = nowMs;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** ULID: 10 chars of ms timestamp + 16 chars of randomness, Crockford base32. */
export function ulid(nowMs: number): string {
  let time = "";
  let ms = nowMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[ms % 32] + time;
    ms = Math.floor(ms / 32);
  }
  const r = crypto.getRandomValues(new Uint8Array(16));
  let rand = "";
  for (let i = 0; i < 16; i++) rand += CROCKFORD[r[i] & 31];
  return time + rand;
}

// ---------------------------------------------------------------- comparison coercions

/** Converts a value for comparison with a value of another type (NULL stays NULL). */
export type Conversion = (v: Value) => Value;

/** How two sides of a comparison are brought to one representation. */
export interface ComparePlan {
  readonly left?: Conversion;
  readonly right?: Conversion;
  /** Both sides are decimal text: compare numerically. */
  readonly decimal: boolean;
}

const NUMERIC: ReadonlySet<string> = new Set([
  "SMALLINT",
  "INT",
  "BIGINT",
  "REAL",
  "DOUBLE",
  "DECIMAL",
]);
const INTEGRAL: ReadonlySet<string> = new Set(["SMALLINT", "INT", "BIGINT"]);

/**
 * Chooses conversions from the static types of both sides: a loosely typed side (unknown, TEXT)
 * takes the other side's type (a string compared with a TIMESTAMP is parsed as a timestamp);
 * DECIMAL compares numerically; DATE widens to TIMESTAMP.
 */
export function comparePlan(ta: TypeName | null, tb: TypeName | null): ComparePlan {
  const a = ta?.base;
  const b = tb?.base;
  if (a === "DECIMAL" || b === "DECIMAL") {
    const other = a === "DECIMAL" ? b : a;
    if (other === undefined || NUMERIC.has(other) || other === "TEXT") {
      return {
        left: a === "DECIMAL" ? undefined : decimalConversion,
        right: b === "DECIMAL" ? undefined : decimalConversion,
        decimal: true,
      };
    }
  }
  if (a === b) return { decimal: false };
  // An integer compared with a TIMESTAMP is epoch milliseconds, as everywhere.
  if (a === "TIMESTAMP" && b && INTEGRAL.has(b)) return { right: fromMs, decimal: false };
  if (b === "TIMESTAMP" && a && INTEGRAL.has(a)) return { left: fromMs, decimal: false };
  if (a === "DATE" && b === "TIMESTAMP") return { left: converterTo("TIMESTAMP"), decimal: false };
  if (a === "TIMESTAMP" && b === "DATE") return { right: converterTo("TIMESTAMP"), decimal: false };
  if (a && b && NUMERIC.has(a) && NUMERIC.has(b)) return { decimal: false };
  if (a === undefined) return { left: converterTo(b!), decimal: false };
  if (b === undefined) return { right: converterTo(a), decimal: false };
  if (a === "TEXT") return { left: converterTo(b), decimal: false };
  if (b === "TEXT") return { right: converterTo(a), decimal: false };
  return { decimal: false };
}

const decimalConversion: Conversion = (v) => v === null ? null : toDecimal(v);
const fromMs: Conversion = (v) => typeof v === "number" || typeof v === "bigint" ? msToNs(v) : v;

function badInput(v: Value, base: string): DbError {
  const shown = typeof v === "string" ? `'${v.slice(0, 40)}'` : String(v);
  return new DbError("TYPE_MISMATCH", `Invalid input for type ${base}: ${shown}`);
}

/** A numeric value from text: integers stay exact (bigint beyond 2^53). */
export function parseNumber(s: string): number | bigint {
  const t = s.trim();
  if (/^[+-]?\d+$/.test(t)) {
    const n = Number(t);
    return Number.isSafeInteger(n) ? n : BigInt(t);
  }
  const n = t === "" ? NaN : Number(t);
  if (Number.isNaN(n)) throw badInput(s, "NUMERIC");
  return n;
}

/** A converter of any value to the representation of `base`, for comparisons. */
export function converterTo(base: TypeName["base"]): Conversion {
  switch (base) {
    case "TIMESTAMP":
      return (v) => {
        if (v === null || typeof v === "bigint") return v;
        if (typeof v === "string") return parseTimestamp(v) ?? badThrow(v, base);
        if (typeof v === "number") return msToNs(v); // unchecked: compares with far values
        return coerceValue(v, { base });
      };
    case "DATE":
      return (v) => {
        if (typeof v === "string") return parseDate(v) ?? badThrow(v, base);
        if (typeof v === "bigint") return formatTimestamp(v).slice(0, 10);
        return v;
      };
    case "SMALLINT":
    case "INT":
    case "BIGINT":
    case "REAL":
    case "DOUBLE":
      return (v) => typeof v === "string" ? parseNumber(v) : v;
    case "DECIMAL":
      return decimalConversion;
    case "UUID":
      return (v) => typeof v === "string" ? v.toLowerCase() : v;
    case "BOOLEAN":
      return (v) => v === null || typeof v === "boolean" ? v : coerceValue(v, { base });
    case "TEXT":
      return (v) =>
        typeof v === "number" || typeof v === "bigint" || typeof v === "boolean" ? String(v) : v;
    case "JSON":
      return (v) => {
        if (typeof v !== "string") return v === null || v instanceof Uint8Array ? v : String(v);
        try {
          return JSON.stringify(JSON.parse(v));
        } catch {
          return v;
        }
      };
    case "BYTES":
      return (v) => typeof v === "string" ? new TextEncoder().encode(v) : v;
    default:
      return assertNever(base, "type");
  }
}

function badThrow(v: Value, base: string): never {
  throw badInput(v, base);
}

// ---------------------------------------------------------------- arithmetic

/** How `+ - * / %` compute: integers (number, bigint beyond 2^53), doubles, or exact decimals. */
export type ArithMode = "int" | "float" | "decimal";

/** Returns a computed value when it fits its type, else throws TYPE_MISMATCH "… out of range". */
export type RangeCheck = (v: Value) => Value;

function integerRange(lo: bigint, hi: bigint, type: string): RangeCheck {
  const low = Number(lo);
  const high = Number(hi);
  return (v) => {
    if (typeof v === "number") {
      // Fractions reach here only from untyped parameters; they must still be finite.
      if (Number.isInteger(v) ? v < low || v > high : !Number.isFinite(v)) throw outOfRange(type);
    } else if (typeof v === "bigint" && (v < lo || v > hi)) throw outOfRange(type);
    return v;
  };
}

const DOUBLE_RANGE: RangeCheck = (v) => {
  if (typeof v === "number" && !Number.isFinite(v)) throw outOfRange("DOUBLE");
  return v;
};
const BIGINT_RANGE = integerRange(BIGINT_MIN, BIGINT_MAX, "BIGINT");
const RANGES: Partial<Record<TypeName["base"], RangeCheck>> = {
  SMALLINT: integerRange(-32768n, 32767n, "SMALLINT"),
  INT: integerRange(-2147483648n, 2147483647n, "INT"),
  BIGINT: BIGINT_RANGE,
  TIMESTAMP: integerRange(TIMESTAMP_MIN, TIMESTAMP_MAX, "TIMESTAMP"),
  REAL: (v) => {
    if (typeof v === "number" && !Number.isFinite(Math.fround(v))) throw outOfRange("REAL");
    return v;
  },
  DOUBLE: DOUBLE_RANGE,
};
/** Values of unknown type: at most a BIGINT, finite when a double. */
const ANY_RANGE = BIGINT_RANGE;

/**
 * The range check for values computed with static type `t` (DECIMAL checks its own digits in
 * decimalArith; other types are not computed). PostgreSQL: "integer out of range".
 *
 * @example
 * rangeCheck({ base: "INT" })(2147483648); // throws TYPE_MISMATCH "INT out of range"
 */
export function rangeCheck(t: TypeName | null): RangeCheck {
  return (t && RANGES[t.base]) ?? ANY_RANGE;
}

/** Mode, static result type and range check of an arithmetic operator from its operand types. */
export function arithmeticType(
  op: string,
  ta: TypeName | null,
  tb: TypeName | null,
): { mode: ArithMode; type: TypeName | null; range: RangeCheck } {
  const a = ta?.base;
  const b = tb?.base;
  if (a === "REAL" || a === "DOUBLE" || b === "REAL" || b === "DOUBLE") {
    return { mode: "float", type: { base: "DOUBLE" }, range: DOUBLE_RANGE };
  }
  if (a === "DECIMAL" || b === "DECIMAL") {
    return { mode: "decimal", type: { base: "DECIMAL" }, range: ANY_RANGE };
  }
  if (a === "TIMESTAMP" || b === "TIMESTAMP") {
    const diff = a === "TIMESTAMP" && b === "TIMESTAMP" && op === "-";
    const type: TypeName = { base: diff ? "BIGINT" : "TIMESTAMP" };
    return { mode: "int", type, range: rangeCheck(type) };
  }
  if (a === "BIGINT" || b === "BIGINT") {
    return { mode: "int", type: { base: "BIGINT" }, range: BIGINT_RANGE };
  }
  if (a && b && INTEGRAL.has(a) && INTEGRAL.has(b)) {
    return { mode: "int", type: { base: "INT" }, range: RANGES.INT! };
  }
  // One side's type is unknown (a parameter, text): typed by the other, checked as BIGINT.
  const known = a && INTEGRAL.has(a) ? ta : b && INTEGRAL.has(b) ? tb : null;
  return { mode: "int", type: known, range: ANY_RANGE };
}

function toNumeric(v: Exclude<Value, null>): number | bigint {
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (typeof v === "string") return parseNumber(v);
  throw badInput(v, "NUMERIC");
}

function floatOp(op: string, x: number, y: number): number {
  switch (op) {
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      return x * y;
    case "/":
      if (y === 0) throw divisionByZero();
      return x / y;
    default:
      if (y === 0) throw divisionByZero();
      return x % y;
  }
}

function bigOp(op: string, x: bigint, y: bigint): bigint {
  switch (op) {
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      return x * y;
    case "/":
      if (y === 0n) throw divisionByZero();
      return x / y;
    default:
      if (y === 0n) throw divisionByZero();
      return x % y;
  }
}

/** Applies an arithmetic operator to two non-null values in the given mode. */
export function arithmetic(
  op: string,
  a: Exclude<Value, null>,
  b: Exclude<Value, null>,
  mode: ArithMode,
): Value {
  if (mode === "decimal") return decimalArith(op, toDecimal(a), toDecimal(b));
  const x = toNumeric(a);
  const y = toNumeric(b);
  if (mode === "float") return floatOp(op, Number(x), Number(y));
  if (typeof x === "number" && typeof y === "number") {
    if (!Number.isInteger(x) || !Number.isInteger(y)) return floatOp(op, x, y);
    const r = op === "/" ? (y === 0 ? -1 : Math.trunc(x / y)) : floatOp(op, x, y);
    if (op === "/" && y === 0) throw divisionByZero();
    if (Number.isSafeInteger(r)) return r + 0; // + 0 turns -0 into 0
    return bigOp(op, BigInt(x), BigInt(y));
  }
  if (typeof x === "number" && !Number.isInteger(x)) return floatOp(op, x, Number(y));
  if (typeof y === "number" && !Number.isInteger(y)) return floatOp(op, Number(x), y);
  return bigOp(op, BigInt(x), BigInt(y));
}

/** Unary minus. */
export function negate(v: Value): Value {
  if (v === null) return null;
  if (typeof v === "number") return 0 - v;
  if (typeof v === "bigint") return -v;
  if (typeof v === "string") {
    const d = toDecimal(v);
    return d.startsWith("-") ? d.slice(1) : d === "0" ? d : `-${d}`;
  }
  throw badInput(v, "NUMERIC");
}

// ---------------------------------------------------------------- JSON access

let lastJsonText: string | undefined;
let lastJson: unknown;

/** `a->>b` (text of the member) and `a->b` (JSON text of the member); missing → NULL. */
export function jsonAccess(
  a: Exclude<Value, null>,
  key: Exclude<Value, null>,
  asText: boolean,
): Value {
  if (typeof a !== "string") throw badInput(a, "JSON");
  let doc: unknown;
  if (a === lastJsonText) doc = lastJson;
  else {
    try {
      doc = JSON.parse(a);
    } catch {
      throw badInput(a, "JSON");
    }
    lastJsonText = a;
    lastJson = doc;
  }
  let member: unknown;
  if (typeof key === "number" || typeof key === "bigint") {
    if (!Array.isArray(doc)) return null;
    const i = Number(key);
    member = doc[i < 0 ? doc.length + i : i];
  } else if (doc !== null && typeof doc === "object" && !Array.isArray(doc)) {
    const k = String(key);
    member = Object.hasOwn(doc, k) ? (doc as Record<string, unknown>)[k] : undefined;
  }
  if (member === undefined) return null;
  if (asText) {
    return member === null ? null : typeof member === "string" ? member : JSON.stringify(member);
  }
  return JSON.stringify(member);
}

// ---------------------------------------------------------------- scalar functions

/** A built-in scalar function. */
export interface FunctionDef {
  /** Minimum and maximum number of arguments. */
  readonly arity: readonly [number, number];
  readonly type: (args: readonly (TypeName | null)[]) => TypeName | null;
  /** Returns NULL when any argument is NULL, without calling `call`. */
  readonly strict: boolean;
  /** A new value per call (ids): never evaluated once per statement. */
  readonly volatile?: boolean;
  readonly call: (
    args: readonly Value[],
    ctx: EvalContext,
    types: readonly (TypeName | null)[],
  ) => Value;
}

const T = (base: TypeName["base"]) => () => ({ base });
const str = (v: Value, t: TypeName | null = null) => textOf(v!, t);
const INF = Number.POSITIVE_INFINITY;

function trimChars(s: string, chars: string, left: boolean, right: boolean): string {
  let i = 0;
  let j = s.length;
  while (left && i < j && chars.includes(s[i])) i++;
  while (right && j > i && chars.includes(s[j - 1])) j--;
  return s.slice(i, j);
}

function trimDef(left: boolean, right: boolean): FunctionDef {
  return {
    arity: [1, 2],
    type: T("TEXT"),
    strict: true,
    call: (a, _c, t) => trimChars(str(a[0], t[0]), a.length > 1 ? str(a[1]) : " ", left, right),
  };
}

function abs(v: Value): Value {
  const n = typeof v === "string" ? toDecimal(v) : v;
  if (typeof n === "string") return n.startsWith("-") ? n.slice(1) : n;
  if (typeof n === "number") return Math.abs(n);
  if (typeof n === "bigint") return n < 0n ? -n : n;
  throw badInput(v, "NUMERIC");
}

/** ROUND's digits argument: an integer within ±MAX_DECIMAL_DIGITS, else INVALID_PARAMETER. */
function roundDigits(v: Value): number {
  const n = typeof v === "number" || typeof v === "bigint"
    ? Number(v)
    : typeof v === "string" && /^-?\d+$/.test(v)
    ? Number(v)
    : NaN;
  if (!Number.isInteger(n) || Math.abs(n) > MAX_DECIMAL_DIGITS) {
    const shown = typeof v === "string" ? v.slice(0, 40) : String(v);
    throw new DbError(
      "INVALID_PARAMETER",
      `ROUND digits must be an integer from -${MAX_DECIMAL_DIGITS} to ${MAX_DECIMAL_DIGITS}, ` +
        `not ${shown}`,
    );
  }
  return n;
}

/** An integer rounded half away from zero to a multiple of 10^-digits (digits < 0). */
function roundInteger(v: bigint, digits: number): bigint {
  const unit = 10n ** BigInt(-digits);
  return roundScaled(v, unit) * unit;
}

function round(v: Value, digits: number, t: TypeName | null): Value {
  if (typeof v === "bigint") return digits >= 0 ? v : roundInteger(v, digits);
  if (typeof v === "string" && (t?.base === "DECIMAL" || t === null)) {
    if (digits >= 0) return normalizeDecimal(v, digits) ?? badThrow(v, "DECIMAL");
    const [x, scale] = parseDec(toDecimal(v));
    const rounded = roundScaled(x, 10n ** BigInt(scale - digits)) * 10n ** BigInt(-digits);
    return rounded.toString();
  }
  if (typeof v === "number") {
    if (digits < 0 && Number.isSafeInteger(v)) return Number(roundInteger(BigInt(v), digits));
    return roundHalfAway(v, digits);
  }
  throw badInput(v, "NUMERIC");
}

/** ROUND's result type: PostgreSQL's unconstrained NUMERIC for decimals, not the argument's. */
function roundType(t: TypeName | null): TypeName {
  if (t?.base === "DECIMAL") return { base: "DECIMAL" };
  return t && NUMERIC.has(t.base) && t.base !== "REAL" ? t : { base: "DOUBLE" };
}

const BUILTINS = {
  NOW: { arity: [0, 0], type: T("TIMESTAMP"), strict: false, call: (_a, c) => c.now },
  CURRENT_TIMESTAMP: { arity: [0, 0], type: T("TIMESTAMP"), strict: false, call: (_a, c) => c.now },
  CURRENT_USER: { arity: [0, 0], type: T("TEXT"), strict: false, call: (_a, c) => c.user },
  SNOWFLAKE_ID: {
    arity: [0, 0],
    type: T("BIGINT"),
    strict: false,
    volatile: true,
    call: (_a, c) => c.nextId(),
  },
  UUID_V7: {
    arity: [0, 0],
    type: T("UUID"),
    strict: false,
    volatile: true,
    call: (_a, c) => uuidV7(Number(c.now / 1_000_000n)),
  },
  ULID: {
    arity: [0, 0],
    type: T("TEXT"),
    strict: false,
    volatile: true,
    call: (_a, c) => ulid(Number(c.now / 1_000_000n)),
  },
  LOWER: {
    arity: [1, 1],
    type: T("TEXT"),
    strict: true,
    call: (a, _c, t) => str(a[0], t[0]).toLowerCase(),
  },
  UPPER: {
    arity: [1, 1],
    type: T("TEXT"),
    strict: true,
    call: (a, _c, t) => str(a[0], t[0]).toUpperCase(),
  },
  LENGTH: {
    arity: [1, 1],
    type: T("INT"),
    strict: true,
    call: (a, _c, t) => a[0] instanceof Uint8Array ? a[0].length : charLength(str(a[0], t[0])),
  },
  TRIM: trimDef(true, true),
  LTRIM: trimDef(true, false),
  RTRIM: trimDef(false, true),
  SUBSTR: {
    arity: [2, 3],
    type: T("TEXT"),
    strict: true,
    call: (a, _c, t) =>
      substr(str(a[0], t[0]), Number(a[1]), a.length > 2 ? Number(a[2]) : undefined),
  },
  CONCAT: {
    arity: [1, INF],
    type: T("TEXT"),
    strict: false,
    call: (a, _c, t) => {
      let s = "";
      for (let i = 0; i < a.length; i++) if (a[i] !== null) s = joinText(s, str(a[i], t[i]));
      return s;
    },
  },
  ABS: {
    arity: [1, 1],
    type: (t) => t[0],
    strict: true,
    call: (a, _c, t) => rangeCheck(t[0])(abs(a[0])),
  },
  ROUND: {
    arity: [1, 2],
    type: (t) => roundType(t[0]),
    strict: true,
    call: (a, _c, t) =>
      rangeCheck(roundType(t[0]))(round(a[0], a.length > 1 ? roundDigits(a[1]) : 0, t[0])),
  },
} satisfies Record<string, FunctionDef>;
/** The built-in scalar functions by upper-case name (COALESCE/NULLIF live in eval.ts). */
export const FUNCTIONS: Readonly<Record<string, FunctionDef>> = {
  ...BUILTINS,
  SUBSTRING: BUILTINS.SUBSTR,
  CHAR_LENGTH: BUILTINS.LENGTH,
};
