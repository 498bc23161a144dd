// HTTP benchmark (issue 3): the KalamDB server (`main.ts serve`, a subprocess) next to a bare
// `Deno.serve` + node:sqlite handler (_bare_server.ts, also a subprocess), both driven by the
// same load generator in a third process (_load.ts: wrk when installed, else Deno fetch) with 32
// keep-alive connections on loopback. Workloads: single-row INSERT with unique ids into a USER
// table, and primary-key SELECT over seeded ids. Every process is stopped by its pid (SIGTERM,
// then awaited); every load run is bounded by a request count and a duration. Both servers run
// at once and each workload is measured on one, then the other, so drifting background load on
// the shared machine hits both alike.

import { rootToken } from "./_client_kit.ts";
import { INSERT_SQL, type LoadResult, SELECT_SQL, type Workload, WORKLOADS } from "./_load.ts";

/** One workload measured on both servers. */
export interface HttpRow {
  readonly workload: string;
  /** null when the KalamDB server could not run it (see `HttpBench.kalamdbError`). */
  readonly kalamdb: LoadResult | null;
  readonly bare: LoadResult;
  /** kalamdb.rps / bare.rps, or null. */
  readonly ratio: number | null;
  readonly target: string;
  readonly note?: string;
}

export interface HttpBench {
  readonly tool: LoadResult["tool"];
  readonly connections: number;
  readonly seconds: number;
  readonly keys: number;
  readonly auth: string;
  readonly rows: HttpRow[];
  /** The bare server committing every insert on its own (no group commit), for reference. */
  readonly bareCommitEach: LoadResult;
  /** Why the KalamDB server was not measured, quoting its response. */
  readonly kalamdbError?: string;
}

const ROOT = new URL("../../", import.meta.url);
const MAIN = new URL("main.ts", ROOT).pathname;
const BARE = new URL("./_bare_server.ts", import.meta.url).pathname;
const LOAD = new URL("./_load.ts", import.meta.url).pathname;
/** "root:" — root has no password and may log in from loopback (SPEC §5). */
const BASIC_ROOT = "Basic cm9vdDo=";
const CONNECTIONS = 32;
const SETUP_SQL = `CREATE NAMESPACE bench;
CREATE USER TABLE bench.kv (id BIGINT PRIMARY KEY, title TEXT, n INT)`;

interface Server {
  readonly name: string;
  readonly url: string;
  readonly child: Deno.ChildProcess;
  /** The last few KiB of the process's stdout and stderr, for error messages. */
  output(): string;
}

async function drain(stream: ReadableStream<Uint8Array>, keep: { text: string }): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    keep.text = (keep.text + decoder.decode(chunk, { stream: true })).slice(-8192);
  }
}

/** Spawns `deno run -A <args>` and waits (≤ 60 s) for `listening on http://127.0.0.1:<port>`. */
async function startServer(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd: ROOT.pathname,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { text: "" };
  const err = { text: "" };
  const stderrDone = drain(child.stderr, err);
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
  let url: string | undefined;
  try {
    while (!url) {
      const { value, done } = await reader.read();
      if (done) {
        await child.status;
        await stderrDone;
        throw new Error(`${name} exited before listening:\n${out.text}\n${err.text}`);
      }
      out.text += decoder.decode(value, { stream: true });
      url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text)?.[1];
    }
  } finally {
    clearTimeout(deadline);
  }
  reader.releaseLock();
  drain(child.stdout, out).catch(() => {});
  return { name, url, child, output: () => `${out.text}\n${err.text}`.trim() };
}

/** SIGTERM, then waits for the exit (SIGKILL after 20 s). */
async function stopServer(server: Server): Promise<void> {
  try {
    server.child.kill("SIGTERM");
  } catch { /* already exited */ }
  const timer = setTimeout(() => {
    try {
      server.child.kill("SIGKILL");
    } catch { /* exited meanwhile */ }
  }, 20_000);
  await server.child.status;
  clearTimeout(timer);
}

interface SqlAnswer {
  readonly status: number;
  readonly body: { status?: string; results?: { row_count?: number }[] } & Record<string, unknown>;
  readonly text: string;
}

async function postSql(server: Server, sql: string, params?: unknown[]): Promise<SqlAnswer> {
  const res = await fetch(`${server.url}/v1/api/sql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: BASIC_ROOT },
    body: JSON.stringify(params ? { sql, params } : { sql }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let body = {};
  try {
    body = JSON.parse(text);
  } catch { /* not JSON: reported through `text` */ }
  return { status: res.status, body, text };
}

async function mustSql(server: Server, sql: string, params?: unknown[]): Promise<SqlAnswer> {
  const a = await postSql(server, sql, params);
  if (a.status !== 200 || a.body.status !== "success") {
    throw new Error(
      `${server.name}: ${sql.slice(0, 80)} → HTTP ${a.status} ${a.text.slice(0, 500)}`,
    );
  }
  return a;
}

/** Inserts ids 1..keys (500 rows a statement) and checks one primary-key lookup. */
async function seed(server: Server, keys: number): Promise<void> {
  for (let start = 1; start <= keys; start += 500) {
    const values = [];
    for (let id = start; id < Math.min(keys + 1, start + 500); id++) {
      values.push(`(${id}, 'seed ${id}', ${id % 1000})`);
    }
    await mustSql(server, `INSERT INTO bench.kv (id, title, n) VALUES ${values.join(", ")}`);
  }
  const probe = await mustSql(server, SELECT_SQL, [keys]);
  if (probe.body.results?.[0]?.row_count !== 1) {
    throw new Error(`${server.name}: lookup of id ${keys} found no row: ${probe.text}`);
  }
  // The insert workload's statement, once, so a wrong shape fails here rather than under load.
  await mustSql(server, INSERT_SQL, [keys + 1, "probe", 1]);
}

interface RunOptions {
  readonly workload: Workload;
  readonly seconds: number;
  readonly requests: number;
  readonly idBase: number;
  readonly keys: number;
  readonly auth: string;
}

/** Runs _load.ts as its own process; resolves with its JSON line. */
async function load(server: Server, o: RunOptions): Promise<LoadResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      LOAD,
      `--url=${server.url}`,
      `--workload=${o.workload}`,
      `--connections=${CONNECTIONS}`,
      `--requests=${o.requests}`,
      `--seconds=${o.seconds}`,
      `--auth=${o.auth}`,
      `--id-base=${o.idBase}`,
      `--keys=${o.keys}`,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout((o.seconds + 120) * 1000),
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(`load generator failed: ${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(text.split("\n").at(-1)!);
}

interface Sizes {
  readonly seconds: number;
  readonly warmup: number;
  readonly requests: number;
  readonly keys: number;
}

/** A warm-up run, then the measured run. */
async function warmAndMeasure(
  server: Server,
  s: Sizes,
  workload: Workload,
  auth: string,
): Promise<LoadResult> {
  const o = { workload, requests: s.requests, keys: s.keys, auth };
  // Inserts need ids no earlier run used: warm-ups from 1e9, measured runs from 2e9 (3e9 and 4e9
  // for the literal inserts).
  const base = workload === "insert-literal" ? 3_000_000_000 : 1_000_000_000;
  await load(server, { ...o, seconds: s.warmup, idBase: base });
  return await load(server, { ...o, seconds: s.seconds, idBase: base + 1_000_000_000 });
}

/** Logs in as root (password "") and returns `Bearer <access_token>`, or throws. */
async function bearer(server: Server): Promise<string> {
  return `Bearer ${await rootToken(server.url)}`;
}

/** The error's first lines, then the server's recent output. */
function explain(err: unknown, server: Server | undefined): string {
  const message = err instanceof Error ? err.message : String(err);
  return server ? `${message}\n--- ${server.name} output ---\n${server.output()}` : message;
}

/**
 * Runs the HTTP benchmark; `scale` < 1 shortens every run (a smoke run). Both servers run at
 * once (an idle one costs nothing) and each workload is measured on one then the other, so a
 * change in the machine's background load hits both alike.
 *
 * @example
 * const r = await runHttpBench(0.05);
 * console.log(r.rows.map((row) => [row.workload, row.kalamdb?.rps, row.bare.rps]));
 */
export async function runHttpBench(scale = 1): Promise<HttpBench> {
  const quick = scale < 1;
  const s: Sizes = {
    seconds: quick ? 1.5 : 10,
    warmup: quick ? 0.5 : 2,
    requests: Math.max(5_000, Math.round(1_000_000 * scale)),
    keys: quick ? 1_000 : 10_000,
  };
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-http-bench-" });
  let bare: Server | undefined;
  let kalamdb: Server | undefined;
  let kalamdbError: string | undefined;
  /** Runs `fn` on the KalamDB server unless it already failed; a failure stops it. */
  const onKalamdb = async <T>(fn: (server: Server) => Promise<T>): Promise<T | null> => {
    if (!kalamdb) return null;
    try {
      return await fn(kalamdb);
    } catch (err) {
      kalamdbError = explain(err, kalamdb);
      await stopServer(kalamdb);
      kalamdb = undefined;
      return null;
    }
  };
  try {
    bare = await startServer("bare server", [BARE, "0", `${dir}/bare.sqlite`, "--commit=group"]);
    try {
      kalamdb = await startServer(
        "kalamdb",
        [MAIN, "serve", "--data", `${dir}/kalamdb`, "--port", "0"],
        { KALAMDB_RATE_LIMIT: "1000000" },
      );
    } catch (err) {
      kalamdbError = explain(err, undefined);
    }
    await seed(bare, s.keys);
    await onKalamdb(async (server) => {
      await mustSql(server, SETUP_SQL);
      await seed(server, s.keys);
    });
    const measured = {
      bare: {} as Record<Workload, LoadResult>,
      kalamdb: {} as Record<Workload, LoadResult | null>,
    };
    for (const workload of WORKLOADS) {
      console.log(`  ${workload}: bare Deno.serve …`);
      measured.bare[workload] = await warmAndMeasure(bare, s, workload, BASIC_ROOT);
      console.log(`  ${workload}: KalamDB-TS …`);
      measured.kalamdb[workload] = await onKalamdb((server) =>
        warmAndMeasure(server, s, workload, BASIC_ROOT)
      );
    }
    console.log("  select with a Bearer token: KalamDB-TS …");
    const bearerRun = await onKalamdb((server) => bearerSelectRun(server, s));
    const bearerSelect = bearerRun?.result ?? null;
    const bearerError = bearerRun?.error;
    await stopServer(bare);
    bare = undefined;
    if (kalamdb) await stopServer(kalamdb);
    kalamdb = undefined;

    const bareCommitEach = await commitEachInsert(dir, s);

    const rows = httpRows(measured, bearerSelect, bearerError);
    return {
      tool: measured.bare.insert.tool,
      connections: CONNECTIONS,
      seconds: s.seconds,
      keys: s.keys,
      auth: "`Authorization: Basic cm9vdDo=` (root)",
      rows,
      bareCommitEach,
      ...(kalamdbError ? { kalamdbError } : {}),
    };
  } finally {
    if (bare) await stopServer(bare);
    if (kalamdb) await stopServer(kalamdb);
    await Deno.remove(dir, { recursive: true });
  }
}

/** The primary-key SELECT with a Bearer JWT; a failure to get or use the token is its `error`. */
async function bearerSelectRun(
  server: Server,
  s: Sizes,
): Promise<{ result: LoadResult | null; error?: string }> {
  try {
    return { result: await warmAndMeasure(server, s, "select", await bearer(server)) };
  } catch (err) {
    return { result: null, error: (err as Error).message.split("\n")[0] };
  }
}

/** The bare server committing each INSERT on its own (no group commit), on a fresh database. */
async function commitEachInsert(dir: string, s: Sizes): Promise<LoadResult> {
  console.log("  insert: bare Deno.serve committing each insert …");
  const each = await startServer("bare server (commit each)", [
    BARE,
    "0",
    `${dir}/bare_each.sqlite`,
    "--commit=each",
  ]);
  try {
    await seed(each, s.keys);
    return await warmAndMeasure(each, s, "insert", BASIC_ROOT);
  } finally {
    await stopServer(each);
  }
}

/**
 * A -literal workload's row: KalamDB-TS next to the bare server running the `$n` statement (the
 * issue's yardstick), with the bare server on the literal text and KalamDB-TS's own `$n` form in
 * the note.
 */
function literalRow(
  workload: string,
  measured: { bare: Record<Workload, LoadResult>; kalamdb: Record<Workload, LoadResult | null> },
  base: "insert" | "select",
): HttpRow {
  const k = measured.kalamdb[`${base}-literal`];
  const params = measured.kalamdb[base];
  const bare = measured.bare[base];
  const r = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  return {
    workload,
    kalamdb: k,
    bare,
    ratio: k ? r(k.rps, bare.rps) : null,
    target: "ratio ≥ 0.50, within 15% of the $n form",
    note: `bare server on the literal text ${measured.bare[`${base}-literal`].rps}/s; ` +
      (k && params ? `KalamDB-TS literal / $n form ${r(k.rps, params.rps)}` : "KalamDB-TS: —"),
  };
}

/** The report's rows: each workload's KalamDB-TS result next to the bare server's. */
function httpRows(
  measured: {
    bare: Record<Workload, LoadResult>;
    kalamdb: Record<Workload, LoadResult | null>;
  },
  bearerSelect: LoadResult | null,
  bearerError: string | undefined,
): HttpRow[] {
  const ratio = (k: LoadResult | null, b: LoadResult) =>
    k ? Math.round((k.rps / b.rps) * 100) / 100 : null;
  return [
    {
      workload: "single-row INSERT (USER table, unique ids)",
      kalamdb: measured.kalamdb.insert,
      bare: measured.bare.insert,
      ratio: ratio(measured.kalamdb.insert, measured.bare.insert),
      target: "≥ 10,000/s, p99 < 10 ms, ratio ≥ 0.50",
    },
    {
      workload: "primary-key SELECT",
      kalamdb: measured.kalamdb.select,
      bare: measured.bare.select,
      ratio: ratio(measured.kalamdb.select, measured.bare.select),
      target: "p99 < 10 ms, ratio ≥ 0.50",
    },
    literalRow(
      "single-row INSERT, values inlined in the SQL text",
      measured,
      "insert",
    ),
    literalRow("primary-key SELECT, value inlined in the SQL text", measured, "select"),
    {
      workload: "primary-key SELECT, Bearer JWT instead of Basic",
      kalamdb: bearerSelect,
      bare: measured.bare.select,
      ratio: ratio(bearerSelect, measured.bare.select),
      target: "p99 < 10 ms",
      ...(bearerError ? { note: `not measured: ${bearerError}` } : {}),
    },
  ];
}
