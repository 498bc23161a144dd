// Old topic messages in Parquet (DESIGN.md, Topics): owner of `topic_segments` and of the
// segment files under `<data_dir>/topics/t<topic_id>/p<partition>/`. A segment holds a run of
// one partition's messages (those without a MESSAGE_ID: those stay in SQLite for dedupe) and is
// listed in SQLite in the same transaction that deletes its messages from `topic_messages`, so
// a message is in exactly one place at every commit. Writing goes file first (temp + fsync +
// rename), then the listing; a crash between leaves an unlisted file, swept (10 minutes later)
// by a next write into that directory. Topic ids are never reused, so paths never meet.
//
// Reads are synchronous (claims run inside a write): a segment is decoded into memory first
// (`load`, async) and read from the cache; a read that needs an uncached segment answers
// `{ need }` instead of skipping its offsets.

import { DbError } from "../../errors.ts";
import { openObjectStore } from "../object_store/mod.ts";
import { decodeSegment, encodeSegment, type SegmentColumn } from "../parquet/mod.ts";
import type { SqliteStore } from "../hot/mod.ts";
import type { Message } from "./log.ts";

export interface SegmentRef {
  readonly topicId: number;
  readonly partition: number;
  readonly first: number;
  readonly last: number;
  readonly rows: number;
  readonly path: string;
  readonly minPublished: number;
  readonly maxPublished: number;
  readonly users: readonly string[];
}

/** A read that needs a segment in memory first. */
export interface NeedLoad {
  readonly need: SegmentRef;
}

/** The segment format of the cold tier (its `_seq` is the offset, `_deleted` always false). */
const COLUMNS: readonly SegmentColumn[] = [
  { name: "key", type: { base: "TEXT" } },
  { name: "op", type: { base: "TEXT" } },
  { name: "user", type: { base: "TEXT" } },
  { name: "payload", type: { base: "TEXT" } },
  { name: "published_at", type: { base: "BIGINT" } },
  { name: "_seq", type: { base: "BIGINT" } },
  { name: "_deleted", type: { base: "BOOLEAN" } },
];

/** Decoded messages kept in memory at most (whole segments, least recently used out first). */
const CACHE_ROWS = 200_000;

const SEGMENT_COLUMNS =
  "topic_id, part, first_offset, last_offset, rows, path, min_published, max_published, users";

function refOf(r: unknown[]): SegmentRef {
  return {
    topicId: Number(r[0]),
    partition: Number(r[1]),
    first: Number(r[2]),
    last: Number(r[3]),
    rows: Number(r[4]),
    path: String(r[5]),
    minPublished: Number(r[6]),
    maxPublished: Number(r[7]),
    users: JSON.parse(String(r[8])),
  };
}

export class TopicSegments {
  readonly #sql: SqliteStore;
  readonly #files;
  readonly #cache = new Map<string, Message[]>();
  #cachedRows = 0;

  constructor(sql: SqliteStore, dataDir: string) {
    this.#sql = sql;
    this.#files = openObjectStore({ kind: "filesystem", root: `${dataDir}/topics` });
  }

  /** A partition's segments ending at or after `from`, in offset order (writer view). */
  covering(topicId: number, partition: number, from: number): SegmentRef[] {
    return this.#sql.writer(
      `SELECT ${SEGMENT_COLUMNS} FROM topic_segments WHERE topic_id = ? AND part = ?
        AND last_offset >= ? ORDER BY first_offset`,
    ).all(topicId, partition, from).map(refOf);
  }

  /** The segment holding `offset`'s range, or undefined. */
  at(topicId: number, partition: number, offset: number): SegmentRef | undefined {
    const r = this.#sql.writer(
      `SELECT ${SEGMENT_COLUMNS} FROM topic_segments WHERE topic_id = ? AND part = ?
        AND first_offset <= ? AND last_offset >= ? LIMIT 1`,
    ).get(topicId, partition, offset, offset);
    return r ? refOf(r) : undefined;
  }

  /** The decoded messages of a segment, when in memory. */
  cached(ref: SegmentRef): Message[] | undefined {
    const rows = this.#cache.get(ref.path);
    if (rows) {
      this.#cache.delete(ref.path); // most recently used last
      this.#cache.set(ref.path, rows);
    }
    return rows;
  }

  /** Decodes a segment into memory (a consumer far behind reads it from there). */
  async load(ref: SegmentRef): Promise<void> {
    if (this.#cache.has(ref.path)) return;
    const bytes = await this.#files.get(ref.path);
    if (!bytes) {
      // Dropped meanwhile (a trim, a rewrite): its listing is gone too. A listed file that is
      // missing is damage, reported rather than read around.
      const listed = this.#sql.writer("SELECT 1 FROM topic_segments WHERE path = ?").get(ref.path);
      if (!listed) return;
      throw new DbError("STORAGE_ERROR", `Topic segment ${ref.path} is missing`);
    }
    const { rows } = await decodeSegment(bytes);
    const messages = rows.map((r): Message => ({
      partition: ref.partition,
      offset: Number(r[5]),
      key: r[0] as string | null,
      op: String(r[1]),
      user: r[2] as string | null,
      payload: String(r[3]),
      publishedAt: Number(r[4]),
      messageId: null,
    }));
    this.#cache.set(ref.path, messages);
    this.#cachedRows += messages.length;
    for (const [path, cached] of this.#cache) {
      if (this.#cachedRows <= CACHE_ROWS || path === ref.path) break;
      this.#cache.delete(path);
      this.#cachedRows -= cached.length;
    }
  }

  /**
   * Writes `messages` (one partition's, in offset order) as a new segment file and returns its
   * listing, not yet recorded: `record` does that inside the write that deletes them.
   */
  async write(
    topicId: number,
    partition: number,
    messages: readonly Message[],
  ): Promise<SegmentRef> {
    const dir = `t${topicId}/p${partition}`;
    // Unlisted files are leftovers of a crash (or of a write that lost its race): swept first.
    const listed = new Set(
      this.#sql.writer("SELECT path FROM topic_segments WHERE topic_id = ? AND part = ?")
        .all(topicId, partition).map((r) => String(r[0])),
    );
    // Only those written 10 minutes ago or more: a younger one may be a DROP USER's rewrite
    // that is about to be listed.
    for (const path of await this.#files.list(`${dir}/`)) {
      const written = parseInt(/-([0-9a-z]+)\.parquet$/.exec(path)?.[1] ?? "0", 36);
      if (!listed.has(path) && written < Date.now() - 600_000) await this.#files.delete(path);
    }
    const first = messages[0].offset;
    const last = messages.at(-1)!.offset;
    const path = `${dir}/seg-${first}-${last}-${Date.now().toString(36)}.parquet`;
    const rows = messages.map((m) => [
      m.key,
      m.op,
      m.user,
      m.payload,
      BigInt(m.publishedAt),
      BigInt(m.offset),
      false,
    ]);
    const { bytes } = encodeSegment(COLUMNS, rows);
    await this.#files.put(path, bytes);
    const users = [...new Set(messages.map((m) => m.user).filter((u) => u !== null))] as string[];
    return {
      topicId,
      partition,
      first,
      last,
      rows: messages.length,
      path,
      minPublished: messages.reduce((a, m) => Math.min(a, m.publishedAt), Infinity),
      maxPublished: messages.reduce((a, m) => Math.max(a, m.publishedAt), 0),
      users,
    };
  }

  /** Lists a written segment (inside the write that deletes its messages from SQLite). */
  record(ref: SegmentRef): void {
    this.#sql.writer(
      `INSERT INTO topic_segments (${SEGMENT_COLUMNS})
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      ref.topicId,
      ref.partition,
      ref.first,
      ref.last,
      ref.rows,
      ref.path,
      ref.minPublished,
      ref.maxPublished,
      JSON.stringify(ref.users),
    );
  }

  /**
   * Unlists the segments trimming removes (inside a write): wholly below `below`, or whose
   * newest message is older than `before`; returns their paths (deleted after the commit).
   */
  trim(topicId: number, partition: number, below: number, before: number): string[] {
    const gone = this.#sql.writer(
      `DELETE FROM topic_segments WHERE topic_id = ? AND part = ? AND (last_offset < ? OR
        max_published < ?) RETURNING path`,
    ).all(topicId, partition, below, before);
    return gone.map((r) => String(r[0]));
  }

  /** Unlists every segment of a topic (inside DROP / CLEAR); returns their paths. */
  dropTopic(topicId: number): string[] {
    return this.#sql.writer("DELETE FROM topic_segments WHERE topic_id = ? RETURNING path")
      .all(topicId).map((r) => String(r[0]));
  }

  /** Segments holding messages of `user` (committed view), for DROP USER. */
  withUser(user: string): SegmentRef[] {
    return this.#sql.reader(
      `SELECT ${SEGMENT_COLUMNS} FROM topic_segments
        WHERE EXISTS (SELECT 1 FROM json_each(users) WHERE value = ?)`,
    ).all(user).map(refOf);
  }

  /** True when a listed segment (writer view) still holds messages of `user`. */
  withUserNow(user: string): boolean {
    return this.#sql.writer(
      `SELECT 1 FROM topic_segments
        WHERE EXISTS (SELECT 1 FROM json_each(users) WHERE value = ?) LIMIT 1`,
    ).get(user) !== undefined;
  }

  /** A new file of `ref` without `user`'s messages (null: nothing would be left). */
  async without(ref: SegmentRef, user: string): Promise<SegmentRef | null> {
    await this.load(ref);
    const rest = (this.#cache.get(ref.path) ?? []).filter((m) => m.user !== user);
    return rest.length === 0 ? null : await this.write(ref.topicId, ref.partition, rest);
  }

  /** Replaces or unlists a rewritten segment (inside DROP USER's write). */
  replace(old: SegmentRef, next: SegmentRef | null): void {
    const gone = this.#sql.writer(
      "DELETE FROM topic_segments WHERE topic_id = ? AND part = ? AND path = ?",
    ).run(old.topicId, old.partition, old.path);
    // Unlisted meanwhile (a CLEAR, a trim, another DROP USER): the rewrite is stale.
    if (Number(gone.changes) !== 1) {
      throw new DbError("STORAGE_ERROR", `Topic segment ${old.path} changed meanwhile: retry`);
    }
    if (next) this.record(next);
  }

  /** Deletes unlisted files (after the commit that unlisted them); forgets their cache. */
  async deleteFiles(paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      const cached = this.#cache.get(path);
      if (cached) {
        this.#cache.delete(path);
        this.#cachedRows -= cached.length;
      }
      await this.#files.delete(path).catch(() => {}); // a leftover is swept later
    }
  }

  /** Messages in segments and the oldest publish time (committed view). */
  stats(topicId: number): { messages: number; oldest: number | null } {
    const r = this.#sql.reader(
      "SELECT COALESCE(SUM(rows), 0), MIN(min_published) FROM topic_segments WHERE topic_id = ?",
    ).get(topicId)!;
    return { messages: Number(r[0]), oldest: r[1] === null ? null : Number(r[1]) };
  }
}
