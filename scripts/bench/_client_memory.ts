// Client benchmark, memory per live row; run as its own process with `--v8-flags=--expose-gc`
// by client.ts so that `gc()` can settle the heap before and after:
//
//   deno run -A --v8-flags=--expose-gc scripts/bench/_client_memory.ts URL TOKEN TABLE ROWS
//
// Prints one JSON line of bytes per row (V8 heapUsed after gc, delta ÷ rows):
// - state: a LiveRowsState holding ROWS typed rows (as the SDK decodes them), vs
// - map: a plain Map by id holding the same kind of rows;
// - live: `db.live("SELECT … FROM TABLE")` through a real subscription until ready (client,
//   socket, subscription and the decoded rows), vs
// - raw: a raw WebSocket that keeps the wire rows (JSON.parse, BIGINT/TIMESTAMP as strings) in a
//   Map by id;
// - live_rows / raw_rows: the same after closing the socket, keeping only `get()`'s array / the
//   Map (an open Deno WebSocket that received ~1 MB holds ~1 MB more, on both sides).
// One live() and one raw socket on a 1-row query run first, so one-time costs (compiled code,
// the WebSocket machinery) fall on neither side.

import { createClient, LiveRowsState } from "../../client/mod.ts";
import { type ItemRow, itemRow } from "./_client_kit.ts";

const [URL_, TOKEN, TABLE, ROWS_] = Deno.args;
const ROWS = Number(ROWS_);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
const SQL = `SELECT id, title, n, done, at, sent_at FROM ${TABLE}`;

function heap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return Deno.memoryUsage().heapUsed;
}

interface Built {
  keep: unknown;
  rows: number;
  /** Closes the socket; resolves with what still holds the rows. */
  end?: () => Promise<unknown>;
}

/** Bytes per row that `build` keeps alive, and after its `end()` (`closed`). */
async function perRow(build: () => Promise<Built>, rows = ROWS) {
  const before = heap();
  const built = await build();
  const after = heap();
  if (built.rows !== rows) throw new Error(`${built.rows} rows, expected ${rows}`);
  const kept = await built.end?.();
  const closed = heap();
  const per = (n: number) => Math.round((n - before) / rows);
  return { bytes: per(after), closed: per(closed), keep: [built.keep, kept].length };
}

const typedRows = () => Array.from({ length: ROWS }, (_, i) => itemRow((i + 1) * 16));

const state = await perRow(() => {
  const s = new LiveRowsState<ItemRow>();
  s.setKey("id");
  s.reset(typedRows());
  return Promise.resolve({ keep: s, rows: s.size });
});

const map = await perRow(() => {
  const m = new Map<bigint, ItemRow>();
  for (const r of typedRows()) m.set(r.id, r);
  return Promise.resolve({ keep: m, rows: m.size });
});

const pause = () => new Promise((r) => setTimeout(r, 200));

const viaLive = (sql: string) => async (): Promise<Built> => {
  const db = createClient({ url: URL_, auth: { token: TOKEN } });
  const rows = db.live(sql);
  const n = (await rows.ready).length;
  return {
    keep: rows,
    rows: n,
    end: async () => {
      const kept = rows.get();
      db.close();
      await pause();
      return kept;
    },
  };
};

const viaRaw = (sql: string) => async (): Promise<Built> => {
  const ws = new WebSocket(`${URL_.replace("http", "ws")}/v1/ws`);
  const m = new Map<string, Record<string, unknown>>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("raw socket: no snapshot in 60 s")), 60_000);
    ws.onopen = () => ws.send(JSON.stringify({ type: "authenticate", token: TOKEN }));
    ws.onmessage = (ev) => {
      const parsed = JSON.parse(ev.data);
      for (const msg of Array.isArray(parsed) ? parsed : [parsed]) {
        if (msg.type === "auth_success") {
          ws.send(JSON.stringify({ type: "subscribe", id: "m", sql, options: {} }));
        } else if (msg.type === "initial_data") {
          for (const r of msg.rows) m.set(r.id, r);
          if (!msg.has_more) {
            clearTimeout(timer);
            resolve();
          }
        } else if (msg.type === "error" || msg.type === "auth_error") {
          reject(new Error(JSON.stringify(msg)));
        }
      }
    };
  });
  return {
    keep: m,
    rows: m.size,
    end: async () => {
      ws.close();
      await pause();
      return m;
    },
  };
};

const one = `${SQL} WHERE id = ${16}`;
await perRow(viaLive(one), 1); // warm-ups
await perRow(viaRaw(one), 1);
const live = await perRow(viaLive(SQL));
const raw = await perRow(viaRaw(SQL));

console.log(JSON.stringify({
  rows: ROWS,
  state_bytes: state.bytes,
  map_bytes: map.bytes,
  live_bytes: live.bytes,
  raw_bytes: raw.bytes,
  live_rows_bytes: live.closed,
  raw_rows_bytes: raw.closed,
}));
// The client's socket closes asynchronously; nothing else is left to wait for.
setTimeout(() => Deno.exit(0), 50);
