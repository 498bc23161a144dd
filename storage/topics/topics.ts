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
import { logWarn } from "../../log.ts";
import type { GroupCommit, SqliteStore, TableInfo } from "../hot/mod.ts";
import { type PayloadMode, TopicCatalog, type TopicInfo, type TopicSource } from "./catalog.ts";
import { type Message, TopicLog } from "./log.ts";
import { ConsumerGroups, type DeadMessage, type MessageSource } from "./groups.ts";
import { type NeedLoad, type SegmentRef, TopicSegments } from "./segments.ts";

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

export class Topics implements MessageSource {
  readonly catalog: TopicCatalog;
  readonly log: TopicLog;
  readonly segments: TopicSegments;
  readonly groups: ConsumerGroups;
  readonly #group: GroupCommit;
  /** Waiting CONSUMEs: topic id → group → their wake-ups, in the order they began waiting. */
  readonly #waiters = new Map<number, Map<string, Set<Waiter>>>();
  /** Compiled source filters by (table id, schema version, WHERE text). */
  readonly #tests = new Map<string, Test>();

  constructor(store: SqliteStore, group: GroupCommit, dataDir: string) {
    this.catalog = new TopicCatalog(store);
    this.log = new TopicLog(store);
    this.segments = new TopicSegments(store, dataDir);
    this.groups = new ConsumerGroups(store, this);
    this.#group = group;
  }

  /**
   * Up to `limit` messages of a partition from `from` on, in offset order: SQLite's and the
   * segments' merged (writer view). `{ need }` when a segment must be loaded first.
   */
  read(topicId: number, partition: number, from: number, limit: number): Message[] | NeedLoad {
    const hot = this.log.read(topicId, partition, from, limit);
    const segments = this.segments.covering(topicId, partition, from);
    if (segments.length === 0) return hot;
    const cold: Message[] = [];
    for (const ref of segments) {
      if (cold.length >= limit) break;
      // Past the hot rows read, a segment cannot be among the first `limit` any more.
      if (hot.length >= limit && ref.first > hot[hot.length - 1].offset) break;
      const rows = this.segments.cached(ref);
      if (!rows) return { need: ref };
      for (const m of rows) if (m.offset >= from) cold.push(m);
    }
    return [...cold, ...hot].sort((a, b) => a.offset - b.offset).slice(0, limit);
  }

  /** One message (SQLite, else its segment), undefined when trimmed; `{ need }` to load first. */
  message(topicId: number, partition: number, offset: number): Message | undefined | NeedLoad {
    const hot = this.log.message(topicId, partition, offset);
    if (hot) return hot;
    const ref = this.segments.at(topicId, partition, offset);
    if (!ref) return undefined;
    const rows = this.segments.cached(ref);
    if (!rows) return { need: ref };
    let lo = 0, hi = rows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].offset === offset) return rows[mid];
      if (rows[mid].offset < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  hot(topicId: number, partition: number, offsets: readonly number[]): Map<number, Message> {
    return this.log.messages(topicId, partition, offsets);
  }

  nextOffset(topicId: number, partition: number): number {
    return this.log.nextOffset(topicId, partition);
  }

  /** Deletes segment files once the current statement's group committed their unlisting. */
  deleteAfterCommit(paths: readonly string[]): void {
    if (paths.length === 0) return;
    this.#group.afterCommit(() => void this.segments.deleteFiles(paths));
  }

  /** Loads segments a claim needs (outside its write). */
  async load(needs: readonly SegmentRef[]): Promise<void> {
    for (const ref of needs) await this.segments.load(ref);
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
    for (const set of all) for (const w of [...set]) w.fire();
  }

  /**
   * Once the current statement's group commits, wakes up to `count` CONSUMEs waiting on the
   * topic in each group (the longest waiting first): one per message published or unblocked, so
   * a message does not send every idle consumer of a group to claim it.
   */
  wakeAfterCommit(topicId: number, count = Infinity): void {
    this.#group.afterCommit(() => this.#wake(topicId, undefined, count));
  }

  /**
   * Once the current statement's group commits: something of `group` becomes visible at `at`
   * (a claim's deadline, a NACK's delay). Waiters of the group that would sleep past it wake
   * then instead — a consumer that crashed holding a claim hands it on in time.
   */
  visibleAt(topicId: number, group: string, at: number): void {
    this.#group.afterCommit(() => {
      for (const w of this.#waiters.get(topicId)?.get(group) ?? []) w.wakeBy(at);
    });
  }

  /** Wakes one more waiter of the group now: a woken CONSUME that left with other messages. */
  passOn(topicId: number, group: string): void {
    this.#wake(topicId, group, 1);
  }

  #wake(topicId: number, group: string | undefined, count: number): void {
    const groups = this.#waiters.get(topicId);
    if (!groups) return;
    for (const [name, set] of [...groups]) {
      if (group !== undefined && name !== group) continue;
      let n = 0;
      for (const w of [...set]) {
        if (n++ >= count) break;
        w.fire();
      }
    }
  }

  /**
   * A wake-up for a CONSUME of `group` on `topicId`, taken before its claim (so a wake-up that
   * comes between the claim and the wait is not missed): `wait(ms)` resolves when a commit wakes
   * it or after `ms`; `fired` says whether it was woken; `cancel` drops it. An aborted
   * `signal` wakes and drops it at once, so a client that went away takes no wake-up.
   */
  watch(topicId: number, group: string, signal?: unknown): Waiter {
    let groups = this.#waiters.get(topicId);
    if (!groups) this.#waiters.set(topicId, groups = new Map());
    let set = groups.get(group);
    if (!set) groups.set(group, set = new Set());
    const mine = set;
    const g = groups;
    const w = new Waiter(() => {
      mine.delete(w);
      if (mine.size === 0 && g.get(group) === mine) g.delete(group);
      if (g.size === 0 && this.#waiters.get(topicId) === g) this.#waiters.delete(topicId);
    });
    if (this.#ending) w.fire();
    else mine.add(w);
    if (signal instanceof AbortSignal) w.abortOn(signal);
    return w;
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
    if (!target) {
      logWarn(
        `topic ${topic.namespace}.${topic.name}: ${dead.length} message(s) dropped after ${topic.maxDeliveries} deliveries: its DEAD_LETTER ${topic.deadLetter} does not exist`,
      );
      return;
    }
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

/** One waiting CONSUME: woken by a commit, by its timer, by its client going away. */
export class Waiter {
  readonly #unlist: () => void;
  readonly #woken: Promise<void>;
  #resolve!: () => void;
  #timer?: ReturnType<typeof setTimeout>;
  #at = Infinity;
  #fired = false;
  #done = false;
  #unlisten?: () => void;

  constructor(unlist: () => void) {
    this.#unlist = unlist;
    this.#woken = new Promise<void>((resolve) => this.#resolve = resolve);
  }

  /** True once a commit (or shutdown, or the client leaving) woke it. */
  get fired(): boolean {
    return this.#fired;
  }

  fire(): void {
    if (this.#done) return;
    this.#fired = true;
    this.cancel();
    this.#resolve();
  }

  /** Resolves when woken, or after `ms` (no timer when it was woken already). */
  wait(ms: number): Promise<void> {
    if (!this.#done) this.wakeBy(Date.now() + Math.max(0, ms));
    return this.#woken;
  }

  /** Wakes by `at` (epoch ms) at the latest. */
  wakeBy(at: number): void {
    if (this.#done || at >= this.#at) return;
    this.#at = at;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.cancel();
      this.#resolve();
    }, Math.max(0, at - Date.now()));
  }

  abortOn(signal: AbortSignal): void {
    if (signal.aborted) return this.fire();
    const onAbort = () => this.fire();
    signal.addEventListener("abort", onAbort, { once: true });
    this.#unlisten = () => signal.removeEventListener("abort", onAbort);
  }

  /** Drops it: no wake-up reaches it any more, its timer and abort listener are gone. */
  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#unlisten?.();
    this.#unlist();
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
