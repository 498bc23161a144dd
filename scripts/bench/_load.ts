// The HTTP benchmark's load generator, run as its own process so it does not share an event loop
// with the server it measures. N keep-alive connections each send `POST /v1/api/sql` back to back
// until a request count or a duration is reached, whichever comes first; every request's latency
// is recorded. It drives `wrk` (Debian package `wrk`, a C event loop with a Lua script) when that
// is installed, because on a 2-core machine the generator's own CPU comes out of the server's; it
// falls back to Deno's fetch otherwise. Only loopback targets are accepted.
//
//   deno run -A scripts/bench/_load.ts --url http://127.0.0.1:PORT
//     --workload insert|select|insert-literal|select-literal
//     [--connections 32] [--requests N] [--seconds S] [--auth "Basic …"] [--id-base B]
//     [--keys K] [--tool auto|wrk|deno]
//
// Prints one JSON line: {tool, requests, errors, seconds, rps, p50_ms, p99_ms, first_error?}.
// insert: `INSERT INTO bench.kv (id, title, n) VALUES ($1, $2, $3)` with unique ids from
// --id-base up; select: `SELECT id, title, n FROM bench.kv WHERE id = $1` over ids 1..K. The
// -literal workloads send the same statements with the values written into the SQL text.

import { parseArgs } from "node:util";

export interface LoadResult {
  readonly tool: "wrk" | "deno";
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly first_error?: string;
}

/** `-literal`: the same statements with the values inlined in the SQL text instead of `$n`. */
export type Workload = "insert" | "select" | "insert-literal" | "select-literal";
export const WORKLOADS: readonly Workload[] = [
  "insert",
  "select",
  "insert-literal",
  "select-literal",
];

export const INSERT_SQL = "INSERT INTO bench.kv (id, title, n) VALUES ($1, $2, $3)";
export const SELECT_SQL = "SELECT id, title, n FROM bench.kv WHERE id = $1";

/** Ids of concurrent workers are this far apart, so every insert's id is unique. */
const WORKER_STRIDE = 10_000_000;

interface LoadOptions {
  readonly url: URL;
  readonly workload: Workload;
  readonly connections: number;
  readonly requests: number;
  readonly seconds: number;
  readonly auth: string;
  readonly idBase: number;
  readonly keys: number;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function assertLoopback(url: URL): void {
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    throw new Error(`refusing a non-loopback target: ${url.hostname}`);
  }
}

// ---------------------------------------------------------------------------------------------
// wrk

/** The Lua script: per-thread counters, a wall clock through LuaJIT's ffi, JSON out of done(). */
function wrkScript(o: LoadOptions, perThread: number): string {
  const sql = JSON.stringify(o.workload.startsWith("insert") ? INSERT_SQL : SELECT_SQL);
  const id = `local id = ${o.idBase} + tid * ${WORKER_STRIDE} + sent`;
  const key = `local key = (tid * 7919 + sent * 104729) % ${o.keys} + 1`;
  const body = {
    insert: `${id}
  local body = '{"sql":' .. SQL .. ',"params":[' .. string.format("%d", id) ..
    ',"title ' .. string.format("%d", id) .. '",' .. string.format("%d", sent % 1000) .. ']}'`,
    select: `${key}
  local body = '{"sql":' .. SQL .. ',"params":[' .. string.format("%d", key) .. ']}'`,
    "insert-literal": `${id}
  local body = '{"sql":"INSERT INTO bench.kv (id, title, n) VALUES (' .. string.format("%d", id) ..
    ', \\'title ' .. string.format("%d", id) .. '\\', ' .. string.format("%d", sent % 1000) .. ')"}'`,
    "select-literal": `${key}
  local body = '{"sql":"SELECT id, title, n FROM bench.kv WHERE id = ' ..
    string.format("%d", key) .. '"}'`,
  }[o.workload];
  return `local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end
local SQL = ${JSON.stringify(sql)}
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  sent = 0
  got = 0
  bad = 0
  first_error = ""
  t_first = 0
  t_last = 0
  wrk.method = "POST"
  wrk.path = ${JSON.stringify(o.url.pathname)}
  wrk.headers["Content-Type"] = "application/json"
  ${o.auth ? `wrk.headers["Authorization"] = ${JSON.stringify(o.auth)}` : ""}
end
function request()
  sent = sent + 1
  if t_first == 0 then t_first = now_us() end
  ${body}
  return wrk.format(nil, nil, nil, body)
end
function response(status, headers, body)
  got = got + 1
  t_last = now_us()
  if status ~= 200 then
    bad = bad + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 300) end
  end
  if got >= ${perThread} then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local t0, t1, errs = nil, 0, ""
  for _, t in ipairs(threads) do
    local f, l = t:get("t_first"), t:get("t_last")
    if f > 0 and (t0 == nil or f < t0) then t0 = f end
    if l > t1 then t1 = l end
    local e = t:get("first_error")
    if errs == "" and e ~= "" then errs = e end
  end
  local e = summary.errors
  io.write("BENCH_JSON ", string.format(
    '{"requests":%d,"socket_errors":%d,"status_errors":%d,"span_us":%.0f,"p50_us":%.0f,"p99_us":%.0f}',
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    t0 and (t1 - t0) or 0, latency:percentile(50), latency:percentile(99)), "\\n")
  io.write("BENCH_FIRST_ERROR ", errs, "\\n")
end
`;
}

async function runWrk(o: LoadOptions): Promise<LoadResult> {
  const threads = o.connections >= 16 ? 2 : 1;
  const script = await Deno.makeTempFile({ prefix: "kalamdb-bench-", suffix: ".lua" });
  try {
    await Deno.writeTextFile(script, wrkScript(o, Math.ceil(o.requests / threads)));
    const out = await new Deno.Command("wrk", {
      args: [
        `-t${threads}`,
        `-c${o.connections}`,
        `-d${Math.max(1, Math.ceil(o.seconds))}s`,
        "--timeout",
        "10s",
        "-s",
        script,
        o.url.href,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const line = text.split("\n").find((l) => l.startsWith("BENCH_JSON "));
    if (!out.success || !line) {
      throw new Error(`wrk failed: ${text}\n${new TextDecoder().decode(out.stderr)}`);
    }
    const r = JSON.parse(line.slice("BENCH_JSON ".length));
    const firstError = text.split("\n").find((l) => l.startsWith("BENCH_FIRST_ERROR "))
      ?.slice("BENCH_FIRST_ERROR ".length).trim();
    const seconds = r.span_us / 1e6;
    return {
      tool: "wrk",
      requests: r.requests,
      errors: r.socket_errors + r.status_errors,
      seconds: round3(seconds),
      rps: Math.round(r.requests / seconds),
      p50_ms: round3(r.p50_us / 1000),
      p99_ms: round3(r.p99_us / 1000),
      ...(firstError ? { first_error: firstError } : {}),
    };
  } finally {
    await Deno.remove(script);
  }
}

// ---------------------------------------------------------------------------------------------
// Deno fetch (keep-alive is fetch's default: one pooled connection per worker in flight)

async function runDeno(o: LoadOptions): Promise<LoadResult> {
  const latencies = new Float64Array(o.requests);
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (o.auth) headers.authorization = o.auth;
  const t0 = performance.now();
  const deadline = t0 + o.seconds * 1000;
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: o.connections });
  await Promise.all(Array.from({ length: o.connections }, async (_, worker) => {
    let sent = 0;
    while (next < o.requests && performance.now() < deadline) {
      const i = next++;
      sent++;
      const id = o.idBase + worker * WORKER_STRIDE + sent;
      const key = (worker * 7919 + sent * 104729) % o.keys + 1;
      const body = JSON.stringify(
        o.workload === "insert"
          ? { sql: INSERT_SQL, params: [id, `title ${id}`, sent % 1000] }
          : o.workload === "select"
          ? { sql: SELECT_SQL, params: [key] }
          : o.workload === "insert-literal"
          ? {
            sql: `INSERT INTO bench.kv (id, title, n) VALUES (${id}, 'title ${id}', ${
              sent % 1000
            })`,
          }
          : { sql: `SELECT id, title, n FROM bench.kv WHERE id = ${key}` },
      );
      const start = performance.now();
      try {
        const res = await fetch(o.url, { method: "POST", headers, body, client });
        const text = await res.text();
        if (res.status !== 200) {
          errors++;
          firstError ??= `${res.status} ${text.slice(0, 300)}`;
        }
      } catch (err) {
        errors++;
        firstError ??= String(err);
      }
      latencies[i] = performance.now() - start;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  client.close();
  const done = latencies.subarray(0, Math.min(next, o.requests)).sort();
  const pct = (p: number) =>
    done.length ? done[Math.min(done.length - 1, Math.floor(done.length * p))] : 0;
  return {
    tool: "deno",
    requests: done.length,
    errors,
    seconds: round3(seconds),
    rps: Math.round(done.length / seconds),
    p50_ms: round3(pct(0.5)),
    p99_ms: round3(pct(0.99)),
    ...(firstError ? { first_error: firstError } : {}),
  };
}

async function hasWrk(): Promise<boolean> {
  try {
    const out = await new Deno.Command("wrk", { args: ["-v"], stdout: "null", stderr: "null" })
      .output();
    return out.code === 0 || out.code === 1; // `wrk -v` prints its version and exits 1
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      workload: { type: "string", default: "insert" },
      connections: { type: "string", default: "32" },
      requests: { type: "string", default: "1000000" },
      seconds: { type: "string", default: "10" },
      auth: { type: "string", default: "" },
      "id-base": { type: "string", default: "1000000000" },
      keys: { type: "string", default: "10000" },
      tool: { type: "string", default: "auto" },
    },
  });
  if (!values.url) throw new Error("--url is required");
  const url = new URL("/v1/api/sql", values.url);
  assertLoopback(url);
  if (!WORKLOADS.includes(values.workload as Workload)) {
    throw new Error(`--workload must be one of ${WORKLOADS.join(", ")}, got ${values.workload}`);
  }
  const o: LoadOptions = {
    url,
    workload: values.workload as Workload,
    connections: Number(values.connections),
    requests: Number(values.requests),
    seconds: Number(values.seconds),
    auth: values.auth,
    idBase: Number(values["id-base"]),
    keys: Number(values.keys),
  };
  if (!(o.requests > 0 && o.seconds > 0 && o.connections > 0 && o.keys > 0)) {
    throw new Error("--requests, --seconds, --connections and --keys must be positive");
  }
  const tool = values.tool === "auto" ? (await hasWrk() ? "wrk" : "deno") : values.tool;
  const result = tool === "wrk" ? await runWrk(o) : await runDeno(o);
  console.log(JSON.stringify(result));
}
