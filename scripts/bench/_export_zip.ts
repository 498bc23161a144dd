// The export benchmark's proof that the zip it timed is a real export (export.ts): downloads it
// through `GET download_url`, checks its size against SHOW EXPORTS, reads manifest.json with
// @zip.js/zip.js and requires the table's row count to be the rows inserted, every member the
// manifest lists to be in the zip at its listed size, and the JSONL member to hold that many lines
// (counted by streaming it, so even a large member is never held whole). A broken export throws,
// so it cannot report a number.

import { BlobReader, configure, TextWriter, ZipReader } from "@zip.js/zip.js";

configure({ useWebWorkers: false });

export interface ZipCheck {
  readonly bytes: number;
  readonly members: number;
  readonly manifestRows: number;
  readonly jsonlLines: number;
}

interface Manifest {
  readonly tables: { namespace: string; table: string; rows: number }[];
  readonly members: Record<string, { sha256: string; bytes: number }>;
}

/** Lines in a zip entry, streamed. */
async function countLines(
  entry: { getData?: (w: WritableStream<Uint8Array>) => Promise<unknown> },
): Promise<number> {
  let lines = 0, last = 10;
  const counter = new WritableStream<Uint8Array>({
    write(chunk) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      if (chunk.length) last = chunk[chunk.length - 1];
    },
  });
  await entry.getData!(counter);
  return last === 10 ? lines : lines + 1; // a last line without its newline counts too
}

/** Downloads and checks the export of `table` ("ns.table") with `rows` rows; throws when wrong. */
export async function checkZip(
  url: string,
  auth: string,
  o: { table: string; rows: number; bytes: number },
): Promise<ZipCheck> {
  const res = await fetch(url, {
    headers: { authorization: auth },
    signal: AbortSignal.timeout(300_000),
  });
  if (res.status !== 200) throw new Error(`GET ${url} → HTTP ${res.status}`);
  const blob = await res.blob();
  if (blob.size !== o.bytes) throw new Error(`zip is ${blob.size} bytes, SHOW EXPORTS: ${o.bytes}`);
  const reader = new ZipReader(new BlobReader(blob));
  try {
    const entries = (await reader.getEntries()).filter((e) => !e.directory);
    const byName = new Map(entries.map((e) => [e.filename, e]));
    const manifestEntry = byName.get("manifest.json");
    if (!manifestEntry) throw new Error("zip has no manifest.json");
    const manifest: Manifest = JSON.parse(await manifestEntry.getData!(new TextWriter()));
    const [ns, name] = o.table.split(".");
    const t = manifest.tables.find((x) => x.namespace === ns && x.table === name);
    if (!t) throw new Error(`manifest lists no ${o.table}: ${JSON.stringify(manifest.tables)}`);
    if (t.rows !== o.rows) {
      throw new Error(`manifest: ${o.table} has ${t.rows} rows, not ${o.rows}`);
    }
    for (const [member, m] of Object.entries(manifest.members)) {
      const e = byName.get(member);
      if (!e) throw new Error(`manifest lists ${member}, the zip does not hold it`);
      if (e.uncompressedSize !== m.bytes) {
        throw new Error(`${member}: ${e.uncompressedSize} bytes, manifest: ${m.bytes}`);
      }
    }
    if (Object.keys(manifest.members).length !== entries.length - 1) {
      throw new Error(
        `zip holds ${entries.length - 1} members besides the manifest, it lists ` +
          Object.keys(manifest.members).length,
      );
    }
    const jsonl = byName.get(`${ns}/${name}.jsonl`);
    if (!jsonl) throw new Error(`zip has no ${ns}/${name}.jsonl`);
    const jsonlLines = await countLines(jsonl);
    if (jsonlLines !== o.rows) throw new Error(`${ns}/${name}.jsonl has ${jsonlLines} lines`);
    return { bytes: blob.size, members: entries.length, manifestRows: t.rows, jsonlLines };
  } finally {
    await reader.close();
  }
}
