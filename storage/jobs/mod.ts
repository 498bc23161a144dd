export { JobRunner } from "./runner.ts";
export type { Job, JobOutcome, JobWork } from "./runner.ts";
