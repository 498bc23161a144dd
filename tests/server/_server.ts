// Harness for the end-to-end server suites: starts a real `main.ts serve` child on a free port
// and a fresh temp data dir, talks to it over HTTP, and stops it with SIGTERM (graceful shutdown
// must exit 0). Readiness is awaited, never slept for: the child's "listening on" line gives the
// port, then the healthcheck is polled. Every response body is read, so sanitizers stay quiet.

import { SignJWT } from "jose";

// ---------------------------------------------------------------- asserts
// The project's one set of asserts (tests/_util.ts), re-exported for the suites.

export {
  assert,
  assertEquals,
  AssertionError,
  assertMatch,
  assertStringIncludes,
  show,
  until,
} from "../_util.ts";
import { assert, assertEquals, show, until } from "../_util.ts";

// ---------------------------------------------------------------- server

/** The JWT secret every test server signs with, so tests can forge tokens. */
export const SECRET = "kalamdb-test-secret-0123456789abcdef0123456789";

/** SPEC §4's code → HTTP status table: the contract, copied here on purpose. */
export const SPEC_STATUS: Record<string, number> = {
  INVALID_SQL: 400,
  EMPTY_SQL: 400,
  INVALID_PARAMETER: 400,
  NAMESPACE_NOT_FOUND: 404,
  TABLE_NOT_FOUND: 404,
  COLUMN_NOT_FOUND: 400,
  ALREADY_EXISTS: 409,
  UNIQUE_VIOLATION: 409,
  NOT_NULL_VIOLATION: 400,
  TYPE_MISMATCH: 400,
  UNAUTHORIZED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  UNSUPPORTED: 400,
  QUERY_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  STORAGE_ERROR: 503,
  INTERNAL_ERROR: 500,
};

/** How long a child server may take to print its "listening on" line (a loaded machine). */
const START_TIMEOUT_MS = 60_000;

/** One HTTP answer with its body already read (JSON-parsed when it parses). */
export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // deno-lint-ignore no-explicit-any
  readonly body: any;
}

export interface RequestOptions {
  /** A full Authorization header value (see `basic`, `bearer`). */
  readonly auth?: string;
  readonly headers?: Record<string, string>;
  /** Sent as JSON unless it is already a string / stream. */
  readonly body?: unknown;
}

export interface SqlOptions {
  readonly auth?: string;
  readonly params?: unknown[];
  readonly headers?: Record<string, string>;
}

export interface TestServer {
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  request(method: string, path: string, options?: RequestOptions): Promise<Reply>;
  /** POST /v1/api/sql. */
  sql(sql: string, options?: SqlOptions): Promise<Reply>;
  /** POST /v1/api/sql as root and fails unless it succeeds. */
  root(sql: string): Promise<Reply>;
  /** POST /v1/api/auth/login; returns the reply. */
  login(user: string, password: string, headers?: Record<string, string>): Promise<Reply>;
  /** Logs in and returns `Bearer <access token>`; fails unless the login succeeds. */
  token(user: string, password: string): Promise<string>;
  /** SIGTERM, then the exit status and all output; removes its own data dir. Idempotent. */
  stop(): Promise<{ code: number; stdout: string; stderr: string }>;
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** `Basic base64(user:password)`. */
export function basic(user: string, password: string): string {
  return `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)))}`;
}

/** `Bearer <token>`. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** root with the empty first-start password (valid from loopback only). */
export const ROOT = basic("root", "");

/** Signs a JWT like the server's (HS256); `exp`/`iat` in seconds since the epoch. */
export function forgeToken(
  claims: { sub: string; role: string; token_type: string; iat?: number; exp?: number },
  secret = SECRET,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { iat = now, exp = now + 3600, ...rest } = claims;
  return new SignJWT(rest).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt(iat)
    .setExpirationTime(exp).sign(new TextEncoder().encode(secret));
}

/** Decodes a JWT segment (header = 0, payload = 1) without verifying it. */
// deno-lint-ignore no-explicit-any
export function jwtPart(token: string, part: 0 | 1): any {
  const b64 = token.split(".")[part].replaceAll("-", "+").replaceAll("_", "/");
  return JSON.parse(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)));
}

/**
 * Starts a server with `env` (KALAMDB_JWT_SECRET defaults to SECRET; nothing else is inherited
 * from the KALAMDB_* environment).
 */
export async function startServer(
  env: Record<string, string> = {},
  options: { dataDir?: string; port?: number } = {},
): Promise<TestServer> {
  // A caller-supplied data dir is the caller's to remove (e.g. to restart on it).
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "kalamdb-server-test-" });
  const removeDir = () =>
    ownDir ? Deno.remove(dataDir, { recursive: true }).catch(() => {}) : Promise.resolve();
  const base = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("KALAMDB_")),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--data", dataDir, "--port", String(options.port ?? 0)],
    env: { ...base, KALAMDB_JWT_SECRET: SECRET, ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  let url: string | undefined;
  // A child that hangs before listening is killed at the deadline (its stdout then ends).
  const startDeadline = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  }, START_TIMEOUT_MS);
  while (url === undefined) {
    const { value, done } = await reader.read();
    if (done) {
      clearTimeout(startDeadline);
      const status = await child.status;
      await removeDir();
      throw new Error(
        `server exited (${status.code}) before listening:\n${stdout}\n${await stderr}`,
      );
    }
    stdout += value;
    const port = stdout.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/)?.[1];
    if (port) url = `http://127.0.0.1:${port}`;
  }
  clearTimeout(startDeadline);
  // Keep draining stdout so the child never blocks on a full pipe.
  const rest = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) stdout += r.value;
    return stdout;
  })();
  let stopped: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      const status = await child.status;
      const out = { code: status.code, stdout: await rest, stderr: await stderr };
      await removeDir();
      return out;
    })();

  const request = async (method: string, path: string, options: RequestOptions = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.auth) headers["authorization"] = options.auth;
    let body: BodyInit | undefined;
    if (options.body !== undefined) {
      const raw = options.body;
      body = typeof raw === "string" || raw instanceof ReadableStream || raw instanceof Uint8Array
        ? raw as BodyInit
        : JSON.stringify(raw);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
        headers["content-type"] = "application/json";
      }
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = JSON.parse(text);
    } catch { /* not JSON: left undefined, tests look at .text */ }
    return { status: res.status, headers: res.headers, text, body: parsed };
  };
  const server: TestServer = {
    url,
    pid: child.pid,
    dataDir,
    request,
    sql: (sql, o = {}) =>
      request("POST", "/v1/api/sql", {
        auth: o.auth,
        headers: o.headers,
        body: o.params ? { sql, params: o.params } : { sql },
      }),
    async root(sql) {
      const r = await server.sql(sql, { auth: ROOT });
      assertSuccess(r, `root: ${sql}`);
      return r;
    },
    login: (user, password, headers) =>
      request("POST", "/v1/api/auth/login", { body: { user, password }, headers }),
    async token(user, password) {
      const r = await server.login(user, password);
      assertEquals(r.status, 200, `login ${user}: ${r.text}`);
      return bearer(r.body.access_token);
    },
    stop,
  };
  try {
    await waitHealthy(server);
  } catch (err) {
    await stop();
    throw err;
  }
  return server;
}

/** Polls the healthcheck until 200 (each poll awaits the previous answer), bounded by a deadline. */
async function waitHealthy(server: TestServer): Promise<void> {
  await until(
    async () => (await server.request("GET", "/v1/api/healthcheck")).status === 200,
    "server healthy",
  );
}

/** Runs `fn` with a started server; always stops it and asserts the graceful exit status 0. */
export async function withServer(
  env: Record<string, string>,
  fn: (server: TestServer) => Promise<void>,
): Promise<void> {
  const server = await startServer(env);
  let failure: unknown;
  try {
    await fn(server);
  } catch (err) {
    failure = err;
  }
  const out = await server.stop();
  const errors = out.stderr.split("\n").filter((l) => /error|exception|uncaught/i.test(l));
  if (errors.length && failure === undefined) {
    // Failed steps do not throw here; show the server's own error lines for them.
    console.error(`--- server stderr error lines ---\n${errors.slice(-25).join("\n")}`);
  }
  if (failure !== undefined) {
    // The server's stderr usually says why (e.g. an INTERNAL_ERROR's logged cause).
    const tail = out.stderr.trim().split("\n").slice(-25).join("\n");
    if (failure instanceof Error && tail) {
      failure.message += `\n--- server stderr (tail) ---\n${tail}`;
    }
    throw failure;
  }
  assertEquals(out.code, 0, `server exit status; stderr:\n${out.stderr}`);
}

/** Asserts a 200 `{"status":"success",...}` with took_ms > 0 and a results array; returns the body. */
// deno-lint-ignore no-explicit-any
export function assertSuccess(r: Reply, what = ""): any {
  const ctx = `${what}\n  HTTP ${r.status} ${r.text.slice(0, 600)}`;
  assertEquals(r.status, 200, ctx);
  assertEquals(r.body?.status, "success", ctx);
  assert(typeof r.body.took_ms === "number" && r.body.took_ms > 0, `took_ms > 0: ${ctx}`);
  assert(Array.isArray(r.body.results), `results array: ${ctx}`);
  assert(typeof r.body.as_user === "string", `as_user: ${ctx}`);
  return r.body;
}

/**
 * Asserts the SPEC §4 error shape: HTTP status of `code`, `status:"error"`, took_ms > 0,
 * a results array and `error.code`/`error.message`. Returns the error object.
 */
// deno-lint-ignore no-explicit-any
export function assertError(r: Reply, code: string, what = ""): any {
  const ctx = `${what}\n  HTTP ${r.status} ${r.text.slice(0, 600)}`;
  assertEquals(r.body?.error?.code, code, ctx);
  assertEquals(r.status, SPEC_STATUS[code], `HTTP status of ${code}: ${ctx}`);
  assertEquals(r.body.status, "error", ctx);
  assert(typeof r.body.took_ms === "number" && r.body.took_ms > 0, `took_ms > 0: ${ctx}`);
  assert(Array.isArray(r.body.results), `results array: ${ctx}`);
  assert(typeof r.body.error.message === "string" && r.body.error.message !== "", ctx);
  return r.body.error;
}

/** Rows of statement `i` (0-based) of a success body. */
export function rows(r: Reply, i = 0): unknown[][] {
  const body = assertSuccess(r);
  return body.results[i].rows;
}

/** Collects soft failures so one test can report every mismatch of a matrix at once. */
export class Failures {
  readonly #list: string[] = [];
  check(ok: boolean, message: string): void {
    if (!ok) this.#list.push(message);
  }
  run(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#list.push(`${what}: ${(err as Error).message}`);
    }
  }
  assertNone(): void {
    assert(
      this.#list.length === 0,
      `${this.#list.length} failure(s):\n- ${this.#list.join("\n- ")}`,
    );
  }
  toString(): string {
    return show(this.#list);
  }
}
