// The fuzz suites' shared kit: how many inputs a run tries, its seed, the regression corpus, and a
// deadline around every input. A normal `deno task test` run is small and deterministic (a fixed
// seed, a fixed number of runs); `scripts/reliability/fuzz.ts` sets FUZZ_RUNS (a multiplier) and
// FUZZ_SEED for a longer run. Every suite prints one `fuzz <target>: N inputs` line, which that
// script sums up.

import fc from "fast-check";
import { AssertionError } from "../_util.ts";

export { fc };

/** The seed of this run: FUZZ_SEED, else a fixed one so the test run is the same every time. */
export const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261215);

/** FUZZ_RUNS multiplies every suite's number of runs (default 1). */
const SCALE = Math.max(1, Number(Deno.env.get("FUZZ_RUNS") ?? 1) || 1);

/** The number of runs of a property that tries `base` inputs in the normal test run. */
export function runs(base: number): number {
  return Math.round(base * SCALE);
}

/**
 * The options every `fc.assert` of the suites uses: the fixed seed and `runs(numRuns)`. `shrink`
 * false reports the first failing input as it is (shrinking re-runs the property, which costs
 * seconds per step against a server).
 */
export function params(numRuns: number, shrink = true): fc.Parameters<unknown> {
  return { numRuns: runs(numRuns), seed: SEED, endOnFailure: !shrink };
}

/** Counts the inputs each target tried and prints the totals (`fuzz sql: 812 inputs`). */
export class Tally {
  readonly target: string;
  count = 0;
  constructor(target: string) {
    this.target = target;
  }
  one(): void {
    this.count++;
  }
  print(): void {
    console.log(`fuzz ${this.target}: ${this.count} inputs (seed ${SEED})`);
  }
}

/** One input that once failed, kept and replayed by its suite. */
export interface Regression {
  /** The input as text; `base64` holds it instead when it is not valid UTF-8. */
  readonly text?: string;
  readonly base64?: string;
  /** For HTTP: the Content-Type sent; for WebSocket: "binary" sends a binary frame. */
  readonly kind?: string;
  /** What went wrong before the fix. */
  readonly note: string;
}

/** The regression inputs of `target` (sql, http, ws, cli) from regressions.json. */
export function regressions(target: string): Regression[] {
  const path = new URL("./regressions.json", import.meta.url);
  const all = JSON.parse(Deno.readTextFileSync(path)) as Record<string, Regression[]>;
  return all[target] ?? [];
}

/** The bytes of a regression input. */
export function regressionBytes(r: Regression): Uint8Array {
  if (r.base64 !== undefined) return Uint8Array.from(atob(r.base64), (c) => c.charCodeAt(0));
  return new TextEncoder().encode(r.text ?? "");
}

/**
 * Awaits `work` for at most `ms`; fails naming `what` when it is still pending then (a hang).
 * A synchronous loop cannot be interrupted this way, so callers also check the elapsed time.
 */
export async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new AssertionError(`no answer within ${ms} ms: ${what}`)),
      ms,
    );
  });
  const t0 = performance.now();
  let value: T;
  try {
    value = await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
  const took = performance.now() - t0;
  if (took > ms) throw new AssertionError(`took ${Math.round(took)} ms (> ${ms}): ${what}`);
  return value;
}

/** A short printable rendering of an input for failure messages. */
export function preview(input: string | Uint8Array, max = 300): string {
  const text = typeof input === "string" ? input : `bytes ${Array.from(input.slice(0, max / 3))}`;
  const s = JSON.stringify(text);
  return s.length > max ? `${s.slice(0, max)}… (${text.length} chars)` : s;
}
