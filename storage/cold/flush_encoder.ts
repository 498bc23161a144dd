// The flush's bridge to its workers (storage/_flush_worker.ts): per scope, a `read` request to
// the reader and an `encode` request to the encoder, joined by a MessageChannel so that pages go
// from one to the other without the main thread; it waits for both answers. Where workers are
// unavailable (a binary compiled without the worker), `buildSegment` runs in-process on a
// connection of its own.

import type { DatabaseSync } from "node:sqlite";
import { DbError } from "../../errors.ts";
import {
  type BuildRequest,
  type BuildResult,
  buildSegment,
  openReader,
  type ReadResult,
  type WorkerMessage,
  type WorkerReply,
} from "./flush_worker.ts";
import type { SegmentStats } from "../parquet/mod.ts";

export type { BuildRequest, BuildResult } from "./flush_worker.ts";

/** How often the reader checkpoints the WAL. */
const CHECKPOINT_MS = 200;

/** One worker and its pending answers by request id. */
class Peer {
  readonly worker: Worker;
  #waiting = new Map<number, (r: WorkerReply) => void>();

  constructor() {
    this.worker = new Worker(new URL("./flush_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const resolve = this.#waiting.get(e.data.id);
      this.#waiting.delete(e.data.id);
      resolve?.(e.data);
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.failAll(e.message);
    };
  }

  ask(message: WorkerMessage, transfer: Transferable[] = []): Promise<WorkerReply> {
    return new Promise((resolve) => {
      this.#waiting.set(message.id, resolve);
      this.worker.postMessage(message, transfer);
    });
  }

  failAll(error: string): void {
    for (const [id, resolve] of this.#waiting) resolve({ id, error });
    this.#waiting.clear();
  }
}

/** The flush workers (reader and encoder), started on first use. */
export class Encoder {
  #path: string;
  #onCheckpoints: (elsewhere: boolean) => void;
  #peers?: { reader: Peer; encoder: Peer };
  #failed = false;
  /** Set by close(): no worker starts after it (an auto-flush tick may still be running). */
  #closed = false;
  #local?: { path: string; db: DatabaseSync };
  #next = 0;

  /**
   * `path` is the SQLite file; while the workers run, the reader also checkpoints its WAL and
   * `onCheckpoints(true)` tells the store to leave checkpoints to it (false once they stop).
   */
  constructor(path: string, onCheckpoints: (elsewhere: boolean) => void) {
    this.#path = path;
    this.#onCheckpoints = onCheckpoints;
  }

  /** Reads and encodes one scope (see BuildRequest); throws STORAGE_ERROR when that fails. */
  async build(request: BuildRequest): Promise<BuildResult> {
    if (this.#closed) throw new DbError("STORAGE_ERROR", "The database is closed");
    const peers = this.start();
    if (!peers) {
      if (this.#local?.path !== request.path) {
        this.#local?.db.close();
        this.#local = { path: request.path, db: openReader(request.path) };
      }
      return buildSegment(this.#local.db, request);
    }
    const { port1, port2 } = new MessageChannel();
    const id = this.#next++;
    const replies = [
      peers.reader.ask({ id, read: request, port: port1 }, [port1]),
      peers.encoder.ask({ id, encode: request, port: port2 }, [port2]),
    ];
    // The first error ends the build (the other worker may never answer): both workers are
    // replaced, so no half-built segment lingers in them.
    const failed = new Promise<{ error: string }>((resolve) => {
      for (const r of replies) r.then((x) => "error" in x && resolve(x));
    });
    const outcome = await Promise.race([Promise.all(replies), failed]);
    if (!Array.isArray(outcome)) {
      this.#stop(peers, outcome.error);
      throw new DbError("STORAGE_ERROR", `Flush encoding failed: ${outcome.error}`);
    }
    const [read, encoded] = outcome;
    const segment = encoded as { bytes?: Uint8Array; stats?: SegmentStats };
    return { ...(read as ReadResult), bytes: segment.bytes, stats: segment.stats };
  }

  /** Starts the workers (if not yet): at the first build, or ahead of it. */
  start(): { reader: Peer; encoder: Peer } | undefined {
    if (this.#peers || this.#failed || this.#closed) return this.#peers;
    try {
      this.#peers = { reader: new Peer(), encoder: new Peer() };
    } catch {
      this.#failed = true;
      return undefined;
    }
    const id = this.#next++;
    this.#peers.reader.ask({ id, checkpoint: { path: this.#path, everyMs: CHECKPOINT_MS } });
    this.#onCheckpoints(true);
    return this.#peers;
  }

  /**
   * Stops the workers once the reader closed its connection: a connection left to the thread's
   * teardown would close (and checkpoint) while the next Database on the same file is opening.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const peers = this.#peers;
    this.#peers = undefined;
    this.#local?.db.close();
    this.#local = undefined;
    if (!peers) return;
    await peers.reader.ask({ id: this.#next++, close: true });
    this.#stop(peers, "closed");
  }

  #stop(peers: { reader: Peer; encoder: Peer }, reason: string): void {
    if (this.#peers === peers) this.#peers = undefined;
    this.#onCheckpoints(false);
    for (const p of [peers.reader, peers.encoder]) {
      p.worker.terminate();
      p.failAll(reason);
    }
  }
}
