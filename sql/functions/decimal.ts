// Exact DECIMAL arithmetic on canonical decimal text via scaled bigints, and the rounding rules
// shared by CAST and ROUND. Kept apart from the generic arithmetic because decimals never go
// through doubles for `+ - *`.

import { DbError } from "../../errors.ts";
import { MAX_DECIMAL_DIGITS, normalizeDecimal, outOfRange } from "../values.ts";
import type { Value } from "../values.ts";

/** Decimal text → scaled integer. */
export function parseDec(s: string): [bigint, number] {
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
export function roundScaled(v: bigint, unit: bigint): bigint {
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
