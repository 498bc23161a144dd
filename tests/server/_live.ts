// A WebSocket client for the live-query suites: flattens frames (one message or an array of
// them), keeps every message, and lets a test await the next message matching a predicate —
// awaiting events, never sleeping.

import { assert } from "../_util.ts";

// deno-lint-ignore no-explicit-any
export type Msg = Record<string, any>;

interface Waiter {
  test: (m: Msg) => boolean;
  from: number;
  resolve: (m: Msg) => void;
}

/** How long a test waits for a message before failing (generous: the machine may be loaded). */
const WAIT_MS = 30_000;

export class LiveClient {
  readonly messages: Msg[] = [];
  #ws: WebSocket;
  #waiters: Waiter[] = [];
  #closed = Promise.withResolvers<CloseEvent>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const data = JSON.parse(e.data);
      for (const m of Array.isArray(data) ? data : [data]) {
        this.messages.push(m);
        this.#wake();
      }
    };
    ws.onclose = (e) => this.#closed.resolve(e);
  }

  /** Opens a socket (Authorization header when given) and waits until it is open. */
  static async open(url: string, authorization?: string): Promise<LiveClient> {
    const ws = new WebSocket(
      url.replace(/^http/, "ws") + "/v1/ws",
      (authorization ? { headers: { authorization } } : undefined) as never,
    );
    const client = new LiveClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (e) => reject(new Error(`WebSocket failed: ${(e as ErrorEvent).message}`));
    });
    return client;
  }

  send(message: Msg): void {
    this.#ws.send(JSON.stringify(message));
  }

  /** Sends a text frame as is (for malformed-input tests). */
  sendRaw(text: string): void {
    this.#ws.send(text);
  }

  /**
   * The next message (after `from`, default: any not yet awaited) for which `test` holds.
   * Rejects after `timeoutMs` (every wait in the suite is bounded by a deadline).
   */
  next(test: (m: Msg) => boolean, from = 0, timeoutMs = WAIT_MS): Promise<Msg> {
    const found = this.messages.slice(from).find(test);
    if (found) return Promise.resolve(found);
    const { promise, resolve, reject } = Promise.withResolvers<Msg>();
    const waiter: Waiter = { test, from, resolve };
    const timer = setTimeout(() => {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      const last = this.messages.slice(-3).map((m) => JSON.stringify(m).slice(0, 200));
      reject(new Error(`no matching message within ${timeoutMs} ms; last: ${last.join(" | ")}`));
    }, timeoutMs);
    waiter.resolve = (m) => {
      clearTimeout(timer);
      resolve(m);
    };
    this.#waiters.push(waiter);
    return promise;
  }

  /** Messages of one subscription of one type, in order. */
  of(id: string, type: string): Msg[] {
    return this.messages.filter((m) => m.id === id && m.type === type);
  }

  /** Waits (bounded by `timeoutMs`) until `count` messages of (id, type) arrived; returns them. */
  async collect(id: string, type: string, count: number, timeoutMs = WAIT_MS): Promise<Msg[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.of(id, type).length < count) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`${this.of(id, type).length} of ${count} ${type} messages for ${id}`);
      }
      await this.next(() => true, this.messages.length, left).catch(() => {});
    }
    return this.of(id, type);
  }

  /** Subscribes and waits for the ack and the complete initial data (or the error). */
  async subscribe(id: string, sql: string, options: Msg = {}): Promise<{ ack: Msg; rows: Msg[] }> {
    const from = this.messages.length;
    this.send({ type: "subscribe", id, sql, options });
    const ack = await this.next(
      (m) => m.id === id && (m.type === "subscription_ack" || m.type === "error"),
      from,
    );
    if (ack.type === "error" || ack.resumed) return { ack, rows: [] };
    await this.next((m) => m.id === id && m.type === "initial_data" && !m.has_more, from);
    const rows = this.messages.slice(from)
      .filter((m) => m.id === id && m.type === "initial_data").flatMap((m) => m.rows);
    return { ack, rows };
  }

  /** Sends a ping and waits for its pong: every message sent before it has arrived. */
  async roundTrip(): Promise<void> {
    const from = this.messages.length;
    this.send({ type: "ping" });
    await this.next((m) => m.type === "pong", from);
  }

  closed(): Promise<CloseEvent> {
    return this.#closed.promise;
  }

  async close(): Promise<void> {
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close();
    await this.#closed.promise;
  }

  #wake(): void {
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      const hit = this.messages.slice(w.from).find(w.test);
      if (hit) w.resolve(hit);
      else still.push(w);
    }
    this.#waiters = still;
  }
}

export function assertNoChange(client: LiveClient, id: string, test: (m: Msg) => boolean): void {
  const bad = client.of(id, "change").find(test);
  assert(!bad, `unexpected change ${JSON.stringify(bad)}`);
}
