import { assert, assertEquals } from "../tests/assert.ts";
import {
  compareValues,
  decodeArrayRow,
  decodeObjectRow,
  decodersOf,
  encodeParam,
  keyOf,
  Timestamp,
} from "./values.ts";

const SCHEMA = [
  { name: "id", type: "BIGINT" },
  { name: "price", type: "DECIMAL(10,2)" },
  { name: "at", type: "TIMESTAMP" },
  { name: "blob", type: "BYTES" },
  { name: "doc", type: "JSON" },
  { name: "n", type: "INT" },
  { name: "ok", type: "BOOLEAN" },
  { name: "name", type: "TEXT" },
];

Deno.test("values: an HTTP row decodes by its schema, exactly", () => {
  const row = decodeArrayRow(SCHEMA, decodersOf(SCHEMA), [
    "9007199254740993", // 2^53 + 1: a JSON number would round it
    "12345678.90",
    "2026-11-25T20:15:01.123456789Z",
    "AAEC/w==",
    { a: [1, "x"] },
    7,
    true,
    "héllo",
  ]);
  assertEquals(row.id, 9007199254740993n);
  assertEquals(row.price, "12345678.90");
  assert(row.at instanceof Timestamp);
  assertEquals((row.at as Timestamp).epochNanos, 1795637701123456789n);
  assertEquals((row.at as Timestamp).toString(), "2026-11-25T20:15:01.123456789Z");
  assertEquals((row.at as Timestamp).toDate().toISOString(), "2026-11-25T20:15:01.123Z");
  assertEquals(row.blob, new Uint8Array([0, 1, 2, 255]));
  assertEquals(row.doc, { a: [1, "x"] });
  assertEquals([row.n, row.ok, row.name], [7, true, "héllo"]);
});

Deno.test("values: NULL stays null in every type; WebSocket rows decode by name", () => {
  const nulls = decodeArrayRow(SCHEMA, decodersOf(SCHEMA), SCHEMA.map(() => null));
  assertEquals(Object.values(nulls), SCHEMA.map(() => null));
  const obj = decodeObjectRow(SCHEMA.slice(0, 3), decodersOf(SCHEMA.slice(0, 3)), {
    at: "1969-12-31T23:59:59.999999999Z",
    id: "-5",
    price: null,
  });
  assertEquals(obj.id, -5n);
  assertEquals(obj.price, null);
  assertEquals((obj.at as Timestamp).epochNanos, -1n);
  assertEquals((obj.at as Timestamp).toString(), "1969-12-31T23:59:59.999999999Z");
  assertEquals((obj.at as Timestamp).toDate().getTime(), -1); // floor, not toward zero
});

Deno.test("values: timestamps parse offsets and short fractions; bad text is refused", () => {
  assertEquals(Timestamp.parse("2026-01-01T00:00:00Z").epochNanos, 1767225600000000000n);
  assertEquals(Timestamp.parse("2026-01-01T01:00:00.5+01:00").epochNanos, 1767225600500000000n);
  for (
    const bad of ["2026-01-01", "2026-13-01T00:00:00Z", "x", "2026-01-01T00:00:00.1234567890Z"]
  ) {
    let threw = false;
    try {
      Timestamp.parse(bad);
    } catch (e) {
      threw = e instanceof TypeError;
    }
    assert(threw, `refused: ${bad}`);
  }
  assert(
    Timestamp.parse("2026-01-01T00:00:00Z").equals(Timestamp.fromDate(new Date(1767225600000))),
  );
});

Deno.test("values: parameters go out in the wire form", () => {
  assertEquals(encodeParam(2n ** 63n - 1n), "9223372036854775807");
  assertEquals(encodeParam(new Timestamp(1n)), "1970-01-01T00:00:00.000000001Z");
  assertEquals(encodeParam(new Date(0)), "1970-01-01T00:00:00.000000000Z");
  let refused = "";
  try {
    encodeParam(new Uint8Array([255, 0]));
  } catch (e) {
    refused = (e as { code: string }).code;
  }
  assertEquals(refused, "INVALID_PARAMETER", "bytes would be stored as their base64 text");
  assertEquals(encodeParam(undefined), null);
  assertEquals(encodeParam({ a: 1 }), { a: 1 });
  assertEquals(encodeParam("x"), "x");
});

Deno.test("values: keys and order agree across number and bigint", () => {
  assertEquals(keyOf(5), keyOf(5n));
  assert(keyOf("5") !== keyOf(5n));
  assertEquals(compareValues(2n, 10), -1);
  assertEquals(compareValues("b", "a"), 1);
  assertEquals(compareValues(null, 0n), -1);
  assertEquals(compareValues(new Timestamp(2n), new Timestamp(1n)), 1);
});

Deno.test("values: a canonical wire timestamp is kept as text and parsed on first use", () => {
  const text = "2026-11-25T20:15:01.123456789Z";
  const lazy = Timestamp.fromWire(text);
  assertEquals(lazy.toString(), text);
  assertEquals(lazy.epochNanos, Timestamp.parse(text).epochNanos);
  assert(lazy.equals(Timestamp.parse(text)));
  assertEquals(Deno.inspect(lazy), `Timestamp(${text})`, "printable despite private fields");
  assertEquals(
    Timestamp.fromWire("2026-01-01T00:00:00+01:00").toString(),
    "2025-12-31T23:00:00.000000000Z",
  );
});
