// Tiny assertion helpers for the sql tests (JSR's @std/assert is not reachable here), plus
// round-trip helpers shared by the parser tests.

import { DbError } from "../errors.ts";
import { assert, assertEquals } from "../tests/assert.ts";

export { assert, assertEquals };
import type { Statement } from "./ast.ts";
import { parseBatch, printStatement } from "./parse/mod.ts";

/** Stable JSON-ish rendering that also shows bigints and undefined-free objects. */
export function show(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) => typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? `bytes:${[...x]}` : x,
    1,
  );
}

/** Deep-copies `v` without any `span` fields. */
export function stripSpans<T>(v: T): T {
  if (Array.isArray(v)) return v.map(stripSpans) as T;
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== "span") out[k] = stripSpans(x);
    return out as T;
  }
  return v;
}

/** Runs `fn`, expecting a DbError with `code` (and position fields when given). */
export function assertDbError(
  fn: () => unknown,
  code: string,
  expect: { line?: number; column?: number; statement?: number; message?: RegExp } = {},
): DbError {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof DbError)) throw err;
    const got = { code: err.code, line: err.line, column: err.column, statement: err.statement };
    const want = { code, line: expect.line, column: expect.column, statement: expect.statement };
    for (const key of ["code", "line", "column", "statement"] as const) {
      if (want[key] !== undefined && want[key] !== got[key]) {
        throw new Error(`expected ${show(want)}\n got ${show(got)} (${err.message})`);
      }
    }
    if (expect.message && !expect.message.test(err.message)) {
      throw new Error(`message ${show(err.message)} does not match ${expect.message}`);
    }
    return err;
  }
  throw new Error(`expected DbError ${code}, nothing was thrown`);
}

/** Parses one statement, prints it, parses the print, and checks both trees are equal. */
export function roundTrip(sql: string): Statement {
  const [first, ...rest] = parseBatch(sql);
  assertEquals(rest.length, 0, `more than one statement in ${sql}`);
  const printed = printStatement(first.statement);
  let again;
  try {
    again = parseBatch(printed);
  } catch (err) {
    throw new Error(`printed SQL does not parse: ${printed}\n${(err as Error).message}`);
  }
  assertEquals(
    stripSpans(again[0].statement),
    stripSpans(first.statement),
    `round trip: ${printed}`,
  );
  assertEquals(printStatement(again[0].statement), printed, "printing is not stable");
  return first.statement;
}
