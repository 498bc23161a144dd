// Values: the wire encoding of SPEC §4 (BIGINT and DECIMAL as strings, TIMESTAMP as RFC 3339 with
// nine fractional digits, BYTES as base64, JSON as the value) turned into typed JavaScript values
// by the column types of a result's schema, and parameters turned back into the wire form.

import { KalamError } from "./errors.ts";

/** A column of a result: its name and SQL type as the server prints it (`DECIMAL(10,2)`, …). */
export interface Column {
  readonly name: string;
  readonly type: string;
}

/** A decoded value: what a row's field holds. */
export type Value =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Timestamp
  | JsonValue;

export type JsonValue = null | boolean | number | string | JsonValue[] | {
  [k: string]: JsonValue;
};

export type Row = Record<string, Value>;

const NS_PER_MS = 1_000_000n;
const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

/**
 * A TIMESTAMP: nanoseconds since the Unix epoch (UTC), exact. `toDate()` gives a `Date`
 * (milliseconds); `toString()` / `toJSON()` the RFC 3339 text the server sends.
 */
export class Timestamp {
  #nanos?: bigint;
  /** The server's canonical text, kept until the instant is needed (decoding stays cheap). */
  #text?: string;

  constructor(epochNanos: bigint) {
    this.#nanos = epochNanos;
  }

  /** Nanoseconds since the Unix epoch (UTC), exact. */
  get epochNanos(): bigint {
    return this.#nanos ??= Timestamp.parse(this.#text!).#nanos!;
  }

  /** Parses `2026-11-25T20:15:01.123456789Z` (any number of fractional digits, `Z` or ±hh:mm). */
  static parse(text: string): Timestamp {
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(
      text,
    );
    const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
    if (!m || Number.isNaN(ms)) throw new TypeError(`Not an RFC 3339 timestamp: ${text}`);
    const fraction = BigInt((m[2] ?? "").padEnd(9, "0"));
    return new Timestamp(BigInt(ms) * NS_PER_MS + fraction);
  }

  /**
   * A value as the server sends it: the canonical form (UTC, nine digits) is kept as text and
   * parsed on first use; anything else is parsed now.
   */
  static fromWire(text: string): Timestamp {
    if (!CANONICAL.test(text)) return Timestamp.parse(text);
    const t = new Timestamp(0n);
    t.#nanos = undefined;
    t.#text = text;
    return t;
  }

  static fromDate(d: Date): Timestamp {
    return new Timestamp(BigInt(d.getTime()) * NS_PER_MS);
  }

  /** The instant to the millisecond (a Date cannot hold more). */
  toDate(): Date {
    let ms = this.epochNanos / NS_PER_MS;
    if (this.epochNanos < 0n && this.epochNanos % NS_PER_MS !== 0n) ms -= 1n; // floor
    return new Date(Number(ms));
  }

  /** RFC 3339 UTC with nine fractional digits, as the server prints it. */
  toString(): string {
    if (this.#text !== undefined) return this.#text;
    let sub = this.epochNanos % 1_000_000_000n;
    if (sub < 0n) sub += 1_000_000_000n;
    return `${this.toDate().toISOString().slice(0, 19)}.${sub.toString().padStart(9, "0")}Z`;
  }

  toJSON(): string {
    return this.toString();
  }

  equals(other: Timestamp): boolean {
    return other.epochNanos === this.epochNanos;
  }

  // How Deno and Node print one (private fields are invisible to their inspectors).
  [Symbol.for("Deno.customInspect")](): string {
    return `Timestamp(${this.toString()})`;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Timestamp(${this.toString()})`;
  }
}

/** The base of a printed type: `DECIMAL(10,2)` → `DECIMAL`. */
function baseOf(type: string): string {
  const at = type.indexOf("(");
  return (at < 0 ? type : type.slice(0, at)).trim().toUpperCase();
}

/** One wire value of a column type as a typed value. */
export type Decoder = (v: unknown) => Value;

const same: Decoder = (v) => v as Value;
/**
 * A value the server typed but the client cannot read as that type (an expression whose result
 * type is looser than its text) stays as the wire value rather than failing the whole result.
 */
const lenient = (f: (text: string) => Value): Decoder => (v) => {
  if (typeof v !== "string") return v as Value;
  try {
    return f(v);
  } catch {
    return v;
  }
};
const DECODERS: Record<string, Decoder> = {
  BIGINT: (v) => (typeof v === "number" ? BigInt(Math.trunc(v)) : lenient(BigInt)(v)),
  TIMESTAMP: lenient((t) => Timestamp.fromWire(t)),
  BYTES: lenient(decodeBase64),
  // DECIMAL stays the exact decimal text; JSON already arrives as the parsed value.
};

/** The decoder of a column type. */
export function decoderOf(type: string): Decoder {
  return DECODERS[baseOf(type)] ?? same;
}

/** Decoders for a schema, in column order. */
export function decodersOf(schema: readonly Column[]): Decoder[] {
  return schema.map((c) => decoderOf(c.type));
}

/** A row as the HTTP API sends it (an array in schema order) → an object of typed values. */
export function decodeArrayRow(
  schema: readonly Column[],
  decoders: Decoder[],
  row: unknown[],
): Row {
  const out: Row = {};
  for (let i = 0; i < schema.length; i++) {
    const v = row[i];
    out[schema[i].name] = v === null || v === undefined ? null : decoders[i](v);
  }
  return out;
}

/** A row as the WebSocket sends it (an object of wire values) → an object of typed values. */
export function decodeObjectRow(
  schema: readonly Column[],
  decoders: Decoder[],
  row: Record<string, unknown>,
): Row {
  const out: Row = {};
  for (let i = 0; i < schema.length; i++) {
    const name = schema[i].name;
    const v = row[name];
    out[name] = v === null || v === undefined ? null : decoders[i](v);
  }
  return out;
}

/**
 * A parameter in its wire form: `bigint` → decimal text (the server coerces it to the column's
 * type, exactly), `Timestamp` / `Date` → RFC 3339, everything else as is. JSON parameters have
 * no bytes form (a base64 string would be stored as its text), so a `Uint8Array` is refused.
 */
export function encodeParam(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Timestamp) return v.toString();
  if (v instanceof Date) return Timestamp.fromDate(v).toString();
  if (v instanceof Uint8Array) {
    throw new KalamError({
      code: "INVALID_PARAMETER",
      message: "BYTES parameters are not supported over HTTP (JSON has no bytes); " +
        "insert bytes with SQL instead",
    });
  }
  if (v === undefined) return null;
  return v;
}

export function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

export function decodeBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A value as a map key: typed values that are equal give equal keys. */
export function keyOf(v: Value): string {
  if (v === null) return "n";
  if (typeof v === "bigint") return `i${v}`;
  if (typeof v === "number") return `i${v}`;
  if (typeof v === "string") return `s${v}`;
  if (v instanceof Timestamp) return `t${v.epochNanos}`;
  if (v instanceof Uint8Array) return `b${encodeBase64(v)}`;
  return `j${JSON.stringify(v)}`;
}

/** Orders two primary-key values of one column (numbers, bigints, text, timestamps). */
export function compareValues(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (a instanceof Timestamp && b instanceof Timestamp) {
    return a.epochNanos < b.epochNanos ? -1 : a.epochNanos > b.epochNanos ? 1 : 0;
  }
  if (
    (typeof a === "bigint" || typeof a === "number") &&
    (typeof b === "bigint" || typeof b === "number")
  ) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const x = String(a), y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
