// The flush's CPU-heavy half, off the main thread: decode a scope's buffered rows (MessagePack,
// any schema version) and encode them as one Parquet segment. The main thread only reads the raw
// rows from SQLite (in pages) and writes files, so a flush never stalls requests for long.
// Messages: `EncodeRequest` in, `EncodeReply` out (the segment's bytes are transferred).

import { makeDecoder, type StoredColumn } from "./codec.ts";
import { encodeSegment, type SegmentStats } from "./parquet.ts";
import type { TypeName } from "../sql/ast.ts";
import type { Value } from "../sql/values.ts";

export interface EncodeRequest {
  readonly id: number;
  /** The table's current user columns, and the stored columns of every schema version. */
  readonly current: readonly StoredColumn[];
  readonly versions: readonly [number, readonly StoredColumn[]][];
  /** Every column of the segment (user columns, `_seq`, `_deleted`), in order. */
  readonly columns: readonly { name: string; type: TypeName }[];
  /** All rows' MessagePack bytes back to back; row i is data[offsets[i] .. offsets[i + 1]]. */
  readonly data: Uint8Array;
  readonly offsets: Int32Array;
  readonly rowVersions: Int32Array;
  readonly seqs: BigInt64Array;
  readonly deleted: Uint8Array;
}

export type EncodeReply =
  | { readonly id: number; readonly bytes: Uint8Array; readonly stats: SegmentStats }
  | { readonly id: number; readonly error: string };

/** Decodes and encodes one request (also usable in-process). */
export function encodeRequest(req: EncodeRequest): { bytes: Uint8Array; stats: SegmentStats } {
  const decoders = new Map(req.versions.map(([v, cols]) => [v, makeDecoder(cols, req.current)]));
  const n = req.seqs.length;
  const rows: Value[][] = new Array(n);
  for (let i = 0; i < n; i++) {
    const decode = decoders.get(req.rowVersions[i]);
    if (!decode) throw new Error(`no schema version ${req.rowVersions[i]}`);
    const row = decode(req.data.subarray(req.offsets[i], req.offsets[i + 1]));
    row.push(req.seqs[i], req.deleted[i] === 1);
    rows[i] = row;
  }
  return encodeSegment(req.columns, rows);
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
if (typeof scope.WorkerGlobalScope !== "undefined" && scope instanceof scope.WorkerGlobalScope) {
  scope.onmessage = (e: MessageEvent<EncodeRequest>) => {
    try {
      const { bytes, stats } = encodeRequest(e.data);
      scope.postMessage({ id: e.data.id, bytes, stats }, [bytes.buffer]);
    } catch (err) {
      scope.postMessage({ id: e.data.id, error: err instanceof Error ? err.message : String(err) });
    }
  };
}
