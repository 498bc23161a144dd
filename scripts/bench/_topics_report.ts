// Markdown tables of the topics benchmark (topics.ts): throughput (publish, then consume + ack
// with 1 / 4 / 16 consumers), publish → delivery latency, the answers' checks, and the ratios
// KalamDB-TS / Redis Streams (AOF always) and KalamDB-TS / NATS JetStream from the same run.

import type { TopicSystem } from "./_topics_peers.ts";

export interface Checks {
  readonly received: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly out_of_range: number;
  readonly errors: number;
  readonly first_error?: string;
  readonly unacked_on_server: number;
  readonly server_cpu_pct: number;
  readonly client_cpu_pct: number;
}

export interface Drain extends Checks {
  readonly consumers: number;
  readonly acked: number;
  readonly completed: boolean;
  readonly elapsed_s: number;
  readonly acked_per_s: number;
}

export interface ThroughputRun {
  readonly system: TopicSystem;
  /** Keys the messages cycled through (0: none); runs before this field had 1,000. */
  readonly keys?: number;
  readonly n?: number;
  readonly publish?: {
    publishers: number;
    published: number;
    publish_s: number;
    published_per_s: number;
    errors: number;
    first_error?: string;
    server_cpu_pct: number;
  };
  readonly drains?: Drain[];
  readonly error?: string;
}

export interface LatencyRun extends Partial<Checks> {
  readonly system: TopicSystem;
  readonly consumers: number;
  readonly n?: number;
  readonly published?: number;
  readonly achieved_rate?: number;
  readonly p50_ms?: number | null;
  readonly p90_ms?: number | null;
  readonly p99_ms?: number | null;
  readonly max_ms?: number | null;
  readonly error?: string;
}

export interface PeerInfo {
  readonly system: TopicSystem;
  readonly label: string;
  readonly durability: string;
  readonly version: string;
}

export interface TopicsBench {
  readonly n: number;
  readonly publishers: number;
  readonly rate: number;
  readonly seconds: number;
  readonly consumers: number[];
  readonly deno: string;
  readonly peers: PeerInfo[];
  readonly unavailable: { system: TopicSystem; reason: string }[];
  readonly throughput: ThroughputRun[];
  readonly latency: LatencyRun[];
}

const fmt = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined ? "—" : x.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });

function ratio(a: number | null | undefined, b: number | null | undefined): string {
  if (!a || !b) return "—";
  const r = a / b;
  return r >= 10 ? `${r.toFixed(0)}×` : r >= 1 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

/** "ok" when the run's answers check out, else what is wrong. */
function check(c: Partial<Checks> & { completed?: boolean }, expected: number): string {
  const bad: string[] = [];
  if (c.completed === false) bad.push("incomplete");
  if (c.missing) bad.push(`${c.missing} missing`);
  if (c.received !== undefined && c.received !== expected) bad.push(`${c.received}/${expected}`);
  if (c.out_of_range) bad.push(`${c.out_of_range} foreign`);
  if (c.unacked_on_server) bad.push(`${c.unacked_on_server} unacked`);
  if (c.errors) bad.push(`${c.errors} errors`);
  const dups = c.duplicates ? `, ${c.duplicates} dup` : "";
  return (bad.length ? bad.join(", ") : "ok") + dups;
}

export function topicsTable(r: TopicsBench): string {
  const label = (s: TopicSystem) => r.peers.find((p) => p.system === s)?.label ?? s;
  const cs = r.consumers;
  const out: string[] = [];
  out.push(
    `Throughput: ${fmt(r.n)} messages (100 B padding, keys k0…k999) published by ` +
      `${r.publishers} sequential publishers, then per consumer count a fresh group consumes ` +
      `+ acks (batches of 100) all of them. acked/s = N / (first consume → last ack answered). ` +
      "KalamDB-TS hands out one message per key at a time (per-key order), which Redis Streams " +
      "and NATS do not: its run without keys is the same work as theirs.",
    "",
    `| system | durability | publish/s | ${cs.map((c) => `acked/s, ${c} cons.`).join(" | ")} | ` +
      `checks |`,
    `|---|---|---:|${cs.map(() => "---:|").join("")}---|`,
  );
  for (const t of r.throughput) {
    const dur = r.peers.find((p) => p.system === t.system)?.durability ?? "";
    const name = t.system === "kalamdb" ? `${label(t.system)}, ${keyMode(t)}` : label(t.system);
    if (t.error || !t.publish || !t.drains) {
      out.push(`| ${name} | ${dur} | error: ${t.error?.split("\n")[0]} |`);
      continue;
    }
    const n = t.publish.published;
    const checks = t.drains.map((d) => `${d.consumers}: ${check(d, n)}`).join("; ");
    const pubErr = t.publish.errors ? ` (${t.publish.errors} publish errors)` : "";
    out.push(
      `| ${name} | ${dur} | ${fmt(t.publish.published_per_s)}${pubErr} | ` +
        cs.map((c) => fmt(t.drains!.find((d) => d.consumers === c)?.acked_per_s)).join(" | ") +
        ` | ${checks} |`,
    );
  }
  out.push(
    "",
    `Latency: one publisher at ${r.rate}/s for ${r.seconds} s (≤ 64 in flight), consumers ` +
      "long-polling (wait 5 s) and acking each batch; publish → delivery (receive time − " +
      "timestamp in the payload), over the messages after the first 10 %.",
    "",
    "| system | consumers | p50 ms | p90 ms | p99 ms | max ms | rate/s | server CPU | checks |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|",
  );
  for (const l of r.latency) {
    if (l.error) {
      out.push(`| ${label(l.system)} | ${l.consumers} | error: ${l.error.split("\n")[0]} |`);
      continue;
    }
    out.push(
      `| ${label(l.system)} | ${l.consumers} | ${fmt(l.p50_ms, 2)} | ${fmt(l.p90_ms, 2)} | ` +
        `${fmt(l.p99_ms, 2)} | ${fmt(l.max_ms, 1)} | ${fmt(l.achieved_rate)} | ` +
        `${l.server_cpu_pct}% | ${check(l, l.published ?? 0)} |`,
    );
  }
  out.push("", ratiosTable(r));
  out.push("", "Durability:");
  for (const p of r.peers) out.push(`- ${p.label} (${p.version}): ${p.durability}`);
  for (const u of r.unavailable) out.push(`- ${u.system}: not measured — ${u.reason}`);
  return out.join("\n");
}

/** "1,000 keys (per-key order)" or "no key". */
function keyMode(t: ThroughputRun): string {
  const keys = t.keys ?? 1000;
  return keys ? `${fmt(keys)} keys (per-key order)` : "no key";
}

/** KalamDB-TS / Redis (AOF always) and KalamDB-TS / NATS, per measure and consumer count. */
function ratiosTable(r: TopicsBench): string {
  const run = (s: TopicSystem, keyed: boolean) =>
    r.throughput.find((t) => t.system === s && (s !== "kalamdb" || (t.keys ?? 1000) > 0 === keyed));
  const drain = (s: TopicSystem, c: number, keyed = true) =>
    run(s, keyed)?.drains?.find((d) => d.consumers === c)?.acked_per_s;
  const lat = (s: TopicSystem, c: number, q: "p50_ms" | "p99_ms") =>
    r.latency.find((l) => l.system === s && l.consumers === c)?.[q];
  const pub = (s: TopicSystem) => run(s, true)?.publish?.published_per_s;
  const rows: string[] = [
    "| measure | KalamDB-TS | Redis AOF always | KalamDB/Redis | NATS JetStream | KalamDB/NATS |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  const row = (name: string, k?: number | null, red?: number | null, nats?: number | null) => {
    const d = name.startsWith("latency") ? 2 : 0;
    rows.push(
      `| ${name} | ${fmt(k, d)} | ${fmt(red, d)} | ${ratio(k, red)} | ${fmt(nats, d)} | ` +
        `${ratio(k, nats)} |`,
    );
  };
  row(`publish/s (${r.publishers} publishers)`, pub("kalamdb"), pub("redis"), pub("nats"));
  const unkeyed = r.throughput.some((t) => t.system === "kalamdb" && t.keys === 0);
  for (const c of r.consumers) {
    if (unkeyed) {
      row(
        `acked/s, ${c} consumers, no key (same work)`,
        drain("kalamdb", c, false),
        drain("redis", c),
        drain("nats", c),
      );
    }
    row(
      `acked/s, ${c} consumers${unkeyed ? ", KalamDB-TS with per-key order" : ""}`,
      drain("kalamdb", c),
      drain("redis", c),
      drain("nats", c),
    );
  }
  for (const c of r.consumers) {
    for (const q of ["p50_ms", "p99_ms"] as const) {
      row(
        `latency ${q.slice(0, 3)} ms, ${c} consumers`,
        lat("kalamdb", c, q),
        lat("redis", c, q),
        lat("nats", c, q),
      );
    }
  }
  return "Ratios (same run; throughput: > 1× = KalamDB-TS faster; latency: > 1× = " +
    "KalamDB-TS slower):\n\n" + rows.join("\n");
}
