// The cold-tier benchmark's write phases (cold.ts): loading and flushing the SHARED table next to
// hyparquet-writer and our segment encoder on the same rows, then DuckDB writing the same data
// to its own parquet files. Each returns its timings; the orchestration stays in cold.ts.

import { parquetWriteBuffer } from "hyparquet-writer";
import { encodeSegment } from "../../storage/mod.ts";
import {
  COLUMNS,
  compressors,
  type Db,
  type Duck,
  DUCK_ROW,
  insertSql,
  now,
  ok,
  rawColumns,
  ROW_GROUP,
  rowsOf,
} from "./_cold_kit.ts";

/** How the rows are cut into flushes: `flushes` flushes of `perFlush` rows, `total` in all. */
export interface Sizes {
  readonly total: number;
  readonly flushes: number;
  readonly perFlush: number;
}

export interface FlushTimings {
  readonly flushMs: number;
  readonly rawMs: number;
  readonly encodeMs: number;
  readonly rawBytes: number;
  readonly engineBytes: number;
  readonly segments: number;
}

type Table = NonNullable<ReturnType<Db["hooks"]["table"]>>;

/** Loads and flushes bench.t flush by flush, timing the raw writer and encodeSegment alongside. */
export async function loadAndFlush(
  db: Db,
  table: Table,
  size: Sizes,
  seq0: bigint,
  breakdown: Record<string, number>,
): Promise<FlushTimings> {
  const { total, flushes, perFlush } = size;
  let loadMs = 0,
    flushMs = 0,
    bufferReadMs = 0,
    rawMs = 0,
    encodeMs = 0,
    rawBytes = 0,
    engineBytes = 0;
  for (let f = 0; f < flushes; f++) {
    const from = f * perFlush, to = Math.min(total, from + perFlush);
    let t0 = now();
    for (let s = from; s < to; s += 1000) {
      await ok(db, insertSql("bench.t", s, Math.min(to, s + 1000)));
    }
    loadMs += now() - t0;
    // What flush step (1) reads: the scope's buffered rows, decoded (timed on its own).
    t0 = now();
    const buffered = db.hooks.bufferedRows(table, "");
    bufferReadMs += now() - t0;
    if (buffered !== to - from) throw new Error(`buffer holds ${buffered} rows`);
    t0 = now();
    const r = await db.hooks.flush(table);
    flushMs += now() - t0;
    if (r.rows !== to - from || r.files !== 1) {
      throw new Error(`flush ${f} wrote ${r.rows} rows in ${r.files} files`);
    }
    engineBytes += r.bytes;
    // The raw encoder on the same rows (columns built outside the timing).
    const columns = rawColumns(from, to, seq0 + BigInt(from) * 4n);
    t0 = now();
    rawBytes += parquetWriteBuffer({
      columnData: columns,
      codec: "ZSTD",
      compressors,
      rowGroupSize: ROW_GROUP,
      statisticsTruncateLength: 64,
    }).byteLength;
    rawMs += now() - t0;
    // Our segment encoder alone (no buffer read, no I/O, no manifest, no delete).
    const rows = rowsOf(columns);
    t0 = now();
    encodeSegment(COLUMNS, rows);
    encodeMs += now() - t0;
  }
  const segments = [...db.hooks.coldStats(table).values()].reduce(
    (n, s) => n + s.segments,
    0,
  );
  breakdown.load_ms = loadMs;
  breakdown.flush_ms = flushMs;
  breakdown.buffer_read_ms = bufferReadMs;
  breakdown.encode_segment_ms = encodeMs;
  breakdown.raw_writer_ms = rawMs;
  return { flushMs, rawMs, encodeMs, rawBytes, engineBytes, segments };
}

/** DuckDB writes the same rows as `flushes` parquet files in `duckDir`; returns the `files` source. */
export async function duckWrite(duck: Duck, duckDir: string, size: Sizes, seq0: bigint) {
  const { total, flushes, perFlush } = size;
  await Deno.mkdir(duckDir);
  await duck.query(`CREATE TABLE t AS SELECT ${DUCK_ROW},
      (${seq0} + range * 4)::BIGINT AS _seq, false AS _deleted FROM range(${total})`);
  const t0 = now();
  for (let f = 0; f < flushes; f++) {
    const from = f * perFlush, to = Math.min(total, from + perFlush);
    await duck.query(`COPY (SELECT * FROM t WHERE id >= ${from} AND id < ${to} ORDER BY id)
        TO '${duckDir}/part-${f}.parquet' (FORMAT parquet, COMPRESSION zstd,
        ROW_GROUP_SIZE ${ROW_GROUP})`);
  }
  const duckWriteMs = now() - t0;
  let duckdbBytes = 0;
  for await (const e of Deno.readDir(duckDir)) {
    duckdbBytes += (await Deno.stat(`${duckDir}/${e.name}`)).size;
  }
  const files = `read_parquet('${duckDir}/*.parquet')`;
  return { duckWriteMs, duckdbBytes, files };
}
