// A live subscriber for the crash harness: subscribes to one scope's whole table before any
// write, keeps a materialized view of it, and after every server death reconnects and resumes
// with `from_seq` = the last seq it saw (SPEC §8). It records every change it got — how many
// times each value arrived, how many times each key was deleted — and flags a change whose seq
// is not above everything seen before (a duplicate or a reordering). A resume the server
// answers with `resumed: false` is a reset: the view is replaced by the fresh snapshot and the
// per-write accounting for this subscriber allows misses from then on.

import type { Cluster } from "./_crash_server.ts";
import type { Scope } from "./_crash_model.ts";

// deno-lint-ignore no-explicit-any
type Msg = Record<string, any>;

export class Subscriber {
  readonly scope: Scope;
  readonly sql: string;
  readonly view = new Map<number, number>();
  /** Value → how many change messages carried it as a new row. */
  readonly seen = new Map<number, number>();
  /** Key → how many delete changes it had. */
  readonly deletes = new Map<number, number>();
  readonly anomalies: string[] = [];
  pos: bigint | null = null;
  changes = 0;
  connects = 0;
  resumes = 0;
  resets = 0;
  overflows = 0;
  #token: string;
  #stopped = false;
  #ws: WebSocket | null = null;
  #subscribed = Promise.withResolvers<void>();
  #loop: Promise<void> | null = null;

  constructor(scope: Scope, token: string) {
    this.scope = scope;
    this.sql = `SELECT k, v FROM ${scope.table}`;
    this.#token = token.replace(/^Bearer /, "");
  }

  /** Starts the reconnect loop; resolves once the first subscription is acknowledged. */
  start(cluster: Cluster, timeoutMs = 30_000): Promise<void> {
    this.#loop = this.#run(cluster);
    return bounded(this.#subscribed.promise, timeoutMs, `${this.scope.name}: first subscribe`);
  }

  /** Ends the loop and closes the socket. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#ws?.close();
    await this.#loop;
  }

  async #run(cluster: Cluster): Promise<void> {
    while (!this.#stopped) {
      const server = await cluster.ready();
      if (this.#stopped) return;
      const ws = new WebSocket(server.url.replace(/^http/, "ws") + "/v1/ws");
      this.#ws = ws;
      const closed = new Promise<void>((resolve) => {
        ws.onclose = () => resolve();
        ws.onerror = () => {}; // a close follows
      });
      ws.onopen = () => {
        this.connects++;
        ws.send(JSON.stringify({ type: "authenticate", token: this.#token }));
        this.#subscribe(ws);
      };
      ws.onmessage = (e) => {
        const data = JSON.parse(e.data);
        for (const m of Array.isArray(data) ? data : [data]) this.#handle(ws, m);
      };
      await closed;
      this.#ws = null;
      // Closed while the same server still runs (not a kill): do not spin on a refusing server.
      if (!this.#stopped && cluster.up) await new Promise((r) => setTimeout(r, 100));
    }
  }

  #subscribe(ws: WebSocket): void {
    const options = this.pos === null ? {} : { from_seq: String(this.pos) };
    ws.send(JSON.stringify({ type: "subscribe", id: "s", sql: this.sql, options }));
  }

  #handle(ws: WebSocket, m: Msg): void {
    switch (m.type) {
      case "subscription_ack":
        if (this.pos !== null && m.resumed) this.resumes++;
        else {
          if (this.pos !== null) this.resets++;
          this.view.clear();
          this.pos = BigInt(m.snapshot_seq);
        }
        this.#subscribed.resolve();
        return;
      case "initial_data":
        for (const r of m.rows) this.view.set(Number(r.k), Number(r.v));
        return;
      case "change":
        return this.#change(m);
      case "error":
        if (m.code === "SUBSCRIPTION_OVERFLOW") this.overflows++;
        else this.anomalies.push(`${this.scope.name}: error ${m.code}: ${m.message}`);
        if (m.id === "s") this.#subscribe(ws); // resume from the last seq seen
        return;
      case "auth_error":
        this.anomalies.push(`${this.scope.name}: auth_error ${m.code}: ${m.message}`);
        return;
    }
  }

  #change(m: Msg): void {
    const seq = BigInt(m.seq);
    if (this.pos !== null && seq <= this.pos) {
      this.anomalies.push(`${this.scope.name}: change seq ${seq} not after ${this.pos} (${m.op})`);
    }
    if (this.pos === null || seq > this.pos) this.pos = seq;
    this.changes++;
    if (m.op === "delete") {
      for (const r of m.old_rows ?? []) {
        const k = Number(r.k);
        this.view.delete(k);
        this.deletes.set(k, (this.deletes.get(k) ?? 0) + 1);
      }
      return;
    }
    for (const r of m.rows ?? []) {
      const v = Number(r.v);
      this.view.set(Number(r.k), v);
      this.seen.set(v, (this.seen.get(v) ?? 0) + 1);
    }
  }
}

/** `p`, or a rejection naming `what` after `ms`. */
export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
