// A subscription: one live query on the shared socket (SPEC §8). It keeps the position it has
// seen — the snapshot's seq once the whole snapshot arrived, then each change's seq — and every
// (re)subscribe asks the server for the changes after it, so across a reconnect or an overflow
// nothing is lost and (changes at or below that seq are dropped) nothing arrives twice. When the
// server can no longer resume (`resumed: false`), the fresh snapshot replaces the view and the
// subscription says so with a `reset` event.

import { KalamError } from "./errors.ts";
import type { LiveSocket, SocketMember, WireMessage } from "./socket.ts";
import { type Column, decodeObjectRow, type Decoder, decodersOf, type Row } from "./values.ts";

export interface Change<R extends Row = Row> {
  readonly op: "insert" | "update" | "delete";
  /** The change's position (`_seq`), a decimal string. */
  readonly seq: string;
  /** New rows (insert, update), projected and typed. */
  readonly rows: R[];
  /** Previous rows (update, delete). */
  readonly oldRows: R[];
  /** Whose partition changed (all-users subscriptions). */
  readonly user?: string;
}

/** Why a subscription's view was replaced by a fresh snapshot. */
export type ResetReason =
  /** The server no longer holds the changes after the last seq (SPEC §8 `resumed: false`). */
  "history_unavailable";

export type SubscriptionEvent<R extends Row = Row> =
  | { readonly type: "snapshot"; readonly rows: R[]; readonly seq: string }
  | {
    readonly type: "reset";
    readonly rows: R[];
    readonly seq: string;
    readonly reason: ResetReason;
  }
  | ({ readonly type: "change" } & Change<R>);

export interface SubscriptionHandlers<R extends Row = Row> {
  /** The first complete snapshot (every initial_data batch), with its seq. */
  onSnapshot?(rows: R[], info: { seq: string }): void;
  /** Every change, in seq order. */
  onChange?(change: Change<R>): void;
  onInsert?(rows: R[], change: Change<R>): void;
  onUpdate?(rows: R[], oldRows: R[], change: Change<R>): void;
  onDelete?(oldRows: R[], change: Change<R>): void;
  /** A fresh snapshot replaced the view (the old rows are gone). */
  onReset?(rows: R[], info: { seq: string; reason: ResetReason }): void;
  /** Resubscribed after a reconnect or an overflow, from `fromSeq`, with no gap. */
  onResumed?(info: { fromSeq: string }): void;
  /** After each frame that carried events: one call per batch of changes. */
  onBatch?(): void;
  /** The subscription ended with an error (no more events follow). */
  onError?(err: KalamError): void;
}

export interface SubscribeOptions {
  /** The snapshot holds only the newest N rows (by `_seq`). */
  readonly lastRows?: number;
  /** Start after this seq: the server replays what came later (or sends a snapshot). */
  readonly fromSeq?: string | bigint;
  /** One subscription over every user's partition (service, dba, system). */
  readonly allUsers?: boolean;
  /** Rows per initial_data message (server default 1,000). */
  readonly batchSize?: number;
  /** With allUsers: only users whose data lives on this storage. */
  readonly storageId?: string;
  /** Aborting unsubscribes. */
  readonly signal?: AbortSignal;
}

let counter = 0;
/** Overflowed resubscribes in a row that made no progress before the subscription fails. */
const MAX_STALLS = 5;

export class Subscription<R extends Row = Row>
  implements SocketMember, AsyncIterable<SubscriptionEvent<R>> {
  readonly sql: string;
  /** Resolves once the first snapshot is complete (or the resume is acknowledged). */
  readonly ready: Promise<void>;
  #socket: LiveSocket;
  #handlers: SubscriptionHandlers<R>;
  #options: SubscribeOptions;
  #base = `s${(++counter).toString(36)}`;
  #attempt = -1;
  #lastSeq?: string;
  /** `#lastSeq` as a number, so a change's seq is compared without parsing both each time. */
  #lastSeqN = -1n;
  #schema: Column[] = [];
  #decoders: Decoder[] = [];
  #primaryKey?: string;
  /** The snapshot being received (null: none in progress) and its seq. */
  #incoming: R[] | null = null;
  #incomingSeq = "";
  #hasView = false;
  /** The last seq when the current attempt was sent, and overflowed attempts without progress. */
  #attachedAt?: string;
  #stalls = 0;
  #retryTimer?: ReturnType<typeof setTimeout>;
  #active = false;
  #ended = false;
  #settle: { resolve(): void; reject(e: unknown): void };
  #queue?: SubscriptionEvent<R>[];
  #wake?: () => void;
  #failure?: KalamError;

  constructor(
    socket: LiveSocket,
    sql: string,
    handlers: SubscriptionHandlers<R>,
    options: SubscribeOptions,
  ) {
    this.sql = sql;
    this.#socket = socket;
    this.#handlers = handlers;
    this.#options = options;
    let settle!: { resolve(): void; reject(e: unknown): void };
    this.ready = new Promise<void>((resolve, reject) => settle = { resolve, reject });
    this.ready.catch(() => {}); // a failure is also reported through onError / iteration
    this.#settle = settle;
    if (options.fromSeq !== undefined) this.#seen(String(options.fromSeq));
    if (options.signal?.aborted) {
      this.#ended = true;
      settle.reject(new KalamError({ code: "ABORTED", message: "The signal was already aborted" }));
      return;
    }
    options.signal?.addEventListener("abort", () => this.unsubscribe(), { once: true });
    socket.join(this);
  }

  get wireId(): string {
    return this.#attempt <= 0 ? this.#base : `${this.#base}.${this.#attempt}`;
  }
  /** The last position seen: resubscribing from it loses and repeats nothing. */
  get lastSeq(): string | undefined {
    return this.#lastSeq;
  }
  get schema(): readonly Column[] {
    return this.#schema;
  }
  /** The output name of the table's primary key, when the query shows it. */
  get primaryKey(): string | undefined {
    return this.#primaryKey;
  }
  get active(): boolean {
    return !this.#ended;
  }

  /** Ends the subscription (idempotent); iteration ends. */
  unsubscribe(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#retryTimer);
    this.#socket.send({ type: "unsubscribe", id: this.wireId });
    this.#socket.leave(this);
    this.#settle.reject(new KalamError({ code: "ABORTED", message: "Unsubscribed before ready" }));
    this.#wake?.();
  }

  attach(): void {
    if (this.#ended) return;
    const old = this.wireId;
    this.#attempt++;
    if (this.#attempt > 0) this.#socket.rekey(old, this);
    this.#incoming = null;
    this.#active = false;
    this.#attachedAt = this.#lastSeq;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const o = this.#options;
    const options: Record<string, unknown> = {};
    if (o.lastRows !== undefined) options.last_rows = o.lastRows;
    if (o.batchSize !== undefined) options.batch_size = o.batchSize;
    if (o.allUsers) options.all_users = true;
    if (o.storageId !== undefined) options.storage_id = o.storageId;
    if (this.#lastSeq !== undefined) options.from_seq = this.#lastSeq;
    this.#socket.send({ type: "subscribe", id: this.wireId, sql: this.sql, options });
  }

  receive(msg: WireMessage): void {
    if (this.#ended) return;
    switch (msg.type) {
      case "subscription_ack":
        return this.#ack(msg);
      case "initial_data":
        return this.#initial(msg);
      case "change":
        return this.#change(msg);
      case "error":
        return this.#error(msg);
    }
  }

  endOfFrame(): void {
    if (!this.#ended) this.#call(() => this.#handlers.onBatch?.());
  }

  fail(err: KalamError): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#retryTimer);
    this.#socket.leave(this);
    this.#settle.reject(err);
    // Closing the client ends its subscriptions quietly: iteration just stops.
    if (err.code === "CLIENT_CLOSED") return void this.#wake?.();
    this.#failure = err;
    this.#call(() => this.#handlers.onError?.(err));
    this.#wake?.();
  }

  #ack(msg: WireMessage): void {
    this.#schema = (msg.schema ?? []) as Column[];
    this.#decoders = decodersOf(this.#schema);
    this.#primaryKey = typeof msg.primary_key === "string" ? msg.primary_key : undefined;
    this.#active = true;
    if (msg.resumed === true) {
      const fromSeq = String(msg.snapshot_seq);
      if (this.#lastSeq === undefined) this.#seen(fromSeq);
      if (this.#hasView) this.#call(() => this.#handlers.onResumed?.({ fromSeq }));
      this.#hasView = true;
      this.#settle.resolve();
      return;
    }
    this.#incoming = [];
    this.#incomingSeq = String(msg.snapshot_seq);
  }

  #initial(msg: WireMessage): void {
    if (this.#incoming === null) return;
    for (const r of (msg.rows ?? []) as Record<string, unknown>[]) {
      this.#incoming.push(this.#decode(r));
    }
    if (msg.has_more === true) return;
    const rows = this.#incoming;
    const seq = this.#incomingSeq;
    this.#incoming = null;
    this.#seen(seq);
    if (this.#hasView) {
      const reason: ResetReason = "history_unavailable";
      this.#emit({ type: "reset", rows, seq, reason });
      this.#call(() => this.#handlers.onReset?.(rows, { seq, reason }));
    } else {
      this.#emit({ type: "snapshot", rows, seq });
      this.#call(() => this.#handlers.onSnapshot?.(rows, { seq }));
    }
    this.#hasView = true;
    this.#settle.resolve();
  }

  #change(msg: WireMessage): void {
    if (!this.#active || this.#incoming !== null) return; // not ours yet: a resubscribe replays it
    const seq = String(msg.seq);
    const n = BigInt(seq);
    if (n <= this.#lastSeqN) return; // seen already (a resume replays from lastSeq on)
    this.#seen(seq, n);
    const change: Change<R> = {
      op: msg.op as Change["op"],
      seq,
      rows: ((msg.rows ?? []) as Record<string, unknown>[]).map((r) => this.#decode(r)),
      oldRows: ((msg.old_rows ?? []) as Record<string, unknown>[]).map((r) => this.#decode(r)),
      ...(typeof msg.user === "string" ? { user: msg.user } : {}),
    };
    this.#emit({ type: "change", ...change });
    const h = this.#handlers;
    this.#call(() => h.onChange?.(change));
    if (change.op === "insert") this.#call(() => h.onInsert?.(change.rows, change));
    else if (change.op === "update") {
      this.#call(() => h.onUpdate?.(change.rows, change.oldRows, change));
    } else this.#call(() => h.onDelete?.(change.oldRows, change));
  }

  #error(msg: WireMessage): void {
    if (msg.code === "SUBSCRIPTION_OVERFLOW") {
      // The server ended it; subscribing again from the last seq loses nothing. An attempt
      // that got nowhere (a snapshot too big for the socket's queue) waits longer each time.
      this.#active = false;
      const stalled = this.#lastSeq === this.#attachedAt;
      this.#stalls = stalled ? this.#stalls + 1 : 0;
      if (this.#stalls === 0) return this.attach();
      if (this.#stalls > MAX_STALLS) {
        return this.fail(
          new KalamError({
            code: "SUBSCRIPTION_OVERFLOW",
            message: `${String(msg.message)} (${MAX_STALLS} retries made no progress: ` +
              "a larger batchSize or lastRows may fit)",
          }),
        );
      }
      const delay = 50 * 2 ** this.#stalls;
      this.#retryTimer = setTimeout(() => this.attach(), delay);
      return;
    }
    this.fail(
      new KalamError({
        code: String(msg.code ?? "PROTOCOL_ERROR"),
        message: String(msg.message ?? "The subscription failed"),
      }),
    );
  }

  #seen(seq: string, n = BigInt(seq)): void {
    this.#lastSeq = seq;
    this.#lastSeqN = n;
  }

  #decode(r: Record<string, unknown>): R {
    return decodeObjectRow(this.#schema, this.#decoders, r) as R;
  }

  /** A handler that throws must not stop the socket: its error is rethrown on its own. */
  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  #emit(ev: SubscriptionEvent<R>): void {
    if (!this.#queue) return;
    this.#queue.push(ev);
    this.#wake?.();
  }

  /** Iterates the events from the moment iteration starts; breaking out unsubscribes. */
  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionEvent<R>> {
    const queue = this.#queue ??= [];
    try {
      for (;;) {
        while (queue.length) yield queue.shift()!;
        if (this.#ended) break;
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = undefined;
      }
      if (this.#failure) throw this.#failure;
    } finally {
      this.unsubscribe();
    }
  }
}
