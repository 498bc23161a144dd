// What the export benchmark (export.ts) needs around the server: a `main.ts serve` process on
// 127.0.0.1 with its own data directory (rate limit off, long query timeout), SQL over raw fetch
// with an Authorization header, waiting for background jobs, the rows every side gets (INSERT
// text and the same rows as DuckDB SQL) and the server's RSS while something runs. The RSS is
// sampled by a Worker (_export_rss_worker.ts) and also read as VmHWM after resetting it through
// /proc/<pid>/clear_refs, so a peak between two samples is not missed where the kernel allows it.

import { type Proc, spawn, stop, waitFor } from "./_procs.ts";
import type { RssSamples } from "./_export_rss_worker.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const WORKER = new URL("./_export_rss_worker.ts", import.meta.url);

export interface Server {
  readonly proc: Proc;
  readonly pid: number;
  readonly url: string;
  /**
   * The V8 heap left after each full GC (Mark-Compact, MB) since the last `clear()`, when the
   * server was started with `traceGc`: what the process really holds, which RSS (young
   * generation and garbage not collected yet included) does not tell.
   */
  readonly heapAfterGc: { mb: number[]; clear(): void };
  stop(): Promise<void>;
}

const MARK_COMPACT = /Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \(/g;

/** Starts `main.ts serve --data dir --port 0` and waits (≤ 60 s) for its "listening" line. */
export async function startServer(dir: string, o: { traceGc?: boolean } = {}): Promise<Server> {
  const proc = spawn("kalamdb", Deno.execPath(), [
    "run",
    "-A",
    ...(o.traceGc ? ["--v8-flags=--trace-gc"] : []),
    MAIN,
    "serve",
    "--data",
    dir,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
  ], { env: { KALAMDB_RATE_LIMIT: "0", KALAMDB_QUERY_TIMEOUT_MS: "600000" } });
  const m = await waitFor(proc, /listening on http:\/\/127\.0\.0\.1:(\d+)/, 60_000);
  const heapAfterGc = {
    mb: [] as number[],
    clear() {
      this.mb.length = 0;
    },
  };
  let partial = ""; // a trace line cut between two chunks
  proc.stdout.drain((text) => {
    const lines = (partial + text).split("\n");
    partial = lines.pop()!;
    for (const line of lines) {
      for (const hit of line.matchAll(MARK_COMPACT)) heapAfterGc.mb.push(Number(hit[1]));
    }
  });
  return {
    proc,
    pid: proc.child.pid,
    url: `http://127.0.0.1:${m[1]}`,
    heapAfterGc,
    stop: () => stop(proc),
  };
}

export function basic(user: string, password: string): string {
  return `Basic ${btoa(`${user}:${password}`)}`;
}

/** POST /v1/api/sql; throws unless the answer is a success. Returns the parsed body. */
export async function sql(
  url: string,
  auth: string,
  text: string,
  timeoutMs = 120_000,
): Promise<{ results: { rows?: unknown[][] }[] }> {
  const res = await fetch(`${url}/v1/api/sql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: auth },
    body: JSON.stringify({ sql: text }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await res.text();
  if (res.status !== 200 || !body.includes('"status":"success"')) {
    throw new Error(`${text.slice(0, 80)} → HTTP ${res.status} ${body.slice(0, 400)}`);
  }
  return JSON.parse(body);
}

/** The last result's rows. */
export function rowsOf(body: { results: { rows?: unknown[][] }[] }): unknown[][] {
  return body.results.at(-1)?.rows ?? [];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const PENDING = "SELECT COUNT(*) FROM system.jobs WHERE status IN ('new', 'queued', 'running', " +
  "'retrying')";

/** Polls system.jobs (as root) until no job is pending; throws after `timeoutMs`. */
export async function untilJobsIdle(url: string, root: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (Number(rowsOf(await sql(url, root, PENDING))[0][0]) === 0) return;
    await sleep(50);
  }
  throw new Error(`background jobs not idle within ${timeoutMs} ms`);
}

// The row with id i, the same in our INSERTs and in DuckDB's range().
const AT0 = Date.UTC(2026, 0, 1);
export const COLUMNS = "id BIGINT PRIMARY KEY, title TEXT, score DOUBLE, at TIMESTAMP, " +
  "done BOOLEAN";
export const DUCK_ROW = `range AS id, 'item ' || range AS title, (range % 1000) / 8 AS score,
  TIMESTAMP '2026-01-01 00:00:00' + range * INTERVAL 1 SECOND AS at, range % 2 = 0 AS done`;

/** One multi-row INSERT of the ids [from, to). */
export function insertSql(table: string, from: number, to: number): string {
  const values: string[] = [];
  for (let i = from; i < to; i++) {
    const at = new Date(AT0 + i * 1000).toISOString();
    values.push(`(${i}, 'item ${i}', ${(i % 1000) / 8}, '${at}', ${i % 2 === 0})`);
  }
  return `INSERT INTO ${table} (id, title, score, at, done) VALUES ${values.join(", ")}`;
}

/** One process's memory while something ran, MiB. */
export interface Rss {
  readonly baseline_mb: number;
  /** The larger of the sampled peak and VmHWM (when the reset worked). */
  readonly peak_mb: number;
  readonly growth_mb: number;
  readonly sampled_peak_mb: number;
  readonly hwm_mb: number | null;
  /** Sampled peaks of RssAnon (heap, stacks) and RssFile (mapped files, code). */
  readonly anon_peak_mb: number;
  readonly file_peak_mb: number;
  readonly samples: number;
  readonly max_gap_ms: number;
}

function status(pid: number): string {
  return Deno.readTextFileSync(`/proc/${pid}/status`);
}

function fieldKb(text: string, name: string): number | null {
  const m = new RegExp(`${name}:\\s+(\\d+) kB`).exec(text);
  return m ? Number(m[1]) : null;
}

/** Resets the peak RSS (VmHWM) of `pid` (Linux ≥ 4.0, same user); false when refused. */
function resetHwm(pid: number): boolean {
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` while sampling `pid`'s RSS every 20 ms. The baseline is the median of 5 readings
 * 20 ms apart just before; the sampler stops by itself `limitMs` after the start.
 */
export async function withRss<T>(
  pid: number,
  limitMs: number,
  fn: () => Promise<T>,
): Promise<{ value: T; rss: Rss }> {
  const base: number[] = [];
  for (let i = 0; i < 5; i++) {
    base.push(fieldKb(status(pid), "VmRSS") ?? 0);
    await sleep(20);
  }
  const baselineKb = base.sort((a, b) => a - b)[2];
  const hwmReset = resetHwm(pid);
  const worker = new Worker(WORKER, { type: "module" });
  const answer = new Promise<RssSamples>((resolve) => {
    worker.onmessage = (e: MessageEvent<RssSamples>) => resolve(e.data);
  });
  worker.postMessage({ type: "start", pid, intervalMs: 20, deadline: Date.now() + limitMs });
  try {
    const value = await fn();
    const hwmKb = hwmReset ? fieldKb(status(pid), "VmHWM") : null;
    worker.postMessage({ type: "stop" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("RSS sampler did not answer in 5 s")), 5000);
    });
    const s = await Promise.race([answer, late]).finally(() => clearTimeout(timer));
    if (s.error) throw new Error(s.error);
    if (s.deadlineHit) throw new Error(`RSS sampler hit its ${limitMs} ms deadline`);
    const mb = (kb: number) => Math.round(kb / 1024 * 10) / 10;
    const peakKb = Math.max(s.peakKb, hwmKb ?? 0);
    return {
      value,
      rss: {
        baseline_mb: mb(baselineKb),
        peak_mb: mb(peakKb),
        growth_mb: mb(Math.max(0, peakKb - baselineKb)),
        sampled_peak_mb: mb(s.peakKb),
        hwm_mb: hwmKb === null ? null : mb(hwmKb),
        anon_peak_mb: mb(s.anonPeakKb),
        file_peak_mb: mb(s.filePeakKb),
        samples: s.samples,
        max_gap_ms: Math.round(s.maxGapMs),
      },
    };
  } finally {
    worker.terminate();
  }
}
