// The server under test for the crash harness: a real `main.ts serve` child on 127.0.0.1 (port 0,
// the port read from its "listening on" line) with a data dir that outlives it, killed with
// SIGKILL by its own pid and restarted on the same dir. Every wait is bounded by a deadline; the
// harness never signals a process it did not start.

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/** How long a (re)start may take on a loaded 2-core machine, crash recovery included. */
const START_MS = 60_000;

/** The JWT secret of every run, so tokens stay valid across restarts. */
const SECRET = "kalamdb-reliability-secret-0123456789abcdef0123";

/** One HTTP answer with its body read (JSON-parsed when it parses). */
export interface Reply {
  readonly status: number;
  // deno-lint-ignore no-explicit-any
  readonly body: any;
  readonly text: string;
}

/** One life of the server process: from spawn to exit. */
export class ServerProcess {
  readonly url: string;
  readonly pid: number;
  readonly #child: Deno.ChildProcess;
  readonly #stderr: Promise<string>;

  private constructor(child: Deno.ChildProcess, url: string, stderr: Promise<string>) {
    this.#child = child;
    this.url = url;
    this.pid = child.pid;
    this.#stderr = stderr;
  }

  /** Spawns the server on `dataDir` and waits (≤ START_MS) for it to listen and be healthy. */
  static async start(dataDir: string): Promise<ServerProcess> {
    const env = Object.fromEntries(
      Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("KALAMDB_")),
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "serve", "--data", dataDir, "--port", "0", "--host", "127.0.0.1"],
      cwd: ROOT,
      env: { ...env, KALAMDB_JWT_SECRET: SECRET },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const deadline = setTimeout(() => kill(child), START_MS);
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    let url: string | undefined;
    try {
      while (url === undefined) {
        const { value, done } = await reader.read();
        if (done) {
          const status = await child.status;
          throw new Error(
            `server exited (${status.code}) before listening:\n${out}\n${await stderr}`,
          );
        }
        out += value;
        const port = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/)?.[1];
        if (port) url = `http://127.0.0.1:${port}`;
      }
    } finally {
      clearTimeout(deadline);
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) { /* discard */ }
    })().catch(() => {});
    const server = new ServerProcess(child, url, stderr);
    const healthy = Date.now() + START_MS;
    while ((await server.request("GET", "/v1/api/healthcheck").catch(() => null))?.status !== 200) {
      if (Date.now() > healthy) {
        await server.kill();
        throw new Error(`server at ${url} not healthy within ${START_MS} ms`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return server;
  }

  /** SIGKILL to this child's pid; resolves when it has exited. */
  async kill(): Promise<void> {
    kill(this.#child);
    await this.#child.status;
  }

  /** SIGTERM (graceful), SIGKILL after `graceMs`; resolves with the exit code and stderr. */
  async stop(graceMs = 20_000): Promise<{ code: number; stderr: string }> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already exited */ }
    const timer = setTimeout(() => kill(this.#child), graceMs);
    const status = await this.#child.status;
    clearTimeout(timer);
    return { code: status.code, stderr: await this.#stderr };
  }

  /** The server's stderr so far is only readable after exit; this resolves then. */
  stderr(): Promise<string> {
    return this.#stderr;
  }

  /** One request, bounded by `timeoutMs`; throws when the connection fails or times out. */
  async request(
    method: string,
    path: string,
    options: { auth?: string; body?: unknown; timeoutMs?: number } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (options.auth) headers.authorization = options.auth;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(this.url + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch { /* not JSON */ }
    return { status: res.status, body, text };
  }

  /** POST /v1/api/sql. */
  sql(sql: string, auth: string, timeoutMs?: number): Promise<Reply> {
    return this.request("POST", "/v1/api/sql", { auth, body: { sql }, timeoutMs });
  }

  /** Logs in and returns `Bearer <token>` (valid across restarts: the secret is fixed). */
  async token(user: string, password: string): Promise<string> {
    const r = await this.request("POST", "/v1/api/auth/login", { body: { user, password } });
    if (r.status !== 200) throw new Error(`login ${user}: HTTP ${r.status} ${r.text}`);
    return `Bearer ${r.body.access_token}`;
  }
}

function kill(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch { /* already exited */ }
}

/** Rows of the first statement of a successful reply; throws with the reply otherwise. */
export function rowsOf(r: Reply, what: string): string[][] {
  if (r.status !== 200 || r.body?.status !== "success") {
    throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 400)}`);
  }
  return r.body.results[0].rows ?? [];
}

/**
 * The server's lives on one data dir: writers and subscribers ask `ready()` for the live one
 * (waiting, bounded, while it is down); the harness kills and restarts it.
 */
export class Cluster {
  readonly dataDir: string;
  kills = 0;
  restarts = 0;
  /** Total ms from spawn to healthy over all restarts (crash recovery included). */
  restartMs = 0;
  #server: ServerProcess | null = null;
  #up = Promise.withResolvers<ServerProcess>();
  #stderr: string[] = [];

  constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  /** The live server, waiting up to `timeoutMs` for a restart when it is down. */
  async ready(timeoutMs = START_MS + 10_000): Promise<ServerProcess> {
    if (this.#server) return this.#server;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no server within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.#up.promise, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  get up(): boolean {
    return this.#server !== null;
  }

  async start(): Promise<ServerProcess> {
    const t0 = performance.now();
    const s = await ServerProcess.start(this.dataDir);
    if (this.kills > 0) {
      this.restarts++;
      this.restartMs += performance.now() - t0;
    }
    this.#server = s;
    this.#up.resolve(s);
    return s;
  }

  /** SIGKILLs the live server (by its pid) and waits for its exit. */
  async kill(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    this.#server = null;
    this.#up = Promise.withResolvers();
    await s.kill();
    this.kills++;
    this.#stderr.push(await s.stderr());
  }

  /** Graceful stop at the end; returns its exit code. */
  async stop(): Promise<number> {
    const s = this.#server;
    if (!s) return 0;
    this.#server = null;
    const { code, stderr } = await s.stop();
    this.#stderr.push(stderr);
    return code;
  }

  /** Lines of every life's stderr that look like errors (for the report). */
  errorLines(): string[] {
    return this.#stderr.join("\n").split("\n").filter((l) =>
      /error|exception|uncaught|panic/i.test(l)
    );
  }
}
