// Folding the load workers' lines into one report (load.ts): totals per operation type, a
// timeline (one row per tick: requests, errors, p50/p99, deliveries, server RSS), the RSS figures
// (start, after warm-up, peak, end and end ÷ warm-up), the verdict's failures, and the
// human-readable table. "After warm-up" is the first RSS sample at or past 20 % of the load
// phase; "end" is the last sample within the load phase.

import { emptyTally, errorCount, merge, type OpTally, quantile, round } from "./_load_stats.ts";

export const WARMUP_FRACTION = 0.2;
export const MAX_RSS_RATIO = 1.2;

export interface RssSample {
  /** Seconds since the load phase began (negative: during setup and socket opening). */
  readonly t_s: number;
  readonly rss_mb: number;
  /** RssAnon: the heap part of rss_mb (the rest is mapped files). */
  readonly anon_mb: number;
  /** Time for GET /v1/api/healthcheck at that moment: the server's event-loop delay, roughly. */
  readonly health_ms: number;
}

export interface Tick {
  readonly worker: number;
  readonly t_s: number;
  readonly ops: Record<string, OpTally>;
  readonly deliveries: number;
  readonly lag_max_ms: number;
}

export interface SocketVerdict {
  sockets: number;
  subscribed: number;
  closed: number;
  first_closes: unknown[];
  silent: number;
  stalled: number;
  stalled_open: number;
  out_of_order: number;
  errors: Record<string, number>;
  deliveries: number;
  min_changes_per_socket: number;
  median_changes_per_socket: number;
}

export interface Done {
  readonly worker: number;
  readonly load_s: number;
  readonly ops: Record<string, OpTally>;
  readonly sockets: SocketVerdict;
}

/** Per operation type: count, throughput, errors by code, p50/p99 ms. */
export function opTable(ops: Record<string, OpTally>, seconds: number) {
  const out: Record<string, unknown> = {};
  for (const [k, t] of Object.entries(ops).sort()) {
    out[k] = {
      n: t.n,
      per_s: round(t.n / seconds),
      errors: t.errors,
      p50_ms: quantile(t, 0.5),
      p99_ms: quantile(t, 0.99),
    };
  }
  return out;
}

export function mergeSockets(all: SocketVerdict[]): SocketVerdict {
  const m: SocketVerdict = {
    sockets: 0,
    subscribed: 0,
    closed: 0,
    first_closes: [],
    silent: 0,
    stalled: 0,
    stalled_open: 0,
    out_of_order: 0,
    errors: {},
    deliveries: 0,
    min_changes_per_socket: Infinity,
    median_changes_per_socket: 0,
  };
  for (const v of all) {
    for (
      const k of ["sockets", "subscribed", "closed", "silent", "stalled", "deliveries"] as const
    ) {
      m[k] += v[k];
    }
    m.out_of_order += v.out_of_order;
    m.first_closes.push(...v.first_closes);
    for (const [k, n] of Object.entries(v.errors)) m.errors[k] = (m.errors[k] ?? 0) + n;
    m.min_changes_per_socket = Math.min(m.min_changes_per_socket, v.min_changes_per_socket);
    m.median_changes_per_socket += v.median_changes_per_socket / all.length;
  }
  m.first_closes = m.first_closes.slice(0, 5);
  if (!all.length) m.min_changes_per_socket = 0;
  m.median_changes_per_socket = Math.round(m.median_changes_per_socket);
  return m;
}

/** One row per tick index (ticks of all workers with that index merged), with the RSS then. */
export function timeline(ticks: Tick[], rss: RssSample[], tickS: number) {
  const byIndex: Tick[][] = [];
  const seen = new Map<number, number>();
  for (const t of ticks) {
    const i = seen.get(t.worker) ?? 0;
    seen.set(t.worker, i + 1);
    (byIndex[i] ??= []).push(t);
  }
  return byIndex.map((group, i) => {
    const sum = emptyTally();
    for (const t of group) for (const op of Object.values(t.ops)) merge(sum, op);
    const tEnd = (i + 1) * tickS;
    const near = rss.filter((s) => s.t_s <= tEnd + 0.01).at(-1);
    return {
      t_s: round(tEnd, 0),
      ops_per_s: round(sum.n / tickS),
      errors: errorCount(sum),
      error_rate: sum.n ? round(errorCount(sum) / sum.n, 4) : 0,
      p50_ms: quantile(sum, 0.5),
      p99_ms: quantile(sum, 0.99),
      deliveries_per_s: round(group.reduce((s, t) => s + t.deliveries, 0) / tickS),
      rss_mb: near?.rss_mb ?? null,
      health_ms: near?.health_ms ?? null,
      worker_lag_ms: Math.max(...group.map((t) => t.lag_max_ms ?? 0)),
    };
  });
}

export function rssFigures(samples: RssSample[], seconds: number) {
  const during = samples.filter((s) => s.t_s >= 0 && s.t_s <= seconds + 1);
  const warm = during.find((s) => s.t_s >= seconds * WARMUP_FRACTION) ?? during[0];
  const end = during.at(-1);
  const start = samples.find((s) => s.t_s >= 0) ?? samples[0];
  return {
    setup_mb: samples[0]?.rss_mb ?? null,
    start_mb: start?.rss_mb ?? null,
    warmup_mb: warm?.rss_mb ?? null,
    warmup_at_s: warm?.t_s ?? null,
    peak_mb: Math.max(...during.map((s) => s.rss_mb)),
    end_mb: end?.rss_mb ?? null,
    end_over_warmup: warm && end ? round(end.rss_mb / warm.rss_mb, 3) : null,
    samples: samples.length,
  };
}

/** The failures of a run; empty = it held. */
export function failures(
  o: {
    ops: Record<string, OpTally>;
    sockets: SocketVerdict;
    rss: ReturnType<typeof rssFigures>;
    rateLimited: boolean;
    serverAlive: boolean;
    flushes: number;
    expectedSockets: number;
  },
): string[] {
  const out: string[] = [];
  for (const [op, t] of Object.entries(o.ops)) {
    for (const [code, n] of Object.entries(t.errors)) {
      if (code === "RATE_LIMITED" && o.rateLimited) continue;
      out.push(`${op}: ${n} × ${code}`);
    }
  }
  const s = o.sockets;
  if (s.subscribed < o.expectedSockets) {
    out.push(`only ${s.subscribed} of ${o.expectedSockets} sockets subscribed`);
  }
  if (s.closed) out.push(`${s.closed} socket(s) closed during the run`);
  if (s.silent) out.push(`${s.silent} socket(s) received no change`);
  if (s.stalled) out.push(`${s.stalled} socket(s) received nothing in the last 25 % of the run`);
  if (s.out_of_order) out.push(`${s.out_of_order} change(s) out of seq order or repeated`);
  for (const [code, n] of Object.entries(s.errors)) out.push(`sockets: ${n} × ${code}`);
  const ratio = o.rss.end_over_warmup;
  if (ratio === null) out.push("no RSS samples");
  else if (ratio > MAX_RSS_RATIO) {
    out.push(`end RSS ${ratio} × the warm-up RSS (> ${MAX_RSS_RATIO})`);
  }
  if (!o.serverAlive) out.push("the server died");
  if (o.flushes < 1) out.push("no flush completed: the cold tier was not exercised");
  return out;
}

/** The human-readable tables. */
export function printTables(
  ops: Record<string, ReturnType<typeof opTable>[string]>,
  tl: ReturnType<typeof timeline>,
  log: (line: string) => void = console.log,
): void {
  const pad = (v: unknown, n: number) => String(v).padStart(n);
  log("operation        count     ops/s   p50 ms   p99 ms  errors");
  for (const [k, v] of Object.entries(ops) as [string, Record<string, unknown>][]) {
    const errs = Object.entries(v.errors as Record<string, number>).map(([c, n]) => `${c}:${n}`);
    log(
      `${k.padEnd(14)}${pad(v.n, 9)}${pad(v.per_s, 10)}${pad(v.p50_ms, 9)}${pad(v.p99_ms, 9)}  ` +
        (errs.join(" ") || "0"),
    );
  }
  log("   t s     ops/s  err rate   p50 ms   p99 ms  deliv/s   RSS MB  health ms  gen lag ms");
  const every = Math.max(1, Math.ceil(tl.length / 24));
  tl.forEach((r, i) => {
    if (i % every !== 0 && i !== tl.length - 1) return;
    log(
      `${pad(r.t_s, 6)}${pad(r.ops_per_s, 10)}${pad(r.error_rate, 10)}${pad(r.p50_ms, 9)}` +
        `${pad(r.p99_ms, 9)}${pad(r.deliveries_per_s, 9)}${pad(r.rss_mb ?? "-", 9)}` +
        `${pad(r.health_ms ?? "-", 11)}${pad(r.worker_lag_ms, 12)}`,
    );
  });
}
