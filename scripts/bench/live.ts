// Live-query benchmark (issue 5): insert → subscriber latency at 100 and 1,000 subscribers with
// 1,000 writes/s, for KalamDB-TS next to (a) a bare `Deno.serve` WebSocket broadcaster
// (_bare_ws.ts), (b) PostgreSQL INSERT + AFTER INSERT trigger + pg_notify → LISTEN, and
// (c) Redis PUBLISH → SUBSCRIBE. PostgreSQL and Redis come from Debian (`apt-get install` when
// missing, as root); a system that cannot be installed or started is reported as such.
//
// Every run has three processes besides the system measured: the subscribers
// (_live_subscribers.ts, one process holding every connection, the same raw-socket client code
// for every system), the writer (_live_writer.ts, paced single-row writes, `sent_at` = wall-clock
// µs just before each request) and this one, which starts and stops everything by pid and reads
// CPU times from /proc. Latency = subscriber receive time − sent_at, over every delivery.
//
// KalamDB-TS runs are N sockets × 1 subscription (as the peers' N connections), plus one run of
// 100 sockets × 10 subscriptions (1,000 subscriptions; the server coalesces one socket's
// messages into one frame). Each KalamDB-TS run gets a fresh server and an empty table.

/** What the subscriber process reports (see _live_subscribers.ts). */
export interface SubscriberResult {
  readonly expected: number;
  readonly deliveries: number;
  /** Deliveries of writes sent after the warm-up: the ones the latencies are over. */
  readonly measured: number;
  readonly complete_sockets: number;
  readonly sockets: number;
  readonly min_per_socket: number;
  readonly max_per_socket: number;
  readonly closed_sockets: number;
  readonly p50_ms: number | null;
  readonly p90_ms: number | null;
  readonly p99_ms: number | null;
  readonly p999_ms: number | null;
  readonly max_ms: number | null;
  readonly min_ms: number | null;
  readonly mean_ms: number | null;
  readonly drain_ms: number;
  readonly errors: number;
  readonly error_samples: string[];
  readonly timeline: { second: number; deliveries: number; p50_ms: number; p99_ms: number }[];
}

/** What the writer process reports (see _live_writer.ts). */
export interface WriterResult {
  readonly target: number;
  readonly issued: number;
  readonly ok: number;
  readonly errors: number;
  readonly first_error?: string;
  readonly unfinished: number;
  readonly issue_s: number;
  readonly elapsed_s: number;
  /** Writes issued per second (below the target when the in-flight bound held it back). */
  readonly rate: number;
  readonly capped_turns: number;
  readonly ack_p50_ms: number | null;
  readonly ack_p99_ms: number | null;
  readonly cpu_s: number;
  readonly min_receivers?: number;
}

export type LiveSystem = "kalamdb" | "bare" | "redis" | "pg";

export interface LiveRun {
  readonly system: LiveSystem;
  readonly label: string;
  /** Subscriptions in all: sockets × subsPerSocket. */
  readonly subscribers: number;
  readonly sockets: number;
  readonly subsPerSocket: number;
  readonly setup_ms?: number;
  readonly writer?: WriterResult;
  readonly result?: SubscriberResult;
  /** Percent of one core over the writes plus the drain (server: all its processes). */
  readonly cpu?: { server: number; subscribers: number; writer: number; window_s: number };
  /** Lines the server printed during the run other than its banner (errors, warnings). */
  readonly serverLog?: string;
  readonly error?: string;
}

export interface LiveBench {
  readonly rate: number;
  /** Measured seconds of writes per run, after `warmup` seconds of writes not measured. */
  readonly seconds: number;
  readonly warmup: number;
  readonly payloadBytes: number;
  readonly inflight: number;
  readonly versions: Record<string, string>;
  readonly runs: LiveRun[];
  /** Systems that could not be measured, and why. */
  readonly unavailable: { system: LiveSystem; reason: string }[];
  /** Memory per idle socket (target ≤ 60 KB) and the time to subscribe them all. */
  readonly sockets?: SocketMemory;
}

const ROOT = new URL("../../", import.meta.url);
const MAIN = new URL("main.ts", ROOT).pathname;
const BARE_WS = new URL("./_bare_ws.ts", import.meta.url).pathname;
const SUBSCRIBERS = new URL("./_live_subscribers.ts", import.meta.url).pathname;
const WRITER = new URL("./_live_writer.ts", import.meta.url).pathname;
const BASIC_ROOT = "Basic cm9vdDo=";
const RATE = 1000;
const PAYLOAD_BYTES = 100;
const INFLIGHT = 64;
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
const LABELS: Record<LiveSystem, string> = {
  kalamdb: "KalamDB-TS",
  bare: "bare Deno.serve WebSocket",
  redis: "Redis PUBLISH → SUBSCRIBE",
  pg: "PostgreSQL INSERT + trigger + NOTIFY",
};

// ------------------------------------------------------------------ processes

/** Reads a process's output line by line, keeping the last few KiB of everything. */
class Lines {
  #reader: ReadableStreamDefaultReader<string>;
  #buf = "";
  tail = "";

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line, or null at the end; throws after `timeoutMs`. */
  async next(timeoutMs: number): Promise<string | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no output for ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      while (!this.#buf.includes("\n")) {
        const { value, done } = await Promise.race([this.#reader.read(), timeout]);
        if (done) {
          const rest = this.#buf;
          this.#buf = "";
          return rest || null;
        }
        this.#buf += value;
        this.tail = (this.tail + value).slice(-4096);
      }
    } finally {
      clearTimeout(timer);
    }
    const nl = this.#buf.indexOf("\n");
    const line = this.#buf.slice(0, nl);
    this.#buf = this.#buf.slice(nl + 1);
    return line;
  }

  /** Keeps reading in the background (so the pipe never fills). */
  drain(): void {
    (async () => {
      for (;;) {
        const { value, done } = await this.#reader.read();
        if (done) return;
        this.tail = (this.tail + value).slice(-4096);
      }
    })().catch(() => {});
  }
}

interface Proc {
  readonly name: string;
  readonly child: Deno.ChildProcess;
  readonly stdout: Lines;
  readonly stderr: Lines;
}

function spawn(
  name: string,
  cmd: string,
  args: string[],
  o: { env?: Record<string, string>; stdin?: boolean } = {},
): Proc {
  const child = new Deno.Command(cmd, {
    args,
    cwd: ROOT.pathname,
    env: o.env,
    stdin: o.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Lines(child.stderr);
  stderr.drain();
  return { name, child, stdout: new Lines(child.stdout), stderr };
}

/** Waits for a stdout line matching `re` (≤ `timeoutMs`), then drains stdout. */
async function waitFor(p: Proc, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let line: string | null;
    try {
      line = await p.stdout.next(Math.max(1, deadline - Date.now()));
    } catch (err) {
      throw new Error(`${p.name}: ${(err as Error).message}\n${p.stdout.tail}\n${p.stderr.tail}`);
    }
    if (line === null) {
      const status = await p.child.status;
      throw new Error(
        `${p.name} exited (${status.code}) before ready:\n${p.stdout.tail}\n${p.stderr.tail}`,
      );
    }
    const m = re.exec(line);
    if (m) return m;
  }
}

/** SIGTERM to this pid, then waits (SIGKILL after `graceMs`). */
async function stop(p: Proc, graceMs = 20_000): Promise<void> {
  try {
    p.child.kill("SIGTERM");
  } catch { /* already exited */ }
  const timer = setTimeout(() => {
    try {
      p.child.kill("SIGKILL");
    } catch { /* exited meanwhile */ }
  }, graceMs);
  await p.child.status;
  clearTimeout(timer);
}

/** Runs a command to completion; throws with its output when it fails. */
async function run(
  cmd: string,
  args: string[],
  timeoutMs = 120_000,
  env?: Record<string, string>,
): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} → exit ${out.code}\n${text.trim()}`);
  return text;
}

async function which(cmd: string): Promise<string | null> {
  try {
    return (await run("sh", ["-c", `command -v ${cmd}`])).trim() || null;
  } catch {
    return null;
  }
}

/** A port that was free a moment ago (for servers that cannot report theirs). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * user + system CPU seconds of one process and of its children it has reaped (PostgreSQL's
 * exited backends count towards the postmaster), 0 when it is gone.
 */
function cpuOf(pid: number): number {
  try {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ").at(-1)!.split(" ");
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

/** A process and its direct children (PostgreSQL's backends). */
function withChildren(pid: number): number[] {
  const pids = [pid];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const f = Deno.readTextFileSync(`/proc/${e.name}/stat`).split(") ").at(-1)!.split(" ");
      if (Number(f[1]) === pid) pids.push(Number(e.name));
    } catch { /* exited */ }
  }
  return pids;
}

/** `apt-get install -y --no-install-recommends <pkg>` (after `apt-get update` if needed). */
async function aptInstall(pkg: string): Promise<void> {
  if (Deno.uid() !== 0) throw new Error(`${pkg} is not installed and this is not root`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const args = ["install", "-y", "--no-install-recommends", pkg];
  console.log(`  installing ${pkg} from Debian …`);
  try {
    await run("apt-get", args, 300_000, env);
  } catch {
    await run("apt-get", ["update"], 300_000, env);
    await run("apt-get", args, 300_000, env);
  }
}

// ------------------------------------------------------------------ the systems

interface Target {
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

async function startKalamdb(dir: string): Promise<Target> {
  const p = spawn("kalamdb", Deno.execPath(), [
    "run",
    "-A",
    MAIN,
    "serve",
    "--data",
    dir,
    "--port",
    "0",
  ], { env: { KALAMDB_RATE_LIMIT: "0" } });
  const m = await waitFor(p, /listening on http:\/\/127\.0\.0\.1:(\d+)/, 60_000);
  p.stdout.drain();
  const port = Number(m[1]);
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

async function startBare(): Promise<Target> {
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

async function startRedis(versions: Record<string, string>): Promise<Target> {
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

function pgBinDir(): string | null {
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

async function startPostgres(dir: string, versions: Record<string, string>): Promise<Target> {
  let bin = pgBinDir();
  if (!bin) {
    await aptInstall("postgresql");
    bin = pgBinDir();
    if (!bin) throw new Error("no /usr/lib/postgresql/*/bin/initdb after installing postgresql");
  }
  const pgVersion = await run(`${bin}/postgres`, ["--version"]);
  versions.postgres = /\(PostgreSQL\) (\S+)/.exec(pgVersion)?.[1] ?? pgVersion.trim();
  // initdb and postgres refuse to run as root: run them as the `postgres` user (or nobody).
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

// ------------------------------------------------------------------ one run

interface RunOptions {
  readonly seconds: number;
  readonly warmup: number;
  readonly maxDrainMs: number;
  readonly sockets: number;
  readonly subs: number;
  readonly idBase: number;
}

async function measure(t: Target, o: RunOptions): Promise<LiveRun> {
  const base = {
    system: t.system,
    label: LABELS[t.system],
    subscribers: o.sockets * o.subs,
    sockets: o.sockets,
    subsPerSocket: o.subs,
  };
  const subs = spawn("subscribers", Deno.execPath(), [
    "run",
    "-A",
    SUBSCRIBERS,
    `--system=${t.system}`,
    `--port=${t.port}`,
    `--sockets=${o.sockets}`,
    `--subs=${o.subs}`,
    `--max-drain-ms=${o.maxDrainMs}`,
    `--warmup-ms=${Math.round(o.warmup * 1000)}`,
  ], { stdin: true });
  const stdin = subs.child.stdin.getWriter();
  try {
    const readyLine = await subs.stdout.next(180_000);
    const ready = JSON.parse(readyLine ?? "{}");
    if (!ready.ready) {
      throw new Error(`subscribers not ready: ${readyLine ?? ""}\n${subs.stderr.tail}`);
    }
    t.log?.();
    const server0 = t.pids().reduce((s, pid) => s + cpuOf(pid), 0);
    const client0 = cpuOf(subs.child.pid);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        WRITER,
        `--system=${t.system}`,
        `--port=${t.port}`,
        `--rate=${RATE}`,
        `--seconds=${o.seconds + o.warmup}`,
        `--payload-bytes=${PAYLOAD_BYTES}`,
        `--inflight=${INFLIGHT}`,
        `--id-base=${o.idBase}`,
      ],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout((o.seconds + 90) * 1000),
    }).output();
    const wtext = new TextDecoder().decode(out.stdout).trim();
    if (!out.success) {
      throw new Error(`writer failed: ${wtext}\n${new TextDecoder().decode(out.stderr)}`);
    }
    const writer: WriterResult = JSON.parse(wtext.split("\n").at(-1)!);
    await stdin.write(new TextEncoder().encode(JSON.stringify({ expect: writer.ok }) + "\n"));
    const resultLine = await subs.stdout.next(o.maxDrainMs + 120_000);
    const result: SubscriberResult = JSON.parse(resultLine ?? "null");
    if (!result) throw new Error(`subscribers gave no result:\n${subs.stderr.tail}`);
    const server1 = t.pids().reduce((s, pid) => s + cpuOf(pid), 0);
    const client1 = cpuOf(subs.child.pid);
    const window = writer.elapsed_s + result.drain_ms / 1000;
    const pct = (cpu: number) => Math.round((cpu / window) * 100);
    const log = t.log?.();
    return {
      ...base,
      setup_ms: ready.setup_ms,
      writer,
      result,
      cpu: {
        server: pct(server1 - server0),
        subscribers: pct(client1 - client0),
        writer: pct(writer.cpu_s),
        window_s: Math.round(window * 100) / 100,
      },
      ...(log ? { serverLog: log.slice(-2000) } : {}),
    };
  } finally {
    try {
      await stdin.close();
    } catch { /* exited */ }
    const timer = setTimeout(() => {
      try {
        subs.child.kill("SIGKILL");
      } catch { /* exited */ }
    }, 30_000);
    await subs.child.status;
    clearTimeout(timer);
  }
}

function summary(r: LiveRun): string {
  if (r.error || !r.result || !r.writer) return `    error: ${r.error?.split("\n")[0]}`;
  const x = r.result;
  return `    ${x.deliveries}/${x.expected} deliveries, p50 ${x.p50_ms} ms, p99 ${x.p99_ms} ms, ` +
    `writes ${r.writer.ok}/${r.writer.target} (${r.writer.rate}/s), CPU server ${r.cpu?.server}% ` +
    `subscribers ${r.cpu?.subscribers}% writer ${r.cpu?.writer}%`;
}

// ------------------------------------------------------------------ the benchmark

/**
 * Runs the live-query benchmark; `scale` < 1 shortens the writing phase (a smoke run: 10 s ×
 * scale per run, at least 0.5 s, after a 0.2 s warm-up instead of 1 s).
 *
 * @example
 * const r = await runLiveBench(0.05);
 * console.log(r.runs.map((x) => [x.system, x.subscribers, x.result?.p50_ms]));
 */
export async function runLiveBench(
  scale = 1,
  systems: readonly LiveSystem[] = ["kalamdb", "bare", "redis", "pg"],
): Promise<LiveBench> {
  const seconds = Math.max(0.5, Math.round(10 * scale * 10) / 10);
  const warmup = scale < 1 ? 0.2 : 1;
  const maxDrainMs = scale < 1 ? 5_000 : 20_000;
  const versions: Record<string, string> = { deno: Deno.version.deno };
  const unavailable: LiveBench["unavailable"] = [];
  const runs: LiveRun[] = [];
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-live-bench-" });
  const peers: Target[] = [];
  let idBase = 0;
  let sockets: SocketMemory | undefined;

  const attempt = async (t: Target, sockets: number, subs: number) => {
    console.log(`  ${LABELS[t.system]}: ${sockets} sockets × ${subs} subscription(s) …`);
    let r: LiveRun;
    try {
      await t.reset();
      r = await measure(t, { seconds, warmup, maxDrainMs, sockets, subs, idBase });
    } catch (err) {
      r = {
        system: t.system,
        label: LABELS[t.system],
        subscribers: sockets * subs,
        sockets,
        subsPerSocket: subs,
        error: String(err instanceof Error ? err.message : err).slice(0, 3000),
      };
    }
    idBase += 10_000_000;
    console.log(summary(r));
    runs.push(r);
  };
  const kalamdbRun = async (sockets: number, subs: number) => {
    let k: Target | undefined;
    try {
      k = await startKalamdb(`${dir}/kalamdb-${sockets}x${subs}`);
      await attempt(k, sockets, subs);
    } catch (err) {
      runs.push({
        system: "kalamdb",
        label: LABELS.kalamdb,
        subscribers: sockets * subs,
        sockets,
        subsPerSocket: subs,
        error: String(err instanceof Error ? err.message : err).slice(0, 3000),
      });
    } finally {
      await k?.stop();
    }
  };

  try {
    const starters: [LiveSystem, () => Promise<Target>][] = [
      ["bare", startBare],
      ["redis", () => startRedis(versions)],
      ["pg", async () => {
        const pgDir = `${dir}/pg`;
        await Deno.chmod(dir, 0o755); // the postgres user must reach its directory
        await Deno.mkdir(pgDir);
        return await startPostgres(pgDir, versions);
      }],
    ];
    for (const [system, start] of starters) {
      if (!systems.includes(system)) continue;
      try {
        peers.push(await start());
      } catch (err) {
        const reason = String(err instanceof Error ? err.message : err).slice(0, 1500);
        console.log(`  ${LABELS[system]} not measured: ${reason.split("\n")[0]}`);
        unavailable.push({ system, reason });
      }
    }
    const kalamdb = systems.includes("kalamdb");
    for (const n of [100, 1000]) {
      if (kalamdb) await kalamdbRun(n, 1);
      for (const p of peers) await attempt(p, n, 1);
    }
    if (kalamdb) await kalamdbRun(100, 10);
    if (kalamdb) {
      sockets = await socketMemory(
        `${dir}/kalamdb-sockets`,
        Math.max(200, Math.round(10_000 * scale)),
      );
    }
  } finally {
    for (const p of peers) {
      try {
        await p.stop();
      } catch (err) {
        console.error(`stopping ${p.system}: ${err}`);
      }
    }
    await Deno.remove(dir, { recursive: true }).catch((err) =>
      console.error(`removing ${dir}: ${err}`)
    );
  }
  return {
    rate: RATE,
    seconds,
    warmup,
    payloadBytes: PAYLOAD_BYTES,
    inflight: INFLIGHT,
    versions,
    runs,
    unavailable,
    sockets,
  };
}

/** Server RSS per idle authenticated socket with one subscription (scripts/bench/_sockets.ts). */
export interface SocketMemory {
  readonly sockets: number;
  readonly subscribe_s: number;
  readonly rss_before_mb: number;
  readonly rss_after_mb: number;
  readonly kb_per_connection: number;
}

async function socketMemory(dir: string, count: number): Promise<SocketMemory | undefined> {
  console.log(`  KalamDB-TS: ${count} idle sockets, one subscription each …`);
  const k = await startKalamdb(dir);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./_sockets.ts", import.meta.url).pathname,
        `http://127.0.0.1:${k.port}`,
        String(k.pids()[0]),
        String(count),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const line = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
    if (!out.success) {
      console.log(
        `  socket memory not measured: ${new TextDecoder().decode(out.stderr).slice(0, 300)}`,
      );
      return undefined;
    }
    const r = JSON.parse(line) as SocketMemory;
    console.log(
      `    ${r.kb_per_connection} KB per connection, all subscribed in ${r.subscribe_s} s`,
    );
    return r;
  } finally {
    await k.stop();
  }
}

if (import.meta.main) {
  // deno run -A scripts/bench/live.ts [scale] [systems,comma,separated]: prints the JSON.
  const systems = Deno.args[1]?.split(",") as LiveSystem[] | undefined;
  const r = await runLiveBench(Number(Deno.args[0] ?? "0.05"), systems);
  console.log(JSON.stringify(r, null, 2));
}
