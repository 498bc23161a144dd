// WebSocket push mode for topic consumers (SPEC §10): `{"type":"consume","id","topic","group",
// "consumer"?,"max_in_flight"?}` starts a loop that long-polls CONSUME for as many messages as
// the consumer has room for (max_in_flight minus what it holds unacked) and pushes them as
// `{"type":"messages","id","messages":[…]}`; `{"type":"ack"|"nack","id","offsets":[[p,o],…]}`
// acknowledges (answered `{"type":"acked"|"nacked","id","count"}`) and makes room. Claims are
// durable before a message is pushed; a socket that goes away leaves its claims to the
// visibility timeout, after which they go to the group's other consumers.

import type { Principal } from "../auth/mod.ts";
import type { BatchResult } from "../storage/mod.ts";
import { DbError } from "../errors.ts";
import { encodeResult } from "./respond.ts";
import { topicAnswer, type TopicRoute, topicStatement } from "./topics.ts";

/** Runs one statement for a socket's principal. */
export type RunSql = (
  sql: string,
  params: unknown[],
  who: Principal,
  signal: AbortSignal,
) => Promise<BatchResult>;

/** Each long-poll waits this long before looking again (a closed socket stops it at the next). */
const POLL_MS = 10_000;
const DEFAULT_IN_FLIGHT = 100;
const MAX_IN_FLIGHT = 10_000;

/** Queues a message on the socket; false when its queue is full (the message is not sent). */
type Send = (message: Record<string, unknown>) => boolean;

/** How long a consumer whose socket is full waits before it looks again. */
const DRAIN_PAUSE_MS = 50;

/**
 * An `ack` / `nack` naming its own topic and group, for a consumer that is no longer running on
 * this socket (the SDK acks work that finished after `stop()` or a reconnect).
 */
export async function settleDirect(
  run: RunSql,
  send: Send,
  who: Principal,
  route: "ack" | "nack",
  msg: Record<string, unknown>,
): Promise<void> {
  const id = msg.id;
  try {
    const body = {
      topic: msg.topic,
      group: msg.group,
      consumer: msg.consumer,
      offsets: msg.offsets,
      delay_s: msg.delay_s,
    };
    const { sql, params } = topicStatement(route, body);
    const batch = await run(sql, params, who, new AbortController().signal);
    if (batch.error) throw batch.error;
    const answer = topicAnswer(route, encodeResult(batch.results[0]) as never);
    const count = route === "ack" ? answer.acknowledged : answer.released;
    send({ type: route === "ack" ? "acked" : "nacked", id, count });
  } catch (err) {
    const e = err instanceof DbError ? err : new DbError("INTERNAL_ERROR", "The ack failed");
    send({ type: "error", id, code: e.code, message: e.message });
  }
}

/** One push consumer of a socket. */
export class PushConsumer {
  readonly #run: RunSql;
  readonly #send: Send;
  /** True while the socket's queue is full: nothing is claimed for it then. */
  readonly #full: () => boolean;
  readonly #who: () => Principal;
  readonly #body: Record<string, unknown>;
  readonly #id: string;
  readonly #max: number;
  /** Pushed and not yet acked, as "p:o". */
  readonly #held = new Set<string>();
  readonly #stop = new AbortController();
  #room?: () => void;

  constructor(
    run: RunSql,
    send: Send,
    full: () => boolean,
    who: () => Principal,
    msg: Record<string, unknown>,
  ) {
    const id = msg.id;
    if (typeof id !== "string" || id.length === 0) {
      throw new DbError("INVALID_PARAMETER", 'consume needs an "id" string');
    }
    const max = msg.max_in_flight ?? DEFAULT_IN_FLIGHT;
    if (typeof max !== "number" || !Number.isSafeInteger(max) || max < 1 || max > MAX_IN_FLIGHT) {
      throw new DbError("INVALID_PARAMETER", `"max_in_flight" must be from 1 to ${MAX_IN_FLIGHT}`);
    }
    this.#run = run;
    this.#send = send;
    this.#full = full;
    this.#who = who;
    this.#id = id;
    this.#max = max;
    // Claims carry the consumer's name, so a late ack or nack of a claim that ran out and went
    // to another consumer settles nothing; without a name given, the consumer gets its own.
    const consumer = msg.consumer ?? `push-${crypto.randomUUID().slice(0, 8)}`;
    this.#body = { topic: msg.topic, group: msg.group, consumer, from: msg.from };
    topicStatement("consume", this.#body); // bad fields fail now, before anything runs
  }

  get id(): string {
    return this.#id;
  }

  /** Waits `ms`, or less when the consumer stops. */
  #pause(ms: number): Promise<void> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.resolve(); // stopped already: an abort listener never fires
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Runs until `stop`; a failing CONSUME (topic dropped, permission) ends it with an error. */
  async start(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const room = this.#max - this.#held.size;
      if (room <= 0) {
        await new Promise<void>((resolve) => this.#room = resolve);
        continue;
      }
      // A full socket gets no claims (each would count a delivery it never saw): wait for it.
      if (this.#full()) {
        await this.#pause(DRAIN_PAUSE_MS);
        continue;
      }
      const r = await this.#statement("consume", { ...this.#body, limit: room, wait_ms: POLL_MS });
      if (signal.aborted) return;
      if (!r) return;
      const messages = r.messages as { partition: number; offset: number }[];
      if (messages.length === 0) continue;
      if (!this.#send({ type: "messages", id: this.#id, messages })) {
        // The socket filled while the claim ran: these go back to the group at once instead of
        // waiting for their timeout (and this consumer keeps its room), then a pause.
        const offsets = messages.map((m) => [m.partition, m.offset]);
        await this.#statement("nack", { ...this.#body, offsets, delay_s: 0 });
        await this.#pause(1000);
        continue;
      }
      for (const m of messages) this.#held.add(`${m.partition}:${m.offset}`);
    }
  }

  /** `ack` / `nack` from the client. */
  async settle(route: "ack" | "nack", msg: Record<string, unknown>): Promise<void> {
    const { topic, group, consumer } = this.#body;
    const body = { topic, group, consumer, offsets: msg.offsets };
    const r = await this.#statement(
      route,
      route === "nack" ? { ...body, delay_s: msg.delay_s } : body,
    );
    if (!r) return;
    for (const pair of msg.offsets as [number, number][]) {
      this.#held.delete(`${pair[0]}:${pair[1]}`);
    }
    this.#send({
      type: route === "ack" ? "acked" : "nacked",
      id: this.#id,
      count: route === "ack" ? r.acknowledged : r.released,
    });
    this.#room?.();
    this.#room = undefined;
  }

  stop(): void {
    this.#stop.abort();
    this.#room?.();
  }

  /** One topic statement; undefined after it failed (the error was sent, a consume stops). */
  async #statement(
    route: TopicRoute,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown> | undefined> {
    let error: DbError | undefined;
    try {
      const { sql, params } = topicStatement(route, body);
      const batch = await this.#run(sql, params, this.#who(), this.#stop.signal);
      if (!batch.error) {
        const result = encodeResult(batch.results[0]) as Parameters<typeof topicAnswer>[1];
        return topicAnswer(route, result);
      }
      error = batch.error;
    } catch (err) {
      error = err instanceof DbError ? err : new DbError("INTERNAL_ERROR", "The consume failed");
    }
    this.#send({ type: "error", id: this.#id, code: error.code, message: error.message });
    if (route === "consume") this.#stop.abort();
    return undefined;
  }
}
