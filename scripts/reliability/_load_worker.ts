// One load generator process of load.ts: its own event loop, apart from the server's. It reads a
// JSON config line on stdin, opens its share of the WebSockets and prints `{"type":"ready"}`,
// waits for a `go` line, then runs its share of the HTTP clients until the deadline, printing a
// `{"type":"tick"}` line of per-operation tallies every tick, and finally `{"type":"done"}` with
// the totals and the sockets' verdict. Client c writes when c < clients / 2, else reads; one
// writer in ten is the service user writing `load.feed`, the others are users writing their own
// partition of `load.items`. Readers point-read ids acknowledged earlier (a missing row is an
// error, MISSING_ROW) and read small id ranges. Every loop runs until a deadline, never a count.
//
//   deno run -A scripts/reliability/_load_worker.ts   (config and `go` on stdin, JSON out)

import { rng } from "../_rng.ts";
import { emptyTally, mergeByType, type OpTally, record } from "./_load_stats.ts";
import { Sockets } from "./_load_sockets.ts";
import { SHARED_BUCKETS, USER_BUCKETS } from "./_load_setup.ts";

export interface WorkerConfig {
  readonly url: string;
  readonly worker: number;
  readonly workers: number;
  readonly seed: number;
  readonly clients: number;
  readonly sockets: number;
  readonly users: string[];
  readonly service: string;
  readonly seconds: number;
  readonly tickMs: number;
  readonly requestTimeoutMs: number;
  /** Each socket sends `{"type":"ping"}` this often. */
  readonly pingMs: number;
}

const RING = 2000;
const ID_BASE = 1_000_000_000_000;
const ID_STRIDE = 1_000_000;

/** Ids acknowledged so far, per user partition (key = user) and for the shared table (-1). */
class Known {
  #rings = new Map<number, number[]>();
  add(key: number, id: number): void {
    let r = this.#rings.get(key);
    if (!r) this.#rings.set(key, r = []);
    if (r.length < RING) r.push(id);
    else r[id % RING] = id;
  }
  pick(key: number, random: () => number): number | undefined {
    const r = this.#rings.get(key);
    return r && r.length ? r[Math.floor(random() * r.length)] : undefined;
  }
}

class Run {
  readonly cfg: WorkerConfig;
  readonly known = new Known();
  readonly http: Deno.HttpClient;
  readonly endpoint: string;
  tick: Record<string, OpTally> = {};
  total: Record<string, OpTally> = {};
  end = 0;

  constructor(cfg: WorkerConfig) {
    this.cfg = cfg;
    this.endpoint = cfg.url + "/v1/api/sql";
    if (!/^http:\/\/127\.0\.0\.1:\d+\/v1\/api\/sql$/.test(this.endpoint)) {
      throw new Error(`loopback only: ${cfg.url}`);
    }
    this.http = Deno.createHttpClient({ poolMaxIdlePerHost: cfg.clients });
  }

  /** One request; resolves with the rows of a success or the error code. */
  async call(op: string, auth: string, sql: string, params: unknown[]) {
    const t0 = performance.now();
    let code: string | undefined;
    let rows = 0;
    try {
      const res = await fetch(this.endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: auth },
        body: JSON.stringify({ sql, params }),
        client: this.http,
        signal: AbortSignal.timeout(this.cfg.requestTimeoutMs),
      });
      const text = await res.text();
      const body = JSON.parse(text);
      if (res.status !== 200 || body.status !== "success") {
        code = body?.error?.code ?? `HTTP_${res.status}`;
      } else rows = body.results[0].row_count ?? 0;
    } catch (err) {
      code = (err as Error).name === "TimeoutError" ? "TIMEOUT" : "NETWORK";
    }
    const ms = performance.now() - t0;
    record(this.tick[op] ??= emptyTally(), ms, code);
    record(this.total[op] ??= emptyTally(), ms, code);
    if (code === "RATE_LIMITED") await sleep(20 + Math.random() * 30);
    return { code, rows };
  }

  /** A mismatch found by a reader (counted as an error of that operation, latency 0). */
  wrong(op: string, code: string): void {
    this.tick[op].errors[code] = (this.tick[op].errors[code] ?? 0) + 1;
    this.total[op].errors[code] = (this.total[op].errors[code] ?? 0) + 1;
  }

  async writer(c: number): Promise<void> {
    const random = rng(this.cfg.seed * 7919 + c);
    const shared = c % 10 === 9;
    // The k-th user writer writes as user k mod U, so every user has writers.
    const user = (c - Math.floor(c / 10)) % this.cfg.users.length;
    const key = shared ? -1 : user;
    const auth = shared ? this.cfg.service : this.cfg.users[user];
    const table = shared ? "load.feed" : "load.items";
    const kind = shared ? "shared" : "user";
    const buckets = shared ? SHARED_BUCKETS : USER_BUCKETS;
    for (let seq = 0; performance.now() < this.end; seq++) {
      const old = random() < 0.15 ? this.known.pick(key, random) : undefined;
      if (old !== undefined) {
        await this.call(`update_${kind}`, auth, `UPDATE ${table} SET n = n + 1 WHERE id = $1`, [
          old,
        ]);
        continue;
      }
      const id = ID_BASE + c * ID_STRIDE + seq;
      const r = await this.call(
        `insert_${kind}`,
        auth,
        `INSERT INTO ${table} (id, bucket, n, body) VALUES ($1, $2, $3, $4)`,
        [id, (seq + c) % buckets, 0, `row ${id} of client ${c}`],
      );
      if (r.code === undefined) this.known.add(key, id);
    }
  }

  async reader(c: number): Promise<void> {
    const random = rng(this.cfg.seed * 104729 + c);
    const user = c % this.cfg.users.length;
    const auth = this.cfg.users[user];
    while (performance.now() < this.end) {
      const dice = random();
      const key = dice < 0.2 ? -1 : user;
      const id = this.known.pick(key, random);
      if (dice < 0.6) {
        const op = key === -1 ? "point_shared" : "point_user";
        const table = key === -1 ? "load.feed" : "load.items";
        if (id === undefined) {
          await sleep(10);
          continue;
        }
        const r = await this.call(op, auth, `SELECT id, n, body FROM ${table} WHERE id = $1`, [id]);
        if (r.code === undefined && r.rows !== 1) this.wrong(op, "MISSING_ROW");
      } else {
        const lo = id ?? ID_BASE + Math.floor(random() * this.cfg.clients) * ID_STRIDE;
        await this.call(
          "range_user",
          auth,
          "SELECT id, bucket, n FROM load.items WHERE id BETWEEN $1 AND $2 ORDER BY id LIMIT 20",
          [lo, lo + 50],
        );
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function emit(o: unknown): void {
  console.log(JSON.stringify(o));
}

async function main(): Promise<void> {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const nextLine = async (): Promise<string> => {
    while (!buf.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("stdin closed");
      buf += value;
    }
    const i = buf.indexOf("\n");
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return line;
  };
  const cfg: WorkerConfig = JSON.parse(await nextLine());
  const mine = (n: number) =>
    Array.from({ length: n }, (_, i) => i).filter((i) => i % cfg.workers === cfg.worker);
  const sockets = new Sockets();
  const t0 = performance.now();
  await sockets.open({ ...cfg, indices: mine(cfg.sockets) }, 120_000);
  const v = sockets.verdict(0);
  emit({
    type: "ready",
    worker: cfg.worker,
    subscribed: v.subscribed,
    sockets: v.sockets,
    errors: v.errors,
    open_s: Math.round(performance.now() - t0) / 1000,
  });
  await nextLine(); // go
  const run = new Run(cfg);
  const start = performance.now();
  run.end = start + cfg.seconds * 1000;
  let lastDeliveries = 0;
  // The worker's own event-loop lag: a generator that falls behind would show up as server
  // latency and as sockets slow to answer the server's pings.
  let lagMax = 0;
  let lagAt = performance.now();
  const lagTimer = setInterval(() => {
    const now = performance.now();
    lagMax = Math.max(lagMax, now - lagAt - 100);
    lagAt = now;
  }, 100);
  const ticker = setInterval(() => {
    const d = sockets.deliveries;
    emit({
      type: "tick",
      worker: cfg.worker,
      t_s: Math.round(performance.now() - start) / 1000,
      ops: run.tick,
      deliveries: d - lastDeliveries,
      lag_max_ms: Math.round(lagMax),
    });
    lagMax = 0;
    lastDeliveries = d;
    run.tick = {};
  }, cfg.tickMs);
  const half = Math.ceil(cfg.clients / 2);
  await Promise.all(mine(cfg.clients).map((c) => c < half ? run.writer(c) : run.reader(c)));
  const loadS = (performance.now() - start) / 1000;
  clearInterval(ticker);
  clearInterval(lagTimer);
  // Changes of the last acknowledged writes are still on their way: a bounded settle.
  const settle = performance.now() + 5000;
  for (let d = -1; d !== sockets.deliveries && performance.now() < settle; await sleep(500)) {
    d = sockets.deliveries;
  }
  const verdict = sockets.verdict(start + cfg.seconds * 750);
  emit({
    type: "done",
    worker: cfg.worker,
    load_s: loadS,
    ops: mergeByType({}, run.total),
    sockets: verdict,
  });
  sockets.close();
  run.http.close();
  await sleep(200);
  Deno.exit(0);
}

if (import.meta.main) {
  main().catch((err) => {
    emit({ type: "fatal", error: String(err?.stack ?? err) });
    Deno.exit(1);
  });
}
