// Writing one export's zip (SPEC §9): per table `<ns>/<table>.jsonl` (one JSON object per row,
// values as the HTTP API encodes them), `<ns>/<table>.schema.json` and `<ns>/<table>.parquet`
// (the cold tier's own segment encoder, so types match the flushed files), then
// `manifest.json` with the SHA-256 and size of every other member.
//
// Design decision: the zip is written with @zip.js/zip.js rather than a hand-rolled writer over
// node:zlib — it streams members into a WritableStream (a file here), writes ZIP64 when needed,
// and the tests read the zips back with the same library's reader. JSONL members are produced
// in batches of rows from a ReadableStream (hashed on the way), so the zip is never built in
// memory; a Parquet member is one segment's bytes (the encoder builds a file in memory), stored
// uncompressed since it is zstd-compressed already. The file is written to a temp name, fsynced
// and renamed, mode 0600 (SPEC §12).

import { configure, ZipWriter } from "@zip.js/zip.js";
import { createHash } from "node:crypto";
import { type ColumnSchema, type Row, toJsonValue, typeToString } from "../../sql/mod.ts";
import { encodeSegment } from "../parquet/mod.ts";
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
  readonly rows: readonly Row[];
}

export interface ExportInput {
  readonly exportId: string;
  readonly user: string;
  readonly createdAt: number;
  readonly snapshotSeq: bigint;
  readonly tables: readonly ExportTable[];
}

const BATCH_ROWS = 1000;

/** Writes the zip at `path` (temp file, fsync, rename); returns its size in bytes. */
export async function writeExportZip(path: string, input: ExportInput): Promise<number> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  await makePrivateDirs(dir);
  const tmp = `${path}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: FILE_MODE });
  await makePrivateFile(tmp);
  const members: Record<string, { sha256: string; bytes: number }> = {};
  const tables: unknown[] = [];
  try {
    const zip = new ZipWriter(file.writable, { zip64: false });
    for (const t of input.tables) {
      const base = `${t.namespace}/${t.name}`;
      const files = {
        jsonl: `${base}.jsonl`,
        schema: `${base}.schema.json`,
        parquet: `${base}.parquet`,
      };
      await addStream(zip, files.jsonl, jsonlChunks(t), members);
      await addBytes(zip, files.schema, encodeJson(schemaOf(t)), members);
      const segment = encodeSegment(t.columns.map((c) => ({ name: c.name, type: c.type })), t.rows);
      await addBytes(zip, files.parquet, segment.bytes, members, 0);
      tables.push({
        namespace: t.namespace,
        table: t.name,
        table_type: t.tableType,
        schema_version: t.schemaVersion,
        rows: t.rows.length,
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
    throw err;
  }
  const fsync = await Deno.open(tmp, { read: true });
  try {
    await fsync.sync();
  } finally {
    fsync.close();
  }
  await Deno.rename(tmp, path);
  // The rename is durable only once its directory is: an export recorded as completed must not
  // lose its file to a power cut.
  await syncDirectory(path.slice(0, path.lastIndexOf("/")));
  return (await Deno.stat(path)).size;
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

/** A member produced chunk by chunk, hashed as the zip writer pulls it. */
async function addStream(
  zip: ZipWriter<unknown>,
  name: string,
  chunks: Iterator<Uint8Array>,
  members: Members,
): Promise<void> {
  const hash = createHash("sha256");
  let bytes = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.next();
      if (next.done) return controller.close();
      hash.update(next.value);
      bytes += next.value.length;
      controller.enqueue(next.value);
    },
  });
  await zip.add(name, stream);
  members[name] = { sha256: hash.digest("hex"), bytes };
}

/** JSONL of every column (what `SELECT *` returns, `_seq` and `_deleted` too), in chunks. */
function* jsonlChunks(t: ExportTable): Generator<Uint8Array> {
  const enc = new TextEncoder();
  const user = t.columns.map((c, i) => [c, i] as const);
  for (let i = 0; i < t.rows.length; i += BATCH_ROWS) {
    let text = "";
    for (const row of t.rows.slice(i, i + BATCH_ROWS)) {
      const o: Record<string, unknown> = {};
      for (const [c, at] of user) o[c.name] = toJsonValue(row[at], c.type);
      text += JSON.stringify(o) + "\n";
    }
    yield enc.encode(text);
  }
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
