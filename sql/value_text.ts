// Rendering values for the outside world: the JSON form sent by the HTTP API and the text shown
// in CLI tables and CSV. Split from values.ts (which re-exports everything here); values are
// only read here, never converted back.

import type { TypeName } from "./ast.ts";
import type { Value } from "./values.ts";
import { formatTimestamp } from "./value_time.ts";

/** The JSON form of a value for the HTTP API (SPEC §4). */
export function toJsonValue(v: Value, t: TypeName): unknown {
  if (v === null) return null;
  switch (t.base) {
    case "BIGINT":
    case "DECIMAL":
      return String(v);
    case "TIMESTAMP":
      return typeof v === "bigint" ? formatTimestamp(v) : v;
    case "BYTES":
      return v instanceof Uint8Array ? encodeBase64(v) : v;
    case "JSON":
      return typeof v === "string" ? JSON.parse(v) : v;
    default:
      return typeof v === "bigint" ? String(v) : v;
  }
}

/** Text for CLI tables and CSV. */
export function displayValue(v: Value, t?: TypeName): string {
  if (v === null) return "NULL";
  if (t?.base === "TIMESTAMP" && typeof v === "bigint") return formatTimestamp(v);
  if (v instanceof Uint8Array) {
    return `\\x${[...v].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  }
  return String(v);
}

export function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}
