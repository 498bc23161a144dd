// Embedded mode: the data directory opened in this process (its lock keeps a server out). The
// statements run through `Database.execute` as `--as-user`; `\subscribe` registers with a live
// registry of its own over `db.live`, so it sees the writes this process makes.

import { Database } from "../storage/mod.ts";
import type { BatchResult } from "../storage/mod.ts";
import { LiveRegistry } from "../live/mod.ts";
import type { LiveConnection } from "../live/mod.ts";
import { DbError } from "../errors.ts";
import {
  type DownloadOptions,
  type ExecuteRequest,
  type LiveEvent,
  type LiveOptions,
  type Session,
  type SessionInfo,
  writeNewFile,
} from "./session.ts";

export interface EmbeddedOptions {
  readonly dataDir: string;
  readonly nodeId: number;
  readonly asUser: string;
}

export class EmbeddedSession implements Session {
  readonly info: SessionInfo;
  #db: Database;
  #registry?: LiveRegistry;
  #counter = 0;

  private constructor(db: Database, info: SessionInfo) {
    this.#db = db;
    this.info = info;
  }

  /** Copies a finished export's zip out of the data directory (`download_url` names its id). */
  async download(url: string, to: string, options: DownloadOptions = {}): Promise<number> {
    const id = decodeURIComponent(url.slice(url.lastIndexOf("/") + 1));
    const found = this.#db.exportFile(id);
    if (!found) throw new DbError("NOT_FOUND", `Export "${id}" does not exist or is not ready`);
    using source = await Deno.open(found.path, { read: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      throw new DbError("NOT_FOUND", `Export "${id}" no longer exists`); // expired meanwhile
    });
    const total = (await source.stat()).size;
    const bytes = await writeNewFile(to, chunksOf(source), {
      progress: (n) => options.progress?.(n, total),
      signal: options.signal,
    });
    if (bytes !== total) {
      throw new DbError(
        "STORAGE_ERROR",
        `Export "${id}" changed while copying: ${bytes} of ${total} bytes`,
      );
    }
    return bytes;
  }

  /** Opens the data directory (throws its DbError, e.g. the lock a running server holds). */
  static async open(options: EmbeddedOptions): Promise<EmbeddedSession> {
    const db = await Database.open({ dataDir: options.dataDir, nodeId: options.nodeId });
    let role = "system";
    if (options.asUser !== "root") {
      const r = await db.execute(
        `SELECT role FROM system.users WHERE user_id = '${options.asUser.replaceAll("'", "''")}'`,
      );
      role = String(r.results[0]?.rows?.[0]?.[0] ?? "user");
    }
    return new EmbeddedSession(db, {
      mode: "embedded",
      target: options.dataDir,
      host: "embedded",
      user: options.asUser,
      role,
      credentials: options.asUser === "root" ? "embedded (root)" : "embedded (--as-user)",
    });
  }

  execute(sql: string, request: ExecuteRequest = {}): Promise<BatchResult> {
    return this.#db.execute(sql, {
      user: this.info.user,
      signal: request.signal,
      continueOnError: request.continueOnError,
    });
  }

  subscribe(
    sql: string,
    onEvent: (e: LiveEvent) => void,
    signal: AbortSignal,
    options: LiveOptions = {},
  ): Promise<void> {
    const registry = this.#registry ??= new LiveRegistry(this.#db.live);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const conn: LiveConnection = {
      id: `embedded-${++this.#counter}`,
      principal: { user: this.info.user, role: this.info.role as never },
      send(message) {
        const m = message as Record<string, unknown>;
        if (m.type === "error") {
          reject(new DbError(m.code as never, String(m.message)));
          registry.dropConnection(conn);
        } else {
          const event = eventOf(m);
          if (event) onEvent(event);
        }
        return true;
      },
    };
    const stop = () => {
      registry.dropConnection(conn);
      resolve();
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    const wire = options.lastRows === undefined ? {} : { last_rows: options.lastRows };
    registry.subscribe(conn, "s", sql, wire).catch((err) => {
      registry.dropConnection(conn);
      reject(err);
    });
    return promise.finally(() => signal.removeEventListener("abort", stop));
  }

  /** The embedded Database, for the commands that need more than SQL (export, tests). */
  get database(): Database {
    return this.#db;
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

/** A protocol message (SPEC §8) as a shell event; the ack and batch bookkeeping print nothing. */
function eventOf(m: Record<string, unknown>): LiveEvent | undefined {
  const rows = (m.rows ?? []) as Record<string, unknown>[];
  if (m.type === "initial_data") return { kind: "snapshot", rows };
  if (m.type !== "change") return undefined;
  return {
    kind: m.op as LiveEvent["kind"],
    rows,
    oldRows: (m.old_rows ?? []) as Record<string, unknown>[],
    seq: String(m.seq),
  };
}

/** A file's bytes in 64 KiB reads through one buffer (each chunk is used before the next read). */
async function* chunksOf(file: Deno.FsFile): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(64 * 1024);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) return;
    yield buffer.subarray(0, n);
  }
}
