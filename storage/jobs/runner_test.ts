// The job runner over a real SQLite store: completion with took_ms, idempotency per (type,
// table), retries with backoff, KILL JOB on a running job, and resume after a crash.

import { assert, assertEquals, withTempDir } from "../../tests/_util.ts";
import type { DbError } from "../../errors.ts";
import { GroupCommit, SqliteStore } from "../hot/mod.ts";
import { JobRunner } from "./runner.ts";

function open(dir: string, backoffMs = 1) {
  const store = new SqliteStore(`${dir}/k.sqlite`, "normal");
  const group = new GroupCommit(store.connection, { rollback: () => {} });
  return { store, runner: new JobRunner(store, group, { backoffMs, maxRetries: 2 }) };
}

function jobRow(store: SqliteStore, id: string) {
  const r = store.reader(
    "SELECT status, message, retry_count, took_ms, started_at, finished_at FROM jobs WHERE job_id = ?",
  ).get(id)!;
  return {
    status: r[0],
    message: r[1],
    retries: Number(r[2]),
    tookMs: r[3] === null ? null : Number(r[3]),
    started: r[4] !== null,
    finished: r[5] !== null,
  };
}

Deno.test("jobs: a job completes with its message and took_ms > 0", async () => {
  await withTempDir(async (dir) => {
    const { store, runner } = open(dir);
    runner.register("flush", async (job) => {
      await Promise.resolve();
      return { message: `flushed ${job.namespace}.${job.table}` };
    });
    const id = await runner.submit({ type: "flush", namespace: "app", table: "t" });
    await runner.idle();
    const row = jobRow(store, id);
    assertEquals([row.status, row.message, row.started, row.finished], [
      "completed",
      "flushed app.t",
      true,
      true,
    ]);
    assert(row.tookMs !== null && row.tookMs > 0, `took_ms ${row.tookMs}`);
    store.close();
  });
});

Deno.test("jobs: one active job per (type, table); others get their own", async () => {
  await withTempDir(async (dir) => {
    const { store, runner } = open(dir);
    const gate = Promise.withResolvers<void>();
    let runs = 0;
    runner.register("flush", async () => {
      runs++;
      await gate.promise;
      return { message: "ok" };
    });
    const a = await runner.submit({ type: "flush", namespace: "app", table: "t" });
    const b = await runner.submit({ type: "flush", namespace: "app", table: "t" });
    const c = await runner.submit({ type: "flush", namespace: "app", table: "u" });
    assertEquals(a, b);
    assert(a !== c);
    gate.resolve();
    await runner.idle();
    assertEquals(runs, 2);
    const d = await runner.submit({ type: "flush", namespace: "app", table: "t" });
    assert(d !== a, "a finished job does not absorb new submissions");
    await runner.idle();
    store.close();
  });
});

Deno.test("jobs: failures retry with backoff, then fail for good", async () => {
  await withTempDir(async (dir) => {
    const { store, runner } = open(dir);
    let attempts = 0;
    runner.register("flaky", () => {
      attempts++;
      return attempts < 3 ? Promise.reject(new Error(`boom ${attempts}`)) : Promise.resolve({
        message: "third time lucky",
      });
    });
    runner.register("broken", () => Promise.reject(new Error("always")));
    const flaky = await runner.submit({ type: "flaky", table: "x" });
    const broken = await runner.submit({ type: "broken", table: "y" });
    await runner.idle();
    const f = jobRow(store, flaky);
    assertEquals([f.status, f.message, f.retries], ["completed", "third time lucky", 2]);
    const b = jobRow(store, broken);
    assertEquals([b.status, b.message, b.retries], ["failed", "always", 2]);
    store.close();
  });
});

Deno.test("jobs: an error the type marks retryAlways does not use up the retries", async () => {
  await withTempDir(async (dir) => {
    const { store, runner } = open(dir);
    const outage = (err: unknown) => (err as Error).message.startsWith("storage down");
    let attempts = 0;
    runner.register("flush", () => {
      attempts++;
      if (attempts <= 6) return Promise.reject(new Error(`storage down ${attempts}`));
      return Promise.resolve({ message: "flushed after the outage" });
    }, { retryAlways: outage });
    // Another kind of failure still fails after maxRetries (2), even for the same type.
    runner.register("compact", () => Promise.reject(new Error("corrupt segment")), {
      retryAlways: outage,
    });
    const flush = await runner.submit({ type: "flush", table: "x" });
    const compact = await runner.submit({ type: "compact", table: "x" });
    await runner.idle();
    const f = jobRow(store, flush);
    assertEquals([f.status, f.message, f.retries], ["completed", "flushed after the outage", 6]);
    const c = jobRow(store, compact);
    assertEquals([c.status, c.message, c.retries], ["failed", "corrupt segment", 2]);
    store.close();
  });
});

Deno.test("jobs: KILL JOB aborts a running job; finished jobs are INVALID_PARAMETER, unknown ids NOT_FOUND", async () => {
  await withTempDir(async (dir) => {
    const { store, runner } = open(dir);
    const started = Promise.withResolvers<void>();
    runner.register("slow", (_job, signal) => {
      started.resolve();
      return new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason))
      );
    });
    const id = await runner.submit({ type: "slow", table: "t" });
    await started.promise;
    assertEquals(await runner.kill(id), `Job ${id} cancelled`);
    await runner.idle();
    assertEquals(jobRow(store, id).status, "cancelled");
    // A finished job cannot be killed again: a 4xx, not a success that did nothing.
    let again: DbError | undefined;
    await runner.kill(id).catch((e) => again = e);
    assertEquals([again?.code, again?.message], [
      "INVALID_PARAMETER",
      `Job ${id} is already cancelled: only a waiting or running job can be killed`,
    ]);
    let code = "";
    await runner.kill("nope").catch((e) => code = e.code);
    assertEquals(code, "NOT_FOUND");
    store.close();
  });
});

Deno.test("jobs: a job left running by a crash runs again at the next open", async () => {
  await withTempDir(async (dir) => {
    const first = open(dir);
    const started = Promise.withResolvers<void>();
    first.runner.register("flush", () => {
      started.resolve();
      return new Promise(() => {}); // never finishes: the process "dies" here
    });
    const id = await first.runner.submit({ type: "flush", namespace: "app", table: "t" });
    await started.promise;
    assertEquals(jobRow(first.store, id).status, "running");
    first.store.close();

    const second = open(dir);
    let ran = "";
    second.runner.register("flush", (job) => {
      ran = job.id;
      return Promise.resolve({ message: "done after restart" });
    });
    second.runner.resume();
    await second.runner.idle();
    assertEquals(ran, id);
    assertEquals(jobRow(second.store, id).status, "completed");
    second.store.close();
  });
});

Deno.test("jobs: a job in its own lane runs beside the main lane's, which go on meanwhile", async () => {
  await withTempDir(async (dir) => {
    const { store, runner } = open(dir);
    const release = Promise.withResolvers<void>();
    const started = Promise.withResolvers<void>();
    runner.register("export", async () => {
      started.resolve();
      await release.promise;
      return { message: "exported" };
    }, { lane: "export" });
    runner.register("flush", () => Promise.resolve({ message: "flushed" }));
    const slow = await runner.submit({ type: "export", table: "a" });
    await started.promise;
    const flushes = [
      await runner.submit({ type: "flush", table: "t1" }),
      await runner.submit({ type: "flush", table: "t2" }),
    ];
    // Both flushes finish while the export still runs (the main lane's one slot is free).
    const deadline = Date.now() + 30_000;
    while (flushes.some((id) => jobRow(store, id).status !== "completed")) {
      assert(Date.now() < deadline, "the flushes did not run beside the export");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assertEquals(jobRow(store, slow).status, "running");
    // A second job of the export lane waits for the first: one slot per lane.
    const second = await runner.submit({ type: "export", table: "b" });
    assertEquals(jobRow(store, second).status, "queued");
    release.resolve();
    await runner.idle();
    assertEquals([jobRow(store, slow).status, jobRow(store, second).status], [
      "completed",
      "completed",
    ]);
    store.close();
  });
});
