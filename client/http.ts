// HTTP: `POST /v1/api/sql` (SPEC §4) with the caller's credentials, its answer decoded into
// typed rows. A 401 on a renewable credential is retried once with a fresh token; every other
// error is the server's KalamError, unchanged.

import type { Credentials } from "./auth.ts";
import { fromWire, KalamError, transportError } from "./errors.ts";
import { type Column, decodeArrayRow, decodersOf, encodeParam, type Row } from "./values.ts";

/** One statement's result. */
export interface StatementResult<R extends Row = Row> {
  /** Rows as objects keyed by column name, values typed by `schema` (empty for DML/DDL). */
  readonly rows: R[];
  readonly schema: Column[];
  readonly rowCount: number;
  /** The server's message for statements without rows (`Inserted 2 row(s)`). */
  readonly message?: string;
  /** This statement's server time in ms (the batch's `tookMs` covers all of them). */
  readonly tookMs: number;
}

/** The result of `query`: the last statement's result, and every statement's in `results`. */
export interface QueryResult<R extends Row = Row> extends StatementResult<R> {
  /** Server time of the whole batch in milliseconds (`took_ms`). */
  readonly tookMs: number;
  /** Who the statements ran as. */
  readonly asUser?: string;
  /** Every statement's result, in order. */
  readonly results: StatementResult<R>[];
}

export interface QueryOptions {
  readonly signal?: AbortSignal;
}

interface WireResult {
  schema?: Column[];
  rows?: unknown[][];
  row_count?: number;
  message?: string;
  took_ms?: number;
}

export class SqlEndpoint {
  #url: string;
  #credentials: Credentials;
  #fetch: typeof fetch;

  constructor(base: string, credentials: Credentials, fetchFn: typeof fetch) {
    this.#url = `${base}/v1/api/sql`;
    this.#credentials = credentials;
    this.#fetch = fetchFn;
  }

  async query<R extends Row = Row>(
    sql: string,
    params: readonly unknown[] | undefined,
    options: QueryOptions = {},
  ): Promise<QueryResult<R>> {
    const body = JSON.stringify(
      params && params.length ? { sql, params: params.map(encodeParam) } : { sql },
    );
    let token = await this.#credentials.token(options.signal);
    let res = await this.#post(body, token, options.signal);
    if (res.status === 401 && this.#credentials.rejected(token)) {
      await res.body?.cancel();
      token = await this.#credentials.token(options.signal);
      res = await this.#post(body, token, options.signal);
    }
    let json: Record<string, unknown>;
    try {
      json = await res.json();
    } catch (err) {
      if (options.signal?.aborted) throw transportError(err, options.signal);
      throw new KalamError({
        code: "PROTOCOL_ERROR",
        message: `The server answered HTTP ${res.status} without a JSON body`,
        status: res.status,
      });
    }
    let results: StatementResult<R>[];
    try {
      results = ((json.results ?? []) as WireResult[]).map((r) => decodeResult<R>(r));
    } catch (err) {
      throw new KalamError({ code: "PROTOCOL_ERROR", message: String(err), cause: err });
    }
    if (json.status !== "success") {
      // The statements before the failing one ran (each is atomic): their results come along.
      throw Object.assign(fromWire(json.error, res.status), { results });
    }
    const last = results[results.length - 1] ?? { rows: [], schema: [], rowCount: 0, tookMs: 0 };
    return {
      ...last,
      tookMs: json.took_ms as number,
      asUser: json.as_user as string | undefined,
      results,
    };
  }

  async #post(body: string, token: string | undefined, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    try {
      return await this.#fetch(this.#url, { method: "POST", headers, body, signal });
    } catch (err) {
      throw transportError(err, signal);
    }
  }
}

function decodeResult<R extends Row>(r: WireResult): StatementResult<R> {
  const schema = r.schema ?? [];
  const decoders = decodersOf(schema);
  const rows = (r.rows ?? []).map((row) => decodeArrayRow(schema, decoders, row) as R);
  const out: StatementResult<R> = {
    rows,
    schema,
    rowCount: r.row_count ?? rows.length,
    tookMs: r.took_ms ?? 0,
  };
  return r.message === undefined ? out : { ...out, message: r.message };
}
