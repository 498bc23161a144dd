// Cold-tier benchmark (issue 4): flush throughput, a full-scan aggregate and a filtered scan over
// 1M flushed rows of a SHARED table, side by side with hyparquet-writer (the raw encoder under
// our segments) and DuckDB (`@duckdb/node-api`, in this process) writing and reading the same
// data; stats pruning on vs off; and per-user point queries over 10,000 users' flushed data.
// Everything runs in one process on the shared 2-core machine, in temp dirs removed at the end;
// every loop is bounded by a count. `scale` < 1 shrinks the sizes (for `--quick`).

//
// The phases live in _cold_write.ts (load + flush vs the raw writer, DuckDB's write) and
// _cold_read.ts (full scans, filtered scans and pruning, per-user point queries); this file
// runs them in order and turns their timings into the report's rows.

import { Database } from "../../storage/mod.ts";
import {
  type Db,
  type Duck,
  fmt,
  MANUAL,
  median,
  mib,
  ok,
  openDuck,
  progress,
} from "./_cold_kit.ts";
import { duckWrite, type FlushTimings, loadAndFlush, type Sizes } from "./_cold_write.ts";
import { filteredScans, fullScans, loadUsers, userPoints } from "./_cold_read.ts";

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

/** Runs the cold-tier benchmark; `scale` 1 is 1M rows and 10,000 users. */
export async function runColdBench(scale = 1): Promise<ColdBench> {
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-bench-cold-" });
  const total = Math.max(20_000, Math.round(1_000_000 * scale));
  const flushes = 20;
  const perFlush = Math.ceil(total / flushes);
  const size: Sizes = { total, flushes, perFlush };
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

    const seq0 = BigInt(Date.now() - Date.UTC(2024, 0, 1)) << 22n;
    const flushed = await loadAndFlush(db, table, size, seq0, breakdown);
    progress(`loaded and flushed ${total} rows (flush ${(flushed.flushMs / 1000).toFixed(1)} s)`);
    duck = await openDuck();
    const duckdbThreads = duck.threads;
    const duckdb = await duckWrite(duck, `${dir}/duckdb`, size, seq0);
    progress("DuckDB wrote its files");
    const full = await fullScans(db, table, duck, duckdb.files, total, breakdown);
    progress("full scans done");
    const filtered = await filteredScans(db, table, duck, duckdb.files, total, breakdown);
    duck.close();
    duck = undefined;

    const msgs = await loadUsers(db, users, perUser, breakdown);
    const points = await userPoints(db, msgs, users, perUser);
    const rowsOut = coldRows({ size, users, flushed, duckdb, full, filtered, points });
    breakdown.users_flush_ms_per_scope = breakdown.users_flush_ms / users;
    return {
      rows: total,
      flushes,
      segments: flushed.segments,
      engineBytes: flushed.engineBytes,
      rawBytes: flushed.rawBytes,
      duckdbBytes: duckdb.duckdbBytes,
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

/** What the phases measured, as coldRows needs it. */
interface Measured {
  readonly size: Sizes;
  readonly users: number;
  readonly flushed: FlushTimings;
  readonly duckdb: Awaited<ReturnType<typeof duckWrite>>;
  readonly full: Awaited<ReturnType<typeof fullScans>>;
  readonly filtered: Awaited<ReturnType<typeof filteredScans>>;
  readonly points: Awaited<ReturnType<typeof userPoints>>;
}

/** The report's rows: flush vs peers, full and filtered scans, pruning, point queries. */
function coldRows(m: Measured): ColdRow[] {
  return [...flushRows(m), ...scanRows(m), ...pointRows(m)];
}

/** Flush throughput against hyparquet-writer and DuckDB. */
function flushRows(m: Measured): ColdRow[] {
  const { total, flushes } = m.size;
  const { flushMs, rawMs, encodeMs, engineBytes, rawBytes } = m.flushed;
  const { duckWriteMs, duckdbBytes } = m.duckdb;
  const rate = (rows: number, ms: number) => rows / (ms / 1000);
  const flushRate = rate(total, flushMs), rawRate = rate(total, rawMs);
  const duckWrite = rate(total, duckWriteMs);
  const M = total.toLocaleString("en");
  return [
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
  ];
}

/** Full-scan and filtered-scan times against DuckDB, and pruning on vs off. */
function scanRows(m: Measured): ColdRow[] {
  const M = m.size.total.toLocaleString("en");
  const { coldAgg, warmAgg, duckAgg } = m.full;
  const { pruned, unpruned, duckFilter } = m.filtered;
  return [
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
  ];
}

/** Per-user point-query latency, cold and warm. */
function pointRows(m: Measured): ColdRow[] {
  const { pc, pw, samples } = m.points;
  const users = m.users;
  return [
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
      note: `p50 ${pw.p50.toFixed(2)} ms; ${m.points.warmQueries} queries`,
    },
  ];
}
