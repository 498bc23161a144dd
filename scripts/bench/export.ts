// Per-user export benchmark (issue 14): one user's 1M rows of a USER table, mostly flushed to
// Parquet, exported by `EXPORT USER DATA` against a real server process on 127.0.0.1, next to the
// same user's plain `SELECT *` over HTTP and DuckDB's `COPY … TO parquet` of the same rows. For
// the export and the SELECT the server's RSS growth is measured too (sampled every 20 ms by a
// Worker, plus VmHWM; _export_kit.ts).
//
// The design decision: the server is restarted (same data directory) before the export and
// again before the SELECT, so each starts from a fresh process — the same baseline RSS, no heap
// left grown by the other, no decoded segments cached — and neither is measured against memory
// the other one left behind; each is warmed up by the same operation on a second user's 1,000
// rows (code loaded and compiled), which is not measured. The export's zip is downloaded and
// checked (_export_zip.ts) before its figures count. Every wait has a deadline; only the pids
// started here are stopped.

import { rootToken } from "./_client_kit.ts";
import { MANUAL, median, openDuck, progress } from "./_cold_kit.ts";
import {
  basic,
  COLUMNS,
  DUCK_ROW,
  insertSql,
  rowsOf,
  type Rss,
  type Server,
  sleep,
  sql,
  startServer,
  untilJobsIdle,
  withRss,
} from "./_export_kit.ts";
import { checkZip } from "./_export_zip.ts";
import { spawn, stop, waitFor } from "./_procs.ts";

const BARE = new URL("./_export_bare.ts", import.meta.url).pathname;

/** One timed side: rows, wall ms, rows/s and (server sides) the server's RSS. */
export interface Timed {
  readonly rows: number;
  readonly ms: number;
  readonly rows_per_s: number;
  readonly rss?: Rss;
  /** The V8 heap after each full GC during it (the server ran with --trace-gc): max and count. */
  readonly heap_after_gc?: { readonly max_mb: number; readonly full_gcs: number };
}

export interface ExportBench {
  readonly rows: number;
  /** Rows left in the buffer (not flushed) when the export ran. */
  readonly buffered: number;
  readonly batch: number;
  readonly load_ms: number;
  readonly flush_ms: number;
  readonly export: Timed & { readonly zip_bytes: number; readonly members: number };
  readonly select: Timed & { readonly body_bytes: number };
  /** A bare Deno process building and JSON-encoding the same number of rows (_export_bare.ts). */
  readonly bare?: Timed;
  readonly duckdb: Timed & { readonly threads: number; readonly bytes: number };
  /** export rows/s ÷ SELECT rows/s (target ≥ 0.5) and ÷ DuckDB COPY rows/s. */
  readonly export_vs_select: number;
  readonly export_vs_duckdb: number;
  readonly deno: string;
}

const TABLE = "app.items";
const ALICE = basic("alice", "alice-pw");
/** A second user whose small export and SELECT warm the server up before alice's are measured. */
const BOB = basic("bob", "bob-pw");
const WARM_ROWS = 1000;
const BATCH = 5000;
/** The export's wait for "completed", and the SELECT's for its whole answer. */
const EXPORT_LIMIT_MS = 10 * 60_000;

const rate = (rows: number, ms: number) => Math.round(rows / (ms / 1000));
const rssText = (r: Rss) =>
  `${r.baseline_mb} → ${r.peak_mb} MB (+${r.growth_mb}; peaks: anon ${r.anon_peak_mb}, file ${r.file_peak_mb})`;

/** Inserts ids [from, to) as `auth`, `BATCH` rows per INSERT, two requests in flight. */
async function insertRange(url: string, from: number, to: number, auth = ALICE): Promise<void> {
  let next = from;
  const lane = async () => {
    while (next < to) {
      const s = next;
      next = Math.min(to, s + BATCH);
      await sql(url, auth, insertSql(TABLE, s, next));
    }
  };
  await Promise.all([lane(), lane()]);
}

/**
 * Schema, users and rows: bob's few, then alice's, all but `buffered` of them flushed (a FLUSH
 * TABLE every tenth of them).
 */
async function load(url: string, total: number, buffered: number) {
  const root = `Bearer ${await rootToken(url)}`;
  await sql(
    url,
    root,
    `CREATE NAMESPACE app;
    CREATE USER TABLE ${TABLE} (${COLUMNS}) WITH (FLUSH_POLICY = '${MANUAL}');
    CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
    CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user`,
  );
  await insertRange(url, 0, WARM_ROWS, BOB);
  const flushed = total - buffered;
  const step = Math.ceil(flushed / 10);
  const t0 = performance.now();
  let flushMs = 0;
  for (let from = 0; from < flushed; from += step) {
    await insertRange(url, from, Math.min(flushed, from + step));
    const f0 = performance.now();
    await sql(url, root, `FLUSH TABLE ${TABLE}`);
    await untilJobsIdle(url, root, 300_000);
    flushMs += performance.now() - f0;
  }
  await insertRange(url, flushed, total);
  const loadMs = performance.now() - t0 - flushMs;
  const count = Number(rowsOf(await sql(url, ALICE, `SELECT COUNT(*) FROM ${TABLE}`))[0][0]);
  if (count !== total) throw new Error(`alice sees ${count} rows, not ${total}`);
  return { root, loadMs, flushMs };
}

/** EXPORT USER DATA as `auth`, then SHOW EXPORTS every 50 ms until completed (≤ 10 min). */
async function exportOnce(url: string, auth = ALICE) {
  const t0 = performance.now();
  const [exportId, , , downloadUrl] = rowsOf(
    await sql(url, auth, "EXPORT USER DATA"),
  )[0] as string[];
  const deadline = Date.now() + EXPORT_LIMIT_MS;
  while (Date.now() < deadline) {
    const row = rowsOf(await sql(url, auth, "SHOW EXPORTS")).find((r) => r[0] === exportId);
    const status = row ? String(row[2]) : "missing";
    if (status === "completed") {
      return { ms: performance.now() - t0, bytes: Number(row![4]), downloadUrl };
    }
    if (status === "failed" || status === "cancelled" || status === "missing") {
      throw new Error(`export ${exportId} ${status}`);
    }
    await sleep(50);
  }
  throw new Error(`export ${exportId} not completed within ${EXPORT_LIMIT_MS} ms`);
}

/** SELECT * as `auth` over HTTP, the whole JSON body read (rows are counted afterwards). */
async function selectOnce(url: string, auth = ALICE) {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/api/sql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: auth },
    body: JSON.stringify({ sql: `SELECT * FROM ${TABLE}` }),
    signal: AbortSignal.timeout(EXPORT_LIMIT_MS),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`SELECT → HTTP ${res.status} ${text.slice(0, 300)}`);
  return { ms, text };
}

/** _export_bare.ts in its own process, its RSS sampled from its "go" to its "done" line. */
async function bareFloor(total: number) {
  const proc = spawn("bare", Deno.execPath(), ["run", BARE, String(total)], { stdin: true });
  try {
    await waitFor(proc, /^ready$/, 60_000);
    const writer = proc.child.stdin.getWriter();
    const out = await withRss(proc.child.pid, EXPORT_LIMIT_MS, async () => {
      const t0 = performance.now();
      await writer.write(new TextEncoder().encode("go\n"));
      await waitFor(proc, /^done \d+$/, EXPORT_LIMIT_MS);
      return performance.now() - t0;
    });
    await writer.close().catch(() => {});
    return { ms: out.value, rss: out.rss };
  } finally {
    await stop(proc);
  }
}

/** The largest V8 heap left by a full GC since `clear()`, and how many there were. */
function heapAfterGc(server: Server) {
  const mb = server.heapAfterGc.mb;
  return { max_mb: mb.length ? Math.max(...mb) : 0, full_gcs: mb.length };
}

/** A fresh server process on `dir`, idle (jobs done) before anything is measured. */
async function restart(server: Server, dir: string, root: string): Promise<Server> {
  await server.stop();
  const next = await startServer(dir, { traceGc: true });
  await untilJobsIdle(next.url, root, 120_000).catch(async () => {
    // The token is still valid across restarts (same jwt secret in the data dir); if not, log in.
    await untilJobsIdle(next.url, `Bearer ${await rootToken(next.url)}`, 120_000);
  });
  return next;
}

/** DuckDB: the same rows in an in-memory table, `COPY … TO parquet` timed (median of 3). */
async function duckCopy(dir: string, total: number) {
  const duck = await openDuck();
  try {
    await duck.query(`CREATE TABLE items AS SELECT ${DUCK_ROW} FROM range(${total})`);
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 3; i++) {
      const file = `${dir}/duck-${i}.parquet`;
      const t0 = performance.now();
      await duck.query(
        `COPY (SELECT * FROM items) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`,
      );
      times.push(performance.now() - t0);
      bytes = (await Deno.stat(file)).size;
    }
    const ms = median(times);
    return { rows: total, ms, rows_per_s: rate(total, ms), threads: duck.threads, bytes };
  } finally {
    duck.close();
  }
}

/**
 * Runs the export benchmark; `scale` 1 is 1,000,000 rows (1 % of them left buffered).
 *
 * @example
 * const r = await runExportBench(0.05);
 * console.log(r.export.rows_per_s, r.export_vs_select, r.export.rss?.growth_mb);
 */
export async function runExportBench(scale = 1): Promise<ExportBench> {
  const total = Math.max(10_000, Math.round(1_000_000 * scale));
  const buffered = Math.round(total / 100);
  const tmp = await Deno.makeTempDir({ prefix: "kalamdb-bench-export-" });
  const dataDir = `${tmp}/data`;
  let server: Server | undefined;
  try {
    server = await startServer(dataDir);
    progress(`server pid ${server.pid}; loading ${total} rows as alice …`);
    const { root, loadMs, flushMs } = await load(server.url, total, buffered);
    progress(`loaded in ${(loadMs / 1000).toFixed(1)} s, flushes ${(flushMs / 1000).toFixed(1)} s`);

    server = await restart(server, dataDir, root);
    await exportOnce(server.url, BOB); // warm-up: code paths loaded and compiled, not measured
    const pid = server.pid;
    server.heapAfterGc.clear();
    const ex = await withRss(pid, EXPORT_LIMIT_MS + 30_000, () => exportOnce(server!.url));
    const exHeap = heapAfterGc(server);
    progress(`export: ${(ex.value.ms / 1000).toFixed(2)} s, RSS ${rssText(ex.rss)}`);
    const zip = await checkZip(server.url + ex.value.downloadUrl, ALICE, {
      table: TABLE,
      rows: total,
      bytes: ex.value.bytes,
    });
    progress(`zip checked: ${zip.bytes} bytes, ${zip.members} members, ${zip.manifestRows} rows`);

    server = await restart(server, dataDir, root);
    await selectOnce(server.url, BOB); // warm-up
    server.heapAfterGc.clear();
    const sel = await withRss(server.pid, EXPORT_LIMIT_MS + 30_000, () => selectOnce(server!.url));
    const selHeap = heapAfterGc(server);
    const selRows = JSON.parse(sel.value.text).results[0].rows.length;
    if (selRows !== total) throw new Error(`SELECT * returned ${selRows} rows, not ${total}`);
    progress(`SELECT *: ${(sel.value.ms / 1000).toFixed(2)} s, RSS ${rssText(sel.rss)}`);
    await server.stop();
    server = undefined;

    const bare = await bareFloor(total);
    progress(`bare Deno floor: ${(bare.ms / 1000).toFixed(2)} s, RSS ${rssText(bare.rss)}`);
    const duckdb = await duckCopy(tmp, total);
    progress(`DuckDB COPY: ${(duckdb.ms / 1000).toFixed(2)} s (${duckdb.threads} threads)`);
    const exportRate = rate(total, ex.value.ms), selectRate = rate(total, sel.value.ms);
    return {
      rows: total,
      buffered,
      batch: BATCH,
      load_ms: Math.round(loadMs),
      flush_ms: Math.round(flushMs),
      export: {
        rows: total,
        ms: Math.round(ex.value.ms),
        rows_per_s: exportRate,
        rss: ex.rss,
        heap_after_gc: exHeap,
        zip_bytes: zip.bytes,
        members: zip.members,
      },
      select: {
        rows: total,
        ms: Math.round(sel.value.ms),
        rows_per_s: selectRate,
        rss: sel.rss,
        heap_after_gc: selHeap,
        body_bytes: sel.value.text.length,
      },
      bare: { ...bare, rows: total, ms: Math.round(bare.ms), rows_per_s: rate(total, bare.ms) },
      duckdb: { ...duckdb, ms: Math.round(duckdb.ms) },
      export_vs_select: Math.round(exportRate / selectRate * 1000) / 1000,
      export_vs_duckdb: Math.round(exportRate / duckdb.rows_per_s * 1000) / 1000,
      deno: Deno.version.deno,
    };
  } finally {
    await server?.stop();
    await Deno.remove(tmp, { recursive: true }).catch((err) =>
      console.error(`removing ${tmp}: ${err}`)
    );
  }
}

if (import.meta.main) {
  // deno run -A scripts/bench/export.ts [scale]: prints the JSON.
  console.log(JSON.stringify(await runExportBench(Number(Deno.args[0] ?? "0.05")), null, 2));
}
