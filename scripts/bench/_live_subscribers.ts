// The live benchmark's subscribers: one process holding every subscriber connection of a run,
// so the client's CPU never runs inside the server measured. Each connection speaks its system's
// protocol directly over `Deno.connect` (WebSocket, RESP or the PostgreSQL protocol), the same
// way for every system: one read buffer per connection, frames parsed in place, the receive time
// taken once per read, and `"sent_at":<µs>` found in every delivered payload. A delivery's
// latency is receive wall time − sent_at, both from `performance.timeOrigin + performance.now()`
// (the system clock; the writer is another process on the same machine).
//
//   deno run -A scripts/bench/_live_subscribers.ts --system=kalamdb|bare|redis|pg --port=P
//     --sockets=N [--subs=K] [--max-drain-ms=M] [--warmup-ms=W]
//
// Protocol with the parent: prints one JSON line `{"ready":true,…}` once every subscription is
// confirmed (or `{"ready":false,"error":…}`); then reads one line `{"expect":W}` from stdin (the
// writes the writer got acknowledged), waits until all W × N × K deliveries arrived, or nothing
// arrived for 2 s, or M ms passed, prints one JSON line of results, and exits when stdin closes.
// The latency statistics leave out the writes sent in the first W ms (the warm-up); the counts
// of deliveries include them.
//
// kalamdb: `GET /v1/ws`, `{"type":"authenticate"}` (anonymous), then K subscriptions per socket
// to `SELECT id, sent_at, payload FROM bench.ev`; frames are one message or an array of them.
// bare: `GET /ws` of _bare_ws.ts; every frame is one row. redis: `SUBSCRIBE ev`. pg: trust login
// as postgres, `LISTEN ev`; every NotificationResponse is one row (row_to_json of the trigger).

//
// The protocols' byte-level pieces are in _live_wire.ts, the latency statistics in _live_stats.ts.

import { parseArgs } from "node:util";
import { latencyStats, Recording } from "./_live_stats.ts";
import {
  type Conn,
  findCrlfCrlf,
  growTo,
  int,
  markReady,
  MESSAGE,
  pgQuery,
  pgStartup,
  respLine,
  same,
  SUBSCRIBE,
  wallMs,
  wsFrame,
} from "./_live_wire.ts";

const { values } = parseArgs({
  options: {
    system: { type: "string" },
    port: { type: "string" },
    sockets: { type: "string", default: "100" },
    subs: { type: "string", default: "1" },
    "max-drain-ms": { type: "string", default: "20000" },
    "warmup-ms": { type: "string", default: "0" },
    concurrency: { type: "string", default: "50" },
  },
});
const SYSTEM = values.system ?? "";
if (!["kalamdb", "bare", "redis", "pg"].includes(SYSTEM)) {
  throw new Error(`--system must be kalamdb, bare, redis or pg; got ${SYSTEM}`);
}
const PORT = Number(values.port);
const SOCKETS = Number(values.sockets);
const SUBS = SYSTEM === "kalamdb" ? Number(values.subs) : 1;
const MAX_DRAIN_MS = Number(values["max-drain-ms"]);
const WARMUP_MS = Number(values["warmup-ms"]);
const CONCURRENCY = Number(values.concurrency);
const SQL = "SELECT id, sent_at, payload FROM bench.ev";
const SETUP_TIMEOUT_MS = 60_000;

const enc = new TextEncoder();
const dec = new TextDecoder();

// ------------------------------------------------------------------ recording

/** Every delivery's latency and sent time (see _live_stats.ts). */
const rec = new Recording();
const errors: string[] = [];
let errorCount = 0;

function fail(conn: Conn | undefined, message: string): void {
  errorCount++;
  if (errors.length < 8) errors.push(message.slice(0, 400));
  if (conn && !conn.ready) conn.setupError ??= message;
}

/**
 * Records every `"sent_at":<digits>` (the digits quoted or not) in one delivered payload, found
 * by its underscore (`indexOf` of one byte is native; the payload text has no underscore, nor
 * does any other key of a change message). Returns the number found, or -1 when some other
 * underscore was seen too (then the payload may hold something else, e.g. an error message).
 */
function scan(conn: Conn, p: Uint8Array, now: number): number {
  let found = 0;
  let other = false;
  const end = p.length;
  let i = p.indexOf(0x5f);
  while (i >= 0) {
    if (
      i >= 5 && i + 4 < end && p[i - 5] === 0x22 && p[i - 4] === 0x73 && p[i - 3] === 0x65 &&
      p[i - 2] === 0x6e && p[i - 1] === 0x74 && p[i + 1] === 0x61 && p[i + 2] === 0x74 &&
      p[i + 3] === 0x22 && p[i + 4] === 0x3a
    ) {
      let j = i + 5;
      if (p[j] === 0x22) j++;
      let v = 0;
      for (let c = p[j]; j < end && c >= 48 && c <= 57; c = p[++j]) v = v * 10 + (c - 48);
      rec.record(v, now);
      found++;
      i = j;
    } else {
      other = true;
      i++;
    }
    i = p.indexOf(0x5f, i);
  }
  if (found) {
    conn.deliveries += found;
    rec.lastDeliveryAt = now;
  }
  return other ? -1 : found;
}

// ------------------------------------------------------------------ connections

/** Serialises writes to one socket (a write may be partial). */
const writeChains = new Map<Conn, Promise<void>>();
function send(conn: Conn, bytes: Uint8Array): Promise<void> {
  const prev = writeChains.get(conn) ?? Promise.resolve();
  const next = prev.then(async () => {
    let off = 0;
    while (off < bytes.length) off += await conn.tcp.write(bytes.subarray(off));
  }).catch((err) => fail(conn, `write: ${err}`));
  writeChains.set(conn, next);
  return next;
}

// ---- WebSocket (client side, RFC 6455) -----------------------------------------------------

function wsText(conn: Conn, text: string): Promise<void> {
  return send(conn, wsFrame(enc.encode(text)));
}

/** Consumes the 101 answer, then whole frames; returns the bytes used. */
function parseWs(conn: Conn, b: Uint8Array, end: number, now: number): number {
  let p = 0;
  if (!conn.handshaken) {
    const head = findCrlfCrlf(b, end);
    if (head < 0) return 0;
    const status = dec.decode(b.subarray(0, head));
    if (!status.startsWith("HTTP/1.1 101")) {
      fail(conn, `upgrade refused: ${status.split("\r\n")[0]}`);
      return end;
    }
    conn.handshaken = true;
    p = head + 4;
    onOpen(conn);
  }
  while (end - p >= 2) {
    const b0 = b[p];
    const b1 = b[p + 1];
    let len = b1 & 0x7f;
    let head = 2;
    if (len === 126) {
      if (end - p < 4) break;
      len = (b[p + 2] << 8) | b[p + 3];
      head = 4;
    } else if (len === 127) {
      if (end - p < 10) break;
      len = Number(new DataView(b.buffer, b.byteOffset + p + 2, 8).getBigUint64(0));
      head = 10;
    }
    if (b1 & 0x80) head += 4; // servers do not mask; tolerated anyway (never seen)
    if (end - p < head + len) {
      if (head + len > conn.buf.length) conn.buf = growTo(conn, head + len);
      break;
    }
    const payload = b.subarray(p + head, p + head + len);
    const op = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    p += head + len;
    if (op === 0x9) {
      send(conn, wsFrame(payload.slice(), 0xa));
      continue;
    }
    if (op === 0x8) {
      const code = len >= 2 ? (payload[0] << 8) | payload[1] : 1005;
      fail(conn, `server closed the socket: ${code} ${dec.decode(payload.subarray(2))}`);
      continue;
    }
    if (op === 0xa) continue;
    if (!fin || conn.fragments.length > 0) {
      conn.fragments.push(payload.slice());
      if (!fin) continue;
      const whole = new Uint8Array(conn.fragments.reduce((n, f) => n + f.length, 0));
      let o = 0;
      for (const f of conn.fragments) {
        whole.set(f, o);
        o += f.length;
      }
      conn.fragments = [];
      onWsMessage(conn, whole, now);
    } else {
      onWsMessage(conn, payload, now);
    }
  }
  return p;
}

function onOpen(conn: Conn): void {
  if (SYSTEM === "bare") {
    wsText(conn, '{"type":"hello"}');
    return;
  }
  wsText(conn, '{"type":"authenticate"}');
  for (let k = 0; k < SUBS; k++) {
    wsText(conn, JSON.stringify({ type: "subscribe", id: `s${k}`, sql: SQL }));
  }
}

function onWsMessage(conn: Conn, payload: Uint8Array, now: number): void {
  if (conn.ready) {
    // A frame with no row, or with another underscore (SUBSCRIPTION_OVERFLOW, …), is read whole.
    if (scan(conn, payload, now) <= 0 && SYSTEM === "kalamdb") {
      const text = dec.decode(payload);
      if (text.includes('"type":"error"')) fail(conn, text);
    }
    return;
  }
  const text = dec.decode(payload);
  if (SYSTEM === "bare") {
    if (text.includes('"type":"ready"')) markReady(conn);
    return;
  }
  if (text.includes('"type":"error"') || text.includes('"type":"auth_error"')) {
    fail(conn, text);
    return;
  }
  if (text.includes('"sent_at":"') && text.includes('"type":"initial_data"')) {
    // The table is created empty for every run, so a snapshot row means a stale table.
    fail(conn, `unexpected snapshot rows: ${text}`);
  }
  let i = text.indexOf('"type":"subscription_ack"');
  while (i >= 0) {
    conn.acks++;
    i = text.indexOf('"type":"subscription_ack"', i + 1);
  }
  if (conn.acks >= SUBS) markReady(conn);
}

// ---- Redis (RESP) ---------------------------------------------------------------------------

function parseRedis(conn: Conn, b: Uint8Array, end: number, now: number): number {
  let p = 0;
  outer: while (p < end) {
    const start = p;
    const kind = b[p];
    if (kind === 0x2d /* - */ || kind === 0x2b /* + */ || kind === 0x3a /* : */) {
      const cr = respLine(b, p, end);
      if (cr < 0) break;
      if (kind === 0x2d) fail(conn, dec.decode(b.subarray(p, cr)));
      p = cr + 2;
      continue;
    }
    if (kind !== 0x2a /* * */ && kind !== 0x3e /* > push */) {
      fail(conn, `unexpected RESP byte ${kind}`);
      return end;
    }
    let cr = respLine(b, p, end);
    if (cr < 0) break;
    const n = int(b, p + 1, cr);
    p = cr + 2;
    let head: Uint8Array | undefined;
    let body: Uint8Array | undefined;
    for (let k = 0; k < n; k++) {
      if (p >= end) {
        p = start;
        break outer;
      }
      const t = b[p];
      cr = respLine(b, p, end);
      if (cr < 0) {
        p = start;
        break outer;
      }
      const v = int(b, p + 1, cr);
      if (t === 0x3a) {
        p = cr + 2;
      } else if (t === 0x24 /* $ */) {
        const from = cr + 2;
        if (from + v + 2 > end) {
          if (from + v + 2 - start > conn.buf.length) conn.buf = growTo(conn, from + v + 2 - start);
          p = start;
          break outer;
        }
        if (k === 0) head = b.subarray(from, from + v);
        if (k === 2) body = b.subarray(from, from + v);
        p = from + v + 2;
      } else {
        fail(conn, `unexpected RESP element ${t}`);
        return end;
      }
    }
    if (head && body && same(head, MESSAGE)) scan(conn, body, now);
    else if (head && same(head, SUBSCRIBE)) markReady(conn);
  }
  return p;
}

// ---- PostgreSQL (protocol 3.0) -----------------------------------------------------------------

function parsePg(conn: Conn, b: Uint8Array, end: number, now: number): number {
  let p = 0;
  while (end - p >= 5) {
    const type = b[p];
    const len = new DataView(b.buffer, b.byteOffset + p + 1, 4).getInt32(0);
    if (end - p < 1 + len) {
      if (1 + len > conn.buf.length) conn.buf = growTo(conn, 1 + len);
      break;
    }
    const body = b.subarray(p + 5, p + 1 + len);
    p += 1 + len;
    switch (type) {
      case 0x41: // A: NotificationResponse (pid, channel, payload)
        scan(conn, body.subarray(4), now);
        break;
      case 0x52: { // R: authentication
        const code = new DataView(body.buffer, body.byteOffset, 4).getInt32(0);
        if (code !== 0) fail(conn, `postgres asks for authentication method ${code} (want trust)`);
        break;
      }
      case 0x45: // E: error
        fail(conn, `postgres: ${dec.decode(body).replaceAll("\0", " ")}`);
        break;
      case 0x5a: // Z: ReadyForQuery
        conn.readyForQuery++;
        if (conn.readyForQuery === 1) send(conn, pgQuery("LISTEN ev"));
        else if (conn.readyForQuery === 2) markReady(conn);
        break;
    }
  }
  return p;
}

// ---- read loop ---------------------------------------------------------------------------------

const parse = SYSTEM === "redis" ? parseRedis : SYSTEM === "pg" ? parsePg : parseWs;

async function pump(conn: Conn): Promise<void> {
  try {
    for (;;) {
      if (conn.len === conn.buf.length) conn.buf = growTo(conn, conn.len * 2);
      const n = await conn.tcp.read(conn.buf.subarray(conn.len));
      if (n === null) break;
      conn.len += n;
      const used = parse(conn, conn.buf, conn.len, wallMs());
      if (used > 0) {
        conn.buf.copyWithin(0, used, conn.len);
        conn.len -= used;
      }
    }
  } catch (err) {
    if (!stopping) fail(conn, `read: ${err}`);
  }
  conn.closed = true;
  if (!stopping) fail(conn, `connection ${conn.index} closed by the server`);
  conn.onReady?.();
}

let stopping = false;

async function open(index: number): Promise<Conn> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port: PORT });
  tcp.setNoDelay(true);
  const conn: Conn = {
    index,
    tcp,
    buf: new Uint8Array(65536),
    len: 0,
    ready: false,
    deliveries: 0,
    closed: false,
    handshaken: false,
    acks: 0,
    readyForQuery: 0,
    fragments: [],
  };
  const ready = new Promise<void>((resolve) => conn.onReady = resolve);
  pump(conn);
  if (SYSTEM === "kalamdb" || SYSTEM === "bare") {
    const path = SYSTEM === "kalamdb" ? "/v1/ws" : "/ws";
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    send(
      conn,
      enc.encode(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${PORT}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
  } else if (SYSTEM === "redis") {
    send(conn, enc.encode("*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nev\r\n"));
  } else {
    send(conn, pgStartup());
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    ready,
    new Promise<void>((resolve) => timer = setTimeout(resolve, SETUP_TIMEOUT_MS)),
  ]);
  clearTimeout(timer);
  if (!conn.ready) {
    throw new Error(
      `connection ${index}: ${conn.setupError ?? `not subscribed after ${SETUP_TIMEOUT_MS} ms`}`,
    );
  }
  return conn;
}

// ------------------------------------------------------------------ main

function out(value: unknown): void {
  console.log(JSON.stringify(value));
}

const t0 = performance.now();
const conns: Conn[] = [];
try {
  let next = 0;
  const worker = async () => {
    while (next < SOCKETS) conns.push(await open(next++));
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, SOCKETS) }, worker));
} catch (err) {
  out({ ready: false, error: String(err instanceof Error ? err.message : err), errors });
  Deno.exit(1);
}
rec.readyAt = wallMs();
out({
  ready: true,
  sockets: conns.length,
  subscriptions: conns.length * SUBS,
  setup_ms: Math.round(performance.now() - t0),
  setup_errors: errorCount,
});

const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
let input = "";
while (!input.includes("\n")) {
  const { value, done } = await lines.read();
  if (done) Deno.exit(0);
  input += value;
}
const expectWrites = Number(JSON.parse(input.split("\n")[0]).expect);
const expected = expectWrites * conns.length * SUBS;
const drainStart = wallMs();
for (;;) {
  const now = wallMs();
  if (rec.count >= expected) break;
  if (now - drainStart > MAX_DRAIN_MS) break;
  if (now - Math.max(rec.lastDeliveryAt, drainStart) > 2000) break;
  await new Promise((r) => setTimeout(r, 20));
}
const drainMs = Math.max(0, rec.lastDeliveryAt - drainStart);

const n = rec.count;
const st = latencyStats(rec.latency, rec.sentRel, n, WARMUP_MS);
const per = conns.map((c) => c.deliveries);
out({
  expected,
  deliveries: n,
  measured: st.measured,
  complete_sockets: conns.filter((c) => c.deliveries >= expectWrites * SUBS).length,
  sockets: conns.length,
  min_per_socket: Math.min(...per),
  max_per_socket: Math.max(...per),
  closed_sockets: conns.filter((c) => c.closed).length,
  p50_ms: st.p50_ms,
  p90_ms: st.p90_ms,
  p99_ms: st.p99_ms,
  p999_ms: st.p999_ms,
  max_ms: st.max_ms,
  min_ms: st.min_ms,
  mean_ms: st.mean_ms,
  drain_ms: Math.round(drainMs),
  errors: errorCount,
  error_samples: errors,
  timeline: st.timeline,
});

// Stay until the parent has read this process's CPU time and closes stdin.
while (!(await lines.read()).done) { /* ignore */ }
stopping = true;
for (const c of conns) {
  try {
    c.tcp.close();
  } catch { /* closed */ }
}
Deno.exit(0);
