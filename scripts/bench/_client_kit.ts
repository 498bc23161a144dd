// What the client SDK benchmark's parts share (client.ts): a KalamDB-TS server process on
// 127.0.0.1 (`main.ts serve`, a data directory and port of our choosing, so the reconnect part
// can kill it and start it again on the same ones), a root Bearer token, SQL over raw fetch,
// quantiles, and the typed rows and changes the SDK would hand an app.

import { type Change, Timestamp } from "../../client/mod.ts";
import { type Proc, spawn, stop, waitFor } from "./_procs.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
export const NO_FLUSH = "FLUSH_POLICY = 'rows:100000000,interval:100000000'";

/** A running server process; `kill()` is SIGKILL to its pid (a crash), `stop()` SIGTERM. */
export interface Server {
  readonly proc: Proc;
  readonly port: number;
  readonly url: string;
  /** performance.now() when this process read the server's "listening" line. */
  readonly listeningAt: number;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Starts `main.ts serve --data dir --port port` (0: any free port) and waits for "listening". */
export async function startServer(dir: string, port = 0): Promise<Server> {
  const proc = spawn("kalamdb", Deno.execPath(), [
    "run",
    "-A",
    MAIN,
    "serve",
    "--data",
    dir,
    "--port",
    String(port),
  ], { env: { KALAMDB_RATE_LIMIT: "0" } });
  const m = await waitFor(proc, /listening on http:\/\/127\.0\.0\.1:(\d+)/, 60_000);
  const listeningAt = performance.now();
  proc.stdout.drain();
  const actual = Number(m[1]);
  return {
    proc,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    listeningAt,
    stop: () => stop(proc),
    async kill() {
      try {
        proc.child.kill("SIGKILL");
      } catch { /* already exited */ }
      await proc.child.status; // reaped: the data-dir lock's pid is no longer running
    },
  };
}

/** Logs in as root (empty password, loopback) and returns the access token. */
export async function rootToken(url: string): Promise<string> {
  const res = await fetch(`${url}/v1/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user: "root", password: "" }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`login → HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text).access_token;
}

/** Runs SQL over raw fetch with the token; throws unless the answer is a success. */
export async function sql(
  url: string,
  token: string,
  text: string,
  params?: unknown[],
): Promise<{ rows: unknown[][] }> {
  const res = await fetch(`${url}/v1/api/sql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(params ? { sql: text, params } : { sql: text }),
    signal: AbortSignal.timeout(60_000),
  });
  const body = await res.text();
  if (res.status !== 200 || !body.includes('"status":"success"')) {
    throw new Error(`${text.slice(0, 80)} → HTTP ${res.status} ${body.slice(0, 400)}`);
  }
  const json = JSON.parse(body);
  return { rows: json.results.at(-1)?.rows ?? [] };
}

/** The columns every table of this benchmark has: a few types the SDK decodes. */
export const COLUMNS = "id BIGINT PRIMARY KEY, title TEXT, n INT, done BOOLEAN, at TIMESTAMP, " +
  "sent_at BIGINT";
export const AT = "2026-11-25T20:15:01.123456789Z";

/** Inserts rows with ids `ids` into `table`, 1,000 per statement. */
export async function seed(url: string, token: string, table: string, ids: number[]) {
  for (let i = 0; i < ids.length; i += 1000) {
    const values = ids.slice(i, i + 1000).map((id) =>
      `(${id}, 'title ${id}', ${id % 1000}, ${id % 2 === 0}, '${AT}', 0)`
    );
    await sql(
      url,
      token,
      `INSERT INTO ${table} (id, title, n, done, at, sent_at) VALUES ${values.join(", ")}`,
    );
  }
}

/** Sorted ascending: the value at quantile q (nearest rank), or null. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** A row as the SDK decodes it (BIGINT → bigint, TIMESTAMP → Timestamp). */
export type ItemRow = {
  id: bigint;
  title: string;
  n: number;
  done: boolean;
  at: Timestamp;
  sent_at: bigint;
};

export function itemRow(id: number, n = id % 1000): ItemRow {
  return {
    id: BigInt(id),
    title: `title ${id}`,
    n,
    done: id % 2 === 0,
    at: Timestamp.parse(AT),
    sent_at: 0n,
  };
}

/**
 * A reproducible sequence of `count` changes from the rows `ids` (their ids × 16, so inserts land
 * between them at random places): 50 % updates, 25 % inserts, 25 % deletes, each valid against
 * the rows as the earlier changes left them.
 */
export function changeSequence(ids: number, count: number, seedValue = 1): Change<ItemRow>[] {
  let s = seedValue >>> 0 || 1;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const live: number[] = [];
  const current = new Map<number, ItemRow>();
  for (let i = 1; i <= ids; i++) {
    live.push(i * 16);
    current.set(i * 16, itemRow(i * 16));
  }
  const out: Change<ItemRow>[] = [];
  for (let k = 0; k < count; k++) {
    const r = rnd();
    const seq = String(1000 + k);
    if (r < 0.25 && live.length > 1) { // delete (swap-remove from the pick list)
      const at = Math.floor(rnd() * live.length);
      const id = live[at];
      live[at] = live[live.length - 1];
      live.pop();
      out.push({ op: "delete", seq, rows: [], oldRows: [current.get(id)!] });
      current.delete(id);
    } else if (r < 0.5) { // insert
      let id;
      do id = 1 + Math.floor(rnd() * ids * 16); while (current.has(id));
      const row = itemRow(id);
      live.push(id);
      current.set(id, row);
      out.push({ op: "insert", seq, rows: [row], oldRows: [] });
    } else { // update
      const id = live[Math.floor(rnd() * live.length)];
      const row = itemRow(id, k);
      out.push({ op: "update", seq, rows: [row], oldRows: [current.get(id)!] });
      current.set(id, row);
    }
  }
  return out;
}
