// JSON member access (`->` and `->>`). The last parsed document is kept, so reading several
// members of one row's JSON parses it once.

import type { Value } from "../values.ts";
import { badInput } from "./coerce.ts";

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
