// Parquet segments of the cold tier: rows in, bytes out and back, no I/O. A segment holds one
// flush (or compaction) of one scope: the table's columns plus `_seq` and `_deleted`, in
// row groups whose footer stats let a reader skip groups before decoding them. Values come back
// exactly in our value model (bigint nanoseconds, exact DECIMAL text, Uint8Array bytes); the
// per-type layout is in _parquet_types.ts, footer parsing in _parquet_footer.ts. The SQL types
// are also kept in the footer under `kalamdb.columns`, so a reader needs no catalog to decode an
// old segment.

import { ByteWriter, type ColumnSource, ParquetWriter } from "hyparquet-writer";
import {
  type AsyncBuffer,
  type ColumnData,
  type Compressors,
  type ParquetParsers,
  parquetRead,
} from "hyparquet";
import { compressors as decompressors } from "hyparquet-compressors";
import { zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { compareValues, type TypeName, type Value } from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import {
  chunkValues,
  columnData,
  type ColumnPlan,
  compareBounds,
  daysToDate,
  planColumn,
  schemaElement,
} from "./types.ts";
import { cachedFooter, readFooter, SCHEMA_KEY } from "./footer.ts";

export { compareBounds };

/** A column of a segment. */
export interface SegmentColumn {
  readonly name: string;
  readonly type: TypeName;
}

/**
 * Min, max and null count of a column over some rows. `min`/`max` are null when the rows have
 * no non-null value (then `nullCount` equals the row count) or when no trustworthy bound is
 * known (DECIMAL stored as text, or a file without stats): never prune on a null bound. TEXT,
 * JSON and BYTES bounds longer than 64 bytes are truncated, which keeps them valid bounds
 * (min ≤ every value ≤ max) but not necessarily values that occur; text orders by code point
 * (see `compareBounds`).
 */
export interface ColumnStats {
  readonly min: Value;
  readonly max: Value;
  /** Null when the file does not say. */
  readonly nullCount: number | null;
}

/** What a manifest records about a segment. */
export interface SegmentStats {
  readonly rowCount: number;
  readonly byteSize: number;
  /** Null only for a segment of 0 rows. */
  readonly minSeq: bigint | null;
  readonly maxSeq: bigint | null;
  readonly columns: Readonly<Record<string, ColumnStats>>;
}

/** One row group: rows `[rowStart, rowStart + rowCount)` of the segment. */
export interface RowGroupInfo {
  readonly index: number;
  readonly rowStart: number;
  readonly rowCount: number;
  /** Compressed bytes of the group's column chunks. */
  readonly byteSize: number;
  readonly columns: Readonly<Record<string, ColumnStats>>;
}

/** The footer of a segment, for pruning before reading. */
export interface SegmentMetadata {
  readonly columns: readonly SegmentColumn[];
  readonly rowGroups: readonly RowGroupInfo[];
  readonly stats: SegmentStats;
}

export interface EncodeOptions {
  /** Rows per row group (default 16,384): the unit a reader can skip. */
  readonly rowGroupSize?: number;
  /** Page compression (default ZSTD, level 3). */
  readonly compression?: "ZSTD" | "SNAPPY";
}

export interface DecodeOptions {
  /** Columns to read, in the order wanted (default: all, in file order). */
  readonly columns?: readonly string[];
  /** Keeps a row group when it returns true; groups it rejects are not decoded. */
  readonly rowFilter?: (group: RowGroupInfo) => boolean;
  /** The result of `segmentMetadata(bytes)`, to skip parsing the footer again. */
  readonly metadata?: SegmentMetadata;
}

/**
 * A segment read in ranges (its bytes stay where they are): the file's size and a reader of
 * `[start, end)`. The caller does the I/O; this room only asks for ranges.
 */
export interface SegmentFile {
  readonly byteLength: number;
  slice(start: number, end: number): Promise<Uint8Array>;
}

/** Bytes read from a segment's end to find its footer in one read (most footers are smaller). */
const FOOTER_GUESS = 64 * 1024;

export interface DecodedSegment {
  readonly columns: string[];
  readonly rows: Value[][];
}

export const DEFAULT_ROW_GROUP_SIZE = 16_384;
/** Bytes kept of a TEXT / BYTES min or max in the footer: whole UUIDs and short keys. */
const STATS_TRUNCATE_LENGTH = 64;
const SYSTEM_COLUMNS: Readonly<Record<string, TypeName["base"]>> = {
  _seq: "BIGINT",
  _deleted: "BOOLEAN",
};

const compressors = { ZSTD: (input: Uint8Array) => zstdCompressSync(input) };
// Deno's native zstd reads segments about twice as fast as the JavaScript fzstd in
// hyparquet-compressors, which stays the decoder of every other codec.
const readCompressors: Compressors = {
  ...decompressors,
  ZSTD: (input: Uint8Array) => zstdDecompressSync(input),
};

/** Names are unique and both system columns are there with their types. */
function checkColumns(columns: readonly SegmentColumn[]): void {
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) {
      throw new DbError("INTERNAL_ERROR", `Segment column "${c.name}" appears twice`);
    }
    seen.add(c.name);
  }
  for (const [name, base] of Object.entries(SYSTEM_COLUMNS)) {
    const c = columns.find((c) => c.name === name);
    if (c?.type.base !== base) {
      throw new DbError("INTERNAL_ERROR", `A segment needs system column ${name} ${base}`);
    }
  }
}

/**
 * Encodes rows (arrays in `columns` order, including `_seq` and `_deleted`) as one Parquet
 * segment and returns its bytes with the stats a manifest records. 0 rows make a valid segment
 * (schema, no row groups) whose `minSeq`/`maxSeq` are null; a flush with nothing to write should
 * not call this, but compaction may.
 *
 * @example
 * const { bytes, stats } = encodeSegment(
 *   [{ name: "id", type: { base: "BIGINT" } }, { name: "_seq", type: { base: "BIGINT" } },
 *    { name: "_deleted", type: { base: "BOOLEAN" } }],
 *   [[1n, 7n, false]],
 * );
 * stats.maxSeq; // 7n
 */
export function encodeSegment(
  columns: readonly SegmentColumn[],
  rows: readonly (readonly Value[])[],
  options: EncodeOptions = {},
): { bytes: Uint8Array; stats: SegmentStats } {
  const encoder = new SegmentEncoder(columns, options);
  encoder.write(rows);
  return encoder.finish();
}

/**
 * A segment written in batches of rows (the flush encodes row groups while later rows are still
 * being read); each `write` becomes whole row groups of at most `rowGroupSize` rows, so callers
 * pass batches of that size to get full groups.
 */
export class SegmentEncoder {
  readonly #columns: readonly SegmentColumn[];
  readonly #plans: ColumnPlan[];
  readonly #elements: ReturnType<typeof schemaElement>[];
  readonly #writer = new ByteWriter(1 << 16);
  readonly #pq: ParquetWriter;
  readonly #rowGroupSize: number;
  /** DECIMAL text columns: exact bounds are kept from the rows (see withExactDecimalBounds). */
  readonly #unordered: number[];
  #bounds = new Map<number, { min: Value; max: Value }>();
  /** The row group `append` is building: values per column, and how many rows. */
  #building: unknown[][] = [];
  #built = 0;

  constructor(columns: readonly SegmentColumn[], options: EncodeOptions = {}) {
    checkColumns(columns);
    const rowGroupSize = options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
    if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) {
      throw new DbError("INTERNAL_ERROR", `Invalid row group size ${rowGroupSize}`);
    }
    this.#columns = columns;
    this.#rowGroupSize = rowGroupSize;
    this.#plans = columns.map((c) => planColumn(c.name, c.type, c.name in SYSTEM_COLUMNS));
    this.#elements = this.#plans.map(schemaElement);
    this.#unordered = this.#plans.flatMap((p, j) => (p.unordered ? [j] : []));
    this.#pq = new ParquetWriter({
      writer: this.#writer,
      schema: [{ name: "root", num_children: columns.length }, ...this.#elements],
      codec: options.compression ?? "ZSTD",
      compressors,
      statisticsTruncateLength: STATS_TRUNCATE_LENGTH,
      kvMetadata: [{
        key: SCHEMA_KEY,
        value: JSON.stringify(columns.map((c) => ({ name: c.name, type: c.type }))),
      }],
      createdBy: "kalamdb-ts (hyparquet-writer 0.17.0)",
    });
  }

  /** Encodes `rows` (full rows in column order) as the next row groups. */
  write(rows: readonly (readonly Value[])[]): void {
    if (rows.length === 0) return;
    this.#checkWidth(rows);
    this.#encode(
      this.#plans.map((plan, j) => ({ name: plan.name, data: columnData(rows, j, plan) })),
    );
    for (const j of this.#unordered) {
      const b = exactBounds(rows, j, this.#bounds.get(j) ?? { min: null, max: null });
      this.#bounds.set(j, b);
    }
  }

  /**
   * Adds rows to the row group being built, as column values (the row objects are not kept);
   * a full group is encoded. For a segment streamed out with `takeBytes` / `finishTail`: exact
   * DECIMAL bounds are not kept.
   */
  append(rows: readonly (readonly Value[])[]): void {
    if (rows.length === 0) return;
    this.#checkWidth(rows);
    const parts = this.#plans.map((plan, j) => columnData(rows, j, plan));
    for (let j = 0; j < parts.length; j++) {
      const to = this.#building[j] ??= [];
      for (const v of parts[j]) to.push(v);
    }
    this.#built += rows.length;
    while (this.#built >= this.#rowGroupSize) this.#encodeBuilt(this.#rowGroupSize);
  }

  /** Encodes the first `rows` rows (default all) `append` has built as one row group. */
  #encodeBuilt(rows = this.#built): void {
    if (rows === 0) return;
    const sources: ColumnSource[] = this.#plans.map((plan, j) => ({
      name: plan.name,
      data: this.#building[j].splice(0, rows),
    }));
    this.#built -= rows;
    this.#encode(sources);
  }

  /**
   * The bytes encoded since the last call, which the encoder then forgets: a writer that streams
   * the file out calls it after each `write` and keeps at most a row group in memory. A segment
   * drained this way ends with `finishTail`, not `finish` (whose stats need the whole file).
   */
  takeBytes(): Uint8Array {
    const bytes = this.#writer.getBuffer();
    this.#writer.index = 0;
    return new Uint8Array(bytes);
  }

  /** Writes the footer and returns the bytes not taken yet (see `takeBytes`). */
  finishTail(): Uint8Array {
    this.#encodeBuilt();
    this.#writeFooter();
    return this.takeBytes();
  }

  /** Writes the footer; the segment's bytes and statistics. */
  finish(): { bytes: Uint8Array; stats: SegmentStats } {
    this.#writeFooter();
    const bytes = new Uint8Array(this.#writer.getBuffer());
    let stats = readFooter(bytes).metadata.stats;
    if (this.#unordered.length) {
      const columns = { ...stats.columns };
      for (const j of this.#unordered) {
        const name = this.#plans[j].name;
        columns[name] = { ...columns[name], ...(this.#bounds.get(j) ?? { min: null, max: null }) };
      }
      stats = { ...stats, columns };
    }
    return { bytes, stats };
  }

  #checkWidth(rows: readonly (readonly Value[])[]): void {
    const k = this.#columns.length;
    for (let i = 0; i < rows.length; i++) {
      if (rows[i].length !== k) {
        throw new DbError(
          "INTERNAL_ERROR",
          `Segment row ${i} has ${rows[i].length} of ${k} values`,
        );
      }
    }
  }

  #encode(sources: ColumnSource[]): void {
    try {
      this.#pq.write({ columnData: sources, rowGroupSize: this.#rowGroupSize });
    } catch (e) {
      if (e instanceof DbError) throw e;
      throw new DbError("INTERNAL_ERROR", `Cannot encode segment: ${(e as Error).message}`);
    }
  }

  #writeFooter(): void {
    // Pages are written: only the footer reads the schema from here on (see schemaElement).
    for (const e of this.#elements) if (e.logical_type?.type === "JSON") e.converted_type = "JSON";
    try {
      this.#pq.finish();
    } catch (e) {
      throw new DbError("INTERNAL_ERROR", `Cannot encode segment: ${(e as Error).message}`);
    }
  }
}

/** Column `j`'s bounds over `rows`, extending `from` (DECIMAL text compares by value). */
function exactBounds(
  rows: readonly (readonly Value[])[],
  j: number,
  from: { min: Value; max: Value },
): { min: Value; max: Value } {
  let { min, max } = from;
  for (const row of rows) {
    const v = row[j];
    if (v === null) continue;
    if (min === null || compareValues(v, min, true) < 0) min = v;
    if (max === null || compareValues(v, max, true) > 0) max = v;
  }
  return { min, max };
}

/**
 * Parses a segment's footer: columns with their SQL types, and each row group's range and
 * column stats, so a reader can choose groups before `decodeSegment`.
 *
 * @example
 * const meta = segmentMetadata(bytes);
 * const hot = meta.rowGroups.filter((g) => g.columns._seq.max! > since);
 */
export function segmentMetadata(bytes: Uint8Array): SegmentMetadata {
  return readFooter(bytes).metadata;
}

/** The footer of a segment read in ranges: one read of its tail, two when the footer is long. */
export async function segmentFileMetadata(file: SegmentFile): Promise<SegmentMetadata> {
  const size = file.byteLength;
  if (size < 12) throw new DbError("STORAGE_ERROR", `Invalid Parquet segment: ${size} bytes`);
  let tail = await file.slice(Math.max(0, size - FOOTER_GUESS), size);
  const length = new DataView(tail.buffer, tail.byteOffset, tail.byteLength)
    .getUint32(tail.length - 8, true);
  if (length + 8 > tail.length && length + 8 <= size) {
    tail = await file.slice(size - length - 8, size);
  }
  return readFooter(tail).metadata;
}

// ---------------------------------------------------------------- data

// Data pages: TEXT decodes to strings (hyparquet's default); JSON to its text, not parsed.
const textDecoder = new TextDecoder();
const DATA_PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (ms) => ms == null ? ms : ms * 1_000_000n,
  timestampFromMicroseconds: (us) => us == null ? us : us * 1000n,
  timestampFromNanoseconds: (ns) => ns,
  dateFromDays: (days) => days == null ? days : daysToDate(days),
  jsonFromBytes: (bytes) => bytes && textDecoder.decode(bytes),
};

/**
 * Decodes a segment's rows in our value model, reading only the asked columns and the row
 * groups `rowFilter` keeps (in segment order).
 *
 * @example
 * const { columns, rows } = await decodeSegment(bytes, {
 *   columns: ["id", "_seq"],
 *   rowFilter: (g) => g.columns.id.max === null || g.columns.id.max >= 100n,
 * });
 */
export async function decodeSegment(
  bytes: Uint8Array | SegmentFile,
  options: DecodeOptions = {},
): Promise<DecodedSegment> {
  const { names, length, values } = await decodeSegmentColumns(bytes, options);
  const rows: Value[][] = new Array(length);
  for (let i = 0; i < length; i++) {
    const row: Value[] = new Array(names.length);
    for (let j = 0; j < names.length; j++) row[j] = values[j][i] ?? null;
    rows[i] = row;
  }
  return { columns: names, rows };
}

/** A segment's rows column by column: `values[j][i]` is column `names[j]` of row `i`. */
export interface DecodedColumns {
  readonly names: string[];
  readonly length: number;
  /** Absent values are null or undefined (hyparquet's nulls): read them with `?? null`. */
  readonly values: readonly ArrayLike<Value>[];
}

/**
 * `decodeSegment` without building rows: one array per column (a reader that turns a row group
 * into a few rows at a time keeps no row objects alive across it).
 */
export async function decodeSegmentColumns(
  bytes: Uint8Array | SegmentFile,
  options: DecodeOptions = {},
): Promise<DecodedColumns> {
  const footer = (options.metadata && cachedFooter(options.metadata)) ??
    (bytes instanceof Uint8Array ? readFooter(bytes) : undefined);
  if (!footer) throw new DbError("INTERNAL_ERROR", "A ranged segment read needs its metadata");
  const { metadata, plans } = footer;
  const names = options.columns ? [...options.columns] : plans.map((p) => p.name);
  if (new Set(names).size !== names.length) {
    throw new DbError("INTERNAL_ERROR", `Segment columns asked twice: ${names.join(", ")}`);
  }
  const wanted = names.map((name) => {
    const j = plans.findIndex((p) => p.name === name);
    if (j < 0) throw new DbError("STORAGE_ERROR", `Segment has no column "${name}"`);
    return plans[j];
  });

  // Contiguous kept groups are read as one range.
  const ranges: [number, number][] = [];
  for (const g of metadata.rowGroups) {
    if (g.rowCount === 0 || (options.rowFilter && !options.rowFilter(g))) continue;
    const last = ranges.at(-1);
    if (last && last[1] === g.rowStart) last[1] += g.rowCount;
    else ranges.push([g.rowStart, g.rowStart + g.rowCount]);
  }
  let total = 0;
  for (const [a, b] of ranges) total += b - a;
  const values: ArrayLike<Value>[] = new Array(wanted.length);
  if (total === 0 || wanted.length === 0) {
    values.fill([]);
    return { names, length: total, values };
  }

  const position = new Map(wanted.map((p, j) => [p.name, j]));
  const file = bytes instanceof Uint8Array ? asyncBuffer(bytes) : rangedBuffer(bytes);
  let offset = 0;
  for (const [a, b] of ranges) {
    const base = offset;
    const onChunk = (chunk: ColumnData) => {
      const j = position.get(chunk.columnName)!;
      const from = chunkValues(chunk.columnData, wanted[j]) as ArrayLike<Value>;
      // One chunk that is the whole answer is kept as it came (typed arrays stay compact).
      if (chunk.rowStart === 0 && chunk.rowEnd === total && a === 0 && b === total) {
        values[j] = from;
        return;
      }
      const to = (values[j] ??= new Array(total).fill(null)) as Value[];
      const first = Math.max(chunk.rowStart, a);
      const end = Math.min(chunk.rowEnd, b);
      for (let r = first; r < end; r++) to[base + r - a] = from[r - chunk.rowStart] ?? null;
    };
    try {
      await parquetRead({
        file,
        metadata: footer.file,
        columns: names,
        rowStart: a,
        rowEnd: b,
        onChunk,
        compressors: readCompressors,
        utf8: false,
        parsers: DATA_PARSERS,
      });
    } catch (e) {
      throw new DbError("STORAGE_ERROR", `Cannot decode segment: ${(e as Error).message}`);
    }
    offset += b - a;
  }
  return { names, length: total, values };
}

function rangedBuffer(file: SegmentFile): AsyncBuffer {
  return {
    byteLength: file.byteLength,
    // A copy: hyparquet wants an ArrayBuffer of its own, and a store may return a view.
    slice: async (start, end) => (await file.slice(start, end ?? file.byteLength)).slice().buffer,
  };
}

function asyncBuffer(bytes: Uint8Array): AsyncBuffer {
  return {
    byteLength: bytes.byteLength,
    slice: (start, end) => bytes.slice(start, end).buffer as ArrayBuffer,
  };
}
