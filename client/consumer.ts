// A topic consumer on the shared live socket (SPEC §10, §11): the server pushes claimed
// messages (`consume` with `max_in_flight`), the handler runs for each, and the message is
// acked when the handler resolves or nacked with a backoff when it throws. After a reconnect
// the consume starts again under a new wire id; acks of messages handled meanwhile are sent
// then (an ack names the topic, group and offset, not the connection). A message whose claim
// expired before its ack arrived is delivered again: at least once, never lost.

import { fromWire, KalamError } from "./errors.ts";
import type { LiveSocket, SocketMember, WireMessage } from "./socket.ts";
import type { JsonValue } from "./values.ts";

export interface ConsumeOptions {
  /** `namespace.topic`. */
  readonly topic: string;
  readonly group: string;
  /** This worker's name: its claims carry it, and only its own acks settle them (default: a random one). */
  readonly consumer?: string;
  /** Messages held at once, handed to the handler concurrently (default 16). Per-key order is the server's. */
  readonly maxInFlight?: number;
  /** Where a new group starts: "earliest" (default), "latest" or an offset. */
  readonly from?: "earliest" | "latest" | number;
  /** Seconds before a failed message is offered again (default: 1, 2, 4… up to 60 by delivery). */
  readonly retryDelay?: (deliveryCount: number) => number;
  /** A handler that threw, or a server error that did not stop the consumer. */
  readonly onError?: (err: unknown, message?: TopicMessage<unknown>) => void;
  readonly signal?: AbortSignal;
}

export interface TopicMessage<P = JsonValue> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  /** `insert` / `update` / `delete` (a source table's write), `publish`, or `dead_letter`. */
  readonly op: string;
  /** The writer of a USER/STREAM source row. */
  readonly user: string | null;
  readonly payload: P;
  readonly publishedAt: Date;
  readonly messageId: string | null;
  readonly deliveryCount: number;
  readonly ackDeadline: Date;
}

export type MessageHandler<P = JsonValue> = (message: TopicMessage<P>) => unknown;

/** Errors after which retrying cannot help: the consumer stops and `done` rejects. */
const FATAL = new Set([
  "PERMISSION_DENIED",
  "NOT_FOUND",
  "NAMESPACE_NOT_FOUND",
  "INVALID_PARAMETER",
  "INVALID_SQL",
  "UNSUPPORTED",
  "UNAUTHORIZED",
]);

let counter = 0;

function toMessage<P>(m: Record<string, unknown>): TopicMessage<P> {
  return {
    topic: String(m.topic),
    partition: Number(m.partition),
    offset: Number(m.offset),
    key: (m.key ?? null) as string | null,
    op: String(m.op),
    user: (m.user ?? null) as string | null,
    payload: m.payload as P,
    publishedAt: new Date(String(m.published_at)),
    messageId: (m.message_id ?? null) as string | null,
    deliveryCount: Number(m.delivery_count),
    ackDeadline: new Date(String(m.ack_deadline)),
  };
}

export class Consumer<P = JsonValue> implements SocketMember {
  /** Resolves when `stop()` is called; rejects when the server refuses the consume for good. */
  readonly done: Promise<void>;
  #socket: LiveSocket;
  #options: ConsumeOptions;
  #handler: MessageHandler<P>;
  #base = `c${(++counter).toString(36)}`;
  #attempt = -1;
  #ended = false;
  #settle!: { resolve(): void; reject(e: unknown): void };
  /** Settlements not sent yet (the socket was down): sent after the next attach. */
  #unsent: { type: "ack" | "nack"; offsets: [number, number][]; delay_s?: number }[] = [];
  #processed = 0;
  /** Handlers running: the socket is left only after the last one settled its message. */
  #running = 0;
  /** The name claims carry: an ack after a reconnect still matches its claim. */
  readonly #name: string;

  constructor(socket: LiveSocket, options: ConsumeOptions, handler: MessageHandler<P>) {
    this.#socket = socket;
    this.#options = options;
    this.#handler = handler;
    this.#name = options.consumer ??
      `sdk-${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36)}`;
    this.done = new Promise<void>((resolve, reject) => this.#settle = { resolve, reject });
    this.done.catch(() => {}); // also reported through onError
    if (options.signal?.aborted) {
      this.#ended = true;
      this.#settle.resolve();
      return;
    }
    options.signal?.addEventListener("abort", () => this.stop(), { once: true });
    socket.join(this);
  }

  get wireId(): string {
    return this.#attempt <= 0 ? this.#base : `${this.#base}.${this.#attempt}`;
  }

  /** Messages whose handler resolved (and whose ack was sent or queued). */
  get processed(): number {
    return this.#processed;
  }

  get active(): boolean {
    return !this.#ended;
  }

  /** Stops taking messages (idempotent); handlers already running still ack. */
  stop(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#socket.send({ type: "unsubscribe", id: this.wireId });
    if (this.#running === 0) this.#socket.leave(this);
    this.#settle.resolve();
  }

  attach(): void {
    if (this.#ended) {
      // Stopped, reconnected only for the acks of handlers that finished meanwhile.
      this.#flushUnsent();
      if (this.#running === 0 && this.#unsent.length === 0) this.#socket.leave(this);
      return;
    }
    const old = this.wireId;
    this.#attempt++;
    if (this.#attempt > 0) this.#socket.rekey(old, this);
    const o = this.#options;
    const msg: WireMessage = {
      type: "consume",
      id: this.wireId,
      topic: o.topic,
      group: o.group,
      max_in_flight: o.maxInFlight ?? 16,
      consumer: this.#name,
    };
    if (o.from !== undefined) msg.from = o.from;
    this.#socket.send(msg);
    this.#flushUnsent();
  }

  #flushUnsent(): void {
    const unsent = this.#unsent;
    this.#unsent = [];
    for (const s of unsent) this.#settleOn(s);
  }

  receive(msg: WireMessage): void {
    if (msg.type === "messages" && Array.isArray(msg.messages)) {
      for (const m of msg.messages) void this.#handle(toMessage<P>(m as Record<string, unknown>));
    } else if (msg.type === "error") {
      const err = fromWire(msg, 0);
      if (FATAL.has(err.code)) this.fail(err);
      else this.#options.onError?.(err);
    }
  }

  endOfFrame(): void {}

  fail(err: KalamError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#socket.leave(this);
    this.#options.onError?.(err);
    this.#settle.reject(err);
  }

  async #handle(m: TopicMessage<P>): Promise<void> {
    const offsets: [number, number][] = [[m.partition, m.offset]];
    this.#running++;
    try {
      await this.#handler(m);
      this.#processed++;
      this.#settleOn({ type: "ack", offsets });
    } catch (err) {
      this.#options.onError?.(err, m);
      const delay = this.#options.retryDelay?.(m.deliveryCount) ??
        Math.min(60, 2 ** Math.max(0, m.deliveryCount - 1));
      this.#settleOn({ type: "nack", offsets, delay_s: Math.max(0, Math.round(delay)) });
    } finally {
      this.#running--;
      // Stopped meanwhile: the socket is left once the last ack is out.
      if (this.#ended && this.#running === 0 && this.#unsent.length === 0) {
        this.#socket.leave(this);
      }
    }
  }

  #settleOn(s: { type: "ack" | "nack"; offsets: [number, number][]; delay_s?: number }): void {
    // After stop() the ack still goes (the work was done), on this id's last socket if open.
    const { topic, group } = this.#options;
    const msg = { ...s, id: this.wireId, topic, group, consumer: this.#name };
    if (!this.#socket.send(msg)) this.#unsent.push(s);
  }
}
