// Arithmetic: the mode (integer, double, exact decimal) and static result type of `+ - * / %`
// chosen from operand types at compile time, the per-type range checks, and the operators on
// already-evaluated values.

import type { TypeName } from "../ast.ts";
import { BIGINT_MAX, BIGINT_MIN, outOfRange, TIMESTAMP_MAX, TIMESTAMP_MIN } from "../values.ts";
import type { Value } from "../values.ts";
import { badInput, INTEGRAL, parseNumber } from "./coerce.ts";
import { decimalArith, divisionByZero, toDecimal } from "./decimal.ts";

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
