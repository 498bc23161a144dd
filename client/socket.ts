// The live socket: one WebSocket to `/v1/ws` shared by every subscription of a client (SPEC §8).
// It authenticates with a first message (the only way a browser can send credentials), routes
// each server message to its subscription by id, and tells a subscription when a frame is done
// (so a batch of changes becomes one callback). When the socket drops — server restart, network,
// a missed heartbeat — it reconnects with exponential backoff and jitter and asks every
// subscription to subscribe again; each one resumes from its own last seq. The socket closes
// itself when no subscription is left, and reopens on the next subscribe.

import type { Credentials } from "./auth.ts";
import { closedError, fromWire, KalamError } from "./errors.ts";

export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

export interface ReconnectOptions {
  /** First retry delay (default 250 ms); doubles per failed attempt. */
  readonly initialDelayMs?: number;
  /** Largest retry delay (default 10 s). */
  readonly maxDelayMs?: number;
  /** A ping every this long; a socket silent for two of them is dropped (default 20 s). */
  readonly heartbeatMs?: number;
}

export type WireMessage = Record<string, unknown>;

/** What the socket needs from a subscription. */
export interface SocketMember {
  /** The id the current subscribe message carries (changes per attempt). */
  readonly wireId: string;
  /** The socket is open and authenticated: (re)send the subscribe message. */
  attach(): void;
  /** A server message for this subscription. */
  receive(msg: WireMessage): void;
  /** The frame that carried messages for this subscription has been handled. */
  endOfFrame(): void;
  /** The connection failed for good (credentials refused, client closed). */
  fail(err: KalamError): void;
}

type SocketCtor = new (url: string) => WebSocket;

/** Time from opening the socket to `auth_success` before the attempt counts as failed. */
const AUTH_TIMEOUT_MS = 15_000;
/** A connection that held this long resets the backoff. */
const STABLE_MS = 5_000;

export class LiveSocket {
  #url: string;
  #credentials: Credentials;
  #ctor: SocketCtor;
  #opts: Required<ReconnectOptions>;
  #onState: (s: ConnectionState) => void;
  #members = new Map<string, SocketMember>();
  #ws?: WebSocket;
  #state: ConnectionState = "idle";
  #attempt = 0;
  #retryTimer?: ReturnType<typeof setTimeout>;
  #heartbeat?: ReturnType<typeof setInterval>;
  #heard = true;
  #authRetried = false;
  #generation = 0;
  #stableTimer?: ReturnType<typeof setTimeout>;

  constructor(
    url: string,
    credentials: Credentials,
    ctor: SocketCtor,
    opts: ReconnectOptions,
    onState: (s: ConnectionState) => void,
  ) {
    this.#url = url;
    this.#credentials = credentials;
    this.#ctor = ctor;
    this.#opts = {
      initialDelayMs: opts.initialDelayMs ?? 250,
      maxDelayMs: opts.maxDelayMs ?? 10_000,
      heartbeatMs: opts.heartbeatMs ?? 20_000,
    };
    this.#onState = onState;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Adds a subscription; it is attached now if the socket is open, else once it is. */
  join(m: SocketMember): void {
    if (this.#state === "closed") return m.fail(closedError());
    this.#members.set(m.wireId, m);
    if (this.#state === "open") m.attach();
    else if (this.#state === "idle") this.#connect();
  }

  /** A member's wire id changed (a resubscribe): route the new id to it. */
  rekey(oldId: string, m: SocketMember): void {
    this.#members.delete(oldId);
    this.#members.set(m.wireId, m);
  }

  /** Removes a subscription; the socket closes when it was the last. */
  leave(m: SocketMember): void {
    if (this.#members.get(m.wireId) === m) this.#members.delete(m.wireId);
    if (this.#members.size === 0 && this.#state !== "closed") this.#shutdown("idle");
  }

  /** Sends a message when open; false when it could not be sent (it will be on reattach). */
  send(msg: WireMessage): boolean {
    // A socket already closing drops what it is given: report it unsent (it is sent again).
    if (this.#state !== "open" || !this.#ws || this.#ws.readyState !== 1 /* OPEN */) return false;
    this.#ws.send(JSON.stringify(msg));
    return true;
  }

  /** Ends everything: no reconnect, every member fails with CLIENT_CLOSED. */
  close(): void {
    const members = [...this.#members.values()];
    this.#members.clear();
    this.#shutdown("closed");
    for (const m of members) m.fail(closedError());
  }

  /** Drops the socket as a network failure would (tests, and the heartbeat). */
  drop(): void {
    const ws = this.#ws;
    if (!ws) return;
    this.#ws = undefined; // a dead link may never finish its closing handshake: do not wait
    this.#stopHeartbeat();
    clearTimeout(this.#stableTimer);
    try {
      ws.close(4000, "dropped by the client");
    } catch { /* already closed */ }
    this.#retry();
  }

  #setState(s: ConnectionState): void {
    if (this.#state === s) return;
    this.#state = s;
    this.#onState(s);
  }

  async #connect(): Promise<void> {
    // One connect per generation: a shutdown (or a newer connect) in the meantime wins.
    const generation = ++this.#generation;
    const current = () => generation === this.#generation && this.#state !== "closed";
    this.#setState(this.#attempt === 0 ? "connecting" : "reconnecting");
    let token: string | undefined;
    try {
      token = await this.#credentials.token();
    } catch (err) {
      if (!current()) return;
      if (err instanceof KalamError && err.code === "UNAUTHORIZED") return this.#failAll(err);
      return this.#retry(); // the server is down, or the network
    }
    if (!current() || this.#state === "idle") return;
    let ws: WebSocket;
    try {
      ws = new this.#ctor(this.#url);
    } catch (err) {
      return this.#failAll(new KalamError({ code: "NETWORK_ERROR", message: String(err) }));
    }
    this.#ws = ws;
    // A server that accepts the socket but never answers the authentication is dropped.
    const authTimer = setTimeout(() => {
      if (this.#ws === ws && this.#state !== "open") this.drop();
    }, AUTH_TIMEOUT_MS);
    ws.onopen = () =>
      ws.send(JSON.stringify(token ? { type: "authenticate", token } : { type: "authenticate" }));
    ws.onmessage = (ev) => {
      if (this.#ws === ws) this.#frame(ev.data, token);
    };
    ws.onclose = () => {
      clearTimeout(authTimer);
      if (this.#ws !== ws) return;
      clearTimeout(this.#stableTimer);
      this.#ws = undefined;
      this.#stopHeartbeat();
      if (
        this.#state === "open" || this.#state === "connecting" || this.#state === "reconnecting"
      ) {
        this.#retry();
      }
    };
  }

  #frame(data: unknown, token: string | undefined): void {
    this.#heard = true;
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(data));
    } catch {
      return; // not the protocol: ignored (the heartbeat still counts it as life)
    }
    const messages = (Array.isArray(parsed) ? parsed : [parsed]) as WireMessage[];
    const touched = new Set<SocketMember>();
    for (const msg of messages) {
      if (typeof msg !== "object" || msg === null) continue;
      if (msg.type === "auth_success") this.#opened();
      else if (msg.type === "auth_error") this.#authFailed(fromWire(msg, 401), token);
      else if (typeof msg.id === "string") {
        const m = this.#members.get(msg.id);
        if (!m) continue;
        try {
          m.receive(msg);
          touched.add(m);
        } catch (err) {
          // One unreadable message ends its subscription, never the socket or the others.
          m.fail(new KalamError({ code: "PROTOCOL_ERROR", message: String(err), cause: err }));
        }
      }
    }
    for (const m of touched) m.endOfFrame();
  }

  #opened(): void {
    // The backoff starts over only once a connection has held for a while: a server that
    // accepts and then drops at once still gets ever longer pauses.
    clearTimeout(this.#stableTimer);
    this.#stableTimer = setTimeout(() => this.#attempt = 0, STABLE_MS);
    this.#authRetried = false;
    this.#setState("open");
    this.#startHeartbeat();
    for (const m of [...this.#members.values()]) m.attach();
  }

  /** A refused token is renewed once (a password login, a provider); otherwise it is final. */
  #authFailed(err: KalamError, token: string | undefined): void {
    const ws = this.#ws;
    this.#ws = undefined;
    ws?.close();
    if (!this.#authRetried && this.#credentials.rejected(token)) {
      this.#authRetried = true;
      return void this.#connect();
    }
    this.#failAll(err);
  }

  #failAll(err: KalamError): void {
    const members = [...this.#members.values()];
    this.#members.clear();
    this.#shutdown("idle");
    for (const m of members) m.fail(err);
  }

  #retry(): void {
    if (this.#members.size === 0) return this.#shutdown("idle");
    this.#setState("reconnecting");
    const { initialDelayMs, maxDelayMs } = this.#opts;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(this.#attempt, 20));
    this.#attempt++;
    // "Equal jitter": half the delay fixed, half random, so clients restarted together spread.
    const delay = ceiling / 2 + Math.random() * ceiling / 2;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#state === "reconnecting") this.#connect();
    }, delay);
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    this.#heard = true;
    this.#heartbeat = setInterval(() => {
      if (!this.#heard) return this.drop(); // two intervals of silence: the link is dead
      this.#heard = false;
      this.send({ type: "ping" });
    }, this.#opts.heartbeatMs);
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #shutdown(state: "idle" | "closed"): void {
    this.#generation++;
    clearTimeout(this.#stableTimer);
    if (this.#state === "closed") state = "closed"; // closed is final
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#stopHeartbeat();
    this.#attempt = 0;
    const ws = this.#ws;
    this.#ws = undefined;
    this.#setState(state);
    try {
      ws?.close(1000, state === "closed" ? "client closed" : "no subscriptions");
    } catch { /* already closed */ }
  }
}
