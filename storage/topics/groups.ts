// Consumer groups (SPEC §10): owner of `topic_cursors` and `topic_deliveries`.
//
// Per (topic, group, partition) the cursor is the lowest offset the group has not looked at;
// every message it looked at and has not finished has a delivery row: handed out (acked = 0:
// claimed until `visible_at`, or waiting for it after a NACK or an expired claim), parked
// (2: not handed out, an earlier message of its key is out), ready (3: parked, and the ack that
// freed its key made it next). A message done for the group loses its row. Every row is behind
// the cursor (a claim moves it past all it read); the committed offset is the lowest row's
// offset, else the cursor.
//
// Per-key order: a key with a handed-out message blocks every later message of that key (same
// key → same partition); those are parked in offset order, and the ack (or dead letter, or
// trim) that frees the key marks the oldest of them ready in the same transaction. So one user's
// messages are processed one after another while other keys go on, the cursor always moves past
// what it read, and no claim scans the parked rows.

import type { SqliteStore } from "../hot/mod.ts";
import type { Message } from "./log.ts";
import type { NeedLoad, SegmentRef } from "./segments.ts";
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

/** Where claims read messages: SQLite and the segments merged (Topics); `need` = load first. */
export interface MessageSource {
  read(topicId: number, partition: number, from: number, limit: number): Message[] | NeedLoad;
  message(topicId: number, partition: number, offset: number): Message | undefined | NeedLoad;
  /** The messages of `offsets` that are in SQLite (one read; the others: `message`). */
  hot(topicId: number, partition: number, offsets: readonly number[]): Map<number, Message>;
  /** The offset the partition's next message gets. */
  nextOffset(topicId: number, partition: number): number;
}

export interface GroupPartition {
  readonly group: string;
  readonly partition: number;
  readonly committed: number;
  readonly pending: number;
}

/** Ready messages found trimmed that one claim drops at most (the rest: the next claims). */
const GONE_PER_CLAIM = 5000;
/** Messages parked per partition and call at most (bounds one claim's work). */
const LOOK_AHEAD = 1024;

interface ClaimOut {
  readonly claimed: Claimed[];
  readonly dead: DeadMessage[];
  readonly needs: SegmentRef[];
  /** Work was left for the next claim (trimmed ready messages past GONE_PER_CLAIM). */
  again: boolean;
}

interface PartitionClaim {
  readonly topic: TopicInfo;
  readonly p: number;
  readonly req: ClaimRequest;
  readonly deadline: number;
  readonly cursor: number;
  readonly out: ClaimOut;
}

/** `[partition, offset]` pairs as each partition's offsets. */
function byPartition(offsets: readonly (readonly [number, number])[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const [p, offset] of offsets) {
    let list = out.get(p);
    if (!list) out.set(p, list = []);
    list.push(offset);
  }
  return out;
}

export class ConsumerGroups {
  readonly #store: SqliteStore;
  readonly #source: MessageSource;
  /** Where the next claim starts, so consumers of a group spread over the partitions. */
  #start = 0;

  constructor(store: SqliteStore, source: MessageSource) {
    this.#store = store;
    this.#source = source;
  }

  /**
   * Claims up to `limit` messages for the group (inside a write): due redeliveries first, then
   * new messages, each partition in offset order, never two unacked messages of one key.
   * Messages past MAX_DELIVERIES are marked done here and returned in `dead`; `needs` lists
   * segments to load before a partition can go on (it stopped there, skipping nothing).
   */
  claim(
    topic: TopicInfo,
    req: ClaimRequest,
  ): ClaimOut {
    const out: ClaimOut = { claimed: [], dead: [], needs: [], again: false };
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
    for (let i = 0; i < topic.partitions && out.claimed.length < req.limit; i++) {
      const p = (start + i) % topic.partitions;
      this.#claimPartition(topic, p, req, deadline, out);
    }
    return out;
  }

  #claimPartition(
    topic: TopicInfo,
    p: number,
    req: ClaimRequest,
    deadline: number,
    out: ClaimOut,
  ): void {
    const cursor = this.#cursor(topic, req.group, p, req.from);
    const c: PartitionClaim = { topic, p, req, deadline, cursor, out };
    this.#redeliver(c);
    if (out.claimed.length < req.limit) this.#unpark(c);
    if (out.claimed.length < req.limit) this.#scanNew(c);
  }

  /** Due redeliveries (expired claims, NACKs whose delay passed), oldest first. */
  #redeliver(c: PartitionClaim): void {
    const { topic, p, req, out } = c;
    const due = this.#store.writer(
      `SELECT msg_offset, delivery_count, key FROM topic_deliveries WHERE topic_id = ?
        AND group_name = ? AND part = ? AND acked = 0 AND visible_at <= ? ORDER BY msg_offset
        LIMIT ?`,
    ).all(topic.id, req.group, p, req.now, req.limit - out.claimed.length);
    const update = this.#store.writer(
      `UPDATE topic_deliveries SET visible_at = ?, consumer = ?, delivery_count = ?
        WHERE topic_id = ? AND group_name = ? AND part = ? AND msg_offset = ?`,
    );
    for (const r of due) {
      const offset = Number(r[0]);
      const count = Number(r[1]);
      const message = this.#source.message(topic.id, p, offset);
      if (message && "need" in message) {
        out.needs.push(message.need); // in a segment not in memory yet: stays out, key held
        continue;
      }
      if (!message || count >= topic.maxDeliveries) {
        // Trimmed meanwhile (retention passed), or out of deliveries: done for this group.
        this.#done(topic.id, req.group, p, offset);
        if (r[2] !== null) this.#release(topic.id, req.group, p, [String(r[2])]);
        if (message) out.dead.push({ message, deliveryCount: count });
        continue;
      }
      update.run(c.deadline, req.consumer, count + 1, topic.id, req.group, p, offset);
      out.claimed.push({ ...message, deliveryCount: count + 1, ackDeadline: c.deadline });
    }
  }

  /**
   * Parked messages whose key is free again (`ready`, acked = 3: the ack that freed the key
   * marked its oldest parked message in the same transaction), oldest first.
   */
  #unpark(c: PartitionClaim): void {
    const { topic, p, req, out } = c;
    // Only keys not handed out (a ready row's key is free unless a redelivery just took it).
    const ready = this.#store.writer(
      `SELECT d.key, d.msg_offset FROM topic_deliveries d INDEXED BY topic_deliveries_ready
        WHERE d.topic_id = ?1 AND d.group_name = ?2 AND d.part = ?3 AND d.acked = 3
          AND NOT EXISTS (SELECT 1 FROM topic_deliveries h INDEXED BY topic_deliveries_by_key
            WHERE h.topic_id = ?1 AND h.group_name = ?2 AND h.part = ?3 AND h.key = d.key
              AND h.acked = 0)
        ORDER BY d.msg_offset LIMIT ?4`,
    ).all(topic.id, req.group, p, req.limit - out.claimed.length);
    const picked: [string, number][] = [];
    const taken = new Set<string>();
    for (const r of ready) {
      const key = String(r[0]);
      if (taken.has(key)) continue; // one handed-out message per key
      taken.add(key);
      picked.push([key, Number(r[1])]);
    }
    if (picked.length === 0) return;
    // Those still in SQLite are handed out together; the rest (in a segment, or trimmed) one
    // by one.
    const hot = this.#source.hot(topic.id, p, picked.map((x) => x[1]));
    const handed: number[] = [];
    for (const [key, offset] of picked) {
      if (out.claimed.length >= req.limit) break;
      const message = hot.get(offset);
      if (!message) {
        this.#unparkOne(c, key, offset);
        continue;
      }
      handed.push(offset);
      out.claimed.push({ ...message, deliveryCount: 1, ackDeadline: c.deadline });
    }
    if (handed.length === 0) return;
    this.#store.writer(
      `UPDATE topic_deliveries SET acked = 0, visible_at = ?1, consumer = ?2, delivery_count = 1
        WHERE topic_id = ?3 AND group_name = ?4 AND part = ?5
          AND msg_offset IN (SELECT value FROM json_each(?6))`,
    ).run(c.deadline, req.consumer, topic.id, req.group, p, JSON.stringify(handed));
  }

  /**
   * Hands out a ready message of `key` when the key is free (its row becomes a claim). Ready
   * messages trimmed meanwhile are dropped one after another (a loop, at most GONE_PER_CLAIM of
   * them per claim; the rest wait for the next claim) until one is there.
   */
  #unparkOne(c: PartitionClaim, key: string, offset: number): void {
    const { topic, p, req, out } = c;
    const nextReady = this.#store.writer(
      `SELECT msg_offset FROM topic_deliveries INDEXED BY topic_deliveries_waiting
        WHERE topic_id = ? AND group_name = ? AND part = ? AND key = ? AND acked >= 2
          AND acked = 3
        ORDER BY msg_offset LIMIT 1`,
    );
    for (let gone = 0; gone < GONE_PER_CLAIM; gone++) {
      const message = this.#source.message(topic.id, p, offset);
      if (message && "need" in message) {
        out.needs.push(message.need);
        return;
      }
      if (message) {
        this.#store.writer(
          `UPDATE topic_deliveries SET acked = 0, visible_at = ?, consumer = ?, delivery_count = 1
            WHERE topic_id = ? AND group_name = ? AND part = ? AND msg_offset = ?`,
        ).run(c.deadline, req.consumer, topic.id, req.group, p, offset);
        out.claimed.push({ ...message, deliveryCount: 1, ackDeadline: c.deadline });
        return;
      }
      // Trimmed by the retention (or erased): the row goes, the key's next parked one is ready.
      this.#done(topic.id, req.group, p, offset);
      this.#release(topic.id, req.group, p, [key]);
      const next = nextReady.get(topic.id, req.group, p, key);
      if (!next) return;
      offset = Number(next[0]);
    }
    out.again = true;
  }

  /**
   * New messages from the cursor on. One whose key is held or parked is parked (a row with
   * acked = 2) instead of handed out, so the cursor always moves past what was read.
   */
  #scanNew(c: PartitionClaim): void {
    const { topic, p, req, out } = c;
    // A key is blocked when the group has any row of it: handed out, parked or ready.
    const withRows = this.#store.writer(
      `SELECT j.value FROM json_each(?4) j
        WHERE EXISTS (SELECT 1 FROM topic_deliveries INDEXED BY topic_deliveries_by_key
            WHERE topic_id = ?1 AND group_name = ?2 AND part = ?3 AND key = j.value AND acked = 0)
          OR EXISTS (SELECT 1 FROM topic_deliveries INDEXED BY topic_deliveries_waiting
            WHERE topic_id = ?1 AND group_name = ?2 AND part = ?3 AND key = j.value AND acked >= 2)`,
    );
    const blocked = new Map<string, boolean>();
    /** Looks up, in one statement, the keys of `batch` not known yet. */
    const learn = (batch: readonly Message[]) => {
      const fresh = new Set<string>();
      for (const m of batch) if (m.key !== null && !blocked.has(m.key)) fresh.add(m.key);
      if (fresh.size === 0) return;
      for (const k of fresh) blocked.set(k, false);
      const rows = withRows.all(topic.id, req.group, p, JSON.stringify([...fresh]));
      for (const r of rows) blocked.set(String(r[0]), true);
    };
    // The rows are written at the end, one statement per state ([offset, key] pairs).
    const handed: [number, string | null][] = [];
    const waiting: [number, string][] = [];
    let next = c.cursor;
    let parked = 0;
    scan: while (out.claimed.length < req.limit && parked < LOOK_AHEAD) {
      // As many as the claim still wants (more when keys park some), at most 256 a read.
      const want = Math.min(256, Math.max(16, req.limit - out.claimed.length));
      const batch = this.#source.read(topic.id, p, next, want);
      if ("need" in batch) {
        out.needs.push(batch.need); // the cursor stays before the segment: nothing is skipped
        break;
      }
      if (batch.length === 0) break;
      learn(batch);
      for (const m of batch) {
        if (out.claimed.length >= req.limit || parked >= LOOK_AHEAD) break scan;
        if (m.key !== null && blocked.get(m.key)) {
          waiting.push([m.offset, m.key]);
          parked++;
        } else {
          handed.push([m.offset, m.key]);
          if (m.key !== null) blocked.set(m.key, true);
          out.claimed.push({ ...m, deliveryCount: 1, ackDeadline: c.deadline });
        }
        next = m.offset + 1;
      }
    }
    const insert = this.#store.writer(
      `INSERT INTO topic_deliveries (topic_id, group_name, part, msg_offset, key, acked, consumer,
        visible_at, delivery_count)
        SELECT ?1, ?2, ?3, j.value ->> 0, j.value ->> 1, ?4, ?5, ?6, ?7 FROM json_each(?8) j`,
    );
    const { id } = topic;
    if (handed.length) {
      insert.run(id, req.group, p, 0, req.consumer, c.deadline, 1, JSON.stringify(handed));
    }
    if (waiting.length) insert.run(id, req.group, p, 2, null, 0, 0, JSON.stringify(waiting));
    if (next !== c.cursor) this.#advance(topic.id, req.group, p, next);
  }

  /** The group's cursor in a partition, created from `from` the first time. */
  #cursor(topic: TopicInfo, group: string, p: number, from: ConsumeFrom): number {
    const r = this.#store.writer(
      "SELECT next_offset FROM topic_cursors WHERE topic_id = ? AND group_name = ? AND part = ?",
    ).get(topic.id, group, p);
    if (r) return Number(r[0]);
    const end = this.#source.nextOffset(topic.id, p);
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
  }

  /** A message done for the group (acked, dead-lettered, trimmed): its row goes. */
  #done(topicId: number, group: string, p: number, offset: number): void {
    this.#store.writer(
      `DELETE FROM topic_deliveries WHERE topic_id = ? AND group_name = ? AND part = ?
        AND msg_offset = ?`,
    ).run(topicId, group, p, offset);
  }

  /**
   * Acknowledges handed-out messages (inside a write); returns how many were unacked. Every
   * delivery row is behind the cursor, so an acked one just goes: one statement per partition.
   */
  ack(
    topicId: number,
    group: string,
    offsets: readonly (readonly [number, number])[],
    consumer?: string,
  ): number {
    const remove = this.#store.writer(
      `DELETE FROM topic_deliveries WHERE topic_id = ?1 AND group_name = ?2 AND part = ?3
        AND msg_offset IN (SELECT value FROM json_each(?4)) AND acked = 0
        AND (?5 IS NULL OR consumer = ?5) RETURNING key`,
    );
    let n = 0;
    for (const [p, list] of byPartition(offsets)) {
      const keys: string[] = [];
      for (const r of remove.all(topicId, group, p, JSON.stringify(list), consumer ?? null)) {
        n++;
        if (r[0] !== null) keys.push(String(r[0]));
      }
      // The freed keys' oldest parked messages become ready, in the same statement's write.
      if (keys.length) this.#release(topicId, group, p, keys);
    }
    return n;
  }

  /**
   * Keys of the group's partition were freed (their handed-out messages acked, dead-lettered or
   * trimmed): each one's oldest parked message becomes ready (inside the same write).
   */
  #release(topicId: number, group: string, p: number, keys: readonly string[]): void {
    // Per key one index seek to its oldest waiting row (made ready when it is still parked).
    this.#store.writer(
      `UPDATE topic_deliveries SET acked = 3 WHERE topic_id = ?1 AND group_name = ?2
        AND part = ?3 AND acked = 2 AND msg_offset IN (
          SELECT (SELECT msg_offset FROM topic_deliveries INDEXED BY topic_deliveries_waiting
              WHERE topic_id = ?1 AND group_name = ?2 AND part = ?3 AND key = j.value
                AND acked >= 2 ORDER BY msg_offset LIMIT 1)
            FROM json_each(?4) j)`,
    ).run(topicId, group, p, JSON.stringify(keys));
  }

  /**
   * Makes unacked messages visible again at `visibleAt` (NACK); returns how many. With
   * `consumer`, only its own claims (a late NACK after a re-claim changes nothing).
   */
  nack(
    topicId: number,
    group: string,
    offsets: readonly (readonly [number, number])[],
    visibleAt: number,
    consumer?: string,
  ): number {
    const st = this.#store.writer(
      `UPDATE topic_deliveries SET visible_at = ?1 WHERE topic_id = ?2 AND group_name = ?3
        AND part = ?4 AND msg_offset IN (SELECT value FROM json_each(?5)) AND acked = 0
        AND (?6 IS NULL OR consumer = ?6)`,
    );
    let n = 0;
    for (const [p, list] of byPartition(offsets)) {
      n += Number(
        st.run(visibleAt, topicId, group, p, JSON.stringify(list), consumer ?? null).changes,
      );
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
      "SELECT MIN(msg_offset) FROM topic_deliveries WHERE topic_id = ? AND part = ?",
    ).get(topicId, partition);
    const cursor = Number(c[0]);
    return d && d[0] !== null ? Math.min(cursor, Number(d[0])) : cursor;
  }

  /** Every group's position per partition (committed view), for system.topic_groups. */
  positions(topicId: number): GroupPartition[] {
    const rows = this.#store.reader(
      `SELECT c.group_name, c.part, c.next_offset,
          (SELECT MIN(d.msg_offset) FROM topic_deliveries d WHERE d.topic_id = c.topic_id
            AND d.group_name = c.group_name AND d.part = c.part),
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
