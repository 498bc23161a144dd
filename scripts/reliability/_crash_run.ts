// One crash run (issue 15, item 1): a real server on its own data dir, live subscribers on every
// scope, a seed of rows that is flushed before the load starts, then concurrent writers while
// the server is SIGKILLed at seeded-random moments and restarted on the same dir. The last kill
// comes after the writers stopped; then the checks of _crash_check.ts run twice: on the state
// the crash left (buffer and segments mixed) and after a final flush emptied the buffer.

import { Cluster, rowsOf, type ServerProcess } from "./_crash_server.ts";
import { Model, rng, type Scope } from "./_crash_model.ts";
import { runWriter } from "./_crash_writers.ts";
import { TOPIC_DDL, TopicConsumers, type TopicTally } from "./_crash_topics.ts";
import { bounded, Subscriber } from "./_crash_live.ts";
import {
  caughtUp,
  checkManifests,
  checkModel,
  checkSubscribers,
  emptyTally,
  readState,
  type Tally,
} from "./_crash_check.ts";

export interface Profile {
  readonly name: string;
  /** SIGKILLs in all, the last one after the writers stopped. */
  readonly kills: number;
  /** How long the server runs under load before a kill: uniform in [min, max] ms. */
  readonly uptimeMs: readonly [number, number];
  readonly users: number;
  /** Concurrent writers per scope (each on its own lane of keys). */
  readonly writersPerScope: number;
  /** Rows per scope written and flushed before the load. */
  readonly seedRows: number;
  /** The tables' FLUSH_POLICY rows threshold. */
  readonly flushRows: number;
  /** The whole run's budget; kills stop early when it runs out (the report says so). */
  readonly budgetMs: number;
}

export const PROFILES: Record<"short" | "long", Profile> = {
  short: {
    name: "short",
    kills: 5,
    uptimeMs: [1_200, 3_500],
    users: 2,
    writersPerScope: 2,
    seedRows: 150,
    flushRows: 120,
    budgetMs: 75_000,
  },
  long: {
    name: "long",
    kills: 24,
    uptimeMs: [2_000, 12_000],
    users: 3,
    writersPerScope: 3,
    seedRows: 400,
    flushRows: 300,
    budgetMs: 540_000,
  },
};

export interface Report {
  readonly seed: number;
  readonly profile: string;
  readonly kills: number;
  readonly tally: Tally;
  /** The topic sourced by both tables: outbox and consumer checks (_crash_topics.ts). */
  readonly topic: TopicTally;
  readonly ok: boolean;
  readonly summary: string;
  readonly stats: Record<string, number>;
  readonly dataDir: string;
}

const PASSWORD = "crash-pw";

/** Runs a profile with `seed`; never throws for a failed check (see `ok`), only for a broken run. */
export async function runCrash(
  profile: Profile,
  seed: number,
  log: (line: string) => void = console.log,
): Promise<Report> {
  const started = performance.now();
  const dataDir = await Deno.makeTempDir({ prefix: "kalamdb-crash-" });
  const run: Run = {
    profile,
    rand: rng(seed),
    cluster: new Cluster(dataDir),
    model: new Model(),
    subs: [],
    consumers: undefined,
    stopWriters: false,
    left: () => profile.budgetMs - (performance.now() - started),
    log,
  };
  try {
    await load(run);
    const { tally, buffered } = await verify(run);
    // Consumers drain the topic on the restarted server, then their messages meet the model.
    await run.consumers!.drain(60_000);
    const topic = await run.consumers!.check(run.model);
    for (const s of run.subs) await s.stop();
    const exit = await run.cluster.stop();
    if (exit !== 0) tally.problems.push(`graceful stop exited ${exit}`);
    tally.problems.push(...run.model.anomalies);
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    const stats = statsOf(run, buffered, seconds);
    const bad = tally.lost + tally.stale + tally.resurrected + tally.duplicates + tally.phantom +
      tally.halfApplied + tally.countMismatch + tally.manifestProblems + tally.missed +
      tally.dupChanges + tally.ghost + tally.viewMismatch + run.model.anomalies.length +
      topic.outboxLost + topic.outboxDup + topic.outboxPhantom + topic.outboxHalf +
      topic.notProcessed + topic.afterAck + (exit === 0 ? 0 : 1);
    tally.problems.push(...topic.problems);
    const summary = `${summaryOf(run.cluster.kills, tally, stats)}; ${topicSummary(topic)} ` +
      `(seed ${seed}, ${profile.name})`;
    const kills = run.cluster.kills;
    return {
      seed,
      profile: profile.name,
      kills,
      tally,
      topic,
      ok: bad === 0,
      summary,
      stats,
      dataDir,
    };
  } finally {
    run.stopWriters = true;
    for (const s of run.subs) await s.stop().catch(() => {});
    await run.consumers?.drain(0).catch(() => {});
    await run.cluster.kill().catch(() => {});
  }
}

/** Everything one run shares between its phases. */
interface Run {
  readonly profile: Profile;
  readonly rand: () => number;
  readonly cluster: Cluster;
  readonly model: Model;
  readonly subs: Subscriber[];
  consumers: TopicConsumers | undefined;
  stopWriters: boolean;
  readonly left: () => number;
  readonly log: (line: string) => void;
}

/** Setup, subscribers, the flushed seed, then writers while the server is killed and restarted. */
async function load(run: Run): Promise<void> {
  const { profile, cluster, model, rand, log } = run;
  await setup(await cluster.start(), profile, model);
  // Two consumers of one group, from before the seed: every write's message is theirs.
  run.consumers = new TopicConsumers(cluster, model.scopes.at(-1)!.auth);
  run.consumers.start(2);
  for (const s of model.scopes) {
    const sub = new Subscriber(s, s.auth);
    run.subs.push(sub);
    await sub.start(cluster);
  }
  await seedAndFlush(cluster, model, profile, rand);
  log(`  seeded ${model.ackedRows} rows and flushed them; load starts`);
  const writers: Promise<number>[] = [];
  for (const s of model.scopes) {
    for (let lane = 0; lane < profile.writersPerScope; lane++) {
      writers.push(runWriter(cluster, model, {
        scope: s,
        lane: lane + 1, // lane 0 is the seed's
        lanes: profile.writersPerScope + 1,
        rand: rng(Math.floor(rand() * 2 ** 32)),
        stopped: () => run.stopWriters,
      }));
    }
  }
  for (let i = 1; i < profile.kills; i++) {
    const [lo, hi] = profile.uptimeMs;
    // The random moment: a kill schedule is a wait by design (what it waits for is time).
    await new Promise((r) => setTimeout(r, lo + rand() * (hi - lo)));
    await cluster.kill();
    await cluster.start();
    log(
      `  SIGKILL ${cluster.kills}: ${model.acked} writes acknowledged, ${model.unknown.length} in doubt`,
    );
    if (run.left() < 40_000) {
      log(`  budget nearly spent: stopping after ${cluster.kills} kills`);
      break;
    }
  }
  run.stopWriters = true;
  await bounded(Promise.all(writers), 60_000, "writers finish");
  // The last kill: the final state is the one a crash leaves.
  await cluster.kill();
  await cluster.start();
}

/** The checks on the state the last crash left, then again after a flush emptied the buffer. */
async function verify(run: Run): Promise<{ tally: Tally; buffered: number }> {
  const { cluster, model, subs } = run;
  const tally = emptyTally();
  await waitCaughtUp(cluster, model, subs);
  const mixed = await readState(cluster, model, tally);
  const applied = checkModel(model, mixed, tally);
  checkSubscribers(model, subs, mixed, applied, tally);
  await checkManifests(cluster.dataDir, model.scopes, tally);
  // Flush everything: the segments alone must then hold exactly what SQL returns.
  await flushAndWait(await cluster.ready(), model);
  const flushed = await readState(cluster, model, tally);
  const second = emptyTally();
  checkModel(model, flushed, second);
  for (const k of ["lost", "stale", "resurrected", "phantom", "halfApplied"] as const) {
    tally[k] += second[k];
  }
  tally.problems.push(...second.problems);
  const cold = await checkManifests(cluster.dataDir, model.scopes, tally);
  const buffered = await bufferedRows(await cluster.ready(), model);
  for (const s of model.scopes) {
    const c = cold.get(s.name) ?? new Map();
    const f = flushed.get(s.name)!;
    const same = c.size === f.size && [...f].every(([k, v]) => c.get(k) === v);
    if (buffered === 0 && !same) {
      tally.manifestProblems++;
      tally.problems.push(`manifest: ${s.name} segments hold ${c.size} live rows, SQL ${f.size}`);
    }
  }
  return { tally, buffered };
}

function statsOf(run: Run, buffered: number, seconds: number): Record<string, number> {
  const { model, subs, cluster } = run;
  const sum = (f: (s: Subscriber) => number) => subs.reduce((n, s) => n + f(s), 0);
  return {
    seconds,
    acked: model.acked,
    ackedRows: model.ackedRows,
    unknown: model.unknown.length,
    errors: model.errors,
    changes: sum((s) => s.changes),
    resumes: sum((s) => s.resumes),
    resets: sum((s) => s.resets),
    overflows: sum((s) => s.overflows),
    buffered,
    restartMs: Math.round(cluster.restartMs / Math.max(1, cluster.restarts)),
  };
}

function summaryOf(kills: number, t: Tally, s: Record<string, number>): string {
  return `${kills} SIGKILLs, lost: ${t.lost}, duplicates: ${t.duplicates}, ` +
    `stale: ${t.stale}, resurrected: ${t.resurrected}, half-applied: ${t.halfApplied}, ` +
    `phantom: ${t.phantom}, count mismatches: ${t.countMismatch}, ` +
    `manifest problems: ${t.manifestProblems} (${t.segments} segments checked, ` +
    `${t.orphans} unlisted files), changes missed: ${t.missed}, ` +
    `duplicate changes: ${t.dupChanges}, ghost changes: ${t.ghost}, ` +
    `view mismatches: ${t.viewMismatch}; ${s.acked} writes acknowledged ` +
    `(${s.ackedRows} rows), ${s.unknown} in doubt (${t.unknownApplied} applied, ` +
    `${t.unknownAbsent} absent), ${s.errors} error answers, ${s.changes} changes ` +
    `delivered, ${s.resumes} resumes, ${s.resets} resets, ${s.overflows} overflows, ` +
    `restart ${s.restartMs} ms avg, ${s.seconds} s`;
}

function topicSummary(t: TopicTally): string {
  return `topic: ${t.messages} messages, lost: ${t.outboxLost}, duplicates: ${t.outboxDup}, ` +
    `phantom: ${t.outboxPhantom}, half-published: ${t.outboxHalf}, not processed: ` +
    `${t.notProcessed}, ${t.redeliveries} redelivered (after a confirmed ack: ${t.afterAck})`;
}

/** Namespace, tables (flush policy of the profile), users and their tokens, one scope each. */
async function setup(server: ServerProcess, p: Profile, model: Model): Promise<void> {
  const root = await server.token("root", "");
  const policy = `rows:${p.flushRows},interval:5`;
  const users = Array.from({ length: p.users }, (_, i) => `u${i + 1}`);
  const ddl = [
    "CREATE NAMESPACE rel",
    `CREATE USER TABLE rel.kv (k BIGINT PRIMARY KEY, v BIGINT NOT NULL) WITH (FLUSH_POLICY = '${policy}')`,
    `CREATE SHARED TABLE rel.shared (k BIGINT PRIMARY KEY, v BIGINT NOT NULL) WITH (FLUSH_POLICY = '${policy}')`,
    ...TOPIC_DDL,
    ...users.map((u) => `CREATE USER ${u} WITH PASSWORD '${PASSWORD}' ROLE user`),
  ];
  rowsOf(await server.sql(ddl.join(";\n"), root, 60_000), "setup");
  for (const u of users) model.scope(u, "rel.kv", u, await server.token(u, PASSWORD));
  model.scope("shared", "rel.shared", "", root);
}

/** Lane 0 of every scope: `seedRows` rows in batches, acknowledged, then flushed. */
async function seedAndFlush(cluster: Cluster, model: Model, p: Profile, rand: () => number) {
  const server = await cluster.ready();
  for (const s of model.scopes) {
    for (let done = 0; done < p.seedRows;) {
      const n = Math.min(50, p.seedRows - done);
      const rows = Array.from({ length: n }, (_, i) => {
        const k = 1 + (done + i) * (p.writersPerScope + 1);
        return { k, before: null, after: model.value(k) };
      });
      const values = rows.map((r) => `(${r.k}, ${r.after})`).join(", ");
      rowsOf(await server.sql(`INSERT INTO ${s.table} (k, v) VALUES ${values}`, s.auth), "seed");
      model.ack(s, rows);
      done += n;
    }
    // Some of the seed updated and deleted too, so flushed rows carry history.
    const ks = [...s.keys.keys()].filter(() => rand() < 0.1);
    for (const k of ks) {
      const v = model.value(k);
      rowsOf(await server.sql(`UPDATE ${s.table} SET v = ${v} WHERE k = ${k}`, s.auth), "seed");
      model.ack(s, [{ k, before: null, after: v }]);
    }
  }
  await flushAndWait(server, model);
}

/** FLUSH TABLE on both tables, then waits (bounded) until no flush job is pending. */
async function flushAndWait(server: ServerProcess, model: Model): Promise<void> {
  const root = model.scopes.at(-1)!.auth;
  rowsOf(await server.sql("FLUSH TABLE rel.kv; FLUSH TABLE rel.shared", root), "flush");
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pending = rowsOf(
      await server.sql(
        "SELECT COUNT(*) FROM system.jobs WHERE job_type = 'flush' AND status IN ('new', 'queued', 'running', 'retrying')",
        root,
      ),
      "jobs",
    );
    if (Number(pending[0][0]) === 0) return;
    if (Date.now() > deadline) throw new Error(`flush jobs still pending after 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Buffered rows over every scope (SHOW STATS), 0 once a flush emptied the buffer. */
async function bufferedRows(server: ServerProcess, model: Model): Promise<number> {
  const root = model.scopes.at(-1)!.auth;
  let n = 0;
  for (const t of ["rel.kv", "rel.shared"]) {
    const rows = rowsOf(await server.sql(`SHOW STATS FOR TABLE ${t}`, root), "stats");
    for (const [metric, value] of rows) {
      if (metric === "buffered_rows" || metric === "buffered_deleted_rows") n += Number(value);
    }
  }
  return n;
}

/** Waits (bounded) until every subscriber's view equals the table after the last restart. */
async function waitCaughtUp(cluster: Cluster, model: Model, subs: Subscriber[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const state = await readState(cluster, model, emptyTally(), false);
    if (caughtUp(subs, state)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  // Not caught up: the checks will report the mismatch.
}

export type { Scope };
