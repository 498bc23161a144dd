// Comparison coercions: how two sides of a comparison with different static types are brought
// to one representation (chosen once at compile time), and the text → number parsing they and
// arithmetic share.

import type { TypeName } from "../ast.ts";
import { assertNever, DbError } from "../../errors.ts";
import { coerceValue, formatTimestamp, msToNs, parseDate, parseTimestamp } from "../values.ts";
import type { Value } from "../values.ts";
import { toDecimal } from "./decimal.ts";

/** Converts a value for comparison with a value of another type (NULL stays NULL). */
export type Conversion = (v: Value) => Value;

/** How two sides of a comparison are brought to one representation. */
export interface ComparePlan {
  readonly left?: Conversion;
  readonly right?: Conversion;
  /** Both sides are decimal text: compare numerically. */
  readonly decimal: boolean;
}

export const NUMERIC: ReadonlySet<string> = new Set([
  "SMALLINT",
  "INT",
  "BIGINT",
  "REAL",
  "DOUBLE",
  "DECIMAL",
]);
export const INTEGRAL: ReadonlySet<string> = new Set(["SMALLINT", "INT", "BIGINT"]);

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

export function badInput(v: Value, base: string): DbError {
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

export function badThrow(v: Value, base: string): never {
  throw badInput(v, base);
}
