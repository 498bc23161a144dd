// The export benchmark's RSS sampler (a Worker of export.ts, see _export_kit.ts): reads
// /proc/<pid>/status VmRSS every `intervalMs` on its own thread, so a busy bench main thread
// (parsing a large JSON answer) never stretches the gaps. Bounded: it stops on "stop" or at its
// deadline, whichever comes first, and answers with the peak and the largest gap seen.

interface Start {
  readonly type: "start";
  readonly pid: number;
  readonly intervalMs: number;
  /** Date.now() after which it samples no more (it still answers "stop"). */
  readonly deadline: number;
}

/** What the sampler answers to "stop". */
export interface RssSamples {
  readonly peakKb: number;
  /** Peaks of the anonymous (heap) and file-backed parts, each on its own. */
  readonly anonPeakKb: number;
  readonly filePeakKb: number;
  readonly samples: number;
  readonly maxGapMs: number;
  readonly deadlineHit: boolean;
  readonly error: string | null;
}

const self = globalThis as unknown as {
  onmessage: ((e: MessageEvent<Start | { type: "stop" }>) => void) | null;
  postMessage(message: RssSamples): void;
};

/** VmRSS, RssAnon and RssFile of `pid` in KiB, or null when they cannot be read. */
function rssKb(pid: number): [number, number, number] | null {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(text)?.[1]);
    const all = [kb("VmRSS"), kb("RssAnon"), kb("RssFile")] as [number, number, number];
    return all.some(Number.isNaN) ? null : all;
  } catch {
    return null;
  }
}

let peakKb = 0, anonPeakKb = 0, filePeakKb = 0;
let samples = 0, maxGapMs = 0, last = 0, deadlineHit = false;
let error: string | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;

function tick(s: Start): void {
  const t = performance.now();
  if (last) maxGapMs = Math.max(maxGapMs, t - last);
  last = t;
  const kb = rssKb(s.pid);
  if (kb === null) error ??= `cannot read /proc/${s.pid}/status`;
  else {
    peakKb = Math.max(peakKb, kb[0]);
    anonPeakKb = Math.max(anonPeakKb, kb[1]);
    filePeakKb = Math.max(filePeakKb, kb[2]);
    samples++;
  }
  if (Date.now() >= s.deadline) {
    deadlineHit = true;
    return;
  }
  timer = setTimeout(() => tick(s), s.intervalMs);
}

self.onmessage = (e) => {
  if (e.data.type === "start") tick(e.data);
  else {
    clearTimeout(timer);
    self.postMessage({ peakKb, anonPeakKb, filePeakKb, samples, maxGapMs, deadlineHit, error });
  }
};
