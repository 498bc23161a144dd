// `/v1/ws` (SPEC §8): the WebSocket protocol on top of the live-query registry. Authentication
// comes from the upgrade request's Authorization header or from a first `authenticate` message
// within 5 s (token, user + password, or nothing = anonymous). Each socket queues its outgoing
// messages and sends what is pending as one frame per microtask turn (a JSON array when there is
// more than one), so a commit that touches many subscriptions costs one send per socket. The
// queue is bounded: a socket that stops reading makes its subscriptions overflow
// (SUBSCRIPTION_OVERFLOW) instead of growing the server's memory.

import { Buffer } from "node:buffer";
import { networkKey, type Principal } from "../auth/mod.ts";
import type { LiveConnection, LiveRegistry } from "../live/mod.ts";
import { DbError, toDbError } from "../errors.ts";
import { ANONYMOUS, type Authenticator } from "./authenticate.ts";
import { errorResponse } from "./respond.ts";
import { logError } from "../log.ts";
import { PushConsumer, type RunSql, settleDirect } from "./ws_consume.ts";

/** Messages a socket may send behind its `authenticate` before the check answers. */
const MAX_HELD = 64;

export interface WsOptions {
  /** Time to send `authenticate` when the upgrade carried no credentials (default 5 s). */
  readonly authTimeoutMs?: number;
  /** A socket that sends nothing for this long is closed (default 5 min). */
  readonly idleTimeoutMs?: number;
  /** Messages queued for one socket before its subscriptions overflow (default 10,000). */
  readonly maxQueue?: number;
  /** Bytes the socket may hold unsent before its subscriptions overflow (default 8 MiB). */
  readonly maxBuffered?: number;
  /** Largest subscription SQL, as over HTTP (default 1 MiB): PAYLOAD_TOO_LARGE beyond. */
  readonly maxSqlBytes?: number;
  /**
   * Largest incoming message (default maxSqlBytes + 64 KiB): beyond it the socket gets
   * PAYLOAD_TOO_LARGE and is closed with 1009. Deno buffers a whole message before the
   * application sees it (it has no frame-size option), so this is checked on receipt.
   */
  readonly maxMessageBytes?: number;
  /** Open sockets per client address (default 1,024): 429 RATE_LIMITED at the upgrade beyond. */
  readonly maxSocketsPerAddress?: number;
  /**
   * Sockets per client address that have not authenticated yet (default 64). Deno buffers a
   * whole incoming message before the server sees it, so this bounds what anonymous clients that
   * never authenticate can make the server hold.
   */
  readonly maxUnauthenticatedPerAddress?: number;
}

export class WsEndpoint {
  #registry: LiveRegistry;
  /** Runs topic statements for push consumers (absent: `consume` is UNSUPPORTED). */
  readonly run?: RunSql;
  #auth: Authenticator;
  #options: Required<WsOptions>;
  #sockets = new Set<Socket>();
  /** Open sockets per address, and those of them not authenticated yet. */
  #perAddress = new Map<string, { open: number; waiting: Set<Socket> }>();
  #counter = 0;

  constructor(
    registry: LiveRegistry,
    auth: Authenticator,
    options: WsOptions = {},
    run?: RunSql,
  ) {
    this.#registry = registry;
    this.run = run;
    this.#auth = auth;
    this.#options = {
      authTimeoutMs: options.authTimeoutMs ?? 5000,
      idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
      maxQueue: options.maxQueue ?? 10_000,
      maxBuffered: options.maxBuffered ?? 8 * 1024 * 1024,
      maxSqlBytes: options.maxSqlBytes ?? 1024 * 1024,
      maxMessageBytes: options.maxMessageBytes ?? (options.maxSqlBytes ?? 1024 * 1024) + 65536,
      maxSocketsPerAddress: options.maxSocketsPerAddress ?? 1024,
      maxUnauthenticatedPerAddress: options.maxUnauthenticatedPerAddress ?? 64,
    };
  }

  /** The upgrade request; a failed Authorization header is answered before upgrading. */
  async handle(req: Request, peer: string, t0: number): Promise<Response> {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(
        new DbError("INVALID_PARAMETER", "This endpoint speaks WebSocket (Upgrade: websocket)"),
        t0,
        [],
        426,
      );
    }
    const address = this.#auth.address(req, peer);
    let principal: Principal | undefined;
    if (req.headers.has("authorization")) {
      try {
        principal = await this.#auth.request(req, address);
      } catch (err) {
        return errorResponse(toDbError(err), t0);
      }
    }
    const net = networkKey(address); // an IPv6 client counts as its /64
    const held = this.#perAddress.get(net);
    const waitingFull = !principal &&
      (held?.waiting.size ?? 0) >= this.#options.maxUnauthenticatedPerAddress;
    if (waitingFull || (held?.open ?? 0) >= this.#options.maxSocketsPerAddress) {
      return errorResponse(
        new DbError(
          "RATE_LIMITED",
          waitingFull
            ? `At most ${this.#options.maxUnauthenticatedPerAddress} WebSockets per client ` +
              "address may wait to authenticate (send credentials with the upgrade, or authenticate first)"
            : `At most ${this.#options.maxSocketsPerAddress} WebSockets per client address`,
        ),
        t0,
      );
    }
    let upgraded: ReturnType<typeof Deno.upgradeWebSocket>;
    try {
      // No protocol-level watchdog: Deno's (a ping, then a close unless the pong is read within
      // 30 s) closed healthy subscribers when a thousand busy HTTP clients delayed their frames.
      // The socket's own idle timer (idle_timeout_ms, 5 min without a client message; the SDK
      // pings) bounds dead peers instead.
      upgraded = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    } catch (err) {
      // A malformed handshake (no Sec-WebSocket-Key, no Connection: Upgrade) is the client's.
      return errorResponse(
        new DbError("INVALID_PARAMETER", `Bad WebSocket handshake: ${(err as Error).message}`),
        t0,
      );
    }
    const { socket, response } = upgraded;
    const conn = new Socket(this, socket, `ws-${(this.#counter++).toString(36)}`, address);
    this.#sockets.add(conn);
    let mine = held;
    if (!mine) this.#perAddress.set(net, mine = { open: 0, waiting: new Set() });
    mine.open++;
    if (!principal) mine.waiting.add(conn);
    socket.onopen = () => {
      if (principal) conn.authenticated(principal);
      else conn.awaitAuthentication(this.#options.authTimeoutMs);
    };
    socket.onmessage = (ev) => conn.receive(ev.data);
    socket.onclose = () => this.#closed(conn);
    socket.onerror = () => this.#closed(conn);
    return response;
  }

  /** Closes every socket (server shutdown). */
  closeAll(): void {
    for (const s of this.#sockets) {
      try {
        s.close(1001, "server shutting down");
      } catch { /* already closing: one socket never keeps the others open */ }
    }
  }

  get registry(): LiveRegistry {
    return this.#registry;
  }
  get auth(): Authenticator {
    return this.#auth;
  }
  get options(): Required<WsOptions> {
    return this.#options;
  }

  /** A socket authenticated by message: it no longer counts as waiting. */
  authenticatedOne(conn: Socket, address: string): void {
    this.#perAddress.get(networkKey(address))?.waiting.delete(conn);
  }

  #closed(conn: Socket): void {
    if (!this.#sockets.delete(conn)) return;
    const net = networkKey(conn.address);
    const mine = this.#perAddress.get(net);
    if (mine) {
      mine.waiting.delete(conn);
      if (--mine.open <= 0) this.#perAddress.delete(net);
    }
    conn.dispose();
    this.#registry.dropConnection(conn);
  }
}

type Message = Record<string, unknown>;

class Socket implements LiveConnection {
  readonly id: string;
  #endpoint: WsEndpoint;
  #ws: WebSocket;
  #address: string;

  get address(): string {
    return this.#address;
  }
  #principal?: Principal;
  #pending: string[] = [];
  #scheduled = false;
  /**
   * The largest frame sent since the socket last held at most maxBuffered bytes: a frame over
   * the cap on its own (one big row) is allowed to drain without overflowing the next message.
   */
  #slack = 0;
  /** When the credentials were checked (ms): a user created after it is someone else. */
  #authenticatedAt = 0;
  #authTimer?: ReturnType<typeof setTimeout>;
  #idleTimer?: ReturnType<typeof setTimeout>;
  /**
   * Messages that arrived while the `authenticate` message was being checked (a token's
   * signature, a password hash: async). A client may send `subscribe` right behind it (README);
   * they run in order once it succeeds, and go with the socket when it fails.
   */
  #held?: unknown[];
  /** Push consumers of topics by their id. */
  #consumers = new Map<string, PushConsumer>();

  constructor(endpoint: WsEndpoint, ws: WebSocket, id: string, address: string) {
    this.#endpoint = endpoint;
    this.#ws = ws;
    this.id = id;
    this.#address = address;
  }

  get principal(): Principal {
    return this.#principal ?? ANONYMOUS;
  }

  /** True when the socket's queue would refuse a message now (see `send`). */
  get full(): boolean {
    const { maxQueue, maxBuffered } = this.#endpoint.options;
    const buffered = this.#ws.bufferedAmount;
    if (buffered <= maxBuffered) this.#slack = 0;
    return this.#pending.length >= maxQueue || buffered > maxBuffered + this.#slack;
  }

  send(message: Message, json?: string): boolean {
    if (this.#ws.readyState !== WebSocket.OPEN) return true; // closing: nothing to keep
    if (this.full && message.type !== "error") return false;
    // A change shared by many sockets arrives already serialised (once, by the registry).
    this.#pending.push(json ?? JSON.stringify(message));
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
    return true;
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0 || this.#ws.readyState !== WebSocket.OPEN) return;
    const frame = batch.length === 1 ? batch[0] : `[${batch.join(",")}]`;
    this.#ws.send(frame);
    // Byte length only matters for big frames (and a string's length is never more than it).
    const bytes = frame.length > 65_536 ? Buffer.byteLength(frame, "utf8") : frame.length;
    this.#slack = Math.max(this.#slack, bytes);
  }

  authenticated(principal: Principal): void {
    clearTimeout(this.#authTimer);
    this.#principal = principal;
    this.#authenticatedAt = Date.now();
    this.#endpoint.authenticatedOne(this, this.#address);
    this.send({ type: "auth_success", user: principal.user, role: principal.role });
    this.#touch();
  }

  awaitAuthentication(ms: number): void {
    this.#authTimer = setTimeout(() =>
      this.#authFailed(
        new DbError(
          "UNAUTHORIZED",
          `No authenticate message within ${ms} ms`,
        ),
      ), ms);
  }

  receive(data: unknown): void {
    if (this.#held) {
      if (this.#held.length < MAX_HELD) return void this.#held.push(data);
      return this.#authFailed(new DbError("UNAUTHORIZED", "Authenticate first"));
    }
    this.#touch();
    const { maxMessageBytes, maxSqlBytes } = this.#endpoint.options;
    if (exceeds(data, maxMessageBytes)) return this.#tooLarge(maxMessageBytes);
    let msg: Message;
    try {
      msg = JSON.parse(String(data));
      if (typeof msg !== "object" || msg === null || Array.isArray(msg)) throw new Error();
    } catch {
      this.send({ type: "error", code: "INVALID_PARAMETER", message: "Messages are JSON objects" });
      return;
    }
    if (!this.#principal) {
      this.#held = [];
      void this.#authenticate(msg).then(() => {
        const held = this.#held ?? [];
        this.#held = undefined;
        if (this.#principal) { for (const d of held) this.receive(d); }
      });
      return;
    }
    const id = typeof msg.id === "string" ? msg.id : undefined;
    if (typeof msg.sql === "string" && exceeds(msg.sql, maxSqlBytes)) {
      const message = `The SQL text exceeds the limit of ${maxSqlBytes} bytes`;
      return void this.send({ type: "error", id, code: "PAYLOAD_TOO_LARGE", message });
    }
    const fail = (err: unknown) => {
      const e = toDbError(err);
      if (!(err instanceof DbError)) logError("WebSocket message", err);
      this.send({ type: "error", id, code: e.code, message: e.message });
    };
    const { registry } = this.#endpoint;
    switch (msg.type) {
      case "ping":
        this.send({ type: "pong" });
        return;
      case "subscribe":
        if (!id || typeof msg.sql !== "string") {
          return fail(new DbError("INVALID_PARAMETER", 'subscribe needs "id" and "sql" strings'));
        }
        // The store decides, as for every HTTP request: a dropped user's socket is closed, a
        // demoted one subscribes with its new role.
        try {
          this.#principal = this.#endpoint.auth.current(
            this.#principal.user,
            this.#address,
            this.#authenticatedAt,
          );
        } catch (err) {
          fail(err);
          queueMicrotask(() => this.close(1008, "credentials no longer valid"));
          return;
        }
        registry.subscribe(this, id, msg.sql, msg.options).catch(fail);
        return;
      case "consume":
        return this.#consume(msg, fail);
      case "ack":
      case "nack":
        return this.#settle(msg.type, id, msg, fail);
      case "unsubscribe":
        if (!id || !(this.#stopConsumer(id) || registry.unsubscribe(this, id))) {
          return fail(new DbError("NOT_FOUND", `No subscription "${id}" on this socket`));
        }
        this.send({ type: "unsubscribed", id });
        return;
      case "authenticate":
        return fail(new DbError("INVALID_PARAMETER", "This socket is already authenticated"));
      default:
        return fail(new DbError("INVALID_PARAMETER", `Unknown message type ${String(msg.type)}`));
    }
  }

  /** Stops the push consumer `id`, if it is one. */
  #stopConsumer(id: string): boolean {
    const c = this.#consumers.get(id);
    if (!c) return false;
    c.stop();
    this.#consumers.delete(id);
    return true;
  }

  /** `ack` / `nack`: through its consumer, or on its own when it names topic and group. */
  #settle(
    type: "ack" | "nack",
    id: string | undefined,
    msg: Message,
    fail: (err: unknown) => void,
  ): void {
    if (!Array.isArray(msg.offsets)) {
      return fail(new DbError("INVALID_PARAMETER", `${type} needs "offsets": [[p, o], …]`));
    }
    const c = id ? this.#consumers.get(id) : undefined;
    if (c) return void c.settle(type, msg);
    const run = this.#endpoint.run;
    if (!run || typeof msg.topic !== "string" || typeof msg.group !== "string") {
      return fail(new DbError("NOT_FOUND", `No consumer "${id}" on this socket`));
    }
    try {
      const who = this.#endpoint.auth.current(
        this.principal.user,
        this.#address,
        this.#authenticatedAt,
      );
      void settleDirect(run, (m) => this.send(m), who, type, msg);
    } catch (err) {
      fail(err);
    }
  }

  /** Starts a push consumer (SPEC §10) under this socket's current principal. */
  #consume(msg: Message, fail: (err: unknown) => void): void {
    const run = this.#endpoint.run;
    if (!run) return fail(new DbError("UNSUPPORTED", "Topics are not served on this socket"));
    const id = typeof msg.id === "string" ? msg.id : "";
    if (this.#consumers.has(id)) {
      return fail(new DbError("INVALID_PARAMETER", `Consumer "${id}" already runs on this socket`));
    }
    let c: PushConsumer;
    try {
      // Each statement re-checks the credentials, as every HTTP request does.
      const who = () =>
        this.#endpoint.auth.current(this.principal.user, this.#address, this.#authenticatedAt);
      c = new PushConsumer(run, (m) => this.send(m), () => this.full, who, msg);
    } catch (err) {
      return fail(err);
    }
    this.#consumers.set(id, c);
    c.start().catch(fail).finally(() => {
      if (this.#consumers.get(id) === c) this.#consumers.delete(id);
    });
  }

  async #authenticate(msg: Message): Promise<void> {
    if (msg.type !== "authenticate") {
      return this.#authFailed(new DbError("UNAUTHORIZED", "Authenticate first"));
    }
    const { auth } = this.#endpoint;
    try {
      if (typeof msg.token === "string") {
        this.authenticated(await auth.accessToken(msg.token, this.#address));
      } else if (typeof msg.user === "string") {
        const password = typeof msg.password === "string" ? msg.password : "";
        this.authenticated(await auth.login(msg.user, password, this.#address));
      } else {
        this.authenticated(ANONYMOUS);
      }
    } catch (err) {
      this.#authFailed(toDbError(err));
    }
  }

  #authFailed(err: DbError): void {
    clearTimeout(this.#authTimer);
    this.send({ type: "auth_error", code: err.code, message: err.message });
    queueMicrotask(() => this.close(1008, "authentication failed"));
  }

  /** A message over the cap: the client is told why, then the socket closes (1009, too big). */
  #tooLarge(max: number): void {
    const message = `Messages are limited to ${max} bytes`;
    this.send({ type: "error", code: "PAYLOAD_TOO_LARGE", message });
    queueMicrotask(() => this.close(1009, "message too big"));
  }

  #touch(): void {
    clearTimeout(this.#idleTimer);
    const ms = this.#endpoint.options.idleTimeoutMs;
    this.#idleTimer = setTimeout(() => this.close(1000, "idle timeout"), ms);
  }

  close(code: number, reason: string): void {
    this.#flush();
    try {
      this.#ws.close(code, reason);
    } catch { /* already closed */ }
  }

  dispose(): void {
    clearTimeout(this.#authTimer);
    clearTimeout(this.#idleTimer);
    for (const c of this.#consumers.values()) c.stop();
    this.#consumers.clear();
  }
}

/** Whether a message (text or binary) or a string is longer than `max` bytes of UTF-8. */
function exceeds(data: unknown, max: number): boolean {
  if (data instanceof ArrayBuffer) return data.byteLength > max;
  if (data instanceof Blob) return data.size > max;
  if (typeof data !== "string") return false;
  // Each UTF-16 unit is 1 to 3 bytes: count exactly only where the answer depends on it.
  if (data.length > max) return true;
  if (data.length * 3 <= max) return false;
  let bytes = 0;
  for (let i = 0; i < data.length && bytes <= max; i++) {
    const c = data.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if ((c & 0xfc00) === 0xd800 && (data.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4; // a surrogate pair is one 4-byte code point
      i++;
    } else bytes += 3;
  }
  return bytes > max;
}
