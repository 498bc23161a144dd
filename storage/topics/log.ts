// The topic log (SPEC §10): owner of `topic_partitions` (the next offset of each partition,
// kept so trimmed offsets are never reused) and `topic_messages`. Appends run inside the write
// transaction of whatever published them — a source table's write or a PUBLISH — so a message
// exists exactly when its write committed.

import type { SqliteStore } from "../hot/mod.ts";
import type { TopicInfo } from "./catalog.ts";

export interface Message {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  /** `insert` / `update` / `delete` for a source table's write, `publish` for PUBLISH. */
  readonly op: string;
  /** The writer's user for USER/STREAM sources, else null. */
  readonly user: string | null;
  /** JSON text. */
  readonly payload: string;
  /** Epoch ms. */
  readonly publishedAt: number;
  readonly messageId: string | null;
}

export interface NewMessage {
  readonly key: string | null;
  readonly op: string;
  readonly user: string | null;
  readonly payload: string;
  readonly messageId: string | null;
}

export interface Appended {
  readonly partition: number;
  readonly offset: number;
  /** True when MESSAGE_ID matched a kept message: nothing was stored. */
  readonly duplicate: boolean;
}

const MESSAGE_COLUMNS = "part, msg_offset, key, op, user_id, payload, published_at, message_id";

function messageOf(r: unknown[]): Message {
  return {
    partition: Number(r[0]),
    offset: Number(r[1]),
    key: r[2] === null ? null : String(r[2]),
    op: String(r[3]),
    user: r[4] === null ? null : String(r[4]),
    payload: String(r[5]),
    publishedAt: Number(r[6]),
    messageId: r[7] === null ? null : String(r[7]),
  };
}

/** FNV-1a over the key's UTF-16 code units: stable across restarts and platforms. */
export function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

export class TopicLog {
  readonly #store: SqliteStore;
  /** Messages without a key go round the partitions. */
  #next = 0;

  constructor(store: SqliteStore) {
    this.#store = store;
  }

  /** Creates the partitions of a new topic (inside its CREATE's write). */
  createPartitions(topicId: number, partitions: number): void {
    const st = this.#store.writer(
      "INSERT OR IGNORE INTO topic_partitions (topic_id, part, next_offset) VALUES (?, ?, 0)",
    );
    for (let p = 0; p < partitions; p++) st.run(topicId, p);
  }

  /** Appends a message (inside a write), or finds the kept one with the same MESSAGE_ID. */
  append(topic: TopicInfo, m: NewMessage, now: number): Appended {
    if (m.messageId !== null) {
      const seen = this.#store.writer(
        "SELECT part, msg_offset FROM topic_messages WHERE topic_id = ? AND message_id = ?",
      ).get(topic.id, m.messageId);
      if (seen) return { partition: Number(seen[0]), offset: Number(seen[1]), duplicate: true };
    }
    const partition = m.key === null
      ? (this.#next = (this.#next + 1) % topic.partitions)
      : partitionOf(m.key, topic.partitions);
    const r = this.#store.writer(
      `UPDATE topic_partitions SET next_offset = next_offset + 1 WHERE topic_id = ? AND part = ?
        RETURNING next_offset - 1`,
    ).get(topic.id, partition);
    const offset = Number(r![0]);
    this.#store.writer(
      `INSERT INTO topic_messages (topic_id, ${MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(topic.id, partition, offset, m.key, m.op, m.user, m.payload, now, m.messageId);
    return { partition, offset, duplicate: false };
  }

  /** Up to `limit` messages of a partition from offset `from` on, in offset order (writer view). */
  read(topicId: number, partition: number, from: number, limit: number): Message[] {
    return this.#store.writer(
      `SELECT ${MESSAGE_COLUMNS} FROM topic_messages WHERE topic_id = ? AND part = ?
        AND msg_offset >= ? ORDER BY msg_offset LIMIT ?`,
    ).all(topicId, partition, from, limit).map(messageOf);
  }

  /** The messages of `offsets` still in SQLite (a trimmed or offloaded one is absent). */
  messages(topicId: number, partition: number, offsets: readonly number[]): Map<number, Message> {
    const rows = this.#store.writer(
      `SELECT ${MESSAGE_COLUMNS} FROM topic_messages WHERE topic_id = ? AND part = ?
        AND msg_offset IN (SELECT value FROM json_each(?))`,
    ).all(topicId, partition, JSON.stringify(offsets));
    const out = new Map<number, Message>();
    for (const r of rows) {
      const m = messageOf(r);
      out.set(m.offset, m);
    }
    return out;
  }

  /** One message, or undefined when it was trimmed. */
  message(topicId: number, partition: number, offset: number): Message | undefined {
    const r = this.#store.writer(
      `SELECT ${MESSAGE_COLUMNS} FROM topic_messages WHERE topic_id = ? AND part = ? AND msg_offset = ?`,
    ).get(topicId, partition, offset);
    return r ? messageOf(r) : undefined;
  }

  /** The offset the next message of the partition gets. */
  nextOffset(topicId: number, partition: number): number {
    const r = this.#store.writer(
      "SELECT next_offset FROM topic_partitions WHERE topic_id = ? AND part = ?",
    ).get(topicId, partition);
    return r ? Number(r[0]) : 0;
  }

  /**
   * Deletes messages below `below` and those published before `before` (ms), at most `max`. A
   * message with a MESSAGE_ID stays until `before` passes it, acked or not: dedupe holds for
   * the whole retention (SPEC §10).
   */
  trim(topicId: number, partition: number, below: number, before: number, max: number): number {
    const r = this.#store.writer(
      `DELETE FROM topic_messages WHERE topic_id = ? AND part = ? AND msg_offset IN (
        SELECT msg_offset FROM topic_messages WHERE topic_id = ? AND part = ?
          AND ((msg_offset < ? AND message_id IS NULL) OR published_at < ?)
          ORDER BY msg_offset LIMIT ?)`,
    ).run(topicId, partition, topicId, partition, below, before, max);
    return Number(r.changes);
  }

  /**
   * Deletes every message published from `user`'s rows (DROP USER); returns how many. Groups
   * that still hold a claim on one find it gone and count it done.
   */
  eraseUser(user: string): number {
    const r = this.#store.writer("DELETE FROM topic_messages WHERE user_id = ?").run(user);
    return Number(r.changes);
  }

  /**
   * Up to `max` of a partition's oldest messages published before `before` (ms) and without a
   * MESSAGE_ID (those stay here for dedupe), in offset order (committed view): what an offload
   * moves into a segment.
   */
  oldMessages(topicId: number, partition: number, before: number, max: number): Message[] {
    const rows = this.#store.reader(
      `SELECT ${MESSAGE_COLUMNS} FROM topic_messages WHERE topic_id = ? AND part = ?
        AND message_id IS NULL ORDER BY msg_offset LIMIT ?`,
    ).all(topicId, partition, max).map(messageOf);
    // A run of offsets: it ends at the first message that is not old yet.
    const young = rows.findIndex((m) => m.publishedAt >= before);
    return young < 0 ? rows : rows.slice(0, young);
  }

  /** Deletes the MESSAGE_ID-less messages of an offset range (inside the offload's write). */
  moveOut(topicId: number, partition: number, first: number, last: number): number {
    return Number(
      this.#store.writer(
        `DELETE FROM topic_messages WHERE topic_id = ? AND part = ? AND msg_offset BETWEEN ? AND ?
          AND message_id IS NULL`,
      ).run(topicId, partition, first, last).changes,
    );
  }

  /** Deletes every message of a topic; offsets go on where they were (CLEAR TOPIC). */
  clear(topicId: number): void {
    this.#store.writer("DELETE FROM topic_messages WHERE topic_id = ?").run(topicId);
  }

  /** Deletes the topic's messages and partitions (DROP TOPIC). */
  drop(topicId: number): void {
    this.clear(topicId);
    this.#store.writer("DELETE FROM topic_partitions WHERE topic_id = ?").run(topicId);
  }

  /** Kept messages of a topic and their oldest publish time (committed view). */
  stats(topicId: number): { messages: number; oldest: number | null } {
    const r = this.#store.reader(
      "SELECT COUNT(*), MIN(published_at) FROM topic_messages WHERE topic_id = ?",
    ).get(topicId)!;
    return { messages: Number(r[0]), oldest: r[1] === null ? null : Number(r[1]) };
  }

  /** Per partition: next offset (committed view). */
  partitions(topicId: number): { partition: number; next: number }[] {
    return this.#store.reader(
      "SELECT part, next_offset FROM topic_partitions WHERE topic_id = ? ORDER BY part",
    ).all(topicId).map((r) => ({ partition: Number(r[0]), next: Number(r[1]) }));
  }

  /** Publish time of one message (committed view), or null. */
  publishedAt(topicId: number, partition: number, offset: number): number | null {
    const r = this.#store.reader(
      "SELECT published_at FROM topic_messages WHERE topic_id = ? AND part = ? AND msg_offset = ?",
    ).get(topicId, partition, offset);
    return r ? Number(r[0]) : null;
  }
}
