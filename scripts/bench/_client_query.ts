// Client benchmark, part 1: `db.query()` through the SDK vs a raw `fetch` of the identical
// `POST /v1/api/sql` request (same SQL, same params, same `Authorization: Bearer` header, the
// same JSON.stringify of the body), read with `res.json()`. The SDK adds the token lookup, the
// status check and the typed decoding of every row (BIGINT → bigint, TIMESTAMP → Timestamp).
// Batches alternate SDK / raw (the order flips every round) so noise from other processes falls
// on both sides; each side's req/s is its requests ÷ the time of its batches.

import { createClient } from "../../client/mod.ts";
import { COLUMNS, median, NO_FLUSH, quantile, round, seed, sql } from "./_client_kit.ts";

export interface QuerySide {
  readonly requests: number;
  readonly rps: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
}

export interface QueryRow {
  readonly workload: string;
  /** Rows each request returns. */
  readonly rows: number;
  readonly concurrency: number;
  readonly sdk: QuerySide;
  readonly raw: QuerySide;
  /** Extra time per request through the SDK: raw req/s ÷ SDK req/s − 1, in percent. */
  readonly overhead_pct: number;
  readonly p50_overhead_pct: number;
  /** The per-round overhead (percent): median, the middle half (p25 … p75), lowest, highest. */
  readonly rounds: {
    readonly n: number;
    readonly median: number;
    readonly p25: number;
    readonly p75: number;
    readonly min: number;
    readonly max: number;
  };
  /** Client CPU alone: µs per call with the server's answer canned (no network), median. */
  readonly canned?: { readonly sdk_us: number; readonly raw_us: number };
}

const KEYS = 10_000;
const PK_SQL = "SELECT id, title, n, done, at FROM bench.q WHERE id = $1";
// A 100-row table read whole (the WHERE keeps the request's shape): a primary-key range over
// bench.q (`id >= $1 AND id < $2`) costs the server ~50× as much as this, a scan of all 10,000
// rows, which would hide the client.
const HUNDRED_SQL = "SELECT id, title, n, done, at FROM bench.h WHERE n >= $1";

interface Workload {
  readonly name: string;
  readonly sql: string;
  readonly rows: number;
  param(i: number): number;
}

const WORKLOADS: Workload[] = [
  {
    name: "primary-key SELECT, 1 row",
    sql: PK_SQL,
    rows: 1,
    param: (i) => ((i * 7919) % KEYS) + 1,
  },
  {
    name: "100-row SELECT",
    sql: HUNDRED_SQL,
    rows: 100,
    param: () => 0,
  },
];

type Call = (i: number) => Promise<void>;

/** Runs `n` calls with `concurrency` workers; the batch's milliseconds and every latency. */
async function batch(call: Call, n: number, concurrency: number, from: number) {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = from + next++;
      const t = performance.now();
      await call(i);
      latencies.push(performance.now() - t);
    }
  }));
  return { ms: performance.now() - t0, latencies };
}

function side(ms: number, latencies: number[]): QuerySide {
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: Math.round(latencies.length / (ms / 1000)),
    p50_ms: round(quantile(latencies, 0.5)!),
    p99_ms: round(quantile(latencies, 0.99)!),
  };
}

/** The two ways to send one workload's request i. */
function calls(url: string, token: string, w: Workload): { sdk: Call; raw: Call } {
  const db = createClient({ url, auth: { token } });
  const endpoint = `${url}/v1/api/sql`;
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
  const check = (got: number) => {
    if (got !== w.rows) throw new Error(`${w.name}: ${got} rows, expected ${w.rows}`);
  };
  return {
    async sdk(i) {
      check((await db.query(w.sql, [w.param(i)])).rows.length);
    },
    async raw(i) {
      const body = JSON.stringify({ sql: w.sql, params: [w.param(i)] });
      const res = await fetch(endpoint, { method: "POST", headers, body });
      const json = await res.json();
      if (json.status !== "success") throw new Error(`${w.name}: ${JSON.stringify(json.error)}`);
      check(json.results[0].rows.length);
    },
  };
}

async function measure(
  url: string,
  token: string,
  w: Workload,
  concurrency: number,
  perBatch: number,
  rounds: number,
): Promise<QueryRow> {
  const { sdk, raw } = calls(url, token, w);
  let from = 0;
  await batch(sdk, perBatch * 2, concurrency, from); // warm-up, both sides
  await batch(raw, perBatch * 2, concurrency, from);
  const acc = { sdk: { ms: 0, l: [] as number[] }, raw: { ms: 0, l: [] as number[] } };
  const perRound: number[] = [];
  for (let r = 0; r < rounds; r++) {
    from += perBatch;
    const order = r % 2 ? (["raw", "sdk"] as const) : (["sdk", "raw"] as const);
    const ms: Record<string, number> = {};
    for (const s of order) {
      const b = await batch(s === "sdk" ? sdk : raw, perBatch, concurrency, from);
      acc[s].ms += b.ms;
      acc[s].l.push(...b.latencies);
      ms[s] = b.ms;
    }
    perRound.push((ms.sdk / ms.raw - 1) * 100);
  }
  const s = side(acc.sdk.ms, acc.sdk.l);
  const x = side(acc.raw.ms, acc.raw.l);
  perRound.sort((a, b) => a - b);
  return {
    workload: w.name,
    rows: w.rows,
    concurrency,
    sdk: s,
    raw: x,
    overhead_pct: round((x.rps / s.rps - 1) * 100, 1),
    p50_overhead_pct: round((s.p50_ms / x.p50_ms - 1) * 100, 1),
    rounds: {
      n: rounds,
      median: round(median(perRound), 1),
      p25: round(quantile(perRound, 0.25)!, 1),
      p75: round(quantile(perRound, 0.75)!, 1),
      min: round(perRound[0], 1),
      max: round(perRound.at(-1)!, 1),
    },
  };
}

/**
 * The client's own work per call, without the network or the server: both sides get the
 * server's real answer from a `fetch` stand-in (a fresh Response of the same text), the raw side
 * calls it directly and reads `res.json()`. Median µs per call over alternated rounds.
 */
async function canned(url: string, token: string, w: Workload) {
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
  const body = JSON.stringify({ sql: w.sql, params: [w.param(0)] });
  const text = await (await fetch(`${url}/v1/api/sql`, { method: "POST", headers, body })).text();
  const answer: typeof fetch = () =>
    Promise.resolve(new Response(text, { headers: { "content-type": "application/json" } }));
  const db = createClient({ url, auth: { token }, fetch: answer });
  const sdk: Call = async (i) => void await db.query(w.sql, [w.param(i)]);
  const raw: Call = async (i) => {
    const init = {
      method: "POST",
      headers,
      body: JSON.stringify({ sql: w.sql, params: [w.param(i)] }),
    };
    await (await answer(url, init)).json();
  };
  const us: Record<"sdk" | "raw", number[]> = { sdk: [], raw: [] };
  const n = w.rows > 1 ? 300 : 2000;
  for (let r = 0; r < 9; r++) {
    for (const s of r % 2 ? (["raw", "sdk"] as const) : (["sdk", "raw"] as const)) {
      const b = await batch(s === "sdk" ? sdk : raw, n, 1, 0);
      if (r > 0) us[s].push((b.ms * 1000) / n); // round 0 warms up
    }
  }
  return { sdk_us: round(median(us.sdk), 1), raw_us: round(median(us.raw), 1) };
}

/** Creates and fills bench.q and bench.h, then measures every workload sequentially and 32 concurrent. */
export async function runQueryBench(
  url: string,
  token: string,
  scale: number,
): Promise<QueryRow[]> {
  await sql(url, token, `CREATE SHARED TABLE bench.q (${COLUMNS}) WITH (${NO_FLUSH})`);
  await sql(url, token, `CREATE SHARED TABLE bench.h (${COLUMNS}) WITH (${NO_FLUSH})`);
  await seed(url, token, "bench.q", Array.from({ length: KEYS }, (_, i) => i + 1));
  await seed(url, token, "bench.h", Array.from({ length: 100 }, (_, i) => i + 1));
  // Short batches, many rounds: bursts of other work on the machine fall on both sides.
  const plan = (big: boolean, concurrency: number) =>
    concurrency === 1
      ? { rounds: 30, perBatch: big ? 100 : 200 }
      : { rounds: 20, perBatch: big ? 320 : 640 };
  const out: QueryRow[] = [];
  for (const w of WORKLOADS) {
    const big = w.rows > 1;
    for (const concurrency of [1, 32]) {
      const { rounds, perBatch } = plan(big, concurrency);
      const n = Math.max(2, Math.round(rounds * scale));
      const measured = await measure(url, token, w, concurrency, perBatch, n);
      const row = concurrency === 1
        ? { ...measured, canned: await canned(url, token, w) }
        : measured;
      console.log(
        `    ${w.name}, ${concurrency} in flight: SDK ${row.sdk.rps}/s p50 ${row.sdk.p50_ms} ms, ` +
          `raw ${row.raw.rps}/s p50 ${row.raw.p50_ms} ms, overhead ${row.overhead_pct} % ` +
          `(middle half of rounds ${row.rounds.p25} … ${row.rounds.p75})` +
          (row.canned
            ? `; canned answer: SDK ${row.canned.sdk_us} µs, raw ${row.canned.raw_us} µs`
            : ""),
      );
      out.push(row);
    }
  }
  return out;
}
