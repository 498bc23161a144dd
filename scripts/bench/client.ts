// Client SDK benchmark (issue 12), every figure next to its raw building block from the same run,
// against a real server process on 127.0.0.1 (`main.ts serve`, KALAMDB_RATE_LIMIT=0):
//
// 1. `db.query()` vs a raw `fetch` of the identical request, 1 and 32 in flight (_client_query.ts);
// 2. live rows: `LiveRowsState.apply` over batches of 1, 10, 100 mixed changes on 10,000 rows vs
//    a Map by hand, in process (_client_apply.ts); memory per row (_client_memory.ts, its own
//    process with --expose-gc); and `db.live()` end to end with 1,000 writes/s from a writer
//    process vs a raw WebSocket + Map (_client_live.ts);
// 3. reconnect: 100 subscriptions, SIGKILL, restart on the same data dir and port, time to all
//    100 resumed (_client_reconnect.ts).
//
// The client side runs in this process (the writer and the server in their own).

import { runApplyBench } from "./_client_apply.ts";
import { type LiveRun, liveRun } from "./_client_live.ts";
import { type QueryRow, runQueryBench } from "./_client_query.ts";
import { type ReconnectRun, runReconnectBench } from "./_client_reconnect.ts";
import type { ApplyRow } from "./_client_apply.ts";
import { COLUMNS, NO_FLUSH, rootToken, seed, sql, startServer } from "./_client_kit.ts";

export interface MemoryResult {
  readonly rows: number;
  readonly state_bytes: number;
  readonly map_bytes: number;
  readonly live_bytes: number;
  readonly raw_bytes: number;
  readonly live_rows_bytes: number;
  readonly raw_rows_bytes: number;
}

export interface ClientBench {
  readonly rows: number;
  readonly rate: number;
  /** Measured seconds of writes per end-to-end run, after `warmup` seconds not measured. */
  readonly seconds: number;
  readonly warmup: number;
  readonly deno: string;
  readonly query: QueryRow[];
  readonly apply: ApplyRow[];
  readonly memory?: MemoryResult;
  readonly live: LiveRun[];
  readonly reconnect: ReconnectRun[];
  /** Parts that failed, and why. */
  readonly errors: Record<string, string>;
}

const ROWS = 10_000;
const MEMORY = new URL("./_client_memory.ts", import.meta.url).pathname;

async function memory(url: string, token: string): Promise<MemoryResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", MEMORY, url, token, "bench.live", String(ROWS)],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(`memory process: ${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(text.split("\n").at(-1)!);
}

/** Runs `fn`, or records its error under `part` and returns `fallback`. */
async function part<T>(
  errors: Record<string, string>,
  name: string,
  fallback: T,
  fn: () => Promise<T> | T,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const text = String(err instanceof Error ? err.stack ?? err.message : err).slice(0, 2000);
    console.log(`  ${name} failed: ${text.split("\n")[0]}`);
    errors[name] = text;
    return fallback;
  }
}

/** SDK and raw end-to-end runs alternated, `rounds` of each. */
async function liveRuns(url: string, token: string, scale: number, rounds: number) {
  const seconds = Math.max(0.5, Math.round(4 * scale * 10) / 10);
  const warmup = scale < 1 ? 0.2 : 0.5;
  const runs: LiveRun[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const client of r % 2 ? (["raw", "sdk"] as const) : (["sdk", "raw"] as const)) {
      const seed = runs.length + 1;
      const run = await liveRun({ url, token, table: "bench.live", seconds, warmup, seed }, client);
      console.log(
        `    ${client}: ${run.writer.rate} writes/s, ${run.samples} samples, p50 ${run.p50_ms} ms, ` +
          `p99 ${run.p99_ms} ms, handling p50 ${run.handle_p50_us} µs, ` +
          `${run.changes_per_frame} changes/frame, ${run.rows_end} rows, consistent ${run.consistent}`,
      );
      runs.push(run);
    }
  }
  return { seconds, warmup, runs };
}

/**
 * Runs the client benchmark; `scale` < 1 is a smoke run (fewer rounds, shorter writes).
 *
 * @example
 * const r = await runClientBench(0.05);
 * console.log(r.query.map((q) => [q.workload, q.concurrency, q.overhead_pct]));
 */
export async function runClientBench(scale = 1): Promise<ClientBench> {
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-client-bench-" });
  const errors: Record<string, string> = {};
  let query: QueryRow[] = [], apply: ApplyRow[] = [], live: LiveRun[] = [];
  let mem: MemoryResult | undefined;
  let seconds = 0, warmup = 0;
  let reconnect: ReconnectRun[] = [];
  try {
    const server = await startServer(`${dir}/main`);
    try {
      const token = await rootToken(server.url);
      await sql(server.url, token, "CREATE NAMESPACE bench");
      console.log("  query(): SDK vs raw fetch …");
      query = await part(errors, "query", [], () => runQueryBench(server.url, token, scale));
      console.log(`  live rows: LiveRowsState.apply vs a Map, ${ROWS} rows …`);
      apply = await part(errors, "apply", [], () => runApplyBench(ROWS, scale));
      await sql(
        server.url,
        token,
        `CREATE SHARED TABLE bench.live (${COLUMNS}) WITH (${NO_FLUSH})`,
      );
      await seed(
        server.url,
        token,
        "bench.live",
        Array.from({ length: ROWS }, (_, i) => (i + 1) * 16),
      );
      console.log("  memory per live row …");
      mem = await part(errors, "memory", undefined, () => memory(server.url, token));
      if (mem) console.log(`    ${JSON.stringify(mem)}`);
      console.log("  live() end to end, 1,000 writes/s …");
      const l = await part(
        errors,
        "live",
        undefined,
        () => liveRuns(server.url, token, scale, scale < 1 ? 1 : 3),
      );
      if (l) ({ seconds, warmup, runs: live } = l);
    } finally {
      await server.stop();
    }
    console.log("  reconnect: 100 subscriptions, SIGKILL + restart …");
    reconnect = await part(
      errors,
      "reconnect",
      [],
      () => runReconnectBench(`${dir}/reconnect`, scale),
    );
  } finally {
    await Deno.remove(dir, { recursive: true }).catch((err) =>
      console.error(`removing ${dir}: ${err}`)
    );
  }
  return {
    rows: ROWS,
    rate: 1000,
    seconds,
    warmup,
    deno: Deno.version.deno,
    query,
    apply,
    memory: mem,
    live,
    reconnect,
    errors,
  };
}

if (import.meta.main) {
  // deno run -A scripts/bench/client.ts [scale]: prints the JSON.
  console.log(JSON.stringify(await runClientBench(Number(Deno.args[0] ?? "0.05")), null, 2));
}
