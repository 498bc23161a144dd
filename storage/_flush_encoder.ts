// The flush's bridge to its worker (storage/_flush_worker.ts): one `build` request per scope;
// the worker reads the scope's versions through its own SQLite connection and answers with the
// segment. Where workers are unavailable (a binary compiled without the worker), the same
// `buildSegment` runs in-process on a connection of its own.

import type { DatabaseSync } from "node:sqlite";
import { DbError } from "../errors.ts";
import {
  type BuildReply,
  type BuildRequest,
  type BuildResult,
  buildSegment,
  openReader,
  type WorkerMessage,
} from "./_flush_worker.ts";

export type { BuildRequest, BuildResult } from "./_flush_worker.ts";

/** The flush worker, started on first use. */
export class Encoder {
  #worker?: Worker;
  #failed = false;
  #local?: { path: string; db: DatabaseSync };
  #next = 0;
  #waiting = new Map<number, { resolve(r: BuildReply): void }>();

  /** Reads and encodes one scope (see BuildRequest); throws STORAGE_ERROR when that fails. */
  async build(request: BuildRequest): Promise<BuildResult> {
    const worker = this.#start();
    if (!worker) {
      if (this.#local?.path !== request.path) {
        this.#local?.db.close();
        this.#local = { path: request.path, db: openReader(request.path) };
      }
      return buildSegment(this.#local.db, request);
    }
    const id = this.#next++;
    const reply = await new Promise<BuildReply>((resolve) => {
      this.#waiting.set(id, { resolve });
      worker.postMessage({ id, request } satisfies WorkerMessage);
    });
    if ("error" in reply) {
      throw new DbError("STORAGE_ERROR", `Flush encoding failed: ${reply.error}`);
    }
    return reply;
  }

  #start(): Worker | undefined {
    if (this.#worker || this.#failed) return this.#worker;
    try {
      const w = new Worker(new URL("./_flush_worker.ts", import.meta.url).href, { type: "module" });
      w.onmessage = (e: MessageEvent<BuildReply>) => {
        const waiter = this.#waiting.get(e.data.id);
        this.#waiting.delete(e.data.id);
        waiter?.resolve(e.data);
      };
      w.onerror = (e) => {
        e.preventDefault();
        for (const [id, w2] of this.#waiting) w2.resolve({ id, error: e.message });
        this.#waiting.clear();
      };
      this.#worker = w;
    } catch {
      this.#failed = true;
    }
    return this.#worker;
  }

  /**
   * Stops the worker once it closed its connections: a connection left to the thread's teardown
   * would close (and checkpoint) while the next Database on the same file is opening.
   */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#local?.db.close();
    this.#local = undefined;
    if (worker) {
      const id = this.#next++;
      await new Promise<BuildReply>((resolve) => {
        this.#waiting.set(id, { resolve });
        worker.postMessage({ id, close: true } satisfies WorkerMessage);
      });
      worker.terminate();
    }
    for (const [id, w] of this.#waiting) w.resolve({ id, error: "closed" });
    this.#waiting.clear();
  }
}
