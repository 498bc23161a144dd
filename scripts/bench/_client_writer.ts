// Client benchmark's writer (its own process, so it never shares an event loop with the client
// measured): paced mixed writes to a table of the client benchmark at --rate per second for
// --seconds, at most --inflight outstanding, over keep-alive HTTP with a Bearer token — 50 %
// UPDATE of a random row, 25 % INSERT of a new id (never used before), 25 % DELETE of a random
// row. Every INSERT and UPDATE sets `sent_at` = wall-clock µs just before the request is sent,
// strictly increasing, so each value names one write.
//
//   deno run -A scripts/bench/_client_writer.ts --url http://127.0.0.1:P --token T
//     --table bench.live --rate 1000 --seconds 4 [--inflight 64] [--seed 1]
//
// Prints {"started":true} when the clock starts, then one JSON line with the counts.

import { parseArgs } from "node:util";
import { AT } from "./_client_kit.ts";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    token: { type: "string" },
    table: { type: "string", default: "bench.live" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "4" },
    inflight: { type: "string", default: "64" },
    seed: { type: "string", default: "1" },
  },
});
const url = new URL("/v1/api/sql", values.url);
if (url.hostname !== "127.0.0.1") throw new Error(`loopback only, not ${url.hostname}`);
const RATE = Number(values.rate), SECONDS = Number(values.seconds);
const MAX_INFLIGHT = Number(values.inflight);
const T = values.table;
const headers = { "content-type": "application/json", authorization: `Bearer ${values.token}` };

let s = Number(values.seed) >>> 0 || 1;
const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
let last = 0;
const wallUs = () => {
  const t = Math.round((performance.timeOrigin + performance.now()) * 1000);
  return last = t > last ? t : last + 1;
};

async function post(sql: string, params: unknown[]): Promise<void> {
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify({ sql, params }) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status} ${text.slice(0, 200)}`);
}

// The rows there now; ids are never reused (an insert racing a delete of the same id in flight
// could otherwise fail).
const res = await fetch(url, {
  method: "POST",
  headers,
  body: JSON.stringify({ sql: `SELECT id FROM ${T}` }),
});
const live: number[] = (await res.json()).results[0].rows.map((r: string[]) => Number(r[0]));
const used = new Set(live);
const space = Math.max(...live, 1) * 4;

const ops = { insert: 0, update: 0, delete: 0 };
function next(): [string, unknown[]] {
  const r = rnd();
  if (r < 0.25 && live.length > 1) {
    const at = Math.floor(rnd() * live.length);
    const id = live[at];
    live[at] = live[live.length - 1];
    live.pop();
    ops.delete++;
    return [`DELETE FROM ${T} WHERE id = $1`, [id]];
  }
  if (r < 0.5) {
    let id;
    do id = 1 + Math.floor(rnd() * space); while (used.has(id));
    used.add(id);
    live.push(id);
    ops.insert++;
    return [
      `INSERT INTO ${T} (id, title, n, done, at, sent_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, `title ${id}`, id % 1000, id % 2 === 0, AT, wallUs()],
    ];
  }
  const id = live[Math.floor(rnd() * live.length)];
  ops.update++;
  return [`UPDATE ${T} SET n = $2, title = $3, sent_at = $4 WHERE id = $1`, [
    id,
    Math.floor(rnd() * 1000),
    `updated ${id}`,
    wallUs(),
  ]];
}

const total = Math.round(RATE * SECONDS);
let issued = 0, ok = 0, errors = 0, inflight = 0, firstError: string | undefined;
const ack: number[] = [];
const pending = new Set<Promise<void>>();
console.log(JSON.stringify({ started: true }));
const t0 = performance.now();
while (issued < total && performance.now() - t0 < SECONDS * 1000 + 5_000) {
  const due = Math.min(total, Math.floor(((performance.now() - t0) * RATE) / 1000) + 1);
  while (issued < due && inflight < MAX_INFLIGHT) {
    issued++;
    inflight++;
    const start = performance.now();
    const [sql, params] = next();
    const p: Promise<void> = post(sql, params).then(() => {
      ok++;
      ack.push(performance.now() - start);
    }, (err) => {
      errors++;
      firstError ??= String(err?.message ?? err);
    }).finally(() => {
      inflight--;
      pending.delete(p);
    });
    pending.add(p);
  }
  await new Promise((r) => setTimeout(r, 1));
}
const issueMs = performance.now() - t0;
await Promise.allSettled([...pending]);
ack.sort((a, b) => a - b);
const q = (p: number) => Math.round((ack[Math.floor(p * ack.length)] ?? 0) * 1000) / 1000;
console.log(JSON.stringify({
  target: total,
  issued,
  ok,
  errors,
  ...(firstError ? { first_error: firstError } : {}),
  rate: Math.round(issued / (issueMs / 1000)),
  ops,
  ack_p50_ms: q(0.5),
  ack_p99_ms: q(0.99),
}));
