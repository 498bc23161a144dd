import { assertEquals } from "../tests/assert.ts";
import { formatTimestamp } from "./value_time.ts";

/** The formatter before its second cache: one Date per value. */
function reference(ns: bigint): string {
  let ms = ns / 1_000_000n;
  let sub = ns % 1_000_000_000n;
  if (sub < 0n) sub += 1_000_000_000n;
  if (ns < 0n && ns % 1_000_000n !== 0n) ms -= 1n;
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${String(sub).padStart(9, "0")}Z`;
}

Deno.test("formatTimestamp: same text as one Date per value, before 1970 and across seconds", () => {
  const values = [0n, 1n, -1n, -999_999_999n, -1_000_000_000n, -1_000_000_001n, -500_000n];
  values.push(-9_223_372_036_854_775_808n, 9_223_372_036_854_775_807n);
  // Alternating seconds (a row's two timestamps) and runs within one second.
  for (let i = 0n; i < 2000n; i++) values.push(1_700_000_000_000_000_000n + i * 333_333_333n);
  for (let i = 0n; i < 500n; i++) values.push(-86_400_000_000_000n * i - i * 7n);
  for (const v of values) assertEquals(formatTimestamp(v), reference(v), String(v));
});

Deno.test("formatTimestamp: a second Date cannot show throws every time, caching nothing", () => {
  const far = 9_000_000_000_000_000_000_000n; // ~2.8e14 years: past Date's range
  for (let i = 0; i < 2; i++) {
    let threw = false;
    try {
      formatTimestamp(far);
    } catch {
      threw = true;
    }
    assertEquals(threw, true, `call ${i + 1}`);
  }
  assertEquals(formatTimestamp(0n), "1970-01-01T00:00:00.000000000Z");
});
