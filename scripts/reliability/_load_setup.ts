// The load test's schema and identities (load.ts): namespace `load` with a USER table
// `load.items` (written by 50 users, each in their own partition) and a PROTECTED SHARED table
// `load.feed` (written by the service user `svc`, read by every user). Both carry a `bucket`
// column: a subscription watches one bucket, so one write fans out to a handful of sockets
// rather than to all of them. FLUSH_POLICY is small enough that flushes fire during a 60 s run
// and the cold tier (Parquet segments) is read, updated and written under load.

import { type Reply, rowsOf } from "./_crash_server.ts";

export const USER_BUCKETS = 10;
export const SHARED_BUCKETS = 50;
export const FLUSH_POLICY = "rows:4000,interval:10";
export const ROOT_PASSWORD = "load-root-password-1";

export interface Identities {
  /** Bearer tokens of the `user` role accounts, index = user number. */
  readonly users: string[];
  /** Bearer token of `svc` (role service), the SHARED table's writer. */
  readonly service: string;
  /** Bearer token of root (setup and the final checks). */
  readonly root: string;
}

export async function request(
  url: string,
  path: string,
  body: unknown,
  auth?: string,
): Promise<Reply> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth) headers.authorization = auth;
  const res = await fetch(url + path, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, body: parsed, text };
}

export function sql(url: string, text: string, auth: string): Promise<Reply> {
  return request(url, "/v1/api/sql", { sql: text }, auth);
}

async function token(url: string, user: string, password: string): Promise<string> {
  const r = await request(url, "/v1/api/auth/login", { user, password });
  if (r.status !== 200) throw new Error(`login ${user}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return `Bearer ${r.body.access_token}`;
}

function password(name: string, seed: number): string {
  return `pw-${name}-${seed}`;
}

/** Creates the schema and `userCount` users plus `svc`, and logs every one of them in. */
export async function setUp(url: string, userCount: number, seed: number): Promise<Identities> {
  const root = await token(url, "root", ROOT_PASSWORD);
  const columns = "(id BIGINT PRIMARY KEY, bucket INT NOT NULL, n INT NOT NULL, body TEXT)";
  const ddl = [
    "CREATE NAMESPACE IF NOT EXISTS load;",
    `CREATE TABLE load.items ${columns} WITH (TYPE = 'USER', FLUSH_POLICY = '${FLUSH_POLICY}');`,
    `CREATE TABLE load.feed ${columns} WITH (TYPE = 'SHARED', ACCESS_LEVEL = 'PROTECTED', ` +
    `FLUSH_POLICY = '${FLUSH_POLICY}');`,
    `CREATE USER svc WITH PASSWORD '${password("svc", seed)}' ROLE service;`,
  ];
  rowsOf(await sql(url, ddl.join("\n"), root), "schema");
  const names = Array.from({ length: userCount }, (_, i) => `u${String(i).padStart(3, "0")}`);
  // Password hashing is slow on purpose: a few users per batch keeps each request short.
  for (let i = 0; i < names.length; i += 10) {
    const batch = names.slice(i, i + 10).map((n) =>
      `CREATE USER ${n} WITH PASSWORD '${password(n, seed)}' ROLE user;`
    );
    rowsOf(await sql(url, batch.join("\n"), root), "users");
  }
  const users: string[] = [];
  for (let i = 0; i < names.length; i += 8) {
    users.push(
      ...await Promise.all(names.slice(i, i + 8).map((n) => token(url, n, password(n, seed)))),
    );
  }
  return { users, service: await token(url, "svc", password("svc", seed)), root };
}

/** Flush jobs by status, and the tables' segment counts (the cold tier was exercised). */
export async function coldTier(url: string, root: string): Promise<Record<string, unknown>> {
  const jobs = await sql(
    url,
    "SELECT status, COUNT(*) AS n FROM system.jobs WHERE job_type = 'flush' GROUP BY status",
    root,
  );
  const out: Record<string, unknown> = {};
  try {
    for (const [status, n] of rowsOf(jobs, "jobs")) out[`flush_${status}`] = Number(n);
  } catch (err) {
    out.jobs_error = (err as Error).message.slice(0, 200);
  }
  for (const t of ["items", "feed"]) {
    const stats = await sql(url, `SHOW STATS FOR TABLE load.${t}`, root);
    try {
      const m = Object.fromEntries(rowsOf(stats, "stats"));
      const keys = ["buffered_rows", "flushed_rows", "segments", "bytes_on_storage", "last_flush"];
      out[t] = Object.fromEntries(keys.map((k) => [k, m[k]]));
    } catch (err) {
      out[t] = (err as Error).message.slice(0, 200);
    }
  }
  return out;
}
