// Consumer groups (SPEC §10): owner of `topic_cursors` and `topic_deliveries`.
//
// Per (topic, group, partition) the cursor is the lowest offset never handed out to the group;
// every message handed out and not yet behind the cursor has a delivery row: unacked (claimed
// until `visible_at`, or waiting for it after a NACK or an expired claim) or acked (kept only
// while it is ahead of the cursor, so it is not handed out again). The committed offset is the
// lowest unacked delivery's offset, else the cursor.
//
// Per-key order: a key with an unacked delivery in the group blocks every later message of that
// key (same key → same partition), so one user's messages are processed one after another while
// other keys go on. A blocked message keeps the cursor from passing it; messages after it are
// still handed out (up to a bounded look-ahead), and are remembered by their delivery rows.

import type { SqliteStore } from "../hot/mod.ts";
import type { Message, TopicLog } from "./log.ts";
import type { TopicInfo } from "./catalog.ts";
import type { ConsumeFrom } from "../../sql/mod.ts";

export interface Claimed extends Message {
  readonly deliveryCount: number;
  /** Epoch ms after which the message is handed out again unless acked. */
  readonly ackDeadline: number;
}

/** A message that used up MAX_DELIVERIES: it leaves the group for the dead-letter topic. */
export interface DeadMessage {
  readonly message: Message;
  readonly deliveryCount: number;
}

export interface ClaimRequest {
  readonly group: string;
  readonly consumer: string | null;
  readonly from: ConsumeFrom;
  readonly limit: number;
  readonly now: number;
}

export interface GroupPartition {
  readonly group: string;
  readonly partition: number;
  readonly committed: number;
  readonly pending: number;
}

/** Messages looked at past the first blocked one per partition and call (bounds the scan). */
const LOOK_AHEAD = 1024;

export class ConsumerGroups {
  readonly #store: SqliteStore;
  readonly #log: TopicLog;
  /** Where the next claim starts, so consumers of a group spread over the partitions. */
  #start = 0;

  constructor(store: SqliteStore, log: TopicLog) {
    this.#store = store;
    this.#log = log;
  }

  /**
   * Claims up to `limit` messages for the group (inside a write): due redeliveries first, then
   * new messages, each partition in offset order, never two unacked messages of one key.
   * Messages past MAX_DELIVERIES are marked done here and returned in `dead`.
   */
  claim(topic: TopicInfo, req: ClaimRequest): { claimed: Claimed[]; dead: DeadMessage[] } {
    const claimed: Claimed[] = [];
    const dead: DeadMessage[] = [];
    const deadline = req.now + topic.visibilityS * 1000;
    // A group's start (FROM) is set for every partition at its first claim, not only for the
    // partitions that claim reaches before its LIMIT.
    const known = this.#store.writer(
      "SELECT COUNT(*) FROM topic_cursors WHERE topic_id = ? AND group_name = ?",
    ).get(topic.id, req.group);
    if (Number(known![0]) < topic.partitions) {
      for (let p = 0; p < topic.partitions; p++) this.#cursor(topic, req.group, p, req.from);
    }
    const start = this.#start++ % topic.partitions;
    for (let i = 0; i < topic.partitions && claimed.length < req.limit; i++) {
      const p = (start + i) % topic.partitions;
      this.#claimPartition(topic, p, req, deadline, claimed, dead);
    }
    return { claimed, dead };
  }

  #claimPartition(
    topic: TopicInfo,
    p: number,
    req: ClaimRequest,
    deadline: number,
    claimed: Claimed[],
    dead: DeadMessage[],
  ): void {
    const cursor = this.#cursor(topic, req.group, p, req.from);
    // Due redeliveries (expired claims, NACKs whose delay passed), oldest first.
    const due = this.#store.writer(
      `SELECT msg_offset, delivery_count FROM topic_deliveries WHERE topic_id = ?
        AND group_name = ? AND part = ? AND acked = 0 AND visible_at <= ? ORDER BY msg_offset
        LIMIT ?`,
    ).all(topic.id, req.group, p, req.now, req.limit - claimed.length);
    const update = this.#store.writer(
      `UPDATE topic_deliveries SET visible_at = ?, consumer = ?, delivery_count = ?
        WHERE topic_id = ? AND group_name = ? AND part = ? AND msg_offset = ?`,
    );
    for (const r of due) {
      const offset = Number(r[0]);
      const count = Number(r[1]);
      const message = this.#log.message(topic.id, p, offset);
      if (!message || count >= topic.maxDeliveries) {
        // Trimmed meanwhile (retention passed), or out of deliveries: done for this group.
        this.#ack(topic.id, req.group, p, offset, cursor);
        if (message) dead.push({ message, deliveryCount: count });
        continue;
      }
      update.run(deadline, req.consumer, count + 1, topic.id, req.group, p, offset);
      claimed.push({ ...message, deliveryCount: count + 1, ackDeadline: deadline });
    }
    if (claimed.length >= req.limit) return;
    // New messages from the cursor on; those already handed out past it have delivery rows.
    const handed = new Set(
      this.#store.writer(
        `SELECT msg_offset FROM topic_deliveries WHERE topic_id = ? AND group_name = ?
          AND part = ? AND msg_offset >= ?`,
      ).all(topic.id, req.group, p, cursor).map((r) => Number(r[0])),
    );
    const held = this.#store.writer(
      `SELECT 1 FROM topic_deliveries WHERE topic_id = ? AND group_name = ? AND part = ?
        AND key = ? AND acked = 0 LIMIT 1`,
    );
    const blocked = new Map<string, boolean>();
    const isBlocked = (key: string) => {
      let b = blocked.get(key);
      if (b === undefined) {
        blocked.set(key, b = held.get(topic.id, req.group, p, key) !== undefined);
      }
      return b;
    };
    const insert = this.#store.writer(
      `INSERT INTO topic_deliveries (topic_id, group_name, part, msg_offset, key, acked, consumer,
        visible_at, delivery_count) VALUES (?, ?, ?, ?, ?, 0, ?, ?, 1)`,
    );
    let next = cursor;
    let contiguous = true;
    let skipped = 0;
    let from = cursor;
    scan: while (claimed.length < req.limit && skipped < LOOK_AHEAD) {
      const batch = this.#log.read(topic.id, p, from, 256);
      if (batch.length === 0) break;
      for (const m of batch) {
        from = m.offset + 1;
        if (handed.has(m.offset)) {
          if (contiguous) next = m.offset + 1;
          continue;
        }
        if (claimed.length >= req.limit) break scan;
        if (m.key !== null && isBlocked(m.key)) {
          contiguous = false;
          if (++skipped >= LOOK_AHEAD) break scan;
          continue;
        }
        insert.run(topic.id, req.group, p, m.offset, m.key, req.consumer, deadline);
        if (m.key !== null) blocked.set(m.key, true);
        claimed.push({ ...m, deliveryCount: 1, ackDeadline: deadline });
        if (contiguous) next = m.offset + 1;
      }
    }
    if (next !== cursor) this.#advance(topic.id, req.group, p, next);
  }

  /** The group's cursor in a partition, created from `from` the first time. */
  #cursor(topic: TopicInfo, group: string, p: number, from: ConsumeFrom): number {
    const r = this.#store.writer(
      "SELECT next_offset FROM topic_cursors WHERE topic_id = ? AND group_name = ? AND part = ?",
    ).get(topic.id, group, p);
    if (r) return Number(r[0]);
    const end = this.#log.nextOffset(topic.id, p);
    const start = from === "latest" ? end : from === "earliest" ? 0 : Math.min(from, end);
    this.#store.writer(
      "INSERT INTO topic_cursors (topic_id, group_name, part, next_offset) VALUES (?, ?, ?, ?)",
    ).run(topic.id, group, p, start);
    return start;
  }

  #advance(topicId: number, group: string, p: number, next: number): void {
    this.#store.writer(
      "UPDATE topic_cursors SET next_offset = ? WHERE topic_id = ? AND group_name = ? AND part = ?",
    ).run(next, topicId, group, p);
    this.#store.writer(
      `DELETE FROM topic_deliveries WHERE topic_id = ? AND group_name = ? AND part = ?
        AND msg_offset < ? AND acked = 1`,
    ).run(topicId, group, p, next);
  }

  #ack(topicId: number, group: string, p: number, offset: number, cursor: number): void {
    if (offset < cursor) {
      this.#store.writer(
        `DELETE FROM topic_deliveries WHERE topic_id = ? AND group_name = ? AND part = ?
          AND msg_offset = ?`,
      ).run(topicId, group, p, offset);
    } else {
      this.#store.writer(
        `UPDATE topic_deliveries SET acked = 1 WHERE topic_id = ? AND group_name = ? AND part = ?
          AND msg_offset = ?`,
      ).run(topicId, group, p, offset);
    }
  }

  /**
   * Acknowledges handed-out messages (inside a write); returns how many were unacked. One
   * statement per offset: below the cursor the delivery row goes, at or above it it is marked.
   */
  ack(topicId: number, group: string, offsets: readonly (readonly [number, number])[]): number {
    let n = 0;
    const remove = this.#store.writer(
      `DELETE FROM topic_deliveries WHERE topic_id = ? AND group_name = ? AND part = ?
        AND msg_offset = ? AND acked = 0`,
    );
    const mark = this.#store.writer(
      `UPDATE topic_deliveries SET acked = 1 WHERE topic_id = ? AND group_name = ? AND part = ?
        AND msg_offset = ? AND acked = 0`,
    );
    const cursors = new Map<number, number>();
    for (const [p, offset] of offsets) {
      let cursor = cursors.get(p);
      if (cursor === undefined) {
        const c = this.#store.writer(
          "SELECT next_offset FROM topic_cursors WHERE topic_id = ? AND group_name = ? AND part = ?",
        ).get(topicId, group, p);
        cursors.set(p, cursor = c ? Number(c[0]) : 0);
      }
      n += Number((offset < cursor ? remove : mark).run(topicId, group, p, offset).changes);
    }
    return n;
  }

  /** Makes unacked messages visible again at `visibleAt` (NACK); returns how many. */
  nack(
    topicId: number,
    group: string,
    offsets: readonly (readonly [number, number])[],
    visibleAt: number,
  ): number {
    let n = 0;
    const st = this.#store.writer(
      `UPDATE topic_deliveries SET visible_at = ? WHERE topic_id = ? AND group_name = ? AND part = ?
        AND msg_offset = ? AND acked = 0`,
    );
    for (const [p, offset] of offsets) {
      n += Number(st.run(visibleAt, topicId, group, p, offset).changes);
    }
    return n;
  }

  /** The earliest time an unacked message of the group becomes visible again, or undefined. */
  nextVisible(topicId: number, group: string): number | undefined {
    const r = this.#store.writer(
      `SELECT MIN(visible_at) FROM topic_deliveries WHERE topic_id = ? AND group_name = ?
        AND acked = 0`,
    ).get(topicId, group);
    return r && r[0] !== null ? Number(r[0]) : undefined;
  }

  /** Per partition, the lowest offset some group still needs (trimming stops below it). */
  floor(topicId: number, partition: number): number | undefined {
    const c = this.#store.writer(
      "SELECT MIN(next_offset) FROM topic_cursors WHERE topic_id = ? AND part = ?",
    ).get(topicId, partition);
    if (!c || c[0] === null) return undefined;
    const d = this.#store.writer(
      "SELECT MIN(msg_offset) FROM topic_deliveries WHERE topic_id = ? AND part = ? AND acked = 0",
    ).get(topicId, partition);
    const cursor = Number(c[0]);
    return d && d[0] !== null ? Math.min(cursor, Number(d[0])) : cursor;
  }

  /** Every group's position per partition (committed view), for system.topic_groups. */
  positions(topicId: number): GroupPartition[] {
    const rows = this.#store.reader(
      `SELECT c.group_name, c.part, c.next_offset,
          (SELECT MIN(d.msg_offset) FROM topic_deliveries d WHERE d.topic_id = c.topic_id
            AND d.group_name = c.group_name AND d.part = c.part AND d.acked = 0),
          (SELECT COUNT(*) FROM topic_deliveries d WHERE d.topic_id = c.topic_id
            AND d.group_name = c.group_name AND d.part = c.part AND d.acked = 0)
        FROM topic_cursors c WHERE c.topic_id = ? ORDER BY c.group_name, c.part`,
    ).all(topicId);
    return rows.map((r) => ({
      group: String(r[0]),
      partition: Number(r[1]),
      committed: r[3] === null ? Number(r[2]) : Math.min(Number(r[2]), Number(r[3])),
      pending: Number(r[4]),
    }));
  }

  /** Forgets every group of a topic (DROP / CLEAR TOPIC). */
  drop(topicId: number): void {
    this.#store.writer("DELETE FROM topic_deliveries WHERE topic_id = ?").run(topicId);
    this.#store.writer("DELETE FROM topic_cursors WHERE topic_id = ?").run(topicId);
  }
}
