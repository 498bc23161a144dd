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
//
// The systems are started by _peers.ts (each a `Target`), their processes handled by _procs.ts.

import { startBare, startKalamdb, startPostgres, startRedis, type Target } from "./_peers.ts";
import { cpuOf, type Proc, spawn } from "./_procs.ts";

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
const SUBSCRIBERS = new URL("./_live_subscribers.ts", import.meta.url).pathname;
const WRITER = new URL("./_live_writer.ts", import.meta.url).pathname;
const RATE = 1000;
const PAYLOAD_BYTES = 100;
const INFLIGHT = 64;
const LABELS: Record<LiveSystem, string> = {
  kalamdb: "KalamDB-TS",
  bare: "bare Deno.serve WebSocket",
  redis: "Redis PUBLISH → SUBSCRIBE",
  pg: "PostgreSQL INSERT + trigger + NOTIFY",
};

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
    const writer = await runWriter(t, o);
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
    await closeSubscribers(subs, stdin);
  }
}

/** Runs the writer process to the end of its writes; returns what it reports. */
async function runWriter(t: Target, o: RunOptions): Promise<WriterResult> {
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
  return JSON.parse(wtext.split("\n").at(-1)!);
}

/** Closes the subscribers' stdin (their cue to exit) and waits for them (SIGKILL after 30 s). */
async function closeSubscribers(
  subs: Proc,
  stdin: WritableStreamDefaultWriter<Uint8Array>,
): Promise<void> {
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

function summary(r: LiveRun): string {
  if (r.error || !r.result || !r.writer) return `    error: ${r.error?.split("\n")[0]}`;
  const x = r.result;
  return `    ${x.deliveries}/${x.expected} deliveries, p50 ${x.p50_ms} ms, p99 ${x.p99_ms} ms, ` +
    `writes ${r.writer.ok}/${r.writer.target} (${r.writer.rate}/s), CPU server ${r.cpu?.server}% ` +
    `subscribers ${r.cpu?.subscribers}% writer ${r.cpu?.writer}%`;
}

// ------------------------------------------------------------------ the benchmark

/** A run that could not be measured: its shape, and the error (first 3,000 characters). */
function failedRun(system: LiveSystem, sockets: number, subs: number, err: unknown): LiveRun {
  return {
    system,
    label: LABELS[system],
    subscribers: sockets * subs,
    sockets,
    subsPerSocket: subs,
    error: String(err instanceof Error ? err.message : err).slice(0, 3000),
  };
}

/**
 * Starts the peers among `systems` (bare, Redis, PostgreSQL) into `peers`; one that cannot be
 * started goes to `unavailable` with the reason.
 */
async function startPeers(
  systems: readonly LiveSystem[],
  dir: string,
  versions: Record<string, string>,
  peers: Target[],
  unavailable: LiveBench["unavailable"],
): Promise<void> {
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
}

/** Stops every peer, reporting (not throwing) a failure to stop. */
async function stopPeers(peers: readonly Target[]): Promise<void> {
  for (const p of peers) {
    try {
      await p.stop();
    } catch (err) {
      console.error(`stopping ${p.system}: ${err}`);
    }
  }
}

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
      r = failedRun(t.system, sockets, subs, err);
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
      runs.push(failedRun("kalamdb", sockets, subs, err));
    } finally {
      await k?.stop();
    }
  };

  try {
    await startPeers(systems, dir, versions, peers, unavailable);
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
    await stopPeers(peers);
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
