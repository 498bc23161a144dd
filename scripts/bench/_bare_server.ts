// The HTTP benchmark's peer: a bare `Deno.serve` handler that answers `POST /v1/api/sql` by
// running the request's statement on raw node:sqlite, with the engine's durability (WAL,
// synchronous=FULL). It does no auth, planning, type checks or change log: it is the ceiling the
// server is measured against. Writes are acknowledged only after their COMMIT; by default
// (`--commit group`) the writes that arrive within one event-loop turn share one transaction, as
// the engine's group commit does; `--commit each` commits every write on its own.
//
//   deno run -A scripts/bench/_bare_server.ts <port|0> <sqlite file> [--commit group|each]
//
// Prints `listening on http://127.0.0.1:<port>` once ready; stops on SIGTERM/SIGINT.

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { commit: { type: "string", default: "group" } },
});
const [portArg = "0", file = ":memory:"] = positionals;
const groupCommit = values.commit !== "each";
if (values.commit !== "group" && values.commit !== "each") {
  throw new Error(`--commit must be group or each, got ${values.commit}`);
}

const db = new DatabaseSync(file);
db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;
  PRAGMA cache_size = -65536;
  CREATE TABLE IF NOT EXISTS kv (id INTEGER PRIMARY KEY, title TEXT, n INT);`);

/** A group never holds more writes than this (the engine's bound too). */
const MAX_GROUP = 512;

interface Prepared {
  readonly stmt: StatementSync;
  readonly reader: boolean;
  readonly schema: readonly { name: string; type: string }[];
  /** Columns whose values go out as strings (BIGINT, as SPEC §4 encodes them). */
  readonly asString: readonly boolean[];
}

const cache = new Map<string, Prepared>();

/** `bench.kv` → `kv`, `$1` → `?1`: the benchmark's statements in SQLite's own dialect. */
function prepare(sql: string): Prepared {
  const hit = cache.get(sql);
  if (hit) return hit;
  const stmt = db.prepare(sql.replace(/\bbench\.kv\b/g, "kv").replace(/\$(\d+)/g, "?$1"));
  const reader = /^\s*select\b/i.test(sql);
  let schema: { name: string; type: string }[] = [];
  if (reader) {
    (stmt as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
    schema = stmt.columns().map((c) => ({
      name: c.name,
      type: c.type === "INTEGER" ? "BIGINT" : (c.type ?? "TEXT"),
    }));
  }
  // Seed statements carry literal values, so the cache would grow without bound.
  if (cache.size >= 64) cache.clear();
  const prepared = { stmt, reader, schema, asString: schema.map((c) => c.type === "BIGINT") };
  cache.set(sql, prepared);
  return prepared;
}

type Param = null | number | bigint | string;

let groupOpen = false;
let waiters: (() => void)[] = [];

function commitGroup(): void {
  if (!groupOpen) return;
  const done = waiters;
  waiters = [];
  groupOpen = false;
  db.exec("COMMIT");
  for (const w of done) w();
}

/** Runs one write; resolves once its transaction has committed. */
function write(stmt: StatementSync, params: Param[]): Promise<number> | number {
  if (!groupCommit) return Number(stmt.run(...params).changes);
  if (groupOpen && waiters.length >= MAX_GROUP) commitGroup();
  if (!groupOpen) {
    db.exec("BEGIN IMMEDIATE");
    groupOpen = true;
    setTimeout(commitGroup, 0);
  }
  db.exec("SAVEPOINT stmt");
  let changes: number;
  try {
    changes = Number(stmt.run(...params).changes);
    db.exec("RELEASE stmt");
  } catch (err) {
    db.exec("ROLLBACK TO stmt");
    db.exec("RELEASE stmt");
    throw err;
  }
  return new Promise((resolve) => waiters.push(() => resolve(changes)));
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function tookMs(t0: number): number {
  return Math.max(0.001, Math.round((performance.now() - t0) * 1000) / 1000);
}

async function handle(req: Request): Promise<Response> {
  const t0 = performance.now();
  const url = new URL(req.url);
  if (url.pathname === "/v1/api/healthcheck") return json(200, { status: "ok" });
  if (url.pathname !== "/v1/api/sql" || req.method !== "POST") {
    return json(404, { status: "error", error: { code: "NOT_FOUND", message: "Not found" } });
  }
  try {
    const body = await req.json() as { sql?: unknown; params?: unknown };
    if (typeof body.sql !== "string") throw new Error("sql must be a string");
    const params = (Array.isArray(body.params) ? body.params : []) as Param[];
    const p = prepare(body.sql);
    let result;
    if (p.reader) {
      const rows = p.stmt.all(...params) as unknown as unknown[][];
      for (const row of rows) {
        for (let i = 0; i < row.length; i++) {
          if (p.asString[i] && row[i] !== null) row[i] = String(row[i]);
        }
      }
      result = { schema: p.schema, rows, row_count: rows.length };
    } else {
      const changes = await write(p.stmt, params);
      result = { row_count: changes, message: `Inserted ${changes} row(s)` };
    }
    return json(200, {
      status: "success",
      took_ms: tookMs(t0),
      as_user: "root",
      results: [result],
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const unique = /UNIQUE constraint/.test(message);
    return json(unique ? 409 : 400, {
      status: "error",
      took_ms: tookMs(t0),
      results: [],
      error: { code: unique ? "UNIQUE_VIOLATION" : "INVALID_SQL", message },
    });
  }
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(portArg),
  onListen: (addr) => {
    console.log(`bare server (${values.commit} commit) listening on http://127.0.0.1:${addr.port}`);
  },
}, handle);

const { promise: stop, resolve } = Promise.withResolvers<void>();
for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, resolve);
await stop;
await server.shutdown();
commitGroup();
db.close();
