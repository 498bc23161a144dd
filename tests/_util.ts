// Tiny assertion and fixture helpers for the cross-module suites. JSR (and so @std/assert) is
// not reachable from this environment, so the few asserts we need live here.

import { Database } from "../storage/mod.ts";
import type { BatchResult, ExecuteOptions, StatementResult } from "../storage/mod.ts";
import { DbError } from "../errors.ts";
import type { ErrorCode } from "../errors.ts";
import { displayValue } from "../sql/mod.ts";

export {
  assert,
  assertEquals,
  AssertionError,
  assertMatch,
  assertStringIncludes,
  show,
} from "./assert.ts";
import { assert, assertEquals, AssertionError, show } from "./assert.ts";

/** Awaits `fn` and returns what it threw; fails when it did not throw. */
export async function assertRejects(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new AssertionError("expected the call to throw");
}

/** Runs `fn` with a fresh temp directory that is removed afterwards, whatever happens. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Opens a Database on a fresh temp dir, runs `fn`, closes it and removes the dir. */
export function withDatabase<T>(fn: (db: Database, dir: string) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    const db = await Database.open({ dataDir: dir, nodeId: 1 });
    try {
      return await fn(db, dir);
    } finally {
      await db.close();
    }
  });
}

/** Executes and fails with the DbError when the batch stopped on one. */
export async function exec(
  db: Database,
  sql: string,
  options: ExecuteOptions = {},
): Promise<BatchResult> {
  const res = await db.execute(sql, options);
  if (res.error) {
    throw new AssertionError(
      `unexpected ${res.error.code}: ${res.error.message}\n  in: ${sql.trim().slice(0, 300)}`,
    );
  }
  return res;
}

/** Executes one statement that must fail with `code`; returns the error. */
export async function execError(
  db: Database,
  sql: string,
  code: ErrorCode,
  options: ExecuteOptions = {},
): Promise<DbError> {
  const res = await db.execute(sql, options);
  if (!res.error) throw new AssertionError(`expected ${code}, statement succeeded: ${sql.trim()}`);
  assert(res.error instanceof DbError, `error is not a DbError: ${show(res.error)}`);
  assertEquals(res.error.code, code, `error code of: ${sql.trim()} (${res.error.message})`);
  return res.error;
}

/** Renders a statement result as `a | b` lines: header first, then one line per row. */
export function renderResult(r: StatementResult): string[] {
  const names = (r.schema ?? []).map((c) => c.name);
  const lines = [names.join(" | ")];
  for (const row of r.rows ?? []) {
    lines.push(row.map((v, i) => displayValue(v, r.types?.[i])).join(" | "));
  }
  return lines;
}

/** Result rows as arrays of display strings, for compact assertions. */
export function displayRows(r: StatementResult): string[][] {
  return (r.rows ?? []).map((row) => row.map((v, i) => displayValue(v, r.types?.[i])));
}

/**
 * Polls `check` (each poll awaits the previous one, `intervalMs` apart) until it holds; throws
 * with `what` and the last observed value after `timeoutMs`. Every wait in the suite is bounded
 * by a deadline, never by a count of polls.
 */
export async function until<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 10,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (true) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new AssertionError(`${what}: not within ${timeoutMs} ms (last: ${show(last)})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
