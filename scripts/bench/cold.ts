// Cold-tier benchmark (issue 4): flush throughput, a full-scan aggregate and a filtered scan over
// 1M flushed rows of a SHARED table, side by side with hyparquet-writer (the raw encoder under
// our segments) and DuckDB (`@duckdb/node-api`, in this process) writing and reading the same
// data; stats pruning on vs off; and per-user point queries over 10,000 users' flushed data.
// Everything runs in one process on the shared 2-core machine, in temp dirs removed at the end;
// every loop is bounded by a count. `scale` < 1 shrinks the sizes (for `--quick`).

import { DuckDBInstance } from "@duckdb/node-api";
import { type ColumnSource, parquetWriteBuffer } from "hyparquet-writer";
import { zstdCompressSync } from "node:zlib";
import { Database } from "../../storage/mod.ts";
import { encodeSegment, type SegmentColumn } from "../../storage/mod.ts";
import type { Value } from "../../sql/mod.ts";

/** One line of the cold-tier table. Ratios are "engine ÷ peer, higher is better". */
export interface ColdRow {
  readonly name: string;
  /** What `engine` and `peer` count: rows/s, ms (lower is better), … */
  readonly unit: string;
  readonly engine: number | null;
  readonly peerName: string;
  readonly peer: number | null;
  /** Throughput: engine ÷ peer; time: peer ms ÷ engine ms (so > 1 means the engine is faster). */
  readonly ratio: number | null;
  readonly target: string;
  /** true / false when the row has a target it meets or misses; null otherwise. */
  readonly met: boolean | null;
  readonly note?: string;
}

export interface ColdBench {
  readonly rows: number;
  readonly flushes: number;
  readonly segments: number;
  readonly engineBytes: number;
  readonly rawBytes: number;
  readonly duckdbBytes: number;
  readonly duckdbThreads: number;
  readonly users: number;
  readonly rowsPerUser: number;
  readonly table: ColdRow[];
  /** Where the engine's time goes, ms, for the report's bottleneck notes. */
  readonly breakdown: Readonly<Record<string, number>>;
}

const ROW_GROUP = 16_384;
/** A policy that never fires: the benchmark flushes itself, so segment boundaries are its own. */
const MANUAL = "rows:1000000000,interval:1000000000";
const REPS = 5;
const COLUMNS: SegmentColumn[] = [
  { name: "id", type: { base: "BIGINT" } },
  { name: "title", type: { base: "TEXT" } },
  { name: "n", type: { base: "INT" } },
  { name: "done", type: { base: "BOOLEAN" } },
  { name: "_seq", type: { base: "BIGINT" } },
  { name: "_deleted", type: { base: "BOOLEAN" } },
];

// The row with id i, identical in our INSERTs, the raw writer's columns and DuckDB's range().
const title = (i: number) => `msg ${i % 5000}`;
const nOf = (i: number) => (i * 7919) % 1000;
const doneOf = (i: number) => i % 3 === 0;
const DUCK_ROW = `range AS id, 'msg ' || (range % 5000) AS title,
  ((range * 7919) % 1000)::INTEGER AS n, range % 3 = 0 AS done`;

function progress(text: string): void {
  console.log(`  ${new Date().toISOString().slice(11, 19)} ${text}`);
}

function now(): number {
  return performance.now();
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Deterministic PRNG (mulberry32), so runs pick the same windows and users. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Db = Awaited<ReturnType<typeof Database.open>>;

async function ok(db: Db, sql: string, options: Parameters<Db["execute"]>[1] = {}) {
  const r = await db.execute(sql, options);
  if (r.error) throw r.error;
  return r.results[r.results.length - 1];
}

function insertSql(table: string, from: number, to: number): string {
  const values: string[] = [];
  for (let i = from; i < to; i++) values.push(`(${i}, '${title(i)}', ${nOf(i)}, ${doneOf(i)})`);
  return `INSERT INTO ${table} (id, title, n, done) VALUES ${values.join(", ")}`;
}

/** The same rows in columnar form for hyparquet-writer, `_seq` Snowflake-shaped. */
function rawColumns(from: number, to: number, seq0: bigint): ColumnSource[] {
  const k = to - from;
  const id = new Array<bigint>(k), t = new Array<string>(k), n = new Array<number>(k);
  const done = new Array<boolean>(k), seq = new Array<bigint>(k), del = new Array<boolean>(k);
  for (let j = 0; j < k; j++) {
    const i = from + j;
    id[j] = BigInt(i);
    t[j] = title(i);
    n[j] = nOf(i);
    done[j] = doneOf(i);
    seq[j] = seq0 + BigInt(j);
    del[j] = false;
  }
  return [
    { name: "id", data: id, type: "INT64", nullable: true },
    { name: "title", data: t, type: "STRING", nullable: true },
    { name: "n", data: n, type: "INT32", nullable: true },
    { name: "done", data: done, type: "BOOLEAN", nullable: true },
    { name: "_seq", data: seq, type: "INT64", nullable: false },
    { name: "_deleted", data: del, type: "BOOLEAN", nullable: false },
  ];
}

function rowsOf(columns: ColumnSource[]): Value[][] {
  const k = columns[0].data.length;
  const rows = new Array<Value[]>(k);
  for (let j = 0; j < k; j++) rows[j] = columns.map((c) => c.data[j] as Value);
  return rows;
}

const compressors = { ZSTD: (input: Uint8Array) => zstdCompressSync(input) };

interface Duck {
  query(sql: string): Promise<unknown[][]>;
  close(): void;
  threads: number;
}

async function openDuck(): Promise<Duck> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const query = async (sql: string) => (await connection.runAndReadAll(sql)).getRowsJS();
  const threads = Number((await query("SELECT current_setting('threads')"))[0][0]);
  return {
    query,
    threads,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Runs the cold-tier benchmark; `scale` 1 is 1M rows and 10,000 users. */
export async function runColdBench(scale = 1): Promise<ColdBench> {
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-bench-cold-" });
  const total = Math.max(20_000, Math.round(1_000_000 * scale));
  const flushes = 20;
  const perFlush = Math.ceil(total / flushes);
  const users = Math.max(200, Math.round(10_000 * scale));
  const perUser = 20;
  const breakdown: Record<string, number> = {};
  let db: Db | undefined;
  let duck: Duck | undefined;
  try {
    db = await Database.open({ dataDir: `${dir}/engine`, durability: "full" });
    await ok(
      db,
      `CREATE NAMESPACE bench;
      CREATE SHARED TABLE bench.t (id BIGINT PRIMARY KEY, title TEXT, n INT, done BOOLEAN)
        WITH (FLUSH_POLICY = '${MANUAL}');
      CREATE USER TABLE bench.msgs (id BIGINT PRIMARY KEY, title TEXT, n INT, done BOOLEAN)
        WITH (FLUSH_POLICY = '${MANUAL}')`,
    );
    const table = db.hooks.table("bench", "t");
    if (!table) throw new Error("bench.t missing");

    // ---------------------------------------------------------------- flush vs raw writer
    let loadMs = 0,
      flushMs = 0,
      bufferReadMs = 0,
      rawMs = 0,
      encodeMs = 0,
      rawBytes = 0,
      engineBytes = 0;
    const seq0 = BigInt(Date.now() - Date.UTC(2024, 0, 1)) << 22n;
    for (let f = 0; f < flushes; f++) {
      const from = f * perFlush, to = Math.min(total, from + perFlush);
      let t0 = now();
      for (let s = from; s < to; s += 1000) {
        await ok(db, insertSql("bench.t", s, Math.min(to, s + 1000)));
      }
      loadMs += now() - t0;
      // What flush step (1) reads: the scope's buffered rows, decoded (timed on its own).
      t0 = now();
      const buffered = db.hooks.bufferedRows(table, "");
      bufferReadMs += now() - t0;
      if (buffered !== to - from) throw new Error(`buffer holds ${buffered} rows`);
      t0 = now();
      const r = await db.hooks.flush(table);
      flushMs += now() - t0;
      if (r.rows !== to - from || r.files !== 1) {
        throw new Error(`flush ${f} wrote ${r.rows} rows in ${r.files} files`);
      }
      engineBytes += r.bytes;
      // The raw encoder on the same rows (columns built outside the timing).
      const columns = rawColumns(from, to, seq0 + BigInt(from) * 4n);
      t0 = now();
      rawBytes += parquetWriteBuffer({
        columnData: columns,
        codec: "ZSTD",
        compressors,
        rowGroupSize: ROW_GROUP,
        statisticsTruncateLength: 64,
      }).byteLength;
      rawMs += now() - t0;
      // Our segment encoder alone (no buffer read, no I/O, no manifest, no delete).
      const rows = rowsOf(columns);
      t0 = now();
      encodeSegment(COLUMNS, rows);
      encodeMs += now() - t0;
    }
    const segments = [...db.hooks.coldStats(table).values()].reduce(
      (n, s) => n + s.segments,
      0,
    );
    breakdown.load_ms = loadMs;
    breakdown.flush_ms = flushMs;
    breakdown.buffer_read_ms = bufferReadMs;
    breakdown.encode_segment_ms = encodeMs;
    breakdown.raw_writer_ms = rawMs;

    progress(`loaded and flushed ${total} rows (flush ${(flushMs / 1000).toFixed(1)} s)`);
    // ---------------------------------------------------------------- DuckDB write
    duck = await openDuck();
    const duckdbThreads = duck.threads;
    const duckDir = `${dir}/duckdb`;
    await Deno.mkdir(duckDir);
    await duck.query(`CREATE TABLE t AS SELECT ${DUCK_ROW},
      (${seq0} + range * 4)::BIGINT AS _seq, false AS _deleted FROM range(${total})`);
    let t0 = now();
    for (let f = 0; f < flushes; f++) {
      const from = f * perFlush, to = Math.min(total, from + perFlush);
      await duck.query(`COPY (SELECT * FROM t WHERE id >= ${from} AND id < ${to} ORDER BY id)
        TO '${duckDir}/part-${f}.parquet' (FORMAT parquet, COMPRESSION zstd,
        ROW_GROUP_SIZE ${ROW_GROUP})`);
    }
    const duckWriteMs = now() - t0;
    let duckdbBytes = 0;
    for await (const e of Deno.readDir(duckDir)) {
      duckdbBytes += (await Deno.stat(`${duckDir}/${e.name}`)).size;
    }
    const files = `read_parquet('${duckDir}/*.parquet')`;

    progress("DuckDB wrote its files");
    // ---------------------------------------------------------------- full-scan aggregate
    const expectSum = (() => {
      let s = 0;
      for (let i = 0; i < total; i++) s += nOf(i);
      return s;
    })();
    const aggSql = "SELECT COUNT(*), SUM(n) FROM bench.t";
    const check = (count: unknown, sum: unknown, who: string) => {
      if (Number(count) !== total || Number(sum) !== expectSum) {
        throw new Error(`${who} aggregate: ${count}, ${sum} (want ${total}, ${expectSum})`);
      }
    };
    const engineAgg = async () => {
      const r = await ok(db!, aggSql);
      check(r.rows![0][0], r.rows![0][1], "engine");
    };
    const coldAgg: number[] = [], warmAgg: number[] = [], duckAgg: number[] = [];
    for (let i = 0; i < REPS; i++) {
      db.hooks.forgetCold(table);
      t0 = now();
      await engineAgg();
      coldAgg.push(now() - t0);
      t0 = now();
      await engineAgg();
      warmAgg.push(now() - t0);
      t0 = now();
      const [row] = await duck.query(`SELECT count(*), sum(n) FROM ${files}`);
      duckAgg.push(now() - t0);
      check(row[0], row[1], "DuckDB");
    }
    breakdown.full_scan_cold_ms = median(coldAgg);
    breakdown.full_scan_warm_ms = median(warmAgg);

    progress("full scans done");
    // ---------------------------------------------------------------- filtered scan
    const pick = rng(42);
    const windows = Array.from({ length: REPS * 2 }, () => Math.floor(pick() * (total - 1000)));
    const filterSql = (x: number) =>
      `SELECT COUNT(*) FROM bench.t WHERE id BETWEEN ${x} AND ${x + 999}`;
    const engineFilter = async (x: number, cold: boolean) => {
      if (cold) db!.hooks.forgetCold(table);
      const t = now();
      const r = await ok(db!, filterSql(x));
      const ms = now() - t;
      if (Number(r.rows![0][0]) !== 1000) throw new Error(`window ${x}: ${r.rows![0][0]} rows`);
      return ms;
    };
    const cold = db.hooks;
    const filtered = async () => {
      const coldMs: number[] = [], warmMs: number[] = [];
      const scanned0 = cold.segmentsScanned;
      for (const x of windows) {
        coldMs.push(await engineFilter(x, true));
        warmMs.push(await engineFilter(x, false));
      }
      const perQuery = (cold.segmentsScanned - scanned0) / (windows.length * 2);
      return { cold: median(coldMs), warm: median(warmMs), segments: perQuery };
    };
    const pruned = await filtered();
    cold.pruning = false;
    let unpruned: Awaited<ReturnType<typeof filtered>>;
    try {
      unpruned = await filtered();
    } finally {
      cold.pruning = true;
    }
    const duckFilter: number[] = [];
    for (const x of windows) {
      t0 = now();
      const [row] = await duck.query(
        `SELECT count(*) FROM ${files} WHERE id BETWEEN ${x} AND ${x + 999}`,
      );
      duckFilter.push(now() - t0);
      if (Number(row[0]) !== 1000) throw new Error(`DuckDB window ${x}: ${row[0]} rows`);
    }
    breakdown.filtered_cold_ms = pruned.cold;
    breakdown.filtered_warm_ms = pruned.warm;
    breakdown.filtered_unpruned_cold_ms = unpruned.cold;
    breakdown.filtered_unpruned_warm_ms = unpruned.warm;
    breakdown.filtered_segments_read = pruned.segments;
    breakdown.filtered_unpruned_segments_read = unpruned.segments;
    duck.close();
    duck = undefined;

    // ---------------------------------------------------------------- per-user point queries
    const msgs = db.hooks.table("bench", "msgs");
    if (!msgs) throw new Error("bench.msgs missing");
    const as = (u: number) => ({ principal: { user: `u${u}`, role: "user" as const } });
    t0 = now();
    let nextUser = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (nextUser < users) {
        const u = nextUser++;
        await ok(db!, insertSql("bench.msgs", u * perUser, (u + 1) * perUser), as(u));
      }
    }));
    breakdown.users_load_ms = now() - t0;
    progress(`loaded ${users} users' rows`);
    t0 = now();
    const userFlush = await db.hooks.flush(msgs);
    breakdown.users_flush_ms = now() - t0;
    if (userFlush.files !== users || userFlush.rows !== users * perUser) {
      throw new Error(`user flush wrote ${userFlush.rows} rows in ${userFlush.files} files`);
    }
    progress(`flushed ${users} user scopes`);
    const pointSql = "SELECT * FROM bench.msgs WHERE id = $1";
    const samples = Math.min(users, 2000);
    const pickUser = rng(7);
    const chosen = new Set<number>();
    while (chosen.size < samples) chosen.add(Math.floor(pickUser() * users));
    const order = [...chosen];
    const point = async (u: number) => {
      const id = u * perUser + Math.floor(pickUser() * perUser);
      const t = now();
      const r = await ok(db!, pointSql, { ...as(u), params: [id] });
      const ms = now() - t;
      if (r.rowCount !== 1 || Number(r.rows![0][0]) !== id) throw new Error(`point ${u}/${id}`);
      return ms;
    };
    db.hooks.forgetCold(msgs);
    const coldPoint: number[] = [];
    for (const u of order) coldPoint.push(await point(u)); // first touch of each user
    const warmPoint: number[] = [];
    for (let i = 0; i < samples * 3; i++) {
      warmPoint.push(await point(order[Math.floor(pickUser() * order.length)]));
    }
    coldPoint.sort((a, b) => a - b);
    warmPoint.sort((a, b) => a - b);
    const pc = { p50: percentile(coldPoint, 50), p99: percentile(coldPoint, 99) };
    const pw = { p50: percentile(warmPoint, 50), p99: percentile(warmPoint, 99) };

    // ---------------------------------------------------------------- the table
    const rate = (rows: number, ms: number) => rows / (ms / 1000);
    const flushRate = rate(total, flushMs), rawRate = rate(total, rawMs);
    const duckWrite = rate(total, duckWriteMs);
    const M = total.toLocaleString("en");
    const rowsOut: ColdRow[] = [
      {
        name: `flush ${M} rows (${flushes} flushes) vs hyparquet-writer on the same rows`,
        unit: "rows/s",
        engine: flushRate,
        peerName: "hyparquet-writer",
        peer: rawRate,
        ratio: flushRate / rawRate,
        target: "≥ 0.40",
        met: flushRate / rawRate >= 0.4,
        note: `our encodeSegment alone: ${fmt(rate(total, encodeMs))} rows/s`,
      },
      {
        name: `flush ${M} rows vs DuckDB COPY … TO parquet (zstd)`,
        unit: "rows/s",
        engine: flushRate,
        peerName: "DuckDB",
        peer: duckWrite,
        ratio: flushRate / duckWrite,
        target: "–",
        met: null,
        note: `bytes: ours ${mib(engineBytes)}, DuckDB ${mib(duckdbBytes)}, raw ${mib(rawBytes)}`,
      },
      {
        name: `full-scan COUNT(*), SUM(n) over ${M} flushed rows, cold cache`,
        unit: "ms",
        engine: median(coldAgg),
        peerName: "DuckDB read_parquet",
        peer: median(duckAgg),
        ratio: median(duckAgg) / median(coldAgg),
        target: "–",
        met: null,
      },
      {
        name: "full-scan aggregate, decoded segments cached",
        unit: "ms",
        engine: median(warmAgg),
        peerName: "DuckDB read_parquet",
        peer: median(duckAgg),
        ratio: median(duckAgg) / median(warmAgg),
        target: "–",
        met: null,
      },
      {
        name: "filtered scan `id BETWEEN x AND x+999`, cold cache",
        unit: "ms",
        engine: pruned.cold,
        peerName: "DuckDB read_parquet",
        peer: median(duckFilter),
        ratio: median(duckFilter) / pruned.cold,
        target: "–",
        met: null,
        note: `cached: ${pruned.warm.toFixed(2)} ms`,
      },
      {
        name: "filtered scan: stats pruning vs none, cold cache",
        unit: "ms",
        engine: pruned.cold,
        peerName: "same scan, pruning off",
        peer: unpruned.cold,
        ratio: unpruned.cold / pruned.cold,
        target: "≥ 10×",
        met: unpruned.cold / pruned.cold >= 10,
        note: `segments read per scan ${pruned.segments} vs ${unpruned.segments}; cached: ${
          pruned.warm.toFixed(2)
        } vs ${unpruned.warm.toFixed(2)} ms (${(unpruned.warm / pruned.warm).toFixed(1)}×)`,
      },
      {
        name: `point query by id as one of ${users.toLocaleString("en")} users, cold cache, p99`,
        unit: "ms",
        engine: pc.p99,
        peerName: "",
        peer: null,
        ratio: null,
        target: "p99 < 5 ms",
        met: pc.p99 < 5,
        note: `p50 ${pc.p50.toFixed(2)} ms; first query of each of ${samples} users`,
      },
      {
        name: "point query, warm (manifest and segment cached), p99",
        unit: "ms",
        engine: pw.p99,
        peerName: "",
        peer: null,
        ratio: null,
        target: "p99 < 5 ms",
        met: pw.p99 < 5,
        note: `p50 ${pw.p50.toFixed(2)} ms; ${warmPoint.length} queries`,
      },
    ];
    breakdown.users_flush_ms_per_scope = breakdown.users_flush_ms / users;
    return {
      rows: total,
      flushes,
      segments,
      engineBytes,
      rawBytes,
      duckdbBytes,
      duckdbThreads,
      users,
      rowsPerUser: perUser,
      table: rowsOut,
      breakdown,
    };
  } finally {
    duck?.close();
    await db?.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function fmt(n: number): string {
  return n.toLocaleString("en", { maximumFractionDigits: 0 });
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
