// The cold-tier benchmark's read phases (cold.ts): the full-scan aggregate and the filtered scan
// (stats pruning on and off) next to DuckDB's read_parquet, and the per-user point queries over
// a USER table flushed as many scopes. Each returns its timings; cold.ts builds the table.

import {
  type Db,
  type Duck,
  insertSql,
  median,
  nOf,
  now,
  ok,
  percentile,
  progress,
  REPS,
  rng,
} from "./_cold_kit.ts";

type Table = NonNullable<ReturnType<Db["hooks"]["table"]>>;

/** COUNT(*), SUM(n) over every flushed row: engine cold, engine warm and DuckDB, REPS times. */
export async function fullScans(
  db: Db,
  table: Table,
  duck: Duck,
  files: string,
  total: number,
  breakdown: Record<string, number>,
) {
  const expectSum = (() => {
    let s = 0;
    for (let i = 0; i < total; i++) s += nOf(i);
    return s;
  })();
  const aggSql = "SELECT COUNT(*), SUM(n) FROM bench.t";
  const check = (count: unknown, sum: unknown, who: string) => {
    if (Number(count) !== total || Number(sum) !== expectSum) {
      throw new Error(`${who} aggregate: ${count}, ${sum} (want ${total}, ${expectSum})`);
    }
  };
  const engineAgg = async () => {
    const r = await ok(db, aggSql);
    check(r.rows![0][0], r.rows![0][1], "engine");
  };
  const coldAgg: number[] = [], warmAgg: number[] = [], duckAgg: number[] = [];
  let t0: number;
  for (let i = 0; i < REPS; i++) {
    db.hooks.forgetCold(table);
    t0 = now();
    await engineAgg();
    coldAgg.push(now() - t0);
    t0 = now();
    await engineAgg();
    warmAgg.push(now() - t0);
    t0 = now();
    const [row] = await duck.query(`SELECT count(*), sum(n) FROM ${files}`);
    duckAgg.push(now() - t0);
    check(row[0], row[1], "DuckDB");
  }
  breakdown.full_scan_cold_ms = median(coldAgg);
  breakdown.full_scan_warm_ms = median(warmAgg);
  return { coldAgg, warmAgg, duckAgg };
}

/** `id BETWEEN x AND x+999` over random windows: pruning on, pruning off, and DuckDB. */
export async function filteredScans(
  db: Db,
  table: Table,
  duck: Duck,
  files: string,
  total: number,
  breakdown: Record<string, number>,
) {
  const pick = rng(42);
  const windows = Array.from({ length: REPS * 2 }, () => Math.floor(pick() * (total - 1000)));
  const filterSql = (x: number) =>
    `SELECT COUNT(*) FROM bench.t WHERE id BETWEEN ${x} AND ${x + 999}`;
  const engineFilter = async (x: number, cold: boolean) => {
    if (cold) db.hooks.forgetCold(table);
    const t = now();
    const r = await ok(db, filterSql(x));
    const ms = now() - t;
    if (Number(r.rows![0][0]) !== 1000) throw new Error(`window ${x}: ${r.rows![0][0]} rows`);
    return ms;
  };
  const cold = db.hooks;
  const filtered = async () => {
    const coldMs: number[] = [], warmMs: number[] = [];
    const scanned0 = cold.segmentsScanned;
    for (const x of windows) {
      coldMs.push(await engineFilter(x, true));
      warmMs.push(await engineFilter(x, false));
    }
    const perQuery = (cold.segmentsScanned - scanned0) / (windows.length * 2);
    return { cold: median(coldMs), warm: median(warmMs), segments: perQuery };
  };
  const pruned = await filtered();
  cold.pruning = false;
  let unpruned: Awaited<ReturnType<typeof filtered>>;
  try {
    unpruned = await filtered();
  } finally {
    cold.pruning = true;
  }
  const duckFilter: number[] = [];
  for (const x of windows) {
    const t0 = now();
    const [row] = await duck.query(
      `SELECT count(*) FROM ${files} WHERE id BETWEEN ${x} AND ${x + 999}`,
    );
    duckFilter.push(now() - t0);
    if (Number(row[0]) !== 1000) throw new Error(`DuckDB window ${x}: ${row[0]} rows`);
  }
  breakdown.filtered_cold_ms = pruned.cold;
  breakdown.filtered_warm_ms = pruned.warm;
  breakdown.filtered_unpruned_cold_ms = unpruned.cold;
  breakdown.filtered_unpruned_warm_ms = unpruned.warm;
  breakdown.filtered_segments_read = pruned.segments;
  breakdown.filtered_unpruned_segments_read = unpruned.segments;
  return { pruned, unpruned, duckFilter };
}

/** Loads `users` × `perUser` rows of bench.msgs (as each user) and flushes every scope. */
export async function loadUsers(
  db: Db,
  users: number,
  perUser: number,
  breakdown: Record<string, number>,
): Promise<Table> {
  const msgs = db.hooks.table("bench", "msgs");
  if (!msgs) throw new Error("bench.msgs missing");
  let t0 = now();
  let nextUser = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (nextUser < users) {
      const u = nextUser++;
      await ok(db, insertSql("bench.msgs", u * perUser, (u + 1) * perUser), as(u));
    }
  }));
  breakdown.users_load_ms = now() - t0;
  progress(`loaded ${users} users' rows`);
  t0 = now();
  const userFlush = await db.hooks.flush(msgs);
  breakdown.users_flush_ms = now() - t0;
  if (userFlush.files !== users || userFlush.rows !== users * perUser) {
    throw new Error(`user flush wrote ${userFlush.rows} rows in ${userFlush.files} files`);
  }
  progress(`flushed ${users} user scopes`);
  return msgs;
}

const as = (u: number) => ({ principal: { user: `u${u}`, role: "user" as const } });

/** Point queries by id as random users: each user's first (cold) query, then warm repeats. */
export async function userPoints(db: Db, msgs: Table, users: number, perUser: number) {
  const pointSql = "SELECT * FROM bench.msgs WHERE id = $1";
  const samples = Math.min(users, 2000);
  const pickUser = rng(7);
  const chosen = new Set<number>();
  while (chosen.size < samples) chosen.add(Math.floor(pickUser() * users));
  const order = [...chosen];
  const point = async (u: number) => {
    const id = u * perUser + Math.floor(pickUser() * perUser);
    const t = now();
    const r = await ok(db, pointSql, { ...as(u), params: [id] });
    const ms = now() - t;
    if (r.rowCount !== 1 || Number(r.rows![0][0]) !== id) throw new Error(`point ${u}/${id}`);
    return ms;
  };
  db.hooks.forgetCold(msgs);
  const coldPoint: number[] = [];
  for (const u of order) coldPoint.push(await point(u)); // first touch of each user
  const warmPoint: number[] = [];
  for (let i = 0; i < samples * 3; i++) {
    warmPoint.push(await point(order[Math.floor(pickUser() * order.length)]));
  }
  coldPoint.sort((a, b) => a - b);
  warmPoint.sort((a, b) => a - b);
  const pc = { p50: percentile(coldPoint, 50), p99: percentile(coldPoint, 99) };
  const pw = { p50: percentile(warmPoint, 50), p99: percentile(warmPoint, 99) };
  return { pc, pw, samples, warmQueries: warmPoint.length };
}
