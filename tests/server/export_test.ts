// Per-user export end to end (SPEC §9) against a real server: buffered, flushed and mixed data
// (updates and deletes of flushed rows), the zip's members checked against manifest.json's
// SHA-256s, each Parquet member read with hyparquet and compared with its JSONL and with the
// user's own SELECT; other users' rows absent; an empty export; who may download; Range.

import {
  assert,
  assertEquals,
  assertError,
  basic,
  ROOT,
  rows,
  startServer,
  type TestServer,
  withServer,
} from "./_server.ts";
import { untilJobsIdle } from "./_jobs.ts";
import { until } from "../_util.ts";
import { checkManifest, download, exportOf, parquetOf, unzip } from "./_export.ts";

const ALICE = basic("alice", "alice-pw");
const BOB = basic("bob", "bob-pw");
const DBA = basic("dana", "dana-pw");

async function setUp(server: TestServer): Promise<void> {
  await server.root(
    "CREATE NAMESPACE app;\n" +
      "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, title TEXT, score DOUBLE, " +
      "at TIMESTAMP, tags JSON, done BOOLEAN);\n" +
      "CREATE USER TABLE app.empty (id INT PRIMARY KEY);\n" +
      "CREATE STREAM TABLE app.typing (id BIGINT PRIMARY KEY, who TEXT) " +
      "WITH (TTL_SECONDS = 3600);\n" +
      "CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;\n" +
      "CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;\n" +
      "CREATE USER carl WITH PASSWORD 'carl-pw' ROLE user;\n" +
      "CREATE USER dana WITH PASSWORD 'dana-pw' ROLE dba;",
  );
  const as = (auth: string, sql: string) => server.sql(sql, { auth }).then((r) => rows(r));
  // Flushed rows, then updates and deletes of flushed rows, then buffered ones.
  await as(
    ALICE,
    "INSERT INTO app.notes (id, title, score, at, tags, done) VALUES " +
      "(1, 'one', 1.5, '2026-01-02T03:04:05Z', '{\"a\":1}', false), " +
      "(2, 'two', 2.5, NULL, '[1,2]', true), (3, 'three', NULL, NULL, NULL, NULL), " +
      "(9007199254740993, 'big', 0, NULL, NULL, false)",
  );
  await as(BOB, "INSERT INTO app.notes (id, title) VALUES (1, 'bob-one'), (7, 'bob-seven')");
  await server.root("FLUSH TABLE app.notes");
  await untilJobsIdle(server);
  await as(ALICE, "UPDATE app.notes SET title = 'two!' WHERE id = 2");
  await as(ALICE, "DELETE FROM app.notes WHERE id = 3");
  await as(ALICE, "INSERT INTO app.notes (id, title) VALUES (4, 'four')");
  await as(ALICE, "INSERT INTO app.typing (id, who) VALUES (1, 'alice')");
}

Deno.test("export: consistent zip of one user's buffered and flushed rows", async (t) => {
  await withServer({}, async (server) => {
    await setUp(server);
    const ex = await exportOf(server, ALICE);
    const { res, bytes } = await download(server, ex.url, ALICE);
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "application/zip");
    assertEquals(Number(res.headers.get("content-length")), bytes.length);
    assertEquals(bytes.length, ex.bytes);
    assert(res.headers.get("content-disposition")?.startsWith("attachment"));
    const files = await unzip(bytes);

    await t.step("manifest: user, seq, tables with counts, every SHA-256", () => {
      const manifest = checkManifest(files);
      assertEquals(manifest.user, "alice");
      assert(/^\d+$/.test(manifest.snapshot_seq), manifest.snapshot_seq);
      assert(!Number.isNaN(Date.parse(manifest.created_at)));
      const counts = manifest.tables.map((x: { namespace: string; table: string; rows: number }) =>
        `${x.namespace}.${x.table}:${x.rows}`
      );
      assertEquals(counts, ["app.notes:4", "app.typing:1"]);
    });

    await t.step("JSONL equals the user's SELECT; Parquet equals the JSONL", async () => {
      const jsonl = new TextDecoder().decode(files.get("app/notes.jsonl")!).trim().split("\n")
        .map((l) => JSON.parse(l));
      const sel = await server.sql("SELECT * FROM app.notes ORDER BY id", { auth: ALICE });
      const body = JSON.parse(sel.text);
      const cols: string[] = body.results[0].schema.map((c: { name: string }) => c.name);
      const want = body.results[0].rows.map((r: unknown[]) =>
        Object.fromEntries(cols.map((c, i) => [c, r[i]]))
      );
      const byId = (a: { id: string }, b: { id: string }) => BigInt(a.id) < BigInt(b.id) ? -1 : 1;
      assertEquals(jsonl.sort(byId), want);
      assert(!jsonl.some((r) => r.title === "bob-one" || r.id === "3"), "no bob rows, no deleted");
      const objs = await parquetOf(files.get("app/notes.parquet")!);
      assertEquals(objs.length, jsonl.length);
      const pqById = new Map(objs.map((o) => [String(o.id), o]));
      for (const j of jsonl) {
        const o = pqById.get(j.id)!;
        assert(o, `parquet row ${j.id}`);
        assertEquals(o.title ?? null, j.title);
        assertEquals(o.score ?? null, j.score);
        assertEquals(o.done ?? null, j.done);
        assertEquals(o._deleted, false);
        assertEquals(String(o._seq), j._seq);
        assertEquals(j._deleted, false);
      }
      const schema = JSON.parse(new TextDecoder().decode(files.get("app/notes.schema.json")!));
      assertEquals(schema.columns.map((c: { name: string }) => c.name), cols);
    });

    await t.step("a second export while one runs names the same job", async () => {
      const r = await server.sql("EXPORT USER DATA; EXPORT USER DATA", { auth: BOB });
      const [first, second] = [rows(r, 0)[0][0], rows(r, 1)[0][0]];
      const shown = rows(await server.sql("SHOW EXPORTS", { auth: BOB }));
      // The same export, unless the first one was already written when the second ran.
      const firstDone = shown.find((x) => x[0] === first)?.[2] === "completed";
      assert(first === second || firstDone, JSON.stringify(shown));
      await untilJobsIdle(server);
    });

    await t.step("download: owner, dba, system yes; others no; unknown 404", async () => {
      assertEquals((await download(server, ex.url, DBA)).res.status, 200);
      assertEquals((await download(server, ex.url, ROOT)).res.status, 200);
      const other = await download(server, ex.url, BOB);
      assertEquals(other.res.status, 403);
      assertEquals(
        JSON.parse(new TextDecoder().decode(other.bytes)).error.code,
        "PERMISSION_DENIED",
      );
      assertEquals((await download(server, ex.url)).res.status, 403);
      assertEquals((await download(server, "/v1/exports/bob/nope", BOB)).res.status, 404);
      assertEquals((await download(server, "/v1/exports/alice/nope", BOB)).res.status, 403);
      assertEquals((await download(server, "/v1/exports/alice/nope", ALICE)).res.status, 404);
      const wrongOwner = `/v1/exports/bob/${ex.exportId}`;
      assertEquals((await download(server, wrongOwner, DBA)).res.status, 404);
    });

    await t.step("Range: 206 with Content-Range; 416 past the end", async () => {
      const part = await download(server, ex.url, ALICE, "bytes=10-109");
      assertEquals(part.res.status, 206);
      assertEquals(part.res.headers.get("content-range"), `bytes 10-109/${bytes.length}`);
      assertEquals(part.bytes, bytes.slice(10, 110));
      const tail = await download(server, ex.url, ALICE, "bytes=-22");
      assertEquals(tail.bytes, bytes.slice(bytes.length - 22));
      const bad = await download(server, ex.url, ALICE, `bytes=${bytes.length}-`);
      assertEquals(bad.res.status, 416);
      assertEquals(bad.res.headers.get("content-range"), `bytes */${bytes.length}`);
    });

    await t.step("the zip is 0600 under exports/<user>/", async () => {
      const st = await Deno.stat(`${server.dataDir}/exports/alice/${ex.exportId}.zip`);
      assertEquals(st.mode! & 0o777, 0o600);
    });

    await t.step("a user with no rows gets a valid zip with no tables", async () => {
      const empty = await exportOf(server, basic("carl", "carl-pw"));
      const got = await download(server, empty.url, basic("carl", "carl-pw"));
      const files2 = await unzip(got.bytes);
      assertEquals([...files2.keys()], ["manifest.json"]);
      assertEquals(checkManifest(files2).tables, []);
    });

    await t.step(
      "EXECUTE AS USER by root exports alice's data; SHOW EXPORTS per user",
      async () => {
        const as = await exportOf(server, ROOT, "EXECUTE AS USER 'alice' (EXPORT USER DATA)");
        const own = rows(await server.sql("SHOW EXPORTS", { auth: ALICE })).map((r) => r[0]);
        assert(own.includes(as.exportId) && own.includes(ex.exportId), JSON.stringify(own));
        const bobs = rows(await server.sql("SHOW EXPORTS", { auth: BOB })).map((r) => r[0]);
        assert(!bobs.includes(ex.exportId));
        const all = rows(await server.sql("SHOW EXPORTS", { auth: DBA })).map((r) => r[0]);
        assert(all.includes(ex.exportId) && all.length >= 4, JSON.stringify(all));
        assertError(await server.sql("EXPORT USER DATA"), "PERMISSION_DENIED");
      },
    );
  });
});

Deno.test("export: deleted after its retention (KALAMDB_EXPORT_RETENTION_S)", async () => {
  await withServer({ KALAMDB_EXPORT_RETENTION_S: "1" }, async (server) => {
    await setUp(server);
    const ex = await exportOf(server, ALICE);
    const file = `${server.dataDir}/exports/alice/${ex.exportId}.zip`;
    await Deno.stat(file);
    await until(
      async () => {
        const shown = rows(await server.sql("SHOW EXPORTS", { auth: ALICE }));
        return !shown.some((x) => x[0] === ex.exportId);
      },
      "export expired",
      15_000,
    );
    assertEquals((await download(server, ex.url, ALICE)).res.status, 404);
    assert(!(await Deno.stat(file).then(() => true, () => false)), "zip deleted");
  });
});

Deno.test("export: the export and its zip survive a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "kalamdb-export-test-" });
  try {
    const first = await startServer({}, { dataDir });
    let ex;
    try {
      await setUp(first);
      ex = await exportOf(first, ALICE);
    } finally {
      assertEquals((await first.stop()).code, 0);
    }
    const second = await startServer({}, { dataDir });
    try {
      const shown = rows(await second.sql("SHOW EXPORTS", { auth: ALICE }));
      const row = shown.find((x) => x[0] === ex.exportId);
      assertEquals(row?.[2], "completed");
      const got = await download(second, ex.url, ALICE);
      assertEquals(got.res.status, 200);
      assertEquals(got.bytes.length, ex.bytes);
      checkManifest(await unzip(got.bytes));
    } finally {
      assertEquals((await second.stop()).code, 0);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
