// Arrow answers (issue 17 item 5): `POST /v1/api/sql` with `Accept:
// application/vnd.apache.arrow.stream` gets one Arrow IPC stream per statement result, back to
// back, so pandas, Polars and DuckDB take results without JSON. Types map exactly: BOOLEAN bool,
// SMALLINT int16, INT int32, BIGINT int64, REAL float32, DOUBLE float64, DECIMAL(p,s)
// decimal128(p,s) (an unconstrained DECIMAL: precision 38 and the largest scale among its values),
// TIMESTAMP timestamp[ns, UTC], DATE date32, BYTES binary, TEXT / UUID / JSON utf8 (JSON as its
// text). Each stream's schema metadata carries the statement's `row_count`, `took_ms` and
// `message`; a statement without rows (DDL, DML without RETURNING) is a stream of no columns.
// Errors stay JSON.

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
  Table,
  TimestampNanosecond,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import type { TypeName, Value } from "../sql/mod.ts";
import type { StatementResult } from "../storage/mod.ts";

export const ARROW_STREAM = "application/vnd.apache.arrow.stream";

/** True when the request asks for Arrow (and did not ask for JSON first). */
export function wantsArrow(req: Request): boolean {
  const accept = req.headers.get("accept");
  return accept !== null && accept.toLowerCase().includes(ARROW_STREAM);
}

/** Rows per record batch: large results stream as several batches of one schema. */
const BATCH_ROWS = 65_536;
const MAX_PRECISION = 38;

/** The IPC stream bytes of every result, one stream after another. */
export function arrowBody(results: readonly StatementResult[]): Uint8Array<ArrayBuffer> {
  const parts = results.map(resultStream);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function resultStream(r: StatementResult): Uint8Array {
  const metadata = new Map([
    ["kalamdb.row_count", String(r.rowCount)],
    ["kalamdb.took_ms", String(Math.round(r.tookMs * 1000) / 1000)],
  ]);
  if (r.message !== undefined) metadata.set("kalamdb.message", r.message);
  const types = r.types ?? [];
  const rows = r.rows ?? [];
  const columns = (r.schema ?? []).map((c, i) => arrowType(types[i], rows, i));
  const fields = (r.schema ?? []).map((c, i) => new Field(c.name, columns[i], true));
  const schema = new Schema(fields, metadata);
  const batches: RecordBatch[] = [];
  for (
    let from = 0;
    from < rows.length || (from === 0 && batches.length === 0);
    from += BATCH_ROWS
  ) {
    const slice = rows.slice(from, from + BATCH_ROWS);
    const children = columns.map((t, i) => columnData(t, types[i], slice, i));
    const data = makeData({
      type: new Struct(fields),
      length: slice.length,
      nullCount: 0,
      children,
    });
    batches.push(new RecordBatch(schema, data));
    if (rows.length === 0) break;
  }
  const writer = RecordBatchStreamWriter.writeAll(new Table(schema, batches));
  return writer.toUint8Array(true);
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
    case "DECIMAL": {
      if (t.precision !== undefined) return new Decimal(t.scale ?? 0, t.precision, 128);
      let scale = 0;
      for (const row of rows) {
        const v = row[i];
        if (v === null) continue;
        const s = String(v);
        const dot = s.indexOf(".");
        if (dot >= 0) scale = Math.max(scale, s.length - dot - 1);
      }
      return new Decimal(Math.min(scale, MAX_PRECISION), MAX_PRECISION, 128);
    }
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

function columnData(
  type: DataType,
  t: TypeName | undefined,
  rows: readonly (readonly Value[])[],
  i: number,
): Data {
  const length = rows.length;
  const [nullBitmap, nullCount] = validity(rows, i);
  const base = { length, nullCount, nullBitmap };
  const each = <A extends { [k: number]: number | bigint }>(
    out: A,
    f: (v: Value) => number | bigint,
  ) => {
    for (let r = 0; r < length; r++) {
      const v = rows[r][i];
      if (v !== null && v !== undefined) out[r] = f(v);
    }
    return out;
  };
  if (type instanceof Bool) {
    const data = new Uint8Array((length + 7) >> 3);
    for (let r = 0; r < length; r++) if (rows[r][i] === true) data[r >> 3] |= 1 << (r & 7);
    return makeData({ type, ...base, data });
  }
  if (type instanceof Int16) {
    return makeData({ type, ...base, data: each(new Int16Array(length), Number) });
  }
  if (type instanceof Int32) {
    return makeData({ type, ...base, data: each(new Int32Array(length), Number) });
  }
  if (type instanceof Int64) {
    return makeData({
      type,
      ...base,
      data: each(new BigInt64Array(length), (v) => BigInt(v as number)),
    });
  }
  if (type instanceof Float32) {
    return makeData({ type, ...base, data: each(new Float32Array(length), Number) });
  }
  if (type instanceof Float64) {
    return makeData({ type, ...base, data: each(new Float64Array(length), Number) });
  }
  if (type instanceof TimestampNanosecond) {
    return makeData({
      type,
      ...base,
      data: each(new BigInt64Array(length), (v) => BigInt(v as bigint)),
    });
  }
  if (type instanceof DateDay) {
    const days = (v: Value) =>
      Math.floor(Date.parse(`${String(v).slice(0, 10)}T00:00:00Z`) / DAY_MS);
    return makeData({ type, ...base, data: each(new Int32Array(length), days) });
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
