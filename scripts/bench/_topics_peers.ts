// The systems the topics benchmark (topics.ts) measures, each started on 127.0.0.1 in a temp
// directory and stopped by its pid: KalamDB-TS (`main.ts serve`, fresh data dir, namespace
// `bench`), Redis with AOF + `appendfsync always` (fsync before each write is answered) and
// Redis with its default durability (no AOF, RDB snapshots), and NATS JetStream file storage
// (`sync_interval: always` when the nats-server knows it — 2.10+ — else its default fsync every
// 2 minutes, said in the durability column). Redis and NATS come from Debian when missing.

import { startServer } from "./_client_kit.ts";
import { aptInstall, freePort, type Proc, run, spawn, stop, waitFor, which } from "./_procs.ts";

export type TopicSystem = "kalamdb" | "redis" | "redis-default" | "nats";

export interface Peer {
  readonly system: TopicSystem;
  /** The client's --system. */
  readonly client: "kalamdb" | "redis" | "nats";
  readonly label: string;
  readonly durability: string;
  readonly version: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

const BASIC_ROOT = "Basic cm9vdDo=";

export async function startKalamdb(dir: string): Promise<Peer> {
  const server = await startServer(`${dir}/kalamdb`);
  try {
    const res = await fetch(`${server.url}/v1/api/sql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: BASIC_ROOT },
      body: JSON.stringify({ sql: "CREATE NAMESPACE bench" }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status !== 200 || !text.includes('"status":"success"')) {
      throw new Error(`CREATE NAMESPACE bench → HTTP ${res.status} ${text.slice(0, 300)}`);
    }
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    system: "kalamdb",
    client: "kalamdb",
    label: "KalamDB-TS topic",
    durability: "fsync every group commit (durability full)",
    version: "main.ts",
    port: server.port,
    pid: server.proc.child.pid,
    stop: () => server.stop(),
  };
}

async function ensure(cmd: string, pkg: string): Promise<string> {
  let bin = await which(cmd);
  if (!bin) {
    await aptInstall(pkg);
    bin = await which(cmd);
    if (!bin) throw new Error(`${cmd} is not on PATH after installing ${pkg}`);
  }
  return bin;
}

/** Redis; `always`: AOF with appendfsync always, else Redis's defaults (no AOF, RDB saves). */
export async function startRedis(dir: string, always: boolean): Promise<Peer> {
  const bin = await ensure("redis-server", "redis-server");
  const version = (await run(bin, ["--version"])).split(" ")[2]?.replace("v=", "") ?? "?";
  const data = `${dir}/redis-${always ? "aof" : "default"}`;
  await Deno.mkdir(data, { recursive: true });
  const port = freePort();
  const durable = always ? ["--appendonly", "yes", "--appendfsync", "always", "--save", ""] : [];
  const p = spawn("redis-server", bin, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    data,
    "--daemonize",
    "no",
    ...durable,
  ]);
  await waitFor(p, /Ready to accept connections/, 30_000);
  p.stdout.drain();
  return {
    system: always ? "redis" : "redis-default",
    client: "redis",
    label: always ? "Redis Streams (AOF always)" : "Redis Streams (default)",
    durability: always
      ? "AOF, appendfsync always (fsync before each reply)"
      : "defaults: no AOF, RDB snapshot (save 3600 1 300 100 60 10000)",
    version,
    port,
    pid: p.child.pid,
    stop: () => stop(p),
  };
}

/** Waits (≤ timeoutMs) until the port takes a TCP connection, or the process exits. */
async function listening(p: Proc, port: number, timeoutMs: number): Promise<void> {
  let exited = false;
  p.child.status.then(() => exited = true);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await new Promise((r) => setTimeout(r, 100)); // let stderr arrive
  throw new Error(`${p.name} not listening on ${port}:\n${p.stderr.tail}`);
}

export async function startNats(dir: string): Promise<Peer> {
  const bin = await ensure("nats-server", "nats-server");
  const version = (await run(bin, ["--version"])).trim().replace(/^nats-server: /, "");
  const attempt = async (sync: boolean) => {
    const port = freePort();
    const store = `${dir}/nats-${sync ? "sync" : "default"}`;
    const conf = `${store}.conf`;
    await Deno.writeTextFile(
      conf,
      `listen: 127.0.0.1:${port}\njetstream {\n  store_dir: "${store}"\n` +
        (sync ? "  sync_interval: always\n" : "") + "}\n",
    );
    const p = spawn("nats-server", bin, ["-c", conf]);
    try {
      await listening(p, port, 30_000);
    } catch (err) {
      await stop(p);
      throw err;
    }
    return { p, port };
  };
  let started: { p: Proc; port: number };
  let durability = "file storage, sync_interval: always (fsync before each PubAck)";
  try {
    started = await attempt(true);
  } catch (err) {
    const why = /unknown field "sync_interval"/.test(String(err))
      ? `nats-server ${version} has no sync_interval option`
      : String(err).split("\n").slice(0, 2).join(" ");
    durability = `file storage, default sync: fsync every 2 min (${why})`;
    started = await attempt(false);
  }
  const { p, port } = started;
  return {
    system: "nats",
    client: "nats",
    label: "NATS JetStream",
    durability,
    version,
    port,
    pid: p.child.pid,
    stop: () => stop(p),
  };
}
