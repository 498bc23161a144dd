// Binary row encoding for the write buffer and the change log: a MessagePack array of the user
// columns in the order of the schema version the row was written under. Decoding maps a stored
// version onto the current schema by stable column id, so rows written before ADD/DROP/RENAME
// COLUMN read correctly; values are normalised back to their type's representation.

import { Packr } from "msgpackr";
import type { BaseType } from "../sql/ast.ts";
import type { ColumnSchema, Value } from "../sql/values.ts";

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

export function encodeRow(values: readonly Value[]): Uint8Array {
  return packr.pack(values);
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

/** Decodes rows stored under `stored` columns into `current` column order. */
export type RowDecoder = (data: Uint8Array) => Value[];

export function makeDecoder(
  stored: readonly StoredColumn[],
  current: readonly StoredColumn[],
): RowDecoder {
  const plan = current.map((col) => {
    const from = stored.findIndex((s) => s.id === col.id);
    return { from, fill: untagValue(col.fill), fix: FIXES[col.type.base] };
  });
  return (data) => {
    const raw = packr.unpack(data) as unknown[];
    const out = new Array<Value>(plan.length);
    for (let i = 0; i < plan.length; i++) {
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
}
