// The row codec's fast encoder must write exactly what msgpackr writes (rows already on disk and
// rows written now decode through the same msgpackr path), including every edge of the integer,
// string and binary size classes, and must hand non-ASCII text and out-of-range bigints to
// msgpackr.

import { Packr } from "msgpackr";
import { encodeRow, makeDecoder, type StoredColumn } from "./row_codec.ts";
import type { Value } from "../../sql/mod.ts";
import { assertEquals } from "../../sql/_test_util.ts";

const packr = new Packr(
  { useRecords: false, int64AsType: "bigint" } as ConstructorParameters<typeof Packr>[0],
);

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const EDGES: Value[] = [
  null,
  true,
  false,
  0,
  -0,
  1,
  127,
  128,
  255,
  256,
  65535,
  65536,
  2 ** 32 - 1,
  2 ** 32,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32768,
  -32769,
  -(2 ** 31),
  -(2 ** 31) - 1,
  1.5,
  -2.25,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  0n,
  -1n,
  2n ** 62n,
  -(2n ** 63n),
  2n ** 63n - 1n,
  2n ** 63n, // uint64: msgpackr's path
  "",
  "a".repeat(31),
  "a".repeat(32),
  "a".repeat(255),
  "a".repeat(256),
  "a".repeat(65535),
  "a".repeat(65536),
  "héllo", // UTF-8: msgpackr's path
  "\ud800", // lone surrogate: msgpackr's path
  new Uint8Array(0),
  new Uint8Array(255).fill(7),
  new Uint8Array(256).fill(8),
  new Uint8Array(70000).fill(9),
];

Deno.test("encodeRow writes msgpackr's bytes for every size class", () => {
  for (const v of EDGES) {
    assertEquals(hex(encodeRow([v])), hex(packr.pack([v])), `value ${String(v).slice(0, 20)}`);
  }
  assertEquals(hex(encodeRow(EDGES)), hex(packr.pack(EDGES)), "a 48-value row (array16 header)");
  assertEquals(hex(encodeRow([])), hex(packr.pack([])));
});

Deno.test("encodeRow results stay valid across many calls (buffers are replaced, not reused)", () => {
  const rows = Array.from(
    { length: 5000 },
    (_, i): Value[] => [BigInt(i), `row ${i}`, i, i % 2 === 0],
  );
  const encoded = rows.map(encodeRow);
  for (let i = 0; i < rows.length; i++) assertEquals(packr.unpack(encoded[i]), [...rows[i]]);
});

Deno.test("the same-layout decoder normalises types in place like the general one", () => {
  const cols: StoredColumn[] = [
    { id: 1, name: "id", type: { base: "BIGINT" }, nullable: false, primaryKey: true },
    { id: 2, name: "n", type: { base: "INT" }, nullable: true, primaryKey: false },
    { id: 3, name: "b", type: { base: "BYTES" }, nullable: true, primaryKey: false },
  ];
  const decode = makeDecoder(cols, cols);
  const row = decode(encodeRow([5n, 3, new Uint8Array([1, 2])]));
  assertEquals(row, [5n, 3, new Uint8Array([1, 2])]);
  assertEquals(row[2]!.constructor, Uint8Array);
  assertEquals(decode(encodeRow([7n, null, null])), [7n, null, null]);
  // A row with fewer values than the layout (not written by this engine) still decodes.
  assertEquals(decode(packr.pack([9])), [9n, null, null]);
});
