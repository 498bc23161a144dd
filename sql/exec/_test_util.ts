// Assertions and a context factory for the expression and executor tests (JSR's @std/assert is
// not reachable here, so these stay tiny and dependency-free).

import { DbError } from "../../errors.ts";
import type { Catalog, ExecContext } from "../source.ts";
import type { Value } from "../values.ts";

/** Stable rendering that shows bigints (`5n`) and byte arrays. */
export function show(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) => typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? `bytes:${[...x]}` : x,
  );
}

/** Throws unless `cond`. */
export function assert(cond: unknown, message = "assertion failed"): asserts cond {
  if (!cond) throw new Error(message);
}

/** Deep equality by stable rendering (bigint 1n differs from number 1). */
export function assertEquals(actual: unknown, expected: unknown, message = ""): void {
  const a = show(actual);
  const e = show(expected);
  if (a !== e) throw new Error(`${message}\nexpected: ${e}\nactual:   ${a}`);
}

/** Awaits `fn`, expecting a DbError with `code` (and a message matching `message`). */
export async function assertRejects(
  fn: () => unknown,
  code: string,
  message?: RegExp,
): Promise<DbError> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof DbError)) throw err;
    if (err.code !== code) throw new Error(`expected ${code}, got ${err.code}: ${err.message}`);
    if (message && !message.test(err.message)) {
      throw new Error(`message "${err.message}" does not match ${message}`);
    }
    return err;
  }
  throw new Error(`expected DbError ${code}, nothing was thrown`);
}

/** A statement context with fixed time, user "alice", and a counting id generator. */
export function makeCtx(
  catalog: Catalog,
  options: { params?: Value[]; signal?: AbortSignal; now?: bigint } = {},
): ExecContext {
  let id = 1000n;
  return {
    catalog,
    params: options.params ?? [],
    user: "alice",
    now: options.now ?? 1_700_000_000_123_456_789n,
    nextId: () => ++id,
    signal: options.signal,
  };
}
