// TIMESTAMP and DATE values: parsing ISO-8601 text, the 64-bit nanosecond range, the epoch-
// milliseconds rule for integers and RFC 3339 rendering. Split from values.ts (which re-exports
// everything here) because time handling is a topic of its own.

import { DbError } from "../errors.ts";

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
const TS_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** The TIMESTAMP range: a signed 64-bit count of nanoseconds (1677-09-21 … 2262-04-11). */
export const TIMESTAMP_MIN = -(2n ** 63n);
export const TIMESTAMP_MAX = 2n ** 63n - 1n;

/**
 * Parses an ISO-8601 / RFC 3339 date-time to nanoseconds since the epoch (UTC default). The
 * result may lie outside the TIMESTAMP range (comparisons with far dates work); storing checks.
 */
export function parseTimestamp(text: string): bigint | undefined {
  const m = TS_RE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone] = m;
  if (+h > 23 || +mi > 59 || +s > 60) return undefined;
  const date = new Date(Date.UTC(2000, +mo - 1, +d, +h, +mi, +s));
  date.setUTCFullYear(+y); // Date.UTC alone reads years 0–99 as 1900–1999
  const ms = date.getTime();
  if (Number.isNaN(ms)) return undefined;
  // Reject dates that Date.UTC silently rolled over (2026-02-31).
  const check = new Date(Date.UTC(2000, +mo - 1, +d));
  check.setUTCFullYear(+y);
  if (check.getUTCDate() !== +d || check.getUTCMonth() !== +mo - 1) return undefined;
  let ns = BigInt(ms) * NS_PER_MS + BigInt(frac.padEnd(9, "0") || "0");
  if (zone && zone.toUpperCase() !== "Z") {
    const sign = zone[0] === "-" ? -1n : 1n;
    const digits = zone.slice(1).replace(":", "");
    const offsetMin = BigInt(+digits.slice(0, 2) * 60 + +digits.slice(2, 4));
    ns -= sign * offsetMin * 60_000_000_000n;
  }
  return ns;
}

function timestampOutOfRange(shown: string, column?: string): DbError {
  const where = column ? ` for column "${column}"` : "";
  return new DbError(
    "TYPE_MISMATCH",
    `TIMESTAMP out of range${where}: ${shown} (a TIMESTAMP holds ` +
      "1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)",
  );
}

/** `ns` when it is a TIMESTAMP (64-bit nanoseconds), else TYPE_MISMATCH "TIMESTAMP out of range". */
export function checkTimestamp(ns: bigint, shown: string = String(ns), column?: string): bigint {
  if (ns < TIMESTAMP_MIN || ns > TIMESTAMP_MAX) throw timestampOutOfRange(shown, column);
  return ns;
}

/**
 * The one rule for integers that become timestamps (SQL literals, CAST, integer columns and
 * expressions, JSON parameters): epoch milliseconds. Range-checked.
 *
 * @example
 * timestampFromMs(1700000000000); // 1700000000000000000n (2023-11-14T22:13:20Z)
 */
export function timestampFromMs(ms: number | bigint, column?: string): bigint {
  if (typeof ms === "number" && !Number.isInteger(ms)) {
    throw new DbError("TYPE_MISMATCH", `Cannot store ${ms} as TIMESTAMP: not whole milliseconds`);
  }
  return checkTimestamp(BigInt(ms) * NS_PER_MS, `${ms} ms`, column);
}

/** Epoch milliseconds as nanoseconds without the range check (comparisons with far values). */
export function msToNs(ms: number | bigint): bigint {
  if (typeof ms === "bigint") return ms * NS_PER_MS;
  if (!Number.isFinite(ms)) return ms > 0 ? TIMESTAMP_MAX + 1n : TIMESTAMP_MIN - 1n;
  return Number.isInteger(ms) ? BigInt(ms) * NS_PER_MS : BigInt(Math.round(ms * 1e6));
}

/** The texts of the two seconds formatted last (a result's rows mostly share a few seconds). */
const seconds: [number, number] = [NaN, NaN];
const prefixes: [string, string] = ["", ""];
let older = 0;

/** `YYYY-MM-DDTHH:MM:SS` of epoch second `s`. */
function secondText(s: number): string {
  if (seconds[0] === s) return prefixes[0];
  if (seconds[1] === s) return prefixes[1];
  // Made before the slot changes: a second Date cannot show throws and caches nothing.
  const text = new Date(s * 1000).toISOString().slice(0, 19);
  const i = older;
  older ^= 1;
  seconds[i] = s;
  prefixes[i] = text;
  return text;
}

/** RFC 3339 UTC with 9 fractional digits: `2026-11-25T20:15:01.123456789Z`. */
export function formatTimestamp(ns: bigint): string {
  let s = ns / NS_PER_S;
  let sub = ns % NS_PER_S;
  if (sub < 0n) {
    sub += NS_PER_S;
    s -= 1n;
  }
  return `${secondText(Number(s))}.${String(Number(sub)).padStart(9, "0")}Z`;
}

/** Validates `YYYY-MM-DD` (a timestamp's date part is accepted too). */
export function parseDate(text: string): string | undefined {
  const ns = parseTimestamp(text);
  if (ns === undefined) return undefined;
  return formatTimestamp(ns).slice(0, 10);
}

let lastNowNs = 0n;
/** The current time in nanoseconds, microsecond resolution, strictly increasing per process. */
export function nowNs(): bigint {
  const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  lastNowNs = ns > lastNowNs ? ns : lastNowNs + 1n;
  return lastNowNs;
}
