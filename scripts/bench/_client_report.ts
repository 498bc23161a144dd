// The client SDK section of BENCHMARKS.md (issue 12) and its console tables: pure functions over
// results.json's `client` part (scripts/bench/client.ts), used by _report.ts and mod.ts.

import type { ClientBench } from "./client.ts";
import type { Section } from "./_report.ts";

function fmt(n: number): string {
  return n.toLocaleString("en", { maximumFractionDigits: 0 });
}

function num(n: number | null | undefined, digits = 2): string {
  return n === null || n === undefined ? "–" : n.toFixed(digits);
}

function pct(n: number): string {
  return `${n > 0 ? "+" : ""}${n.toFixed(1)} %`;
}

/** `db.query()` vs raw fetch. */
function queryTable(b: ClientBench): string {
  const lines = [
    "| request | in flight | SDK req/s | p50 ms | raw fetch req/s | p50 ms | SDK overhead: median of rounds (middle half) | over all requests | p50 overhead | client CPU per call, answer canned: SDK / raw µs | target |",
    "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
  ];
  for (const q of b.query) {
    const r = q.rounds;
    lines.push(
      `| ${q.workload} | ${q.concurrency} | ${fmt(q.sdk.rps)} | ${num(q.sdk.p50_ms, 3)} | ${
        fmt(q.raw.rps)
      } | ${num(q.raw.p50_ms, 3)} | **${pct(r.median)}** (${pct(r.p25)} … ${pct(r.p75)}) | ${
        pct(q.overhead_pct)
      } | ${pct(q.p50_overhead_pct)} | ${
        q.canned ? `${num(q.canned.sdk_us, 1)} / ${num(q.canned.raw_us, 1)}` : "–"
      } | ≤ 10 % |`,
    );
  }
  return lines.join("\n");
}

/** LiveRowsState.apply vs a Map, in process. */
function applyTable(b: ClientBench): string {
  const lines = [
    `| changes per batch (on ${
      fmt(b.rows)
    } rows) | batches | LiveRowsState: apply each + get() µs/batch | Map by hand µs/batch | ratio (min … max over rounds) | Map + Array.from(values) µs/batch |`,
    "|---:|---:|---:|---:|---:|---:|",
  ];
  for (const a of b.apply) {
    lines.push(
      `| ${a.batch} | ${fmt(a.batches)} | ${num(a.sdk_us)} | ${num(a.map_us)} | ${num(a.ratio)} (${
        num(a.ratio_min)
      } … ${num(a.ratio_max)}) | ${num(a.map_array_us)} |`,
    );
  }
  return lines.join("\n");
}

function memoryTable(b: ClientBench): string {
  const m = b.memory;
  if (!m) return "Memory per row: not measured in this run.";
  return [
    `| memory per row (${fmt(m.rows)} rows, V8 heap after gc) | SDK | raw building block | ratio |`,
    "|---|---:|---:|---:|",
    `| the structure, same typed rows: LiveRowsState vs a Map by id | ${m.state_bytes} B | ${m.map_bytes} B | ${
      num(m.state_bytes / m.map_bytes)
    } |`,
    `| through a subscription, socket open: \`db.live()\` (typed rows) vs a raw WebSocket keeping the parsed wire rows in a Map | ${m.live_bytes} B | ${m.raw_bytes} B | ${
      num(m.live_bytes / m.raw_bytes)
    } |`,
    `| the same after closing the socket, keeping only \`get()\`'s array / the Map | ${m.live_rows_bytes} B | ${m.raw_rows_bytes} B | ${
      num(m.live_rows_bytes / m.raw_rows_bytes)
    } |`,
  ].join("\n");
}

/** `db.live()` end to end vs a raw WebSocket + Map, one line per run. */
function liveTable(b: ClientBench): string {
  const lines = [
    "| run | client | writes/s | write ack p50 ms | latency samples | write → callback p50 ms | p99 ms | max ms | frame → callback p50 µs | p99 µs | changes per frame | view = server after the run |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  b.live.forEach((r, i) => {
    const name = r.client === "sdk" ? "SDK `db.live()`" : "raw WebSocket + Map";
    const errs = r.writer.errors ? ` (${fmt(r.writer.errors)} write errors)` : "";
    lines.push(
      `| ${i + 1} | ${name} | ${fmt(r.writer.rate)}${errs} | ${num(r.writer.ack_p50_ms)} | ${
        fmt(r.samples)
      } | ${num(r.p50_ms)} | ${num(r.p99_ms)} | ${num(r.max_ms)} | ${num(r.handle_p50_us, 0)} | ${
        num(r.handle_p99_us, 0)
      } | ${num(r.changes_per_frame)} | ${
        r.consistent ? `yes (${fmt(r.rows_end)} rows)` : "**no**"
      } |`,
    );
  });
  return lines.join("\n");
}

function reconnectTable(b: ClientBench): string {
  const lines = [
    "| reconnect options | rounds | listening → all 100 resumed, median ms | each round ms | listening → first resumed, median ms | SIGKILL → listening, median ms |",
    "|---|---:|---:|---|---:|---:|",
  ];
  for (const r of b.reconnect) {
    const firsts = r.rounds.map((x) => x.first_ms).sort((a, c) => a - c);
    const first = firsts.length ? firsts[Math.floor((firsts.length - 1) / 2)] : null;
    const resets = r.rounds.reduce((s, x) => s + x.resets, 0);
    const note = r.error
      ? ` (failed: ${r.error.split("\n")[0].slice(0, 120).replaceAll("|", "\\|")})`
      : resets
      ? ` (${resets} resets instead of resumes)`
      : "";
    lines.push(
      `| ${r.label}${note} | ${r.rounds.length} | ${num(r.median_all_ms, 0)} | ${
        r.rounds.map((x) => x.all_ms.toFixed(0)).join(", ")
      } | ${num(first, 0)} | ${num(r.median_restart_ms, 0)} |`,
    );
  }
  return lines.join("\n");
}

/** Every table of the client section, for the console. */
export function clientTable(b: ClientBench): string {
  const errors = Object.entries(b.errors).map(([k, v]) => `${k} failed: ${v.split("\n")[0]}`);
  return [
    queryTable(b),
    applyTable(b),
    memoryTable(b),
    liveTable(b),
    reconnectTable(b),
    ...errors,
  ].join("\n\n");
}

/** Sentences with this run's figures: what the canned calls, the batches and the runs show. */
function findings(b: ClientBench) {
  const big = b.query.find((q) => q.concurrency === 1 && q.rows === 100)?.canned;
  const perRow = big ? ((big.sdk_us - big.raw_us) / 100).toFixed(1) : "–";
  const worst = b.query.reduce((m, q) => Math.max(m, q.rounds.median), -Infinity);
  const a100 = b.apply.find((a) => a.batch === 100);
  const med = (xs: number[]) => {
    const v = [...xs].sort((x, y) => x - y);
    return v.length ? v[(v.length - 1) >> 1] : NaN;
  };
  const handle = (c: "sdk" | "raw") =>
    med(b.live.filter((r) => r.client === c).map((r) => r.handle_p50_us ?? NaN));
  const p50 = (c: "sdk" | "raw") =>
    med(b.live.filter((r) => r.client === c).map((r) => r.p50_ms ?? NaN));
  return { perRow, worst, a100, handle, p50 };
}

type Findings = ReturnType<typeof findings>;

function queryText(f: Findings): string {
  return `\`db.query(sql, [param])\` of client/mod.ts vs a raw \`fetch\` of the identical \`POST /v1/api/sql\`
(same SQL text and params, the same \`Authorization: Bearer <root's JWT>\` header, the same
\`JSON.stringify\` of the body) that reads \`res.json()\`. On top of that the SDK asks its
credentials for the token, checks the status and decodes every row into an object of typed values
(\`BIGINT\` → \`bigint\`, \`TIMESTAMP\` → \`Timestamp\`). Columns: \`id BIGINT, title TEXT, n INT,
done BOOLEAN, at TIMESTAMP\`; the 1-row request is a primary-key lookup over 10,000 rows, the
100-row one reads a 100-row table whole (\`WHERE n >= $1\`; a primary-key range over the 10,000
rows, \`id >= $1 AND id < $2\`, cost the server ~40× as much on 2026-12-03, which would hide the
client). Short batches alternate SDK / raw (the order flips each round), both through Deno's one
\`fetch\` connection pool. "SDK overhead" is the SDK's time for a batch ÷ the raw batch's in the
same round − 1, the median over the rounds (in brackets the middle half of the rounds: single
batches move by more than the difference); "over all requests" is raw req/s ÷ SDK req/s − 1 over
every batch, which one stalled batch can swing (largest median this run: ${pct(f.worst)}; target
≤ 10 %). The canned column is the client's own CPU per call with the server's real answer handed
back by a \`fetch\` stand-in (no network, no server): the SDK's typed decoding costs
≈ ${f.perRow} µs per row of the 100-row answer here, about half of it parsing the \`TIMESTAMP\`
(measured by hand, 2026-12-03).`;
}

function liveText(b: ClientBench, f: Findings): string {
  const rows = fmt(b.rows), rate = fmt(b.rate);
  const [sdk, raw] = [num(f.p50("sdk")), num(f.p50("raw"))];
  const [hs, hr] = [num(f.handle("sdk"), 0), num(f.handle("raw"), 0)];
  return `End to end: \`db.live("SELECT id, title, n, done, at, sent_at FROM bench.live")\`
over ${rows} rows while a writer process sends ${rate} mixed writes/s (the same 50/25/25 mix, one
statement each, ≤ 64 in flight, Bearer auth) for ${b.warmup} s + ${b.seconds} s, vs a raw
WebSocket in the same place that \`JSON.parse\`s each frame and applies its changes to a \`Map\` by
hand. Runs alternate. Each INSERT and UPDATE sets \`sent_at\` = wall-clock µs just before it is
sent; a probe sees each frame first (a \`message\` listener registered before the SDK's), finds
the \`sent_at\` values it has not seen yet, and the callback (\`db.live\`'s \`onRows\`, once per
frame; the raw handler's end) records the latency of each and the time since the frame arrived.
Deletes are in the load but carry no new \`sent_at\`. After each run the view is compared with
\`SELECT id, sent_at\` on the server. Write → callback is mostly the server's write path (commit
with fsync, then fan-out; see the write ack column) and moves between runs with the machine's
other load (median p50 of the runs: SDK ${sdk} ms, raw ${raw} ms); the client's own part is
frame → callback: median p50 ${hs} µs through \`db.live()\` (decode, apply, copy the array) vs
${hr} µs for \`JSON.parse\` and a Map (ratio ${num(f.handle("sdk") / f.handle("raw"))}).`;
}

/** The section's text around the tables. */
export function clientSection(s: Section<ClientBench> | undefined): string {
  if (!s) return "Not measured yet: `deno task bench --only client`.";
  const b = s.results;
  const f = findings(b);
  const failed = Object.entries(b.errors).map(([k, v]) =>
    `\n**${k} was not measured in this run:**\n\n\`\`\`\n${v.slice(0, 1200)}\n\`\`\`\n`
  ).join("");
  const [d, t] = b.reconnect.map((r) => num(r.median_all_ms, 0));
  const perChange = f.a100 ? (f.a100.sdk_us / 100).toFixed(1) : "–";
  return `${queryTable(b)}
${failed}
${queryText(f)}

${applyTable(b)}

${memoryTable(b)}

Live rows in process: ${fmt(b.rows)} typed rows, batches of mixed changes (50 % updates, 25 %
inserts at random places in the key order, 25 % deletes) in the shape a subscription hands them
over. The SDK side is what \`db.live()\` runs per frame: \`LiveRowsState.apply\` per change,
then \`get()\`. A batch copies the sorted array once (so the array an app holds never changes
under it), then each row is a binary search and a \`splice\`; an update is a remove and an
insert, two \`splice\`s of the 10,000-element array even when its key stays (${perChange}
µs per change in batches of 100). The raw
building block deletes the old rows from and sets the new ones in a \`Map\` by id: no order, no
new array. The last column adds the \`Array.from(map.values())\` an app would need to hand a
renderer a new array (still unsorted). Memory is V8's \`heapUsed\` after \`gc()\` (a process run
with \`--v8-flags=--expose-gc\`) before and after, ÷ rows; one live() and one raw socket on a
1-row query run first so one-time costs fall on neither side. An open Deno WebSocket that
received the ~1 MB snapshot holds ~1 MB more until it closes, on both sides alike.

${liveTable(b)}

${liveText(b, f)}

${reconnectTable(b)}

Reconnect: each round a fresh client (Bearer token) holds 100 subscriptions (\`SELECT id, g, v
FROM bench.r WHERE g = i\`) on its socket, one row is written per subscription, and once the 100
changes arrived the server is SIGKILLed and started again on the same data directory and port;
the time is from the moment this process read its "listening" line to the 100th \`onResumed\`
(resubscribed from its last seq, \`resumed: true\`, nothing lost or repeated). While the server
is down the client retries with exponential backoff, half of each delay random (default
\`reconnect: { initialDelayMs: 250, maxDelayMs: 10000 }\`, doubling), so a restarted server
mostly waits for the client's next attempt. A fresh client per round because the SDK starts its
backoff over only once a connection has held for 5 s: kills 1 s apart on one client wait ever
longer (in a first version of this benchmark the default rounds went 0.4 → 9.4 s). The
first row (${d} ms) is the SDK as shipped, the second (${t} ms) the floor with short delays,
where what is left is the reconnect itself and 100 resubscribes answered by a server that has
just started.

Setup: \`main.ts serve\` (KALAMDB_RATE_LIMIT=0) on 127.0.0.1, the client in the benchmark's own
process, the writer in a third; Deno ${b.deno}. **The machine has 2 cores and other work was
running during this run** (another engineer's tests and benchmarks): the server, the client and
the writer share them with it, so read the per-round spreads next to the medians.`;
}
