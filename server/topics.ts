// The topic routes of SPEC §10 over HTTP: `POST /v1/api/topics/consume`, `/ack`, and (for the
// SDK's nack-with-backoff and for producers without SQL) `/nack` and `/publish`. Each body is
// turned into the one equivalent statement — names checked, strings quoted — and run through
// the same path as `/v1/api/sql`, so authorization and errors are exactly those of the SQL.

import { DbError } from "../errors.ts";
import { printString as quote } from "../sql/mod.ts";

const TOPIC_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}\.[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export type TopicRoute = "consume" | "ack" | "nack" | "publish";

function topicOf(body: Record<string, unknown>): string {
  const t = body.topic;
  if (typeof t !== "string" || !TOPIC_RE.test(t)) {
    throw new DbError("INVALID_PARAMETER", 'The body needs "topic": "namespace.topic"');
  }
  return t;
}

function text(body: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required) throw new DbError("INVALID_PARAMETER", `The body needs "${name}": a string`);
    return undefined;
  }
  if (typeof v !== "string" || v.length === 0 || v.length > 256 || v.includes("\0")) {
    throw new DbError("INVALID_PARAMETER", `"${name}" must be a string of 1 to 256 characters`);
  }
  return v;
}

function whole(body: Record<string, unknown>, name: string, max: number): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max) {
    throw new DbError("INVALID_PARAMETER", `"${name}" must be a whole number from 0 to ${max}`);
  }
  return v;
}

/** The statement (and its parameters) a topic route's body stands for. */
export function topicStatement(
  route: TopicRoute,
  body: Record<string, unknown>,
): { sql: string; params: unknown[] } {
  const topic = topicOf(body);
  switch (route) {
    case "consume": {
      const group = text(body, "group", true)!;
      const consumer = text(body, "consumer", false);
      const limit = whole(body, "limit", 10_000);
      const wait = whole(body, "wait_ms", 600_000);
      const from = body.from;
      let fromSql = "";
      if (from === "earliest" || from === "latest") fromSql = ` FROM ${from.toUpperCase()}`;
      else if (typeof from === "number") fromSql = ` FROM ${whole(body, "from", 2 ** 52)}`;
      else if (from !== undefined) {
        throw new DbError("INVALID_PARAMETER", '"from" must be "earliest", "latest" or an offset');
      }
      return {
        sql: `CONSUME FROM ${topic} GROUP ${quote(group)}${
          consumer ? ` CONSUMER ${quote(consumer)}` : ""
        }${fromSql}${limit !== undefined ? ` LIMIT ${limit}` : ""}${
          wait !== undefined ? ` WAIT ${wait}` : ""
        }`,
        params: [],
      };
    }
    case "ack":
    case "nack": {
      const group = text(body, "group", true)!;
      const consumer = text(body, "consumer", false);
      const delay = route === "nack" ? whole(body, "delay_s", 43200) : undefined;
      // The offsets go as a parameter (checked by the statement): the text is the same for
      // every batch, so it is parsed once.
      return {
        sql: `${route.toUpperCase()} ${topic} GROUP ${quote(group)}${
          consumer ? ` CONSUMER ${quote(consumer)}` : ""
        } OFFSETS $1${delay !== undefined ? ` DELAY ${delay}` : ""}`,
        params: [JSON.stringify(body.offsets ?? null)],
      };
    }
    case "publish": {
      const key = text(body, "key", false);
      const id = text(body, "message_id", false);
      if (!("payload" in body)) {
        throw new DbError("INVALID_PARAMETER", 'The body needs "payload": any JSON value');
      }
      const params: unknown[] = [JSON.stringify(body.payload)];
      let sql = `PUBLISH TO ${topic}`;
      if (key !== undefined) sql += ` KEY $${params.push(key)}`;
      if (id !== undefined) sql += ` MESSAGE_ID $${params.push(id)}`;
      return { sql: `${sql} PAYLOAD $1`, params };
    }
  }
}

/** The answer body of a topic route from the statement's result rows (already JSON-encoded). */
export function topicAnswer(
  route: TopicRoute,
  result: { schema?: { name: string }[]; rows?: unknown[][]; row_count: number },
): Record<string, unknown> {
  if (route === "ack" || route === "nack") {
    return { [route === "ack" ? "acknowledged" : "released"]: result.row_count };
  }
  const names = (result.schema ?? []).map((c) => c.name);
  const objects = (result.rows ?? []).map((r) => {
    const o: Record<string, unknown> = {};
    names.forEach((n, i) => o[n] = r[i]);
    return o;
  });
  if (route === "publish") {
    const o = objects[0];
    return { partition: o.partition, offset: Number(o.offset), duplicate: o.duplicate };
  }
  // Offsets as numbers: they are what ACK takes back; they stay far below 2^53.
  return { messages: objects.map((o) => ({ ...o, offset: Number(o.offset) })) };
}
