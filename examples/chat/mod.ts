// The chat example's machinery, shared by `serve.ts` (the `deno task example` CLI) and the browser
// test: build the client bundle, start a KalamDB server child on loopback, create the chat schema
// and users as root, and serve this folder plus the bundle on a second loopback port.
//
// Design decision: the bundle is built by running `scripts/build_client.ts` as a subprocess (the
// same thing `deno task build:client` runs): scripts/ has no door, so this folder depends on the
// build's output only, never on its code. Every child is started, awaited and stopped by its own pid.

import { join } from "node:path";

/** Users of the demo: name → password (role `user`). */
export const USERS: Readonly<Record<string, string>> = { alice: "alice-pw", bob: "bob-pw" };

/** Rooms of the demo (a PUBLIC shared table: everyone sees them, even anonymous). */
export const ROOMS: readonly { id: number; name: string }[] = [
  { id: 1, name: "general" },
  { id: 2, name: "random" },
  { id: 3, name: "kalamdb" },
];

/** The schema: rooms are shared and public; messages are a USER table (one partition per user). */
export const SCHEMA_SQL = `
CREATE NAMESPACE IF NOT EXISTS chat;
CREATE SHARED TABLE IF NOT EXISTS chat.rooms (
  id BIGINT PRIMARY KEY,
  name TEXT NOT NULL
) WITH (ACCESS_LEVEL = 'PUBLIC');
CREATE USER TABLE IF NOT EXISTS chat.messages (
  id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
  room_id BIGINT NOT NULL,
  body TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT NOW()
);
`;

export interface ChatOptions {
  /** The server's data directory (created when missing; kept afterwards). */
  readonly dataDir: string;
  /** The page's port on 127.0.0.1 (0 = any free port). */
  readonly port?: number;
  /** The KalamDB server's port on 127.0.0.1 (0 = any free port). */
  readonly apiPort?: number;
  /** Environment of the server child (default: this process's, without KALAMDB_* variables). */
  readonly env?: Record<string, string>;
  /** Where the client bundle is built and served from (default: dist/). */
  readonly bundleDir?: string;
  /** Skip building the bundle (it must already be in bundleDir). */
  readonly skipBuild?: boolean;
  /** Where progress lines go (default: nowhere). */
  readonly log?: (line: string) => void;
}

export interface Chat {
  /** The chat page, with `?api=` pointing at the server. */
  readonly pageUrl: string;
  /** The KalamDB server's base URL. */
  readonly apiUrl: string;
  /** The server child's pid. */
  readonly apiPid: number;
  /** Stops the page server and the server child (SIGTERM, awaited). Idempotent. */
  stop(): Promise<{ code: number; stderr: string }>;
}

const ROOT_DIR = new URL("../../", import.meta.url).pathname;
const HERE = new URL("./", import.meta.url).pathname;
const DIST = `${ROOT_DIR}dist`;
const START_TIMEOUT_MS = 60_000;

/** Builds the bundle, starts the server, sets the schema up and serves the page. */
export async function startChat(options: ChatOptions): Promise<Chat> {
  const log = options.log ?? (() => {});
  const bundleDir = options.bundleDir ?? DIST;
  if (!options.skipBuild) {
    log(`building the client bundle into ${bundleDir} (deno task build:client)`);
    await buildClient(bundleDir);
  }
  const api = await startApi(options);
  log(`kalamdb listening on ${api.url} (pid ${api.pid}, data ${options.dataDir})`);
  let page: Deno.HttpServer<Deno.NetAddr> | undefined;
  try {
    await setup(api.url);
    log("schema, users and rooms are set up");
    page = servePage(options.port ?? 8080, join(bundleDir, "kalamdb-client.js"));
  } catch (err) {
    await api.stop();
    throw err;
  }
  const pageUrl = `http://127.0.0.1:${page.addr.port}/?api=${api.url}`;
  let stopped: Promise<{ code: number; stderr: string }> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await page.shutdown();
      return await api.stop();
    })();
  return { pageUrl, apiUrl: api.url, apiPid: api.pid, stop };
}

/** Runs `scripts/build_client.ts --out <dir>` (= `deno task build:client`); fails with its output. */
export async function buildClient(outDir: string = DIST): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT_DIR}scripts/build_client.ts`, "--out", outDir],
    cwd: ROOT_DIR,
    stdin: "null",
  }).output();
  if (!out.success) {
    const dec = new TextDecoder();
    throw new Error(
      `client build failed (${out.code}):\n${dec.decode(out.stdout)}${dec.decode(out.stderr)}`,
    );
  }
}

interface Api {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Starts `main.ts serve` and waits for its "listening on" line (bounded by a deadline). */
async function startApi(options: ChatOptions): Promise<Api> {
  await Deno.mkdir(options.dataDir, { recursive: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT_DIR}main.ts`,
      "serve",
      "--data",
      options.dataDir,
      "--host",
      "127.0.0.1",
      "--port",
      String(options.apiPort ?? 2900),
    ],
    env: options.env ?? withoutKalamEnv(),
    clearEnv: true,
    cwd: ROOT_DIR,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = setTimeout(() => kill(child, "SIGKILL"), START_TIMEOUT_MS);
  let stdout = "";
  let url: string | undefined;
  try {
    while (url === undefined) {
      const { value, done } = await reader.read();
      if (done) {
        const status = await child.status;
        throw new Error(
          `kalamdb exited (${status.code}) before listening:\n${stdout}${await stderr}`,
        );
      }
      stdout += value;
      const port = stdout.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/)?.[1];
      if (port) url = `http://127.0.0.1:${port}`;
    }
  } finally {
    clearTimeout(deadline);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  const drained = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) { /* discard */ }
  })();
  let stopped: Promise<{ code: number; stderr: string }> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      kill(child, "SIGTERM");
      const status = await child.status;
      await drained;
      return { code: status.code, stderr: await stderr };
    })();
  return { url, pid: child.pid, stop };
}

/** This process's environment minus KALAMDB_* (a root password there would break the setup). */
function withoutKalamEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("KALAMDB_")),
  );
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch { /* already exited */ }
}

/** POSTs SQL as root (empty password: accepted from loopback); returns each statement's rows. */
async function rootSql(apiUrl: string, sql: string, params?: unknown[]): Promise<unknown[][][]> {
  const res = await fetch(`${apiUrl}/v1/api/sql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Basic ${btoa("root:")}` },
    body: JSON.stringify(params ? { sql, params } : { sql }),
  });
  const body = await res.json();
  if (body.status !== "success") {
    throw new Error(`setup failed: ${body.error?.code} ${body.error?.message}\n  ${sql.trim()}`);
  }
  return body.results.map((r: { rows?: unknown[][] }) => r.rows ?? []);
}

/** Creates the schema, the users and the missing rooms; safe to run again on the same data. */
export async function setup(apiUrl: string): Promise<void> {
  await rootSql(apiUrl, SCHEMA_SQL);
  for (const [name, password] of Object.entries(USERS)) {
    await rootSql(
      apiUrl,
      `CREATE USER IF NOT EXISTS ${name} WITH PASSWORD '${password}' ROLE user`,
    );
  }
  const [have] = await rootSql(apiUrl, "SELECT id FROM chat.rooms");
  const ids = new Set(have.map((row) => String(row[0])));
  for (const room of ROOMS) {
    if (ids.has(String(room.id))) continue;
    await rootSql(apiUrl, "INSERT INTO chat.rooms (id, name) VALUES ($1, $2)", [
      room.id,
      room.name,
    ]);
  }
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

/** Serves this folder's page and `bundle` on 127.0.0.1:`port` (bound when this returns). */
function servePage(port: number, bundle: string): Deno.HttpServer<Deno.NetAddr> {
  const files: Record<string, string> = {
    "/": `${HERE}index.html`,
    "/index.html": `${HERE}index.html`,
    "/app.js": `${HERE}app.js`,
    "/style.css": `${HERE}style.css`,
    "/kalamdb-client.js": bundle,
  };
  return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
    const path = files[new URL(req.url).pathname];
    if ((req.method !== "GET" && req.method !== "HEAD") || path === undefined) {
      return new Response("not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(path);
      const type = TYPES[path.slice(path.lastIndexOf(".") + 1)] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type, "cache-control": "no-store" } });
    } catch {
      return new Response(`missing ${path}: run \`deno task build:client\``, { status: 404 });
    }
  });
}
