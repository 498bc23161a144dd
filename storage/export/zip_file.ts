// Writing one export's zip (SPEC §9): per table `<ns>/<table>.jsonl` (one JSON object per row,
// values as the HTTP API encodes them), `<ns>/<table>.schema.json` and `<ns>/<table>.parquet`
// (the cold tier's own segment encoder, so types match the flushed files), then
// `manifest.json` with the SHA-256 and size of every other member.
//
// Design decision: the zip is written with @zip.js/zip.js rather than a hand-rolled writer over
// node:zlib — it streams members into a WritableStream (a file here), deflates with the
// runtime's native CompressionStream, and the tests read the zips back with the same library's
// reader. Nothing is held whole: each table's rows are read once, in batches; each batch goes
// into the JSONL member (deflated and hashed as the zip pulls it) and into a Parquet file next
// to the zip, written a row group at a time by the cold tier's encoder; that file is then
// copied in, stored (its pages are zstd-compressed already). Memory is about one row group,
// whatever the user's size. The zip is written to a temp name, fsynced and renamed, mode 0600
// (SPEC §12); a crash leaves only temp files, which the retried job overwrites.

import { configure, ZipWriter } from "@zip.js/zip.js";
import { createHash } from "node:crypto";
import { type ColumnSchema, type Row, toJsonValue, typeToString } from "../../sql/mod.ts";
import { SegmentEncoder } from "../parquet/mod.ts";
import { FILE_MODE, makePrivateDirs, makePrivateFile } from "../_modes.ts";

configure({ useWebWorkers: false });

/** One table's part of a snapshot: every visible row of the user, in `columns` order. */
export interface ExportTable {
  readonly namespace: string;
  readonly name: string;
  readonly tableType: string;
  readonly schemaVersion: number;
  /** Every column of the rows, `_seq` and `_deleted` last (the table's schema). */
  readonly columns: readonly ColumnSchema[];
  /** The rows in batches, read once, as the zip is written (a table yielding none is left out). */
  readonly rows: () => AsyncIterable<Row[]>;
}

export interface ExportInput {
  readonly exportId: string;
  readonly user: string;
  readonly createdAt: number;
  readonly snapshotSeq: bigint;
  readonly tables: readonly ExportTable[];
  /** Checked between batches: an aborted export stops and leaves no file. */
  readonly signal?: AbortSignal;
}

/** Writes the zip at `path` (temp file, fsync, rename): its size, rows and tables written. */
export async function writeExportZip(
  path: string,
  input: ExportInput,
): Promise<{ bytes: number; rows: number; tables: number }> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  await makePrivateDirs(dir);
  const tmp = `${path}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: FILE_MODE });
  await makePrivateFile(tmp);
  const members: Record<string, { sha256: string; bytes: number }> = {};
  const tables: { rows: number; [field: string]: unknown }[] = [];
  try {
    const zip = new ZipWriter(file.writable, { zip64: true });
    for (const t of input.tables) {
      const base = `${t.namespace}/${t.name}`;
      const files = {
        jsonl: `${base}.jsonl`,
        schema: `${base}.schema.json`,
        parquet: `${base}.parquet`,
      };
      const rows = await addTable(zip, t, files, `${tmp}.parquet`, members, input.signal);
      if (rows === 0) continue;
      tables.push({
        namespace: t.namespace,
        table: t.name,
        table_type: t.tableType,
        schema_version: t.schemaVersion,
        rows,
        files,
      });
    }
    const manifest = {
      format: "kalamdb-export",
      version: 1,
      export_id: input.exportId,
      user: input.user,
      created_at: new Date(input.createdAt).toISOString(),
      snapshot_seq: String(input.snapshotSeq),
      tables,
      members,
    };
    await zip.add(
      "manifest.json",
      new Blob([encodeJson(manifest) as Uint8Array<ArrayBuffer>]).stream(),
    );
    await zip.close(); // closes the file's writable too
  } catch (err) {
    try {
      file.close();
    } catch { /* closed by the stream already */ }
    await Deno.remove(tmp).catch(() => {});
    await Deno.remove(`${tmp}.parquet`).catch(() => {});
    throw err;
  }
  try {
    const fsync = await Deno.open(tmp, { read: true });
    try {
      await fsync.sync();
    } finally {
      fsync.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  // The rename is durable only once its directory is: an export recorded as completed must not
  // lose its file to a power cut.
  await syncDirectory(path.slice(0, path.lastIndexOf("/")));
  const rows = tables.reduce((n: number, t) => n + t.rows, 0);
  return { bytes: (await Deno.stat(path)).size, rows, tables: tables.length };
}

async function syncDirectory(dir: string): Promise<void> {
  const d = await Deno.open(dir, { read: true });
  try {
    await d.sync();
  } finally {
    d.close();
  }
}

type Members = Record<string, { sha256: string; bytes: number }>;

async function addBytes(
  zip: ZipWriter<unknown>,
  name: string,
  bytes: Uint8Array,
  members: Members,
  level?: number,
): Promise<void> {
  members[name] = {
    sha256: createHash("sha256").update(bytes).digest("hex"),
    bytes: bytes.length,
  };
  await zip.add(name, new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(), { level });
}

/**
 * One table's three members from one pass over its rows: the JSONL goes into the zip as the
 * rows come, the same rows into a Parquet file beside the zip (`parquetTmp`, one row group in
 * memory at a time), which is then copied in as the Parquet member. Returns the rows written;
 * 0 adds nothing (the first batch is read before any member is started).
 */
async function addTable(
  zip: ZipWriter<unknown>,
  t: ExportTable,
  files: { jsonl: string; schema: string; parquet: string },
  parquetTmp: string,
  members: Members,
  signal: AbortSignal | undefined,
): Promise<number> {
  const batches = t.rows()[Symbol.asyncIterator]();
  const first = await batches.next();
  if (first.done) return 0;
  const parquet = new ParquetFile(
    await Deno.open(parquetTmp, { write: true, create: true, truncate: true, mode: FILE_MODE }),
    t.columns,
  );
  let rows = 0;
  try {
    let pending: IteratorResult<Row[]> | undefined = first;
    const jsonl = jsonlEncoder(t.columns);
    await addStream(zip, files.jsonl, members, async () => {
      const next = pending ?? await batches.next();
      pending = undefined;
      signal?.throwIfAborted();
      if (next.done) return undefined;
      rows += next.value.length;
      await parquet.write(next.value);
      return jsonl(next.value);
    });
    members[files.parquet] = await parquet.finish();
  } catch (err) {
    parquet.close();
    throw err;
  }
  await addBytes(zip, files.schema, encodeJson(schemaOf(t)), members);
  const copy = await Deno.open(parquetTmp, { read: true });
  try {
    // Stored, not deflated: the pages are zstd-compressed already.
    await zip.add(files.parquet, copy.readable, { level: 0 });
  } catch (err) {
    try {
      copy.close();
    } catch { /* closed by its stream */ }
    throw err;
  }
  await Deno.remove(parquetTmp);
  return rows;
}

/**
 * Rows per row group of an export's Parquet member: half a segment's, so that no column array
 * of a group reaches V8's large-object size (~128 KB), whose garbage only a full GC frees.
 */
const ROW_GROUP_ROWS = 8192;

/** A Parquet file written a row group at a time, hashed on the way (the cold tier's encoder). */
class ParquetFile {
  #file: Deno.FsFile;
  #encoder: SegmentEncoder;
  #hash = createHash("sha256");
  #bytes = 0;

  constructor(file: Deno.FsFile, columns: readonly ColumnSchema[]) {
    this.#file = file;
    this.#encoder = new SegmentEncoder(columns.map((c) => ({ name: c.name, type: c.type })), {
      rowGroupSize: ROW_GROUP_ROWS,
    });
  }

  /** Adds rows; each full row group is encoded and written out. */
  async write(rows: readonly Row[]): Promise<void> {
    this.#encoder.append(rows);
    const bytes = this.#encoder.takeBytes();
    if (bytes.length) await this.#out(bytes);
  }

  /** Writes the last row group and the footer; the file's hash and size. */
  async finish(): Promise<{ sha256: string; bytes: number }> {
    await this.#out(this.#encoder.finishTail());
    await this.#file.sync();
    this.close();
    return { sha256: this.#hash.digest("hex"), bytes: this.#bytes };
  }

  close(): void {
    try {
      this.#file.close();
    } catch { /* closed already */ }
  }

  async #out(bytes: Uint8Array): Promise<void> {
    this.#hash.update(bytes);
    this.#bytes += bytes.length;
    let done = 0;
    while (done < bytes.length) done += await this.#file.write(bytes.subarray(done));
  }
}

/** A member produced chunk by chunk (`next` until undefined), hashed as the zip pulls it. */
async function addStream(
  zip: ZipWriter<unknown>,
  name: string,
  members: Members,
  next: () => Promise<Uint8Array | undefined>,
): Promise<void> {
  const hash = createHash("sha256");
  let bytes = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await next();
      if (chunk === undefined) return controller.close();
      hash.update(chunk);
      bytes += chunk.length;
      controller.enqueue(chunk);
    },
  });
  await zip.add(name, stream);
  members[name] = { sha256: hash.digest("hex"), bytes };
}

/** JSONL of every column (what `SELECT *` returns, `_seq` and `_deleted` too). */
function jsonlEncoder(columns: readonly ColumnSchema[]): (rows: readonly Row[]) => Uint8Array {
  const enc = new TextEncoder();
  // Each line is built as text (`{"id":…,"title":…}`, keys in column order): what
  // JSON.stringify of an object per row gives, without the object.
  const keys = columns.map((c, i) => (i === 0 ? "{" : ",") + JSON.stringify(c.name) + ":");
  const types = columns.map((c) => c.type);
  return (rows) => {
    let text = "";
    for (const row of rows) {
      for (let j = 0; j < keys.length; j++) {
        text += keys[j] + (JSON.stringify(toJsonValue(row[j], types[j])) ?? "null");
      }
      text += "}\n";
    }
    return enc.encode(text);
  };
}

function schemaOf(t: ExportTable): unknown {
  return {
    namespace: t.namespace,
    table: t.name,
    table_type: t.tableType,
    schema_version: t.schemaVersion,
    columns: t.columns.map((c) => ({
      name: c.name,
      data_type: typeToString(c.type),
      nullable: c.nullable,
      primary_key: c.primaryKey,
      default: c.default ?? null,
      system: c.system ?? false,
    })),
  };
}

function encodeJson(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v, null, 2) + "\n");
}

/** The directory name of a user's exports: the name itself when it is path-safe, else escaped. */
export function userDirName(user: string): string {
  if (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(user)) return user;
  return "~" + [...new TextEncoder().encode(user)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}
