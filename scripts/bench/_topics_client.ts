// The topics benchmark's client process (started by topics.ts, one per run): publishers and
// consumers of one queue in one process, over loopback. Prints one JSON line.
//
//   deno run --no-lock -A scripts/bench/_topics_client.ts --system=kalamdb|redis|nats --port=P
//     --name=<fresh topic/stream name> --mode=throughput|latency [--server-pid=PID]
//     throughput [--n=20000 --publishers=8 --consumers=1,4,16 --keys=1000]: N messages (keys
//       k0…k999; --keys=0: no key, so KalamDB-TS keeps no per-key order, as Redis and NATS)
//       published by P sequential publishers (published/s), then for each C a fresh group of C
//       consumers consumes + acks (batches of 100) until all N are acked: acked/s = N / (first
//       consume → last ack answered). Each group reads the same N messages.
//     latency [--rate=500 --seconds=5 --consumers=C]: one paced publisher (≤ 64 in flight, keys
//       k0…k999), C long-polling consumers (wait 5 s) acking each batch; latency = receive time
//       − `t` in the payload (first delivery), over the messages after the first 10 %.
//
// Every run checks its answers: every index 0…N−1 received (missing = never received),
// duplicates = deliveries beyond the first, and the server's own count of unacked messages for
// the group at the end (0 expected).

import { parseArgs } from "node:util";
import {
  type Handler,
  kalamdbQueue,
  type Payload,
  type Queue,
  redisQueue,
} from "./_topics_queues.ts";

const { values: v } = parseArgs({
  options: {
    system: { type: "string" },
    port: { type: "string" },
    name: { type: "string" },
    mode: { type: "string" },
    consumers: { type: "string", default: "1" },
    n: { type: "string", default: "20000" },
    publishers: { type: "string", default: "8" },
    rate: { type: "string", default: "500" },
    seconds: { type: "string", default: "5" },
    "deadline-s": { type: "string", default: "60" },
    "server-pid": { type: "string" },
    keys: { type: "string", default: "1000" },
  },
});
const PORT = Number(v.port);
const NAME = v.name ?? "q";
const CONSUMER_LIST = (v.consumers ?? "1").split(",").map(Number);
const CONSUMERS = CONSUMER_LIST[0];
const SERVER_PID = Number(v["server-pid"] ?? 0);
const DEADLINE_MS = Number(v["deadline-s"]) * 1000;
const INFLIGHT = 64;

async function open(): Promise<Queue> {
  if (v.system === "kalamdb") return await kalamdbQueue(PORT, NAME);
  if (v.system === "redis") return await redisQueue(PORT, NAME);
  if (v.system === "nats") return await (await import("./_topics_nats.ts")).natsQueue(PORT, NAME);
  throw new Error(`--system must be kalamdb, redis or nats; got ${v.system}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const KEYS = Number(v.keys);
/** Message i's key: k0…k(K−1) round robin, or none with --keys=0. */
const key = (i: number) => KEYS > 0 ? `k${i % KEYS}` : null;

/** Bookkeeping shared by both modes: what was received and acked, once and again. */
class Tally {
  readonly seen: Uint8Array;
  readonly ackedOnce: Uint8Array;
  unique = 0;
  deliveries = 0;
  acked = 0;
  outOfRange = 0;
  errors = 0;
  firstError?: string;

  constructor(readonly n: number) {
    this.seen = new Uint8Array(n);
    this.ackedOnce = new Uint8Array(n);
  }

  got(ps: readonly Payload[]): void {
    this.deliveries += ps.length;
    for (const p of ps) {
      if (!(p.i >= 0 && p.i < this.n)) this.outOfRange++;
      else if (this.seen[p.i]++ === 0) this.unique++;
      else if (this.seen[p.i] === 0) this.seen[p.i] = 255;
    }
  }

  ackedAll(ps: readonly Payload[]): void {
    for (const p of ps) {
      if (p.i >= 0 && p.i < this.n && !this.ackedOnce[p.i]) {
        this.ackedOnce[p.i] = 1;
        this.acked++;
      }
    }
  }

  error(err: unknown): void {
    this.errors++;
    this.firstError ??= String(err instanceof Error ? err.message : err).slice(0, 400);
  }

  checks() {
    return {
      received: this.unique,
      missing: this.n - this.unique,
      duplicates: this.deliveries - this.unique,
      out_of_range: this.outOfRange,
      errors: this.errors,
      ...(this.firstError ? { first_error: this.firstError } : {}),
    };
  }
}

/** Starts C consumer loops of `group`; a loop that throws before the stop is counted and ends. */
function startConsumers(
  q: Queue,
  group: string,
  consumers: number,
  h: Handler,
  tally: Tally,
  waitMs: number,
): Promise<unknown>[] {
  return Array.from(
    { length: consumers },
    (_, c) =>
      q.consume(group, `c${c}`, h, waitMs).catch((err) => {
        if (!h.stopped()) tally.error(err);
      }),
  );
}

/** Stops the consumers and waits for them (at most 10 s). */
async function stopConsumers(q: Queue, loops: Promise<unknown>[]): Promise<void> {
  q.interrupt();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled(loops),
    new Promise((r) => timer = setTimeout(r, 10_000)),
  ]);
  clearTimeout(timer);
}

/** The server's count of unacked messages; NATS acks are asynchronous: retried ≤ 5 s to 0. */
async function serverUnacked(q: Queue, group: string): Promise<number> {
  let n = -1;
  for (let tries = 0; tries < 25; tries++) {
    n = await q.unacked(group);
    if (n === 0) break;
    await sleep(200);
  }
  return n;
}

/** user + system CPU seconds of a process (0 when unknown). */
function cpuOf(pid: number): number {
  try {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ").at(-1)!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** Percent of one core the server and this process used since `from` (see `cpuNow`). */
function cpuSince(from: { server: number; client: number; at: number }) {
  const now = cpuNow();
  const s = (now.at - from.at) / 1000;
  return {
    server_cpu_pct: Math.round((now.server - from.server) / s * 100),
    client_cpu_pct: Math.round((now.client - from.client) / s * 100),
  };
}

function cpuNow() {
  return {
    server: SERVER_PID ? cpuOf(SERVER_PID) : 0,
    client: cpuOf(Deno.pid),
    at: performance.now(),
  };
}

/** N messages published by P sequential publishers (all done before anyone consumes). */
async function publishAll(q: Queue, n: number) {
  const pubs = await Promise.all(Array.from({ length: Number(v.publishers) }, () => q.publisher()));
  const tally = new Tally(n);
  const cpu0 = cpuNow();
  const t0 = performance.now();
  let next = 0;
  let published = 0;
  const deadline = t0 + DEADLINE_MS;
  await Promise.all(pubs.map(async (pub) => {
    while (next < n && performance.now() < deadline) {
      const i = next++;
      try {
        await pub(i, key(i));
        published++;
      } catch (err) {
        tally.error(err);
      }
    }
  }));
  const s = (performance.now() - t0) / 1000;
  return {
    publishers: pubs.length,
    published,
    publish_s: round(s),
    published_per_s: Math.round(published / s),
    errors: tally.errors,
    ...(tally.firstError ? { first_error: tally.firstError } : {}),
    ...cpuSince(cpu0),
  };
}

/** Group g<C>: C consumers consume + ack until all N are acked; acked/s over that time. */
async function drain(q: Queue, n: number, consumers: number) {
  const group = `g${consumers}`;
  await q.group(group);
  const tally = new Tally(n);
  let stop = false;
  let t1 = 0;
  let signalDone = () => {};
  const done = new Promise<void>((r) => signalDone = r);
  const h: Handler = {
    got: (ps) => tally.got(ps),
    acked(ps) {
      tally.ackedAll(ps);
      if (tally.acked === n && !t1) {
        t1 = performance.now();
        stop = true;
        signalDone();
      }
    },
    stopped: () => stop,
  };
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const loops = startConsumers(q, group, consumers, h, tally, 1000);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([done, new Promise((r) => timer = setTimeout(r, DEADLINE_MS))]);
  clearTimeout(timer);
  const cpu = cpuSince(cpu0);
  stop = true;
  await stopConsumers(q, loops);
  const elapsed = ((t1 || performance.now()) - t0) / 1000;
  return {
    consumers,
    acked: tally.acked,
    completed: tally.acked === n,
    elapsed_s: round(elapsed),
    acked_per_s: Math.round(tally.acked / elapsed),
    ...tally.checks(),
    unacked_on_server: await serverUnacked(q, group),
    ...cpu,
  };
}

async function throughput(q: Queue) {
  const n = Number(v.n);
  const publish = await publishAll(q, n);
  const drains = [];
  for (const c of CONSUMER_LIST) drains.push(await drain(q, publish.published, c));
  return { mode: "throughput", n, keys: KEYS, publish, drains };
}

async function latency(q: Queue) {
  const rate = Number(v.rate);
  const seconds = Number(v.seconds);
  const n = Math.round(rate * seconds);
  const tally = new Tally(n);
  const lat = new Float64Array(n).fill(NaN);
  let stop = false;
  const h: Handler = {
    got(ps, at) {
      for (const p of ps) if (p.i >= 0 && p.i < n && !tally.seen[p.i]) lat[p.i] = at - p.t;
      tally.got(ps);
    },
    acked: (ps) => tally.ackedAll(ps),
    stopped: () => stop,
  };
  await q.group("g");
  const loops = startConsumers(q, "g", CONSUMERS, h, tally, 5000);
  const pub = await q.publisher();
  await sleep(300); // the consumers are waiting
  const cpu0 = cpuNow();
  const start = performance.now();
  let issued = 0, ok = 0, inflight = 0, capped = 0;
  const limit = start + seconds * 1000 + 10_000;
  while (issued < n && performance.now() < limit) {
    const due = Math.min(n, Math.floor((performance.now() - start) / 1000 * rate) + 1);
    while (issued < due) {
      if (inflight >= INFLIGHT) {
        capped++;
        break;
      }
      const i = issued++;
      inflight++;
      pub(i, key(i)).then(() => ok++, (err) => tally.error(err)).finally(() => inflight--);
    }
    await sleep(1);
  }
  const issueS = (performance.now() - start) / 1000;
  for (let t = 0; t < 1000 && inflight > 0; t++) await sleep(10); // publishes answered, ≤ 10 s
  const drainEnd = performance.now() + 10_000;
  while (tally.unique < ok && performance.now() < drainEnd) await sleep(5);
  const cpu = cpuSince(cpu0);
  stop = true;
  await stopConsumers(q, loops);
  const xs = Array.from(lat.subarray(Math.floor(n / 10))).filter((x) => !Number.isNaN(x));
  xs.sort((a, b) => a - b);
  const qt = (f: number) =>
    xs.length ? round(xs[Math.min(xs.length - 1, Math.floor(f * xs.length))]) : null;
  return {
    mode: "latency",
    rate,
    seconds,
    consumers: CONSUMERS,
    n,
    issued,
    published: ok,
    achieved_rate: Math.round(issued / issueS),
    capped_turns: capped,
    measured: xs.length,
    p50_ms: qt(0.5),
    p90_ms: qt(0.9),
    p99_ms: qt(0.99),
    max_ms: xs.length ? round(xs[xs.length - 1]) : null,
    ...tally.checks(),
    unacked_on_server: await serverUnacked(q, "g"),
    ...cpu,
  };
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const q = await open();
try {
  const r = v.mode === "latency" ? await latency(q) : await throughput(q);
  console.log(JSON.stringify(r));
} finally {
  await q.close();
}
Deno.exit(0); // sockets a stopped consumer left behind must not keep the process alive
