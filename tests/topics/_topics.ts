// Kit for the topic suites (SPEC §10): thin wrappers over the SQL statements and the HTTP
// routes of a real server (tests/server/_server.ts), turning CONSUME rows into objects. Every
// wait is bounded: CONSUME's own WAIT, `until`, or `within` (a promise with a deadline).

import {
  assert,
  assertSuccess,
  type Reply,
  ROOT,
  show,
  type TestServer,
} from "../server/_server.ts";

export * from "../server/_server.ts";

/** One consumed message, CONSUME's columns by name (offset as a number). */
export interface Msg {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly op: string;
  readonly user: string | null;
  // deno-lint-ignore no-explicit-any
  readonly payload: any;
  readonly published_at: string;
  readonly message_id: string | null;
  readonly delivery_count: number;
  readonly ack_deadline: string;
}

/** Statement `i` of a success body as objects keyed by column name. */
export function objects(r: Reply, i = 0): Record<string, unknown>[] {
  const body = assertSuccess(r);
  const res = body.results[i];
  const names: string[] = res.schema.map((c: { name: string }) => c.name);
  return res.rows.map((row: unknown[]) => Object.fromEntries(names.map((n, j) => [n, row[j]])));
}

/** The messages of a CONSUME result (statement `i`). */
export function messages(r: Reply, i = 0): Msg[] {
  return objects(r, i).map((o) => ({ ...o, offset: Number(o.offset) }) as unknown as Msg);
}

export interface ConsumeOptions {
  readonly consumer?: string;
  readonly from?: string;
  readonly limit?: number;
  readonly wait?: number;
  readonly auth?: string;
}

/** `CONSUME FROM topic GROUP 'group' …`; fails unless it succeeds. */
export async function consume(
  server: TestServer,
  topic: string,
  group: string,
  o: ConsumeOptions = {},
): Promise<Msg[]> {
  let sql = `CONSUME FROM ${topic} GROUP '${group}'`;
  if (o.consumer) sql += ` CONSUMER '${o.consumer}'`;
  if (o.from) sql += ` FROM ${o.from}`;
  if (o.limit !== undefined) sql += ` LIMIT ${o.limit}`;
  if (o.wait !== undefined) sql += ` WAIT ${o.wait}`;
  const r = await server.sql(sql, { auth: o.auth ?? ROOT });
  assertSuccess(r, sql);
  return messages(r);
}

/** `p:o, p:o` of some messages. */
export function offsets(msgs: readonly Msg[]): string {
  return msgs.map((m) => `${m.partition}:${m.offset}`).join(", ");
}

/** `ACK topic GROUP 'group' OFFSETS (…)`; returns row_count (newly acked). */
export async function ack(
  server: TestServer,
  topic: string,
  group: string,
  msgs: readonly Msg[],
): Promise<number> {
  const sql = `ACK ${topic} GROUP '${group}' OFFSETS (${offsets(msgs)})`;
  const r = await server.sql(sql, { auth: ROOT });
  return assertSuccess(r, sql).results[0].row_count;
}

/** `PUBLISH TO topic [KEY] [MESSAGE_ID] PAYLOAD '<json>'`; returns the row as an object. */
export async function publish(
  server: TestServer,
  topic: string,
  payload: unknown,
  o: { key?: string; id?: string; auth?: string } = {},
): Promise<{ partition: number; offset: number; duplicate: boolean }> {
  const r = await server.sql(publishSql(topic, payload, o), { auth: o.auth ?? ROOT });
  const row = objects(r)[0];
  return {
    partition: row.partition as number,
    offset: Number(row.offset),
    duplicate: row.duplicate as boolean,
  };
}

/** The text of one PUBLISH statement. */
export function publishSql(topic: string, payload: unknown, o: { key?: string; id?: string } = {}) {
  let sql = `PUBLISH TO ${topic}`;
  if (o.key !== undefined) sql += ` KEY '${o.key}'`;
  if (o.id !== undefined) sql += ` MESSAGE_ID '${o.id}'`;
  return `${sql} PAYLOAD '${JSON.stringify(payload).replaceAll("'", "''")}'`;
}

/** Runs many PUBLISH statements in batches of `per` statements per request. */
export async function publishAll(
  server: TestServer,
  statements: readonly string[],
  per = 100,
): Promise<void> {
  for (let i = 0; i < statements.length; i += per) {
    await server.root(statements.slice(i, i + per).join(";\n"));
  }
}

/** Consumes (and acks) until `topic` has nothing more for `group`; returns every message. */
export async function drain(server: TestServer, topic: string, group: string): Promise<Msg[]> {
  const all: Msg[] = [];
  while (true) {
    const batch = await consume(server, topic, group, { limit: 1000 });
    if (batch.length === 0) return all;
    all.push(...batch);
    const n = await ack(server, topic, group, batch);
    assert(n === batch.length, `acked ${n} of ${batch.length}: ${show(offsets(batch))}`);
  }
}

/** `promise`, or a failure naming `what` after `ms` (the timer is always cleared). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The rows of system.topic_groups for one topic/group, by partition. */
export async function groupRows(
  server: TestServer,
  topic: string,
  group: string,
): Promise<Record<string, unknown>[]> {
  const r = await server.root(
    `SELECT partition, committed_offset, pending, lag, oldest_pending_age_s FROM system.topic_groups
      WHERE topic = '${topic}' AND "group" = '${group}' ORDER BY partition`,
  );
  return objects(r);
}
