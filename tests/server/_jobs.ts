// Waiting for a test server's background jobs: polls system.jobs (each poll awaits the previous
// answer, 10 ms apart) until none is pending, bounded by a deadline, never by a count.

import type { TestServer } from "./_server.ts";
import { rows } from "./_server.ts";
import { until } from "../_util.ts";

const PENDING = "SELECT COUNT(*) FROM system.jobs WHERE status IN ('new', 'queued', 'running', " +
  "'retrying')";

/** Resolves once no job is pending; throws after `timeoutMs`. */
export async function untilJobsIdle(server: TestServer, timeoutMs = 30_000): Promise<void> {
  await until(
    async () => Number(rows(await server.root(PENDING))[0][0]) === 0,
    "background jobs idle",
    timeoutMs,
  );
}
