// Topics benchmark (SPEC §10): KalamDB-TS topics (HTTP publish / long-poll consume / ack) next
// to Redis Streams (XADD / XREADGROUP BLOCK / XACK, one consumer group per run, with AOF +
// appendfsync always and with Redis's defaults) and NATS JetStream (file storage, durable pull
// consumer, explicit acks), all on 127.0.0.1, measured in the same run:
//
// - throughput: N messages published by a few concurrent publishers, then for 1, 4 and 16
//   consumers a fresh group consumes + acks all of them → acked messages/s. KalamDB-TS runs
//   twice: with keys k0…k999 (one handed-out message per key at a time: per-key order, which
//   Redis Streams and NATS do not keep) and without keys (the same work as theirs);
// - latency: a paced publisher (500/s for 5 s, a timestamp in each payload), 1 / 4 / 16
//   consumers long-polling → publish → delivery p50 / p99.
//
// Every run checks its answers (each message received, none missing, duplicates counted, the
// server's unacked count for the group 0 at the end). The clients run in a child process
// (_topics_client.ts, with --no-lock: the NATS npm package stays out of deno.lock); this one
// starts and stops the servers by pid (_topics_peers.ts) and prints the tables
// (_topics_report.ts). Runs alternate between the systems, so drift hits them alike.
//
//   deno run -A scripts/bench/topics.ts [--quick] [--systems=kalamdb,redis,redis-default,nats]
//
// --quick: small sizes, prints only. Otherwise the results go under "topics" in
// scripts/bench/results.json ({started, scale, results}, as the other parts of `deno task bench`).

import { parseArgs } from "node:util";
import {
  type Peer,
  startKalamdb,
  startNats,
  startRedis,
  type TopicSystem,
} from "./_topics_peers.ts";
import {
  type LatencyRun,
  type ThroughputRun,
  type TopicsBench,
  topicsTable,
} from "./_topics_report.ts";

const ROOT = new URL("../../", import.meta.url);
const CLIENT = new URL("./_topics_client.ts", import.meta.url).pathname;
const ALL: TopicSystem[] = ["kalamdb", "redis", "redis-default", "nats"];
const CONSUMERS = [1, 4, 16];
const PUBLISHERS = 8;
const RATE = 500;
/** Keys the messages cycle through (KalamDB-TS hands out one message per key at a time). */
const KEYS = 1000;

/** Runs one client process; returns its JSON line (throws with its output when it fails). */
async function client(peer: Peer, args: string[], timeoutS: number): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-lock",
      "-A",
      CLIENT,
      `--system=${peer.client}`,
      `--port=${peer.port}`,
      `--server-pid=${peer.pid}`,
      ...args,
    ],
    cwd: ROOT.pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutS * 1000),
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  const line = text.split("\n").at(-1) ?? "";
  if (!out.success || !line.startsWith("{")) {
    const err = new TextDecoder().decode(out.stderr).split("\n")
      .filter((l) => l.trim() && !/^\S*(Download|Initialize)/.test(l)).join("\n");
    throw new Error(`client exit ${out.code}: ${text.slice(-500)}\n${err.slice(-1500)}`);
  }
  return JSON.parse(line);
}

const message = (err: unknown) => String(err instanceof Error ? err.message : err).slice(0, 2000);

async function startPeers(
  systems: readonly TopicSystem[],
  dir: string,
  peers: Peer[],
  unavailable: TopicsBench["unavailable"],
): Promise<void> {
  const starters: Record<TopicSystem, () => Promise<Peer>> = {
    kalamdb: () => startKalamdb(dir),
    redis: () => startRedis(dir, true),
    "redis-default": () => startRedis(dir, false),
    nats: () => startNats(dir),
  };
  for (const s of systems) {
    try {
      peers.push(await starters[s]());
    } catch (err) {
      console.log(`  ${s} not measured: ${message(err).split("\n")[0]}`);
      unavailable.push({ system: s, reason: message(err) });
    }
  }
}

async function kalamdbVersion(): Promise<string> {
  try {
    const out = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "null",
    }).output();
    return `main.ts at ${new TextDecoder().decode(out.stdout).trim()} + working tree`;
  } catch {
    return "main.ts";
  }
}

/**
 * Publish n (keys k0…k999, or none with `keys` 0), then drain with each consumer count, in one
 * client process.
 */
async function throughputRun(p: Peer, n: number, keys = KEYS): Promise<ThroughputRun> {
  console.log(
    `  ${p.label} (${keys ? `${keys} keys` : "no key"}): publish ${n}, then consume + ack ` +
      `with ${CONSUMERS} consumers …`,
  );
  try {
    const r = await client(p, [
      `--name=thr_${p.system.replace("-", "_")}_${keys}`,
      `--keys=${keys}`,
      "--mode=throughput",
      `--n=${n}`,
      `--publishers=${PUBLISHERS}`,
      `--consumers=${CONSUMERS.join(",")}`,
      "--deadline-s=60",
    ], 400) as Omit<ThroughputRun, "system">;
    console.log(
      `    publish ${r.publish?.published_per_s}/s; acked/s ` +
        (r.drains ?? []).map((d) =>
          `${d.consumers}: ${d.acked_per_s} (${d.received}/${n}, ${d.duplicates} dup)`
        ).join(", "),
    );
    return { system: p.system, ...r, keys };
  } catch (err) {
    console.log(`    error: ${message(err).split("\n")[0]}`);
    return { system: p.system, keys, error: message(err) };
  }
}

/** RATE/s for `seconds` to `c` long-polling consumers, on a fresh topic. */
async function latencyRun(p: Peer, c: number, seconds: number): Promise<LatencyRun> {
  console.log(`  ${p.label}: ${RATE}/s for ${seconds} s, ${c} consumer(s) …`);
  try {
    const r = await client(p, [
      `--name=lat_${p.system.replace("-", "_")}_${c}`,
      "--mode=latency",
      `--rate=${RATE}`,
      `--seconds=${seconds}`,
      `--consumers=${c}`,
    ], seconds + 90) as Omit<LatencyRun, "system">;
    console.log(
      `    p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, ${r.received}/${r.published} received, ` +
        `${r.duplicates} dup, server CPU ${r.server_cpu_pct}%`,
    );
    return { ...r, system: p.system, consumers: c };
  } catch (err) {
    console.log(`    error: ${message(err).split("\n")[0]}`);
    return { system: p.system, consumers: c, error: message(err) };
  }
}

/**
 * Runs the topics benchmark; `scale` < 1 shrinks it (a smoke run): N = 20,000 × scale (at
 * least 1,000) and latency runs of 5 s × scale (at least 1 s).
 *
 * @example
 * const r = await runTopicsBench(0.1, ["kalamdb", "redis"]);
 * console.log(topicsTable(r));
 */
export async function runTopicsBench(
  scale = 1,
  systems: readonly TopicSystem[] = ALL,
): Promise<TopicsBench> {
  const n = Math.max(1000, Math.round(20_000 * scale));
  const seconds = Math.max(1, Math.round(5 * scale * 10) / 10);
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-topics-bench-" });
  const peers: Peer[] = [];
  const unavailable: TopicsBench["unavailable"] = [];
  const throughput: ThroughputRun[] = [];
  const latency: LatencyRun[] = [];
  try {
    await startPeers(systems, dir, peers, unavailable);
    for (const p of peers) {
      throughput.push(await throughputRun(p, n));
      // Redis and NATS keep no per-key order: the like-for-like KalamDB-TS run has no keys.
      if (p.system === "kalamdb") throughput.push(await throughputRun(p, n, 0));
    }
    for (const c of CONSUMERS) {
      for (const p of peers) latency.push(await latencyRun(p, c, seconds));
    }
  } finally {
    for (const p of peers) {
      await p.stop().catch((err) => console.error(`stopping ${p.system}: ${err}`));
    }
    await Deno.remove(dir, { recursive: true }).catch((err) =>
      console.error(`removing ${dir}: ${err}`)
    );
  }
  const kalamdb = await kalamdbVersion();
  return {
    n,
    publishers: PUBLISHERS,
    rate: RATE,
    seconds,
    consumers: CONSUMERS,
    deno: Deno.version.deno,
    peers: peers.map((p) => ({
      system: p.system,
      label: p.label,
      durability: p.durability,
      version: p.system === "kalamdb" ? kalamdb : p.version,
    })),
    unavailable,
    throughput,
    latency,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      systems: { type: "string" },
    },
  });
  const systems = (values.systems?.split(",") ?? ALL) as TopicSystem[];
  const bad = systems.filter((s) => !ALL.includes(s));
  if (bad.length) {
    console.error(`--systems takes ${ALL.join(", ")}; got ${bad.join(", ")}`);
    Deno.exit(2);
  }
  const scale = values.quick ? 0.1 : 1;
  const started = new Date().toISOString();
  console.log(`topics benchmark (scale ${scale}) …`);
  const results = await runTopicsBench(scale, systems);
  console.log(topicsTable(results));
  if (!values.quick) {
    // Only the "topics" key is replaced: the other parts' results stay as they are.
    const file = new URL("./results.json", import.meta.url);
    const all = JSON.parse(await Deno.readTextFile(file).catch(() => "{}"));
    all.topics = { started, scale, results };
    await Deno.writeTextFile(file, JSON.stringify(all, null, 2) + "\n");
    console.log(`results written under "topics" in ${file.pathname}`);
  }
}
