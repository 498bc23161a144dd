// Remote mode: the CLI's statements over the client SDK (HTTP for SQL, the shared WebSocket for
// `\subscribe`). Results are turned into the engine's result shape so batch mode and the shell
// print them with the same code as embedded mode: typed values back to engine values, each
// statement with its own server time. `--continue-on-error` resends the rest of the batch after
// a failing statement (the HTTP API stops at the first error), with positions mapped back.

import {
  type Auth,
  createClient,
  type KalamClient,
  KalamError,
  type StatementResult as WireResult,
  Timestamp,
  tokenClaims,
} from "../client/mod.ts";
import { type BaseType, parseSql, type TypeName, type Value } from "../sql/mod.ts";
import type { BatchResult, StatementResult } from "../storage/mod.ts";
import { DbError, type ErrorCode } from "../errors.ts";
import {
  type DownloadOptions,
  type ExecuteRequest,
  type LiveEvent,
  type LiveOptions,
  type Session,
  type SessionInfo,
  writeNewFile,
} from "./session.ts";
import { encodeBase64 } from "../sql/mod.ts";

export interface RemoteOptions {
  readonly url: string;
  readonly auth?: Auth;
  /** Where the credentials came from, for `\session`. */
  readonly credentials: string;
  /** The role when the credentials say it (a stored login). */
  readonly role?: string;
}

export class RemoteSession implements Session {
  readonly info: SessionInfo;
  #client: KalamClient;

  private constructor(client: KalamClient, info: SessionInfo) {
    this.#client = client;
    this.info = info;
  }

  /** GETs the zip and streams the body into `to`; a body shorter than Content-Length fails. */
  async download(url: string, to: string, options: DownloadOptions = {}): Promise<number> {
    const res = await this.#client.download(url, options.signal).catch((err) => {
      throw options.signal?.aborted ? err : asDbError(err);
    });
    if (res.status !== 200) {
      const text = await res.text();
      let message = `download failed: HTTP ${res.status}`;
      try {
        message = JSON.parse(text).error.message ?? message;
      } catch { /* not JSON */ }
      throw new DbError(res.status === 404 ? "NOT_FOUND" : "PERMISSION_DENIED", message);
    }
    const length = res.headers.get("content-length");
    const total = length === null ? undefined : Number(length);
    let bytes: number;
    try {
      bytes = await writeNewFile(to, res.body ?? [], {
        progress: (n) => options.progress?.(n, total),
        signal: options.signal,
      });
    } catch (err) {
      await res.body?.cancel().catch(() => {});
      const local = err instanceof Deno.errors.AlreadyExists ||
        err instanceof Deno.errors.PermissionDenied;
      if (local || options.signal?.aborted) throw err; // about `to`, or stopped: not the transfer
      const reason = err instanceof Error ? err.message : String(err);
      throw new DbError("STORAGE_ERROR", `download of ${url} broke off: ${reason}`);
    }
    if (total !== undefined && bytes !== total) {
      throw new DbError(
        "STORAGE_ERROR",
        `download of ${url} ended after ${bytes} of ${total} bytes`,
      );
    }
    return bytes;
  }

  /** Connects: the healthcheck (server version), then who the credentials are. */
  static async connect(o: RemoteOptions): Promise<RemoteSession> {
    const client = createClient({ url: o.url, auth: o.auth });
    try {
      const version = await serverVersion(client.url);
      const who = await client.query("SELECT 1");
      const s = client.session;
      const token = o.auth && "token" in o.auth ? o.auth.token : undefined;
      const claims = token ? tokenClaims(token) : undefined;
      const exp = typeof claims?.exp === "number" ? new Date(claims.exp * 1000) : s.expiresAt;
      const url = new URL(client.url);
      return new RemoteSession(client, {
        mode: "remote",
        target: client.url,
        host: url.host,
        serverVersion: version,
        user: who.asUser ?? s.user ?? "unknown",
        role: s.role ?? o.role ?? String(claims?.role ?? "unknown"),
        credentials: o.credentials,
        ...(exp ? { tokenExpiresAt: exp } : {}),
      });
    } catch (err) {
      client.close();
      throw asDbError(err);
    }
  }

  async execute(sql: string, request: ExecuteRequest = {}): Promise<BatchResult> {
    const started = performance.now();
    const results: StatementResult[] = [];
    const errors: DbError[] = [];
    let asUser = this.info.user;
    let offset = 0; // where the part of the batch still to run starts
    let done = 0; // statements before it
    for (;;) {
      try {
        const r = await this.#client.query(sql.slice(offset), undefined, {
          signal: request.signal,
        });
        results.push(...r.results.map((x, i) => engineResult(x, done + i + 1)));
        asUser = r.asUser ?? asUser;
        break;
      } catch (err) {
        const e = asDbError(err);
        const ran = err instanceof KalamError ? err.results ?? [] : [];
        results.push(...ran.map((x, i) => engineResult(x, done + i + 1)));
        const failedAt = e.statement;
        shiftPosition(e, sql, offset, done);
        errors.push(e);
        if (!request.continueOnError || failedAt === undefined) break;
        const next = resumeAt(sql.slice(offset), failedAt);
        if (next === undefined) break;
        offset += next;
        done += failedAt;
      }
    }
    return {
      results,
      error: errors[0],
      errors,
      asUser,
      tookMs: performance.now() - started,
    };
  }

  subscribe(
    sql: string,
    onEvent: (e: LiveEvent) => void,
    signal: AbortSignal,
    options: LiveOptions = {},
  ): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const sub = this.#client.subscribe(sql, {
      onSnapshot: (rows, { seq }) => onEvent({ kind: "snapshot", rows: rows.map(wireRow), seq }),
      onReset: (rows, { seq }) => onEvent({ kind: "reset", rows: rows.map(wireRow), seq }),
      onResumed: ({ fromSeq }) => onEvent({ kind: "resumed", rows: [], seq: fromSeq }),
      onChange: (c) =>
        onEvent({
          kind: c.op,
          rows: c.rows.map(wireRow),
          oldRows: c.oldRows.map(wireRow),
          seq: c.seq,
        }),
      onError: (err) => reject(asDbError(err)),
    }, { signal, lastRows: options.lastRows });
    signal.addEventListener("abort", () => resolve(), { once: true });
    sub.ready.catch((err) => reject(asDbError(err)));
    return promise;
  }

  close(): Promise<void> {
    this.#client.close();
    return Promise.resolve();
  }
}

async function serverVersion(base: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`${base}/v1/api/healthcheck`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new DbError(
      "NETWORK_ERROR" as ErrorCode,
      `cannot reach ${base}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const body = await res.json().catch(() => ({}));
  return [body.version, body.commit && `commit ${body.commit}`].filter(Boolean).join(", ") ||
    "unknown";
}

/** A KalamError (or anything) as the DbError the CLI's printers take. */
export function asDbError(err: unknown): DbError {
  if (err instanceof DbError) return err;
  if (err instanceof KalamError) {
    return new DbError(err.code as ErrorCode, err.message, {
      statement: err.statement,
      line: err.line,
      column: err.column,
    });
  }
  return new DbError("INTERNAL_ERROR", err instanceof Error ? err.message : String(err));
}

/**
 * Where the batch goes on after statement `failedAt` failed: just past it (and its `;`). None
 * when the failure was the parser's — a batch ends at a syntax error, as it does embedded.
 */
function resumeAt(rest: string, failedAt: number): number | undefined {
  const { statements, diagnostics } = parseSql(rest);
  if (diagnostics.some((d) => d.statement <= failedAt)) return undefined;
  const failed = statements[failedAt - 1];
  if (!failed) return undefined;
  let at = failed.span.end;
  while (at < rest.length && /\s/.test(rest[at])) at++;
  if (rest[at] === ";") at++;
  return at < rest.length && rest.slice(at).trim() !== "" ? at : undefined;
}

/** Positions of the resent rest of a batch, as positions in the whole batch. */
function shiftPosition(e: DbError, sql: string, offset: number, done: number): void {
  if (e.statement !== undefined) e.statement += done;
  if (offset === 0 || e.line === undefined) return;
  const before = sql.slice(0, offset);
  const lines = before.split("\n");
  if (e.line === 1 && e.column !== undefined) e.column += lines[lines.length - 1].length;
  e.line += lines.length - 1;
}

/** An SDK result in the engine's shape (rows as arrays of engine values, parsed types). */
function engineResult(r: WireResult, statement: number): StatementResult {
  const base = { statement, rowCount: r.rowCount, tookMs: r.tookMs };
  const withMessage = r.message === undefined ? base : { ...base, message: r.message };
  if (r.schema.length === 0) return withMessage; // DML and DDL: a message or a row count
  const types = r.schema.map((c) => typeOf(c.type));
  const rows = r.rows.map((row) => r.schema.map((c, i) => engineValue(row[c.name], types[i])));
  return { ...withMessage, schema: r.schema, types, rows };
}

/** `DECIMAL(10,2)` → { base: DECIMAL, precision: 10, scale: 2 }. */
export function typeOf(text: string): TypeName {
  const m = /^([A-Z]+)(?:\((\d+)(?:,\s*(\d+))?\))?$/.exec(text.trim().toUpperCase());
  if (!m) return { base: "TEXT" };
  const base = m[1] as BaseType;
  if (m[2] === undefined) return { base };
  return m[3] === undefined
    ? { base, precision: Number(m[2]) }
    : { base, precision: Number(m[2]), scale: Number(m[3]) };
}

function engineValue(v: unknown, t: TypeName): Value {
  if (v === null || v === undefined) return null;
  if (v instanceof Timestamp) return v.epochNanos;
  if (t.base === "JSON") return JSON.stringify(v);
  return v as Value;
}

/** A typed row back in the wire form of SPEC §8, as embedded subscriptions print it. */
function wireRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = typeof v === "bigint"
      ? String(v)
      : v instanceof Timestamp
      ? v.toString()
      : v instanceof Uint8Array
      ? encodeBase64(v)
      : v;
  }
  return out;
}
