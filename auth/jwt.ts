// Access and refresh tokens: HS256 JWTs signed with the server secret (via `jose`). Claims are
// `sub`, `role`, `iat`, `exp` and `token_type`; a refresh token never passes as an access token.
// Verification failures of every kind become the one UNAUTHORIZED error (no hint which check
// failed, never the token itself).

import { jwtVerify, SignJWT } from "jose";
import { DbError } from "../errors.ts";
import type { UserRole } from "./policy.ts";
import { USER_ROLES } from "./policy.ts";

export type TokenType = "access" | "refresh";

export interface JwtClaims {
  readonly sub: string;
  readonly role: UserRole;
  readonly token_type: TokenType;
  readonly iat: number;
  readonly exp: number;
  /** When the user was created (ms): a token of a dropped namesake never matches. */
  readonly user_since?: number;
}

/** The body of `/v1/api/auth/login` and `/refresh` (SPEC §4). */
export interface TokenPair {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly expires_at: string;
  readonly user: { readonly id: string; readonly role: UserRole };
}

export interface TokenLifetimes {
  /** Seconds an access token is valid (default 3600). */
  readonly accessTtlS?: number;
  /** Seconds a refresh token is valid (default 7 days). */
  readonly refreshTtlS?: number;
}

const VERIFIED_CACHE = 10_000;

/** Seconds a token's `iat` may lie ahead of this clock (another node's clock running fast). */
const CLOCK_SKEW_S = 60;

/** The message of every authentication failure. */
export const UNAUTHORIZED_MESSAGE = "Invalid or missing credentials";

export function unauthorized(): DbError {
  return new DbError("UNAUTHORIZED", UNAUTHORIZED_MESSAGE);
}

/**
 * Issues and verifies tokens with one secret.
 *
 * @example
 * const tokens = new Tokens("a long random secret");
 * const pair = await tokens.issue("alice", "user");
 * (await tokens.verify(pair.access_token, "access")).sub; // "alice"
 */
export class Tokens {
  #key: Uint8Array;
  #accessTtl: number;
  #refreshTtl: number;
  #verified = new Map<string, JwtClaims>();

  constructor(secret: string, lifetimes: TokenLifetimes = {}) {
    if (secret.length < 16) {
      throw new DbError("INVALID_PARAMETER", "The JWT secret must be at least 16 characters");
    }
    this.#key = new TextEncoder().encode(secret);
    this.#accessTtl = lifetimes.accessTtlS ?? 3600;
    this.#refreshTtl = lifetimes.refreshTtlS ?? 7 * 24 * 3600;
  }

  /** Signs one token; `nowS` is injectable for tests. */
  sign(
    user: string,
    role: UserRole,
    type: TokenType,
    nowS = Math.floor(Date.now() / 1000),
    userSince?: number,
  ) {
    const ttl = type === "access" ? this.#accessTtl : this.#refreshTtl;
    const claims = userSince === undefined ? {} : { user_since: userSince };
    return new SignJWT({ role, token_type: type, ...claims })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(user)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + ttl)
      .sign(this.#key);
  }

  /**
   * An access + refresh pair for a user who just proved who they are; `userSince` (the user's
   * creation time) binds the tokens to this user, not to a later one of the same name.
   */
  async issue(user: string, role: UserRole, userSince?: number): Promise<TokenPair> {
    const now = Math.floor(Date.now() / 1000);
    const [access, refresh] = await Promise.all([
      this.sign(user, role, "access", now, userSince),
      this.sign(user, role, "refresh", now, userSince),
    ]);
    return {
      access_token: access,
      refresh_token: refresh,
      expires_at: new Date((now + this.#accessTtl) * 1000).toISOString(),
      user: { id: user, role },
    };
  }

  /**
   * The claims of a valid token of `type`; anything else throws UNAUTHORIZED. A verified token is
   * remembered until it expires (a signature check costs ~50 µs; a token is immutable).
   */
  async verify(token: string, type: TokenType): Promise<JwtClaims> {
    const hit = this.#verified.get(token);
    if (hit) {
      if (hit.token_type === type && hit.exp > Date.now() / 1000) return hit;
      if (hit.exp <= Date.now() / 1000) this.#verified.delete(token);
      throw unauthorized();
    }
    const claims = await this.#verifySignature(token, type);
    if (this.#verified.size >= VERIFIED_CACHE) this.#verified.clear();
    this.#verified.set(token, claims);
    return claims;
  }

  async #verifySignature(token: string, type: TokenType): Promise<JwtClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#key, { algorithms: ["HS256"] }));
    } catch {
      throw unauthorized();
    }
    const { sub, role, token_type, iat, exp, user_since } = payload;
    // jose accepts an `iat` in the future; a token from the future was not issued by us.
    if (
      typeof sub !== "string" || token_type !== type || typeof exp !== "number" ||
      typeof iat !== "number" || iat > Date.now() / 1000 + CLOCK_SKEW_S ||
      !USER_ROLES.includes(role as UserRole) ||
      (user_since !== undefined && typeof user_since !== "number")
    ) throw unauthorized();
    return { sub, role: role as UserRole, token_type: type, iat, exp, user_since };
  }
}
