// Graceful shutdown end to end: a request whose head (and part of its body) has reached the
// server when SIGTERM arrives, and is still incomplete once new requests are refused (503),
// completes with 200; the process exits 0 and the write it acknowledged is there after a restart on the
// same data directory. The request goes over a raw TCP connection so the test controls exactly
// when its body finishes arriving.

import {
  assert,
  assertEquals,
  assertStringIncludes,
  ROOT,
  rows,
  startServer,
  type TestServer,
  until,
} from "./_server.ts";

Deno.test("shutdown: SIGTERM lets an in-flight request finish, exits 0, keeps its write", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "kalamdb-shutdown-test-" });
  let server: TestServer | undefined;
  try {
    server = await startServer({}, { dataDir });
    await server.root("CREATE NAMESPACE sd; CREATE TABLE sd.t (id INT PRIMARY KEY, v TEXT);");
    const port = Number(new URL(server.url).port);
    const body = new TextEncoder().encode(
      JSON.stringify({ sql: "INSERT INTO sd.t (id, v) VALUES (1, 'in flight');" }),
    );
    const head = new TextEncoder().encode(
      "POST /v1/api/sql HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        `Authorization: ${ROOT}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    let raw: string;
    let stopOutput: { stderr: string } | undefined;
    try {
      await writeAll(conn, head);
      await writeAll(conn, body.subarray(0, 10));
      // Our request is being served once the healthcheck counts it beside itself (polled).
      await until(async () => {
        const health = await server!.request("GET", "/v1/api/healthcheck");
        assertEquals(health.status, 200);
        return health.body.requests_in_flight >= 2;
      }, "the raw request reached the server");
      const stopping = server.stop(); // SIGTERM while our request is still incomplete
      // Shutdown has begun once new requests are refused with 503 (polled, not slept); the
      // listener closes only after the requests in flight are answered.
      assert(await refusesNewRequests(server), "new requests were still served after SIGTERM");
      await writeAll(conn, body.subarray(10));
      raw = await readAll(conn);
      const out = stopOutput = await stopping;
      assertEquals(out.code, 0, `exit status; stderr:\n${out.stderr}`);
      assertStringIncludes(out.stdout, "shutting down");
    } finally {
      conn.close();
    }
    const { status, json } = parseHttp(raw);
    assertEquals(status, 200, `${raw}\n--- server stderr ---\n${stopOutput?.stderr}`);
    assertEquals(json.status, "success", raw);
    assertEquals(json.results[0].row_count, 1, raw);

    server = await startServer({}, { dataDir });
    const after = await server.root("SELECT id, v FROM sd.t;");
    assertEquals(rows(after), [[1, "in flight"]]);
    const out = await server.stop();
    server = undefined;
    assertEquals(out.code, 0, out.stderr);
  } finally {
    await server?.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("shutdown: SIGTERM during a running batch lets it finish, exits 0", async () => {
  const server = await startServer();
  let stopped = false;
  try {
    const values = Array.from({ length: 100 }, (_, i) => `(${i + 1})`).join(", ");
    await server.root(`CREATE NAMESPACE q; CREATE TABLE q.t (id INT PRIMARY KEY);
      CREATE TABLE q.marker (id INT PRIMARY KEY); INSERT INTO q.t (id) VALUES ${values};`);
    const port = Number(new URL(server.url).port);
    // The batch's first statement commits a marker row; the test sees it from another connection
    // (the server answers between statements), which proves the batch is running; the slow
    // statements after it are still to come when SIGTERM arrives.
    const slow = "SELECT COUNT(*) FROM q.t a CROSS JOIN q.t b CROSS JOIN q.t c;"; // 1M rows
    const body = new TextEncoder().encode(JSON.stringify({
      sql: `INSERT INTO q.marker (id) VALUES (1); ${slow.repeat(8)}`,
    }));
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await writeAll(
        conn,
        new TextEncoder().encode(
          "POST /v1/api/sql HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
            `Authorization: ${ROOT}\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
        ),
      );
      await writeAll(conn, body);
      assert(await markerCommitted(server), "the batch never started");
      const stopping = server.stop();
      const raw = await readAll(conn);
      const out = await stopping;
      stopped = true;
      const { status, json } = parseHttp(raw);
      assertEquals(status, 200, `${raw}\n--- server stderr ---\n${out.stderr}`);
      assertEquals(json.results.length, 9, raw);
      assertEquals(json.results[8].rows, [["1000000"]], raw);
      assertEquals(out.code, 0, out.stderr);
    } finally {
      conn.close();
    }
  } finally {
    if (!stopped) await server.stop();
  }
});

/** Polls (deadline-bounded) until the marker row of the running batch is visible. */
async function markerCommitted(server: TestServer): Promise<boolean> {
  await until(async () => {
    const r = await server.root("SELECT COUNT(*) AS n FROM q.marker;");
    return r.body.results?.[0]?.rows?.[0]?.[0] === "1";
  }, "the batch's marker row");
  return true;
}

/**
 * Sends requests (deadline-bounded) until one is refused with 503 STORAGE_ERROR: the listener
 * stays open while our request is in flight, so a refused connection would be a failure.
 */
async function refusesNewRequests(server: TestServer): Promise<boolean> {
  await until(async () => {
    const r = await server.request("GET", "/v1/api/healthcheck");
    if (r.status !== 503) return false;
    assertEquals(r.body.error.code, "STORAGE_ERROR");
    return true;
  }, "new requests refused with 503");
  return true;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

async function readAll(conn: Deno.Conn): Promise<string> {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  const buf = new Uint8Array(16384);
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
    chunks.push(buf.slice(0, n));
  }
  return new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
}

/** Status and JSON body of an HTTP/1.1 response read to EOF (Content-Length or chunked). */
// deno-lint-ignore no-explicit-any
function parseHttp(raw: string): { status: number; json: any } {
  const split = raw.indexOf("\r\n\r\n");
  assert(split > 0, `no HTTP response: ${JSON.stringify(raw)}`);
  const headLines = raw.slice(0, split).split("\r\n");
  const status = Number(headLines[0].split(" ")[1]);
  let body = raw.slice(split + 4);
  if (headLines.some((l) => /^transfer-encoding:\s*chunked/i.test(l))) {
    let decoded = "";
    for (;;) {
      const eol = body.indexOf("\r\n");
      const size = parseInt(body.slice(0, eol), 16);
      if (!size) break;
      decoded += body.slice(eol + 2, eol + 2 + size);
      body = body.slice(eol + 2 + size + 2);
    }
    body = decoded;
  }
  return { status, json: JSON.parse(body) };
}
