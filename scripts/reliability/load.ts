// Reliability item 5, "load held" (issue 15): a bounded load test on loopback. A real server
// child (`main.ts serve`, 127.0.0.1 port 0, fresh data dir) takes 1,000 concurrent HTTP clients
// (half writers: 50 users into their USER-table partitions and a service user into a SHARED
// table, inserts and updates; half readers: point and small range SELECTs) and 5,000 WebSockets
// with one subscription each, for 60 s (--short) or 10 min (--long). The clients and sockets live
// in separate `deno run` worker processes (_load_worker.ts), never in the server's event loop.
// The server's RSS is sampled from /proc every 2.5 s.
//
// It fails (exit 1) on any error other than RATE_LIMITED (and RATE_LIMITED only with
// --rate-limit), end RSS > 1.2 × the RSS after warm-up (20 % into the run), a socket that closed,
// never subscribed, got no change or went quiet in the last 25 % of the run, a change out of seq
// order, no completed flush (the cold tier must be exercised), or a dead server.
//
// Server settings for the test (defaults are not changed): KALAMDB_RATE_LIMIT = 0 (off) unless
// --rate-limit R; KALAMDB_TRUSTED_PROXIES = 127.0.0.1 so the sockets can spread over client
// addresses named in X-Forwarded-For (the server allows 1,024 sockets per address);
// KALAMDB_ROOT_PASSWORD, so root logs in with a password like every other account.
//
//   deno run -A scripts/reliability/load.ts --short|--long [--seed N] [--writers 1000]
//     [--sockets 5000] [--seconds S] [--rate-limit R] [--workers 2] [--users 50] [--ping-s 10]
//     [--keep]
//
// Prints progress, a table per operation, a timeline, and one final JSON line `{"load":…}`.

import { parseArgs } from "node:util";
import { cpuSeconds, denoChild, fdLimit, rssAnonMb, rssMb, startServer } from "./_load_server.ts";
import type { Child } from "./_load_server.ts";
import { coldTier, type Identities, ROOT_PASSWORD, setUp } from "./_load_setup.ts";
import { mergeByType, type OpTally, round } from "./_load_stats.ts";
import type { WorkerConfig } from "./_load_worker.ts";
import {
  type Done,
  failures,
  mergeSockets,
  opTable,
  printTables,
  rssFigures,
  type RssSample,
  type Tick,
  timeline,
} from "./_load_report.ts";

const WORKER = new URL("./_load_worker.ts", import.meta.url).pathname;
const SECRET = "kalamdb-load-test-secret-0123456789abcdef01234567";
const RSS_EVERY_MS = 2500;
const TICK_S = 5;

interface Options {
  profile: "short" | "long";
  seed: number;
  clients: number;
  sockets: number;
  seconds: number;
  rateLimit: number;
  workers: number;
  users: number;
  pingS: number;
  keep: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      short: { type: "boolean" },
      long: { type: "boolean" },
      seed: { type: "string" },
      writers: { type: "string", default: "1000" },
      sockets: { type: "string", default: "5000" },
      seconds: { type: "string" },
      "rate-limit": { type: "string", default: "0" },
      workers: { type: "string", default: "2" },
      users: { type: "string", default: "50" },
      "ping-s": { type: "string", default: "10" },
      keep: { type: "boolean" },
    },
  });
  const profile = values.long ? "long" : "short";
  const o: Options = {
    profile,
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed),
    clients: Number(values.writers),
    sockets: Number(values.sockets),
    seconds: Number(values.seconds ?? (profile === "long" ? 600 : 60)),
    rateLimit: Number(values["rate-limit"]),
    workers: Number(values.workers),
    users: Number(values.users),
    pingS: Number(values["ping-s"]),
    keep: values.keep ?? false,
  };
  for (const k of ["clients", "sockets", "seconds", "workers", "users", "pingS"] as const) {
    if (!(o[k] > 0)) throw new Error(`--${k} must be positive`);
  }
  // Nine writers in ten write as a user: every user needs one, or its sockets never hear a change.
  const userWriters = Math.ceil(o.clients / 2) - Math.floor(Math.ceil(o.clients / 2) / 10);
  if (userWriters < o.users) {
    throw new Error(
      `--writers ${o.clients} gives ${userWriters} user writers for ${o.users} users`,
    );
  }
  return o;
}

function loadavg(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

/** Reads a worker's lines into `ticks` / its `Done` until it exits or `deadline` passes. */
async function collect(w: Child, ticks: Tick[], deadline: number): Promise<Done> {
  for (;;) {
    const line = await w.line(Math.max(1, deadline - Date.now()));
    if (line === null) throw new Error(`worker exited without a report:\n${w.stderrTail}`);
    const msg = JSON.parse(line);
    if (msg.type === "tick") ticks.push(msg);
    else if (msg.type === "done") return msg;
    else if (msg.type === "fatal") throw new Error(`worker: ${msg.error}`);
  }
}

/** The fd limit the children need (sockets + connections, server side and generator side). */
async function conditionsOf(o: Options) {
  const fd = await fdLimit();
  const perWorker = Math.ceil((o.sockets + o.clients) / o.workers) + 256;
  const needed = Math.max(o.sockets + o.clients + 1024, perWorker);
  const nofile = Math.min(fd.hard, Math.max(needed, fd.soft, 65536));
  if (nofile < needed) throw new Error(`ulimit -n hard limit ${fd.hard} < ${needed} needed`);
  return {
    cores: navigator.hardwareConcurrency,
    loadavg_start: loadavg(),
    fd_soft: fd.soft,
    fd_hard: fd.hard,
    fd_children: nofile,
  };
}

/** The server's RSS (from /proc) and healthcheck time, every RSS_EVERY_MS. */
class Sampler {
  readonly raw: { at: number; mb: number; anon: number; health: number }[] = [];
  #timer?: ReturnType<typeof setInterval>;
  #pid: number;
  #url: string;

  constructor(pid: number, url: string) {
    this.#pid = pid;
    this.#url = url;
  }

  async sample(): Promise<void> {
    const at = performance.now();
    const mb = rssMb(this.#pid);
    const anon = rssAnonMb(this.#pid) ?? 0;
    const ok = await fetch(this.#url + "/v1/api/healthcheck", {
      signal: AbortSignal.timeout(20_000),
    }).then((r) => r.text(), () => null);
    const health = ok === null ? -1 : round(performance.now() - at, 1);
    if (mb !== null) this.raw.push({ at, mb, anon, health });
  }

  start(): void {
    this.#timer = setInterval(() => void this.sample(), RSS_EVERY_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The samples with t_s relative to `goAt`. */
  relative(goAt: number): RssSample[] {
    return this.raw.map((r) => ({
      t_s: round((r.at - goAt) / 1000, 1),
      rss_mb: r.mb,
      anon_mb: r.anon,
      health_ms: r.health,
    }));
  }
}

/** Spawns the workers, hands each its config and waits until every socket is subscribed. */
async function spawnWorkers(
  o: Options,
  url: string,
  ids: Identities,
  nofile: number,
  workers: Child[],
): Promise<number> {
  for (let w = 0; w < o.workers; w++) {
    const child = denoChild(WORKER, [], { nofile, stdin: true });
    workers.push(child);
    const cfg: WorkerConfig = {
      url,
      worker: w,
      workers: o.workers,
      seed: o.seed,
      clients: o.clients,
      sockets: o.sockets,
      users: ids.users,
      service: ids.service,
      seconds: o.seconds,
      tickMs: TICK_S * 1000,
      requestTimeoutMs: 30_000,
      pingMs: o.pingS * 1000,
    };
    await child.send(JSON.stringify(cfg));
  }
  const ready = await Promise.all(workers.map(async (w) => {
    const line = await w.line(180_000);
    if (line === null) throw new Error(`worker exited before ready:\n${w.stderrTail}`);
    return JSON.parse(line);
  }));
  return ready.reduce((s, r) => s + (r.subscribed ?? 0), 0);
}

/** The load phase: `go` to every worker, then their ticks and final reports. */
async function loadPhase(o: Options, server: Child, workers: Child[], sampler: Sampler) {
  const goAt = performance.now();
  const cpuAt = [server, ...workers].map((c) => cpuSeconds(c.pid));
  void sampler.sample();
  for (const w of workers) await w.send("go");
  const ticks: Tick[] = [];
  const deadline = Date.now() + o.seconds * 1000 + 120_000;
  const progress = setInterval(() => {
    const t = round((performance.now() - goAt) / 1000, 0);
    console.log(`  t=${t}s RSS ${sampler.raw.at(-1)?.mb} MB, ${ticks.length} ticks`);
  }, Math.max(10_000, o.seconds * 100));
  try {
    const dones = await Promise.all(workers.map((w) => collect(w, ticks, deadline)));
    sampler.stop();
    const cpu = [server, ...workers].map((c, i) => round(cpuSeconds(c.pid) - cpuAt[i], 1));
    return { dones, ticks, rss: sampler.relative(goAt), cpu };
  } finally {
    clearInterval(progress);
  }
}

/** Checks, prints the tables and returns the summary object. */
function report(
  o: Options,
  run: Awaited<ReturnType<typeof loadPhase>>,
  checks: { serverAlive: boolean; cold: Record<string, unknown>; stderr: string },
) {
  const ops: Record<string, OpTally> = {};
  for (const d of run.dones) mergeByType(ops, d.ops);
  const loadS = Math.max(...run.dones.map((d) => d.load_s));
  const sockets = mergeSockets(run.dones.map((d) => d.sockets));
  const figures = rssFigures(run.rss, o.seconds);
  const failed = failures({
    ops,
    sockets,
    rss: figures,
    rateLimited: o.rateLimit > 0,
    serverAlive: checks.serverAlive,
    flushes: Number(checks.cold.flush_completed ?? 0),
    expectedSockets: o.sockets,
  });
  const table = opTable(ops, loadS);
  const tl = timeline(run.ticks, run.rss, TICK_S);
  printTables(table, tl);
  const errorLines = checks.stderr.split("\n").filter((l) => /error|uncaught|panic/i.test(l));
  for (const l of errorLines.slice(0, 10)) console.log(`  server stderr: ${l.slice(0, 300)}`);
  for (const f of failed) console.log(`  ! ${f}`);
  const totalN = Object.values(ops).reduce((s, t) => s + t.n, 0);
  return {
    load: failed.length === 0 ? "held" : "FAILED",
    profile: o.profile,
    seed: o.seed,
    clients: o.clients,
    writers: Math.ceil(o.clients / 2),
    readers: o.clients - Math.ceil(o.clients / 2),
    sockets: o.sockets,
    seconds: round(loadS, 1),
    rate_limit: o.rateLimit,
    ping_s: o.pingS,
    ops_per_s: round(totalN / loadS),
    ops: table,
    deliveries_per_s: round(sockets.deliveries / loadS),
    socket_check: sockets,
    rss: figures,
    cpu_s_server: run.cpu[0],
    cpu_s_workers: run.cpu.slice(1),
    cold: checks.cold,
    server_error_lines: errorLines.length,
    failures: failed,
    rss_samples: run.rss,
    timeline: tl,
  };
}

async function main(o: Options): Promise<boolean> {
  const conditions = await conditionsOf(o);
  console.log(
    `load held, ${o.profile} profile: ${o.clients} clients, ${o.sockets} sockets, ${o.seconds} s, ` +
      `${o.workers} workers, seed ${o.seed}, rate limit ${o.rateLimit || "off"}; ` +
      `load average ${conditions.loadavg_start}`,
  );
  const dataDir = await Deno.makeTempDir({ prefix: "kalamdb-load-" });
  const env = {
    KALAMDB_JWT_SECRET: SECRET,
    KALAMDB_ROOT_PASSWORD: ROOT_PASSWORD,
    KALAMDB_RATE_LIMIT: String(o.rateLimit),
    KALAMDB_TRUSTED_PROXIES: "127.0.0.1",
  };
  const { server, url } = await startServer(dataDir, env, conditions.fd_children);
  const workers: Child[] = [];
  const sampler = new Sampler(server.pid, url);
  try {
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`not loopback: ${url}`);
    const ids = await setUp(url, o.users, o.seed);
    await sampler.sample();
    sampler.start();
    const t0 = performance.now();
    const subscribed = await spawnWorkers(o, url, ids, conditions.fd_children, workers);
    const openS = round((performance.now() - t0) / 1000);
    console.log(
      `${subscribed} of ${o.sockets} sockets subscribed in ${openS} s; ` +
        `RSS ${rssMb(server.pid)} MB; load starts`,
    );
    const run = await loadPhase(o, server, workers, sampler);
    const serverAlive = !server.done &&
      await fetch(url + "/v1/api/healthcheck").then((r) => r.text().then(() => r.ok), () => false);
    const cold = serverAlive ? await coldTier(url, ids.root) : {};
    // Memory once the load is gone (sockets closed, workers exited): held or given back?
    await Promise.all(workers.map((w) => w.stop(5000)));
    await new Promise((r) => setTimeout(r, 10_000));
    const idle = {
      rss_idle_10s_after_mb: rssMb(server.pid),
      rss_anon_idle_mb: rssAnonMb(server.pid),
    };
    await server.stop();
    const summary = report(o, run, { serverAlive, cold, stderr: server.stderrAll });
    const end = { loadavg_end: loadavg(), sockets_open_s: openS, ...idle };
    console.log(JSON.stringify({ ...summary, conditions: { ...conditions, ...end } }));
    return summary.failures.length === 0;
  } finally {
    sampler.stop();
    await Promise.all(workers.map((w) => w.stop(5000)));
    await server.stop(15_000);
    if (o.keep) console.log(`data dir kept: ${dataDir}`);
    else await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  let ok = false;
  try {
    ok = await main(options());
  } catch (err) {
    console.log(`load FAILED: ${(err as Error).stack ?? err}`);
  }
  Deno.exit(ok ? 0 : 1);
}
