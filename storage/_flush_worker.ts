// The flush's heavy half, off the main thread: read a scope's buffered versions from SQLite
// (its own connection to the same WAL file), decode them (MessagePack, any schema version) and
// encode them as one Parquet segment. The main thread only takes the snapshot before and writes
// files and deletes after, so a flush never holds requests up for long: reading on the main
// thread, even in pages, kept requests waiting (and its garbage made the main heap's
// collections longer).
// Messages: `build` → `BuildReply`. `buildSegment` is the same work in-process (no worker).

import { DatabaseSync } from "node:sqlite";
import { makeDecoder, type RowDecoder, type StoredColumn } from "./codec.ts";
import { encodeSegment, type SegmentStats } from "./parquet.ts";
import { keyLayout, type SortedKeys, sortKeys } from "./_keys.ts";
import { keyFromRowId } from "./_segments.ts";
import type { TypeName } from "../sql/ast.ts";
import type { Value } from "../sql/values.ts";

/** What to flush: the scope, its snapshot, and how to decode and encode its rows. */
export interface BuildRequest {
  /** The SQLite file (the worker opens its own connection). */
  readonly path: string;
  readonly tableId: number;
  readonly userId: string;
  /** Versions with `_seq` ≤ snapshot are read. */
  readonly snapshot: bigint;
  /** Versions at or below it are already in a segment: only their row ids are reported. */
  readonly flushedSeq: bigint;
  /** The primary key's base type (row ids → key values). */
  readonly pkType: string;
  /** Rows per delete chunk the main thread will run (one `[first, last]` pair each). */
  readonly deleteChunk: number;
  /** The table's current user columns, and the stored columns of every schema version. */
  readonly current: readonly StoredColumn[];
  readonly versions: readonly [number, readonly StoredColumn[]][];
  /** Every column of the segment (user columns, `_seq`, `_deleted`), in order. */
  readonly columns: readonly { name: string; type: TypeName }[];
}

/** The segment (absent when no version was new) and what the main thread needs after it. */
export interface BuildResult {
  /** Versions written to the segment. */
  readonly rows: number;
  readonly bytes?: Uint8Array;
  readonly stats?: SegmentStats;
  /** `[first, last]` row ids of each delete chunk, flattened, over every version read. */
  readonly chunks: unknown[];
  /**
   * The written versions' keys: ascending SortedKeys when the key type has a layout (`keyLayout`),
   * else the values in read order.
   */
  readonly keys: SortedKeys | Value[];
  readonly sorted: boolean;
  /** `_seq` of each written version, in the order of `keys`. */
  readonly seqs: BigInt64Array;
}

/** A build request, or `close`: close the connections, then answer (an error reply). */
export type WorkerMessage =
  | { readonly id: number; readonly request: BuildRequest }
  | { readonly id: number; readonly close: true };

export type BuildReply =
  | ({ readonly id: number } & BuildResult)
  | { readonly id: number; readonly error: string };

const SELECT = `SELECT row_id, seq, deleted, version, data FROM buffer
  WHERE table_id = ? AND user_id = ? AND seq <= ? ORDER BY row_id`;

/** Opens a reading connection to the data directory's SQLite file. */
export function openReader(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout = 5000; PRAGMA query_only = 1; PRAGMA cache_size = -16384;");
  return db;
}

/** Reads, decodes and encodes one scope's versions in one read transaction of `db`. */
export function buildSegment(db: DatabaseSync, req: BuildRequest): BuildResult {
  const decoders = new Map<number, RowDecoder>(
    req.versions.map(([v, cols]) => [v, makeDecoder(cols, req.current)]),
  );
  const rows: Value[][] = [];
  const keys: Value[] = [];
  const seqs: bigint[] = [];
  const chunks: unknown[] = [];
  const st = db.prepare(SELECT);
  st.setReadBigInts(true);
  (st as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  db.exec("BEGIN");
  let read = 0;
  let last: unknown;
  try {
    for (const raw of st.iterate(req.tableId, req.userId, req.snapshot)) {
      const r = raw as unknown as [unknown, bigint, bigint, bigint, Uint8Array];
      if (read % req.deleteChunk === 0) {
        if (read > 0) chunks.push(last);
        chunks.push(r[0]);
      }
      last = r[0];
      read++;
      const seq = r[1];
      if (seq <= req.flushedSeq) continue;
      const decode = decoders.get(Number(r[3]));
      if (!decode) throw new Error(`no schema version ${r[3]}`);
      const row = decode(r[4]);
      row.push(seq, r[2] === 1n);
      rows.push(row);
      keys.push(keyFromRowId(r[0], req.pkType));
      seqs.push(seq);
    }
  } finally {
    db.exec("COMMIT");
  }
  if (read > 0) chunks.push(last);
  const layout = keyLayout(req.pkType);
  const sorted = layout ? sortKeys(layout, keys, seqs) : { keys, seqs: BigInt64Array.from(seqs) };
  const out = { rows: rows.length, chunks, ...sorted, sorted: layout !== undefined };
  if (rows.length === 0) return out;
  return { ...out, ...encodeSegment(req.columns, rows) };
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
if (typeof scope.WorkerGlobalScope !== "undefined" && scope instanceof scope.WorkerGlobalScope) {
  const readers = new Map<string, DatabaseSync>();
  scope.onmessage = (e: MessageEvent<WorkerMessage>) => {
    const { id } = e.data;
    if ("close" in e.data) {
      for (const db of readers.values()) db.close();
      readers.clear();
      scope.postMessage({ id, error: "closed" });
      return;
    }
    const { request } = e.data;
    try {
      let db = readers.get(request.path);
      if (!db) readers.set(request.path, db = openReader(request.path));
      const result = buildSegment(db, request);
      const transfer: ArrayBuffer[] = [result.seqs.buffer as ArrayBuffer];
      if (ArrayBuffer.isView(result.keys)) transfer.push(result.keys.buffer as ArrayBuffer);
      if (result.bytes) transfer.push(result.bytes.buffer as ArrayBuffer);
      scope.postMessage({ id, ...result }, transfer);
    } catch (err) {
      scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
    }
  };
}
