// The client: `createClient({ url, auth })` → query over HTTP, subscribe and live over one shared
// WebSocket. Only the standard `fetch` and `WebSocket` are used (both replaceable through the
// options), so the same module runs in browsers, Deno, Node ≥ 22 and Bun.

import { type Auth, Credentials } from "./auth.ts";
import { closedError, KalamError } from "./errors.ts";
import { type QueryOptions, type QueryResult, SqlEndpoint } from "./http.ts";
import { LiveRowsState } from "./live_rows.ts";
import { type ConsumeOptions, Consumer, type MessageHandler } from "./consumer.ts";
import { type ConnectionState, LiveSocket, type ReconnectOptions } from "./socket.ts";
import {
  type ResetReason,
  type SubscribeOptions,
  Subscription,
  type SubscriptionHandlers,
} from "./subscription.ts";
import type { JsonValue, Row } from "./values.ts";

export interface ClientOptions {
  /** The server, e.g. `http://localhost:2900` (its `/v1/ws` is derived: http → ws). */
  readonly url: string;
  /** `{ user, password }`, `{ token }`, `{ tokenProvider }`; omitted = anonymous. */
  readonly auth?: Auth;
  readonly reconnect?: ReconnectOptions;
  /** Called on every change of the live socket's state. */
  readonly onConnectionChange?: (state: ConnectionState) => void;
  /** Replaces the global `fetch` (e.g. to add headers). */
  readonly fetch?: typeof fetch;
  /** Replaces the global `WebSocket` constructor. */
  readonly WebSocket?: new (url: string) => WebSocket;
}

export interface LiveOptions extends Omit<SubscribeOptions, "allUsers" | "fromSeq"> {
  readonly onError?: (err: KalamError) => void;
  /** The view was replaced by a fresh snapshot (the server could not resume). */
  readonly onReset?: (info: { seq: string; reason: ResetReason }) => void;
}

/**
 * Always-current rows of a live query. Calling it stops it; `get()` / `subscribe(fn)` are the
 * store shape frameworks adapt in one line (`get()` keeps its identity until rows change).
 */
export interface LiveRows<R extends Row = Row> {
  (): void;
  get(): R[];
  /** Calls `fn` after every batch of changes; returns the function that stops calling it. */
  subscribe(fn: (rows: R[]) => void): () => void;
  /** Resolves with the first rows (the snapshot). */
  readonly ready: Promise<R[]>;
  readonly subscription: Subscription<R>;
  stop(): void;
}

export class KalamClient {
  readonly url: string;
  #credentials: Credentials;
  #sql: SqlEndpoint;
  #socket: LiveSocket;
  #closed = false;
  #fetch: typeof fetch;
  #hasSocket: boolean;

  constructor(options: ClientOptions) {
    const base = options.url.replace(/\/+$/, "");
    this.url = base;
    const fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.#credentials = new Credentials(base, options.auth, fetchFn);
    this.#sql = new SqlEndpoint(base, this.#credentials, fetchFn);
    this.#fetch = fetchFn;
    const ws = new URL("v1/ws", base + "/"); // relative: a path prefix (a proxy's) is kept
    ws.protocol = ws.protocol === "https:" ? "wss:" : "ws:";
    // Without a WebSocket (Node < 22) queries still work; subscribing says why it cannot.
    const ctor = options.WebSocket ?? globalThis.WebSocket;
    this.#hasSocket = typeof ctor === "function";
    this.#socket = new LiveSocket(
      ws.href,
      this.#credentials,
      ctor,
      options.reconnect ?? {},
      options.onConnectionChange ?? (() => {}),
    );
  }

  /** The live socket's state: idle (no subscriptions), connecting, open, reconnecting, closed. */
  get connectionState(): ConnectionState {
    return this.#socket.state;
  }

  /** The user and role a password login runs as, and when its access token expires. */
  get session(): { user?: string; role?: string; expiresAt?: Date } {
    const c = this.#credentials;
    return { user: c.user, role: c.role, expiresAt: c.expiresAt };
  }

  /** Runs SQL (one statement with `$1…` params, or a batch); the last result plus all of them. */
  query<R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    if (this.#closed) return Promise.reject(closedError());
    return this.#sql.query<R>(sql, params, options);
  }

  /** GETs a path of the server with the client's credentials (an export's `download_url`). */
  async download(path: string, signal?: AbortSignal): Promise<Response> {
    if (this.#closed) throw closedError();
    const token = await this.#credentials.token(signal);
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const url = new URL(path.replace(/^\/+/, ""), this.url + "/").href;
    return await this.#fetch(url, { headers, signal });
  }

  /** The first row of the (last) result, or undefined. */
  async queryOne<R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<R | undefined> {
    return (await this.query<R>(sql, params, options)).rows[0];
  }

  /** A live query on the shared socket; see Subscription. */
  subscribe<R extends Row = Row>(
    sql: string,
    handlers: SubscriptionHandlers<R> = {},
    options: SubscribeOptions = {},
  ): Subscription<R> {
    if (this.#closed) throw closedError();
    if (!this.#hasSocket) {
      throw new KalamError({
        code: "UNSUPPORTED",
        message: "No WebSocket in this runtime (Node needs version 22 or later)",
      });
    }
    return new Subscription<R>(this.#socket, sql, handlers, options);
  }

  /**
   * Consumes a topic on the shared socket: `handler` runs for every message; the message is
   * acked when it resolves and offered again (with a growing delay) when it throws.
   */
  consume<P = JsonValue>(options: ConsumeOptions, handler: MessageHandler<P>): Consumer<P> {
    if (this.#closed) throw closedError();
    if (!this.#hasSocket) {
      throw new KalamError({
        code: "UNSUPPORTED",
        message: "No WebSocket in this runtime (Node needs version 22 or later)",
      });
    }
    return new Consumer<P>(this.#socket, options, handler);
  }

  /** Always-current rows of `sql`, in primary-key order; `onRows` runs once per batch. */
  live<R extends Row = Row>(
    sql: string,
    onRows?: (rows: R[]) => void,
    options: LiveOptions = {},
  ): LiveRows<R> {
    if ((options as SubscribeOptions).allUsers) {
      throw new KalamError({
        code: "INVALID_PARAMETER",
        message: "live() keeps one user's rows; use subscribe() for all-users subscriptions",
      });
    }
    const state = new LiveRowsState<R>();
    const listeners = new Set<(rows: R[]) => void>();
    if (onRows) listeners.add(onRows);
    let dirty = false;
    let resolveReady!: (rows: R[]) => void;
    const ready = new Promise<R[]>((resolve) => resolveReady = resolve);
    const sub = this.subscribe<R>(sql, {
      onSnapshot(rows) {
        state.setKey(sub.primaryKey);
        state.reset(rows);
        dirty = true;
      },
      onReset(rows, info) {
        state.setKey(sub.primaryKey);
        state.reset(rows);
        dirty = true;
        options.onReset?.(info);
      },
      onChange(change) {
        state.apply(change);
        dirty = true;
      },
      onBatch() {
        if (!dirty) return;
        dirty = false;
        const rows = state.get();
        resolveReady(rows);
        for (const fn of [...listeners]) fn(rows);
      },
      onError: options.onError,
    }, options);
    // A failed subscription rejects ready with the same error onError got.
    const readyOrFail = Promise.race([ready, sub.ready.then(() => ready)]);
    readyOrFail.catch(() => {});
    const stop = () => {
      sub.unsubscribe();
      listeners.clear();
    };
    return Object.assign(stop, {
      get: () => state.get(),
      subscribe(fn: (rows: R[]) => void) {
        listeners.add(fn);
        return () => void listeners.delete(fn);
      },
      ready: readyOrFail,
      subscription: sub,
      stop,
    });
  }

  /** Ends everything: subscriptions stop, the socket closes, later calls fail CLIENT_CLOSED. */
  close(): void {
    this.#closed = true;
    this.#socket.close();
  }

  /** Drops the live socket as a network failure would; subscriptions resume (diagnostics). */
  dropConnection(): void {
    this.#socket.drop();
  }
}

/** Creates a client; nothing connects until the first query or subscription. */
export function createClient(options: ClientOptions): KalamClient {
  return new KalamClient(options);
}
