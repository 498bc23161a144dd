// Binary row encoding for the write buffer and the change log: a MessagePack array of the user
// columns in the order of the schema version the row was written under. Decoding maps a stored
// version onto the current schema by stable column id, so rows written before ADD/DROP/RENAME
// COLUMN read correctly; values are normalised back to their type's representation.

import { Packr } from "msgpackr";
import type { BaseType, ColumnSchema, Value } from "../../sql/mod.ts";

const packr = new Packr(
  { useRecords: false, int64AsType: "bigint" } as ConstructorParameters<
    typeof Packr
  >[0],
);

/** A column as stored in the catalog: `fill` is what rows older than the column read. */
export interface StoredColumn extends ColumnSchema {
  readonly fill?: TaggedValue;
}

/** A Value in JSON-safe form (bigint and bytes tagged). */
export type TaggedValue = null | boolean | number | string | { b: string } | { x: string };

export function tagValue(v: Value): TaggedValue {
  if (typeof v === "bigint") return { b: v.toString() };
  if (v instanceof Uint8Array) return { x: btoa(String.fromCharCode(...v)) };
  return v;
}

export function untagValue(v: TaggedValue | undefined): Value {
  if (v === undefined || v === null) return null;
  if (typeof v === "object") {
    if ("b" in v) return BigInt(v.b);
    return Uint8Array.from(atob(v.x), (c) => c.charCodeAt(0));
  }
  return v;
}

/**
 * Encodes a row's values. Rows of plain values with ASCII text (nearly all rows) are written by a
 * small encoder that produces exactly msgpackr's bytes without its per-call setup; anything else
 * goes through msgpackr. Results are views into a shared buffer that is replaced, never reused,
 * when full, so earlier results stay valid.
 */
export function encodeRow(values: readonly Value[]): Uint8Array {
  return encodeFast(values) ?? packr.pack(values);
}

const CHUNK = 1 << 16;
let out = new Uint8Array(CHUNK);
let view = new DataView(out.buffer);
let pos = 0;

/** msgpackr's encoding of `values` (useRecords off), or undefined for what it does not cover. */
function encodeFast(values: readonly Value[]): Uint8Array | undefined {
  const n = values.length;
  if (n >= 0x10000) return undefined;
  reserve(values);
  const b = out;
  const start = pos;
  let p = pos;
  if (n < 0x10) b[p++] = 0x90 | n;
  else {
    b[p++] = 0xdc;
    b[p++] = n >> 8;
    b[p++] = n & 0xff;
  }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    switch (typeof v) {
      case "number":
        p = putNumber(b, p, v);
        break;
      case "string":
        p = putAscii(b, p, v);
        break;
      case "boolean":
        b[p++] = v ? 0xc3 : 0xc2;
        break;
      case "bigint":
        p = putBigInt(b, p, v);
        break;
      case "object":
        if (v === null) b[p++] = 0xc0;
        else if (v instanceof Uint8Array) p = putBytes(b, p, v);
        else return undefined;
        break;
      default:
        return undefined;
    }
    if (p < 0) return undefined; // a value only msgpackr encodes
  }
  pos = (p + 7) & ~7;
  return b.subarray(start, p);
}

/** Makes room for the largest encoding `values` can have, in a fresh chunk when needed. */
function reserve(values: readonly Value[]): void {
  const n = values.length;
  let max = 3;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === "string") max += 5 + v.length;
    else if (v instanceof Uint8Array) max += 5 + v.length;
    else max += 9;
  }
  if (pos + max > out.length) {
    out = new Uint8Array(Math.max(CHUNK, max));
    view = new DataView(out.buffer);
    pos = 0;
  }
}

// The per-type encoders write at `p` into `b` (the current chunk, `view` over it) and return
// the position after what they wrote, or -1 for a value msgpackr must encode.

function putNumber(b: Uint8Array, p: number, v: number): number {
  if (v >>> 0 === v) {
    if (v < 0x80) b[p++] = v;
    else if (v < 0x100) {
      b[p++] = 0xcc;
      b[p++] = v;
    } else if (v < 0x10000) {
      b[p++] = 0xcd;
      b[p++] = v >> 8;
      b[p++] = v & 0xff;
    } else {
      b[p++] = 0xce;
      view.setUint32(p, v);
      p += 4;
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) b[p++] = 0x100 + v;
    else if (v >= -0x80) {
      b[p++] = 0xd0;
      b[p++] = v + 0x100;
    } else if (v >= -0x8000) {
      b[p++] = 0xd1;
      view.setInt16(p, v);
      p += 2;
    } else {
      b[p++] = 0xd2;
      view.setInt32(p, v);
      p += 4;
    }
  } else {
    b[p++] = 0xcb;
    view.setFloat64(p, v);
    p += 8;
  }
  return p;
}

function putAscii(b: Uint8Array, p: number, v: string): number {
  const len = v.length;
  const h = len < 0x20 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
  const body = p + h;
  for (let j = 0; j < len; j++) {
    const c = v.charCodeAt(j);
    if (c > 0x7f) return -1; // UTF-8 is msgpackr's job
    b[body + j] = c;
  }
  if (h === 1) b[p] = 0xa0 | len;
  else if (h === 2) {
    b[p] = 0xd9;
    b[p + 1] = len;
  } else if (h === 3) {
    b[p] = 0xda;
    b[p + 1] = len >> 8;
    b[p + 2] = len & 0xff;
  } else {
    b[p] = 0xdb;
    view.setUint32(p + 1, len);
  }
  return body + len;
}

function putBigInt(b: Uint8Array, p: number, v: bigint): number {
  if (v < -0x8000000000000000n || v >= 0x8000000000000000n) return -1;
  b[p] = 0xd3;
  view.setBigInt64(p + 1, v);
  return p + 9;
}

function putBytes(b: Uint8Array, p: number, v: Uint8Array): number {
  const len = v.length;
  if (len < 0x100) {
    b[p++] = 0xc4;
    b[p++] = len;
  } else if (len < 0x10000) {
    b[p++] = 0xc5;
    b[p++] = len >> 8;
    b[p++] = len & 0xff;
  } else {
    b[p++] = 0xc6;
    view.setUint32(p, len);
    p += 4;
  }
  b.set(v, p);
  return p + len;
}

type Fix = (v: unknown) => Value;
const toBig: Fix = (v) => (typeof v === "number" ? BigInt(v) : v as Value);
const toNum: Fix = (v) => (typeof v === "bigint" ? Number(v) : v as Value);
const toBytes: Fix = (v) =>
  v instanceof Uint8Array && v.constructor !== Uint8Array ? new Uint8Array(v) : v as Value;
const FIXES: Partial<Record<BaseType, Fix>> = {
  BIGINT: toBig,
  TIMESTAMP: toBig,
  SMALLINT: toNum,
  INT: toNum,
  REAL: toNum,
  DOUBLE: toNum,
  BYTES: toBytes,
};

/**
 * Decodes rows stored under `stored` columns into `current` column order. The result is a fresh
 * array the caller owns (it may append the system columns to it).
 */
export type RowDecoder = (data: Uint8Array) => Value[];

export function makeDecoder(
  stored: readonly StoredColumn[],
  current: readonly StoredColumn[],
): RowDecoder {
  const plan = current.map((col) => {
    const from = stored.findIndex((s) => s.id === col.id);
    return { from, fill: untagValue(col.fill), fix: FIXES[col.type.base] };
  });
  const n = plan.length;
  const remap = (raw: unknown[]): Value[] => {
    const out = new Array<Value>(n);
    for (let i = 0; i < n; i++) {
      const p = plan[i];
      if (p.from < 0) {
        out[i] = p.fill;
        continue;
      }
      const v = raw[p.from] as Value;
      out[i] = v === null || v === undefined ? null : p.fix ? p.fix(v) : v;
    }
    return out;
  };
  if (stored.length === n && plan.every((p, i) => p.from === i)) {
    // Same columns in the same order (the common case: the current version): normalise the
    // unpacked array in place instead of copying it.
    const fixes = plan.map((p) => p.fix);
    return (data) => {
      const raw = packr.unpack(data) as Value[];
      if (raw.length !== n) return remap(raw);
      for (let i = 0; i < n; i++) {
        const v = raw[i];
        if (v === undefined) raw[i] = null;
        else if (v !== null) {
          const fix = fixes[i];
          if (fix) raw[i] = fix(v);
        }
      }
      return raw;
    };
  }
  return (data) => remap(packr.unpack(data) as unknown[]);
}
