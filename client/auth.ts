// Auth: where the client's credentials come from (SPEC §5). A user and password log in once and
// keep the token pair; the access token is renewed with the refresh token shortly before it
// expires (checked on use, so no timer keeps a process alive) or after a 401, and a refresh that
// fails logs in again. A fixed token is sent as is; a tokenProvider is asked on every use (it
// does its own caching). No auth = anonymous.

import { fromWire, KalamError, transportError } from "./errors.ts";

export type Auth =
  | { readonly user: string; readonly password: string }
  | { readonly token: string }
  | { readonly tokenProvider: () => string | undefined | Promise<string | undefined> };

/** The login / refresh answer of SPEC §4. */
export interface TokenPair {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly expires_at: string;
  readonly user: { readonly id: string; readonly role: string };
}

/** Renew this long before the access token expires (or at half its life, if shorter). */
const RENEW_MARGIN_MS = 60_000;

export class Credentials {
  #base: string;
  #auth?: Auth;
  #fetch: typeof fetch;
  #pair?: TokenPair;
  #expiresAt = 0;
  #issuedAt = 0;
  #pending?: Promise<string>;

  constructor(base: string, auth: Auth | undefined, fetchFn: typeof fetch) {
    this.#base = base;
    this.#auth = auth;
    this.#fetch = fetchFn;
  }

  /** Who the client logs in as, when it logs in with a password (for messages). */
  get user(): string | undefined {
    return this.#auth && "user" in this.#auth ? this.#auth.user : this.#pair?.user.id;
  }

  /** When the current access token expires (password logins), for `\session`-like displays. */
  get expiresAt(): Date | undefined {
    return this.#pair ? new Date(this.#expiresAt) : undefined;
  }

  /** The role of the last login (password logins). */
  get role(): string | undefined {
    return this.#pair?.user.role;
  }

  /** The bearer token to send now (undefined = anonymous); logs in or renews when needed. */
  async token(signal?: AbortSignal): Promise<string | undefined> {
    const auth = this.#auth;
    if (!auth) return undefined;
    if ("token" in auth) return auth.token;
    if ("tokenProvider" in auth) return await auth.tokenProvider();
    if (this.#pair && !this.#dueForRenewal()) return this.#pair.access_token;
    // One renewal shared by every caller, run without any one caller's signal: aborting one
    // query must not fail the others waiting for the same token.
    const shared = this.#pending ??= this.#renew().finally(() => this.#pending = undefined);
    return await abortable(shared, signal);
  }

  /**
   * The server refused `token` (401): forget it so the next call renews. True when asking again
   * can help (a password login or a provider); a fixed token cannot get better.
   */
  rejected(token: string | undefined): boolean {
    const auth = this.#auth;
    if (!auth || "token" in auth) return false;
    if ("tokenProvider" in auth) return true;
    if (this.#pair?.access_token === token) this.#expiresAt = 0;
    return true;
  }

  #dueForRenewal(): boolean {
    const life = this.#expiresAt - this.#issuedAt;
    const margin = Math.min(RENEW_MARGIN_MS, life / 2);
    return Date.now() >= this.#expiresAt - margin;
  }

  /** Refreshes with the refresh token; when that fails (expired, revoked), logs in again. */
  async #renew(): Promise<string> {
    const auth = this.#auth as { user: string; password: string };
    if (this.#pair) {
      try {
        return this.#keep(
          await this.#post(
            "/v1/api/auth/refresh",
            { refresh_token: this.#pair.refresh_token },
          ),
        );
      } catch (err) {
        if (!(err instanceof KalamError) || err.code !== "UNAUTHORIZED") throw err;
      }
    }
    return this.#keep(
      await this.#post("/v1/api/auth/login", { user: auth.user, password: auth.password }),
    );
  }

  /** Keeps the pair; its expiry moves onto this clock when the server said its time (`Date`). */
  #keep({ pair, skewMs }: { pair: TokenPair; skewMs: number }): string {
    this.#pair = pair;
    this.#issuedAt = Date.now();
    this.#expiresAt = Date.parse(pair.expires_at) - skewMs;
    return pair.access_token;
  }

  async #post(path: string, body: unknown): Promise<{ pair: TokenPair; skewMs: number }> {
    let res: Response;
    try {
      res = await this.#fetch(this.#base + path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw transportError(err);
    }
    const json = await res.json().catch(() => undefined);
    if (!res.ok) throw fromWire(json?.error ?? json, res.status);
    // The server's clock minus ours (0 when the Date header is absent, e.g. across origins).
    const serverNow = Date.parse(res.headers.get("date") ?? "");
    const skewMs = Number.isNaN(serverNow) ? 0 : serverNow - Date.now();
    return { pair: json as TokenPair, skewMs: Math.abs(skewMs) > 2000 ? skewMs : 0 };
  }
}

/**
 * The claims of a JWT (`sub`, `role`, `exp`, …) read without verifying it — for showing who a
 * token is for; the server is what checks it. Undefined when it is not a JWT.
 */
export function tokenClaims(token: string): Record<string, unknown> | undefined {
  const part = token.split(".")[1];
  if (part === undefined) return undefined;
  try {
    const b64 = part.replaceAll("-", "+").replaceAll("_", "/");
    const json = JSON.parse(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)));
    return typeof json === "object" && json !== null ? json : undefined;
  } catch {
    return undefined;
  }
}

/** `promise`, or an ABORTED KalamError as soon as `signal` aborts (the work itself goes on). */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(transportError(signal.reason, signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(transportError(signal.reason, signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
