// Errors: every failure the client reports is a KalamError with the server's stable code
// (SPEC §4) — or one of the client's own codes for what never reached an answer: a network
// failure, an aborted call, a closed client, an answer that is not the protocol.

import type { StatementResult } from "./http.ts";

/** Codes the client adds to SPEC §4's list; the server never sends them. */
export type ClientErrorCode =
  | "NETWORK_ERROR"
  | "ABORTED"
  | "CLIENT_CLOSED"
  | "PROTOCOL_ERROR";

export interface KalamErrorInit {
  readonly code: string;
  readonly message: string;
  /** HTTP status (0 when no HTTP answer arrived). */
  readonly status?: number;
  /** 1-based statement of the batch that failed. */
  readonly statement?: number;
  readonly line?: number;
  readonly column?: number;
  readonly cause?: unknown;
}

/** The one error type of the SDK: match on `code`, never on `message`. */
export class KalamError extends Error {
  readonly code: string;
  readonly status: number;
  readonly statement?: number;
  readonly line?: number;
  readonly column?: number;
  /** A failed batch over HTTP: the results of the statements before the failing one. */
  readonly results?: readonly StatementResult[];

  constructor(init: KalamErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "KalamError";
    this.code = init.code;
    this.status = init.status ?? 0;
    if (init.statement !== undefined) this.statement = init.statement;
    if (init.line !== undefined) this.line = init.line;
    if (init.column !== undefined) this.column = init.column;
  }
}

/** The `error` object of an HTTP answer or a WebSocket message, as a KalamError. */
export function fromWire(e: unknown, status: number): KalamError {
  const o = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === "number" ? v : undefined);
  return new KalamError({
    code: typeof o.code === "string" ? o.code : "PROTOCOL_ERROR",
    message: typeof o.message === "string"
      ? o.message
      : "The server sent an error without a message",
    status,
    statement: num(o.statement),
    line: num(o.line),
    column: num(o.column),
  });
}

/** Why a call did not get an answer: the signal's abort, or the network. */
export function transportError(err: unknown, signal?: AbortSignal): KalamError {
  if (err instanceof KalamError) return err;
  if (signal?.aborted) {
    return new KalamError({
      code: "ABORTED",
      message: "The call was aborted",
      cause: signal.reason,
    });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new KalamError({
    code: "NETWORK_ERROR",
    message: `The server could not be reached: ${detail}`,
    cause: err,
  });
}

export function closedError(): KalamError {
  return new KalamError({ code: "CLIENT_CLOSED", message: "The client was closed" });
}
