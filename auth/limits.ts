// Rate limits kept in memory: a token bucket per key (requests per user) and a failure counter
// per key over a fixed window (failed logins per address). Both are bounded: past `maxKeys` the
// oldest keys are forgotten, so an attacker cycling keys cannot grow memory. Time is injectable.

const DEFAULT_MAX_KEYS = 100_000;

/**
 * Token bucket per key: `ratePerSecond` refill, `burst` capacity. A rate of 0 means unlimited.
 *
 * @example
 * const limit = new RateLimiter(5, 10);
 * limit.take("alice"); // true until 10 quick requests, then false
 */
export class RateLimiter {
  #rate: number;
  #burst: number;
  #maxKeys: number;
  #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(ratePerSecond: number, burst = ratePerSecond * 2, maxKeys = DEFAULT_MAX_KEYS) {
    this.#rate = ratePerSecond;
    this.#burst = Math.max(1, burst);
    this.#maxKeys = maxKeys;
  }

  /** Takes one token; false when the key is over its rate. */
  take(key: string, now = performance.now()): boolean {
    if (this.#rate <= 0) return true;
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.#maxKeys) forgetOldest(this.#buckets);
      b = { tokens: this.#burst, at: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#rate);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/**
 * Counts failures per key in a window; `blocked` once `limit` failures happened within it.
 * A success does not reset the count (it would let a guesser interleave one valid login).
 */
export class FailureLimiter {
  #limit: number;
  #windowMs: number;
  #maxKeys: number;
  #counts = new Map<string, { n: number; since: number }>();

  constructor(limit: number, windowMs = 60_000, maxKeys = DEFAULT_MAX_KEYS) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  blocked(key: string, now = performance.now()): boolean {
    if (this.#limit <= 0) return false;
    const c = this.#counts.get(key);
    if (!c) return false;
    if (now - c.since >= this.#windowMs) {
      this.#counts.delete(key);
      return false;
    }
    return c.n >= this.#limit;
  }

  fail(key: string, now = performance.now()): void {
    if (this.#limit <= 0) return;
    const c = this.#counts.get(key);
    if (c && now - c.since < this.#windowMs) {
      c.n++;
      return;
    }
    if (!c && this.#counts.size >= this.#maxKeys) forgetOldest(this.#counts);
    this.#counts.set(key, { n: 1, since: now });
  }
}

function forgetOldest(map: Map<string, unknown>): void {
  // Maps iterate in insertion order; drop the oldest tenth in one go.
  let drop = Math.max(1, Math.floor(map.size / 10));
  for (const key of map.keys()) {
    if (drop-- <= 0) break;
    map.delete(key);
  }
}
