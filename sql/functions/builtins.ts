// The built-in scalar function table: arity, static result type, strictness and the call on
// already-evaluated arguments. COALESCE and NULLIF are not here: they need lazy arguments, so the
// expression compiler handles them itself.

import type { TypeName } from "../ast.ts";
import { DbError } from "../../errors.ts";
import type { EvalContext } from "../source.ts";
import { MAX_DECIMAL_DIGITS, normalizeDecimal } from "../values.ts";
import type { Value } from "../values.ts";
import { rangeCheck } from "./arith.ts";
import { badInput, badThrow, NUMERIC } from "./coerce.ts";
import { parseDec, roundHalfAway, roundScaled, toDecimal } from "./decimal.ts";
import { ulid, uuidV7 } from "./ids.ts";
import { charLength, joinText, substr, textOf } from "./text.ts";

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
/** The built-in scalar functions by upper-case name (COALESCE/NULLIF live in eval/). */
export const FUNCTIONS: Readonly<Record<string, FunctionDef>> = {
  ...BUILTINS,
  SUBSTRING: BUILTINS.SUBSTR,
  CHAR_LENGTH: BUILTINS.LENGTH,
};
