// The scalar functions room: built-in functions, CAST, comparison coercions, arithmetic, decimal
// maths, LIKE and JSON access — all on already-evaluated values, never on syntax trees. It may
// import the sql vocabulary (ast.ts, values.ts, source.ts) and errors.ts; eval/ and exec/ use it.

export { arithmetic, arithmeticType, negate, rangeCheck } from "./arith.ts";
export type { ArithMode, RangeCheck } from "./arith.ts";
export { FUNCTIONS } from "./builtins.ts";
export type { FunctionDef } from "./builtins.ts";
export { castValue } from "./cast.ts";
export { comparePlan, converterTo, parseNumber } from "./coerce.ts";
export type { ComparePlan, Conversion } from "./coerce.ts";
export { decimalArith, divisionByZero, roundHalfAway, toDecimal } from "./decimal.ts";
export { ulid, uuidV7 } from "./ids.ts";
export { jsonAccess } from "./json.ts";
export { charLength, joinText, likeRegExp, MAX_BUILT_TEXT, substr, textOf } from "./text.ts";
