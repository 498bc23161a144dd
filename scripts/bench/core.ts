// Core engine benchmark (issue 2): the engine next to raw node:sqlite doing the same work
// in-process, same durability (synchronous=FULL, WAL), same machine, same run. Prints a table
// and returns the measurements; mod.ts writes them to BENCHMARKS.md and a JSON file.

import { DatabaseSync } from "node:sqlite";
import { Database } from "../../storage/mod.ts";

export interface Measurement {
  readonly name: string;
  readonly unit: string;
  readonly engine: number;
  readonly raw: number;
  /** engine / raw (higher is better for throughput). */
  readonly ratio: number;
  readonly target: string;
  readonly note?: string;
}

const PAYLOAD = "The quick brown fox jumps over the lazy dog";

function rate(count: number, ms: number): number {
  return Math.round(count / (ms / 1000));
}

async function timed(fn: () => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function rawDb(dir: string): DatabaseSync {
  const raw = new DatabaseSync(`${dir}/raw.sqlite`);
  raw.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
    CREATE TABLE t (id INTEGER PRIMARY KEY, user_id TEXT, title TEXT, n INTEGER, done INTEGER);
    CREATE INDEX t_user ON t (user_id, id);`);
  return raw;
}

async function singleRowInserts(db: Database, raw: DatabaseSync, n: number) {
  const ins = raw.prepare("INSERT INTO t (id, user_id, title, n, done) VALUES (?, ?, ?, ?, ?)");
  const begin = raw.prepare("BEGIN");
  const commit = raw.prepare("COMMIT");
  const rawMs = await timed(() => {
    for (let i = 0; i < n; i++) {
      begin.run();
      ins.run(i + 1, "", PAYLOAD, i, 0);
      commit.run();
    }
  });
  const sql = "INSERT INTO bench.single (id, title, n, done) VALUES ($1, $2, $3, false)";
  // 64 writers in flight, as a server under load has; each insert is acknowledged after commit.
  const inflight = 64;
  let next = 0;
  const engineMs = await timed(async () => {
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (next < n) {
          const i = next++;
          const r = await db.execute(sql, { params: [i + 1, PAYLOAD, i] });
          if (r.error) throw r.error;
        }
      }),
    );
  });
  const seqN = Math.min(n, 2000);
  const seqMs = await timed(async () => {
    for (let i = 0; i < seqN; i++) {
      const r = await db.execute(sql, { params: [n + i + 1, PAYLOAD, i] });
      if (r.error) throw r.error;
    }
  });
  return { engine: rate(n, engineMs), raw: rate(n, rawMs), sequential: rate(seqN, seqMs) };
}

async function multiRowInserts(db: Database, raw: DatabaseSync, batches: number) {
  const ins = raw.prepare("INSERT INTO t (id, user_id, title, n, done) VALUES (?, ?, ?, ?, ?)");
  const base = 10_000_000;
  const rawMs = await timed(() => {
    for (let b = 0; b < batches; b++) {
      raw.exec("BEGIN");
      for (let i = 0; i < 1000; i++) ins.run(base + b * 1000 + i, "", PAYLOAD, i, 0);
      raw.exec("COMMIT");
    }
  });
  const statements = Array.from({ length: batches }, (_, b) => {
    const values = Array.from(
      { length: 1000 },
      (_, i) => `(${base + b * 1000 + i}, '${PAYLOAD}', ${i}, false)`,
    );
    return `INSERT INTO bench.multi (id, title, n, done) VALUES ${values.join(", ")}`;
  });
  const engineMs = await timed(async () => {
    for (const sql of statements) {
      const r = await db.execute(sql);
      if (r.error) throw r.error;
    }
  });
  return { engine: rate(batches * 1000, engineMs), raw: rate(batches * 1000, rawMs) };
}

/**
 * The core benchmark measures the engine on its SQLite buffer, as the raw side: no flush may run
 * in the background (the cold-tier benchmark measures flushed data).
 */
const NO_FLUSH = "rows:1000000000,interval:100000000";

async function pkLookups(db: Database, raw: DatabaseSync, keys: number, n: number) {
  const get = raw.prepare("SELECT id, title, n, done FROM t WHERE id = ?");
  let found = 0;
  const rawMs = await timed(() => {
    for (let i = 0; i < n; i++) if (get.get((i % keys) + 1)) found++;
  });
  const sql = "SELECT id, title, n, done FROM bench.single WHERE id = $1";
  let engineFound = 0;
  const engineMs = await timed(async () => {
    for (let i = 0; i < n; i++) {
      const r = await db.execute(sql, { params: [(i % keys) + 1] });
      engineFound += r.results[0].rowCount;
    }
  });
  if (found !== n || engineFound !== n) throw new Error(`lookups missed: ${found}/${engineFound}`);
  return { engine: rate(n, engineMs), raw: rate(n, rawMs) };
}

async function userScan(db: Database, dir: string, users: number, perUser: number, target: number) {
  const raw = new DatabaseSync(`${dir}/raw_scan.sqlite`);
  raw.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
    CREATE TABLE u (user_id TEXT, id INTEGER, title TEXT, n INTEGER, done INTEGER,
      PRIMARY KEY (user_id, id)) WITHOUT ROWID;`);
  const ins = raw.prepare("INSERT INTO u VALUES (?, ?, ?, ?, ?)");
  await db.hooks.createUsers(Array.from({ length: users }, (_, u) => `u${u}`));
  let total = 0;
  for (let u = 0; u < users; u++) {
    const count = u === 0 ? target : perUser;
    raw.exec("BEGIN");
    for (let i = 0; i < count; i++) ins.run(`u${u}`, i + 1, PAYLOAD, i, 0);
    raw.exec("COMMIT");
    for (let start = 0; start < count; start += 1000) {
      const values = [];
      for (let i = start; i < Math.min(count, start + 1000); i++) {
        values.push(`(${i + 1}, '${PAYLOAD}', ${i}, false)`);
      }
      const r = await db.execute(
        `INSERT INTO bench.per_user (id, title, n, done) VALUES ${values.join(", ")}`,
        { user: `u${u}` },
      );
      if (r.error) throw r.error;
    }
    total += count;
  }
  const scan = raw.prepare("SELECT id, title, n, done FROM u WHERE user_id = ? ORDER BY id");
  const reps = 20;
  let rawRows = 0;
  const rawMs = await timed(() => {
    for (let i = 0; i < reps; i++) rawRows += scan.all("u0").length;
  });
  let engineRows = 0;
  const engineMs = await timed(async () => {
    for (let i = 0; i < reps; i++) {
      const r = await db.execute("SELECT id, title, n, done FROM bench.per_user", { user: "u0" });
      engineRows += r.results[0].rowCount;
    }
  });
  raw.close();
  if (rawRows !== engineRows || engineRows !== reps * target) {
    throw new Error(`scan mismatch: raw ${rawRows}, engine ${engineRows}`);
  }
  return { engine: rate(engineRows, engineMs), raw: rate(rawRows, rawMs), total };
}

/** Runs the core benchmark. `scale` < 1 shrinks every size (for a quick smoke run). */
export async function runCoreBench(scale = 1): Promise<Measurement[]> {
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-bench-" });
  const db = await Database.open({ dataDir: `${dir}/engine` });
  const raw = rawDb(dir);
  try {
    const setup = await db.execute(`CREATE NAMESPACE bench;
      CREATE SHARED TABLE bench.single (id BIGINT PRIMARY KEY, title TEXT, n INT, done BOOLEAN)
        WITH (FLUSH_POLICY = '${NO_FLUSH}');
      CREATE SHARED TABLE bench.multi (id BIGINT PRIMARY KEY, title TEXT, n INT, done BOOLEAN)
        WITH (FLUSH_POLICY = '${NO_FLUSH}');
      CREATE USER TABLE bench.per_user (id BIGINT PRIMARY KEY, title TEXT, n INT, done BOOLEAN)
        WITH (FLUSH_POLICY = '${NO_FLUSH}')`);
    if (setup.error) throw setup.error;
    const n = Math.round(20_000 * scale);
    const single = await singleRowInserts(db, raw, n);
    const multi = await multiRowInserts(db, raw, Math.max(2, Math.round(50 * scale)));
    const lookups = await pkLookups(db, raw, n, Math.round(100_000 * scale));
    const users = Math.max(10, Math.round(1000 * scale));
    const scan = await userScan(db, dir, users, Math.round(990 * scale) || 1, 10_000);
    const out: Measurement[] = [
      {
        name: "single-row INSERT (64 in flight, group commit) vs raw 1-row transactions",
        unit: "rows/s",
        ...single,
        ratio: single.engine / single.raw,
        target: "≥ 0.50",
        note: `one writer awaiting each insert: ${single.sequential} rows/s`,
      },
      {
        name: "1,000-row multi-row INSERT vs raw batched transaction",
        unit: "rows/s",
        ...multi,
        ratio: multi.engine / multi.raw,
        target: "≥ 0.40",
      },
      {
        name: "primary-key SELECT (parameterised) vs raw prepared get",
        unit: "lookups/s",
        ...lookups,
        ratio: lookups.engine / lookups.raw,
        target: "≥ 0.30",
      },
      {
        name: `scan one user's 10k rows out of ${
          scan.total.toLocaleString("en")
        } in ${users} users`,
        unit: "rows/s",
        engine: scan.engine,
        raw: scan.raw,
        ratio: scan.engine / scan.raw,
        target: "≥ 0.25",
      },
    ];
    return out;
  } finally {
    raw.close();
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}
