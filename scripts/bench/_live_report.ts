// The live-query section of BENCHMARKS.md (issue 5) and its console table: pure functions over
// results.json's `live` part (scripts/bench/live.ts), used by _report.ts and mod.ts. Moved out of
// _report.ts unchanged when the export section (issue 14) took it past the 500-line limit.

import type { LiveBench, LiveRun } from "./live.ts";
import type { Section } from "./_report.ts";

function fmt(n: number): string {
  return n.toLocaleString("en", { maximumFractionDigits: 0 });
}

function ms(n: number): string {
  return n.toFixed(2);
}

function runName(r: LiveRun): string {
  if (r.system !== "kalamdb") return r.label;
  return `${r.label} (${fmt(r.sockets)} sockets × ${r.subsPerSocket} sub${
    r.subsPerSocket > 1 ? "s" : ""
  })`;
}

function ratio(k: number | null | undefined, p: number | null | undefined): string {
  if (k === null || k === undefined || !p) return "–";
  return (k / p).toFixed(2);
}

/** The live-query table (issue 5): per subscriber count, every system, ratios vs KalamDB-TS. */
export function liveTable(b: LiveBench): string {
  const lines = [
    "| subscribers | system | writes/s | deliveries | p50 ms | p99 ms | KalamDB-TS ÷ this p50 | p99 | CPU % server / subscribers / writer |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const n of [...new Set(b.runs.map((r) => r.subscribers))].sort((a, c) => a - c)) {
    const group = b.runs.filter((r) => r.subscribers === n);
    const k = group.find((r) => r.system === "kalamdb" && r.subsPerSocket === 1)?.result;
    for (const r of group) {
      if (!r.result || !r.writer) {
        lines.push(
          `| ${fmt(n)} | ${runName(r)} | – | – | – | – | – | – | failed: ${
            (r.error ?? "").split("\n")[0].slice(0, 120).replaceAll("|", "\\|")
          } |`,
        );
        continue;
      }
      const x = r.result;
      const deliveries = x.deliveries === x.expected
        ? fmt(x.deliveries)
        : `${fmt(x.deliveries)} of ${fmt(x.expected)}`;
      const errs = x.errors ? ` (${fmt(x.errors)} errors)` : "";
      const self = r.system === "kalamdb" && r.subsPerSocket === 1;
      const cpu = r.cpu ? `${r.cpu.server} / ${r.cpu.subscribers} / ${r.cpu.writer}` : "–";
      lines.push(
        `| ${fmt(n)} | ${runName(r)} | ${fmt(r.writer.rate)} | ${deliveries}${errs} | ${
          x.p50_ms === null ? "–" : ms(x.p50_ms)
        } | ${x.p99_ms === null ? "–" : ms(x.p99_ms)} | ${
          self ? "1.00" : ratio(k?.p50_ms, x.p50_ms)
        } | ${self ? "1.00" : ratio(k?.p99_ms, x.p99_ms)} | ${cpu} |`,
      );
    }
  }
  return lines.join("\n");
}

/** Further numbers of each run: tail, write acknowledgement, setup, drain. */
function liveDetail(b: LiveBench): string {
  const lines = [
    "| subscribers | system | p90 ms | p99.9 ms | max ms | p50 ms of the first → last second's writes | write ack p50 / p99 ms | writes ok of target | connect + subscribe | drain after last write |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of b.runs) {
    if (!r.result || !r.writer) continue;
    const x = r.result;
    const w = r.writer;
    const v = (n: number | null) => n === null ? "–" : ms(n);
    const t0 = x.timeline[0];
    const t1 = x.timeline.at(-1);
    const drift = t0 && t1 ? `${v(t0.p50_ms)} → ${v(t1.p50_ms)}` : "–";
    lines.push(
      `| ${fmt(r.subscribers)} | ${runName(r)} | ${v(x.p90_ms)} | ${v(x.p999_ms)} | ${
        v(x.max_ms)
      } | ${drift} | ${v(w.ack_p50_ms)} / ${v(w.ack_p99_ms)} | ${fmt(w.ok)} of ${fmt(w.target)} | ${
        fmt(r.setup_ms ?? 0)
      } ms | ${fmt(x.drain_ms)} ms |`,
    );
  }
  return lines.join("\n");
}

/** The live section's missing systems, per-run problems and idle-socket paragraph. */
function liveNotes(b: LiveBench): { missing: string; problems: string[]; sockets: string } {
  const missing = b.unavailable.map((u) =>
    `\n**${u.system} was not measured in this run:**\n\n\`\`\`\n${
      u.reason.slice(0, 1200)
    }\n\`\`\`\n`
  ).join("");
  const problems = b.runs.filter((r) => r.error || r.result?.errors || r.serverLog).map((r) => {
    const what = [
      r.error ? `failed: ${r.error.slice(0, 600)}` : "",
      r.result?.errors
        ? `${fmt(r.result.errors)} errors at the subscribers, e.g. ${
          r.result.error_samples.slice(0, 2).join(" / ").slice(0, 600)
        }`
        : "",
      r.serverLog ? `server output: ${r.serverLog.slice(0, 600)}` : "",
    ].filter(Boolean).join("; ");
    return `- ${fmt(r.subscribers)} subscribers, ${runName(r)}: ${what.replaceAll("\n", " ")}`;
  });
  const sockets = b.sockets
    ? `\n**Idle sockets:** ${
      fmt(b.sockets.sockets)
    } authenticated WebSockets with one subscription ` +
      `each cost the server ${b.sockets.kb_per_connection} KB of RSS per connection (target ≤ 60 KB; ` +
      `RSS ${b.sockets.rss_before_mb} → ${b.sockets.rss_after_mb} MB) and were all subscribed in ` +
      `${b.sockets.subscribe_s} s.\n`
    : "";
  return { missing, problems, sockets };
}

/** The live section's list of the systems measured and how each was set up. */
function liveSystems(b: LiveBench): string {
  const v = b.versions;
  return `- **KalamDB-TS** (Deno ${v.deno}): \`main.ts serve\` on a fresh data directory for every run,
  \`KALAMDB_RATE_LIMIT=0\`; \`CREATE SHARED TABLE bench.ev … WITH (ACCESS_LEVEL = 'PUBLIC')\`
  (flush policy set so no flush runs). Each socket sends \`{"type":"authenticate"}\`
  (anonymous) and subscribes to \`SELECT id, sent_at, payload FROM bench.ev\`; the writer sends
  single-row \`INSERT … VALUES ($1, $2, $3)\` as root over keep-alive HTTP (SQLite WAL,
  \`synchronous=FULL\`, group commit). Main rows: one subscription per socket, as the peers have
  one per connection; the extra row holds 1,000 subscriptions on 100 sockets (10 each; SPEC §8
  allows many per socket, and the server then sends one frame per socket per turn).
- **bare Deno.serve WebSocket** (scripts/bench/_bare_ws.ts): \`POST /publish\` with the row's
  JSON, sent unchanged to every socket, one frame per write — no auth, SQL, storage or
  per-subscriber encoding. It does not coalesce either: when writes arrive faster than it
  sends, KalamDB-TS puts the changes pending for a socket into one frame (a JSON array), the
  bare server still sends one frame per write per socket, so under load it is no ceiling.
- **PostgreSQL** ${
    v.postgres ?? "(not run)"
  } (Debian package, \`initdb\` into a temp directory, run as the \`postgres\` user,
  \`max_connections=1100\`, otherwise defaults: \`fsync\` and \`synchronous_commit\` on):
  \`INSERT INTO ev …\` with parameters through the \`pg\` npm client (a pool as large as the
  writer's in-flight bound), an \`AFTER INSERT … FOR EACH ROW\` trigger calling
  \`pg_notify('ev', row_to_json(NEW)::text)\`; each subscriber is a connection that ran
  \`LISTEN ev\`.
- **Redis** ${
    v.redis ?? "(not run)"
  } (Debian package, \`--save '' --appendonly no\`: nothing stored): \`PUBLISH ev <row
  JSON>\` pipelined over one connection; each subscriber is a connection in \`SUBSCRIBE ev\`.`;
}

export function liveSection(s: Section<LiveBench> | undefined): string {
  if (!s) return "Not measured yet: `deno task bench --only live`.";
  const b = s.results;
  const { missing, problems, sockets } = liveNotes(b);
  return `${liveTable(b)}
${sockets}${missing}
Latency is from just before the write is sent to the subscriber's receipt, over every delivery
(each subscription gets every row) of the writes after a ${b.warmup ?? 0} s warm-up (the
deliveries column counts the warm-up's too). The ratio columns are KalamDB-TS's latency ÷ this system's,
for the same number of subscribers: below 1 means KalamDB-TS delivers sooner. "writes/s" is the
rate the writer achieved against the 1,000/s target (it holds at most ${b.inflight} writes in
flight, so a server that falls behind slows it down instead of queueing without bound). CPU is
percent of one core over the writing phase plus the drain, from /proc (the server: all its
processes; PostgreSQL's backends included).

${liveDetail(b)}

Setup: ${b.warmup ?? 0} s + ${b.seconds} s of writes per run at ${
    fmt(b.rate)
  }/s, one row each: \`(id BIGINT, sent_at BIGINT, payload TEXT)\`
with a ${b.payloadBytes}-character payload and \`sent_at\` = wall-clock µs taken just before the
request is sent. Three processes besides the system measured, all on the same 2 cores: the
subscribers (scripts/bench/_live_subscribers.ts: every connection in one Deno process, each
speaking its system's protocol over \`Deno.connect\` with the same frame-parsing code, so the
client costs the same per delivery for every system; rows are found by scanning the payload
bytes for \`"sent_at":\`, no JSON parse), the writer (_live_writer.ts) and the driver. The
receive time is taken once per socket read; writer and subscribers share the system clock.

${liveSystems(b)}

Each subscriber receives every write, so 1,000 subscribers at 1,000 writes/s is a million
deliveries a second, on 2 cores shared by server, subscribers and writer: read the writes/s
column (how far each write path fell behind) and the CPU column (which process was the limit)
together with the latencies. With Redis at 1,000 subscribers the subscriber process is the one
at a full core, so those latencies are partly the client's. Where the write path backs up
(KalamDB-TS, the bare server, PostgreSQL) the writer's ${b.inflight} writes in flight bound the
queue, so latency settles at about ${b.inflight} ÷ the achieved write rate or above (the bare
server also queues its sends); Redis acknowledges every PUBLISH at once and the backlog grows
in socket buffers and at the subscribers instead. The "first → last second" column shows where
a backlog built up or drained during a run. Redis and the bare server store nothing;
KalamDB-TS and PostgreSQL commit every row to disk before it is delivered. PostgreSQL
serialises the commits of notifying transactions (a global lock held through the commit),
which bounds its write rate at the disk's flush rate, lower still with 1,000 listeners to
signal.

Where KalamDB-TS's time goes at 1,000 sockets (a V8 \`--prof\` profile of the server in this
benchmark's 1,000 × 1 workload, 2026-11-26: one core busy, ~450 writes/s, ~2 µs per delivered
message): most of it is ws.ts's per-socket flush — a \`JSON.stringify\` of that socket's
pending messages and one \`WebSocket.send\` each, for a change message that is byte-identical
on every socket subscribed with the same id and columns — then the registry's per-subscription
delivery (projection, \`String(seq)\`, a message object per subscriber), then GC (~7 %); the
SQLite insert and its fsync are a few percent.

Cost per delivery (issue 17 item 2, from the run of 2026-12-04: server CPU ÷ deliveries, with
the per-write part separated by the 100- and 1,000-subscriber runs): ~0.64 µs of server CPU per
delivered message plus ~0.7 ms per write (the write itself, its commit, and handing one change to
every subscription); 1,000 sockets × 1 subscription: 691 writes/s, p50 82.7 ms at 93 % of a core
— the server is the limit, Redis PUBLISH in the same run holds 999/s at p50 21.9 ms. The same
1,000 subscriptions on 100 sockets (10 each, coalesced into one frame per socket) hold 997 writes/s
at p50 14.9 ms, below Redis: the cost is per socket frame, not per subscription. The lever is
fewer frames — several writes' changes in one frame per socket when writes come faster than
sockets drain — not yet built; the 1,000-socket target (1,000 writes/s, p50 within 2× Redis)
is not met.${
    problems.length
      ? `

Errors and server output seen during the runs:

${problems.join("\n")}`
      : ""
  }`;
}
