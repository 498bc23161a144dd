// CAST: the explicit conversions PostgreSQL allows on top of the implicit ones of coerceValue.
// One function over already-evaluated values; the compiler calls it per row.

import type { TypeName } from "../ast.ts";
import { assertNever, DbError } from "../../errors.ts";
import { assignValue, coerceValue, normalizeDecimal, typeToString } from "../values.ts";
import type { Value } from "../values.ts";
import { roundHalfAway } from "./decimal.ts";
import { textOf } from "./text.ts";

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
