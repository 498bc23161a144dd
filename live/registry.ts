// The live-query registry: subscribe, unsubscribe, list and kill, the per-user caps, and the
// delivery of committed changes from the change feed (routing.ts finds the subscriptions a
// change concerns, protocol.ts builds what each socket gets, snapshot.ts the initial rows). The
// snapshot (or the change-log replay of a resume) and the registration happen in one synchronous
// step, and changes are delivered from after-commit hooks, which never run inside that step: no
// gap, no duplicate.

import { authorize } from "../auth/mod.ts";
import { DbError } from "../errors.ts";
import {
  type Change,
  checkSubscribeOptions,
  type LiveQueries,
  type LiveQueryInfo,
  type LiveSource,
  scopeOf,
  type SubscribeOptions,
} from "../storage/mod.ts";
import { compileLive, parseLiveQuery } from "./query.ts";
import {
  ack,
  changeMessage,
  failedMessage,
  killedMessage,
  type LiveConnection,
  overflowMessage,
  projectChange,
  type Projected,
} from "./protocol.ts";
import { Bucket, type Subscription, type TableEntry } from "./routing.ts";
import { initialRows, sendInitial } from "./snapshot.ts";
import { logError } from "../log.ts";

export interface RegistryOptions {
  /** Subscriptions one user may hold at once (default 1000). */
  readonly maxPerUser?: number;
}

export class LiveRegistry implements LiveQueries {
  #source: LiveSource;
  #maxPerUser: number;
  #subs = new Map<string, Subscription>();
  #byConn = new Map<LiveConnection, Map<string, Subscription>>();
  #tables = new Map<number, TableEntry>();
  /** Subscriptions held per user (the cap), kept with register/remove. */
  #perUser = new Map<string, number>();
  /**
   * Subscribes still loading (between the cap check and the registration), per quota key, and
   * their (socket, id) pairs: concurrent subscribes count against the cap and the id at once.
   */
  #pending = new Map<string, number>();
  #pendingIds = new Set<string>();
  /** Sockets already closed: a subscribe that was loading when its socket went registers nothing. */
  #dropped = new WeakSet<LiveConnection>();
  /** Loading subscribes that were unsubscribed meanwhile (keys of #pendingIds). */
  #cancelled = new Set<string>();
  #counter = 0;

  constructor(source: LiveSource, options: RegistryOptions = {}) {
    this.#source = source;
    this.#maxPerUser = options.maxPerUser ?? 1000;
    source.attach(this);
  }

  /** Subscribes; sends the ack, the snapshot (or the replay) and then every change. */
  async subscribe(
    conn: LiveConnection,
    id: string,
    sql: string,
    rawOptions: unknown = {},
  ): Promise<void> {
    const source = this.#source;
    const who = conn.principal;
    const idKey = `${conn.id}\0${id}`;
    if (this.#byConn.get(conn)?.has(id) || this.#pendingIds.has(idKey)) {
      throw new DbError(
        "ALREADY_EXISTS",
        `Subscription id "${id}" is already in use on this socket`,
      );
    }
    const options = checkSubscribeOptions(rawOptions);
    const query = parseLiveQuery(sql);
    source.authorize(who, query.stmt); // permission before existence, as SELECT
    if (options.all_users) {
      authorize(who, { op: "maintain" }); // service and above
    }
    // Per user; anonymous sockets share no identity, so their cap is per socket.
    const quota = who.role === "anonymous" ? `socket:${conn.id}` : `user:${who.user}`;
    const held =
      (who.role === "anonymous"
        ? this.#byConn.get(conn)?.size ?? 0
        : this.#perUser.get(who.user) ?? 0) + (this.#pending.get(quota) ?? 0);
    if (held >= this.#maxPerUser) {
      throw new DbError("RATE_LIMITED", `At most ${this.#maxPerUser} live queries per user`);
    }
    this.#pending.set(quota, (this.#pending.get(quota) ?? 0) + 1);
    this.#pendingIds.add(idKey);
    // Pending until it registers, then registered: never both. A subscribe or unsubscribe that
    // comes in between (e.g. from the ack's handler) must see it once, as registered.
    let pending = true;
    const registered = () => {
      if (!pending) return;
      pending = false;
      const left = (this.#pending.get(quota) ?? 1) - 1;
      if (left > 0) this.#pending.set(quota, left);
      else this.#pending.delete(quota);
      this.#pendingIds.delete(idKey);
      this.#cancelled.delete(idKey);
    };
    try {
      await this.#subscribe(conn, id, sql, options, query, registered);
    } finally {
      registered();
    }
  }

  async #subscribe(
    conn: LiveConnection,
    id: string,
    sql: string,
    options: SubscribeOptions,
    query: ReturnType<typeof parseLiveQuery>,
    registered: () => void,
  ): Promise<void> {
    const source = this.#source;
    const who = conn.principal;
    let table = source.table(query.namespace, query.table);
    // Per user; anonymous sockets share no identity, so their cap is per socket.
    const scope = table.tableType === "SHARED"
      ? ""
      : options.all_users
      ? "*"
      : scopeOf(table, who.user);
    const ctx = {
      params: [],
      user: who.user,
      now: BigInt(Date.now()) * 1_000_000n,
      nextId: () => source.nextId(),
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
    let fromSeq = options.from_seq === undefined ? undefined : BigInt(options.from_seq);
    // Older than what the change log still holds: a fresh snapshot instead (resumed: false).
    if (fromSeq !== undefined && fromSeq < source.changeFloor()) fromSeq = undefined;
    // Segments must be in memory so that the snapshot step below can be synchronous.
    for (;;) {
      table = source.table(query.namespace, query.table);
      const loading = fromSeq === undefined
        ? source.prepare(table, source.scopes(table, scope))
        : undefined;
      if (loading) await loading; // nothing to load: no wait, the whole subscribe is one step
      // ---- the synchronous step: read, register, answer ----
      // The socket closed, or the subscription was unsubscribed, while segments loaded.
      if (this.#dropped.has(conn) || this.#cancelled.has(`${conn.id}\0${id}`)) return;
      const current = source.table(query.namespace, query.table);
      if (current !== table) continue; // an ALTER came in between: compile again
      if (fromSeq !== undefined) {
        const changes = source.changesSince(
          table,
          scope === "*" ? null : scope,
          fromSeq,
        );
        registered();
        this.#register(sub);
        // An ack the full queue refused would leave the client waiting: it overflows instead.
        if (!conn.send(ack(sub, fromSeq, true))) return this.#overflow(sub);
        for (const c of changes) {
          this.#deliverIsolated(sub, c);
          if (!this.#subs.has(sub.liveId)) break;
        }
        return;
      }
      const snapshot = source.snapshotSync(table, source.scopes(table, scope));
      if (snapshot === undefined) continue; // a flush changed a manifest meanwhile
      const initial = initialRows(sub, snapshot.rows); // a filter that throws registers nothing
      registered();
      this.#register(sub);
      if (!conn.send(ack(sub, snapshot.seq, false))) return this.#overflow(sub);
      if (!this.#subs.has(sub.liveId)) return; // unsubscribed from the ack's handler
      if (!sendInitial(sub, initial)) this.#overflow(sub);
      return;
    }
  }

  /** Ends one subscription of a socket; false when it does not exist. */
  unsubscribe(conn: LiveConnection, id: string): boolean {
    const idKey = `${conn.id}\0${id}`;
    if (this.#pendingIds.has(idKey)) {
      this.#cancelled.add(idKey); // still loading: it will not register
      return true;
    }
    const sub = this.#byConn.get(conn)?.get(id);
    if (!sub) return false;
    this.#remove(sub);
    return true;
  }

  /** The socket closed: all its subscriptions go (and vanish from system.live_queries). */
  dropConnection(conn: LiveConnection): void {
    this.#dropped.add(conn);
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
    sub.conn.send(killedMessage(sub));
    return true;
  }

  /** How many subscriptions are registered (tests, stats). */
  get size(): number {
    return this.#subs.size;
  }

  // ------------------------------------------------------------------ internals

  #register(sub: Subscription): void {
    this.#subs.set(sub.liveId, sub);
    const user = sub.conn.principal.user;
    this.#perUser.set(user, (this.#perUser.get(user) ?? 0) + 1);
    let perConn = this.#byConn.get(sub.conn);
    if (!perConn) this.#byConn.set(sub.conn, perConn = new Map());
    perConn.set(sub.id, sub);
    let entry = this.#tables.get(sub.table.id);
    if (!entry) {
      const unlisten = this.#source.listen(sub.table.id, (c) => this.#onChanges(c));
      this.#tables.set(sub.table.id, entry = { unlisten, scopes: new Map() });
    }
    let bucket = entry.scopes.get(sub.scope);
    if (!bucket) entry.scopes.set(sub.scope, bucket = new Bucket());
    bucket.add(sub);
  }

  #remove(sub: Subscription): void {
    if (!this.#subs.delete(sub.liveId)) return;
    const user = sub.conn.principal.user;
    const held = (this.#perUser.get(user) ?? 1) - 1;
    if (held > 0) this.#perUser.set(user, held);
    else this.#perUser.delete(user);
    const perConn = this.#byConn.get(sub.conn);
    perConn?.delete(sub.id);
    if (perConn?.size === 0) this.#byConn.delete(sub.conn);
    const entry = this.#tables.get(sub.table.id);
    const bucket = entry?.scopes.get(sub.scope);
    bucket?.delete(sub);
    if (bucket?.size === 0) entry!.scopes.delete(sub.scope);
    if (entry && entry.scopes.size === 0) {
      entry.unlisten();
      this.#tables.delete(sub.table.id);
    }
  }

  /**
   * One statement's committed changes: only the subscriptions of its partition (and "*"), and of
   * those only the ones whose equality conjunct the row can match. Subscriptions with the same
   * SQL (and user) share one projection of each row.
   */
  #onChanges(changes: readonly Change[]): void {
    const entry = this.#tables.get(changes[0].table.id);
    if (!entry) return;
    const targets = new Set<Subscription>();
    for (const c of changes) {
      targets.clear();
      entry.scopes.get(c.user)?.candidates(c, targets);
      entry.scopes.get("*")?.candidates(c, targets);
      const shapes = new Map<string, Projected>();
      for (const sub of targets) this.#deliverIsolated(sub, c, shapes);
    }
  }

  /**
   * One subscription's delivery, isolated from every other: a filter or projection that throws
   * on this row (a CAST that fails, a division by zero) ends that subscription with an `error`
   * message carrying the error's code; the rest of the change, and every other subscription,
   * is delivered as usual. A subscription is never left silently behind.
   */
  #deliverIsolated(sub: Subscription, c: Change, shapes?: Map<string, Projected>): void {
    try {
      this.#deliver(sub, c, shapes);
    } catch (err) {
      this.#fail(sub, err);
    }
  }

  /** Removes a subscription that cannot go on and tells its client why (code and message). */
  #fail(sub: Subscription, err: unknown): void {
    if (!(err instanceof DbError)) logError("live query", err);
    this.#remove(sub);
    const e = err instanceof DbError ? err : new DbError("INTERNAL_ERROR", "Internal error");
    sub.conn.send(failedMessage(sub, e));
  }

  #deliver(sub: Subscription, c: Change, shapes?: Map<string, Projected>): void {
    if (sub.options.storage_id && c.table.storageId !== sub.options.storage_id) return;
    if (c.table.version !== sub.table.version) {
      try {
        const q = parseLiveQuery(sub.sql);
        const bucket = this.#tables.get(sub.table.id)?.scopes.get(sub.scope);
        bucket?.delete(sub); // its equality key may change with the schema
        sub.compiled = compileLive(q, c.table, {
          params: [],
          user: sub.conn.principal.user,
          now: BigInt(Date.now()) * 1_000_000n,
          nextId: () => this.#source.nextId(),
        });
        sub.table = c.table;
        bucket?.add(sub);
      } catch (err) {
        return this.#fail(sub, err);
      }
    }
    const shapeKey = `${sub.conn.principal.user}\0${sub.table.version}\0${sub.sql}`;
    let shape = shapes?.get(shapeKey);
    if (!shape) {
      shape = projectChange(sub, c);
      shapes?.set(shapeKey, shape);
    }
    if (!shape.op) return;
    const sent = changeMessage(sub, c, shape);
    sub.changesSent++;
    sub.lastEventAt = Date.now();
    if (!sub.conn.send(sent.message, sent.json)) this.#overflow(sub);
  }

  #overflow(sub: Subscription): void {
    this.#remove(sub);
    sub.conn.send(overflowMessage(sub));
  }
}
