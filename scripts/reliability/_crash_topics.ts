// Topic consumers for the crash harness (issue 15 item 1, issue 16): both tables are sources of
// one topic, so every committed write has its message in the same transaction (the outbox).
// Consumers of one group claim and ack over HTTP while the server is SIGKILLed under them,
// retrying through the downtime. At the end they drain the topic, and the check compares the
// messages with the writers' model:
// - every acknowledged write row has exactly one message (by its unique value; a delete by
//   scope and key), no message belongs to no write, and a write in doubt has a message for all
//   of its rows or for none;
// - every message up to the end of each partition was processed at least once, and one
//   processed again only when its ack was never confirmed (a confirmed ack is never undone).

import type { Cluster, Reply } from "./_crash_server.ts";
import type { Model } from "./_crash_model.ts";

export const TOPIC = "rel.changes";
const GROUP = "workers";

/** DDL after the tables: the topic and its two sources. */
export const TOPIC_DDL = [
  `CREATE TOPIC ${TOPIC} PARTITIONS 3 WITH (VISIBILITY_TIMEOUT_SECONDS = 2)`,
  `ALTER TOPIC ${TOPIC} ADD SOURCE rel.kv ON INSERT, UPDATE, DELETE`,
  `ALTER TOPIC ${TOPIC} ADD SOURCE rel.shared ON INSERT, UPDATE, DELETE`,
];

interface Got {
  readonly op: string;
  readonly user: string | null;
  readonly k: number;
  readonly v: number;
  deliveries: number;
  /** An ack of this message was answered with the whole batch acknowledged. */
  acked: boolean;
  /** Delivered again after a confirmed ack: a lost ack would excuse it, a confirmed one not. */
  afterAck: boolean;
}

export interface TopicTally {
  messages: number;
  redeliveries: number;
  /** Acknowledged write rows without their message. */
  outboxLost: number;
  /** Write rows with more than one message. */
  outboxDup: number;
  /** Messages that match no write. */
  outboxPhantom: number;
  /** Writes in doubt with messages for some rows but not all. */
  outboxHalf: number;
  /** Offsets below the end of a partition never processed. */
  notProcessed: number;
  /** Messages delivered again after their ack was confirmed. */
  afterAck: number;
  problems: string[];
}

export class TopicConsumers {
  readonly #cluster: Cluster;
  readonly #auth: string;
  readonly #got = new Map<string, Got>();
  #stopped = false;
  #loops: Promise<void>[] = [];

  constructor(cluster: Cluster, auth: string) {
    this.#cluster = cluster;
    this.#auth = auth;
  }

  start(consumers: number): void {
    for (let i = 0; i < consumers; i++) this.#loops.push(this.#loop(`c${i}`));
  }

  /** Stops the loops once the group has nothing pending or lagging (bounded). */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await this.#sql(
        `SELECT SUM(pending), SUM(lag), COUNT(*) FROM system.topic_groups WHERE "group" = '${GROUP}'`,
      ).catch(() => undefined);
      const row = r?.body?.results?.[0]?.rows?.[0];
      if (row && Number(row[0] ?? 0) === 0 && Number(row[1] ?? 0) === 0 && Number(row[2]) > 0) {
        break;
      }
      await new Promise((res) => setTimeout(res, 200));
    }
    this.#stopped = true;
    await Promise.all(this.#loops);
  }

  async #sql(sql: string): Promise<Reply> {
    const server = await this.#cluster.ready();
    return await server.sql(sql, this.#auth, 10_000);
  }

  async #post(path: string, body: unknown): Promise<Reply | undefined> {
    try {
      const server = await this.#cluster.ready();
      return await server.request("POST", path, { auth: this.#auth, body, timeoutMs: 10_000 });
    } catch {
      return undefined; // the server died under the request: try again
    }
  }

  async #loop(consumer: string): Promise<void> {
    while (!this.#stopped) {
      const r = await this.#post("/v1/api/topics/consume", {
        topic: TOPIC,
        group: GROUP,
        consumer,
        limit: 50,
        wait_ms: 500,
      });
      if (r?.body?.status !== "success") {
        await new Promise((res) => setTimeout(res, 50));
        continue;
      }
      const batch = r.body.messages as Record<string, unknown>[];
      if (batch.length === 0) continue;
      for (const m of batch) this.#record(m);
      const offsets = batch.map((m) => [m.partition, m.offset]);
      const a = await this.#post("/v1/api/topics/ack", { topic: TOPIC, group: GROUP, offsets });
      if (a?.body?.status === "success" && a.body.acknowledged === batch.length) {
        for (const m of batch) this.#got.get(`${m.partition}:${m.offset}`)!.acked = true;
      }
    }
  }

  #record(m: Record<string, unknown>): void {
    const id = `${m.partition}:${m.offset}`;
    const seen = this.#got.get(id);
    if (seen) {
      seen.deliveries++;
      if (seen.acked) seen.afterAck = true;
      return;
    }
    const p = m.payload as { k: string; v: string };
    this.#got.set(id, {
      op: String(m.op),
      user: (m.user ?? null) as string | null,
      k: Number(p.k),
      v: Number(p.v),
      deliveries: 1,
      acked: false,
      afterAck: false,
    });
  }

  /** The checks of the file comment, against the model and the partitions' ends. */
  async check(model: Model): Promise<TopicTally> {
    const t: TopicTally = {
      messages: this.#got.size,
      redeliveries: 0,
      outboxLost: 0,
      outboxDup: 0,
      outboxPhantom: 0,
      outboxHalf: 0,
      notProcessed: 0,
      afterAck: 0,
      problems: [],
    };
    // Partition ends: after the drain every group position is the end.
    const r = await this.#sql(
      `SELECT partition, committed_offset FROM system.topic_groups WHERE "group" = '${GROUP}'`,
    );
    for (const [p, end] of (r.body?.results?.[0]?.rows ?? []) as string[][]) {
      for (let o = 0; o < Number(end); o++) {
        if (!this.#got.has(`${p}:${o}`)) {
          t.notProcessed++;
          if (t.problems.length < 10) t.problems.push(`topic: message ${p}:${o} never processed`);
        }
      }
    }
    // Messages by identity: a new value names its write row; a delete its scope and key.
    const byIdentity = new Map<string, number>();
    for (const g of this.#got.values()) {
      if (g.deliveries > 1) t.redeliveries++;
      if (g.afterAck) t.afterAck++;
      const scope = g.user ?? "shared";
      const id = g.op === "delete" ? `del:${scope}:${g.k}` : `val:${g.v}`;
      byIdentity.set(id, (byIdentity.get(id) ?? 0) + 1);
    }
    const expected = new Set<string>();
    for (const w of model.writes) {
      const ids = w.rows.map((row) =>
        row.after === null ? `del:${w.scope}:${row.k}` : `val:${row.after}`
      );
      for (const id of ids) expected.add(id);
      const counts = ids.map((id) => byIdentity.get(id) ?? 0);
      for (const [i, n] of counts.entries()) {
        if (n > 1) {
          t.outboxDup++;
          t.problems.push(`topic: ${ids[i]} has ${n} messages`);
        }
      }
      if (w.unknown === undefined) {
        for (const [i, n] of counts.entries()) {
          if (n === 0) {
            t.outboxLost++;
            if (t.problems.length < 20) {
              t.problems.push(`topic: acknowledged ${ids[i]} has no message`);
            }
          }
        }
      } else if (counts.some((n) => n > 0) && counts.some((n) => n === 0)) {
        t.outboxHalf++;
        t.problems.push(`topic: write in doubt #${w.unknown} has messages for some rows only`);
      }
    }
    for (const id of byIdentity.keys()) {
      if (!expected.has(id)) {
        t.outboxPhantom++;
        if (t.problems.length < 30) t.problems.push(`topic: message ${id} matches no write`);
      }
    }
    return t;
  }
}
