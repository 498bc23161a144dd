// Text building blocks for the expression compiler: the text form of values, `||` and CONCAT's
// length guard, character counts, SUBSTR and LIKE patterns compiled to (cached) RegExps.

import type { TypeName } from "../ast.ts";
import { DbError } from "../../errors.ts";
import { formatTimestamp } from "../values.ts";
import type { Value } from "../values.ts";

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
