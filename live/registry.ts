// The live-query registry: subscriptions indexed by table and partition (a user, "" for shared
// tables, "*" for all-users subscriptions), fed by the change feed after every commit. A write
// touches only the subscriptions of its table and partition. The snapshot (or the change-log
// replay of a resume) and the registration happen in one synchronous step, and changes are
// delivered from after-commit hooks, which never run inside that step: no gap, no duplicate.

import { authorize, type Principal } from "../auth/mod.ts";
import type { Row } from "../sql/mod.ts";
import { DbError } from "../errors.ts";
import {
  authorizeStatement,
  type Change,
  type Engine,
  type LiveQueries,
  type LiveQueryInfo,
  scopeOf,
  type TableInfo,
} from "../storage/mod.ts";
import { type CompiledLive, compileLive, parseLiveQuery } from "./query.ts";

/** Where messages for one socket go; the server coalesces them into frames. */
export interface LiveConnection {
  readonly id: string;
  readonly principal: Principal;
  /** Queues a message; false when the socket's queue is full (the subscription overflows). */
  send(message: Record<string, unknown>): boolean;
}

export interface SubscribeOptions {
  readonly last_rows?: number;
  readonly batch_size?: number;
  readonly from_seq?: string;
  readonly all_users?: boolean;
  readonly storage_id?: string;
}

export interface RegistryOptions {
  /** Subscriptions one user may hold at once (default 1000). */
  readonly maxPerUser?: number;
}

interface Subscription {
  readonly liveId: string;
  readonly id: string;
  readonly conn: LiveConnection;
  readonly sql: string;
  readonly options: SubscribeOptions;
  /** A user, "" (shared table) or "*" (all users). */
  readonly scope: string;
  table: TableInfo;
  compiled: CompiledLive;
  readonly createdAt: number;
  lastEventAt: number | null;
  changesSent: number;
}

interface TableEntry {
  readonly unlisten: () => void;
  readonly scopes: Map<string, Set<Subscription>>;
}

export class LiveRegistry implements LiveQueries {
  #engine: Engine;
  #maxPerUser: number;
  #subs = new Map<string, Subscription>();
  #byConn = new Map<LiveConnection, Map<string, Subscription>>();
  #tables = new Map<number, TableEntry>();
  #counter = 0;

  constructor(engine: Engine, options: RegistryOptions = {}) {
    this.#engine = engine;
    this.#maxPerUser = options.maxPerUser ?? 1000;
    engine.live.queries = this;
  }

  /** Subscribes; sends the ack, the snapshot (or the replay) and then every change. */
  async subscribe(
    conn: LiveConnection,
    id: string,
    sql: string,
    options: SubscribeOptions = {},
  ): Promise<void> {
    const { catalog, ids } = this.#engine;
    const who = conn.principal;
    if (this.#byConn.get(conn)?.has(id)) {
      throw new DbError(
        "ALREADY_EXISTS",
        `Subscription id "${id}" is already in use on this socket`,
      );
    }
    const query = parseLiveQuery(sql);
    authorizeStatement(catalog, who, query.stmt); // permission before existence, as SELECT
    if (options.all_users) {
      authorize(who, { op: "maintain" }); // service and above
    }
    let table = catalog.table(query.namespace, query.table);
    const mine = [...this.#subs.values()].filter((s) => s.conn.principal.user === who.user);
    if (mine.length >= this.#maxPerUser) {
      throw new DbError("RATE_LIMITED", `At most ${this.#maxPerUser} live queries per user`);
    }
    const scope = table.tableType === "SHARED"
      ? ""
      : options.all_users
      ? "*"
      : scopeOf(table, who.user);
    const ctx = {
      params: [],
      user: who.user,
      now: BigInt(Date.now()) * 1_000_000n,
      nextId: () => ids.next(),
    };
    const compiled = compileLive(query, table, ctx);
    const sub: Subscription = {
      liveId: `lq-${Date.now().toString(36)}-${(this.#counter++).toString(36)}`,
      id,
      conn,
      sql,
      options,
      scope,
      table,
      compiled,
      createdAt: Date.now(),
      lastEventAt: null,
      changesSent: 0,
    };
    const fromSeq = parseSeq(options.from_seq);
    // Segments must be in memory so that the snapshot step below can be synchronous.
    for (;;) {
      table = catalog.table(query.namespace, query.table);
      const scopes = this.#scopesOf(table, scope);
      if (fromSeq === undefined) {
        for (const s of scopes) {
          if (this.#engine.cold.hasColdData(table.id, s)) await this.#engine.cold.preload(table, s);
        }
      }
      // ---- the synchronous step: read, register, answer ----
      const current = catalog.table(query.namespace, query.table);
      if (current !== table) continue; // an ALTER came in between: compile again
      if (fromSeq !== undefined) {
        const changes = this.#engine.buffer.changesSince(
          table,
          scope === "*" ? null : scope,
          fromSeq,
        );
        this.#register(sub);
        conn.send(ack(sub, fromSeq, true));
        for (const c of changes) this.#deliver(sub, c);
        return;
      }
      const rows = this.#snapshotSync(table, this.#scopesOf(table, scope));
      if (rows === undefined) continue; // a flush changed a manifest meanwhile
      const snapshotSeq = ids.last();
      this.#register(sub);
      conn.send(ack(sub, snapshotSeq, false));
      this.#sendInitial(sub, rows);
      return;
    }
  }

  /** Ends one subscription of a socket; false when it does not exist. */
  unsubscribe(conn: LiveConnection, id: string): boolean {
    const sub = this.#byConn.get(conn)?.get(id);
    if (!sub) return false;
    this.#remove(sub);
    return true;
  }

  /** The socket closed: all its subscriptions go (and vanish from system.live_queries). */
  dropConnection(conn: LiveConnection): void {
    for (const sub of [...(this.#byConn.get(conn)?.values() ?? [])]) this.#remove(sub);
  }

  list(): LiveQueryInfo[] {
    return [...this.#subs.values()].map((s) => ({
      liveId: s.liveId,
      connectionId: s.conn.id,
      user: s.conn.principal.user,
      namespace: s.table.namespace,
      table: s.table.name,
      query: s.sql,
      options: JSON.stringify(s.options),
      createdAt: s.createdAt,
      lastEventAt: s.lastEventAt,
      changesSent: s.changesSent,
    }));
  }

  kill(liveId: string): boolean {
    const sub = this.#subs.get(liveId);
    if (!sub) return false;
    this.#remove(sub);
    sub.conn.send({
      type: "error",
      id: sub.id,
      code: "LIVE_QUERY_KILLED",
      message: `Live query ${liveId} was killed by an administrator`,
    });
    return true;
  }

  /** How many subscriptions are registered (tests, stats). */
  get size(): number {
    return this.#subs.size;
  }

  // ------------------------------------------------------------------ internals

  #scopesOf(table: TableInfo, scope: string): string[] {
    if (scope !== "*") return [scope];
    const users = new Set(this.#engine.buffer.counts(table.id).map((c) => c.user));
    for (const u of this.#engine.cold.stats(table.id).keys()) users.add(u);
    return [...users];
  }

  /** Every visible row of the scopes, synchronously; undefined when a segment is not cached. */
  #snapshotSync(table: TableInfo, scopes: readonly string[]): Row[] | undefined {
    const { buffer, cold } = this.#engine;
    const rows: Row[] = [];
    for (const s of scopes) {
      const buffered = buffer.source(table, s, false);
      let part: Row[] | undefined;
      if (cold.hasColdData(table.id, s)) {
        part = cold.scanCachedSync(table, s, buffered, {});
        if (!part) return undefined;
      } else {
        part = [];
        for (const batch of buffered.scanSync!({})) part.push(...batch);
      }
      rows.push(...part);
    }
    return rows;
  }

  #sendInitial(sub: Subscription, all: Row[]): void {
    let rows = all.filter((r) => sub.compiled.matches(r));
    const lastRows = sub.options.last_rows;
    if (lastRows !== undefined && lastRows >= 0) {
      const seqAt = sub.table.schema.columns.length - 2;
      rows = rows.sort((a, b) => compareSeq(a[seqAt] as bigint, b[seqAt] as bigint))
        .slice(Math.max(0, rows.length - lastRows));
    }
    const size = Math.max(1, Math.min(sub.options.batch_size ?? 1000, 10_000));
    let batch = 0;
    for (let i = 0; i === 0 || i < rows.length; i += size) {
      const part = rows.slice(i, i + size).map((r) => sub.compiled.project(r));
      const ok = sub.conn.send({
        type: "initial_data",
        id: sub.id,
        rows: part,
        batch: batch++,
        has_more: i + size < rows.length,
      });
      if (!ok) return this.#overflow(sub);
    }
  }

  #register(sub: Subscription): void {
    this.#subs.set(sub.liveId, sub);
    let perConn = this.#byConn.get(sub.conn);
    if (!perConn) this.#byConn.set(sub.conn, perConn = new Map());
    perConn.set(sub.id, sub);
    let entry = this.#tables.get(sub.table.id);
    if (!entry) {
      const unlisten = this.#engine.changes.listen(sub.table.id, (c) => this.#onChanges(c));
      this.#tables.set(sub.table.id, entry = { unlisten, scopes: new Map() });
    }
    let set = entry.scopes.get(sub.scope);
    if (!set) entry.scopes.set(sub.scope, set = new Set());
    set.add(sub);
  }

  #remove(sub: Subscription): void {
    this.#subs.delete(sub.liveId);
    const perConn = this.#byConn.get(sub.conn);
    perConn?.delete(sub.id);
    if (perConn?.size === 0) this.#byConn.delete(sub.conn);
    const entry = this.#tables.get(sub.table.id);
    const set = entry?.scopes.get(sub.scope);
    set?.delete(sub);
    if (set?.size === 0) entry!.scopes.delete(sub.scope);
    if (entry && entry.scopes.size === 0) {
      entry.unlisten();
      this.#tables.delete(sub.table.id);
    }
  }

  /** One statement's committed changes: only the subscriptions of its partition (and "*"). */
  #onChanges(changes: readonly Change[]): void {
    const entry = this.#tables.get(changes[0].table.id);
    if (!entry) return;
    for (const c of changes) {
      const exact = entry.scopes.get(c.user);
      const all = entry.scopes.get("*");
      if (exact) { for (const sub of [...exact]) this.#deliver(sub, c); }
      if (all) { for (const sub of [...all]) this.#deliver(sub, c); }
    }
  }

  #deliver(sub: Subscription, c: Change): void {
    if (sub.options.storage_id && c.table.storageId !== sub.options.storage_id) return;
    if (c.table.version !== sub.table.version) {
      try {
        const q = parseLiveQuery(sub.sql);
        sub.compiled = compileLive(q, c.table, {
          params: [],
          user: sub.conn.principal.user,
          now: BigInt(Date.now()) * 1_000_000n,
          nextId: () => this.#engine.ids.next(),
        });
        sub.table = c.table;
      } catch (err) {
        this.#remove(sub);
        const e = err instanceof DbError ? err : new DbError("INTERNAL_ERROR", "Internal error");
        sub.conn.send({ type: "error", id: sub.id, code: e.code, message: e.message });
        return;
      }
    }
    const before = c.old !== undefined && sub.compiled.matches(c.old);
    const after = c.row !== undefined && sub.compiled.matches(c.row);
    if (!before && !after) return;
    const op = before && after ? "update" : after ? "insert" : "delete";
    const message: Record<string, unknown> = {
      type: "change",
      id: sub.id,
      op,
      seq: String(c.seq),
      rows: after ? [sub.compiled.project(c.row!)] : [],
    };
    if (before) message.old_rows = [sub.compiled.project(c.old!)];
    if (sub.scope === "*") message.user = c.user;
    sub.changesSent++;
    sub.lastEventAt = Date.now();
    if (!sub.conn.send(message)) this.#overflow(sub);
  }

  #overflow(sub: Subscription): void {
    this.#remove(sub);
    sub.conn.send({
      type: "error",
      id: sub.id,
      code: "SUBSCRIPTION_OVERFLOW",
      message: "The client did not keep up; resubscribe with from_seq to resume",
    });
  }
}

function ack(sub: Subscription, seq: bigint, resumed: boolean): Record<string, unknown> {
  return {
    type: "subscription_ack",
    id: sub.id,
    live_id: sub.liveId,
    schema: sub.compiled.schema,
    snapshot_seq: String(seq),
    resumed,
  };
}

function parseSeq(v: unknown): bigint | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" && typeof v !== "number") {
    throw new DbError("INVALID_PARAMETER", "from_seq must be a _seq value (a string of digits)");
  }
  if (!/^\d{1,20}$/.test(String(v))) {
    throw new DbError("INVALID_PARAMETER", `Invalid from_seq "${v}"`);
  }
  return BigInt(v);
}

function compareSeq(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
