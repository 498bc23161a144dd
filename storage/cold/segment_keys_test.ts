import { assertEquals } from "../../tests/_util.ts";
import { commonKeys, hasKey, keyLayout, sortKeys } from "./segment_keys.ts";

Deno.test("segment keys: layouts, lookups and the merge walk", () => {
  assertEquals(
    ["INT", "BIGINT", "TIMESTAMP", "TEXT", "BOOLEAN", "DECIMAL"].map(keyLayout),
    ["number", "bigint", "bigint", "string", undefined, undefined],
  );
  const ints = sortKeys("number", [1, 5, 9, 12], [10n, 11n, 12n, 13n]);
  assertEquals([hasKey(ints.keys, 5), hasKey(ints.keys, 6), hasKey(ints.keys, 12)], [
    true,
    false,
    true,
  ]);
  assertEquals(hasKey(ints.keys, "5"), true, "another type is a maybe");
  const texts = sortKeys("string", ["pear", "apple", "fig"], [1n, 2n, 3n]);
  assertEquals(texts.keys, ["apple", "fig", "pear"]);
  assertEquals([...texts.seqs], [2n, 3n, 1n]);
  assertEquals([hasKey(texts.keys, "fig"), hasKey(texts.keys, "kiwi")], [true, false]);
  const older = sortKeys("bigint", [2n, 4n, 6n, 8n], [1n, 1n, 1n, 1n]).keys;
  const fresh = sortKeys("bigint", [1n, 4n, 5n, 8n, 9n], [2n, 2n, 2n, 2n, 2n]).keys;
  const found: number[] = [];
  commonKeys(older, fresh, (i) => found.push(i));
  assertEquals(found, [1, 3]);
});
