// The topics and their sources (SPEC §10): owner of the `topics` and `topic_sources` tables.
// Read through the writer connection, so a statement sees the topic DDL of its own group; the
// rows are few and the lookups index seeks, so nothing is cached that a rollback could leave
// stale.

import { DbError } from "../../errors.ts";
import type { SourceOp } from "../../sql/mod.ts";
import type { SqliteStore } from "../hot/mod.ts";

export interface TopicInfo {
  readonly id: number;
  readonly namespace: string;
  readonly name: string;
  readonly partitions: number;
  readonly retentionS: number;
  readonly visibilityS: number;
  readonly maxDeliveries: number;
  /** `ns.topic` of the dead-letter topic, or null. */
  readonly deadLetter: string | null;
  readonly createdAt: number;
}

export type PayloadMode = "full" | "key" | "diff";

export interface TopicSource {
  readonly topicId: number;
  readonly tableId: number;
  readonly ops: readonly SourceOp[];
  /** The WHERE as SQL text, or null. */
  readonly where: string | null;
  readonly payload: PayloadMode;
}

const TOPIC_COLUMNS =
  "topic_id, namespace, name, partitions, retention_s, visibility_s, max_deliveries, dead_letter, created_at";

function topicOf(r: unknown[]): TopicInfo {
  return {
    id: Number(r[0]),
    namespace: String(r[1]),
    name: String(r[2]),
    partitions: Number(r[3]),
    retentionS: Number(r[4]),
    visibilityS: Number(r[5]),
    maxDeliveries: Number(r[6]),
    deadLetter: r[7] === null ? null : String(r[7]),
    createdAt: Number(r[8]),
  };
}

export class TopicCatalog {
  readonly #store: SqliteStore;
  /** False only while no source was ever stored: writes then skip the lookup. */
  #anySources: boolean;

  constructor(store: SqliteStore) {
    this.#store = store;
    this.#anySources = store.writer("SELECT 1 FROM topic_sources LIMIT 1").get() !== undefined;
  }

  /** The topic, or undefined (writer view: includes the open group's DDL). */
  find(namespace: string, name: string): TopicInfo | undefined {
    const r = this.#store.writer(
      `SELECT ${TOPIC_COLUMNS} FROM topics WHERE namespace = ? AND name = ?`,
    ).get(namespace, name);
    return r ? topicOf(r) : undefined;
  }

  /** The topic, or NOT_FOUND. */
  get(namespace: string, name: string): TopicInfo {
    const t = this.find(namespace, name);
    if (!t) throw new DbError("NOT_FOUND", `Topic ${namespace}.${name} does not exist`);
    return t;
  }

  byId(id: number): TopicInfo | undefined {
    const r = this.#store.writer(`SELECT ${TOPIC_COLUMNS} FROM topics WHERE topic_id = ?`).get(id);
    return r ? topicOf(r) : undefined;
  }

  /** Every topic (committed view), by namespace and name. */
  list(namespace?: string): TopicInfo[] {
    const rows = namespace === undefined
      ? this.#store.reader(`SELECT ${TOPIC_COLUMNS} FROM topics ORDER BY namespace, name`).all()
      : this.#store.reader(
        `SELECT ${TOPIC_COLUMNS} FROM topics WHERE namespace = ? ORDER BY name`,
      ).all(namespace);
    return rows.map(topicOf);
  }

  /** Every topic id (writer view), for the retention job. */
  ids(): number[] {
    return this.#store.writer("SELECT topic_id FROM topics").all().map((r) => Number(r[0]));
  }

  /** Creates a topic (inside a write) and returns it. */
  create(t: Omit<TopicInfo, "id">): TopicInfo {
    const r = this.#store.writer(
      `INSERT INTO topics (namespace, name, partitions, retention_s, visibility_s, max_deliveries,
        dead_letter, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING topic_id`,
    ).get(
      t.namespace,
      t.name,
      t.partitions,
      t.retentionS,
      t.visibilityS,
      t.maxDeliveries,
      t.deadLetter,
      t.createdAt,
    );
    return { ...t, id: Number(r![0]) };
  }

  /** Removes a topic and its sources (inside a write; the log and groups go separately). */
  drop(id: number): void {
    this.#store.writer("DELETE FROM topic_sources WHERE topic_id = ?").run(id);
    this.#store.writer("DELETE FROM topics WHERE topic_id = ?").run(id);
  }

  /** Topics in a namespace (writer view), for DROP NAMESPACE. */
  inNamespace(namespace: string): TopicInfo[] {
    return this.#store.writer(`SELECT ${TOPIC_COLUMNS} FROM topics WHERE namespace = ?`)
      .all(namespace).map(topicOf);
  }

  /** Topics whose dead letters go to `deadLetter` (`ns.topic`). */
  feeding(deadLetter: string): TopicInfo[] {
    return this.#store.writer(`SELECT ${TOPIC_COLUMNS} FROM topics WHERE dead_letter = ?`)
      .all(deadLetter).map(topicOf);
  }

  /** Adds or replaces the source of `topicId` from `tableId`. */
  putSource(s: TopicSource, now: number): void {
    this.#anySources = true;
    this.#store.writer(
      `INSERT INTO topic_sources (table_id, topic_id, ops, where_sql, payload, created_at)
        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (table_id, topic_id) DO UPDATE SET
        ops = excluded.ops, where_sql = excluded.where_sql, payload = excluded.payload`,
    ).run(s.tableId, s.topicId, s.ops.join(","), s.where, s.payload, now);
  }

  /** Removes a source; false when there was none. */
  dropSource(topicId: number, tableId: number): boolean {
    const r = this.#store.writer("DELETE FROM topic_sources WHERE table_id = ? AND topic_id = ?")
      .run(tableId, topicId);
    return Number(r.changes) > 0;
  }

  /** Removes every source reading `tableId` (DROP TABLE). */
  dropTableSources(tableId: number): void {
    this.#store.writer("DELETE FROM topic_sources WHERE table_id = ?").run(tableId);
  }

  /** The sources reading a table (writer view: a write sees its own group's DDL). */
  sourcesOf(tableId: number): TopicSource[] {
    if (!this.#anySources) return [];
    return this.#store.writer(
      "SELECT topic_id, ops, where_sql, payload FROM topic_sources WHERE table_id = ?",
    ).all(tableId).map((r) => ({
      topicId: Number(r[0]),
      tableId,
      ops: String(r[1]).split(",") as SourceOp[],
      where: r[2] === null ? null : String(r[2]),
      payload: String(r[3]) as PayloadMode,
    }));
  }

  /** The sources of a topic (committed view), as `table_id`s with their settings. */
  sourcesFor(topicId: number): TopicSource[] {
    return this.#store.reader(
      "SELECT table_id, ops, where_sql, payload FROM topic_sources WHERE topic_id = ? ORDER BY table_id",
    ).all(topicId).map((r) => ({
      topicId,
      tableId: Number(r[0]),
      ops: String(r[1]).split(",") as SourceOp[],
      where: r[2] === null ? null : String(r[2]),
      payload: String(r[3]) as PayloadMode,
    }));
  }
}
