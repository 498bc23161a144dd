// Shared pieces of the cold-tier benchmark (cold.ts): the rows every system writes (as INSERTs,
// as hyparquet-writer columns, as DuckDB's range()), DuckDB in this process, a seeded PRNG and
// the small timing and formatting helpers. Kept apart so each phase file stays short.

import { DuckDBInstance } from "@duckdb/node-api";
import type { ColumnSource } from "hyparquet-writer";
import { zstdCompressSync } from "node:zlib";
import type { Database, SegmentColumn } from "../../storage/mod.ts";
import type { Value } from "../../sql/mod.ts";
export { rng } from "../_rng.ts";

export const ROW_GROUP = 16_384;
/** A policy that never fires: the benchmark flushes itself, so segment boundaries are its own. */
export const MANUAL = "rows:1000000000,interval:1000000000";
export const REPS = 5;
export const COLUMNS: SegmentColumn[] = [
  { name: "id", type: { base: "BIGINT" } },
  { name: "title", type: { base: "TEXT" } },
  { name: "n", type: { base: "INT" } },
  { name: "done", type: { base: "BOOLEAN" } },
  { name: "_seq", type: { base: "BIGINT" } },
  { name: "_deleted", type: { base: "BOOLEAN" } },
];

// The row with id i, identical in our INSERTs, the raw writer's columns and DuckDB's range().
export const title = (i: number) => `msg ${i % 5000}`;
export const nOf = (i: number) => (i * 7919) % 1000;
export const doneOf = (i: number) => i % 3 === 0;
export const DUCK_ROW = `range AS id, 'msg ' || (range % 5000) AS title,
  ((range * 7919) % 1000)::INTEGER AS n, range % 3 = 0 AS done`;

export function progress(text: string): void {
  console.log(`  ${new Date().toISOString().slice(11, 19)} ${text}`);
}

export function now(): number {
  return performance.now();
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export type Db = Awaited<ReturnType<typeof Database.open>>;

export async function ok(db: Db, sql: string, options: Parameters<Db["execute"]>[1] = {}) {
  const r = await db.execute(sql, options);
  if (r.error) throw r.error;
  return r.results[r.results.length - 1];
}

export function insertSql(table: string, from: number, to: number): string {
  const values: string[] = [];
  for (let i = from; i < to; i++) values.push(`(${i}, '${title(i)}', ${nOf(i)}, ${doneOf(i)})`);
  return `INSERT INTO ${table} (id, title, n, done) VALUES ${values.join(", ")}`;
}

/** The same rows in columnar form for hyparquet-writer, `_seq` Snowflake-shaped. */
export function rawColumns(from: number, to: number, seq0: bigint): ColumnSource[] {
  const k = to - from;
  const id = new Array<bigint>(k), t = new Array<string>(k), n = new Array<number>(k);
  const done = new Array<boolean>(k), seq = new Array<bigint>(k), del = new Array<boolean>(k);
  for (let j = 0; j < k; j++) {
    const i = from + j;
    id[j] = BigInt(i);
    t[j] = title(i);
    n[j] = nOf(i);
    done[j] = doneOf(i);
    seq[j] = seq0 + BigInt(j);
    del[j] = false;
  }
  return [
    { name: "id", data: id, type: "INT64", nullable: true },
    { name: "title", data: t, type: "STRING", nullable: true },
    { name: "n", data: n, type: "INT32", nullable: true },
    { name: "done", data: done, type: "BOOLEAN", nullable: true },
    { name: "_seq", data: seq, type: "INT64", nullable: false },
    { name: "_deleted", data: del, type: "BOOLEAN", nullable: false },
  ];
}

export function rowsOf(columns: ColumnSource[]): Value[][] {
  const k = columns[0].data.length;
  const rows = new Array<Value[]>(k);
  for (let j = 0; j < k; j++) rows[j] = columns.map((c) => c.data[j] as Value);
  return rows;
}

export const compressors = { ZSTD: (input: Uint8Array) => zstdCompressSync(input) };

export interface Duck {
  query(sql: string): Promise<unknown[][]>;
  close(): void;
  threads: number;
}

export async function openDuck(): Promise<Duck> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const query = async (sql: string) => (await connection.runAndReadAll(sql)).getRowsJS();
  const threads = Number((await query("SELECT current_setting('threads')"))[0][0]);
  return {
    query,
    threads,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

export function fmt(n: number): string {
  return n.toLocaleString("en", { maximumFractionDigits: 0 });
}

export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
