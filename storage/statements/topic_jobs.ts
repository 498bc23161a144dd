// The topics' background jobs: `trim-topics` (retention: expired messages, and those every
// group has acked, in SQLite and in segments) and `offload-topics` (old messages leave SQLite
// for Parquet segments per partition, as table rows leave the buffer; a consumer far behind
// reads them back). Both run about once a minute (maintenance.ts) in bounded steps, each its
// own short write, so a large backlog never holds the writer long.

import type { StoreParts } from "./context.ts";
import type { TopicInfo } from "../topics/mod.ts";

/** Messages younger than this stay in SQLite (most consumers read them from there). */
const HOT_MS = 60_000;
/** A partition offloads once it holds at least this many old messages… */
const MIN_SEGMENT_ROWS = 10_000;
/** …and writes at most this many into one segment. */
const MAX_SEGMENT_ROWS = 100_000;
const TRIM_STEP = 5000;

/** Trims one topic: messages past the retention, and those every group has acked. */
export function trimTopic(e: StoreParts, t: TopicInfo, now: number, max: number): number {
  let n = 0;
  const before = now - t.retentionS * 1000;
  for (let p = 0; p < t.partitions && n < max; p++) {
    // Without any group, nothing is acked by all: only the retention trims.
    const below = e.topics.groups.floor(t.id, p) ?? 0;
    n += e.topics.log.trim(t.id, p, below, before, max - n);
    e.topics.deleteAfterCommit(e.topics.segments.trim(t.id, p, below, before));
  }
  return n;
}

/**
 * Moves one partition's old messages into a segment: read (committed), written to a file, then
 * listed and deleted from SQLite in one write — unless some of them went meanwhile (a trim, a
 * DROP USER, a CLEAR): then the file is dropped and the next run tries again.
 */
async function offloadPartition(
  e: StoreParts,
  t: TopicInfo,
  p: number,
  hotMs: number,
  minRows: number,
): Promise<number> {
  const old = e.topics.log.oldMessages(t.id, p, Date.now() - hotMs, MAX_SEGMENT_ROWS);
  if (old.length === 0 || old.length < minRows) return 0;
  const ref = await e.topics.segments.write(t.id, p, old);
  const moved = await e.group.run(() => {
    if (!e.topics.catalog.byId(t.id)) return 0;
    const n = e.topics.log.moveOut(t.id, p, ref.first, ref.last);
    if (n !== old.length) throw new Error("changed meanwhile");
    e.topics.segments.record(ref);
    return n;
  }, true).catch(() => 0);
  if (moved === 0) await e.topics.segments.deleteFiles([ref.path]);
  return moved;
}

export function registerTopicJobs(e: StoreParts): void {
  e.jobs.register("trim-topics", async () => {
    let n = 0;
    for (const id of e.topics.catalog.ids()) {
      while (true) {
        const step = await e.group.run(() => {
          const t = e.topics.catalog.byId(id);
          return t ? trimTopic(e, t, Date.now(), TRIM_STEP) : 0;
        }, true);
        n += step;
        if (step < TRIM_STEP) break;
      }
    }
    if (n === 0) return { message: "Topics within their retention", skipped: true };
    return { message: `Trimmed ${n} topic message(s)` };
  });
  e.jobs.register("offload-topics", async (job) => {
    // Parameters for tests and operators: how old, and how many at least.
    const hotMs = Number(job.parameters?.hot_ms ?? HOT_MS);
    const minRows = Number(job.parameters?.min_rows ?? MIN_SEGMENT_ROWS);
    let n = 0;
    let segments = 0;
    for (const id of e.topics.catalog.ids()) {
      const t = e.topics.catalog.byId(id);
      for (let p = 0; t && p < t.partitions; p++) {
        const moved = await offloadPartition(e, t, p, hotMs, minRows);
        if (moved > 0) segments++;
        n += moved;
      }
    }
    if (n === 0) return { message: "No topic messages old enough to offload", skipped: true };
    return { message: `Moved ${n} topic message(s) into ${segments} segment(s)` };
  });
}
