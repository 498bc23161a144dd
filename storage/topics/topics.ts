// The topics facade: the catalog, the log and the consumer groups over the one SQLite file,
// the outbox that turns a source table's committed write into messages in the same
// transaction, and the wake-ups of long-polling CONSUMEs (woken by the commit that published
// or acknowledged, never by polling).

import {
  type EvalContext,
  parseExpression,
  predicate,
  type Row,
  type SourceOp,
  tableScope,
  toJsonValue,
  type Value,
} from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import type { GroupCommit, SqliteStore, TableInfo } from "../hot/mod.ts";
import { type PayloadMode, TopicCatalog, type TopicInfo, type TopicSource } from "./catalog.ts";
import { type Message, TopicLog } from "./log.ts";
import { ConsumerGroups, type DeadMessage } from "./groups.ts";

type Test = (row: Row, ctx: EvalContext) => boolean;

/** What a source table's write hands to the outbox: one entry per written row. */
export interface SourceWrite {
  readonly table: TableInfo;
  /** The scope written: the user for USER/STREAM tables, "" for SHARED. */
  readonly user: string;
  readonly op: SourceOp;
  readonly count: number;
  /** The new row (insert, update), with `_seq` and `_deleted`. */
  readonly row?: (i: number) => Row;
  /** The previous row (update, delete). */
  readonly olds?: readonly Row[];
  /** The statement's evaluation context (built only when a source filters). */
  readonly ctx: () => EvalContext;
}

export class Topics {
  readonly catalog: TopicCatalog;
  readonly log: TopicLog;
  readonly groups: ConsumerGroups;
  readonly #group: GroupCommit;
  /** Waiting CONSUMEs: topic id → group → their wake-ups, in the order they began waiting. */
  readonly #waiters = new Map<number, Map<string, Set<() => void>>>();
  /** Compiled source filters by (table id, schema version, WHERE text). */
  readonly #tests = new Map<string, Test>();

  constructor(store: SqliteStore, group: GroupCommit) {
    this.catalog = new TopicCatalog(store);
    this.log = new TopicLog(store);
    this.groups = new ConsumerGroups(store, this.log);
    this.#group = group;
  }

  #ending = false;

  /** True once `endWaits` ran: CONSUMEs answer without waiting. */
  get ending(): boolean {
    return this.#ending;
  }

  /** Wakes every waiting CONSUME and keeps new ones from waiting (shutdown). */
  endWaits(): void {
    this.#ending = true;
    const all = [...this.#waiters.values()].flatMap((groups) => [...groups.values()]);
    this.#waiters.clear();
    for (const set of all) for (const wake of [...set]) wake();
  }

  /**
   * Once the current statement's group commits, wakes up to `count` CONSUMEs waiting on the
   * topic in each group (the longest waiting first): one per message published or unblocked, so
   * a message does not send every idle consumer of a group to claim it.
   */
  wakeAfterCommit(topicId: number, count = Infinity): void {
    this.#group.afterCommit(() => {
      const groups = this.#waiters.get(topicId);
      if (!groups) return;
      for (const set of [...groups.values()]) {
        let n = 0;
        for (const wake of [...set]) {
          if (n++ >= count) break;
          wake();
        }
      }
    });
  }

  /**
   * A wake-up for a CONSUME of `group` on `topicId`: `wait(ms)` resolves when a commit wakes it
   * (see `wakeAfterCommit`) or after `ms`, whichever is first; `cancel` drops it. Taken before
   * the claim, so a wake-up that comes between the claim and the wait is not missed.
   */
  watch(topicId: number, group: string): { wait(ms: number): Promise<void>; cancel(): void } {
    let wake!: () => void;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const woken = new Promise<void>((resolve) => wake = resolve);
    let groups = this.#waiters.get(topicId);
    if (!groups) this.#waiters.set(topicId, groups = new Map());
    let set = groups.get(group);
    if (!set) groups.set(group, set = new Set());
    const mine = set;
    const done = () => {
      mine.delete(fire);
      if (mine.size === 0 && groups!.get(group) === mine) groups!.delete(group);
      if (groups!.size === 0 && this.#waiters.get(topicId) === groups) {
        this.#waiters.delete(topicId);
      }
      if (timer !== undefined) clearTimeout(timer);
    };
    const fire = () => {
      done();
      wake();
    };
    if (this.#ending) wake();
    else mine.add(fire);
    return {
      wait: (ms) => {
        timer = setTimeout(fire, Math.max(0, ms));
        return woken;
      },
      cancel: done,
    };
  }

  /** Appends the messages of a source table's write (inside its transaction). */
  capture(w: SourceWrite, now: number): void {
    const sources = this.catalog.sourcesOf(w.table.id);
    if (sources.length === 0) return;
    for (const s of sources) {
      if (!s.ops.includes(w.op)) continue;
      const topic = this.catalog.byId(s.topicId);
      if (!topic) continue;
      const test = s.where === null ? undefined : this.#test(w.table, s);
      const ectx = test ? w.ctx() : undefined;
      let published = 0;
      for (let i = 0; i < w.count; i++) {
        const row = w.op === "delete" ? w.olds![i] : w.row!(i);
        if (test && !test(row, ectx!)) continue;
        const old = w.olds?.[i];
        this.log.append(topic, {
          key: w.table.tableType === "SHARED" ? keyText(w.table, row) : w.user,
          op: w.op,
          user: w.table.tableType === "SHARED" ? null : w.user,
          payload: JSON.stringify(payloadOf(w.table, s.payload, w.op, row, old)),
          messageId: null,
        }, now);
        published++;
      }
      if (published) this.wakeAfterCommit(topic.id, published);
    }
  }

  /** Moves out-of-deliveries messages to the topic's dead-letter topic (inside the claim's write). */
  deadLetter(topic: TopicInfo, dead: readonly DeadMessage[], now: number): void {
    if (dead.length === 0 || topic.deadLetter === null) return;
    const [ns, name] = topic.deadLetter.split(".");
    const target = this.catalog.find(ns, name);
    if (!target) return;
    for (const d of dead) {
      this.log.append(target, {
        key: d.message.key,
        op: "dead_letter",
        user: d.message.user,
        payload: JSON.stringify({
          reason: "max_deliveries",
          delivery_count: d.deliveryCount,
          topic: `${topic.namespace}.${topic.name}`,
          ...messageJson(d.message),
        }),
        messageId: null,
      }, now);
    }
    this.wakeAfterCommit(target.id, dead.length);
  }

  /** Checks a source's WHERE against the table now (ADD SOURCE): compiles, no subqueries. */
  checkSource(table: TableInfo, where: string | null): void {
    if (where !== null) this.#compile(table, where);
  }

  #test(table: TableInfo, s: TopicSource): Test {
    const key = `${table.id}:${table.version}:${s.where}`;
    let test = this.#tests.get(key);
    if (!test) {
      try {
        test = this.#compile(table, s.where!);
      } catch (err) {
        throw new DbError(
          "INVALID_SQL",
          `The WHERE of topic source ${table.namespace}.${table.name} no longer compiles (${
            (err as Error).message
          }): drop and re-add the source`,
        );
      }
      if (this.#tests.size > 1024) this.#tests.clear();
      this.#tests.set(key, test);
    }
    return test;
  }

  #compile(table: TableInfo, where: string): Test {
    return predicate(parseExpression(where), tableScope(table.schema));
  }
}

/** The JSON form of one message (CONSUME over HTTP and WebSocket, dead letters). */
export function messageJson(m: Message): Record<string, unknown> {
  return {
    partition: m.partition,
    offset: m.offset,
    key: m.key,
    op: m.op,
    user: m.user,
    payload: JSON.parse(m.payload),
    published_at: new Date(m.publishedAt).toISOString(),
    message_id: m.messageId,
  };
}

function keyText(t: TableInfo, row: Row): string {
  const v = row[t.schema.pkIndex];
  const j = toJsonValue(v, t.columns[t.schema.pkIndex].type);
  return typeof j === "string" ? j : JSON.stringify(j);
}

function rowJson(t: TableInfo, row: Row, only?: (i: number) => boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const columns = t.columns;
  for (let i = 0; i < columns.length; i++) {
    if (only && !only(i)) continue;
    out[columns[i].name] = toJsonValue(row[i], columns[i].type);
  }
  if (!only && row.length > columns.length) out._seq = String(row[columns.length]);
  return out;
}

function same(a: Value, b: Value): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  return a === b;
}

/**
 * `full`: the row (the old one for a delete); `key`: the primary key alone; `diff`: the key and
 * the columns an update changed (an insert gives the row, a delete the key).
 */
function payloadOf(
  t: TableInfo,
  mode: PayloadMode,
  op: SourceOp,
  row: Row,
  old: Row | undefined,
): Record<string, unknown> {
  const pk = t.schema.pkIndex;
  switch (mode) {
    case "full":
      return rowJson(t, row);
    case "key":
      return rowJson(t, row, (i) => i === pk);
    case "diff":
      if (op === "insert") return rowJson(t, row);
      if (op === "delete" || !old) return rowJson(t, row, (i) => i === pk);
      return rowJson(t, row, (i) => i === pk || !same(row[i], old[i]));
  }
}
