// The flush's heavy half, off the main thread, in two workers that run at once: a reader reads
// the scope's buffered versions from SQLite (its own connection to the same WAL file) in pages
// and hands each page's raw rows straight to an encoder, which decodes them (MessagePack, any
// schema version) and encodes the Parquet segment. The main thread only takes the snapshot
// before and writes files and deletes after, so a flush never holds requests up for long
// (reading on the main thread kept requests waiting, and its garbage lengthened the main heap's
// collections), and reading overlaps decoding and encoding on the second core.
// Messages from the main thread: `read` or `encode` (with the port between the two), `close`.
// `buildSegment` is the same work in-process, in sequence (no workers).

import { DatabaseSync } from "node:sqlite";
import {
  arrayStatement,
  flushReadSql,
  makeDecoder,
  type RowDecoder,
  type SqlParam,
  type SqlStatement,
  type StoredColumn,
} from "../hot/mod.ts";
import { DEFAULT_ROW_GROUP_SIZE, SegmentEncoder, type SegmentStats } from "../parquet/mod.ts";
import { keyLayout, type SortedKeys, sortKeys } from "./segment_keys.ts";
import { keyFromRowId } from "./pruning.ts";
import type { TypeName, Value } from "../../sql/mod.ts";
import { logError } from "../../log.ts";

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
  /**
   * Per delete chunk, flattened: its first and last row id and how many live rows and deletion
   * markers it read (over every version read).
   */
  readonly chunks: SqlParam[];
  /**
   * The written versions' keys: ascending SortedKeys when the key type has a layout (`keyLayout`),
   * else the values in read order.
   */
  readonly keys: SortedKeys | Value[];
  readonly sorted: boolean;
  /** `_seq` of each written version, in the order of `keys`. */
  readonly seqs: BigInt64Array;
}

/** What the reader reports: everything of BuildResult but the segment. */
export type ReadResult = Omit<BuildResult, "bytes" | "stats">;

/** New versions' raw rows, packed for a transfer: row i is data[offsets[i] .. offsets[i + 1]]. */
export interface RawPage {
  readonly data: Uint8Array;
  readonly offsets: Int32Array;
  readonly rowVersions: Int32Array;
  readonly seqs: BigInt64Array;
  readonly deleted: Uint8Array;
}

/** Messages from the main thread. */
export type WorkerMessage =
  | { readonly id: number; readonly read: BuildRequest; readonly port: MessagePort }
  | { readonly id: number; readonly encode: BuildRequest; readonly port: MessagePort }
  | {
    readonly id: number;
    readonly checkpoint: { readonly path: string; readonly everyMs: number };
  }
  | { readonly id: number; readonly close: true };

/** A worker's answer: the reader's ReadResult, the encoder's segment, or an error. */
export type WorkerReply =
  | ({ readonly id: number } & ReadResult)
  | { readonly id: number; readonly bytes?: Uint8Array; readonly stats?: SegmentStats }
  | { readonly id: number; readonly error: string };

const PAGE = 4096;
const READ = flushReadSql(PAGE);

/** Opens a reading connection to the data directory's SQLite file. */
export function openReader(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout = 5000; PRAGMA query_only = 1; PRAGMA cache_size = -16384;");
  return db;
}

function arrays(db: DatabaseSync, sql: string): SqlStatement {
  return arrayStatement(db.prepare(sql));
}

/**
 * Reads a scope's versions with `_seq` ≤ snapshot in pages, in one read transaction of `db`;
 * `sink` gets each page's new versions (above flushedSeq) raw.
 */
export function readScope(
  db: DatabaseSync,
  req: BuildRequest,
  sink: (page: RawPage) => void,
): ReadResult {
  const keys: Value[] = [];
  const seqs: bigint[] = [];
  const chunks: SqlParam[] = [];
  const first = arrays(db, READ.first), next = arrays(db, READ.next);
  let read = 0, live = 0, markers = 0;
  let last: SqlParam | undefined;
  db.exec("BEGIN");
  try {
    for (;;) {
      const page = (last === undefined
        ? first.all(req.tableId, req.userId, req.snapshot)
        : next.all(req.tableId, req.userId, req.snapshot, last)) as unknown as RawRow[];
      const fresh: typeof page = [];
      for (const r of page) {
        if (read % req.deleteChunk === 0) {
          if (read > 0) {
            chunks.push(last!, live, markers);
          }
          chunks.push(r[0]);
          live = markers = 0;
        }
        last = r[0];
        read++;
        if (r[2] & 1) {
          markers++;
        } else live++;
        if (r[1] <= req.flushedSeq) {
          continue;
        }
        fresh.push(r);
        keys.push(keyFromRowId(r[0], req.pkType));
        seqs.push(r[1]);
      }
      if (fresh.length) {
        sink(pack(fresh));
      }
      if (page.length < PAGE) {
        break;
      }
    }
  } finally {
    db.exec("COMMIT");
  }
  if (read > 0) chunks.push(last!, live, markers);
  const layout = keyLayout(req.pkType);
  const sorted = layout ? sortKeys(layout, keys, seqs) : { keys, seqs: BigInt64Array.from(seqs) };
  return { rows: keys.length, chunks, ...sorted, sorted: layout !== undefined };
}

/** A buffer row as read: row id, `_seq`, `version * 2 + deleted`, data. */
type RawRow = [SqlParam, bigint, number, Uint8Array];

function pack(rows: readonly RawRow[]): RawPage {
  let size = 0;
  for (const r of rows) size += r[3].byteLength;
  const data = new Uint8Array(size);
  const offsets = new Int32Array(rows.length + 1);
  const rowVersions = new Int32Array(rows.length);
  const seqs = new BigInt64Array(rows.length);
  const deleted = new Uint8Array(rows.length);
  let at = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    offsets[i] = at;
    data.set(r[3], at);
    at += r[3].byteLength;
    rowVersions[i] = r[2] >> 1;
    seqs[i] = r[1];
    deleted[i] = r[2] & 1;
  }
  offsets[rows.length] = at;
  return { data, offsets, rowVersions, seqs, deleted };
}

function transferOf(page: RawPage): ArrayBuffer[] {
  return [page.data, page.offsets, page.rowVersions, page.seqs, page.deleted].map((a) =>
    a.buffer as ArrayBuffer
  );
}

/**
 * Decodes raw pages into rows and encodes each full row group at once, so encoding overlaps the
 * reader's later pages.
 */
export class SegmentBuilder {
  readonly #decoders: Map<number, RowDecoder>;
  readonly #encoder: SegmentEncoder;
  #rows: Value[][] = [];
  #written = 0;

  constructor(req: BuildRequest) {
    this.#encoder = new SegmentEncoder(req.columns);
    this.#decoders = new Map(req.versions.map(([v, cols]) => [v, makeDecoder(cols, req.current)]));
  }

  add(page: RawPage): void {
    for (let i = 0; i < page.seqs.length; i++) {
      const decode = this.#decoders.get(page.rowVersions[i]);
      if (!decode) throw new Error(`no schema version ${page.rowVersions[i]}`);
      const row = decode(page.data.subarray(page.offsets[i], page.offsets[i + 1]));
      row.push(page.seqs[i], page.deleted[i] === 1);
      this.#rows.push(row);
      if (this.#rows.length === DEFAULT_ROW_GROUP_SIZE) this.#flushGroup();
    }
  }

  #flushGroup(): void {
    this.#encoder.write(this.#rows);
    this.#written += this.#rows.length;
    this.#rows = [];
  }

  finish(): { bytes?: Uint8Array; stats?: SegmentStats } {
    if (this.#rows.length) this.#flushGroup();
    return this.#written ? this.#encoder.finish() : {};
  }
}

/** Reads, decodes and encodes one scope in sequence, in-process. */
export function buildSegment(db: DatabaseSync, req: BuildRequest): BuildResult {
  const builder = new SegmentBuilder(req);
  const read = readScope(db, req, (page) => builder.add(page));
  return { ...read, ...builder.finish() };
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
if (typeof scope.WorkerGlobalScope !== "undefined" && scope instanceof scope.WorkerGlobalScope) {
  const readers = new Map<string, DatabaseSync>();
  const reader = (path: string) => {
    let db = readers.get(path);
    if (!db) readers.set(path, db = openReader(path));
    return db;
  };
  let checkpoints: ReturnType<typeof setInterval> | undefined;
  const fail = (id: number, err: unknown) =>
    scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  scope.onmessage = (e: MessageEvent<WorkerMessage>) => {
    const m = e.data;
    if ("checkpoint" in m) {
      // The writer leaves checkpoints to this thread (see SqliteStore.checkpointElsewhere), so
      // copying the WAL into the database file and its fsyncs never stall the main thread.
      const { path, everyMs } = m.checkpoint;
      clearInterval(checkpoints);
      checkpoints = setInterval(() => {
        try {
          reader(path).exec("PRAGMA wal_checkpoint(PASSIVE)");
        } catch (err) {
          logError("background checkpoint", err);
        }
      }, everyMs);
      scope.postMessage({ id: m.id });
    } else if ("close" in m) {
      clearInterval(checkpoints);
      for (const db of readers.values()) db.close();
      readers.clear();
      scope.postMessage({ id: m.id, error: "closed" });
    } else if ("read" in m) {
      try {
        const result = readScope(
          reader(m.read.path),
          m.read,
          (page) => m.port.postMessage(page, transferOf(page)),
        );
        m.port.postMessage(null);
        m.port.close();
        const transfer: ArrayBuffer[] = [result.seqs.buffer as ArrayBuffer];
        if (ArrayBuffer.isView(result.keys)) transfer.push(result.keys.buffer as ArrayBuffer);
        scope.postMessage({ id: m.id, ...result }, transfer);
      } catch (err) {
        m.port.postMessage(null);
        m.port.close();
        fail(m.id, err);
      }
    } else {
      // Pages until `null` (the reader is done; a failed read is reported by the reader).
      let builder: SegmentBuilder | undefined = new SegmentBuilder(m.encode);
      let error: unknown;
      m.port.onmessage = (p: MessageEvent<RawPage | null>) => {
        if (p.data !== null) {
          try {
            builder?.add(p.data);
          } catch (err) {
            error = err;
            builder = undefined;
          }
          return;
        }
        m.port.close();
        if (!builder) return fail(m.id, error);
        try {
          const { bytes, stats } = builder.finish();
          scope.postMessage({ id: m.id, bytes, stats }, bytes ? [bytes.buffer] : []);
        } catch (err) {
          fail(m.id, err);
        }
      };
    }
  };
}
