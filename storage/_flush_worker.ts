// The flush's CPU-heavy half, off the main thread: decode a scope's buffered rows (MessagePack,
// any schema version) and encode them as one Parquet segment. The main thread only reads the raw
// rows from SQLite, in pages that it hands over as it reads them (so decoding overlaps reading),
// and writes files — a flush never stalls requests for long.
// Messages: `begin` (columns and schema versions), `page` (raw rows), `finish` → `EncodeReply`.

import { makeDecoder, type RowDecoder, type StoredColumn } from "./codec.ts";
import { encodeSegment, type SegmentStats } from "./parquet.ts";
import type { TypeName } from "../sql/ast.ts";
import type { Value } from "../sql/values.ts";

export interface EncodeBegin {
  readonly kind: "begin";
  readonly id: number;
  /** The table's current user columns, and the stored columns of every schema version. */
  readonly current: readonly StoredColumn[];
  readonly versions: readonly [number, readonly StoredColumn[]][];
  /** Every column of the segment (user columns, `_seq`, `_deleted`), in order. */
  readonly columns: readonly { name: string; type: TypeName }[];
}

/** Raw rows: their MessagePack bytes back to back; row i is data[offsets[i] .. offsets[i + 1]]. */
export interface EncodePage {
  readonly kind: "page";
  readonly id: number;
  readonly data: Uint8Array;
  readonly offsets: Int32Array;
  readonly rowVersions: Int32Array;
  readonly seqs: BigInt64Array;
  readonly deleted: Uint8Array;
}

export type EncodeMessage = EncodeBegin | EncodePage | {
  readonly kind: "finish";
  readonly id: number;
};

export type EncodeReply =
  | { readonly id: number; readonly bytes: Uint8Array; readonly stats: SegmentStats }
  | { readonly id: number; readonly error: string };

/** One segment being built: decoders, and the rows decoded so far. */
export class SegmentBuilder {
  readonly #columns: EncodeBegin["columns"];
  readonly #decoders: Map<number, RowDecoder>;
  readonly #rows: Value[][] = [];

  constructor(begin: Omit<EncodeBegin, "kind" | "id">) {
    this.#columns = begin.columns;
    this.#decoders = new Map(
      begin.versions.map(([v, cols]) => [v, makeDecoder(cols, begin.current)]),
    );
  }

  add(page: Omit<EncodePage, "kind" | "id">): void {
    for (let i = 0; i < page.seqs.length; i++) {
      const decode = this.#decoders.get(page.rowVersions[i]);
      if (!decode) throw new Error(`no schema version ${page.rowVersions[i]}`);
      const row = decode(page.data.subarray(page.offsets[i], page.offsets[i + 1]));
      row.push(page.seqs[i], page.deleted[i] === 1);
      this.#rows.push(row);
    }
  }

  finish(): { bytes: Uint8Array; stats: SegmentStats } {
    return encodeSegment(this.#columns, this.#rows);
  }
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
if (typeof scope.WorkerGlobalScope !== "undefined" && scope instanceof scope.WorkerGlobalScope) {
  const builders = new Map<number, SegmentBuilder>();
  const failures = new Map<number, string>();
  scope.onmessage = (e: MessageEvent<EncodeMessage>) => {
    const m = e.data;
    try {
      if (m.kind === "begin") builders.set(m.id, new SegmentBuilder(m));
      else if (m.kind === "page") {
        if (!failures.has(m.id)) builders.get(m.id)?.add(m);
      } else {
        const failed = failures.get(m.id);
        const builder = builders.get(m.id);
        builders.delete(m.id);
        failures.delete(m.id);
        if (failed || !builder) {
          scope.postMessage({ id: m.id, error: failed ?? "unknown segment" });
          return;
        }
        const { bytes, stats } = builder.finish();
        scope.postMessage({ id: m.id, bytes, stats }, [bytes.buffer]);
      }
    } catch (err) {
      failures.set(m.id, err instanceof Error ? err.message : String(err));
      builders.delete(m.id);
      if (m.kind === "finish") {
        scope.postMessage({ id: m.id, error: failures.get(m.id) });
        failures.delete(m.id);
      }
    }
  };
}
