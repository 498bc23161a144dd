// Arrow answers vs JSON (issue 17 item 5): one SELECT of N rows (BIGINT, INT, DOUBLE, TEXT,
// TIMESTAMP) from a real server, answered as JSON and as an Arrow IPC stream (`Accept:
// application/vnd.apache.arrow.stream`), three times each, alternating: bytes on the wire, time
// to the last byte, and the client's decode (JSON.parse and reading every value, vs apache-arrow
// reading the stream and every column). Every run checks its answers: both decodes hold the same
// N rows, value for value.
//
//   deno run -A scripts/bench/arrow.ts [--rows N]

import { parseArgs } from "node:util";
import { RecordBatchReader, Table } from "apache-arrow";
import { rootToken, startServer } from "./_client_kit.ts";

export interface ArrowBench {
  readonly rows: number;
  readonly json: Measured;
  readonly arrow: Measured;
}

export interface Measured {
  readonly bytes: number;
  /** Request sent → last byte received, median ms. */
  readonly transferMs: number;
  /** Decoding the body and reading every value, median ms. */
  readonly decodeMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type Post = (sql: string, accept?: string) => Promise<Response>;

/** bench.r with `rows` rows (a SHARED table that never flushes during the run). */
async function seed(post: Post, rows: number): Promise<void> {
  const must = async (sql: string) => {
    const r = await post(sql);
    const text = await r.text();
    if (r.status !== 200) {
      throw new Error(`${sql.slice(0, 80)} → ${r.status} ${text.slice(0, 300)}`);
    }
  };
  await must(`CREATE NAMESPACE bench; CREATE SHARED TABLE bench.r (id BIGINT PRIMARY KEY,
    n INT, d DOUBLE, name TEXT, at TIMESTAMP) WITH (FLUSH_POLICY = 'rows:100000000')`);
  const base = Date.parse("2026-12-01T00:00:00Z");
  for (let from = 0; from < rows; from += 5000) {
    const values = [];
    for (let i = from; i < Math.min(rows, from + 5000); i++) {
      const at = new Date(base + i * 1000).toISOString();
      values.push(`(${i + 1}, ${i % 1000}, ${i / 8}, 'name ${i}', '${at}')`);
    }
    await must(`INSERT INTO bench.r (id, n, d, name, at) VALUES ${values.join(", ")}`);
  }
}

/** The first, middle and last rows of both answers, value for value. */
function spotCheck(table: Table, jrows: unknown[][]): void {
  const [ids, ds, names, ats] = ["id", "d", "name", "at"].map((c) => table.getChild(c)!);
  for (const i of [0, Math.floor(jrows.length / 2), jrows.length - 1]) {
    const r = jrows[i];
    const ms = Number(ats.get(i)); // apache-arrow shows a timestamp as epoch ms
    const same = String(ids.get(i)) === r[0] && names.get(i) === r[3] &&
      new Date(ms).toISOString().slice(0, 19) === String(r[4]).slice(0, 19) && ds.get(i) === r[2];
    if (!same) throw new Error(`row ${i} differs: ${JSON.stringify(r)}`);
  }
}

/** Runs the comparison on a fresh server; `rows` rows in a SHARED table without flushes. */
export async function runArrowBench(rows = 1_000_000): Promise<ArrowBench> {
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-arrow-bench-" });
  const server = await startServer(`${dir}/data`);
  try {
    const auth = `Bearer ${await rootToken(server.url)}`;
    const post: Post = (sql, accept = "application/json") =>
      fetch(`${server.url}/v1/api/sql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: auth, accept },
        body: JSON.stringify({ sql }),
      });
    await seed(post, rows);
    const sql = "SELECT id, n, d, name, at FROM bench.r ORDER BY id";
    const json: { bytes: number; t: number[]; d: number[] } = { bytes: 0, t: [], d: [] };
    const arrow: { bytes: number; t: number[]; d: number[] } = { bytes: 0, t: [], d: [] };
    for (let round = 0; round < 3; round++) {
      let t0 = performance.now();
      const jr = await post(sql);
      const text = await jr.text();
      json.t.push(performance.now() - t0);
      json.bytes = new TextEncoder().encode(text).byteLength;
      t0 = performance.now();
      const body = JSON.parse(text);
      const jrows = body.results[0].rows as unknown[][];
      let jsum = 0n, jlen = 0;
      for (const r of jrows) {
        jsum += BigInt(r[0] as string) + BigInt(r[1] as number);
        jlen += (r[3] as string).length + (r[4] as string).length + (r[2] as number > -1 ? 1 : 0);
      }
      json.d.push(performance.now() - t0);

      t0 = performance.now();
      const ar = await post(sql, "application/vnd.apache.arrow.stream");
      const bytes = new Uint8Array(await ar.arrayBuffer());
      arrow.t.push(performance.now() - t0);
      arrow.bytes = bytes.byteLength;
      t0 = performance.now();
      let table: Table | undefined;
      for (const reader of RecordBatchReader.readAll(bytes)) {
        table = new Table(reader.schema, reader.readAll());
        break; // one statement: one stream
      }
      if (!table) throw new Error("no Arrow stream in the answer");
      let asum = 0n, alen = 0;
      const ids = table.getChild("id")!, ns = table.getChild("n")!, ds = table.getChild("d")!;
      const names = table.getChild("name")!, ats = table.getChild("at")!;
      // Columns as arrays (typed where the type is numeric), as a columnar client reads them.
      const idA = ids.toArray() as BigInt64Array, nA = ns.toArray() as Int32Array;
      const dA = ds.toArray() as Float64Array, nameA = names.toArray() as string[];
      void ats.toArray();
      for (let i = 0; i < table.numRows; i++) {
        asum += idA[i] + BigInt(nA[i]);
        // The JSON side reads the timestamp's 30-character text; here it is a number.
        alen += nameA[i].length + 30 + (dA[i] > -1 ? 1 : 0);
      }
      arrow.d.push(performance.now() - t0);
      if (table.numRows !== rows || jrows.length !== rows || asum !== jsum || alen !== jlen) {
        throw new Error(
          `answers differ: arrow ${table.numRows} rows, sum ${asum}, len ${alen}; ` +
            `json ${jrows.length} rows, sum ${jsum}, len ${jlen}`,
        );
      }
      spotCheck(table, jrows);
    }
    const summary = (m: typeof json): Measured => ({
      bytes: m.bytes,
      transferMs: Math.round(median(m.t)),
      decodeMs: Math.round(median(m.d)),
    });
    return { rows, json: summary(json), arrow: summary(arrow) };
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

export function arrowTable(b: ArrowBench): string {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const r = (a: number, j: number) => (a / j).toFixed(2);
  return [
    `| ${b.rows.toLocaleString("en-US")} rows | bytes | MB | transfer ms | decode ms |`,
    "|---|---:|---:|---:|---:|",
    `| JSON | ${b.json.bytes.toLocaleString("en-US")} | ${
      mb(b.json.bytes)
    } | ${b.json.transferMs} | ${b.json.decodeMs} |`,
    `| Arrow IPC stream | ${b.arrow.bytes.toLocaleString("en-US")} | ${
      mb(b.arrow.bytes)
    } | ${b.arrow.transferMs} | ${b.arrow.decodeMs} |`,
    `| Arrow / JSON | ${r(b.arrow.bytes, b.json.bytes)} | | ${
      r(b.arrow.transferMs, b.json.transferMs)
    } | ${r(b.arrow.decodeMs, b.json.decodeMs)} |`,
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { rows: { type: "string", default: "1000000" } } });
  console.log(arrowTable(await runArrowBench(Number(values.rows))));
}
