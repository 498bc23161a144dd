// The flush's bridge to its worker (storage/_flush_worker.ts): raw buffer rows are packed into
// transferable pages and sent as they are read; the worker decodes them and builds the Parquet
// segment. Where workers are unavailable (a binary compiled without the worker), the same
// SegmentBuilder runs in-process.

import { DbError } from "../errors.ts";
import type { SegmentStats } from "./parquet.ts";
import type { TableInfo } from "./catalog.ts";
import { type EncodePage, type EncodeReply, SegmentBuilder } from "./_flush_worker.ts";

/** One undecoded buffered row version. */
export interface RawRow {
  readonly rowId: unknown;
  readonly seq: bigint;
  readonly deleted: boolean;
  readonly version: number;
  readonly data: Uint8Array;
}

/** One segment in the making: pages go to the worker as they are read. */
export interface EncodeSession {
  page(rows: readonly RawRow[]): void;
  finish(): Promise<{ bytes: Uint8Array; stats: SegmentStats }>;
  cancel(): void;
}

/** Raw rows as one transferable page. */
function pageOf(rows: readonly RawRow[]): Omit<EncodePage, "kind" | "id"> {
  let size = 0;
  for (const r of rows) size += r.data.byteLength;
  const data = new Uint8Array(size);
  const offsets = new Int32Array(rows.length + 1);
  const rowVersions = new Int32Array(rows.length);
  const seqs = new BigInt64Array(rows.length);
  const deleted = new Uint8Array(rows.length);
  let at = 0;
  rows.forEach((r, i) => {
    offsets[i] = at;
    data.set(r.data, at);
    at += r.data.byteLength;
    rowVersions[i] = r.version;
    seqs[i] = r.seq;
    deleted[i] = r.deleted ? 1 : 0;
  });
  offsets[rows.length] = at;
  return { data, offsets, rowVersions, seqs, deleted };
}

/**
 * The flush worker (storage/_flush_worker.ts), started on first use. Where workers are not
 * available (a compiled binary built without it), segments are built in-process instead.
 */
export class Encoder {
  #worker?: Worker;
  #failed = false;
  #next = 0;
  #waiting = new Map<number, { resolve(r: EncodeReply): void }>();

  session(table: TableInfo): EncodeSession {
    const begin = {
      current: table.columns,
      versions: [...table.versions],
      columns: table.schema.columns.map((c) => ({ name: c.name, type: c.type })),
    } as const;
    const worker = this.#start();
    if (!worker) {
      const builder = new SegmentBuilder(begin);
      return {
        page: (rows) => builder.add(pageOf(rows)),
        finish: () => Promise.resolve(builder.finish()),
        cancel: () => {},
      };
    }
    const id = this.#next++;
    worker.postMessage({ kind: "begin", id, ...begin });
    return {
      page: (rows) => {
        const p = pageOf(rows);
        worker.postMessage({ kind: "page", id, ...p }, [p.data.buffer as ArrayBuffer]);
      },
      finish: async () => {
        const reply = await new Promise<EncodeReply>((resolve) => {
          this.#waiting.set(id, { resolve });
          worker.postMessage({ kind: "finish", id });
        });
        if ("error" in reply) {
          throw new DbError("STORAGE_ERROR", `Flush encoding failed: ${reply.error}`);
        }
        return reply;
      },
      cancel: () => {
        // The worker answers and forgets the segment; nobody waits for that answer.
        worker.postMessage({ kind: "finish", id });
      },
    };
  }

  #start(): Worker | undefined {
    if (this.#worker || this.#failed) return this.#worker;
    try {
      const w = new Worker(new URL("./_flush_worker.ts", import.meta.url).href, { type: "module" });
      w.onmessage = (e: MessageEvent<EncodeReply>) => {
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

  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const [id, w] of this.#waiting) w.resolve({ id, error: "closed" });
    this.#waiting.clear();
  }
}
