// The subscribed WebSockets of one load worker (_load_worker.ts). Socket g (a global index)
// belongs to user g mod U and watches one bucket of `load.items` (4 in 5) or of `load.feed`
// (1 in 5), so every (user, bucket) pair and every shared bucket has several watchers, and the
// writers cycle through all of them. Credentials go with the upgrade (`Authorization`), and each
// socket names a client address in `X-Forwarded-For`, ≤ 500 sockets per address: the server caps
// sockets per address at 1,024 and believes the header only because the test lists 127.0.0.1 in
// KALAMDB_TRUSTED_PROXIES. Every wait has a deadline. A socket sends a JSON ping every `pingMs`
// (default 10 s; the SDK pings every 20 s), as a live client does: the server closes a socket
// that sends nothing for 5 minutes. (Under 1,000 concurrent HTTP clients the server still drops
// sockets with Deno's 1001 "No response from ping frame." — the finding of issue 15 item 5.)

import { SHARED_BUCKETS, USER_BUCKETS } from "./_load_setup.ts";

const SOCKETS_PER_ADDRESS = 500;

export interface Watch {
  readonly index: number;
  readonly sql: string;
  readonly user: number;
  changes: number;
  lastChangeAt: number;
  lastSeq: string;
  outOfOrder: number;
  errors: Record<string, number>;
  closed?: { code: number; reason: string; atMs: number };
  ws?: WebSocket;
  acked: boolean;
}

/** What socket `g` watches. */
export function watchOf(g: number, users: number): Watch {
  const user = g % users;
  const k = Math.floor(g / users);
  const sql = k % 5 === 4
    ? `SELECT id, n FROM load.feed WHERE bucket = ${(k * 7 + user) % SHARED_BUCKETS}`
    : `SELECT id, n FROM load.items WHERE bucket = ${k % USER_BUCKETS}`;
  return {
    index: g,
    sql,
    user,
    changes: 0,
    lastChangeAt: 0,
    lastSeq: "",
    outOfOrder: 0,
    errors: {},
    acked: false,
  };
}

/** Seqs are decimal strings of one width class: longer is later, else compare as text. */
function after(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}

export class Sockets {
  readonly watches: Watch[] = [];
  deliveries = 0;
  #stopping = false;
  #pinger?: ReturnType<typeof setInterval>;
  #t0 = performance.now();

  /** Opens and subscribes every socket in `indices`, ≤ `batch` at once, all within `timeoutMs`. */
  async open(
    o: { url: string; indices: number[]; users: string[]; worker: number; pingMs: number },
    timeoutMs: number,
  ): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const wsUrl = o.url.replace(/^http/, "ws") + "/v1/ws";
    if (!/^ws:\/\/127\.0\.0\.1:\d+\/v1\/ws$/.test(wsUrl)) throw new Error("loopback only");
    const BATCH = 200;
    for (let i = 0; i < o.indices.length && performance.now() < deadline; i += BATCH) {
      await Promise.all(
        o.indices.slice(i, i + BATCH).map((g, j) => {
          const w = watchOf(g, o.users.length);
          this.watches.push(w);
          const address = `127.1.${o.worker}.${Math.floor((i + j) / SOCKETS_PER_ADDRESS) + 1}`;
          return this.#subscribe(w, wsUrl, o.users[w.user], address, deadline);
        }),
      );
    }
    this.#pinger = setInterval(() => this.#ping(), o.pingMs / 10);
  }

  #subscribe(w: Watch, url: string, auth: string, address: string, deadline: number) {
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = setTimeout(() => {
      w.errors.SUBSCRIBE_TIMEOUT = 1;
      resolve();
    }, Math.max(1, deadline - performance.now()));
    const done = () => (clearTimeout(timer), resolve());
    // Deno's WebSocket takes request headers (a Deno extension to the browser constructor).
    const init = { headers: { authorization: auth, "x-forwarded-for": address } };
    const ws = new WebSocket(url, init as unknown as string[]);
    w.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", id: "s", sql: w.sql }));
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data));
      for (const m of Array.isArray(msg) ? msg : [msg]) {
        if (m.type === "change") this.#change(w, m);
        else if (m.type === "subscription_ack") {
          w.acked = true;
          done();
        } else if (m.type === "error" || m.type === "auth_error") {
          w.errors[m.code ?? "ERROR"] = (w.errors[m.code ?? "ERROR"] ?? 0) + 1;
          done();
        }
      }
    };
    ws.onclose = (e) => {
      if (!this.#stopping) {
        w.closed = {
          code: e.code,
          reason: e.reason,
          atMs: Math.round(performance.now() - this.#t0),
        };
      }
      done();
    };
    ws.onerror = () => {/* onclose follows */};
    return promise;
  }

  #change(w: Watch, m: { seq?: string }): void {
    w.changes++;
    this.deliveries++;
    w.lastChangeAt = performance.now();
    const seq = String(m.seq ?? "");
    if (w.lastSeq !== "" && !after(seq, w.lastSeq)) w.outOfOrder++;
    w.lastSeq = seq;
  }

  /** A tenth of the sockets ping every pingMs / 10, so each pings every pingMs. */
  #pingRound = 0;
  #ping(): void {
    const round = this.#pingRound++ % 10;
    for (let i = round; i < this.watches.length; i += 10) {
      const ws = this.watches[i].ws;
      if (ws?.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}');
    }
  }

  /** Per-socket findings: never subscribed, closed, errors, silent, stalled since `since`. */
  verdict(since: number) {
    const count = (f: (w: Watch) => boolean) => this.watches.filter(f).length;
    const errors: Record<string, number> = {};
    for (const w of this.watches) {
      for (const [k, v] of Object.entries(w.errors)) errors[k] = (errors[k] ?? 0) + v;
    }
    const changes = this.watches.map((w) => w.changes).sort((a, b) => a - b);
    return {
      sockets: this.watches.length,
      subscribed: count((w) => w.acked),
      closed: count((w) => w.closed !== undefined),
      first_closes: this.watches.filter((w) => w.closed).slice(0, 3).map((w) => w.closed),
      silent: count((w) => w.changes === 0),
      stalled: count((w) => w.lastChangeAt < since),
      stalled_open: count((w) => w.lastChangeAt < since && w.closed === undefined),
      out_of_order: this.watches.reduce((s, w) => s + w.outOfOrder, 0),
      errors,
      deliveries: this.deliveries,
      min_changes_per_socket: changes[0] ?? 0,
      median_changes_per_socket: changes[Math.floor(changes.length / 2)] ?? 0,
    };
  }

  close(): void {
    this.#stopping = true;
    clearInterval(this.#pinger);
    for (const w of this.watches) {
      try {
        w.ws?.close(1000, "load test over");
      } catch { /* already closed */ }
    }
  }
}
