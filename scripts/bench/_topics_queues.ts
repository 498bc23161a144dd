// The queues the topics benchmark's client (_topics_client.ts) drives, behind one interface:
// KalamDB-TS topics over HTTP (publish / long-poll consume / ack, root over Basic on loopback)
// and Redis Streams over RESP (XADD / XREADGROUP … BLOCK / XACK, one consumer group). NATS
// JetStream is in _topics_nats.ts (it needs an npm package). Each queue gets its own fresh
// topic / stream / group, named by the run.

import { type Reply, Resp } from "./_topics_resp.ts";

/** What every message carries: its index in the run and wall-clock ms just before publishing. */
export interface Payload {
  readonly i: number;
  readonly t: number;
}

export interface Handler {
  /** Messages just received (at wall-clock `at` ms), before they are acked. */
  got(ps: readonly Payload[], at: number): void;
  /** The same messages, once their ack is answered. */
  acked(ps: readonly Payload[]): void;
  stopped(): boolean;
}

/** Publishes message `i` with `key` (null: no key, so no per-key order where a system has one). */
export type Publish = (i: number, key: string | null) => Promise<void>;

export interface Queue {
  /** A publisher (its own connection where the protocol has them). */
  publisher(): Promise<Publish>;
  /** Makes consumer group `group` (reading from the first message). */
  group(group: string): Promise<void>;
  /** One consumer of `group`: receives, hands on and acks batches until `h.stopped()`. */
  consume(group: string, name: string, h: Handler, waitMs: number): Promise<void>;
  /** Wakes consumers blocked in a wait, so that they see `stopped()`. */
  interrupt(): void;
  /** Messages `group` has not acked (delivered or not), as the server sees it. */
  unacked(group: string): Promise<number>;
  close(): Promise<void>;
}

export const BATCH = 100;
const PAD = "topics benchmark payload ".repeat(4).slice(0, 100);

export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A message's JSON body; `t` is taken now, just before it is sent. */
export function body(i: number): string {
  return `{"i":${i},"t":${wallMs()},"pad":"${PAD}"}`;
}

// ------------------------------------------------------------------ KalamDB-TS

const BASIC_ROOT = "Basic cm9vdDo=";

async function post(
  url: string,
  body: string,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: BASIC_ROOT },
    body,
    signal,
  });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('"status":"success"')) {
    throw new Error(`${new URL(url).pathname} → HTTP ${res.status} ${text.slice(0, 300)}`);
  }
  return JSON.parse(text);
}

interface KalamMessage {
  partition: number;
  offset: number;
  payload: Payload;
}

/** Creates topic bench.<name> (the namespace `bench` exists) with 4 partitions. */
export async function kalamdbQueue(port: number, name: string): Promise<Queue> {
  const base = `http://127.0.0.1:${port}/v1/api`;
  const topic = `bench.${name}`;
  await post(
    `${base}/sql`,
    JSON.stringify({
      sql: `CREATE TOPIC ${topic} PARTITIONS 4 WITH (VISIBILITY_TIMEOUT_SECONDS = 30)`,
    }),
  );
  let abort = new AbortController();
  return {
    publisher: () =>
      Promise.resolve(async (i: number, key: string | null) => {
        const k = key === null ? "" : `"key":"${key}",`;
        const r = await post(
          `${base}/topics/publish`,
          `{"topic":"${topic}",${k}"payload":${body(i)}}`,
        );
        if (r.duplicate) throw new Error(`publish of ${i} answered duplicate`);
      }),
    group: () => Promise.resolve(), // made by its first CONSUME, FROM EARLIEST by default
    async consume(group, consumer, h, waitMs) {
      const req = JSON.stringify({ topic, group, consumer, limit: BATCH, wait_ms: waitMs });
      while (!h.stopped()) {
        let r: Record<string, unknown>;
        try {
          r = await post(`${base}/topics/consume`, req, abort.signal);
        } catch (err) {
          if (h.stopped()) return;
          throw err;
        }
        const at = wallMs();
        const msgs = r.messages as KalamMessage[];
        if (!msgs.length) continue;
        const ps = msgs.map((m) => m.payload);
        h.got(ps, at);
        const offsets = msgs.map((m) => [m.partition, m.offset]);
        const a = await post(
          `${base}/topics/ack`,
          JSON.stringify({ topic, group, offsets }),
        );
        if (a.acknowledged !== msgs.length) {
          throw new Error(`ack of ${msgs.length} answered acknowledged=${a.acknowledged}`);
        }
        h.acked(ps);
      }
    },
    interrupt() {
      abort.abort();
      abort = new AbortController();
    },
    async unacked(group) {
      const r = await post(
        `${base}/sql`,
        JSON.stringify({ sql: "SELECT * FROM system.topic_groups" }),
      );
      const res = (r.results as { schema: { name: string }[]; rows: unknown[][] }[])[0];
      const col = (n: string) => res.schema.findIndex((c) => c.name === n);
      const [ti, gi, pi, li] = [col("topic"), col("group"), col("pending"), col("lag")];
      let n = 0;
      for (const row of res.rows) {
        const t = String(row[ti]);
        if ((t === topic || t === name) && row[gi] === group) {
          n += Number(row[pi] ?? 0) + Number(row[li] ?? 0);
        }
      }
      return n;
    },
    close: () => Promise.resolve(),
  };
}

// ------------------------------------------------------------------ Redis Streams

/** A flat [k1, v1, k2, v2, …] reply as an object. */
function pairs(r: Reply): Record<string, Reply> {
  const o: Record<string, Reply> = {};
  const a = r as Reply[];
  for (let i = 0; i + 1 < a.length; i += 2) o[String(a[i])] = a[i + 1];
  return o;
}

/** Stream `name`, made by the first XGROUP CREATE … MKSTREAM. */
export async function redisQueue(port: number, name: string): Promise<Queue> {
  const admin = await Resp.connect(port);
  const conns: Resp[] = [admin];
  const consumers: Resp[] = [];
  return {
    async group(group) {
      await admin.call("XGROUP", "CREATE", name, group, "0", "MKSTREAM");
    },
    async publisher() {
      const c = await Resp.connect(port);
      conns.push(c);
      return async (i, key) => {
        await c.call("XADD", name, "*", "k", key ?? "", "d", body(i));
      };
    },
    async consume(group, consumer, h, waitMs) {
      const c = await Resp.connect(port);
      conns.push(c);
      consumers.push(c);
      while (!h.stopped()) {
        let r: Reply;
        try {
          r = await c.call(
            "XREADGROUP",
            "GROUP",
            group,
            consumer,
            "COUNT",
            BATCH,
            "BLOCK",
            waitMs,
            "STREAMS",
            name,
            ">",
          );
        } catch (err) {
          if (h.stopped()) return;
          throw err;
        }
        const at = wallMs();
        if (r === null) continue;
        const entries = ((r as Reply[][])[0][1] ?? []) as [string, string[]][];
        if (!entries.length) continue;
        const ids = entries.map((e) => e[0]);
        const ps = entries.map(([, f]) => JSON.parse(f[f.indexOf("d") + 1]) as Payload);
        h.got(ps, at);
        const n = await c.call("XACK", name, group, ...ids);
        if (n !== ids.length) throw new Error(`XACK of ${ids.length} answered ${n}`);
        h.acked(ps);
      }
    },
    interrupt() {
      for (const c of consumers.splice(0)) c.close();
    },
    async unacked(group) {
      const pending = (await admin.call("XPENDING", name, group)) as Reply[];
      const groups = ((await admin.call("XINFO", "GROUPS", name)) as Reply[]).map(pairs);
      const lag = Number(groups.find((g) => g.name === group)?.lag ?? 0);
      return Number(pending[0]) + lag;
    },
    async close() {
      await admin.call("DEL", name).catch(() => {});
      for (const c of conns) c.close();
    },
  };
}
