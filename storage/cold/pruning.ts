// Pure pieces of the cold tier: statistics pruning of segments, the manifest's record of a new
// segment, buffer row ids back as values, and the object-store configuration of a storage.

import type { ColumnRange, Value } from "../../sql/mod.ts";
import type { StorageInfo, TableInfo } from "../hot/mod.ts";
import type { SegmentInfo } from "./manifest.ts";
import type { ObjectStoreConfig } from "../object_store/mod.ts";
import { compareBounds, type RowGroupInfo, type SegmentStats } from "../parquet/mod.ts";

/** False when a segment's statistics prove no row can satisfy every range. */
export function mayMatch(
  table: TableInfo,
  seg: SegmentInfo,
  ranges: readonly ColumnRange[],
): boolean {
  return boundsMayMatch(table, ranges, (col) => {
    if (col.name === "_seq") return [seg.minSeq, seg.maxSeq];
    const st = seg.stats.get(col.id);
    return st && [st.min, st.max];
  });
}

/**
 * False when one row group's statistics prove no row can satisfy every range; `names` maps
 * column ids to the segment's column names.
 */
export function groupMayMatch(
  table: TableInfo,
  group: RowGroupInfo,
  names: ReadonlyMap<number, string>,
  ranges: readonly ColumnRange[],
): boolean {
  return boundsMayMatch(table, ranges, (col) => {
    const st = group.columns[col.name === "_seq" ? "_seq" : names.get(col.id) ?? ""];
    return st && [st.min, st.max];
  });
}

function boundsMayMatch(
  table: TableInfo,
  ranges: readonly ColumnRange[],
  boundsOf: (col: { id: number; name: string }) => [Value, Value] | undefined,
): boolean {
  for (const r of ranges) {
    const col = table.schema.columns[r.column];
    const b = boundsOf(col);
    if (!b) continue;
    const [min, max] = b;
    if (min === null || max === null) continue; // unknown bounds: never prune on them
    const decimal = col.type.base === "DECIMAL";
    let cmpMin: number, cmpMax: number;
    try {
      cmpMin = compareBounds(r.value, min, decimal);
      cmpMax = compareBounds(r.value, max, decimal);
    } catch {
      continue;
    }
    const excluded = r.op === "="
      ? cmpMin < 0 || cmpMax > 0
      : r.op === "<"
      ? cmpMin <= 0
      : r.op === "<="
      ? cmpMin < 0
      : r.op === ">"
      ? cmpMax >= 0
      : cmpMax > 0;
    if (excluded) return false;
  }
  return true;
}

/** A buffer row id back in its column's value type (integers come back from SQLite as bigint). */
export function keyFromRowId(v: unknown, type: string): Value {
  if (type === "SMALLINT" || type === "INT") return Number(v);
  if (type === "BIGINT" || type === "TIMESTAMP") return BigInt(v as bigint);
  if (type === "BOOLEAN") return Number(v) === 1;
  if (type === "REAL" || type === "DOUBLE") return Number(v);
  return v as Value;
}

/** The manifest's record of a freshly encoded segment. */
export function segmentInfo(
  table: TableInfo,
  file: string,
  rows: number,
  bytes: Uint8Array,
  stats: SegmentStats,
): SegmentInfo {
  return {
    file,
    rows,
    bytes: bytes.byteLength,
    minSeq: stats.minSeq ?? 0n,
    maxSeq: stats.maxSeq ?? 0n,
    columns: table.columns.map((c) => ({ id: c.id, name: c.name })),
    stats: new Map(
      table.columns.map((c) => {
        const s = stats.columns[c.name];
        return [c.id, { min: s?.min ?? null, max: s?.max ?? null, nulls: s?.nullCount ?? 0 }];
      }),
    ),
  };
}

export function storeConfig(info: StorageInfo, secret: string | null): ObjectStoreConfig {
  if (info.type === "filesystem") {
    return { kind: "filesystem", root: info.config.PATH };
  }
  const credentials = JSON.parse(secret ?? "{}");
  return {
    kind: "s3",
    endpoint: info.config.ENDPOINT ??
      `https://s3.${info.config.REGION ?? "us-east-1"}.amazonaws.com`,
    bucket: info.config.BUCKET,
    region: info.config.REGION ?? "us-east-1",
    credentials: {
      accessKeyId: String(credentials.access_key_id ?? credentials.accessKeyId ?? ""),
      secretAccessKey: String(credentials.secret_access_key ?? credentials.secretAccessKey ?? ""),
    },
  };
}
