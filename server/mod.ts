// The HTTP server's door. For now it serves only the healthcheck; it opens the Database of the
// data directory first, so the directory's lock is held for as long as the server runs and a
// second process gets the lock error. `runServer` stops gracefully on SIGINT/SIGTERM: it stops
// accepting, lets in-flight requests finish, then closes the database.

import { Database } from "../storage/mod.ts";
import { DbError, type ErrorCode } from "../errors.ts";
import { type HealthInfo, healthResponse } from "./health.ts";

export { healthBody, type HealthInfo, healthResponse } from "./health.ts";

/** Where to listen and which data directory to own. */
export interface ServerOptions {
  readonly hostname: string;
  readonly port: number;
  readonly dataDir: string;
  readonly nodeId: number;
  readonly build: HealthInfo;
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
  const db = await Database.open({ dataDir: options.dataDir, nodeId: options.nodeId });
  const startedAt = performance.now();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      onListen: options.onListen ?? ((addr) => {
        const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
        console.log(
          `kalamdb ${options.build.version} listening on http://${host}:${addr.port} ` +
            `(data dir ${options.dataDir})`,
        );
      }),
    }, (req) => route(req, options.build, startedAt));
  } catch (err) {
    await db.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    addr: server.addr,
    db,
    shutdown() {
      stopping ??= server.shutdown().finally(() => db.close());
      return stopping;
    },
  };
}

/**
 * Runs the server until SIGINT or SIGTERM, then shuts down gracefully.
 *
 * @example
 * await runServer({ hostname: "127.0.0.1", port: 2900, dataDir: "./data", nodeId: 0, build });
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

function route(req: Request, build: HealthInfo, startedAt: number): Response {
  const path = new URL(req.url).pathname;
  if (path === "/v1/api/healthcheck") {
    if (req.method === "GET" || req.method === "HEAD") return healthResponse(build, startedAt);
    return errorResponse("UNSUPPORTED", `${req.method} is not allowed here; use GET`, 405);
  }
  return errorResponse("NOT_FOUND", `No route for ${req.method} ${path}`);
}

function errorResponse(code: ErrorCode, message: string, status?: number): Response {
  const err = new DbError(code, message);
  return Response.json(
    { status: "error", error: { code: err.code, message: err.message } },
    { status: status ?? err.status },
  );
}
