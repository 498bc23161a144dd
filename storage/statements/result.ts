// What executing a batch returns: one result per statement, and the error that stopped it.
// The server, the CLI and the tests all render from these shapes.

import type { Cancel, ResultColumn, Row, TypeName } from "../../sql/mod.ts";
import type { DbError } from "../../errors.ts";
import type { Principal } from "../../auth/mod.ts";

/** The result of one statement. Rows are present for statements that return a table. */
export interface StatementResult {
  /** 1-based index in the batch. */
  readonly statement: number;
  /** Result columns (name + printable type) when the statement returns rows. */
  readonly schema?: readonly ResultColumn[];
  /** Column types parallel to `schema`, for rendering values (TIMESTAMP, BIGINT, BYTES…). */
  readonly types?: readonly TypeName[];
  readonly rows?: readonly Row[];
  /** Rows returned, or rows affected for DML without RETURNING. */
  readonly rowCount: number;
  /** `Inserted 2 row(s)`, `Namespace app created`, … */
  readonly message?: string;
  /** Server time for this statement in ms (> 0). */
  readonly tookMs: number;
}

export interface BatchResult {
  readonly results: StatementResult[];
  /** The first failing statement's error (statement/line/column set); later statements did not run. */
  readonly error?: DbError;
  /** Every failing statement's error, in order (more than one only with continueOnError). */
  readonly errors?: DbError[];
  /** The effective user of the last statement (EXECUTE AS changes it). */
  readonly asUser: string;
  /** Whole batch, ms. */
  readonly tookMs: number;
}

export interface ExecuteOptions {
  /** Identity by name, role from the user store; embedded mode uses `root`. */
  readonly user?: string;
  /**
   * An identity the caller already authenticated (the server): used as is, no store lookup.
   * `{ user: "anonymous", role: "anonymous" }` for requests without credentials.
   */
  readonly principal?: Principal;
  /** `$1…` values; only allowed with a single statement. */
  readonly params?: readonly unknown[];
  readonly signal?: Cancel;
  /** Statement timeout for the whole batch, ms → QUERY_TIMEOUT. */
  readonly timeoutMs?: number;
  /**
   * The server's WebSocket URL, as the client reached it (what `SUBSCRIBE TO` answers); called
   * only by a SUBSCRIBE TO, so the URL is not made for every statement.
   */
  readonly wsUrl?: () => string;
  /** Keep running after a failing statement (CLI --continue-on-error). */
  readonly continueOnError?: boolean;
}
