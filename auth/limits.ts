// Rate limits kept in memory: a token bucket per key (requests per user), a failure counter per
// key over a fixed window, and on top of it the password-guessing throttle (per address and user
// name, plus a ceiling on distinct names per address). All are bounded: past `maxKeys` the oldest
// keys are forgotten, so an attacker cycling keys cannot grow memory. Time is injectable.

import { networkKey } from "./address.ts";

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

  blocked(key: string, now = performance.now(), extra = 0): boolean {
    if (this.#limit <= 0) return false;
    return this.count(key, now) + extra >= this.#limit;
  }

  /** The key's failures in its current window (0 when none or the window is over). */
  count(key: string, now = performance.now()): number {
    const c = this.#counts.get(key);
    if (!c) return 0;
    if (now - c.since >= this.#windowMs) {
      this.#counts.delete(key);
      return 0;
    }
    return c.n;
  }

  /**
   * Counts one failure; true when it is the key's first in the window. The window starts at that
   * first failure and is never extended by later ones.
   */
  fail(key: string, now = performance.now()): boolean {
    if (this.#limit <= 0) return false;
    const c = this.#counts.get(key);
    if (c && now - c.since < this.#windowMs) {
      c.n++;
      return false;
    }
    if (!c && this.#counts.size >= this.#maxKeys) forgetOldest(this.#counts);
    this.#counts.set(key, { n: 1, since: now });
    return true;
  }
}

/** Settings of a `LoginLimiter`; a limit of 0 turns that check off. */
export interface LoginLimits {
  /** Failed passwords per (address, user name) within the window before that pair is refused. */
  readonly perUser: number;
  /** Distinct user names failing from one address within the window before it is refused. */
  readonly distinctUsers?: number;
  readonly windowMs?: number;
  readonly maxKeys?: number;
}

/** Names are cut to this length in keys so keys stay small (names sharing it share a count). */
const MAX_NAME_KEY = 256;

/**
 * Throttles password guessing. `perUser` failures for one (address, user name) pair refuse that
 * pair only, so one client behind a shared address cannot lock out the others; `distinctUsers`
 * names failing from one address refuse all of its password attempts (spraying one password over
 * many names). Names are lower-cased, as user names are unique regardless of case. Tokens never
 * pass through here. With perUser 0 nothing is counted, so the ceiling is off too.
 * Attempts that are still being checked count toward the address's ceiling (`begin` … `end`):
 * a spray sent all at once, over many names, is bounded like one sent name after name.
 *
 * @example
 * const logins = new LoginLimiter({ perUser: 10, distinctUsers: 100 });
 * if (logins.blocked("10.0.0.7", "alice")) throw new DbError("RATE_LIMITED", "…");
 * logins.fail("10.0.0.7", "alice"); // after a wrong password
 */
export class LoginLimiter {
  #pairs: FailureLimiter;
  #names: FailureLimiter;
  /**
   * Per address: the names with attempts being checked that would add the name to its count if
   * they failed (name → attempts), so a spray sent all at once meets the ceiling too.
   */
  #pending = new Map<string, Map<string, number>>();

  constructor(limits: LoginLimits) {
    const { windowMs = 60_000, maxKeys = DEFAULT_MAX_KEYS } = limits;
    this.#pairs = new FailureLimiter(limits.perUser, windowMs, maxKeys);
    this.#names = new FailureLimiter(limits.distinctUsers ?? 100, windowMs, maxKeys);
  }

  /** Whether a password attempt for `user` from `address` is refused now. */
  blocked(address: string, user: string, now = performance.now()): boolean {
    const net = networkKey(address);
    return this.#pairs.blocked(pairKey(net, user), now) || this.#names.blocked(net, now);
  }

  /**
   * Starts a password attempt: undefined when it is refused now, else a ticket for `end`. The
   * attempt holds a place under the address's ceiling while its password is being checked.
   */
  begin(address: string, user: string, now = performance.now()): LoginTicket | undefined {
    const net = networkKey(address);
    const pair = pairKey(net, user);
    if (this.#pairs.blocked(pair, now)) return undefined;
    const newName = this.#pairs.count(pair, now) === 0;
    const pending = this.#pending.get(net);
    // Other names in flight count as if they failed; this name's own attempts do not.
    const others = (pending?.size ?? 0) - (pending?.has(pair) ? 1 : 0);
    if (this.#names.blocked(net, now, newName ? others : 0)) return undefined;
    if (newName) {
      const names = pending ?? new Map<string, number>();
      names.set(pair, (names.get(pair) ?? 0) + 1);
      this.#pending.set(net, names);
    }
    return { address, user, newName };
  }

  /** Ends an attempt `begin` let through; a failed one is counted (see `fail`). */
  end(ticket: LoginTicket, failed: boolean, now = performance.now()): void {
    if (ticket.newName) {
      const net = networkKey(ticket.address);
      const pair = pairKey(net, ticket.user);
      const names = this.#pending.get(net);
      const left = (names?.get(pair) ?? 1) - 1;
      if (left > 0) names!.set(pair, left);
      else names?.delete(pair);
      if (names?.size === 0) this.#pending.delete(net);
    }
    if (failed) this.fail(ticket.address, ticket.user, now);
  }

  /** Counts a wrong password (or unknown user) for `user` from `address`. */
  fail(address: string, user: string, now = performance.now()): void {
    // A name counts toward the address's ceiling once per window of its own pair; an IPv6
    // client counts as its /64 (see networkKey).
    const net = networkKey(address);
    if (this.#pairs.fail(pairKey(net, user), now)) this.#names.fail(net, now);
  }
}

/** A password attempt under way (`LoginLimiter.begin`). */
export interface LoginTicket {
  readonly address: string;
  readonly user: string;
  readonly newName: boolean;
}

function pairKey(address: string, user: string): string {
  return `${address}\0${user.slice(0, MAX_NAME_KEY).toLowerCase()}`;
}

function forgetOldest(map: Map<string, unknown>): void {
  // Maps iterate in insertion order; drop the oldest tenth in one go.
  let drop = Math.max(1, Math.floor(map.size / 10));
  for (const key of map.keys()) {
    if (drop-- <= 0) break;
    map.delete(key);
  }
}
