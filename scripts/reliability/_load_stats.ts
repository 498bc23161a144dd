// Latency and error tallies of the load test (load.ts), built to be merged across processes: each
// worker keeps one `OpTally` per operation type, and the parent adds them up. Latencies go into a
// log-scale histogram (16 buckets per doubling of µs, ±2.2 % per bucket) instead of raw samples,
// so a 10-minute run sends kilobytes, not a million numbers, and percentiles still merge exactly.

/** Buckets per doubling of the latency in µs. */
const PER_OCTAVE = 16;

/** The bucket of a latency in ms. */
export function bucketOf(ms: number): number {
  return Math.max(0, Math.floor(Math.log2(ms * 1000 + 1) * PER_OCTAVE));
}

/** The latency (ms) a bucket stands for: the middle of its range. */
export function bucketMs(bucket: number): number {
  return (2 ** ((bucket + 0.5) / PER_OCTAVE) - 1) / 1000;
}

/** One operation type's counts: requests, errors by code, latency histogram (bucket → count). */
export interface OpTally {
  n: number;
  errors: Record<string, number>;
  hist: Record<string, number>;
}

export function emptyTally(): OpTally {
  return { n: 0, errors: {}, hist: {} };
}

/** Records one finished request (`code` set when it failed). */
export function record(t: OpTally, ms: number, code?: string): void {
  t.n++;
  const b = bucketOf(ms);
  t.hist[b] = (t.hist[b] ?? 0) + 1;
  if (code !== undefined) t.errors[code] = (t.errors[code] ?? 0) + 1;
}

/** Adds `from` into `into`. */
export function merge(into: OpTally, from: OpTally): OpTally {
  into.n += from.n;
  for (const [k, v] of Object.entries(from.errors)) into.errors[k] = (into.errors[k] ?? 0) + v;
  for (const [k, v] of Object.entries(from.hist)) into.hist[k] = (into.hist[k] ?? 0) + v;
  return into;
}

/** The latency (ms) at quantile `q` (0..1), 0 for an empty tally. */
export function quantile(t: OpTally, q: number): number {
  const entries = Object.entries(t.hist).map(([k, v]) => [Number(k), v]).sort((a, b) =>
    a[0] - b[0]
  );
  const total = entries.reduce((s, [, v]) => s + v, 0);
  if (total === 0) return 0;
  const rank = Math.ceil(total * q);
  let seen = 0;
  for (const [b, v] of entries) {
    seen += v;
    if (seen >= rank) return round(bucketMs(b), 2);
  }
  return round(bucketMs(entries.at(-1)![0]), 2);
}

export function errorCount(t: OpTally): number {
  return Object.values(t.errors).reduce((s, v) => s + v, 0);
}

/** Merges per-type tallies: `{type: tally}` maps summed by type. */
export function mergeByType(
  into: Record<string, OpTally>,
  from: Record<string, OpTally>,
): Record<string, OpTally> {
  for (const [k, v] of Object.entries(from)) merge(into[k] ??= emptyTally(), v);
  return into;
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
