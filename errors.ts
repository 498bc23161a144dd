// The one error class and its code catalogue (SPEC §4). Codes are stable and append-only; the
// HTTP status of each code is decided here and nowhere else.

/** Every error code a client can see, with its HTTP status. Append only; never rename. */
export const ERROR_CODES = {
  INVALID_SQL: 400,
  EMPTY_SQL: 400,
  INVALID_PARAMETER: 400,
  NAMESPACE_NOT_FOUND: 404,
  TABLE_NOT_FOUND: 404,
  COLUMN_NOT_FOUND: 400,
  ALREADY_EXISTS: 409,
  UNIQUE_VIOLATION: 409,
  NOT_NULL_VIOLATION: 400,
  TYPE_MISMATCH: 400,
  UNAUTHORIZED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  UNSUPPORTED: 400,
  QUERY_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  STORAGE_ERROR: 503,
  INTERNAL_ERROR: 500,
  LIVE_QUERY_KILLED: 410,
  SUBSCRIPTION_OVERFLOW: 429,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where in the SQL text an error was found (1-based). */
export interface ErrorPosition {
  line?: number;
  column?: number;
  /** 1-based index of the statement within its batch. */
  statement?: number;
}

/**
 * The error every layer throws. The code is required; the message is for people.
 *
 * @example
 * throw new DbError("TABLE_NOT_FOUND", 'Table "app.msgs" does not exist');
 */
export class DbError extends Error {
  readonly code: ErrorCode;
  /**
   * True when the storage or the disk failed, not the data or the statement (an object store
   * unreachable, a disk full or read-only): the same work may succeed later, and background
   * jobs retry it for as long as that lasts.
   */
  transient?: boolean;
  line?: number;
  column?: number;
  statement?: number;

  constructor(code: ErrorCode, message: string, position: ErrorPosition = {}) {
    super(message);
    this.name = "DbError";
    this.code = code;
    this.line = position.line;
    this.column = position.column;
    this.statement = position.statement;
  }

  /** The HTTP status that belongs to this error's code. */
  get status(): number {
    return ERROR_CODES[this.code];
  }
}

/** Turns anything thrown into a DbError; unknown errors become INTERNAL_ERROR without internals. */
export function toDbError(err: unknown): DbError {
  if (err instanceof DbError) return err;
  // A value too big for the engine (a string or buffer past V8's limits) is the input's doing.
  if (
    err instanceof RangeError && /Invalid string length|Array buffer allocation/.test(err.message)
  ) {
    return new DbError("INVALID_PARAMETER", "A value is too large to build");
  }
  return new DbError("INTERNAL_ERROR", "Internal error");
}

/** For exhaustive switches: fails to compile when a case is missing. */
export function assertNever(value: never, what = "value"): never {
  throw new DbError("INTERNAL_ERROR", `Unexpected ${what}: ${JSON.stringify(value)}`);
}
