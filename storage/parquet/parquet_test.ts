// Tests of Parquet segments: exact round trips of every type, projection, row-group stats and
// pruning, empty segments, errors, and that another reader (DuckDB) reads the same bytes.

import { parquetMetadata } from "hyparquet";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  compareBounds,
  decodeSegment,
  encodeSegment,
  type SegmentColumn,
  segmentMetadata,
} from "./segment.ts";
import { parseTimestamp, type Value } from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../tests/_util.ts";

/** Expects `fn` to throw (or reject with) a DbError whose message includes `text`. */
async function assertDbError(fn: () => unknown, text: string): Promise<void> {
  const err = await assertRejects(fn);
  assert(err instanceof DbError, `expected a DbError, got ${err}`);
  assertStringIncludes(err.message, text);
}

const SYS: SegmentColumn[] = [
  { name: "_seq", type: { base: "BIGINT" } },
  { name: "_deleted", type: { base: "BOOLEAN" } },
];

const ALL_TYPES: SegmentColumn[] = [
  { name: "b", type: { base: "BOOLEAN" } },
  { name: "s", type: { base: "SMALLINT" } },
  { name: "i", type: { base: "INT" } },
  { name: "big", type: { base: "BIGINT" } },
  { name: "r", type: { base: "REAL" } },
  { name: "d", type: { base: "DOUBLE" } },
  { name: "dec", type: { base: "DECIMAL", precision: 12, scale: 3 } },
  { name: "wide", type: { base: "DECIMAL", precision: 38, scale: 10 } },
  { name: "free", type: { base: "DECIMAL" } },
  { name: "t", type: { base: "TEXT" } },
  { name: "u", type: { base: "UUID" } },
  { name: "j", type: { base: "JSON" } },
  { name: "by", type: { base: "BYTES" } },
  { name: "dt", type: { base: "DATE" } },
  { name: "ts", type: { base: "TIMESTAMP" } },
  ...SYS,
];

const ts = (text: string) => parseTimestamp(text)!;

const ALL_ROWS: Value[][] = [
  [
    true,
    -32768,
    2147483647,
    2n ** 63n - 1n,
    Math.fround(1.1),
    0.1 + 0.2,
    "1.500",
    "1234567890123456789012345678.0123456789",
    "123456789012345678901234567890.000001",
    "",
    "0f8fad5b-d9cb-469f-a165-70867728950e",
    '{"a":[1,2.5,"x"],"b":null}',
    new Uint8Array(0),
    "1969-12-31",
    ts("1969-07-20T20:17:40.123456789Z"),
    1n,
    false,
  ],
  [
    false,
    32767,
    -2147483648,
    -(2n ** 63n),
    -Infinity,
    1e308,
    "-0.010",
    "-0.0000000001",
    "-7",
    "héllo wörld 😀 \u{10FFFF} 中文",
    "00000000-0000-0000-0000-000000000000",
    '"just a string"',
    new Uint8Array([0, 255, 1, 128]),
    "0001-01-01",
    -1n,
    2n,
    true,
  ],
  [
    null,
    null,
    null,
    2n ** 53n + 1n,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    "null",
    null,
    null,
    -1_000_000_001n,
    3n,
    false,
  ],
  [
    true,
    0,
    0,
    0n,
    0,
    -123.456,
    "0.000",
    "0.0000000000",
    "0.10",
    "a\u0000b\nc",
    null,
    null,
    new Uint8Array([7]),
    "9999-12-31",
    null,
    4n,
    false,
  ],
  [
    null,
    1,
    42,
    -(2n ** 53n) - 3n,
    3.5,
    Number.MIN_VALUE,
    "999999999.999",
    "9999999999999999999999999999.9999999999",
    "1000",
    " spaced ",
    null,
    "[]",
    null,
    "2024-02-29",
    ts("2262-04-11T23:47:16.854775807Z"),
    2n ** 62n,
    true,
  ],
];

Deno.test("round trip keeps every type exactly, nulls included", async () => {
  const { bytes, stats } = encodeSegment(ALL_TYPES, ALL_ROWS);
  const out = await decodeSegment(bytes);
  assertEquals(out.columns, ALL_TYPES.map((c) => c.name));
  assertEquals(out.rows, ALL_ROWS);
  assertEquals(stats.rowCount, 5);
  assertEquals(stats.byteSize, bytes.byteLength);
  assertEquals([stats.minSeq, stats.maxSeq], [1n, 2n ** 62n]);
  assertEquals(stats.columns.big, { min: -(2n ** 63n), max: 2n ** 63n - 1n, nullCount: 0 });
  assertEquals(stats.columns.ts, {
    min: ts("1969-07-20T20:17:40.123456789Z"),
    max: ts("2262-04-11T23:47:16.854775807Z"),
    nullCount: 1,
  });
  assertEquals(stats.columns.dec, { min: "-0.010", max: "999999999.999", nullCount: 1 });
  assertEquals(stats.columns.wide, {
    min: "-0.0000000001",
    max: "9999999999999999999999999999.9999999999",
    nullCount: 1,
  });
  // DECIMAL without precision is stored as text; its bounds are still numeric.
  assertEquals(stats.columns.free, {
    min: "-7",
    max: "123456789012345678901234567890.000001",
    nullCount: 1,
  });
  assertEquals(stats.columns.dt, { min: "0001-01-01", max: "9999-12-31", nullCount: 1 });
  assertEquals(stats.columns.t.min, "");
  assertEquals(stats.columns.by, {
    min: new Uint8Array(0),
    max: new Uint8Array([7]),
    nullCount: 2,
  });
  assertEquals(stats.columns.b, { min: false, max: true, nullCount: 2 });
  assertEquals(stats.columns.r, { min: -Infinity, max: 3.5, nullCount: 1 });
});

Deno.test("SNAPPY segments round trip too", async () => {
  const { bytes } = encodeSegment(ALL_TYPES, ALL_ROWS, { compression: "SNAPPY" });
  assertEquals(parquetMetadata(bytes).row_groups[0].columns[0].meta_data?.codec, "SNAPPY");
  assertEquals((await decodeSegment(bytes)).rows, ALL_ROWS);
});

function numbered(n: number): { columns: SegmentColumn[]; rows: Value[][] } {
  const columns: SegmentColumn[] = [
    { name: "id", type: { base: "BIGINT" } },
    { name: "title", type: { base: "TEXT" } },
    { name: "n", type: { base: "INT" } },
    { name: "at", type: { base: "TIMESTAMP" } },
    ...SYS,
  ];
  const rows: Value[][] = [];
  for (let i = 0; i < n; i++) {
    rows.push([
      BigInt(i) * 1000n,
      i % 4 === 3 ? null : `title ${String(i).padStart(3, "0")}`,
      i % 7,
      1_700_000_000_000_000_000n + BigInt(i) * 1_000_000_007n,
      1000n + BigInt(i),
      i % 5 === 0,
    ]);
  }
  return { columns, rows };
}

Deno.test("projection returns only the asked columns, in the asked order", async () => {
  const { columns, rows } = numbered(50);
  const { bytes } = encodeSegment(columns, rows);
  const out = await decodeSegment(bytes, { columns: ["at", "id"] });
  assertEquals(out.columns, ["at", "id"]);
  assertEquals(out.rows, rows.map((r) => [r[3], r[0]]));

  // Proof that other columns are not read: wreck the `title` chunk, the projection still works.
  const meta = parquetMetadata(bytes).row_groups[0].columns[1].meta_data!;
  const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
  const wrecked = bytes.slice();
  wrecked.fill(0xee, start, start + Number(meta.total_compressed_size));
  assertEquals((await decodeSegment(wrecked, { columns: ["at", "id"] })).rows, out.rows);
  await assertDbError(() => decodeSegment(wrecked, { columns: ["title"] }), "decode");

  assertEquals((await decodeSegment(bytes, { columns: [] })).rows.length, 50);
  await assertDbError(() => decodeSegment(bytes, { columns: ["nope"] }), "nope");
});

Deno.test("row groups carry correct stats and can be skipped", async () => {
  const { columns, rows } = numbered(10);
  const { bytes, stats } = encodeSegment(columns, rows, { rowGroupSize: 3 });
  const meta = segmentMetadata(bytes);
  assertEquals(meta.columns, columns);
  assertEquals(meta.stats, stats);
  assertEquals(
    meta.rowGroups.map((g) => [g.index, g.rowStart, g.rowCount]),
    [[0, 0, 3], [1, 3, 3], [2, 6, 3], [3, 9, 1]],
  );
  assertEquals(meta.rowGroups[1].columns.id, { min: 3000n, max: 5000n, nullCount: 0 });
  assertEquals(meta.rowGroups[1].columns.title, {
    min: "title 004",
    max: "title 005",
    nullCount: 1,
  });
  assertEquals(meta.rowGroups[2].columns.at.min, rows[6][3]);
  assertEquals(meta.rowGroups[3].columns._seq, { min: 1009n, max: 1009n, nullCount: 0 });
  assertEquals(meta.rowGroups[0].columns._deleted, { min: false, max: true, nullCount: 0 });
  assert(meta.rowGroups.every((g) => g.byteSize > 0));

  assertEquals(stats.rowCount, 10);
  assertEquals([stats.minSeq, stats.maxSeq], [1000n, 1009n]);
  assertEquals(stats.columns.id, { min: 0n, max: 9000n, nullCount: 0 });
  assertEquals(stats.columns.title, { min: "title 000", max: "title 009", nullCount: 2 });
  assertEquals(stats.columns.n, { min: 0, max: 6, nullCount: 0 });

  // Keep groups 1 and 3 (not adjacent): exactly their rows come back, in order.
  const seen: number[] = [];
  const out = await decodeSegment(bytes, {
    metadata: meta,
    rowFilter: (g) => {
      seen.push(g.index);
      return g.index === 1 || g.columns._seq.min === 1009n;
    },
  });
  assertEquals(seen, [0, 1, 2, 3]);
  assertEquals(out.rows, [rows[3], rows[4], rows[5], rows[9]]);
  assertEquals((await decodeSegment(bytes, { rowFilter: () => false })).rows, []);
  const middle = await decodeSegment(bytes, {
    columns: ["_seq"],
    rowFilter: (g) => g.index === 1 || g.index === 2,
  });
  assertEquals(middle.rows, rows.slice(3, 9).map((r) => [r[4]]));
});

Deno.test("large row groups spanning several pages decode in place", async () => {
  const columns: SegmentColumn[] = [
    { name: "id", type: { base: "BIGINT" } },
    { name: "body", type: { base: "TEXT" } },
    ...SYS,
  ];
  const rows: Value[][] = [];
  for (let i = 0; i < 20_000; i++) {
    rows.push([BigInt(i), i % 9 === 0 ? null : `${i} `.repeat(40), BigInt(i) + 1n, i % 3 === 0]);
  }
  const { bytes } = encodeSegment(columns, rows, { rowGroupSize: 15_000 });
  const pages = parquetMetadata(bytes).row_groups[0].columns[1].meta_data!.encoding_stats!;
  assert(pages.some((p) => p.page_type === "DATA_PAGE_V2" && p.count > 1), "want several pages");
  const same = (got: Value[][], want: Value[][]) => {
    assertEquals(got.length, want.length);
    for (let r = 0; r < want.length; r++) {
      for (let c = 0; c < want[r].length; c++) {
        if (got[r][c] !== want[r][c]) assertEquals(got[r], want[r], `row ${r}`);
      }
    }
  };
  same((await decodeSegment(bytes)).rows, rows);
  same((await decodeSegment(bytes, { rowFilter: (g) => g.index === 1 })).rows, rows.slice(15_000));
  await assertDbError(() => decodeSegment(bytes, { columns: ["id", "id"] }), "twice");
});

Deno.test("text bounds are in code point order, across row groups too", () => {
  const columns: SegmentColumn[] = [{ name: "t", type: { base: "TEXT" } }, ...SYS];
  // JavaScript's `<` puts "😀" (a surrogate pair) before "\uFFFF"; code point order after.
  const { stats } = encodeSegment(columns, [["\uFFFF", 1n, false], ["😀", 2n, false]], {
    rowGroupSize: 1,
  });
  assertEquals(stats.columns.t, { min: "\uFFFF", max: "😀", nullCount: 0 });
  assertEquals(compareBounds("😀", "\uFFFF"), 1);
  assertEquals(compareBounds("a😀", "a😁"), -1);
  assertEquals(compareBounds("10", "9", true), 1);
});

Deno.test("DECIMAL kept as text has no row-group bounds but exact segment bounds", () => {
  const columns: SegmentColumn[] = [{ name: "x", type: { base: "DECIMAL" } }, ...SYS];
  const rows: Value[][] = [["9", 1n, false], ["10", 2n, false], ["-2.5", 3n, false]];
  const { bytes, stats } = encodeSegment(columns, rows);
  assertEquals(stats.columns.x, { min: "-2.5", max: "10", nullCount: 0 });
  assertEquals(segmentMetadata(bytes).rowGroups[0].columns.x, {
    min: null,
    max: null,
    nullCount: 0,
  });
});

Deno.test("an all-null column has null bounds and a full null count", () => {
  const columns: SegmentColumn[] = [{ name: "x", type: { base: "TEXT" } }, ...SYS];
  const { stats } = encodeSegment(columns, [[null, 1n, false], [null, 2n, true]]);
  assertEquals(stats.columns.x, { min: null, max: null, nullCount: 2 });
});

Deno.test("an empty segment is valid: schema, no row groups, null seq range", async () => {
  const { bytes, stats } = encodeSegment(ALL_TYPES, []);
  assertEquals(stats.rowCount, 0);
  assertEquals([stats.minSeq, stats.maxSeq], [null, null]);
  assertEquals(stats.columns.big, { min: null, max: null, nullCount: 0 });
  const meta = segmentMetadata(bytes);
  assertEquals(meta.columns, ALL_TYPES);
  assertEquals(meta.rowGroups, []);
  assertEquals(await decodeSegment(bytes), { columns: ALL_TYPES.map((c) => c.name), rows: [] });
});

Deno.test("bad input is refused with a DbError", async () => {
  const { columns, rows } = numbered(3);
  const noSeq = rows.map((r) => r.slice(0, 4));
  await assertDbError(() => encodeSegment(columns.slice(0, 4), noSeq), "_seq");
  await assertDbError(() => encodeSegment([...columns, columns[0]], rows), "twice");
  await assertDbError(() => encodeSegment(columns, [rows[0].slice(1)]), "values");
  await assertDbError(() => encodeSegment(columns, [[1, "a", 1, 1n, 1n, false]]), '"id"');
  await assertDbError(() => encodeSegment(columns, [[1n, "a", 1, 1n, null, false]]), '"_seq"');
  await assertDbError(() => encodeSegment(columns, [[1n, 2, 1, 1n, 1n, false]]), '"title"');
  const dec: SegmentColumn[] = [
    { name: "x", type: { base: "DECIMAL", precision: 5, scale: 1 } },
    ...SYS,
  ];
  await assertDbError(() => encodeSegment(dec, [["1.25", 1n, false]]), "fractional");
  await assertDbError(() => segmentMetadata(new Uint8Array([1, 2, 3])), "Invalid Parquet");
  await assertDbError(() => decodeSegment(new TextEncoder().encode("PAR1 nope PAR1")), "Parquet");
});

// ---------------------------------------------------------------- another reader

async function duckdb<T>(
  run: (query: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>,
) {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    return await run(async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJS());
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

Deno.test("DuckDB reads a segment with the right types and values", async () => {
  const { bytes } = encodeSegment(ALL_TYPES, ALL_ROWS, { rowGroupSize: 2 });
  const path = await Deno.makeTempFile({ suffix: ".parquet" });
  try {
    await Deno.writeFile(path, bytes);
    await duckdb(async (query) => {
      const types = await query(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
      assertEquals(
        Object.fromEntries(types.map((t) => [t.column_name, t.column_type])),
        {
          b: "BOOLEAN",
          s: "SMALLINT",
          i: "INTEGER",
          big: "BIGINT",
          r: "FLOAT",
          d: "DOUBLE",
          dec: "DECIMAL(12,3)",
          wide: "DECIMAL(38,10)",
          free: "VARCHAR",
          t: "VARCHAR",
          u: "VARCHAR",
          j: "JSON",
          by: "BLOB",
          dt: "DATE",
          ts: "TIMESTAMP_NS",
          _seq: "BIGINT",
          _deleted: "BOOLEAN",
        },
      );
      const rows = await query(
        `SELECT b, s, i, big, r, d, dec::VARCHAR AS dec, wide::VARCHAR AS wide, free, t, u,
                j::VARCHAR AS j, "by", dt::VARCHAR AS dt, epoch_ns(ts) AS ts, _seq, _deleted
         FROM read_parquet('${path}') ORDER BY _seq`,
      );
      const expected = ALL_ROWS.map((row) =>
        Object.fromEntries(ALL_TYPES.map((c, j) => [c.name, row[j]]))
      );
      assertEquals(rows.length, expected.length);
      for (let r = 0; r < rows.length; r++) {
        const got = rows[r];
        const want = expected[r];
        for (const c of ALL_TYPES) {
          let v = got[c.name];
          // DuckDB's JS client hands BLOBs back as Buffers; compare the bytes.
          if (v instanceof Uint8Array) v = new Uint8Array(v);
          assertEquals(v, want[c.name], `row ${r} column ${c.name}`);
        }
      }
      // DuckDB skips row groups by our footer stats (3 groups here), so wrong bounds would
      // lose rows from these counts.
      const expectedCounts: [string, number][] = [
        ["dec < 0", 1],
        ["wide > 1", 2],
        ["big > 9007199254740992", 2],
        ["dt < DATE '1970-01-01'", 2],
        ["ts < TIMESTAMP_NS '1970-01-01'", 3],
        ["t >= 'h'", 1],
        ["_seq > 3 AND ts > TIMESTAMP_NS '2000-01-01'", 1],
      ];
      for (const [where, n] of expectedCounts) {
        const [hit] = await query(
          `SELECT count(*)::INT AS n FROM read_parquet('${path}') WHERE ${where}`,
        );
        assertEquals(hit.n, n, where);
      }
    });
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("DuckDB reads an empty segment as zero typed rows", async () => {
  const { bytes } = encodeSegment(ALL_TYPES, []);
  const path = await Deno.makeTempFile({ suffix: ".parquet" });
  try {
    await Deno.writeFile(path, bytes);
    await duckdb(async (query) => {
      const [row] = await query(`SELECT count(*)::INT AS n FROM read_parquet('${path}')`);
      assertEquals(row.n, 0);
      const types = await query(`DESCRIBE SELECT ts, big FROM read_parquet('${path}')`);
      assertEquals(types.map((t) => t.column_type), ["TIMESTAMP_NS", "BIGINT"]);
    });
  } finally {
    await Deno.remove(path);
  }
});
