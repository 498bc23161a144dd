// JSON responses of the HTTP API (SPEC §4): the success body with rows as arrays in schema
// order and values in their wire form, and the one error body used by every route. The HTTP
// status of an error comes from its code (errors.ts), nowhere else.

import type { TypeName } from "../sql/mod.ts";
import { toJsonValue, type Value } from "../sql/mod.ts";
import { elapsedMs, type StatementResult } from "../storage/mod.ts";
import { DbError } from "../errors.ts";

/** One statement's result on the wire. */
export function encodeResult(r: StatementResult): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.schema) {
    out.schema = r.schema.map((c) => ({ name: c.name, type: c.type }));
    out.rows = encodeRows(r.rows ?? [], r.types ?? []);
  }
  out.row_count = r.rowCount;
  if (r.message !== undefined) out.message = r.message;
  out.took_ms = Math.round(r.tookMs * 1000) / 1000 || 0.001; // per statement, rounded to µs
  return out;
}

function encodeRows(rows: readonly (readonly Value[])[], types: readonly TypeName[]): unknown[][] {
  // Columns whose JSON form equals the value (TEXT, INT, BOOLEAN, DOUBLE…) are copied as is.
  const convert = types.map((t) => needsConversion(t));
  if (!convert.some(Boolean)) return rows as unknown[][];
  return rows.map((row) => row.map((v, i) => convert[i] ? toJsonValue(v, types[i]) : v));
}

function needsConversion(t: TypeName): boolean {
  switch (t.base) {
    case "BIGINT":
    case "DECIMAL":
    case "TIMESTAMP":
    case "BYTES":
    case "JSON":
      return true;
    default:
      return false;
  }
}

/** Every API response is JSON and may be read by any origin (credentials travel in headers). */
export const JSON_HEADERS = {
  "content-type": "application/json",
  "access-control-allow-origin": "*",
};

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/**
 * The error body: results of the statements that ran before it, the code, message and position.
 *
 * @example
 * errorResponse(new DbError("TABLE_NOT_FOUND", "…"), t0); // 404 {"status":"error",…}
 */
export function errorResponse(
  err: DbError,
  t0: number,
  results: readonly StatementResult[] = [],
  status = err.status,
): Response {
  return jsonResponse(errorBody(err, t0, results), status);
}

function errorBody(err: DbError, t0: number, results: readonly StatementResult[]) {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.statement !== undefined) error.statement = err.statement;
  if (err.line !== undefined) error.line = err.line;
  if (err.column !== undefined) error.column = err.column;
  return { status: "error", took_ms: elapsedMs(t0), results: results.map(encodeResult), error };
}

/**
 * Why a response stream fails on purpose (see `errorAndClose`); the server's `onError` knows it
 * and stays quiet.
 */
export class ConnectionCut extends Error {
  constructor() {
    super("connection cut after the response on purpose");
  }
}

/**
 * The error body, then the connection is cut. For a client still holding its request body
 * open (a body timeout): Deno.serve keeps such a connection open after a normal response for as
 * long as the client likes, and offers no way to close one connection. A response stream that
 * fails after its last byte makes hyper drop the connection; the body goes out chunked (a
 * declared length would end the response before the failure is seen), so a client gets the
 * status and the whole JSON body, then the end of the connection without the final chunk.
 */
export function errorAndClose(err: DbError, t0: number): Response {
  const bytes = new TextEncoder().encode(JSON.stringify(errorBody(err, t0, [])));
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return controller.error(new ConnectionCut());
      sent = true;
      controller.enqueue(bytes);
    },
  });
  return new Response(body, {
    status: err.status,
    headers: { ...JSON_HEADERS, connection: "close" },
  });
}

/** Shorthand for an error made here (no statement ran). */
export function fail(code: DbError["code"], message: string, t0: number, status?: number) {
  return errorResponse(new DbError(code, message), t0, [], status);
}
