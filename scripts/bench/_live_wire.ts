// Byte-level pieces of the protocols the live subscribers speak (_live_subscribers.ts): the
// masked WebSocket client frame, the end of an HTTP head, RESP line and integer reading, and the
// PostgreSQL startup and simple-query messages; and the record of one connection (`Conn`) with
// its read buffer's growth. Pure functions: the connections' behaviour stays there.

const enc = new TextEncoder();

/** A masked client frame (opcode 1 text, 10 pong). */
export function wsFrame(payload: Uint8Array, opcode = 1): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(head + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, head);
  for (let i = 0; i < n; i++) out[head + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

export function findCrlfCrlf(b: Uint8Array, end: number): number {
  for (let i = 0; i + 3 < end; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

/** The `\r` ending the RESP line that starts at p, or -1 while the line is incomplete. */
export function respLine(b: Uint8Array, p: number, end: number): number {
  const cr = b.indexOf(13, p);
  return cr < 0 || cr + 1 >= end ? -1 : cr;
}

/** The decimal (possibly negative) integer in b[from, to). */
export function int(b: Uint8Array, from: number, to: number): number {
  let v = 0;
  const neg = b[from] === 0x2d;
  for (let i = neg ? from + 1 : from; i < to; i++) v = v * 10 + (b[i] - 48);
  return neg ? -v : v;
}

export const MESSAGE = enc.encode("message");
export const SUBSCRIBE = enc.encode("subscribe");

export function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function pgStartup(): Uint8Array {
  const params = enc.encode("user\0postgres\0database\0postgres\0application_name\0bench\0\0");
  const out = new Uint8Array(8 + params.length);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, out.length);
  dv.setInt32(4, 196608);
  out.set(params, 8);
  return out;
}

export function pgQuery(sql: string): Uint8Array {
  const text = enc.encode(sql + "\0");
  const out = new Uint8Array(5 + text.length);
  out[0] = 0x51; // Q
  new DataView(out.buffer).setInt32(1, 4 + text.length);
  out.set(text, 5);
  return out;
}

/** One subscriber connection: its socket, read buffer and protocol state. */
export interface Conn {
  readonly index: number;
  tcp: Deno.TcpConn;
  buf: Uint8Array;
  len: number;
  ready: boolean;
  setupError?: string;
  onReady?: () => void;
  deliveries: number;
  closed: boolean;
  /** Protocol state. */
  handshaken: boolean;
  acks: number;
  readyForQuery: number;
  fragments: Uint8Array[];
}

/** A copy of the read buffer, doubled until it holds `need` bytes. */
export function growTo(conn: Conn, need: number): Uint8Array {
  let size = conn.buf.length;
  while (size < need) size *= 2;
  const next = new Uint8Array(size);
  next.set(conn.buf.subarray(0, conn.len));
  return next;
}

/** Marks a connection subscribed (once) and wakes whoever waits for it. */
export function markReady(conn: Conn): void {
  if (conn.ready) return;
  conn.ready = true;
  conn.onReady?.();
}

/** Wall-clock milliseconds with sub-millisecond precision. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
