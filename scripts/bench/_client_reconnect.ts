// Client benchmark, part 3: reconnect. Each round, a fresh client holds 100 subscriptions
// (`SELECT id, g, v FROM bench.r WHERE g = i`, 10 rows each) on its one socket; one row is
// written per group (so every subscription has a seq past its snapshot), and once all 100
// changes arrived the round SIGKILLs the server, starts it again on the same data directory and
// port, and times from the moment this process read the new server's "listening" line to the
// 100th `onResumed` (each subscription resubscribed from its last seq and the server acknowledged
// `resumed: true`). The client's backoff decides most of it: it retried while the server was
// down, and its next attempt comes when its current delay (250 ms doubling to 10 s by default,
// half of it random) runs out. Measured with the default `reconnect` options and, for the floor,
// with 20 ms / 100 ms.

import { createClient, type ReconnectOptions } from "../../client/mod.ts";
import { median, rootToken, round, type Server, sql, startServer } from "./_client_kit.ts";

export interface ReconnectRound {
  /** SIGKILL → the restarted server's "listening" line, as this process read it. */
  readonly restart_ms: number;
  /** "listening" → the first and the 100th onResumed. */
  readonly first_ms: number;
  readonly all_ms: number;
  /** Subscriptions that got a fresh snapshot (onReset) instead of resuming. */
  readonly resets: number;
}

export interface ReconnectRun {
  readonly label: string;
  readonly options: ReconnectOptions;
  readonly subscriptions: number;
  readonly rounds: ReconnectRound[];
  readonly median_all_ms: number | null;
  readonly median_restart_ms: number | null;
  readonly error?: string;
}

const SUBS = 100;
const CONFIGS: { label: string; options: ReconnectOptions }[] = [
  { label: "defaults (initialDelayMs 250, maxDelayMs 10,000)", options: {} },
  { label: "initialDelayMs 20, maxDelayMs 100", options: { initialDelayMs: 20, maxDelayMs: 100 } },
];

/** Resolves when `done()` holds, polling every 5 ms; throws after `ms`. */
async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Counters {
  changes: number;
  resumed: number;
  resets: number;
  firstAt: number;
  allAt: number;
  error?: string;
}

/** A client with 100 subscriptions, all ready, counting into `c`. */
async function subscribed(url: string, token: string, options: ReconnectOptions, c: Counters) {
  const db = createClient({ url, auth: { token }, reconnect: options });
  const subs = Array.from(
    { length: SUBS },
    (_, g) =>
      db.subscribe(`SELECT id, g, v FROM bench.r WHERE g = ${g}`, {
        onChange: () => void c.changes++,
        onResumed() {
          if (++c.resumed === 1) c.firstAt = performance.now();
          if (c.resumed === SUBS) c.allAt = performance.now();
        },
        onReset: () => void c.resets++,
        onError: (err) => void (c.error ??= `${err.code}: ${err.message}`),
      }),
  );
  await Promise.all(subs.map((s) => s.ready));
  return db;
}

/**
 * One round: a fresh client (the SDK resets its backoff only once a connection has held for a
 * while, so back-to-back kills on one client would each wait longer), one write per
 * subscription, SIGKILL, restart; `holder.server` becomes the restarted server.
 */
async function round1(
  holder: { server: Server },
  dir: string,
  token: string,
  options: ReconnectOptions,
  idBase: number,
): Promise<ReconnectRound> {
  const c: Counters = { changes: 0, resumed: 0, resets: 0, firstAt: 0, allAt: 0 };
  const db = await subscribed(holder.server.url, token, options, c);
  try {
    const values = Array.from({ length: SUBS }, (_, g) => `(${idBase + g}, ${g}, 'round')`);
    await sql(
      holder.server.url,
      token,
      `INSERT INTO bench.r (id, g, v) VALUES ${values.join(", ")}`,
    );
    await until(() => c.changes === SUBS, 30_000, `${c.changes} of ${SUBS} changes`);
    const killedAt = performance.now();
    await holder.server.kill();
    holder.server = await startServer(dir, holder.server.port);
    const listening = holder.server.listeningAt;
    await until(() => c.allAt > 0 || c.error !== undefined, 60_000, `${c.resumed} resumed`);
    if (c.error) throw new Error(c.error);
    return {
      restart_ms: round(listening - killedAt, 1),
      first_ms: round(c.firstAt - listening, 1),
      all_ms: round(c.allAt - listening, 1),
      resets: c.resets,
    };
  } finally {
    db.close();
  }
}

/** One config's rounds. */
async function rounds(
  holder: { server: Server },
  dir: string,
  token: string,
  config: (typeof CONFIGS)[number],
  count: number,
  idBase: number,
): Promise<ReconnectRun> {
  const out: ReconnectRound[] = [];
  for (let r = 0; r < count; r++) {
    out.push(await round1(holder, dir, token, config.options, idBase + r * SUBS));
  }
  return {
    label: config.label,
    options: config.options,
    subscriptions: SUBS,
    rounds: out,
    median_all_ms: out.length ? round(median(out.map((x) => x.all_ms)), 1) : null,
    median_restart_ms: out.length ? round(median(out.map((x) => x.restart_ms)), 1) : null,
  };
}

/** Starts its own server in `dir`, runs every config, stops the server. */
export async function runReconnectBench(dir: string, scale: number): Promise<ReconnectRun[]> {
  const holder = { server: await startServer(dir) };
  const out: ReconnectRun[] = [];
  try {
    const token = await rootToken(holder.server.url);
    await sql(holder.server.url, token, "CREATE NAMESPACE bench");
    await sql(
      holder.server.url,
      token,
      "CREATE SHARED TABLE bench.r (id BIGINT PRIMARY KEY, g INT, v TEXT)",
    );
    const seedRows = Array.from({ length: SUBS * 10 }, (_, i) => `(${i}, ${i % SUBS}, 'seed')`);
    await sql(
      holder.server.url,
      token,
      `INSERT INTO bench.r (id, g, v) VALUES ${seedRows.join(", ")}`,
    );
    const count = scale < 1 ? 1 : 7;
    let idBase = 1_000_000;
    for (const config of CONFIGS) {
      let run: ReconnectRun;
      try {
        run = await rounds(holder, dir, token, config, count, idBase);
      } catch (err) {
        run = {
          label: config.label,
          options: config.options,
          subscriptions: SUBS,
          rounds: [],
          median_all_ms: null,
          median_restart_ms: null,
          error: String(err instanceof Error ? err.message : err).slice(0, 1500),
        };
      }
      idBase += 1_000_000;
      console.log(
        `    ${config.label}: listening → ${SUBS} resumed, median ${run.median_all_ms} ms ` +
          `(${run.rounds.map((x) => x.all_ms).join(", ")}); restart ${run.median_restart_ms} ms` +
          (run.error ? `; error: ${run.error.split("\n")[0]}` : ""),
      );
      out.push(run);
    }
  } finally {
    await holder.server.stop();
  }
  return out;
}
