// The Arrow encoder (server/arrow.ts says what an Arrow answer is): a statement result as one
// Arrow IPC stream. Loaded on the first Arrow request, so apache-arrow costs an idle server
// nothing.

import {
  Binary,
  Bool,
  type Data,
  DataType,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  TimestampNanosecond,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import type { TypeName, Value } from "../sql/mod.ts";
import type { StatementResult } from "../storage/mod.ts";
import { concatBytes } from "./body.ts";

/** Rows per record batch: large results stream as several batches of one schema. */
const BATCH_ROWS = 65_536;
const MAX_PRECISION = 38;

/** The IPC stream bytes of every result, one stream after another. */
export function arrowBody(results: readonly StatementResult[]): Uint8Array<ArrayBuffer> {
  return concatBytes(results.map(resultStream));
}

function resultStream(r: StatementResult): Uint8Array {
  const metadata = new Map([
    ["kalamdb.row_count", String(r.rowCount)],
    ["kalamdb.took_ms", String(Math.round(r.tookMs * 1000) / 1000)],
  ]);
  if (r.message !== undefined) metadata.set("kalamdb.message", r.message);
  const types = r.types ?? [];
  const rows = r.rows ?? [];
  const columns = (r.schema ?? []).map((_c, i) => arrowType(types[i], rows, i));
  const names = uniqueNames((r.schema ?? []).map((c) => c.name));
  const fields = names.map((name, i) => new Field(name, columns[i], true));
  const schema = new Schema(fields, metadata);
  const batches: RecordBatch[] = [];
  // At least one batch: an empty result is one empty batch.
  for (let from = 0; from === 0 || from < rows.length; from += BATCH_ROWS) {
    const slice = rows.slice(from, from + BATCH_ROWS);
    const children = columns.map((t, i) => columnData(t, types[i], slice, i));
    const data = makeData({
      type: new Struct(fields),
      length: slice.length,
      nullCount: 0,
      children,
    });
    batches.push(new RecordBatch(schema, data));
  }
  // Batch by batch: a Table would look columns up by name (two may share one).
  const writer = new RecordBatchStreamWriter();
  writer.reset(undefined, schema);
  for (const b of batches) writer.write(b);
  writer.finish();
  return writer.toUint8Array(true);
}

/**
 * Column names made unique (`a`, `a_2`, `a_3` …): Arrow readers look columns up by name (Polars
 * refuses a repeated one), while SQL allows `SELECT 1 AS a, 'x' AS a`.
 */
function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set(names);
  const seen = new Set<string>();
  return names.map((name) => {
    if (!seen.has(name)) {
      seen.add(name);
      return name;
    }
    let n = 2;
    while (taken.has(`${name}_${n}`) || seen.has(`${name}_${n}`)) n++;
    seen.add(`${name}_${n}`);
    return `${name}_${n}`;
  });
}

/** The Arrow type of a result column (an unconstrained DECIMAL takes its values' largest scale). */
function arrowType(
  t: TypeName | undefined,
  rows: readonly (readonly Value[])[],
  i: number,
): DataType {
  switch (t?.base) {
    case "BOOLEAN":
      return new Bool();
    case "SMALLINT":
      return new Int16();
    case "INT":
      return new Int32();
    case "BIGINT":
      return new Int64();
    case "REAL":
      return new Float32();
    case "DOUBLE":
      return new Float64();
    case "DECIMAL":
      return decimalType(t, rows, i);
    case "TIMESTAMP":
      return new TimestampNanosecond("UTC");
    case "DATE":
      return new DateDay();
    case "BYTES":
      return new Binary();
    default:
      return new Utf8(); // TEXT, UUID, JSON (its text), and anything untyped
  }
}

const PLAIN_DECIMAL = /^-?(\d+)(?:\.(\d+))?$/;

/**
 * decimal128 for a DECIMAL column whose every value fits it exactly — DECIMAL(p,s) with p ≤ 38,
 * or an unconstrained one with at most 38 digits at the largest scale among its values — else
 * utf8 with each value's exact text (decimal128 holds at most 38 digits; nothing is rounded).
 */
function decimalType(t: TypeName, rows: readonly (readonly Value[])[], i: number): DataType {
  let scale = 0;
  let whole = 0;
  for (const row of rows) {
    const v = row[i];
    if (v === null || v === undefined) continue;
    const m = PLAIN_DECIMAL.exec(String(v));
    if (!m) return new Utf8();
    whole = Math.max(whole, m[1].replace(/^0+/, "").length);
    scale = Math.max(scale, m[2]?.length ?? 0);
  }
  if (t.precision !== undefined) {
    const s = t.scale ?? 0;
    const fits = t.precision <= MAX_PRECISION && scale <= s && whole + s <= t.precision;
    return fits ? new Decimal(s, t.precision, 128) : new Utf8();
  }
  return whole + scale <= MAX_PRECISION ? new Decimal(scale, MAX_PRECISION, 128) : new Utf8();
}

/** Validity bits (LSB first) and the null count of column `i`. */
function validity(rows: readonly (readonly Value[])[], i: number): [Uint8Array, number] {
  const bits = new Uint8Array((rows.length + 7) >> 3);
  let nulls = 0;
  for (let r = 0; r < rows.length; r++) {
    if (rows[r][i] === null || rows[r][i] === undefined) nulls++;
    else bits[r >> 3] |= 1 << (r & 7);
  }
  return [bits, nulls];
}

const DAY_MS = 86_400_000;

type FixedArray = new (length: number) => { [i: number]: number | bigint };

/** A fixed-width column's typed array and the conversion of one of its values. */
function fixedWidth(type: DataType): [FixedArray, (v: Value) => number | bigint] | undefined {
  const whole = (v: Value) => BigInt(v as number | bigint);
  if (type instanceof Int16) return [Int16Array, Number];
  if (type instanceof Int32) return [Int32Array, Number];
  if (type instanceof Int64 || type instanceof TimestampNanosecond) return [BigInt64Array, whole];
  if (type instanceof Float32) return [Float32Array, Number];
  if (type instanceof Float64) return [Float64Array, Number];
  if (type instanceof DateDay) {
    return [
      Int32Array,
      (v) => Math.floor(Date.parse(`${String(v).slice(0, 10)}T00:00:00Z`) / DAY_MS),
    ];
  }
  return undefined;
}

function columnData(
  type: DataType,
  t: TypeName | undefined,
  rows: readonly (readonly Value[])[],
  i: number,
): Data {
  const length = rows.length;
  const [nullBitmap, nullCount] = validity(rows, i);
  const base = { length, nullCount, nullBitmap };
  if (type instanceof Bool) {
    const data = new Uint8Array((length + 7) >> 3);
    for (let r = 0; r < length; r++) if (rows[r][i] === true) data[r >> 3] |= 1 << (r & 7);
    return makeData({ type, ...base, data });
  }
  const fixed = fixedWidth(type);
  if (fixed) {
    const [Typed, of] = fixed;
    const data = new Typed(length);
    for (let r = 0; r < length; r++) {
      const v = rows[r][i];
      if (v !== null && v !== undefined) data[r] = of(v);
    }
    return makeData({ type, ...base, data } as Parameters<typeof makeData>[0]);
  }
  if (type instanceof Decimal) {
    const data = new Uint32Array(length * 4);
    for (let r = 0; r < length; r++) {
      const v = rows[r][i];
      if (v !== null && v !== undefined) putDecimal(data, r, String(v), type.scale);
    }
    return makeData({ type, ...base, data });
  }
  if (type instanceof Binary) {
    const values = rows.map((row) => row[i] === null ? null : row[i] as Uint8Array);
    return vectorFromArray(values, type).data[0];
  }
  const text = rows.map((row) => {
    const v = row[i];
    if (v === null || v === undefined) return null;
    return t?.base === "JSON" && typeof v !== "string" ? JSON.stringify(v) : String(v);
  });
  return vectorFromArray(text, new Utf8()).data[0];
}

/** Writes decimal text `s` scaled to `scale` as a 128-bit two's-complement little-endian value. */
function putDecimal(out: Uint32Array, row: number, s: string, scale: number): void {
  const negative = s.startsWith("-");
  const digits = negative ? s.slice(1) : s;
  const [whole, frac = ""] = digits.split(".");
  let n = BigInt((whole || "0") + frac.padEnd(scale, "0").slice(0, scale));
  if (negative) n = -n;
  const mask = (1n << 128n) - 1n;
  let u = n & mask;
  for (let w = 0; w < 4; w++) {
    out[row * 4 + w] = Number(u & 0xffffffffn);
    u >>= 32n;
  }
}
