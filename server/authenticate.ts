// Who is asking: Basic or Bearer credentials, or nobody (anonymous). Every failure is the same
// UNAUTHORIZED error. Only password attempts are throttled (`LoginLimiter`: per address and user
// name, plus a ceiling on distinct names per address) and answer RATE_LIMITED while locked; a
// token is checked on its own merits, so a valid one always works and a bad one (malformed,
// expired, badly signed: cheap to check, hopeless to guess) never locks out a password. Passwords
// are checked with scrypt; a verified Basic pair is remembered (keyed by an HMAC of the password
// under a per-process key, tied to the stored hash) so a client sending Basic on every request
// does not pay scrypt each time. `root` without a password is accepted only from a loopback
// address (SPEC §5).

import { createHmac, randomBytes } from "node:crypto";
import {
  clientAddress,
  hashPassword,
  isLoopback,
  LoginLimiter,
  networkKey,
  type Principal,
  type TokenPair,
  type Tokens,
  type TokenType,
  unauthorized,
  type UserRole,
  verifyPassword,
} from "../auth/mod.ts";
import type { Database } from "../storage/mod.ts";
import { DbError } from "../errors.ts";

export const ANONYMOUS: Principal = { user: "anonymous", role: "anonymous" };

const CACHE_LIMIT = 10_000;

export interface AuthenticatorOptions {
  readonly tokens: Tokens;
  readonly trustedProxies: readonly string[];
  /** Failed passwords per (address, user name) per minute; 0 turns password lockouts off. */
  readonly loginFailureLimit: number;
  /** Distinct user names failing from one address per minute (default 100); 0 = no ceiling. */
  readonly loginSprayLimit?: number;
}

export class Authenticator {
  #db: Database;
  #tokens: Tokens;
  #trusted: readonly string[];
  #logins: LoginLimiter;
  #cacheKey = randomBytes(32);
  #verified = new Map<string, string>();
  #dummyHash: Promise<string>;
  /** The last password attempt in flight per (address, name): the next one waits for it. */
  #attempts = new Map<string, Promise<void>>();

  constructor(db: Database, options: AuthenticatorOptions) {
    this.#db = db;
    this.#tokens = options.tokens;
    this.#trusted = options.trustedProxies;
    this.#logins = new LoginLimiter({
      perUser: options.loginFailureLimit,
      distinctUsers: options.loginSprayLimit,
    });
    // Checked against for unknown users, so a miss costs as long as a wrong password.
    this.#dummyHash = hashPassword(randomBytes(16).toString("hex"));
  }

  get tokens(): Tokens {
    return this.#tokens;
  }

  /** A token pair for `who`, bound to the user's creation time. */
  issue(who: Principal): Promise<TokenPair> {
    return this.#tokens.issue(who.user, who.role as UserRole, this.#db.user(who.user)?.createdAt);
  }

  /** The client address of a request (X-Forwarded-For only via a trusted proxy). */
  address(req: Request, peer: string): string {
    // The header is only looked at for a trusted peer (reading headers is not free).
    if (!this.#trusted.includes(peer)) return peer;
    return clientAddress(peer, req.headers.get("x-forwarded-for"), this.#trusted);
  }

  /** The principal of a request; throws UNAUTHORIZED, or RATE_LIMITED for a locked password. */
  request(req: Request, address: string): Promise<Principal> {
    const header = req.headers.get("authorization");
    if (header === null) return Promise.resolve(ANONYMOUS);
    return this.#credentials(header, address);
  }

  /** `/auth/login`: a user name and password. */
  login(user: string, password: string, address: string): Promise<Principal> {
    return this.#password(user, password, address);
  }

  /** An access token sent in a WebSocket `authenticate` message. */
  accessToken(token: string, address: string): Promise<Principal> {
    return this.#checkToken(token, "access", address);
  }

  /** `/auth/refresh`: a refresh token. */
  refresh(token: string, address: string): Promise<Principal> {
    return this.#checkToken(token, "refresh", address);
  }

  async #credentials(header: string, address: string): Promise<Principal> {
    const space = header.indexOf(" ");
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (space > 0 && scheme === "basic") {
      // A header that names no user is not a password guess: UNAUTHORIZED, not counted.
      const [user, password] = decodeBasic(value);
      return await this.#password(user, password, address);
    }
    if (space > 0 && scheme === "bearer") return await this.#checkToken(value, "access", address);
    throw unauthorized();
  }

  /** A password attempt: refused while (address, user) or the address is locked; counts misses. */
  #password(user: string, password: string, address: string): Promise<Principal> {
    // Credentials already proven right are no guess: they skip the queue (unless locked out).
    const known = this.#known(user, password, address);
    if (known) return Promise.resolve(known);
    // Attempts of one (address, name) run one after another: checked all at once, 60 parallel
    // guesses would all pass `blocked` before the first failure is counted.
    const key = `${networkKey(address)}\0${user.slice(0, 256).toLowerCase()}`;
    const mine = (this.#attempts.get(key) ?? Promise.resolve()).then(() =>
      this.#attempt(user, password, address)
    );
    const tail = mine.then(() => {}, () => {});
    this.#attempts.set(key, tail);
    tail.then(() => {
      if (this.#attempts.get(key) === tail) this.#attempts.delete(key);
    });
    return mine;
  }

  async #attempt(user: string, password: string, address: string): Promise<Principal> {
    const ticket = this.#logins.begin(address, user);
    if (!ticket) throw new DbError("RATE_LIMITED", "Too many failed logins; try again later");
    let failed = false;
    try {
      return await this.#checkPassword(user, password, address);
    } catch (err) {
      failed = err instanceof DbError && err.code === "UNAUTHORIZED";
      throw err;
    } finally {
      this.#logins.end(ticket, failed);
    }
  }

  /**
   * The principal when `password` is known to be `name`'s without hashing — root's empty one on
   * loopback, or one verified before (the cache) — and the pair is not locked out; else undefined.
   */
  #known(name: string, password: string, address: string): Principal | undefined {
    const u = this.#db.user(name);
    if (!u || this.#logins.blocked(address, name)) return undefined;
    const right = u.passwordHash === null
      ? password === "" && isLoopback(address)
      : this.#verified.get(this.#cacheKeyOf(name, password)) === u.passwordHash;
    return right ? { user: u.name, role: u.role } : undefined;
  }

  async #checkPassword(name: string, password: string, address: string): Promise<Principal> {
    const u = this.#db.user(name);
    if (!u) {
      await verifyPassword(password, await this.#dummyHash);
      throw unauthorized();
    }
    if (u.passwordHash === null) {
      // Only root has no password, and only until one is set: loopback only.
      if (password !== "" || !isLoopback(address)) throw unauthorized();
      return { user: u.name, role: u.role };
    }
    const key = this.#cacheKeyOf(name, password);
    if (this.#verified.get(key) !== u.passwordHash) {
      if (!await verifyPassword(password, u.passwordHash)) throw unauthorized();
      if (this.#verified.size >= CACHE_LIMIT) this.#verified.clear();
      this.#verified.set(key, u.passwordHash);
    }
    return { user: u.name, role: u.role };
  }

  #cacheKeyOf(name: string, password: string): string {
    return `${name}\0${createHmac("sha256", this.#cacheKey).update(password).digest("hex")}`;
  }

  async #checkToken(token: string, type: TokenType, address: string): Promise<Principal> {
    const claims = await this.#tokens.verify(token, type);
    // The store decides: a dropped user's tokens fail, a changed role applies at once, and a
    // token issued before the user was (re)created belongs to the dropped namesake.
    return this.current(claims.sub, address, claims.iat * 1000 + 999, claims.user_since);
  }

  /**
   * The principal `user` is now, for credentials checked at `since` (ms; a token's iat): the
   * store's role, or UNAUTHORIZED when the user is gone or was created after `since`. A
   * WebSocket asks again before each subscription, so a drop or demotion applies to open sockets.
   */
  current(user: string, address: string, since: number, userSince?: number): Principal {
    if (user === ANONYMOUS.user) return ANONYMOUS;
    const u = this.#db.user(user);
    // A token that names its user's creation time must match it exactly (a namesake created in
    // the same second as the token is told apart too); older tokens go by their iat.
    const stale = userSince === undefined ? u && u.createdAt > since : u?.createdAt !== userSince;
    if (!u || stale) throw unauthorized();
    if (u.passwordHash === null && !isLoopback(address)) throw unauthorized();
    return { user: u.name, role: u.role as UserRole };
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function decodeBasic(value: string): [string, string] {
  let text: string;
  try {
    const binary = atob(value);
    // ASCII (the common case) needs no UTF-8 decoding.
    text = isAscii(binary) ? binary : UTF8.decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    throw unauthorized();
  }
  const colon = text.indexOf(":");
  if (colon < 0) throw unauthorized();
  return [text.slice(0, colon), text.slice(colon + 1)];
}
