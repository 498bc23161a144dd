// Topic statements (SPEC §10): CREATE / DROP / CLEAR / ALTER TOPIC, PUBLISH, CONSUME (a real
// long-poll: woken by the commit that publishes or acks, or by the next claim's expiry), ACK,
// NACK, SHOW TOPICS, and the retention job. Every change runs as one group-commit statement, so
// a claim is durable before the consumer sees it.

import {
  assignLiteral,
  compileAssignment,
  type OptionItem,
  printExpr,
  type Row,
  type TableName,
  visitExpr,
} from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import { logWarn } from "../../log.ts";
import type { Claimed, PayloadMode, TopicInfo } from "../topics/mod.ts";
import { type Handler, msToNs, type Outcome, type StoreParts, T, table } from "./context.ts";

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const DEFAULTS = { retentionS: 7 * 86400, visibilityS: 30, maxDeliveries: 5 };
const MAX_PARTITIONS = 256;
/** A CONSUME waits at most this long (a longer WAIT is shortened to it). */
export const MAX_WAIT_MS = 60_000;
export const MAX_CONSUME_LIMIT = 10_000;
const DEFAULT_LIMIT = 100;

const invalid = (message: string) => new DbError("INVALID_SQL", message);

function positive(o: OptionItem, max = 10 * 365 * 86400): number {
  const v = o.value;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 || v > max) {
    throw invalid(`${o.key} must be a whole number from 1 to ${max}`);
  }
  return v;
}

/** `ns.topic` of DEAD_LETTER, checked as a name. */
function topicRef(o: OptionItem): [string, string] {
  const parts = String(o.value).split(".");
  if (parts.length !== 2 || !parts.every((x) => NAME_RE.test(x))) {
    throw invalid(`DEAD_LETTER must name a topic as 'namespace.topic'`);
  }
  return [parts[0], parts[1]];
}

function findTopic(e: StoreParts, t: TableName): TopicInfo {
  if (!e.catalog.hasNamespace(t.namespace)) {
    throw new DbError("NAMESPACE_NOT_FOUND", `Namespace "${t.namespace}" does not exist`);
  }
  return e.topics.catalog.get(t.namespace, t.name);
}

export const createTopic: Handler<"create_topic"> = (stmt, ctx) => {
  const e = ctx.engine;
  const { namespace, name } = stmt.topic;
  const partitions = stmt.partitions ?? 1;
  if (partitions < 1 || partitions > MAX_PARTITIONS) {
    throw invalid(`PARTITIONS must be from 1 to ${MAX_PARTITIONS}`);
  }
  const settings = { ...DEFAULTS };
  let deadLetter: [string, string] | undefined;
  for (const o of stmt.options) {
    if (o.key === "RETENTION_SECONDS") settings.retentionS = positive(o);
    else if (o.key === "VISIBILITY_TIMEOUT_SECONDS") settings.visibilityS = positive(o, 43200);
    else if (o.key === "MAX_DELIVERIES") settings.maxDeliveries = positive(o, 1000);
    else if (o.key === "DEAD_LETTER") deadLetter = topicRef(o);
    else {
      throw invalid(
        `Unknown topic option ${o.key}: use RETENTION_SECONDS, VISIBILITY_TIMEOUT_SECONDS, MAX_DELIVERIES or DEAD_LETTER`,
      );
    }
  }
  if (deadLetter && deadLetter[0] === namespace && deadLetter[1] === name) {
    throw invalid("A topic cannot be its own DEAD_LETTER topic");
  }
  return ctx.engine.group.run((): Outcome => {
    if (!e.catalog.hasNamespace(namespace)) {
      throw new DbError("NAMESPACE_NOT_FOUND", `Namespace "${namespace}" does not exist`);
    }
    if (e.topics.catalog.find(namespace, name)) {
      if (stmt.ifNotExists) {
        return { rowCount: 0, message: `Topic ${namespace}.${name} already exists, skipped` };
      }
      throw new DbError("ALREADY_EXISTS", `Topic ${namespace}.${name} already exists`);
    }
    const now = Date.now();
    let extra = "";
    if (deadLetter && !e.topics.catalog.find(...deadLetter)) {
      // A dead-letter topic named but missing is created with the defaults (no dead letters).
      if (!e.catalog.hasNamespace(deadLetter[0])) {
        throw new DbError("NAMESPACE_NOT_FOUND", `Namespace "${deadLetter[0]}" does not exist`);
      }
      const dl = e.topics.catalog.create({
        namespace: deadLetter[0],
        name: deadLetter[1],
        partitions,
        ...DEFAULTS,
        deadLetter: null,
        createdAt: now,
      });
      e.topics.log.createPartitions(dl.id, partitions);
      extra = ` (and its dead-letter topic ${deadLetter.join(".")})`;
    }
    const t = e.topics.catalog.create({
      namespace,
      name,
      partitions,
      ...settings,
      deadLetter: deadLetter ? deadLetter.join(".") : null,
      createdAt: now,
    });
    e.topics.log.createPartitions(t.id, partitions);
    return { rowCount: 0, message: `Topic ${namespace}.${name} created${extra}` };
  });
};

/** Removes a topic's messages, groups and catalog entry (inside a write). */
export function dropTopicData(e: StoreParts, t: TopicInfo): void {
  e.topics.groups.drop(t.id);
  e.topics.log.drop(t.id);
  e.topics.deleteAfterCommit(e.topics.segments.dropTopic(t.id));
  e.topics.catalog.drop(t.id);
  e.topics.wakeAfterCommit(t.id);
}

export const dropTopic: Handler<"drop_topic"> = (stmt, ctx) => {
  const e = ctx.engine;
  const { namespace, name } = stmt.topic;
  return e.group.run((): Outcome => {
    const t = e.topics.catalog.find(namespace, name);
    if (!t) {
      if (stmt.ifExists) {
        return { rowCount: 0, message: `Topic ${namespace}.${name} does not exist, skipped` };
      }
      findTopic(e, stmt.topic); // the precise not-found error
    }
    const feeding = e.topics.catalog.feeding(`${namespace}.${name}`).filter((f) => f.id !== t!.id);
    if (feeding.length) {
      throw invalid(
        `Topic ${namespace}.${name} is the dead-letter topic of ${
          feeding.map((f) => `${f.namespace}.${f.name}`).join(", ")
        }: drop that first`,
      );
    }
    dropTopicData(e, t!);
    return { rowCount: 0, message: `Topic ${namespace}.${name} dropped` };
  });
};

export const clearTopic: Handler<"clear_topic"> = (stmt, ctx) => {
  const e = ctx.engine;
  return e.group.run((): Outcome => {
    const t = findTopic(e, stmt.topic);
    e.topics.groups.drop(t.id);
    e.topics.log.clear(t.id);
    e.topics.deleteAfterCommit(e.topics.segments.dropTopic(t.id));
    e.topics.wakeAfterCommit(t.id);
    return { rowCount: 0, message: `Topic ${t.namespace}.${t.name} cleared` };
  });
};

const PAYLOADS: readonly PayloadMode[] = ["full", "key", "diff"];

export const alterTopic: Handler<"alter_topic"> = (stmt, ctx) => {
  const e = ctx.engine;
  const c = stmt.change;
  const src = `${c.table.namespace}.${c.table.name}`;
  if (c.table.namespace === "system") throw invalid("A system table cannot be a topic source");
  let payload: PayloadMode = "full";
  if (c.action === "add_source") {
    for (const o of c.options) {
      const v = String(o.value).toLowerCase() as PayloadMode;
      if (o.key !== "PAYLOAD") throw invalid(`Unknown source option ${o.key}: use PAYLOAD`);
      if (!PAYLOADS.includes(v)) throw invalid(`PAYLOAD must be 'full', 'key' or 'diff'`);
      payload = v;
    }
    if (c.where) {
      visitExpr(c.where, (x) => {
        if (x.kind === "subquery" || x.kind === "exists" || x.kind === "in_subquery") {
          throw new DbError("UNSUPPORTED", "A topic source's WHERE cannot hold a subquery");
        }
        if (x.kind === "param") throw invalid("A topic source's WHERE cannot hold parameters");
      });
    }
  }
  return e.group.run((): Outcome => {
    const t = findTopic(e, stmt.topic);
    const source = e.catalog.table(c.table.namespace, c.table.name);
    if (c.action === "drop_source") {
      if (!e.topics.catalog.dropSource(t.id, source.id)) {
        throw new DbError("NOT_FOUND", `${src} is not a source of topic ${t.namespace}.${t.name}`);
      }
      return { rowCount: 0, message: `Source ${src} dropped from topic ${t.namespace}.${t.name}` };
    }
    const where = c.where ? printExpr(c.where) : null;
    e.topics.checkSource(source, where);
    e.topics.catalog.putSource(
      { topicId: t.id, tableId: source.id, ops: c.ops, where, payload },
      Date.now(),
    );
    return { rowCount: 0, message: `Source ${src} added to topic ${t.namespace}.${t.name}` };
  });
};

const TEXT = { base: "TEXT" } as const;

export const publishStatement: Handler<"publish"> = (stmt, ctx) => {
  const e = ctx.engine;
  const text = (expr: typeof stmt.payload, what: string): string | null => {
    const v = expr.kind === "literal"
      ? assignLiteral(expr, TEXT, what)
      : compileAssignment(expr, { columns: [] }, { name: what, type: TEXT })([], {
        params: ctx.params,
        user: ctx.session.user,
        now: ctx.now,
        nextId: () => e.ids.next(),
      });
    return v === null ? null : String(v);
  };
  const raw = text(stmt.payload, "PAYLOAD");
  let payload: string;
  try {
    if (raw === null) throw new Error("null");
    payload = JSON.stringify(JSON.parse(raw));
  } catch {
    throw new DbError("INVALID_PARAMETER", "PAYLOAD must be a JSON text");
  }
  const key = stmt.key ? text(stmt.key, "KEY") : null;
  const messageId = stmt.messageId ? text(stmt.messageId, "MESSAGE_ID") : null;
  return e.group.run((): Outcome => {
    const t = findTopic(e, stmt.topic);
    const r = e.topics.log.append(
      t,
      { key, op: "publish", user: null, payload, messageId },
      Date.now(),
    );
    if (!r.duplicate) e.topics.wakeAfterCommit(t.id, 1);
    return table(
      [["partition", T.int], ["offset", T.bigint], ["duplicate", T.bool]],
      [[r.partition, BigInt(r.offset), r.duplicate]],
    );
  });
};

const CONSUMED = [
  ["topic", T.text],
  ["partition", T.int],
  ["offset", T.bigint],
  ["key", T.text],
  ["op", T.text],
  ["user", T.text],
  ["payload", T.json],
  ["published_at", T.ts],
  ["message_id", T.text],
  ["delivery_count", T.int],
  ["ack_deadline", T.ts],
] as const;

function consumedRow(t: TopicInfo, m: Claimed): Row {
  return [
    `${t.namespace}.${t.name}`,
    m.partition,
    BigInt(m.offset),
    m.key,
    m.op,
    m.user,
    m.payload,
    msToNs(m.publishedAt),
    m.messageId,
    m.deliveryCount,
    msToNs(m.ackDeadline),
  ];
}

export const consumeStatement: Handler<"consume"> = async (stmt, ctx) => {
  const e = ctx.engine;
  const limit = stmt.limit ?? DEFAULT_LIMIT;
  if (limit < 1 || limit > MAX_CONSUME_LIMIT) {
    throw invalid(`LIMIT must be from 1 to ${MAX_CONSUME_LIMIT}`);
  }
  const until = Date.now() + Math.min(stmt.waitMs ?? 0, MAX_WAIT_MS);
  while (true) {
    // A client that went away claims nothing more (its claims would only wait for the timeout).
    if (ctx.signal?.aborted) return table(CONSUMED, []);
    const first = findTopic(e, stmt.topic);
    // Watch before claiming: a publish that commits after the claim still wakes this wait.
    const watch = e.topics.watch(first.id, stmt.group, ctx.signal);
    const r = await e.group.run(() => {
      const t = findTopic(e, stmt.topic);
      const now = Date.now();
      const { claimed, dead, needs, again } = e.topics.groups.claim(t, {
        group: stmt.group,
        consumer: stmt.consumer ?? null,
        from: stmt.from ?? "earliest",
        limit,
        now,
      });
      if (dead.length) {
        if (t.deadLetter === null) {
          logWarn(
            `topic ${t.namespace}.${t.name}: ${dead.length} message(s) of group ${stmt.group} dropped after ${t.maxDeliveries} deliveries (no DEAD_LETTER)`,
          );
        }
        e.topics.deadLetter(t, dead, now);
      }
      // Waiting consumers of the group look again when these claims run out.
      if (claimed.length) e.topics.visibleAt(t.id, stmt.group, claimed[0].ackDeadline);
      const next = claimed.length ? undefined : e.topics.groups.nextVisible(t.id, stmt.group);
      return { t, claimed, next, needs, again };
    });
    if (r.claimed.length === 0 && (r.needs.length > 0 || r.again) && !ctx.signal?.aborted) {
      // A consumer far behind: its next messages are in segments. Load them, claim again (each
      // load, and each bounded round of dropping trimmed messages, lets the claim get further,
      // so this ends also with WAIT 0).
      watch.cancel();
      await e.topics.load(r.needs);
      continue;
    }
    const now = Date.now();
    if (r.claimed.length > 0 || now >= until || ctx.signal?.aborted || e.topics.ending) {
      watch.cancel();
      // Woken for a message it may not have taken (it left with others): the next waiter looks.
      if (watch.fired && r.claimed.length > 0) e.topics.passOn(r.t.id, stmt.group);
      const rows = r.claimed.map((m) => consumedRow(r.t, m));
      return table(CONSUMED, rows);
    }
    const wakeAt = Math.min(until, r.next ?? Infinity);
    await watch.wait(wakeAt - now);
  }
};

/** The pairs of `OFFSETS $n`: a JSON array (text or value) of [partition, offset]. */
function offsetsOf(value: unknown, index: number): (readonly [number, number])[] {
  let list = value;
  if (typeof value === "string") {
    try {
      list = JSON.parse(value);
    } catch {
      list = undefined;
    }
  }
  const whole = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  if (
    !Array.isArray(list) || list.length === 0 || list.length > MAX_CONSUME_LIMIT ||
    !list.every((x) => Array.isArray(x) && x.length === 2 && whole(x[0]) && whole(x[1]))
  ) {
    throw new DbError(
      "INVALID_PARAMETER",
      `OFFSETS ($${index}) must be a JSON array of 1 to ${MAX_CONSUME_LIMIT} [partition, ` +
        "offset] pairs of whole numbers",
    );
  }
  return list as [number, number][];
}

export const ackStatement: Handler<"ack"> = (stmt, ctx) => {
  const e = ctx.engine;
  const delay = stmt.delaySeconds ?? 0;
  if (delay > 43200) throw invalid("DELAY must be at most 43200 seconds");
  const at = stmt.offsetsParam;
  if (at !== undefined && at > ctx.params.length) {
    throw new DbError("INVALID_PARAMETER", `No value for parameter $${at}`);
  }
  const offsets = at === undefined ? stmt.offsets : offsetsOf(ctx.params[at - 1], at);
  return e.group.run((): Outcome => {
    const t = findTopic(e, stmt.topic);
    for (const [p] of offsets) {
      if (p >= t.partitions) {
        throw new DbError(
          "INVALID_PARAMETER",
          `Topic ${t.namespace}.${t.name} has no partition ${p}`,
        );
      }
    }
    const visibleAt = Date.now() + delay * 1000;
    const n = stmt.nack
      ? e.topics.groups.nack(t.id, stmt.group, offsets, visibleAt, stmt.consumer)
      : e.topics.groups.ack(t.id, stmt.group, offsets, stmt.consumer);
    if (stmt.nack && n > 0) e.topics.visibleAt(t.id, stmt.group, visibleAt);
    // An ack unblocks the key's next message, a nack makes one visible: waiting consumers look.
    if (n > 0) e.topics.wakeAfterCommit(t.id, n);
    const verb = stmt.nack ? "Released" : "Acknowledged";
    return { rowCount: n, message: `${verb} ${n} message(s)` };
  });
};

export const TOPIC_COLUMNS = [
  ["namespace", T.text],
  ["topic_name", T.text],
  ["partitions", T.int],
  ["retention_seconds", T.bigint],
  ["visibility_timeout_seconds", T.int],
  ["max_deliveries", T.int],
  ["dead_letter", T.text],
  ["messages", T.bigint],
  ["sources", T.text],
  ["created_at", T.ts],
] as const;

/** system.topics rows (also SHOW TOPICS). */
export function topicRows(e: StoreParts, namespace?: string): Row[] {
  const names = new Map(e.catalog.tables().map((t) => [t.id, `${t.namespace}.${t.name}`]));
  return e.topics.catalog.list(namespace).map((t) => {
    const sources = e.topics.catalog.sourcesFor(t.id).map((s) =>
      `${names.get(s.tableId) ?? `#${s.tableId}`} ON ${s.ops.join(",").toUpperCase()}${
        s.where ? ` WHERE ${s.where}` : ""
      }${s.payload !== "full" ? ` (${s.payload})` : ""}`
    );
    return [
      t.namespace,
      t.name,
      t.partitions,
      BigInt(t.retentionS),
      t.visibilityS,
      t.maxDeliveries,
      t.deadLetter,
      BigInt(e.topics.log.stats(t.id).messages + e.topics.segments.stats(t.id).messages),
      sources.length ? sources.join("; ") : null,
      msToNs(t.createdAt),
    ];
  });
}

export const TOPIC_GROUP_COLUMNS = [
  ["topic", T.text],
  ["group", T.text],
  ["partition", T.int],
  ["committed_offset", T.bigint],
  ["pending", T.bigint],
  ["lag", T.bigint],
  ["oldest_pending_age_s", T.double],
] as const;

/** system.topic_groups rows: per group and partition, where it stands. */
export function topicGroupRows(e: StoreParts): Row[] {
  const now = Date.now();
  const out: Row[] = [];
  for (const t of e.topics.catalog.list()) {
    const next = new Map(e.topics.log.partitions(t.id).map((p) => [p.partition, p.next]));
    for (const g of e.topics.groups.positions(t.id)) {
      const end = next.get(g.partition) ?? 0;
      const lag = Math.max(0, end - g.committed);
      const at = lag > 0 ? e.topics.log.publishedAt(t.id, g.partition, g.committed) : null;
      out.push([
        `${t.namespace}.${t.name}`,
        g.group,
        g.partition,
        BigInt(g.committed),
        BigInt(g.pending),
        BigInt(lag),
        at === null ? null : Math.max(0, now - at) / 1000,
      ]);
    }
  }
  return out;
}
