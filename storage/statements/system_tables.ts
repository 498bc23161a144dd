// The read-only `system.*` tables (SPEC §6), computed from the catalog on each read and exposed
// as TableSources so SELECT, joins and filters work on them like on any table. SHOW statements
// are views over the same rows.

import {
  type ColumnSchema,
  type Row,
  type TableSource,
  type TypeName,
  typeToString,
} from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import { msToNs, type StoreParts, T } from "./context.ts";
import { TOPIC_COLUMNS, TOPIC_GROUP_COLUMNS, topicGroupRows, topicRows } from "./topics.ts";

type Columns = readonly (readonly [string, TypeName])[];

interface SystemTable {
  readonly columns: Columns;
  rows(engine: StoreParts): Row[];
}

const SYSTEM_TABLES: Record<string, SystemTable> = {
  namespaces: {
    columns: [["name", T.text], ["table_count", T.int], ["created_at", T.ts]],
    rows: (e) => {
      const counts = new Map<string, number>();
      for (const t of e.catalog.tables()) {
        counts.set(t.namespace, (counts.get(t.namespace) ?? 0) + 1);
      }
      return e.catalog.namespaces().map(([name, at]) => [name, counts.get(name) ?? 0, msToNs(at)]);
    },
  },
  tables: {
    columns: [
      ["namespace", T.text],
      ["table_name", T.text],
      ["table_type", T.text],
      ["storage_id", T.text],
      ["access_level", T.text],
      ["flush_policy", T.text],
      ["ttl_seconds", T.int],
      ["schema_version", T.int],
      ["created_at", T.ts],
    ],
    rows: (e) =>
      e.catalog.tables().map((t) => [
        t.namespace,
        t.name,
        t.tableType,
        t.storageId,
        t.accessLevel,
        t.flushPolicy,
        t.ttlSeconds,
        t.version,
        msToNs(t.createdAt),
      ]),
  },
  columns: {
    columns: [
      ["namespace", T.text],
      ["table_name", T.text],
      ["column_name", T.text],
      ["ordinal_position", T.int],
      ["data_type", T.text],
      ["is_nullable", T.bool],
      ["is_primary_key", T.bool],
      ["column_default", T.text],
    ],
    rows: (e) =>
      e.catalog.tables().flatMap((t) =>
        t.schema.columns.map((c, i) => [
          t.namespace,
          t.name,
          c.name,
          i + 1,
          typeToString(c.type),
          c.nullable,
          c.primaryKey,
          c.default ?? null,
        ])
      ),
  },
  users: {
    columns: [
      ["user_id", T.text],
      ["role", T.text],
      ["email", T.text],
      ["created_at", T.ts],
      ["updated_at", T.ts],
    ],
    rows: (e) =>
      e.catalog.users().map((u) => [
        u.name,
        u.role,
        u.email,
        msToNs(u.createdAt),
        msToNs(u.updatedAt),
      ]),
  },
  storages: {
    columns: [
      ["storage_id", T.text],
      ["storage_type", T.text],
      ["path", T.text],
      ["bucket", T.text],
      ["endpoint", T.text],
      ["region", T.text],
      ["shared_tables_template", T.text],
      ["user_tables_template", T.text],
      ["created_at", T.ts],
      ["updated_at", T.ts],
    ],
    rows: (e) =>
      e.catalog.storages().map((s) => [
        s.id,
        s.type,
        s.config.PATH ?? null,
        s.config.BUCKET ?? null,
        s.config.ENDPOINT ?? null,
        s.config.REGION ?? null,
        s.config.SHARED_TABLES_TEMPLATE ?? null,
        s.config.USER_TABLES_TEMPLATE ?? null,
        msToNs(s.createdAt),
        msToNs(s.updatedAt),
      ]),
  },
  jobs: {
    columns: [
      ["job_id", T.text],
      ["job_type", T.text],
      ["status", T.text],
      ["namespace", T.text],
      ["table_name", T.text],
      ["parameters", T.json],
      ["message", T.text],
      ["retry_count", T.int],
      ["created_at", T.ts],
      ["started_at", T.ts],
      ["finished_at", T.ts],
      ["took_ms", T.double],
    ],
    rows: (e) =>
      e.jobs.list().map((j) => [
        j.id,
        j.type,
        j.status,
        j.namespace,
        j.table,
        j.parameters,
        j.message,
        j.retryCount,
        msToNs(j.createdAt),
        j.startedAt === null ? null : msToNs(j.startedAt),
        j.finishedAt === null ? null : msToNs(j.finishedAt),
        j.tookMs,
      ]),
  },
  live_queries: {
    columns: [
      ["live_id", T.text],
      ["connection_id", T.text],
      ["user_id", T.text],
      ["namespace", T.text],
      ["table_name", T.text],
      ["query", T.text],
      ["options", T.json],
      ["created_at", T.ts],
      ["last_event_at", T.ts],
      ["changes_sent", T.bigint],
    ],
    rows: (e) =>
      (e.live.queries?.list() ?? []).map((q) => [
        q.liveId,
        q.connectionId,
        q.user,
        q.namespace,
        q.table,
        q.query,
        q.options,
        msToNs(q.createdAt),
        msToNs(q.lastEventAt),
        BigInt(q.changesSent),
      ]),
  },
  topics: { columns: TOPIC_COLUMNS, rows: (e) => topicRows(e) },
  topic_groups: { columns: TOPIC_GROUP_COLUMNS, rows: topicGroupRows },
  stats: {
    columns: [["metric_name", T.text], ["metric_value", T.text]],
    rows: (e) => {
      const log = e.changeLog.size();
      return [
        ["namespaces", String(e.catalog.namespaces().length)],
        ["tables", String(e.catalog.tables().length)],
        ["users", String(e.catalog.users().length)],
        ["buffered_rows", String(e.buffer.liveRows())],
        ["changelog_entries", String(log.entries)],
        ["last_seq", String(log.lastSeq)],
        ["node_id", String(e.ids.nodeId)],
      ];
    },
  },
};

/** Names of the system tables, for completion and SHOW. */
export const SYSTEM_TABLE_NAMES = Object.keys(SYSTEM_TABLES);

function columnsOf(cols: Columns): ColumnSchema[] {
  return cols.map(([name, type], i) => ({
    id: i + 1,
    name,
    type,
    nullable: true,
    primaryKey: false,
  }));
}

/** A TableSource over `system.<name>`, or TABLE_NOT_FOUND. */
export function systemTable(engine: StoreParts, name: string): TableSource {
  const def = SYSTEM_TABLES[name];
  if (!def) throw new DbError("TABLE_NOT_FOUND", `Table "system.${name}" does not exist`);
  return {
    schema: {
      namespace: "system",
      name,
      tableType: "SYSTEM",
      version: 1,
      columns: columnsOf(def.columns),
      pkIndex: -1,
    },
    async *scan() {
      const rows = def.rows(engine);
      if (rows.length) yield rows;
    },
  };
}

/** The columns and current rows of `system.<name>` (for SHOW statements). */
export function systemRows(engine: StoreParts, name: string): { columns: Columns; rows: Row[] } {
  const def = SYSTEM_TABLES[name];
  return { columns: def.columns, rows: def.rows(engine) };
}
