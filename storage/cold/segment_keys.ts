// The primary keys of a segment as one sorted array: integers in a typed array (no garbage, no
// hashing, handed from the flush worker without a copy), text as sorted strings. Lookups are a
// binary search; a new segment's keys meet an older segment's in one merge walk. What they let
// the cold tier answer without decoding a segment: "is this INSERT's key flushed already?" and
// "which keys of the new segment supersede a version in an older one?" (its tombstones).

import type { Value } from "../../sql/mod.ts";

/** Ascending keys of one segment; `seqs[i]` (where kept) is the `_seq` of `keys[i]`. */
export type SortedKeys = Float64Array | BigInt64Array | readonly string[];

/** The sorted-keys layout of a primary-key type, or undefined (such keys are not tracked). */
export function keyLayout(pkType: string): "number" | "bigint" | "string" | undefined {
  switch (pkType) {
    case "SMALLINT":
    case "INT":
    case "REAL":
    case "DOUBLE":
      return "number";
    case "BIGINT":
    case "TIMESTAMP":
      return "bigint";
    case "TEXT":
      return "string";
    default:
      return undefined;
  }
}

/**
 * Sorts key values (as read, with their `_seq`s) into SortedKeys. Integer keys read in
 * SQLite's order are already ascending; text is sorted here by JavaScript's order, the one the
 * lookups use.
 */
export function sortKeys(
  layout: "number" | "bigint" | "string",
  values: readonly Value[],
  seqs: readonly bigint[],
): { keys: SortedKeys; seqs: BigInt64Array } {
  if (layout === "number") return { keys: Float64Array.from(values as number[]), seqs: big(seqs) };
  if (layout === "bigint") return { keys: BigInt64Array.from(values as bigint[]), seqs: big(seqs) };
  const order = values.map((_, i) => i).sort((a, b) => {
    const x = values[a] as string, y = values[b] as string;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return {
    keys: order.map((i) => values[i] as string),
    seqs: BigInt64Array.from(order.map((i) => seqs[i])),
  };
}

function big(seqs: readonly bigint[]): BigInt64Array {
  return BigInt64Array.from(seqs);
}

/** True when `key` (of the array's type) is among the keys. */
export function hasKey(keys: SortedKeys, key: Value): boolean {
  const fits = keys instanceof BigInt64Array
    ? typeof key === "bigint"
    : keys instanceof Float64Array
    ? typeof key === "number"
    : typeof key === "string";
  if (!fits) return true; // a key of another type: cannot tell, so "maybe"
  let lo = 0, hi = keys.length - 1;
  const k = key as number;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = keys[mid] as number;
    if (v < k) lo = mid + 1;
    else if (v > k) hi = mid - 1;
    else return true;
  }
  return false;
}

/** Calls `found(i)` for every `fresh[i]` that `older` holds too (both ascending, same type). */
export function commonKeys(older: SortedKeys, fresh: SortedKeys, found: (i: number) => void): void {
  let a = 0, b = 0;
  while (a < older.length && b < fresh.length) {
    const x = older[a] as number, y = fresh[b] as number;
    if (x < y) a++;
    else if (x > y) b++;
    else {
      found(b);
      a++;
      b++;
    }
  }
}
