// The live subscribers' latency statistics (_live_subscribers.ts): from every delivery's latency
// and sent time, leaves out the warm-up's writes and gives the percentiles, mean and a
// per-second timeline of what remains; `Recording` holds those arrays as deliveries arrive.

/** Rounds to 3 decimals (µs precision in ms). */
export function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** The q-quantile of a sorted array, rounded; null when it is empty. */
export const pct = (a: Float32Array, q: number) =>
  a.length === 0 ? null : round(a[Math.min(a.length - 1, Math.floor(q * a.length))]);

/**
 * Statistics over the first `n` deliveries: `latency` ms and `sentRel` (sent time, s after
 * ready); deliveries of writes sent in the first `warmupMs` after the first write are left out.
 */
export function latencyStats(
  latency: Float32Array,
  sentRel: Float32Array,
  n: number,
  warmupMs: number,
) {
  // Deliveries of writes sent in the first warmupMs after the first write are not measured.
  let first = Infinity;
  for (let i = 0; i < n; i++) if (sentRel[i] < first) first = sentRel[i];
  const cut = first + warmupMs / 1000;
  let m = 0;
  for (let i = 0; i < n; i++) if (sentRel[i] >= cut) m++;
  const measured = new Float32Array(m);
  const buckets = new Map<number, number[]>();
  for (let i = 0, k = 0; i < n; i++) {
    if (sentRel[i] < cut) continue;
    measured[k++] = latency[i];
    // Per second of sent time after the warm-up: how latency moved through the run.
    const sec = Math.min(600, Math.floor(sentRel[i] - cut));
    let a = buckets.get(sec);
    if (!a) buckets.set(sec, a = []);
    a.push(latency[i]);
  }
  const sorted = measured.sort();
  let sum = 0;
  for (let i = 0; i < m; i++) sum += sorted[i];
  const timeline = [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([second, v]) => {
    const s = Float32Array.from(v).sort();
    return { second, deliveries: s.length, p50_ms: pct(s, 0.5), p99_ms: pct(s, 0.99) };
  });
  return {
    measured: m,
    p50_ms: pct(sorted, 0.5),
    p90_ms: pct(sorted, 0.9),
    p99_ms: pct(sorted, 0.99),
    p999_ms: pct(sorted, 0.999),
    max_ms: m ? round(sorted[m - 1]) : null,
    min_ms: m ? round(sorted[0]) : null,
    mean_ms: m ? round(sum / m) : null,
    timeline,
  };
}

/** Every delivery's latency (ms) and sent time (s after `readyAt`), in growing typed arrays. */
export class Recording {
  latency = new Float32Array(1 << 20);
  /** Sent time of each delivery, seconds after `readyAt` (for the per-second timeline). */
  sentRel = new Float32Array(1 << 20);
  count = 0;
  readyAt = 0;
  lastDeliveryAt = 0;

  record(sentUs: number, now: number): void {
    if (this.count === this.latency.length) {
      const grow = (a: Float32Array) => {
        const b = new Float32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.latency = grow(this.latency);
      this.sentRel = grow(this.sentRel);
    }
    const sentMs = sentUs / 1000;
    this.latency[this.count] = now - sentMs;
    this.sentRel[this.count] = (sentMs - this.readyAt) / 1000;
    this.count++;
  }
}
