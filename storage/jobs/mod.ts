// The jobs room: the durable job queue (`jobs` table, its one owner) and its runner — one job at
// a time, retried with backoff, resumed after a restart. Job types register their work here;
// the work itself lives with what it touches (flush and compaction in cold/, eviction in hot/).

export { JobRunner } from "./runner.ts";
export type {
  Job,
  JobOutcome,
  JobRow,
  JobSpec,
  JobStatus,
  JobTypeOptions,
  JobWork,
} from "./runner.ts";
