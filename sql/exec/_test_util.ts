// Assertions and a context factory for the expression and executor tests (JSR's @std/assert is
// not reachable here, so these stay tiny and dependency-free).

import { DbError } from "../../errors.ts";
import type { Catalog, ExecContext } from "../source.ts";
import type { Value } from "../values.ts";

export { assert, assertEquals, show } from "../_test_util.ts";

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
