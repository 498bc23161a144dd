// Time on the main thread: letting requests in during long work, and measuring elapsed time.
//
// Letting requests in during long work on the main thread. A chain of setImmediate (or
// MessageChannel) hops does not: Deno's runtime keeps running ready tasks and polls its sockets
// only when it has nothing ready, so a flush that yields that way holds every request until it
// ends. A timer lets sockets in but costs ~2 ms a hop here. An async op served by the runtime's
// blocking pool (a digest of nothing) parks the loop for a few µs, and while parked it accepts
// and reads whatever requests are waiting.

const NOTHING = new Uint8Array(0);

/** Resolves after the event loop had a chance to poll its sockets (~25 µs when idle). */
export async function yieldToIo(): Promise<void> {
  await crypto.subtle.digest("SHA-1", NOTHING);
}

/** Milliseconds since `t0` (a `performance.now()` reading), rounded to µs and never 0. */
export function elapsedMs(t0: number): number {
  return Math.max(0.001, Math.round((performance.now() - t0) * 1000) / 1000);
}
