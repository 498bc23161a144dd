// Shared pieces of the export suites (export_test.ts, export_faults_test.ts): queueing an export
// and awaiting its completion through SHOW EXPORTS (bounded by a deadline), downloading it,
// unzipping it with @zip.js/zip.js, checking every member against manifest.json's SHA-256 and
// size, reading members back (JSONL as objects, Parquet with hyparquet), loading rows in bulk,
// reading Parquet with DuckDB, finding temp files, SIGKILLing a server at an export's kill
// point, and normalizing values so several readers' rows compare.

import { BlobReader, configure, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import { parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { createHash } from "node:crypto";
import { DuckDBInstance } from "@duckdb/node-api";
import { assert, assertEquals, rows, type TestServer } from "./_server.ts";
import { until } from "../_util.ts";

configure({ useWebWorkers: false });

/** One finished export as SHOW EXPORTS shows it. */
export interface Finished {
  readonly exportId: string;
  readonly jobId: string;
  readonly status: string;
  readonly bytes: number;
  readonly url: string;
}

/** Polls SHOW EXPORTS (as `auth`) until `exportId` is completed; fails early when it failed. */
export async function untilExported(
  server: TestServer,
  auth: string,
  exportId: string,
  timeoutMs = 30_000,
): Promise<Finished> {
  const done = await until(
    async () => {
      const shown = rows(await server.sql("SHOW EXPORTS", { auth }));
      const row = shown.find((x) => x[0] === exportId);
      assert(row?.[2] !== "failed", `export failed: ${JSON.stringify(row)}`);
      return row?.[2] === "completed" ? row : undefined;
    },
    `export ${exportId} completed`,
    timeoutMs,
  );
  return {
    exportId,
    jobId: String(done[1]),
    status: String(done[2]),
    bytes: Number(done[4]),
    url: String(done[5]),
  };
}

/** Runs EXPORT USER DATA (or `sql`), polls SHOW EXPORTS until it completes; returns its row. */
export async function exportOf(
  server: TestServer,
  auth: string,
  sql = "EXPORT USER DATA",
  timeoutMs = 30_000,
): Promise<Finished> {
  const r = await server.sql(sql, { auth });
  const [exportId, jobId] = rows(r)[0] as string[];
  assert(exportId && jobId, r.text);
  const done = await untilExported(server, auth, exportId, timeoutMs);
  assertEquals(done.jobId, jobId);
  return done;
}

export async function unzip(bytes: Uint8Array): Promise<Map<string, Uint8Array>> {
  const reader = new ZipReader(new BlobReader(new Blob([bytes as Uint8Array<ArrayBuffer>])));
  const out = new Map<string, Uint8Array>();
  for (const entry of await reader.getEntries()) {
    if (!entry.directory) out.set(entry.filename, await entry.getData!(new Uint8ArrayWriter()));
  }
  await reader.close();
  return out;
}

export async function download(server: TestServer, url: string, auth?: string, range?: string) {
  const headers: Record<string, string> = {};
  if (auth) headers.authorization = auth;
  if (range) headers.range = range;
  const res = await fetch(server.url + url, { headers });
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** Checks every member's SHA-256 and size against manifest.json; returns the manifest. */
// deno-lint-ignore no-explicit-any
export function checkManifest(files: Map<string, Uint8Array>): any {
  const manifest = JSON.parse(new TextDecoder().decode(files.get("manifest.json")!));
  for (const [name, bytes] of files) {
    if (name === "manifest.json") continue;
    const m = manifest.members[name];
    assert(m, `manifest lists ${name}`);
    assertEquals(createHash("sha256").update(bytes).digest("hex"), m.sha256, name);
    assertEquals(bytes.length, m.bytes, name);
  }
  assertEquals(Object.keys(manifest.members).length, files.size - 1, "every member listed");
  return manifest;
}

export type Obj = Record<string, unknown>;

/** The objects of a JSONL member (fails when it is missing). */
export function jsonlOf(files: Map<string, Uint8Array>, name: string): Obj[] {
  const bytes = files.get(name);
  assert(bytes, `member ${name} in the zip (members: ${[...files.keys()].join(", ")})`);
  return new TextDecoder().decode(bytes).split("\n").filter((l) => l !== "")
    .map((l) => JSON.parse(l));
}

/** The rows of a Parquet member read with hyparquet (`exactTimes`: timestamps as ns bigints). */
export function parquetOf(bytes: Uint8Array, exactTimes = false): Promise<Obj[]> {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const parsers = exactTimes
    ? {
      timestampFromNanoseconds: (ns: bigint) => ns,
      timestampFromMicroseconds: (us: bigint) => us * 1000n,
      timestampFromMilliseconds: (ms: bigint) => BigInt(ms) * 1_000_000n,
    }
    : undefined;
  // deno-lint-ignore no-explicit-any
  return parquetReadObjects({ file: buf as ArrayBuffer, compressors, parsers: parsers as any });
}

/** A SELECT's rows as objects keyed by column name (HTTP encoding of values). */
export async function selectObjects(server: TestServer, auth: string, sql: string) {
  const r = await server.sql(sql, { auth });
  rows(r); // asserts success
  const res = r.body.results[0];
  const cols: string[] = res.schema.map((c: { name: string }) => c.name);
  return res.rows.map((row: unknown[]) => Object.fromEntries(cols.map((c, i) => [c, row[i]])));
}

/** Runs `sql` as `auth` and fails unless it succeeds. */
export async function ok(server: TestServer, auth: string, sql: string) {
  const r = await server.sql(sql, { auth });
  rows(r); // asserts success
  return r;
}

/** Inserts rows `from..to-1` of `row(i)` into `table` as `auth`, `chunk` rows per statement. */
export async function load(
  server: TestServer,
  auth: string,
  table: string,
  cols: string,
  from: number,
  to: number,
  row: (i: number) => string,
  chunk = 5000,
): Promise<void> {
  for (let i = from; i < to; i += chunk) {
    const values: string[] = [];
    for (let j = i; j < Math.min(to, i + chunk); j++) values.push(row(j));
    await ok(server, auth, `INSERT INTO ${table} (${cols}) VALUES ${values.join(", ")}`);
  }
}

/** Temp files under `dir` (`x.tmp`, and side files such as `x.tmp.parquet`). */
export async function tmpFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(`${d}/${e.name}`);
      else if (/\.tmp(\.|$)/.test(e.name)) out.push(`${d}/${e.name}`);
    }
  };
  await walk(dir).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  return out;
}

/** RFC 3339 with up to 9 fractional digits → ns since the epoch. */
export function rfc3339Ns(s: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(s);
  assert(m, `RFC 3339: ${s}`);
  return BigInt(Date.parse(m[1] + "Z")) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

/** Sorted-key JSON, so JSON values compare whatever their key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Obj;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)}}`;
  }
  return JSON.stringify(v);
}

/** One value as a comparable string by the column's SQL type; NULL/undefined → null. */
export function norm(type: string, v: unknown, jsonAsText: boolean): string | null {
  if (v === null || v === undefined) return null;
  switch (type) {
    case "TIMESTAMP":
      return typeof v === "string" ? String(rfc3339Ns(v)) : String(v as bigint);
    case "JSON":
      return canonical(jsonAsText && typeof v === "string" ? JSON.parse(v) : v);
    case "DOUBLE":
      return String(Number(v));
    default:
      return String(v);
  }
}

/**
 * A Parquet file's columns as DuckDB types it ([name, type]) and its rows as DuckDB reads them
 * (`read_parquet` over a temp copy; timestamps as `epoch_ns` bigints, so nothing is rounded).
 */
export async function duckRead(bytes: Uint8Array) {
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-export-duck-" });
  const duck = await DuckDBInstance.create(":memory:");
  const conn = await duck.connect();
  try {
    const path = `${dir}/member.parquet`;
    await Deno.writeFile(path, bytes);
    const desc = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    const types = desc.getRowsJS().map((r) => [String(r[0]), String(r[1])] as const);
    const exprs = types.map(([col, type]) =>
      type.startsWith("TIMESTAMP") ? `epoch_ns("${col}") AS "${col}"` : `"${col}"`
    );
    const read = await conn.runAndReadAll(
      `SELECT ${exprs.join(", ")} FROM read_parquet('${path}')`,
    );
    const cols = read.columnNames();
    const rows: Obj[] = read.getRowsJS().map((r) =>
      Object.fromEntries(cols.map((c, i) => [c, r[i]]))
    );
    return { types, rows };
  } finally {
    conn.closeSync();
    duck.closeSync();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Awaits the kill point of a running export — `running`: SHOW EXPORTS says running; `writing`:
 * the zip's temp file exists — then SIGKILLs the server. Fails when the export completed first.
 */
export async function killAt(
  server: TestServer,
  auth: string,
  exportId: string,
  point: "running" | "writing",
) {
  const exportsDir = `${server.dataDir}/exports`;
  try {
    const seen = await until(
      async () => {
        if (point === "writing" && (await tmpFiles(exportsDir)).length > 0) return "writing";
        const shown = rows(await server.sql("SHOW EXPORTS", { auth }));
        const status = shown.find((x) => x[0] === exportId)?.[2];
        if (status === "completed") return "completed";
        return point === "running" && status === "running" ? "running" : undefined;
      },
      `export ${point}`,
      30_000,
      2,
    );
    assert(seen === point, `the export completed before the kill (${point}): raise ROWS`);
    Deno.kill(server.pid, "SIGKILL");
  } finally {
    await server.stop();
  }
  const left = await tmpFiles(exportsDir);
  console.log(`  killed while ${point}; temp files left: ${left.map((f) => f.split("/").pop())}`);
}
