// A scope's segment rows read one row group at a time, in ranges from the object store, so a
// reader of a whole scope (an export) holds at most one row group in memory — never the
// segment cache, whose bound a large user would exceed. Superseded versions (tombstones),
// deleted rows and the keys the caller already has (the buffer's newer versions) are left out,
// which is the merged read's rule when each key's newest version is in one place: the buffer
// when it holds one, else the one segment row no tombstone covers. Rows come in segment order,
// not key order.

import type { Row, Value } from "../../sql/mod.ts";
import { type BufferSnapshot, keyOf, type TableInfo, untagValue } from "../hot/mod.ts";
import type { ObjectStore } from "../object_store/mod.ts";
import { decodeSegmentColumns, type SegmentFile, segmentFileMetadata } from "../parquet/mod.ts";
import { isTombstoned, keyString, type Manifest, type SegmentInfo } from "./manifest.ts";
import { MissingSegment } from "./segment_cache.ts";

/**
 * A scope's visible rows from a buffer snapshot and, when it has segments, its manifest (held
 * with `holdScopes` for as long as this runs), a row group at a time.
 */
export function scopeSnapshotRows(
  files: { objectStore(id: string): ObjectStore; scopeDir(t: TableInfo, user: string): string },
  table: TableInfo,
  userId: string,
  buffer: BufferSnapshot,
  manifest: Manifest | undefined,
): AsyncGenerator<Row[]> {
  const buffered = buffer.scan(table, userId, { includeDeleted: true });
  if (!manifest) return snapshotRows(table, buffered);
  const place = { store: files.objectStore(table.storageId), dir: files.scopeDir(table, userId) };
  return snapshotRows(table, buffered, { place, manifest });
}

/**
 * One scope's visible rows from a snapshot: the buffered ones first (the newest version of each
 * key they hold), then the segment rows of the keys the buffer does not hold. The buffer's keys
 * are remembered for that (deleted ones too: they hide flushed rows), so memory grows with the
 * scope's buffered rows — which flushes bound — never with its flushed ones.
 */
export async function* snapshotRows(
  table: TableInfo,
  buffered: Iterable<Row[]>,
  segments?: { place: ScopePlace; manifest: Manifest },
): AsyncGenerator<Row[]> {
  const pk = table.schema.pkIndex;
  const deletedAt = table.schema.columns.length - 1;
  const keys = segments && new Set<string>();
  for (const page of buffered) {
    const live: Row[] = [];
    for (const r of page) {
      keys?.add(keyString(keyOf(r[pk])));
      if (!r[deletedAt]) live.push(r);
    }
    if (live.length) yield live;
  }
  if (segments) yield* segmentRows(table, segments.place, segments.manifest, (k) => keys!.has(k));
}

/** Where one scope's segments are: the store and the scope's directory in it. */
export interface ScopePlace {
  readonly store: ObjectStore;
  readonly dir: string;
}

/**
 * Every live row of the manifest's segments whose key `skip` does not claim, in batches of at
 * most one row group. The manifest must stay the scope's files while this runs (the caller
 * keeps compactions away).
 */
async function* segmentRows(
  table: TableInfo,
  place: ScopePlace,
  m: Manifest,
  skip: (key: string) => boolean,
): AsyncGenerator<Row[]> {
  const pk = table.schema.pkIndex;
  const seqAt = table.schema.columns.length - 2;
  for (const seg of m.segments) {
    for await (const rows of rowGroups(table, place, seg)) {
      const out: Row[] = [];
      for (const r of rows) {
        if (r[seqAt + 1]) continue;
        const k = keyString(keyOf(r[pk]));
        if (isTombstoned(m, k, r[seqAt] as bigint) || skip(k)) continue;
        out.push(r);
      }
      if (out.length) yield out;
    }
  }
}

/** Rows built from a decoded row group at a time (so few row objects are alive at once). */
const ROWS_PER_BATCH = 1024;

/**
 * One segment's rows on the table's current columns: a row group decoded at a time into column
 * arrays, handed out in batches of ROWS_PER_BATCH rows.
 */
async function* rowGroups(
  table: TableInfo,
  place: ScopePlace,
  seg: SegmentInfo,
): AsyncGenerator<Row[]> {
  const path = `${place.dir}/${seg.file}`;
  const head = await place.store.head(path);
  if (!head) throw new MissingSegment(path);
  const file: SegmentFile = {
    byteLength: head.size,
    slice: (start, end) => place.store.getRange(path, start, end - start),
  };
  const metadata = await segmentFileMetadata(file);
  const byId = new Map(seg.columns.map((c) => [c.id, c.name]));
  const names = table.columns.filter((c) => byId.has(c.id)).map((c) => byId.get(c.id)!);
  const read = [...names, "_seq", "_deleted"];
  // Per current column: where it is in `read`, or the value a column added later fills in.
  const plan = [
    ...table.columns.map((c) => {
      const name = byId.get(c.id);
      return name === undefined
        ? { from: -1, fill: untagValue(c.fill) }
        : { from: read.indexOf(name), fill: null };
    }),
    { from: read.length - 2, fill: null },
    { from: read.length - 1, fill: null },
  ];
  for (const group of metadata.rowGroups) {
    if (group.rowCount === 0) continue;
    const { length, values } = await decodeSegmentColumns(file, {
      columns: read,
      metadata,
      rowFilter: (g) => g.index === group.index,
    });
    for (let a = 0; a < length; a += ROWS_PER_BATCH) {
      const end = Math.min(length, a + ROWS_PER_BATCH);
      const rows: Row[] = new Array(end - a);
      for (let i = a; i < end; i++) {
        const row: Value[] = new Array(plan.length);
        for (let j = 0; j < plan.length; j++) {
          const p = plan[j];
          row[j] = p.from < 0 ? p.fill : values[p.from][i] ?? null;
        }
        rows[i - a] = row;
      }
      yield rows;
    }
  }
}
