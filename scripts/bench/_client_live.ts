// Client benchmark, part 2 end to end: `db.live()` over 10,000 rows while the writer process
// (_client_writer.ts) sends 1,000 mixed writes/s, vs a raw WebSocket that JSON.parses each frame
// and applies its changes to a Map by hand. Runs alternate SDK / raw.
//
// Latency = wall clock at the callback − the write's `sent_at`. A probe sees each frame first (a
// `message` listener added before the SDK's handler, or the raw handler's first line): it notes
// the arrival time and finds the `sent_at` values it has not seen (new rows; an old row's value
// was seen when it was new) by their text. The SDK's `onRows` callback (once per frame) or the
// raw handler's end then records latency per write and the frame's handling time. Deletes carry
// no new `sent_at`: they are in the load but not in the samples. After each run the view is
// checked against `SELECT id, sent_at` on the server.

import { createClient, type LiveRows } from "../../client/mod.ts";
import { type Proc, spawn } from "./_procs.ts";
import { type ItemRow, quantile, round, sql } from "./_client_kit.ts";

const WRITER = new URL("./_client_writer.ts", import.meta.url).pathname;
const SQL = (table: string) => `SELECT id, title, n, done, at, sent_at FROM ${table}`;

export interface WriterResult {
  readonly target: number;
  readonly issued: number;
  readonly ok: number;
  readonly errors: number;
  readonly first_error?: string;
  readonly rate: number;
  readonly ops: { insert: number; update: number; delete: number };
  readonly ack_p50_ms: number;
  readonly ack_p99_ms: number;
}

export interface LiveRun {
  readonly client: "sdk" | "raw";
  readonly writer: WriterResult;
  /** Writes whose callback latency was measured (inserts and updates after the warm-up). */
  readonly samples: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly max_ms: number | null;
  readonly frames: number;
  readonly changes_per_frame: number;
  /** Frame arrival → callback: decoding and applying the frame's changes (µs). */
  readonly handle_p50_us: number | null;
  readonly handle_p99_us: number | null;
  readonly rows_end: number;
  /** The view after the run equals the server's rows (ids and sent_at). */
  readonly consistent: boolean;
}

const SENT_AT = /"sent_at":"(\d+)"/g;

class Probe {
  fromUs = Infinity;
  #seen = new Set<number>();
  #pending: number[] = [];
  #frameAt = 0;
  #changes = 0;
  latencies: number[] = [];
  handle: number[] = [];
  frames = 0;
  changes = 0;
  lastFrame = performance.now();

  frame(data: unknown): void {
    const text = String(data);
    this.#frameAt = this.lastFrame = performance.now();
    this.#changes = text.split('"type":"change"').length - 1;
    for (const m of text.matchAll(SENT_AT)) {
      const v = Number(m[1]);
      if (v < this.fromUs || this.#seen.has(v)) continue;
      this.#seen.add(v);
      this.#pending.push(v);
    }
  }

  callback(): void {
    const now = performance.now();
    const wallUs = (performance.timeOrigin + now) * 1000;
    for (const v of this.#pending) this.latencies.push((wallUs - v) / 1000);
    this.#pending = [];
    if (this.#changes && wallUs >= this.fromUs) {
      this.frames++;
      this.changes += this.#changes;
      this.handle.push((now - this.#frameAt) * 1000);
    }
    this.#changes = 0;
  }
}

interface View {
  /** id → sent_at (wire text) of every row. */
  snapshot(): Map<string, string>;
  close(): void;
}

async function sdkView(url: string, token: string, table: string, probe: Probe): Promise<View> {
  class ProbedSocket extends WebSocket {
    constructor(u: string) {
      super(u);
      this.addEventListener("message", (ev) => probe.frame(ev.data)); // before the SDK's
    }
  }
  const db = createClient({ url, auth: { token }, WebSocket: ProbedSocket });
  const live: LiveRows<ItemRow> = db.live<ItemRow>(SQL(table), () => probe.callback());
  await live.ready;
  return {
    snapshot: () => new Map(live.get().map((r) => [String(r.id), String(r.sent_at)])),
    close: () => db.close(),
  };
}

type WireRow = Record<string, unknown>;

async function rawView(url: string, token: string, table: string, probe: Probe): Promise<View> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/v1/ws`);
  const rows = new Map<unknown, WireRow>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("raw socket: no snapshot in 60 s")), 60_000);
    ws.onopen = () => ws.send(JSON.stringify({ type: "authenticate", token }));
    ws.onmessage = (ev) => {
      probe.frame(ev.data);
      const parsed = JSON.parse(ev.data);
      for (const msg of Array.isArray(parsed) ? parsed : [parsed]) {
        if (msg.type === "change") {
          for (const old of msg.old_rows ?? []) rows.delete(old.id);
          for (const row of msg.rows ?? []) rows.set(row.id, row);
        } else if (msg.type === "initial_data") {
          for (const row of msg.rows) rows.set(row.id, row);
          if (!msg.has_more) {
            clearTimeout(timer);
            resolve();
          }
        } else if (msg.type === "auth_success") {
          ws.send(JSON.stringify({ type: "subscribe", id: "r", sql: SQL(table), options: {} }));
        } else if (msg.type === "error" || msg.type === "auth_error") {
          reject(new Error(JSON.stringify(msg)));
        }
      }
      probe.callback();
    };
  });
  return {
    snapshot: () => new Map([...rows.values()].map((r) => [String(r.id), String(r.sent_at)])),
    close: () => ws.close(),
  };
}

/** Waits (≤ 5 s) until no frame arrived for 300 ms. */
async function drain(probe: Probe): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (performance.now() < deadline && performance.now() - probe.lastFrame < 300) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function consistent(url: string, token: string, table: string, view: View) {
  const server = (await sql(url, token, `SELECT id, sent_at FROM ${table}`)).rows;
  const mine = view.snapshot();
  return server.length === mine.size &&
    server.every(([id, sentAt]) => mine.get(String(id)) === String(sentAt));
}

async function runWriter(url: string, token: string, table: string, seconds: number, seed: number) {
  const w: Proc = spawn("client writer", Deno.execPath(), [
    "run",
    "-A",
    WRITER,
    `--url=${url}`,
    `--token=${token}`,
    `--table=${table}`,
    "--rate=1000",
    `--seconds=${seconds}`,
    `--seed=${seed}`,
  ]);
  const started = await w.stdout.next(60_000);
  if (!started?.includes('"started"')) throw new Error(`writer: ${started}\n${w.stderr.tail}`);
  return {
    startedAt: performance.now(),
    async result(): Promise<WriterResult> {
      const line = await w.stdout.next((seconds + 60) * 1000);
      const status = await w.child.status;
      if (!line || !status.success) throw new Error(`writer failed: ${line}\n${w.stderr.tail}`);
      return JSON.parse(line);
    },
  };
}

/** One run: a view (SDK or raw) over `table` while the writer writes for `seconds`. */
export async function liveRun(
  o: { url: string; token: string; table: string; seconds: number; warmup: number; seed: number },
  client: "sdk" | "raw",
): Promise<LiveRun> {
  const probe = new Probe();
  const view = await (client === "sdk" ? sdkView : rawView)(o.url, o.token, o.table, probe);
  try {
    const writer = await runWriter(o.url, o.token, o.table, o.seconds + o.warmup, o.seed);
    probe.fromUs = (performance.timeOrigin + performance.now() + o.warmup * 1000) * 1000;
    const w = await writer.result();
    await drain(probe);
    const lat = probe.latencies.sort((a, b) => a - b);
    const handle = probe.handle.sort((a, b) => a - b);
    const q = (xs: number[], p: number, d: number) => {
      const v = quantile(xs, p);
      return v === null ? null : round(v, d);
    };
    return {
      client,
      writer: w,
      samples: lat.length,
      p50_ms: q(lat, 0.5, 2),
      p99_ms: q(lat, 0.99, 2),
      max_ms: q(lat, 1, 2),
      frames: probe.frames,
      changes_per_frame: round(probe.changes / Math.max(1, probe.frames), 2),
      handle_p50_us: q(handle, 0.5, 0),
      handle_p99_us: q(handle, 0.99, 0),
      rows_end: view.snapshot().size,
      consistent: await consistent(o.url, o.token, o.table, view),
    };
  } finally {
    view.close();
  }
}
