// Reading a JSON request body under three bounds: the per-request size limit, a server-wide
// budget of body bytes in flight, and a deadline for the whole body. The body is read chunk by
// chunk from the stream and never sized from Content-Length (Deno's `req.json()` allocates a
// buffer of the declared length up front, so ten bytes declaring 10 MB cost 10 MB). A declared
// length over the limit is refused before anything is read; bytes are charged to the budget
// (and to the client address's share of it) as they arrive, never by what a header declares. Every reservation is released in one `finally`, so
// errors, client aborts and timeouts all give the budget back.

import { DbError } from "../errors.ts";

/** Strict: malformed UTF-8 is an error, not replaced. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The bytes of request bodies in flight across the server; a request that would exceed it is
 * refused (503 STORAGE_ERROR, "busy") rather than queued, so memory stays bounded.
 *
 * @example
 * const budget = new BodyBudget(128 * 1024 * 1024);
 * if (budget.reserve(n)) try { … } finally { budget.release(n); }
 */
export class BodyBudget {
  readonly limit: number;
  /** The most one client address may hold, so one client cannot take the budget from all. */
  readonly perAddress: number;
  #used = 0;
  #byAddress = new Map<string, number>();

  constructor(limit: number, perAddress = Math.ceil(limit / 4)) {
    this.limit = limit;
    this.perAddress = perAddress;
  }

  /** Bytes reserved now (for tests and stats). */
  get used(): number {
    return this.#used;
  }

  /** Reserves `bytes` for `address` when they fit; false (and nothing reserved) otherwise. */
  reserve(bytes: number, address = ""): boolean {
    const mine = this.#byAddress.get(address) ?? 0;
    if (this.#used + bytes > this.limit || mine + bytes > this.perAddress) return false;
    this.#used += bytes;
    this.#byAddress.set(address, mine + bytes);
    return true;
  }

  release(bytes: number, address = ""): void {
    this.#used -= bytes;
    const left = (this.#byAddress.get(address) ?? 0) - bytes;
    if (left > 0) this.#byAddress.set(address, left);
    else this.#byAddress.delete(address);
  }
}

/** What bounds one body; see cli/config.ts for the defaults. */
export interface BodyLimits {
  /** Largest body accepted (PAYLOAD_TOO_LARGE beyond). */
  readonly maxBytes: number;
  /** Shared by every request of the server. */
  readonly budget: BodyBudget;
  /** The whole body must arrive within this many ms of the start of reading. */
  readonly timeoutMs: number;
}

/**
 * A body that did not arrive in time: QUERY_TIMEOUT (408). The route answers it with
 * `errorAndClose` (respond.ts), since the client is still holding the connection mid-body.
 */
export class BodyTimeoutError extends DbError {
  constructor(timeoutMs: number) {
    super("QUERY_TIMEOUT", `The request body did not arrive within ${timeoutMs} ms`);
  }
}

/**
 * The body budget is full: STORAGE_ERROR (503), the code SPEC §4 has for "the server cannot take
 * this now" (also used while shutting down). The route adds `Retry-After`.
 */
export class BusyError extends DbError {
  constructor(budget: BodyBudget) {
    super(
      "STORAGE_ERROR",
      `The server is busy: request bodies in flight would exceed ${budget.limit} bytes; ` +
        "retry shortly",
    );
  }
}

/**
 * The parsed JSON object of a POST body; throws INVALID_PARAMETER, PAYLOAD_TOO_LARGE,
 * BusyError (budget exhausted) or BodyTimeoutError.
 *
 * @example
 * const body = await readJsonObject(req, { maxBytes: 10 << 20, budget, timeoutMs: 30_000 });
 */
export async function readJsonObject(
  req: Request,
  limits: BodyLimits,
  address = "",
): Promise<Record<string, unknown>> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type.trim())) {
    discard(req);
    throw new DbError(
      "INVALID_PARAMETER",
      `Content-Type must be application/json (got ${type ? `"${type}"` : "none"})`,
    );
  }
  // Deno's HTTP layer rejects a malformed Content-Length; the guard keeps the budget a number.
  const header = Number(req.headers.get("content-length") ?? NaN);
  const declared = Number.isSafeInteger(header) && header >= 0 ? header : undefined;
  if (declared !== undefined && declared > limits.maxBytes) {
    discard(req);
    throw tooLarge(limits.maxBytes);
  }
  // Only bytes that arrived are charged (a declared length costs nothing until it is sent), per
  // client address too: headers alone cannot take the budget from everyone.
  const reservation = new Reservation(limits.budget, address);
  try {
    const bytes = await readCapped(req, limits, reservation);
    let text: string;
    try {
      text = UTF8.decode(bytes);
    } catch {
      // Never stored as U+FFFD: what the client meant is unknown.
      throw new DbError("INVALID_PARAMETER", "The body is not valid UTF-8");
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new DbError("INVALID_PARAMETER", `Malformed JSON body: ${(err as Error).message}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new DbError("INVALID_PARAMETER", "The JSON body must be an object");
    }
    return value as Record<string, unknown>;
  } finally {
    reservation.release();
  }
}

/** The bytes this request holds in the budget; released once, whatever happened. */
class Reservation {
  #budget: BodyBudget;
  #address: string;
  #held = 0;

  constructor(budget: BodyBudget, address: string) {
    this.#budget = budget;
    this.#address = address;
  }

  /** Reserves `bytes` more; false when the budget has no room for them. */
  grow(bytes: number): boolean {
    if (!this.#budget.reserve(bytes, this.#address)) return false;
    this.#held += bytes;
    return true;
  }

  release(): void {
    this.#budget.release(this.#held, this.#address);
    this.#held = 0;
  }
}

/** How long a timed-out body's pending read may take to settle before the answer goes out. */
const TIMEOUT_GRACE_MS = 2000;

/**
 * The body deadlines of all requests on one coarse timer (a timer per request costs more than
 * the rest of a small request's reading): each fires within DEADLINE_TICK_MS after its time.
 */
const DEADLINE_TICK_MS = 100;
const deadlines = new Map<number, { at: number; fire: () => void }>();
let nextDeadline = 0;
let ticker: ReturnType<typeof setInterval> | undefined;

function onDeadline(ms: number, fire: () => void): number {
  const id = ++nextDeadline;
  deadlines.set(id, { at: performance.now() + ms, fire });
  if (!ticker) {
    ticker = setInterval(() => {
      const now = performance.now();
      for (const [key, d] of deadlines) {
        if (d.at > now) continue;
        deadlines.delete(key);
        d.fire();
      }
      if (deadlines.size === 0) {
        clearInterval(ticker);
        ticker = undefined;
      }
    }, DEADLINE_TICK_MS);
  }
  return id;
}

function clearDeadline(id: number): void {
  deadlines.delete(id);
}

async function readCapped(
  req: Request,
  limits: BodyLimits,
  reservation: Reservation,
): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  let timedOut = false;
  let finished = false;
  let grace: ReturnType<typeof setTimeout> | undefined;
  // At the deadline a read waiting for bytes is first left to settle (the client's next byte or
  // its close): Deno cannot drop a connection after the answer when the body was cancelled under
  // a pending read. A client that sends nothing more is answered after the grace regardless.
  const timer = onDeadline(limits.timeoutMs, () => {
    timedOut = true;
    grace = setTimeout(() => reader.cancel().catch(() => {}), TIMEOUT_GRACE_MS);
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) throw new BodyTimeoutError(limits.timeoutMs);
      if (done) break;
      size += value.byteLength;
      if (size > limits.maxBytes) throw tooLarge(limits.maxBytes);
      if (!reservation.grow(value.byteLength)) throw new BusyError(limits.budget);
      chunks.push(value);
    }
    finished = true;
  } catch (err) {
    // A client that goes away mid-body makes the read fail; nobody is left to read the answer.
    if (timedOut) throw new BodyTimeoutError(limits.timeoutMs);
    if (err instanceof DbError) throw err;
    throw new DbError("INVALID_PARAMETER", "The request body ended before its declared end");
  } finally {
    clearDeadline(timer);
    clearTimeout(grace);
    // A finished body's stream is closed: releasing its lock would only make (and drop) an error.
    if (!finished) {
      reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }
  return chunks.length === 1 ? chunks[0] : concatBytes(chunks);
}

/** The chunks one after another in one new buffer. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Drops a body that will not be read (its bytes are never buffered). */
function discard(req: Request): void {
  if (req.body && !req.body.locked) req.body.cancel().catch(() => {});
}

function tooLarge(maxBytes: number): DbError {
  return new DbError(
    "PAYLOAD_TOO_LARGE",
    `The request body exceeds the limit of ${maxBytes} bytes`,
  );
}
