// A session: where the CLI's statements go — a server over the client SDK (remote) or the data
// directory in this process (embedded). Batch mode and the shell print whatever a session
// returns with the same code, so both modes show the same tables, `Took:` lines and errors.

import type { BatchResult } from "../storage/mod.ts";

export type Mode = "remote" | "embedded";

/** Who and where: what the banner, the prompt and `\session` show. */
export interface SessionInfo {
  readonly mode: Mode;
  /** The server URL (remote) or the data directory (embedded). */
  readonly target: string;
  /** The host part for the prompt (`127.0.0.1:2900`, or `embedded`). */
  readonly host: string;
  readonly serverVersion?: string;
  readonly user: string;
  readonly role: string;
  /** Where the credentials came from (`--user/--password`, `credentials file (instance local)`, …). */
  readonly credentials: string;
  /** When the access token expires (remote, token logins). */
  readonly tokenExpiresAt?: Date;
}

/** One event of a `\subscribe` / `SUBSCRIBE TO` stream; rows as display-ready objects. */
export interface LiveEvent {
  readonly kind: "snapshot" | "insert" | "update" | "delete" | "reset" | "resumed";
  readonly rows: readonly Record<string, unknown>[];
  readonly oldRows?: readonly Record<string, unknown>[];
  readonly seq?: string;
}

/** Options of a `\subscribe` / `SUBSCRIBE TO … OPTIONS (last_rows = N)`. */
export interface LiveOptions {
  /** The snapshot holds only the newest N rows. */
  readonly lastRows?: number;
}

export interface ExecuteRequest {
  readonly signal?: AbortSignal;
  readonly continueOnError?: boolean;
}

export interface DownloadOptions {
  /** Hears the bytes written so far, and the whole size when the source says it. */
  readonly progress?: (bytes: number, total: number | undefined) => void;
  /** Stops the download: it rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface Session {
  readonly info: SessionInfo;
  /** Runs a batch; errors of statements are in the result (like `Database.execute`). */
  execute(sql: string, request?: ExecuteRequest): Promise<BatchResult>;
  /**
   * Streams a live query's events until `signal` aborts (resolves) or the subscription fails
   * (rejects with a DbError-shaped error).
   */
  subscribe(
    sql: string,
    onEvent: (e: LiveEvent) => void,
    signal: AbortSignal,
    options?: LiveOptions,
  ): Promise<void>;
  /**
   * Streams a finished export, by its `download_url` (SHOW EXPORTS), into the new file `to`
   * (created 0600; it must not exist) and returns its size. On failure `to` may hold part of
   * the zip: the caller removes it.
   */
  download(url: string, to: string, options?: DownloadOptions): Promise<number>;
  close(): Promise<void>;
}

/**
 * Writes `chunks` into the new file `to` (0600, never an existing file) in constant memory,
 * syncs it and returns the byte count; what both sessions' `download` share.
 */
export async function writeNewFile(
  to: string,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: { progress?: (bytes: number) => void; signal?: AbortSignal } = {},
): Promise<number> {
  using file = await Deno.open(to, { write: true, createNew: true, mode: 0o600 });
  let bytes = 0;
  for await (const chunk of chunks) {
    options.signal?.throwIfAborted();
    for (let at = 0; at < chunk.length;) at += await file.write(chunk.subarray(at));
    bytes += chunk.length;
    options.progress?.(bytes);
  }
  options.signal?.throwIfAborted(); // also when it came with the last chunk
  await file.sync();
  return bytes;
}
