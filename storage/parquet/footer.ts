// Reading a segment's footer into our model: the SQL types of its columns (from the
// `kalamdb.columns` note, else derived from the Parquet schema) and the stats of each row group
// and of the whole segment as our values. hyparquet is asked to keep byte-array bounds raw, since
// only the column's type says whether they are text, bytes or a DECIMAL.

import {
  type FileMetaData,
  parquetMetadata,
  type ParquetParsers,
  type SchemaElement,
} from "hyparquet";
import type { TypeName, Value } from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import type { ColumnStats, RowGroupInfo, SegmentColumn, SegmentMetadata } from "./segment.ts";
import {
  boundValue,
  type ColumnPlan,
  compareBounds,
  daysToDate,
  planFromElement,
} from "./types.ts";

/** Key of the footer note that records each column's SQL type. */
export const SCHEMA_KEY = "kalamdb.columns";

// Footer bounds: byte arrays stay raw (their meaning depends on the column), times in our units.
const FOOTER_PARSERS: Partial<ParquetParsers> = {
  stringFromBytes: (bytes) => bytes,
  timestampFromMilliseconds: (ms) => ms * 1_000_000n,
  timestampFromMicroseconds: (us) => us * 1000n,
  timestampFromNanoseconds: (ns) => ns,
  dateFromDays: daysToDate,
};

/** A parsed footer: what callers see, plus what `decodeSegment` hands to hyparquet. */
export interface Footer {
  readonly metadata: SegmentMetadata;
  /** hyparquet's metadata with DECIMAL un-annotated, so pages yield raw unscaled values. */
  readonly file: FileMetaData;
  readonly plans: readonly ColumnPlan[];
}

const footers = new WeakMap<SegmentMetadata, Footer>();

/** The footer `metadata` was parsed from, when it came from `readFooter`. */
export function cachedFooter(metadata: SegmentMetadata): Footer | undefined {
  return footers.get(metadata);
}

/** Parses the footer of `bytes` into our model; throws STORAGE_ERROR when it is not Parquet. */
export function readFooter(bytes: Uint8Array): Footer {
  let raw: FileMetaData;
  try {
    raw = parquetMetadata(bytes, { parsers: FOOTER_PARSERS, geoparquet: false });
  } catch (e) {
    throw new DbError("STORAGE_ERROR", `Invalid Parquet segment: ${(e as Error).message}`);
  }
  const leaves = raw.schema.slice(1);
  if (leaves.some((e) => e.num_children)) {
    throw new DbError("STORAGE_ERROR", "Nested Parquet columns are not supported");
  }
  const declared = declaredTypes(raw);
  const plans = leaves.map((e) => planFromElement(e, declared.get(e.name)));

  let rowStart = 0;
  const rowGroups = raw.row_groups.map((g, index): RowGroupInfo => {
    const rowCount = Number(g.num_rows);
    const columns: Record<string, ColumnStats> = {};
    g.columns.forEach((chunk, j) => {
      const s = chunk.meta_data?.statistics;
      const plan = plans[j];
      columns[plan.name] = {
        min: boundValue(s?.min_value, plan),
        max: boundValue(s?.max_value, plan),
        nullCount: s?.null_count === undefined ? null : Number(s.null_count),
      };
    });
    let byteSize = 0;
    for (const c of g.columns) byteSize += Number(c.meta_data?.total_compressed_size ?? 0);
    const info = { index, rowStart, rowCount, byteSize, columns };
    rowStart += rowCount;
    return info;
  });

  const segmentColumns: Record<string, ColumnStats> = {};
  for (const plan of plans) segmentColumns[plan.name] = mergeStats(rowGroups, plan);
  const seq = segmentColumns._seq;
  const rowCount = Number(raw.num_rows);
  const metadata: SegmentMetadata = {
    columns: plans.map((p) => ({ name: p.name, type: p.type })),
    rowGroups,
    stats: {
      rowCount,
      byteSize: bytes.byteLength,
      minSeq: typeof seq?.min === "bigint" ? seq.min : null,
      maxSeq: typeof seq?.max === "bigint" ? seq.max : null,
      columns: segmentColumns,
    },
  };
  const schema = raw.schema.map((e): SchemaElement =>
    e.converted_type === "DECIMAL" ? { ...e, converted_type: undefined } : e
  );
  const footer = { metadata, file: { ...raw, schema }, plans };
  footers.set(metadata, footer);
  return footer;
}

function declaredTypes(raw: FileMetaData): Map<string, TypeName> {
  const value = raw.key_value_metadata?.find((kv) => kv.key === SCHEMA_KEY)?.value;
  const types = new Map<string, TypeName>();
  if (!value) return types;
  try {
    for (const c of JSON.parse(value) as SegmentColumn[]) types.set(c.name, c.type);
  } catch {
    // A foreign or damaged note: fall back to the Parquet types.
  }
  return types;
}

function mergeStats(groups: readonly RowGroupInfo[], plan: ColumnPlan): ColumnStats {
  const decimal = plan.type.base === "DECIMAL";
  let min: Value = null;
  let max: Value = null;
  let nullCount: number | null = 0;
  let unknown = false;
  for (const g of groups) {
    const s = g.columns[plan.name];
    nullCount = s.nullCount === null || nullCount === null ? null : nullCount + s.nullCount;
    if (s.nullCount === g.rowCount) continue; // all null: no bound to merge
    if (s.min === null || s.max === null) {
      unknown = true;
      continue;
    }
    if (min === null || compareBounds(s.min, min, decimal) < 0) min = s.min;
    if (max === null || compareBounds(s.max, max, decimal) > 0) max = s.max;
  }
  return unknown ? { min: null, max: null, nullCount } : { min, max, nullCount };
}
