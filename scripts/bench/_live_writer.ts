// The live benchmark's writer: `--rate` single-row writes per second for `--seconds`, paced by
// the clock (each 1 ms timer turn issues the writes that are due), at most `--inflight`
// outstanding. Every row carries `sent_at` = wall-clock microseconds taken just before its
// request is handed to the socket (`performance.timeOrigin + performance.now()`), and a payload
// of `--payload-bytes` characters.
//
//   deno run -A scripts/bench/_live_writer.ts --system=kalamdb|bare|redis|pg --port=P
//     [--rate=1000] [--seconds=10] [--payload-bytes=100] [--inflight=64] [--id-base=0]
//
// kalamdb: `POST /v1/api/sql` {"sql":"INSERT INTO bench.ev (id, sent_at, payload) VALUES ($1,
// $2, $3)","params":[…]} as root (Basic, loopback) over keep-alive fetch. bare: `POST /publish`
// of the row as JSON. redis: `PUBLISH ev <row JSON>` over one RESP connection (pipelined). pg:
// `INSERT INTO ev …` with parameters through a `pg` Pool of `--inflight` connections (the trigger NOTIFYs).
// Prints one JSON line: writes issued, acknowledged, errors, achieved rate, ack latency, own CPU.

import { parseArgs } from "node:util";
import pg from "pg";

const { values } = parseArgs({
  options: {
    system: { type: "string" },
    port: { type: "string" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    "payload-bytes": { type: "string", default: "100" },
    inflight: { type: "string", default: "64" },
    "id-base": { type: "string", default: "0" },
  },
});
const SYSTEM = values.system ?? "";
const PORT = Number(values.port);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const MAX_INFLIGHT = Number(values.inflight);
const ID_BASE = Number(values["id-base"]);
// No underscore in the payload: subscribers find `"sent_at":` by its text.
const PAYLOAD = "live benchmark payload ".repeat(20).slice(0, Number(values["payload-bytes"]));
const INSERT = "INSERT INTO bench.ev (id, sent_at, payload) VALUES ($1, $2, $3)";
const BASIC_ROOT = "Basic cm9vdDo=";

function wallUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

function cpuSeconds(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

let ok = 0;
let errors = 0;
let firstError: string | undefined;
let inflight = 0;
const ackMs: number[] = [];

function error(message: string): void {
  errors++;
  firstError ??= message.slice(0, 500);
}

type Write = (id: number, sentAt: number) => Promise<void>;

function httpWriter(path: string, body: (id: number, sentAt: number) => string): Write {
  const url = `http://127.0.0.1:${PORT}${path}`;
  return async (id, sentAt) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: BASIC_ROOT },
      body: body(id, sentAt),
    });
    const text = await res.text();
    if (res.status !== 200 || (SYSTEM === "kalamdb" && !text.includes('"status":"success"'))) {
      throw new Error(`HTTP ${res.status} ${text}`);
    }
  };
}

function row(id: number, sentAt: number): string {
  return JSON.stringify({ id, sent_at: sentAt, payload: PAYLOAD });
}

/** PUBLISH over one RESP connection; replies come back in order. */
async function redisWriter(): Promise<{ write: Write; close(): void; minReceivers(): number }> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port: PORT });
  tcp.setNoDelay(true);
  const enc = new TextEncoder();
  const waiting: { resolve(): void; reject(e: Error): void }[] = [];
  let minReceivers = Infinity;
  let chain = Promise.resolve();
  (async () => {
    const buf = new Uint8Array(65536);
    let text = "";
    for (;;) {
      const n = await tcp.read(buf).catch(() => null);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
      let nl;
      while ((nl = text.indexOf("\r\n")) >= 0) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 2);
        const w = waiting.shift();
        if (line.startsWith(":")) {
          minReceivers = Math.min(minReceivers, Number(line.slice(1)));
          w?.resolve();
        } else w?.reject(new Error(line));
      }
    }
    for (const w of waiting.splice(0)) w.reject(new Error("connection closed"));
  })();
  const write: Write = (id, sentAt) => {
    const msg = row(id, sentAt);
    const bytes = enc.encode(
      `*3\r\n$7\r\nPUBLISH\r\n$2\r\nev\r\n$${enc.encode(msg).length}\r\n${msg}\r\n`,
    );
    const done = new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
    chain = chain.then(async () => {
      let off = 0;
      while (off < bytes.length) off += await tcp.write(bytes.subarray(off));
    });
    return done;
  };
  return { write, close: () => tcp.close(), minReceivers: () => minReceivers };
}

let write: Write;
let close = () => {};
let extra: () => Record<string, unknown> = () => ({});
if (SYSTEM === "kalamdb") {
  write = httpWriter(
    "/v1/api/sql",
    (id, sentAt) => JSON.stringify({ sql: INSERT, params: [id, sentAt, PAYLOAD] }),
  );
} else if (SYSTEM === "bare") {
  write = httpWriter("/publish", row);
} else if (SYSTEM === "redis") {
  const r = await redisWriter();
  write = r.write;
  close = r.close;
  extra = () => ({ min_receivers: r.minReceivers() });
} else if (SYSTEM === "pg") {
  const pool = new pg.Pool({
    host: "127.0.0.1",
    port: PORT,
    user: "postgres",
    database: "postgres",
    max: MAX_INFLIGHT,
  });
  // Open the pool's connections before the clock starts (a query on each at once).
  await Promise.all(
    Array.from({ length: MAX_INFLIGHT }, () => pool.query("SELECT pg_sleep(0.05)")),
  );
  const sql = "INSERT INTO ev (id, sent_at, payload) VALUES ($1, $2, $3)";
  write = async (id, sentAt) => {
    await pool.query(sql, [id, sentAt, PAYLOAD]);
  };
  close = () => void pool.end();
} else {
  throw new Error(`--system must be kalamdb, bare, redis or pg; got ${SYSTEM}`);
}

const total = Math.round(RATE * SECONDS);
const cpu0 = cpuSeconds();
const t0 = performance.now();
let issued = 0;
let cappedTurns = 0;
const pending = new Set<Promise<void>>();

function issue(): void {
  const id = ID_BASE + ++issued;
  inflight++;
  const start = performance.now();
  const p: Promise<void> = write(id, wallUs()).then(
    () => {
      ok++;
      ackMs.push(performance.now() - start);
    },
    (err) => error(err instanceof Error ? err.message : String(err)),
  ).finally(() => {
    inflight--;
    pending.delete(p);
  });
  pending.add(p);
}

while (issued < total) {
  const elapsed = performance.now() - t0;
  if (elapsed >= SECONDS * 1000) break;
  const due = Math.min(total, Math.floor((elapsed * RATE) / 1000) + 1);
  while (issued < due && inflight < MAX_INFLIGHT) issue();
  if (issued < due) cappedTurns++;
  await new Promise((r) => setTimeout(r, 1));
}
const issueMs = performance.now() - t0;
const settle = Promise.allSettled([...pending]);
let timer: ReturnType<typeof setTimeout> | undefined;
await Promise.race([settle, new Promise((r) => timer = setTimeout(r, 30_000))]);
clearTimeout(timer);
const elapsedMs = performance.now() - t0;
close();

ackMs.sort((a, b) => a - b);
const q = (p: number) =>
  ackMs.length
    ? Math.round(ackMs[Math.min(ackMs.length - 1, Math.floor(p * ackMs.length))] * 1000) / 1000
    : null;
console.log(JSON.stringify({
  target: total,
  issued,
  ok,
  errors,
  first_error: firstError,
  unfinished: inflight,
  issue_s: Math.round(issueMs) / 1000,
  elapsed_s: Math.round(elapsedMs) / 1000,
  rate: Math.round(issued / (issueMs / 1000)),
  capped_turns: cappedTurns,
  ack_p50_ms: q(0.5),
  ack_p99_ms: q(0.99),
  cpu_s: Math.round((cpuSeconds() - cpu0) * 100) / 100,
  ...extra(),
}));
Deno.exit(0);
