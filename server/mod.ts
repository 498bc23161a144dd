// The HTTP server's door (SPEC §4–§5, §8). It opens the Database of the data directory first, so
// the directory's lock is held for as long as the server runs and a second process gets the lock
// error. Routes: healthcheck, SQL, login, refresh, and the live-query WebSocket `/v1/ws`; CORS for
// browser apps (credentials travel in the Authorization header, never cookies, so any origin may
// call). `runServer` stops gracefully on SIGINT/SIGTERM: sockets close, in-flight requests
// finish, then the database closes. Request bodies are bounded in body.ts (size, server-wide
// budget, deadline); Deno.serve itself has no header-read or keep-alive timeout and cannot
// close one connection, so slow or idle connections that never finish a request are left to a
// reverse proxy in front (README).

import { Database } from "../storage/mod.ts";
import { Tokens, verifyPassword } from "../auth/mod.ts";
import { Api, type ApiLimits } from "./api.ts";
import { Authenticator } from "./authenticate.ts";
import { type HealthInfo, healthResponse } from "./health.ts";
import { ConnectionCut, fail } from "./respond.ts";
import { jwtSecret } from "./secret.ts";
import { WsEndpoint } from "./ws.ts";
import { EXPORTS_PREFIX } from "./exports.ts";
import { LiveRegistry } from "../live/mod.ts";
import { logError } from "../log.ts";

export { healthBody, type HealthInfo, healthResponse } from "./health.ts";

/** Limits and security settings; see cli/config.ts for their variables and defaults. */
export interface ServerLimits extends ApiLimits {
  readonly trustedProxies: readonly string[];
  readonly loginFailureLimit: number;
  readonly loginSprayLimit?: number;
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlS: number;
  readonly changeLogRetentionHours?: number;
  /** Seconds a written export is kept (default 7 days). */
  readonly exportRetentionS?: number;
  readonly wsAuthTimeoutMs?: number;
  readonly wsIdleTimeoutMs?: number;
  readonly wsMaxQueue?: number;
  /** Row versions a table's buffer may hold waiting for a flush (0 = no bound). */
  readonly maxBufferedRows?: number;
}

/** Where to listen, which data directory to own, and the security settings. */
export interface ServerOptions {
  readonly hostname: string;
  readonly port: number;
  readonly dataDir: string;
  readonly nodeId: number;
  readonly build: HealthInfo;
  readonly limits: ServerLimits;
  /** Signing secret; generated and kept in the data directory when absent. */
  readonly jwtSecret?: string;
  /** Sets root's password at start (KALAMDB_ROOT_PASSWORD). */
  readonly rootPassword?: string;
  /** Called once listening (default: prints the address to stdout). */
  readonly onListen?: (addr: Deno.NetAddr) => void;
}

/** A started server; `shutdown()` is idempotent and resolves once the database is closed. */
export interface RunningServer {
  readonly addr: Deno.NetAddr;
  readonly db: Database;
  shutdown(): Promise<void>;
}

/** Opens the database, then listens. Throws the Database's DbError (e.g. the lock) unchanged. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const db = await Database.open({
    dataDir: options.dataDir,
    nodeId: options.nodeId,
    concurrentWriters: true,
    changeLogRetentionMs: (options.limits.changeLogRetentionHours ?? 24) * 3600_000,
    exportRetentionMs: (options.limits.exportRetentionS ?? 7 * 86400) * 1000,
    maxBufferedRows: options.limits.maxBufferedRows,
  });
  const drain = new Drain();
  let ws: WsEndpoint;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    if (options.rootPassword !== undefined) await setRootPassword(db, options.rootPassword);
    const { limits } = options;
    const tokens = new Tokens(jwtSecret(options.dataDir, options.jwtSecret), {
      accessTtlS: limits.accessTokenTtlS,
      refreshTtlS: limits.refreshTokenTtlS,
    });
    const auth = new Authenticator(db, {
      tokens,
      trustedProxies: limits.trustedProxies,
      loginFailureLimit: limits.loginFailureLimit,
      loginSprayLimit: limits.loginSprayLimit,
    });
    ws = new WsEndpoint(new LiveRegistry(db.live), auth, {
      authTimeoutMs: limits.wsAuthTimeoutMs,
      idleTimeoutMs: limits.wsIdleTimeoutMs,
      maxQueue: limits.wsMaxQueue,
      maxSqlBytes: limits.maxSqlBytes,
    }, (sql, params, principal, signal) => db.execute(sql, { principal, params, signal }));
    const handler = drain.wrap(
      router(new Api(db, auth, limits), ws, options.build, performance.now(), () => drain.inFlight),
    );
    server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      onError: serveError,
      onListen: options.onListen ?? ((addr) => {
        const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
        console.log(
          `kalamdb ${options.build.version} (commit ${options.build.commit}, built ` +
            `${options.build.buildDate}) listening on http://${host}:${addr.port} ` +
            `(data dir ${options.dataDir})`,
        );
      }),
    }, handler);
  } catch (err) {
    await db.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    addr: server.addr,
    db,
    shutdown() {
      // Requests in flight finish first (Deno's shutdown would cut a body still arriving);
      // new ones meanwhile get 503; long-polling CONSUMEs answer at once. Then the listener closes and SQLite is closed cleanly.
      stopping ??= (ws.closeAll(), db.endWaits(), drain.close()).then(() => server.shutdown())
        .finally(() => db.close());
      return stopping;
    },
  };
}

/**
 * Runs the server until SIGINT or SIGTERM, then shuts down gracefully.
 *
 * @example
 * await runServer({ hostname: "127.0.0.1", port: 2900, dataDir: "./data", nodeId: 0, build, limits });
 */
export async function runServer(options: ServerOptions): Promise<void> {
  const running = await startServer(options);
  const { promise: stopped, resolve } = Promise.withResolvers<Deno.Signal>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const handlers = signals.map((s) => [s, () => resolve(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  try {
    const signal = await stopped;
    console.log(`kalamdb: ${signal} received, shutting down`);
    await running.shutdown();
  } finally {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  }
}

/** A handler that threw, or a response stream that failed: logged, answered without internals. */
function serveError(err: unknown): Response {
  // A connection cut on purpose after a complete answer (respond.ts `errorAndClose`).
  if (err instanceof ConnectionCut) return new Response(null, { status: 500 });
  logError("HTTP server", err);
  return fail("INTERNAL_ERROR", "Internal error", performance.now());
}

type Handler = (
  req: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** Counts requests in flight; once closing, answers new ones 503 and resolves when none is left. */
class Drain {
  #inflight = 0;
  #closing = false;
  #done = Promise.withResolvers<void>();

  wrap(handler: Handler): Handler {
    // Not an async function: no extra promise per request on the hot path.
    const done = () => {
      if (--this.#inflight === 0 && this.#closing) this.#done.resolve();
    };
    return (req, info) => {
      if (this.#closing) {
        req.body?.cancel().catch(() => {});
        const res = fail("STORAGE_ERROR", "The server is shutting down", performance.now());
        res.headers.set("connection", "close");
        return res;
      }
      this.#inflight++;
      let res: Response | Promise<Response>;
      try {
        res = handler(req, info);
      } catch (err) {
        done();
        throw err;
      }
      if (res instanceof Promise) return res.finally(done);
      done();
      return res;
    };
  }

  /** Requests being served now. */
  get inFlight(): number {
    return this.#inflight;
  }

  close(): Promise<void> {
    this.#closing = true;
    if (this.#inflight === 0) this.#done.resolve();
    return this.#done.promise;
  }
}

type Route = (req: Request, peer: string, t0: number) => Promise<Response>;

function router(
  api: Api,
  ws: WsEndpoint,
  build: HealthInfo,
  startedAt: number,
  inFlight: () => number,
) {
  const posts: Record<string, Route> = {
    "/v1/api/sql": (req, peer, t0) => api.sql(req, peer, t0),
    "/v1/api/auth/login": (req, peer, t0) => api.login(req, peer, t0),
    "/v1/api/auth/refresh": (req, peer, t0) => api.refresh(req, peer, t0),
    "/v1/api/topics/consume": (req, peer, t0) => api.topic("consume", req, peer, t0),
    "/v1/api/topics/ack": (req, peer, t0) => api.topic("ack", req, peer, t0),
    "/v1/api/topics/nack": (req, peer, t0) => api.topic("nack", req, peer, t0),
    "/v1/api/topics/publish": (req, peer, t0) => api.topic("publish", req, peer, t0),
  };
  return (
    req: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Response | Promise<Response> => {
    const t0 = performance.now();
    const path = pathOf(req.url);
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: PREFLIGHT });
    const route = posts[path];
    if (route) {
      return req.method === "POST"
        ? route(req, info.remoteAddr.hostname, t0)
        : fail("UNSUPPORTED", `${req.method} is not allowed here; use POST`, t0, 405);
    }
    if (path === "/v1/api/healthcheck") {
      return req.method === "GET" || req.method === "HEAD"
        ? healthResponse(build, startedAt, inFlight())
        : fail("UNSUPPORTED", `${req.method} is not allowed here; use GET`, t0, 405);
    }
    if (path === "/v1/ws") return ws.handle(req, info.remoteAddr.hostname, t0);
    if (path.startsWith(EXPORTS_PREFIX)) {
      return api.download(req, path, info.remoteAddr.hostname, t0);
    }
    return fail("NOT_FOUND", `No route for ${req.method} ${path}`, t0);
  };
}

/** The path of an absolute request URL, without parsing all of it (it is hot). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.indexOf("?", start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

const PREFLIGHT = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "authorization, content-type",
  "access-control-max-age": "86400",
};

async function setRootPassword(db: Database, password: string): Promise<void> {
  const root = db.user("root");
  if (root?.passwordHash && await verifyPassword(password, root.passwordHash)) return;
  const quoted = password.replaceAll("'", "''");
  const { error } = await db.execute(`ALTER USER root SET PASSWORD '${quoted}'`);
  if (error) throw error;
}
