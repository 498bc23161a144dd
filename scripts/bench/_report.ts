// Renders benchmark results as Markdown tables and BENCHMARKS.md. Pure functions over the
// results.json shape, so `--only core|http|cold|live|client|export` can re-render the sections it
// did not run from the last full-scale results kept in results.json (the live, client and
// export sections' text and tables are in _live_report.ts, _client_report.ts and
// _export_report.ts).

import type { Measurement } from "./core.ts";
import type { HttpBench } from "./http.ts";
import type { ColdBench } from "./cold.ts";
import type { LiveBench } from "./live.ts";
import { RESTRUCTURE } from "./_restructure.ts";
import type { ClientBench } from "./client.ts";
import { clientSection } from "./_client_report.ts";
import { liveSection } from "./_live_report.ts";
import type { ExportBench } from "./export.ts";
import { exportSection } from "./_export_report.ts";
import { type TopicsBench, topicsTable } from "./_topics_report.ts";
import { type IdleRow, idleTable } from "./idle.ts";
import { type ArrowBench, arrowTable } from "./arrow.ts";

/** One section of results.json. */
export interface Section<T> {
  readonly started: string;
  readonly scale: number;
  readonly results: T;
}

export interface Results {
  core?: Section<Measurement[]>;
  http?: Section<HttpBench>;
  cold?: Section<ColdBench>;
  live?: Section<LiveBench>;
  client?: Section<ClientBench>;
  export?: Section<ExportBench>;
  topics?: Section<TopicsBench>;
  idle?: Section<IdleRow[]>;
  arrow?: Section<ArrowBench>;
}

function fmt(n: number): string {
  return n.toLocaleString("en", { maximumFractionDigits: 0 });
}

function ms(n: number): string {
  return n.toFixed(2);
}

/** The core engine table (issue 2). */
export function coreTable(rows: readonly Measurement[]): string {
  const lines = [
    "| benchmark | unit | KalamDB-TS | raw building block | ratio | target |",
    "|---|---|---:|---:|---:|---|",
  ];
  for (const r of rows) {
    const note = r.note ? ` (${r.note})` : "";
    lines.push(
      `| ${r.name}${note} | ${r.unit} | ${fmt(r.engine)} | ${fmt(r.raw)} | ${
        r.ratio.toFixed(2)
      } | ${r.target} |`,
    );
  }
  return lines.join("\n");
}

/** The HTTP table (issue 3): both servers' req/s, p50 and p99, and the ratio. */
export function httpTable(h: HttpBench): string {
  const lines = [
    "| workload | KalamDB-TS req/s | p50 ms | p99 ms | bare Deno.serve req/s | p50 ms | p99 ms | ratio | target |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of h.rows) {
    const k = r.kalamdb;
    const errs = (k?.errors ? ` (${fmt(k.errors)} errors)` : "") +
      (r.bare.errors ? ` (bare: ${fmt(r.bare.errors)} errors)` : "") +
      (r.note ? ` (${r.note})` : "");
    const engine = k ? `${fmt(k.rps)} | ${ms(k.p50_ms)} | ${ms(k.p99_ms)}` : "n/a | – | –";
    lines.push(
      `| ${r.workload}${errs} | ${engine} | ${fmt(r.bare.rps)} | ${ms(r.bare.p50_ms)} | ${
        ms(r.bare.p99_ms)
      } | ${r.ratio === null ? "n/a" : r.ratio.toFixed(2)} | ${r.target} |`,
    );
  }
  return lines.join("\n");
}

function value(n: number | null, unit: string): string {
  if (n === null) return "–";
  return unit === "ms" ? ms(n) : fmt(n);
}

/** The cold-tier table (issue 4). */
export function coldTable(c: ColdBench): string {
  const lines = [
    "| benchmark | unit | KalamDB-TS | peer | peer value | ratio | target | met |",
    "|---|---|---:|---|---:|---:|---|---|",
  ];
  for (const r of c.table) {
    const note = r.note ? ` (${r.note})` : "";
    const ratio = r.ratio === null
      ? "–"
      : r.target.includes("×")
      ? `${r.ratio.toFixed(1)}×`
      : r.ratio.toFixed(2);
    const met = r.met === null ? "–" : r.met ? "yes" : "**no**";
    lines.push(
      `| ${r.name}${note} | ${r.unit} | ${value(r.engine, r.unit)} | ${r.peerName || "–"} | ${
        value(r.peer, r.unit)
      } | ${ratio} | ${r.target} | ${met} |`,
    );
  }
  return lines.join("\n");
}

function coreSection(s: Section<Measurement[]> | undefined): string {
  if (!s) return "Not measured yet: `deno task bench --only core`.";
  return `${coreTable(s.results)}

What the engine does on top of the raw statement: parse (cached by SQL text), plan, type-check
and coerce values, encode rows to MessagePack, check primary-key uniqueness, assign a Snowflake
\`_seq\`, append a change-log entry with the old row (the raw side writes one row, the engine two),
and for reads decode rows and apply per-user visibility. The tables' flush policy is set so no
flush runs during the run: this compares the buffer with raw SQLite (flushed data is the cold
tier's section).`;
}

function httpSection(s: Section<HttpBench> | undefined): string {
  if (!s) return "Not measured yet: `deno task bench --only http`.";
  const h = s.results;
  const each = h.bareCommitEach;
  const missing = h.kalamdbError
    ? `\n**The KalamDB-TS server was not measured in this run:**\n\n\`\`\`\n${
      h.kalamdbError.slice(0, 1500)
    }\n\`\`\`\n`
    : "";
  return `${httpTable(h)}
${missing}
Setup: the server (\`deno run -A main.ts serve --port 0\`, \`KALAMDB_RATE_LIMIT=1000000\` so the
per-user limiter runs but never throttles) and the peer run as their own processes, both at
once, each workload measured on one and then the other; the load generator is a third process
(${
    h.tool === "wrk"
      ? "\`wrk\` 4.1 with a Lua script, 2 threads"
      : "Deno \`fetch\`"
  }) holding ${h.connections} keep-alive connections on loopback. **All of them share the
machine's 2 cores**: the generator's CPU comes out of the server's, and numbers move between
runs (a lot when anything else runs on the machine). Each workload gets a warm-up, then
${h.seconds} s measured (bounded by a request count too); latency is per request, from send to
full response, as the generator sees it. Every request sends ${h.auth}: root has no password
here, so that costs a header decode and a user lookup (for users with a password the server
caches a verified pair, so no scrypt per request either). The third row logs in once and sends
the Bearer JWT instead (an HS256 verify per request). Inserts go into a USER table
(\`CREATE USER TABLE bench.kv (id BIGINT PRIMARY KEY, title TEXT, n INT)\`, so per-user
partitioning is on the path) with unique ids; lookups hit ${fmt(h.keys)} seeded ids.

The peer is scripts/bench/_bare_server.ts: \`Deno.serve\` parsing the same JSON body and running
the same statement on raw node:sqlite (WAL, \`synchronous=FULL\`), answering a SPEC §4-shaped
JSON. It does no auth, planning, type checks, change log or live-query fan-out. Each insert is
acknowledged only after its COMMIT; writes arriving within one event-loop turn share one
transaction (group commit, as the engine does; with ${h.connections} clients the groups are ~32
writes and the rate is bound by fsync). Committing every insert on its own instead gives
${fmt(each.rps)} inserts/s (p50 ${ms(each.p50_ms)} ms, p99 ${ms(each.p99_ms)} ms). For scale:
KalamDB publishes 3.8k inserts/s on a 10-core laptop, PocketBase ~2.7k/s on 16 vCPU.

The bench table keeps the default flush policy (rows:10000), so under this load the server
flushes to Parquet about once a second while it serves: the insert p99 includes those flushes,
and the lookups read ids that were flushed while seeding (the merged buffer + segment read).
What kept the tail short (2026-11-26; before, p99 was 34 ms): the flush worker reads the
scope through its own SQLite connection, so the main thread only takes the snapshot, writes
the files and deletes the flushed rows in chunks, yielding to sockets between them (a chain
of setImmediate hops does not let Deno poll its sockets; a finished blocking op does); and a
flushed segment's sorted keys stay in memory, so an INSERT's uniqueness check and the next
flush's tombstones need no segment decode (with two writers' interleaved id ranges, the
tombstones used to grow by one per flushed row). What doubled the lookups: a read whose
segments are all decoded in memory runs in one synchronous step like a buffer-only read
(no async generator per request), and the statement deadline is one small object instead of
a redefined AbortSignal (which had made the hot property accesses polymorphic).

Literal SQL (issue 17 item 1; the -literal rows send the values inlined in the SQL text, no
\`params\`): texts that differ only in literals share one parsed template whose literals are
parameters of the literal's type, so they are parsed and planned once (sql/parse/shape.ts;
storage/parse_cache.ts). In process, a primary-key SELECT with an inlined key went from 47 µs
to 12 µs (the \`$1\` form: 8–11 µs); the CPU profile before: 31 % garbage collection (every
text's AST and plan cached, then dropped), 20 % parsing, 16 % planning; after: neither parse nor
plan for a known shape. Target: within 15 % of the \`$n\` form — met (see the note column).

A regression found on the way (2026-12-04): the issue-10 defences had made every request 2–4×
dearer (POST \`SELECT 1\` with Basic: 44,573 req/s at 3b8ce01, 8,706 at 06874df, the same
machine and run): a \`setTimeout\` per body read for its deadline, the stream reader's release
after a finished body (it makes and drops an error), Deno's legacy abort of \`request.signal\`
after every answer (a DOMException with a stack per request), the WebSocket URL parsed for every
statement and every Basic request queued behind the same user's attempts. Now: one coarse
timer for all body deadlines, no release of a finished reader, \`"unstable":
["no-legacy-abort"]\` in deno.json (and \`--unstable-no-legacy-abort\` in the compiled binary),
the URL only for SUBSCRIBE TO, known-right credentials past the queue (a locked-out pair still
waits and fails): 24,000–27,000 req/s. The lookup rows are still far from the 0.5 target on
this machine today: the same 3b8ce01 tree that measured 37,405 lookups/s on 2026-11-26 measures
19,395 now beside a bare server at 56,697, so the machine (or Deno 2.9.6) moved; what is left
per request is the HTTP layer's own (Request/Response objects, header reads, the body stream),
authentication, the buffer seek and the JSON answer.`;
}

/** The cold section's "where the engine's time goes" list, from one run's timings. */
function coldTimings(c: ColdBench): string {
  const b = c.breakdown;
  const M = fmt(c.rows);
  const t = (ms: number) => ms >= 100 ? `${fmt(ms)} ms` : `${ms.toFixed(1)} ms`;
  const rate = (ms: number) => fmt(c.rows / (ms / 1000));
  const other = b.flush_ms - b.buffer_read_ms - b.encode_segment_ms;
  return `- **Flush**: ${
    t(b.flush_ms)
  } for ${M} rows. Done on one thread, reading and decoding them from
  the SQLite buffer takes ${t(b.buffer_read_ms)} (${
    rate(b.buffer_read_ms)
  } rows/s) and our \`encodeSegment\` ${t(b.encode_segment_ms)} (${
    rate(b.encode_segment_ms)
  } rows/s; the raw writer ${t(b.raw_writer_ms)}); the flush
  overlaps them in two workers (a reader paging the scope out of SQLite through its own
  connection, an encoder decoding those pages and encoding each row group as it fills), and
  the main thread only takes the snapshot, writes the files and deletes the flushed rows
  (${t(other)} of the total is beyond the one-thread read and encode). Loading the rows by
  INSERT took ${t(b.load_ms)}. The USER table's flush of ${fmt(c.users)} scopes took ${
    t(b.users_flush_ms)
  }, ${b.users_flush_ms_per_scope.toFixed(2)} ms per scope.
- **Full scan**: ${t(b.full_scan_cold_ms)} from files, ${
    t(b.full_scan_warm_ms)
  } with decoded segments cached. From files only the columns the query reads
  are decoded (here \`id\` for the merge and \`n\`); then the cold source materialises every row
  (row arrays, the newest version per key, tombstones) before the aggregate; no aggregate is
  pushed down into the files.
- **Filtered scan**: pruning reads ${b.filtered_segments_read} segment(s) per scan instead of ${b.filtered_unpruned_segments_read} (${
    t(b.filtered_cold_ms)
  } vs ${t(b.filtered_unpruned_cold_ms)}
  from files), and in that segment only the 16,384-row group(s) whose \`id\` statistics
  overlap the window, and only the \`id\` column.`;
}

function coldSection(s: Section<ColdBench> | undefined): string {
  if (!s) return "Not measured yet: `deno task bench --only cold`.";
  const c = s.results;
  const M = fmt(c.rows);
  return `${coldTable(c)}

Ratios are KalamDB-TS ÷ peer for rates and peer time ÷ KalamDB-TS time for times, so above 1
means the engine is faster; the pruning row is the time without pruning ÷ the time with it.

Setup: one process, one run, on the shared 2-core machine (noisy: other work runs alongside;
the point-query p99 in particular moves between runs). A SHARED table \`bench.t (id BIGINT
PRIMARY KEY, title TEXT, n INT, done BOOLEAN)\` gets ${M} rows by 1,000-row INSERTs
(\`durability: "full"\`), flushed by \`cold.flushTable\` after every ${
    fmt(c.rows / c.flushes)
  } rows: ${c.segments}
segments, one per flush, ids ascending, so each segment holds one id range (the tables' flush
policy is set so the auto flush never fires). The raw writer is hyparquet-writer's
\`parquetWriteBuffer\` on the same rows in columnar form with our options (ZSTD level 3 via
node:zlib, 16,384-row groups, the same six columns including \`_seq\`/\`_deleted\`), in memory.
The flush also reads the rows from the SQLite buffer, writes segment and manifest with fsync
(temp + rename + directory fsync) and deletes the flushed rows from the buffer. DuckDB
(\`@duckdb/node-api\`, ${c.duckdbThreads} threads, in-process) writes the same rows and columns from
an in-memory table with \`COPY … TO … (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE
16384)\`, ${c.flushes} files like our ${c.flushes} segments, and reads them with
\`read_parquet('…/*.parquet')\`. Files: ours ${mib(c.engineBytes)}, raw writer ${
    mib(c.rawBytes)
  }, DuckDB ${mib(c.duckdbBytes)}.
Scans are medians of several runs and check their answers; "cold cache" drops the engine's
cached manifests and decoded segments first (\`cold.forget\`; the OS page cache stays warm, as
it does for DuckDB, which caches nothing between queries). Filtered windows are random 1,000-id
ranges; "pruning off" is \`cold.pruning = false\` (no segment or row group skipped by its
statistics). The point query is \`SELECT * FROM bench.msgs
WHERE id = $1\` on a USER table of ${c.rowsPerUser} rows for each of ${
    fmt(c.users)
  } users (one segment per user,
written as each user through \`principal\`), run as a random user for one of its own ids: first
the first query of each sampled user after the caches were dropped (manifest and segment read
and decoded), then repeated queries of the same users.

Where the engine's time goes, from this run's timings:

${coldTimings(c)}

What got the flush from 0.18 to 0.43 of the raw writer (2026-11-26, CPU profiles of all
three threads): reading and encoding in separate workers at once; row groups encoded as they
fill; text columns handed to hyparquet-writer as UTF-8 bytes (it called TextEncoder twice per
string, to size its dictionary and to write); \`version\` and \`deleted\` read as one REAL
(integer columns read as bigints, an allocation each); the snapshot a fresh \`_seq\` instead of a
MAX over the scope; the WAL checkpointed by the reader in the background; and the deletes of
already-flushed rows committed without waiting for the disk when nothing else is writing (a
power cut can only undo them, and the next flush redoes them). Per 50,000-row flush the reader
and the encoder are now each busy for most of the flush; the rest is the main thread's deletes
(≈ 0.2 µs a row). A CPU profile of the full scan with segments cached: ≈ 93 % in the merge
(\`keyString\` and \`Map\` get/set per row; hashing each fresh key string is charged to
\`isTombstoned\`, the first lookup, even with no tombstones), the aggregate ≈ 3 %; from files the merge is ≈ 49 %, hyparquet decode ≈ 21 % and GC
≈ 16 %.`;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** The whole BENCHMARKS.md; only full-scale sections are shown. */
export function benchmarksMd(r: Results): string {
  const core = r.core?.scale === 1 ? r.core : undefined;
  const http = r.http?.scale === 1 ? r.http : undefined;
  const cold = r.cold?.scale === 1 ? r.cold : undefined;
  const live = r.live?.scale === 1 ? r.live : undefined;
  const client = r.client?.scale === 1 ? r.client : undefined;
  const exp = r.export?.scale === 1 ? r.export : undefined;
  const topics = r.topics?.scale === 1 ? r.topics : undefined;
  const arrow = r.arrow?.scale === 1 ? r.arrow : undefined;
  return `# Benchmarks

Measured by \`deno task bench\` (scripts/bench/; \`--only core|http|cold|live|client|export|topics\` runs
one part) on this project's machine: 2 cores, 24 GiB, Deno ${Deno.version.deno}. Every number is
from one run, engine and peer side by side, same data, same durability (SQLite WAL,
\`synchronous=FULL\`). Ratios are engine ÷ peer; higher is better. Raw numbers are in
scripts/bench/results.json.

## Core engine vs raw \`node:sqlite\` (issue 2)${core ? ` — run of ${core.started}` : ""}

${coreSection(core)}

## HTTP server vs bare \`Deno.serve\` (issue 3)${http ? ` — run of ${http.started}` : ""}

${httpSection(http)}

## Cold tier (issue 4)${cold ? ` — run of ${cold.started}` : ""}

${coldSection(cold)}

## Live queries (issue 5)${live ? ` — run of ${live.started}` : ""}

${liveSection(live)}

${RESTRUCTURE}

## Client SDK (issue 12)${client ? ` — run of ${client.started}` : ""}

${clientSection(client)}

## Per-user export (issue 14)${exp ? ` — run of ${exp.started}` : ""}

${exportSection(exp)}

## Topics vs Redis Streams and NATS JetStream (issue 16)${
    topics ? ` — run of ${topics.started}` : ""
  }

${
    topics
      ? TOPICS_NOTE + "\n\n" + topicsTable(topics.results)
      : "Not measured yet: `deno task bench --only topics`."
  }

## Idle memory (issue 17)${r.idle ? ` — run of ${r.idle.started}` : ""}

${
    r.idle
      ? IDLE_NOTE + "\n\n" + idleTable(r.idle.results)
      : "Not measured yet: `deno task bench --only idle`."
  }

## Arrow answers vs JSON (issue 17)${arrow ? ` — run of ${arrow.started}` : ""}

${
    arrow
      ? ARROW_NOTE + "\n\n" + arrowTable(arrow.results)
      : "Not measured yet: `deno task bench --only arrow`."
  }
`;
}

const ARROW_NOTE =
  `One \`SELECT id, n, d, name, at\` (BIGINT, INT, DOUBLE, TEXT, TIMESTAMP) of every row of a
SHARED table, from a real server, answered as JSON and with \`Accept:
application/vnd.apache.arrow.stream\` (scripts/bench/arrow.ts; medians of 3 alternating rounds).
Transfer: request sent → last byte, so it includes the server's encoding. Decode: JSON.parse and
reading every value, vs apache-arrow reading the stream and every column as an array. Every
round checks that both answers hold the same rows (sums over every row, three rows value by
value). DuckDB was not run on the stream: its Arrow IPC reader is an extension this machine
cannot download; apache-arrow reads it back (tests/server/arrow_test.ts compares every type
with the JSON answer).`;

const IDLE_NOTE =
  `An idle server next to bare \`Deno.serve\` processes that load, step by step, what the
server loads (scripts/bench/idle.ts; each its own process, measured once its RSS is steady).
Target of the issue: ≤ 50 MB RSS, or why the runtime's floor is higher. It is higher: the first
npm packages alone (msgpackr for the row codec, jose for tokens, smol-toml for the config —
what a request needs) take a bare \`Deno.serve\` with node:sqlite from ~38 MB to ~56 MB, because
Deno maps and initialises its Node compatibility layer and npm resolution with them (RssFile,
pages of the deno binary, grows by ~10 MB; RssAnon by ~8 MB); every library of the server
together makes ~68 MB. The server's own code, catalog, caches and SQLite connections add
~12 MB on top (RssAnon; the V8 heap after a GC is ~13 MB, of which our modules are ~3 MB).
RssFile pages are clean and shared with every other deno process: under memory pressure the
kernel drops them first. KalamDB's 30–40 MB is a Rust binary with no JavaScript runtime. What
would get under 50 MB: no npm package before the first request that needs it (a hand-written
row codec and HS256 instead of msgpackr and jose, the Parquet, zip and S3 libraries loaded on
first use) — not done; measured first, so the trade is known.`;

const TOPICS_NOTE = `Publish → consume → ack of the same messages through each system, in one run
(scripts/bench/topics.ts; \`deno run -A scripts/bench/topics.ts [--quick]\` runs it alone).
KalamDB-TS is driven over HTTP (\`/v1/api/topics/publish\`, \`/consume\` with a long-poll,
\`/ack\`); every claim and every ack is a durable (fsynced) write. Targets of the issue: ≥ 0.5×
Redis Streams' acked messages/s with fsync on every write, p50 delivery ≤ 5 ms.

Redis Streams and NATS hand out any pending entry to any consumer; a KalamDB-TS topic hands out
one message per key at a time (per-key order). So KalamDB-TS runs twice: without keys (the same
work as the peers — the row the target is read on) and with the benchmark's 1,000 keys, where a
group can have at most 1,000 messages out at once and every later message of a key is parked and
unparked (two more row writes each); 16 consumers × 100 then ask for more than there are keys.

What the last round changed (CPU profile of the server during the 1/4/16-consumer drains, with
keys; before → after): per-key checks of a claim went from two index lookups per key to one
statement per batch read (10 % of the profile → 4 %); acks delete and release a partition's
offsets in one statement each, the release seeking each key's oldest waiting row instead of a
GROUP BY over all of them (ack 20 % → 10 %); a claim reads only the messages it still wants (it
read 256 for a LIMIT of 100), writes its delivery rows with one statement per state and hands
out ready messages with one read and one write; timestamps are formatted from a cached second
(7× faster; 4 % → 1 %). Measured with \`_topics_client.ts\` alone on this machine, with keys:
18,121 / 20,429 / 12,399 acked/s with 1 / 4 / 16 consumers before, 34,318 / 56,464 / 31,076
after; without keys 33,348 / 46,346 / 52,114 before, 38,594 / 64,022 / 77,720 after. What is
left in the profile: COMMIT (fsync, on the main thread) ~20 %, SQLite row reads and writes ~25 %,
HTTP and JSON ~15 %, SQL parsing of the ack's offset list ~5 %.`;
