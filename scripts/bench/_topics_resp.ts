// A minimal RESP2 client over a raw Deno.connect socket for the topics benchmark's Redis Streams
// runs (_topics_queues.ts): commands as arrays of bulk strings, replies parsed into JS values
// (string, number, null, array; an error reply rejects), pipelined — replies are matched to
// commands in order. Loopback only.

export type Reply = string | number | null | Reply[];

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Encodes one command as a RESP array of bulk strings. */
function command(args: readonly (string | number)[]): Uint8Array {
  const parts: Uint8Array[] = [enc.encode(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = enc.encode(String(a));
    parts.push(enc.encode(`$${b.length}\r\n`), b, enc.encode("\r\n"));
  }
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

class Incomplete extends Error {}
const INCOMPLETE = new Incomplete("incomplete");

/** Parses one reply at `p` of b[0, end): the value and the position after it. */
function parse(b: Uint8Array, p: number, end: number): [Reply | Error, number] {
  if (p >= end) throw INCOMPLETE;
  const cr = b.indexOf(13, p);
  if (cr < 0 || cr + 1 >= end) throw INCOMPLETE;
  const type = b[p];
  const line = dec.decode(b.subarray(p + 1, cr));
  const next = cr + 2;
  switch (type) {
    case 0x2b: // +
      return [line, next];
    case 0x2d: // -
      return [new Error(line), next];
    case 0x3a: // :
      return [Number(line), next];
    case 0x24: { // $
      const n = Number(line);
      if (n < 0) return [null, next];
      if (next + n + 2 > end) throw INCOMPLETE;
      return [dec.decode(b.subarray(next, next + n)), next + n + 2];
    }
    case 0x2a: { // *
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: Reply[] = [];
      let q = next;
      for (let i = 0; i < n; i++) {
        const [v, after] = parse(b, q, end);
        items.push(v instanceof Error ? v.message : v);
        q = after;
      }
      return [items, q];
    }
    default:
      throw new Error(`RESP: unexpected byte ${type} at ${p}`);
  }
}

/** One Redis connection: `call` sends a command and resolves with its reply, in order. */
export class Resp {
  #tcp: Deno.TcpConn;
  #waiting: { resolve(v: Reply): void; reject(e: Error): void }[] = [];
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(tcp: Deno.TcpConn) {
    this.#tcp = tcp;
    this.#read().catch(() => {});
  }

  static async connect(port: number): Promise<Resp> {
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
    tcp.setNoDelay(true);
    return new Resp(tcp);
  }

  async #read(): Promise<void> {
    let buf = new Uint8Array(1 << 16);
    let len = 0;
    const chunk = new Uint8Array(1 << 16);
    try {
      for (;;) {
        const n = await this.#tcp.read(chunk).catch(() => null);
        if (n === null) break;
        if (len + n > buf.length) {
          let size = buf.length;
          while (size < len + n) size *= 2;
          const grown = new Uint8Array(size);
          grown.set(buf.subarray(0, len));
          buf = grown;
        }
        buf.set(chunk.subarray(0, n), len);
        len += n;
        let p = 0;
        for (;;) {
          let v: Reply | Error, after: number;
          try {
            [v, after] = parse(buf, p, len);
          } catch (err) {
            if (err instanceof Incomplete) break;
            throw err;
          }
          p = after;
          const w = this.#waiting.shift();
          if (v instanceof Error) w?.reject(v);
          else w?.resolve(v);
        }
        if (p > 0) {
          buf.copyWithin(0, p, len);
          len -= p;
        }
      }
    } finally {
      this.#closed = true;
      for (const w of this.#waiting.splice(0)) w.reject(new Error("redis connection closed"));
    }
  }

  /** Sends one command (pipelined behind earlier ones); resolves with its reply. */
  call(...args: (string | number)[]): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error("redis connection closed"));
    const bytes = command(args);
    const done = new Promise<Reply>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    this.#chain = this.#chain.then(async () => {
      let off = 0;
      while (off < bytes.length) off += await this.#tcp.write(bytes.subarray(off));
    }).catch(() => this.close()); // a failed write: every waiting call is rejected
    return done;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#tcp.close();
    } catch { /* closed already */ }
  }
}
