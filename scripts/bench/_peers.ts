// The systems the live benchmark measures (live.ts), each started and wrapped as a `Target`:
// KalamDB-TS (`main.ts serve`, fresh data dir), the bare Deno.serve WebSocket broadcaster,
// Redis and PostgreSQL (from Debian, installed when missing). Kept apart from the measuring.

import type { LiveSystem } from "./live.ts";
import { startServer } from "./_client_kit.ts";
import { aptInstall, freePort, run, spawn, stop, waitFor, which, withChildren } from "./_procs.ts";

const BARE_WS = new URL("./_bare_ws.ts", import.meta.url).pathname;
const BASIC_ROOT = "Basic cm9vdDo=";
const KALAMDB_SETUP = `CREATE NAMESPACE bench;
CREATE SHARED TABLE bench.ev (id BIGINT PRIMARY KEY, sent_at BIGINT, payload TEXT)
  WITH (ACCESS_LEVEL = 'PUBLIC', FLUSH_POLICY = 'rows:100000000,interval:100000000')`;
const PG_SETUP = `DROP TABLE IF EXISTS ev;
CREATE TABLE ev (id BIGINT PRIMARY KEY, sent_at BIGINT, payload TEXT);
CREATE OR REPLACE FUNCTION ev_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ev', row_to_json(NEW)::text);
  RETURN NEW;
END $$;
CREATE TRIGGER ev_notify AFTER INSERT ON ev FOR EACH ROW EXECUTE FUNCTION ev_notify();`;

export interface Target {
  readonly system: LiveSystem;
  readonly port: number;
  /** The pids whose CPU counts as the server's (sampled at the start and end of a run). */
  pids(): number[];
  /** Empties the table/channel state between runs. */
  reset(): Promise<void>;
  stop(): Promise<void>;
  /** Output of the server since the last call (KalamDB-TS only). */
  log?(): string;
}

export async function startKalamdb(dir: string): Promise<Target> {
  const server = await startServer(dir);
  const p = server.proc;
  const port = server.port;
  const res = await fetch(`http://127.0.0.1:${port}/v1/api/sql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: BASIC_ROOT },
    body: JSON.stringify({ sql: KALAMDB_SETUP }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('"status":"success"')) {
    await stop(p);
    throw new Error(`kalamdb setup → HTTP ${res.status} ${text.slice(0, 500)}`);
  }
  let seen = 0;
  return {
    system: "kalamdb",
    port,
    pids: () => [p.child.pid],
    reset: () => Promise.resolve(),
    stop: () => stop(p),
    log: () => {
      const all = `${p.stdout.tail}\n${p.stderr.tail}`;
      const fresh = all.slice(Math.min(seen, all.length));
      seen = all.length;
      return fresh.split("\n").filter((l) => l.trim() && !/listening on/.test(l)).join("\n");
    },
  };
}

export async function startBare(): Promise<Target> {
  const p = spawn("bare ws", Deno.execPath(), ["run", "-A", BARE_WS, "0"]);
  const m = await waitFor(p, /listening on http:\/\/127\.0\.0\.1:(\d+)/, 60_000);
  p.stdout.drain();
  return {
    system: "bare",
    port: Number(m[1]),
    pids: () => [p.child.pid],
    reset: () => Promise.resolve(),
    stop: () => stop(p),
  };
}

export async function startRedis(versions: Record<string, string>): Promise<Target> {
  let bin = await which("redis-server");
  if (!bin) {
    await aptInstall("redis-server");
    bin = await which("redis-server");
    if (!bin) throw new Error("redis-server is not on PATH after installing redis-server");
  }
  versions.redis = (await run(bin, ["--version"])).trim().split(" ")[2]?.replace("v=", "") ?? "?";
  const port = freePort();
  const p = spawn("redis-server", bin, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
  ]);
  await waitFor(p, /Ready to accept connections/, 30_000);
  p.stdout.drain();
  return {
    system: "redis",
    port,
    pids: () => [p.child.pid],
    reset: () => Promise.resolve(),
    stop: () => stop(p),
  };
}

export function pgBinDir(): string | null {
  const versions: number[] = [];
  try {
    for (const e of Deno.readDirSync("/usr/lib/postgresql")) {
      try {
        Deno.statSync(`/usr/lib/postgresql/${e.name}/bin/initdb`);
        versions.push(Number(e.name));
      } catch { /* no server in this version */ }
    }
  } catch { /* not installed */ }
  versions.sort((a, b) => b - a);
  return versions.length ? `/usr/lib/postgresql/${versions[0]}/bin` : null;
}

/**
 * initdb and postgres refuse to run as root: as root, hands `dir` to the `postgres` user (or
 * nobody) and returns the `runuser` prefix that runs a command as them; otherwise `[]`.
 */
async function pgRunAs(dir: string): Promise<string[]> {
  let as: string[] = [];
  if (Deno.uid() === 0) {
    let user = "postgres";
    let uid: number;
    let gid: number;
    try {
      uid = Number((await run("id", ["-u", user])).trim());
      gid = Number((await run("id", ["-g", user])).trim());
    } catch {
      user = "nobody";
      uid = Number((await run("id", ["-u", user])).trim());
      gid = Number((await run("id", ["-g", user])).trim());
    }
    await Deno.chown(dir, uid, gid);
    as = ["runuser", "-u", user, "--"];
  }
  return as;
}

export async function startPostgres(
  dir: string,
  versions: Record<string, string>,
): Promise<Target> {
  let bin = pgBinDir();
  if (!bin) {
    await aptInstall("postgresql");
    bin = pgBinDir();
    if (!bin) throw new Error("no /usr/lib/postgresql/*/bin/initdb after installing postgresql");
  }
  const pgVersion = await run(`${bin}/postgres`, ["--version"]);
  versions.postgres = /\(PostgreSQL\) (\S+)/.exec(pgVersion)?.[1] ?? pgVersion.trim();
  const as = await pgRunAs(dir);
  const cmd = (args: string[]): [string, string[]] =>
    as.length ? [as[0], [...as.slice(1), ...args]] : [args[0], args.slice(1)];
  const data = `${dir}/data`;
  const [c1, a1] = cmd([
    `${bin}/initdb`,
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  await run(c1, a1);
  const port = freePort();
  // Defaults otherwise (fsync on, synchronous_commit on): durable commits, as KalamDB-TS's.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=1100`;
  const [c2, a2] = cmd([
    `${bin}/pg_ctl`,
    "-D",
    data,
    "-l",
    `${dir}/postgres.log`,
    "-w",
    "-t",
    "60",
    "-o",
    options,
    "start",
  ]);
  await run(c2, a2, 90_000);
  const pid = Number(Deno.readTextFileSync(`${data}/postmaster.pid`).split("\n")[0]);
  const pg = (await import("pg")).default;
  const setup = async () => {
    const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres" });
    await client.connect();
    try {
      await client.query(PG_SETUP);
    } finally {
      await client.end();
    }
  };
  const stopPg = async () => {
    const [c, a] = cmd([`${bin}/pg_ctl`, "-D", data, "-m", "fast", "-w", "-t", "60", "stop"]);
    await run(c, a, 90_000);
  };
  try {
    await setup();
  } catch (err) {
    await stopPg();
    throw err;
  }
  return {
    system: "pg",
    port,
    pids: () => withChildren(pid),
    reset: setup,
    stop: stopPg,
  };
}
