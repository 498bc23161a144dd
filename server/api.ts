// The JSON routes of SPEC §4: `POST /v1/api/sql`, `/v1/api/auth/login`, `/v1/api/auth/refresh`.
// Order of checks for SQL: who is asking (headers only), that identity's request rate, then the
// body (size, JSON, fields), then the batch under the statement timeout. Nothing of the body is
// read for a request that fails authentication. Bodies are bounded three ways (body.ts): size,
// a server-wide budget of body bytes in flight, and a deadline for the whole body.

import { ARROW_STREAM, wantsArrow } from "./arrow.ts";
import type { Principal } from "../auth/mod.ts";
import { networkKey, RateLimiter } from "../auth/mod.ts";
import { type Database, elapsedMs } from "../storage/mod.ts";
import { DbError, toDbError } from "../errors.ts";
import type { Authenticator } from "./authenticate.ts";
import {
  BodyBudget,
  type BodyLimits,
  BodyTimeoutError,
  BusyError,
  readJsonObject,
} from "./body.ts";
import { encodeResult, errorAndClose, errorResponse, jsonResponse } from "./respond.ts";
import { logError } from "../log.ts";
import { downloadExport } from "./exports.ts";
import { topicAnswer, type TopicRoute, topicStatement } from "./topics.ts";

export interface ApiLimits {
  readonly maxBodyBytes: number;
  readonly maxSqlBytes: number;
  readonly queryTimeoutMs: number;
  readonly rateLimit: number;
  /** Body bytes in flight across all requests (default 128 MiB, at least maxBodyBytes). */
  readonly maxInflightBodyBytes?: number;
  /** Time for a whole request body to arrive (default 30 s). */
  readonly bodyTimeoutMs?: number;
}

/** Bodies of the token routes are a user name and a password or a token. */
const TOKEN_BODY_BYTES = 64 * 1024;

export class Api {
  #db: Database;
  #auth: Authenticator;
  #limits: ApiLimits;
  #rate: RateLimiter;
  #body: BodyLimits;
  #tokenBody: BodyLimits;

  constructor(db: Database, auth: Authenticator, limits: ApiLimits) {
    this.#db = db;
    this.#auth = auth;
    this.#limits = limits;
    this.#rate = new RateLimiter(limits.rateLimit);
    const total = Math.max(limits.maxInflightBodyBytes ?? 128 * 1024 * 1024, limits.maxBodyBytes);
    // One client address may hold a quarter of it, and always one body of the largest size.
    const budget = new BodyBudget(total, Math.max(limits.maxBodyBytes, Math.ceil(total / 4)));
    const timeoutMs = limits.bodyTimeoutMs ?? 30_000;
    this.#body = { maxBytes: limits.maxBodyBytes, budget, timeoutMs };
    // Logins have their own small pool: a flood of SQL bodies never keeps anyone from logging in.
    // 64 MiB in all, 1 MiB per address: filling it takes 64 addresses trickling bodies at once.
    const tokenBudget = new BodyBudget(TOKEN_BODY_BYTES * 1024, TOKEN_BODY_BYTES * 16);
    this.#tokenBody = { maxBytes: TOKEN_BODY_BYTES, budget: tokenBudget, timeoutMs };
  }

  /** GET /v1/exports/<user>/<export_id> (exports.ts). */
  download(req: Request, path: string, peer: string, t0: number): Promise<Response> {
    return downloadExport(this.#db, this.#auth, req, path, peer, t0);
  }

  /** POST /v1/api/sql */
  async sql(req: Request, peer: string, t0: number): Promise<Response> {
    try {
      const address = this.#auth.address(req, peer);
      const who = await this.#auth.request(req, address);
      this.#throttle(who, address);
      const body = await readJsonObject(req, this.#body, networkKey(address));
      const { sql, params } = this.#sqlFields(body);
      const batch = await this.#db.execute(sql, {
        principal: who,
        params,
        // A client that goes away (an aborted fetch, Ctrl-C in the shell) stops the batch.
        signal: req.signal,
        timeoutMs: this.#limits.queryTimeoutMs,
        // Made only when a SUBSCRIBE TO asks: not parsed for every statement.
        wsUrl: () => wsUrlOf(req),
      });
      if (batch.error) return errorResponse(batch.error, t0, batch.results);
      if (wantsArrow(req)) {
        // The encoder and apache-arrow load on the first Arrow request (idle memory).
        const { arrowBody } = await import("./arrow_encode.ts");
        return new Response(arrowBody(batch.results), {
          headers: { "content-type": ARROW_STREAM, "access-control-allow-origin": "*" },
        });
      }
      return jsonResponse({
        status: "success",
        took_ms: elapsedMs(t0),
        as_user: batch.asUser,
        results: batch.results.map(encodeResult),
      });
    } catch (err) {
      return failed(err, t0);
    }
  }

  /** POST /v1/api/topics/<route> (topics.ts): one topic statement from a JSON body. */
  async topic(route: TopicRoute, req: Request, peer: string, t0: number): Promise<Response> {
    try {
      const address = this.#auth.address(req, peer);
      const who = await this.#auth.request(req, address);
      this.#throttle(who, address);
      const body = await readJsonObject(req, this.#body, networkKey(address));
      const { sql, params } = topicStatement(route, body);
      const batch = await this.#db.execute(sql, {
        principal: who,
        params,
        signal: req.signal,
        // A long-poll may wait past the statement timeout: WAIT bounds it (at most 60 s).
        timeoutMs: route === "consume" ? undefined : this.#limits.queryTimeoutMs,
      });
      if (batch.error) return errorResponse(batch.error, t0, batch.results);
      const result = encodeResult(batch.results[0]) as Parameters<typeof topicAnswer>[1];
      return jsonResponse({
        status: "success",
        took_ms: elapsedMs(t0),
        ...topicAnswer(route, result),
      });
    } catch (err) {
      return failed(err, t0);
    }
  }

  /** POST /v1/api/auth/login `{"user","password"}` */
  login(req: Request, peer: string, t0: number): Promise<Response> {
    return this.#tokens(
      req,
      peer,
      t0,
      (body, address) => this.#auth.login(field(body, "user"), field(body, "password"), address),
    );
  }

  /** POST /v1/api/auth/refresh `{"refresh_token"}` */
  refresh(req: Request, peer: string, t0: number): Promise<Response> {
    return this.#tokens(
      req,
      peer,
      t0,
      (body, address) => this.#auth.refresh(field(body, "refresh_token"), address),
    );
  }

  /** Both token routes: a small JSON body proves who the caller is; the answer is a new pair. */
  async #tokens(
    req: Request,
    peer: string,
    t0: number,
    check: (body: Record<string, unknown>, address: string) => Promise<Principal>,
  ): Promise<Response> {
    try {
      const address = this.#auth.address(req, peer);
      const who = await check(
        await readJsonObject(req, this.#tokenBody, networkKey(address)),
        address,
      );
      return jsonResponse(await this.#auth.issue(who));
    } catch (err) {
      return failed(err, t0);
    }
  }

  #throttle(who: Principal, address: string): void {
    const key = who.role === "anonymous" ? `@${address}` : who.user;
    if (!this.#rate.take(key)) {
      throw new DbError(
        "RATE_LIMITED",
        `Too many requests: the limit is ${this.#limits.rateLimit} per second; slow down`,
      );
    }
  }

  #sqlFields(body: Record<string, unknown>): { sql: string; params: unknown[] } {
    const { sql, params } = body;
    if (typeof sql !== "string") {
      throw new DbError("INVALID_PARAMETER", 'The body needs "sql": a string of SQL');
    }
    // UTF-8 is at most 3 bytes per UTF-16 unit: count exactly only near the limit.
    const max = this.#limits.maxSqlBytes;
    if (sql.length * 3 > max && new TextEncoder().encode(sql).byteLength > max) {
      throw new DbError("PAYLOAD_TOO_LARGE", `The SQL text exceeds the limit of ${max} bytes`);
    }
    if (params !== undefined && !Array.isArray(params)) {
      throw new DbError("INVALID_PARAMETER", '"params" must be an array of values');
    }
    return { sql, params: (params ?? []).map(paramValue) };
  }
}

/** A required string field of a JSON body (a malformed request, not a failed login). */
function field(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== "string") {
    throw new DbError("INVALID_PARAMETER", `The body needs "${name}": a string`);
  }
  return v;
}

/** JSON parameter → engine value: objects and arrays are bound as JSON text. */
function paramValue(v: unknown): unknown {
  return typeof v === "object" && v !== null ? JSON.stringify(v) : v;
}

/**
 * The answer to a thrown error. A body that timed out cuts its connection after the answer (the
 * client still holds it mid-body); a full body budget says when to retry.
 */
function failed(err: unknown, t0: number): Response {
  if (err instanceof BodyTimeoutError) return errorAndClose(err, t0);
  const res = errorResponse(reported(err), t0);
  if (err instanceof BusyError) res.headers.set("retry-after", "1");
  return res;
}

/** A DbError for the client; anything else is logged here and answered without internals. */
function reported(err: unknown): DbError {
  if (!(err instanceof DbError)) logError("HTTP request", err);
  return toDbError(err);
}

/** The live-query WebSocket URL as this client reached the server (its Host, http → ws). */
function wsUrlOf(req: Request): string {
  const url = new URL("/v1/ws", req.url);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}
