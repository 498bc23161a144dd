// Export under faults and races (SPEC §9), end to end against a real server: writes racing the
// export's snapshot land wholly in or wholly out of it (per statement, and as a prefix of each
// writer's sequence), a server SIGKILLed while the export runs finishes it after a restart with
// a valid zip and no temp file left, DuckDB reads the Parquet members the same as hyparquet and
// the user's SELECT, and a service account may queue a user's export but not download it.

import {
  assert,
  assertEquals,
  assertError,
  basic,
  ROOT,
  rows,
  startServer,
  withServer,
} from "./_server.ts";
import { untilJobsIdle } from "./_jobs.ts";
import { until } from "../_util.ts";
import {
  checkManifest,
  download,
  duckRead,
  exportOf,
  jsonlOf,
  killAt,
  load,
  norm,
  type Obj,
  ok,
  parquetOf,
  selectObjects,
  tmpFiles,
  untilExported,
  unzip,
} from "./_export.ts";

const ALICE = basic("alice", "alice-pw");
const BOB = basic("bob", "bob-pw");
const DBA = basic("dana", "dana-pw");
const SVC = basic("svc", "svc-pw");

const USERS = "CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;\n" +
  "CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;\n" +
  "CREATE USER svc WITH PASSWORD 'svc-pw' ROLE service;\n" +
  "CREATE USER dana WITH PASSWORD 'dana-pw' ROLE dba;";

const seqOf = (o: Obj) => BigInt(o._seq as string);
const byId = (list: Obj[]) => new Map(list.map((o) => [String(o.id), o]));

// ------------------------------------------------------------------ 1. writes racing the export

/** One writer's group: four statements in one request, each atomic on its own. */
interface Group {
  readonly g: number;
  readonly sentAt: number;
  ackedAt?: number;
}

/** The statements of group g; the flushed and buffered ids it touches are disjoint per group. */
function groupSql(g: number): string {
  const ins = [0, 1, 2, 3].map((k) => `(${1_000_000 + g * 4 + k}, 'w${g}', ${k})`).join(", ");
  const flushedB = [0, 1, 2, 3].map((k) => g * 4 + k).join(", ");
  const flushedA = [100 + g * 2, 101 + g * 2].join(", ");
  const bufferedB = [20_000 + g * 2, 20_001 + g * 2].join(", ");
  return `INSERT INTO app.a (id, grp, v) VALUES ${ins};\n` +
    `UPDATE app.b SET grp = 'u${g}', v = ${g} WHERE id IN (${flushedB});\n` +
    `DELETE FROM app.a WHERE id IN (${flushedA});\n` +
    `UPDATE app.b SET grp = 'u${g}', v = ${g} WHERE id IN (${bufferedB});`;
}

/**
 * Whether each of group g's four statements is in the export — all of its rows, or none (else
 * the assertion fails: a statement split by the snapshot).
 */
function appliedOf(g: number, a: Map<string, Obj>, b: Map<string, Obj>): boolean[] {
  const all = (what: string, flags: boolean[]) => {
    assert(flags.every((f) => f === flags[0]), `${what} of group ${g} half in the export`);
    return flags[0];
  };
  const inserted = all(
    "INSERT",
    [0, 1, 2, 3].map((k) => a.get(String(1_000_000 + g * 4 + k))?.grp === `w${g}`),
  );
  const updateFlushed = all(
    "UPDATE (flushed rows)",
    [0, 1, 2, 3].map((k) => {
      const grp = b.get(String(g * 4 + k))?.grp;
      assert(grp === "b0" || grp === `u${g}`, `b row ${g * 4 + k}: ${grp}`);
      return grp === `u${g}`;
    }),
  );
  const deleted = all(
    "DELETE (flushed rows)",
    [100 + g * 2, 101 + g * 2].map((id) => !a.has(String(id))),
  );
  const updateBuffered = all(
    "UPDATE (buffered rows)",
    [20_000 + g * 2, 20_001 + g * 2].map((id) => {
      const grp = b.get(String(id))?.grp;
      assert(grp === "b1" || grp === `u${g}`, `b row ${id}: ${grp}`);
      return grp === `u${g}`;
    }),
  );
  return [inserted, updateFlushed, deleted, updateBuffered];
}

Deno.test("export: a write racing the export lands wholly in or wholly out", async () => {
  await withServer({}, async (server) => {
    await server.root(
      "CREATE NAMESPACE app;\n" +
        "CREATE USER TABLE app.a (id BIGINT PRIMARY KEY, grp TEXT, v INT);\n" +
        "CREATE USER TABLE app.b (id BIGINT PRIMARY KEY, grp TEXT, v INT);\n" + USERS,
    );
    // Flushed: a and b 0..9999 (a 0..99 then deleted); bob's rows in a too.
    const cols = "id, grp, v";
    await load(server, ALICE, "app.a", cols, 0, 10_000, (i) => `(${i}, 'a0', ${i})`);
    await load(server, ALICE, "app.b", cols, 0, 10_000, (i) => `(${i}, 'b0', ${i})`);
    await load(server, BOB, "app.a", cols, 50_000_000, 50_000_100, (i) => `(${i}, 'bob', 0)`);
    await server.root("FLUSH TABLE app.a; FLUSH TABLE app.b");
    await untilJobsIdle(server);
    await ok(server, ALICE, "DELETE FROM app.a WHERE id < 100");
    // Buffered: 20000..24999 in both (50 of a deleted, 100 of b updated).
    await load(server, ALICE, "app.a", cols, 20_000, 25_000, (i) => `(${i}, 'a1', ${i})`);
    await load(server, ALICE, "app.b", cols, 20_000, 25_000, (i) => `(${i}, 'b1', ${i})`);
    await ok(server, ALICE, "DELETE FROM app.a WHERE id >= 20000 AND id < 20050");
    await ok(server, ALICE, "UPDATE app.b SET v = -1 WHERE id >= 24900");
    await load(server, BOB, "app.b", cols, 50_000_000, 50_000_100, (i) => `(${i}, 'bob', 0)`);
    const before = await selectObjects(server, ALICE, "SELECT MAX(_seq) AS s FROM app.b");
    const seqBefore = BigInt(before[0].s as string);

    // Three sequential writers, each one request per group; they run until the export is seen
    // completed and two more groups of each are acknowledged after that.
    const WRITERS = 3, PER_WRITER = 800, deadline = Date.now() + 40_000;
    const groups: Group[][] = Array.from({ length: WRITERS }, () => []);
    let exportSentAt = Infinity, completedAt = Infinity;
    const writer = async (w: number) => {
      for (let i = 0; i < PER_WRITER && Date.now() < deadline; i++) {
        const mine = groups[w];
        const afterDone = mine.filter((x) => x.sentAt > completedAt).length;
        if (afterDone >= 2) break;
        const group: Group = { g: w * PER_WRITER + i, sentAt: performance.now() };
        mine.push(group);
        const r = await server.sql(groupSql(group.g), { auth: ALICE });
        assertEquals(r.body?.results?.length, 4, r.text.slice(0, 300));
        rows(r, 0);
        group.ackedAt = performance.now();
      }
    };
    const writing = Promise.all(groups.map((_, w) => writer(w)));
    let finished;
    try {
      await until(
        () => groups.every((x) => x.filter((y) => y.ackedAt !== undefined).length >= 3),
        "three groups of each writer acknowledged",
      );
      exportSentAt = performance.now();
      const r = await ok(server, ALICE, "EXPORT USER DATA");
      const exportId = String(rows(r)[0][0]);
      // Flushes of alice's tables queued while the export runs (they must wait for it).
      await server.root("FLUSH TABLE app.a; FLUSH TABLE app.b");
      finished = await untilExported(server, ALICE, exportId, 40_000);
      completedAt = performance.now();
    } finally {
      completedAt = Math.min(completedAt, performance.now());
      await writing;
    }
    for (const [w, mine] of groups.entries()) {
      assert(
        mine.filter((x) => x.sentAt > completedAt).length >= 2,
        `writer ${w} kept writing after the export (${mine.length} groups; deadline?)`,
      );
    }

    const got = await download(server, finished.url, ALICE);
    assertEquals(got.res.status, 200);
    const files = await unzip(got.bytes);
    const manifest = checkManifest(files);
    const snap = BigInt(manifest.snapshot_seq);
    assert(snap >= seqBefore, `snapshot_seq ${snap} below a write acknowledged before it`);
    const exported = { a: jsonlOf(files, "app/a.jsonl"), b: jsonlOf(files, "app/b.jsonl") };
    const counts = manifest.tables.map((t: Obj) => `${t.namespace}.${t.table}:${t.rows}`);
    assertEquals(counts, [`app.a:${exported.a.length}`, `app.b:${exported.b.length}`]);
    for (const [name, list] of Object.entries(exported)) {
      const ids = new Set(list.map((o) => String(o.id)));
      assertEquals(ids.size, list.length, `${name}: one row per id`);
      const pq = await parquetOf(files.get(`app/${name}.parquet`)!);
      assertEquals(new Set(pq.map((o) => String(o.id))), ids, `${name}: Parquet ids = JSONL ids`);
      for (const o of list) {
        assert(seqOf(o) <= snap, `${name} row ${o.id}: _seq ${o._seq} > snapshot ${snap}`);
        assertEquals(o._deleted, false, `${name} row ${o.id} deleted`);
        assert(o.grp !== "bob" && Number(o.id) < 50_000_000, `bob's row ${o.id} in ${name}`);
      }
    }
    const a = byId(exported.a), b = byId(exported.b);
    for (let id = 0; id < 100; id++) assert(!a.has(String(id)), `deleted flushed row ${id}`);
    for (let id = 20_000; id < 20_050; id++) assert(!a.has(String(id)), `deleted buffered ${id}`);

    // Per statement all or nothing; per writer a prefix of its statements; acknowledged before
    // the export was asked for = in; sent after it was seen completed = out.
    let inCount = 0, outCount = 0;
    for (const [w, mine] of groups.entries()) {
      const flags = mine.flatMap((x) => appliedOf(x.g, a, b));
      const firstOut = flags.indexOf(false);
      if (firstOut >= 0) {
        const late = flags.indexOf(true, firstOut);
        assert(late < 0, `writer ${w}: statement ${late} in the export but ${firstOut} not`);
      }
      for (const x of mine) {
        const [applied] = appliedOf(x.g, a, b);
        if (applied) inCount++;
        else outCount++;
        if (x.ackedAt! < exportSentAt) assert(applied, `group ${x.g} acked before the export`);
        if (x.sentAt > completedAt) assert(!applied, `group ${x.g} sent after completion`);
      }
    }
    const during = groups.flat().filter((x) => x.sentAt > exportSentAt && x.sentAt < completedAt);
    console.log(
      `  race: ${inCount} group(s) in the export, ${outCount} out, ${during.length} sent while ` +
        `it ran (${Math.round(completedAt - exportSentAt)} ms)`,
    );

    // Against the user's data now: a row unchanged since the snapshot is in it, identical; a
    // row of the export that differs now was changed (or deleted) after the snapshot.
    const deletedByWriters = new Set(
      groups.flat().flatMap((x) => [String(100 + x.g * 2), String(101 + x.g * 2)]),
    );
    for (const name of ["a", "b"] as const) {
      const now = byId(await selectObjects(server, ALICE, `SELECT * FROM app.${name}`));
      const exp = name === "a" ? a : b;
      for (const [id, o] of now) {
        if (seqOf(o) <= snap) assertEquals(exp.get(id), o, `${name} row ${id} unchanged since`);
      }
      for (const [id, o] of exp) {
        const cur = now.get(id);
        if (cur === undefined) {
          assert(name === "a" && deletedByWriters.has(id), `${name} row ${id} gone, not deleted`);
        } else if (seqOf(cur) <= snap) assertEquals(o, cur, `${name} row ${id}`);
        else assert(seqOf(o) < seqOf(cur), `${name} row ${id}: exported _seq not older`);
      }
    }
  });
});

// ------------------------------------------------------------------ 2. SIGKILL during the export

Deno.test("export: SIGKILL during the export, restart: the job completes, the zip is valid", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "kalamdb-export-kill-" });
  const ROWS = 120_000, BUFFERED = 3_000;
  try {
    // First server: the data, the export, a kill as soon as the job runs.
    const first = await startServer({}, { dataDir });
    let exportId: string, jobId: string;
    try {
      await first.root(
        "CREATE NAMESPACE app;\n" +
          "CREATE USER TABLE app.big (id BIGINT PRIMARY KEY, title TEXT, n INT, at TIMESTAMP);\n" +
          USERS,
      );
      const at = (i: number) => new Date(1_700_000_000_000 + i * 1000).toISOString();
      const row = (i: number) => `(${i}, 'row ${i % 977}', ${i % 1000}, '${at(i)}')`;
      const cols = "id, title, n, at";
      await load(first, ALICE, "app.big", cols, 0, ROWS, row);
      await first.root("FLUSH TABLE app.big");
      await untilJobsIdle(first, 45_000);
      await load(first, ALICE, "app.big", cols, ROWS, ROWS + BUFFERED, row);
      await load(first, BOB, "app.big", cols, 0, 100, row);
      const r = await ok(first, ALICE, "EXPORT USER DATA");
      [exportId, jobId] = rows(r)[0] as string[];
    } catch (err) {
      await first.stop();
      throw err;
    }
    await killAt(first, ALICE, exportId, "running");
    // Second server: the job is queued again; killed while it writes the zip.
    await killAt(await startServer({}, { dataDir }), ALICE, exportId, "writing");

    const third = await startServer({}, { dataDir });
    try {
      const done = await untilExported(third, ALICE, exportId, 45_000);
      assertEquals(done.jobId, jobId);
      const job = rows(
        await third.root(`SELECT status FROM system.jobs WHERE job_id = '${jobId}'`),
      );
      assertEquals(job, [["completed"]]);
      const got = await download(third, done.url, ALICE);
      assertEquals(got.res.status, 200);
      assertEquals(got.bytes.length, done.bytes);
      const files = await unzip(got.bytes);
      const manifest = checkManifest(files);
      assertEquals(manifest.export_id, exportId);
      const count = Number(
        rows(await third.sql("SELECT COUNT(*) FROM app.big", { auth: ALICE }))[0][0],
      );
      assertEquals(count, ROWS + BUFFERED);
      const jsonl = jsonlOf(files, "app/big.jsonl");
      assertEquals(jsonl.length, count);
      assertEquals(new Set(jsonl.map((o) => o.id)).size, count, "one row per id");
      assertEquals(manifest.tables.map((t: Obj) => t.rows), [count]);
      assertEquals((await parquetOf(files.get("app/big.parquet")!)).length, count);
      assertEquals(await tmpFiles(`${dataDir}/exports`), [], "no temp file left");
      const st = await Deno.stat(`${dataDir}/exports/alice/${exportId}.zip`);
      assertEquals(st.mode! & 0o777, 0o600);
      // Exactly one zip: the interrupted attempts left nothing else behind.
      const zips = [...Deno.readDirSync(`${dataDir}/exports/alice`)].map((e) => e.name);
      assertEquals(zips, [`${exportId}.zip`]);
    } finally {
      assertEquals((await third.stop()).code, 0);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

// ------------------------------------------------------------------ 3. DuckDB reads the Parquet

const TYPED_COLS = "id, title, score, at, done, tags, n";

/** The id of row i of app.typed: BIGINT's extremes, 0, -1, then spread out. */
function typedId(i: number): string {
  const ids = ["9223372036854775807", "-9223372036854775808", "0", "-1"];
  return i < ids.length ? ids[i] : String(1000 + i * 7919);
}

/** The rows of app.typed: extremes of each type, NULLs, nanosecond timestamps, nested JSON. */
function typedRow(i: number): string {
  const id = typedId(i);
  const titles = ["", "it''s", "ünïcödé ✓ 🚀", "line\nbreak", "tab\there"];
  const title = i % 11 === 5 ? "NULL" : `'${titles[i % titles.length]} ${i}'`;
  const scores = ["0.1", "-1e300", "3.141592653589793", "0", "1e-300", "123456789.25"];
  const score = i % 13 === 7 ? "NULL" : scores[i % scores.length];
  const at = i % 9 === 4
    ? "NULL"
    : `'2026-0${1 + (i % 9)}-1${i % 10}T0${i % 10}:04:05.${
      String(123456789 + i * 1000003).slice(-9)
    }Z'`;
  const done = i % 7 === 3 ? "NULL" : String(i % 2 === 0);
  const tagsList = ['{"a":1,"b":[1,2,{"c":"x"}]}', "[1,2.5,null,true]", '"str"', "42", "{}"];
  const tags = i % 8 === 6 ? "NULL" : `'${tagsList[i % tagsList.length]}'`;
  return `(${id}, ${title}, ${score}, ${at}, ${done}, ${tags}, ${i % 5 === 0 ? -i : i})`;
}

Deno.test("export: DuckDB reads the Parquet members like hyparquet and the SELECT", async () => {
  await withServer({}, async (server) => {
    await server.root(
      "CREATE NAMESPACE app;\n" +
        "CREATE USER TABLE app.typed (id BIGINT PRIMARY KEY, title TEXT, score DOUBLE, " +
        "at TIMESTAMP, done BOOLEAN, tags JSON, n INT);\n" +
        "CREATE USER TABLE app.other (k TEXT PRIMARY KEY, v BIGINT);\n" + USERS,
    );
    await load(server, ALICE, `app.typed`, TYPED_COLS, 0, 300, typedRow);
    await load(server, BOB, `app.typed`, TYPED_COLS, 0, 20, typedRow);
    await ok(server, ALICE, "INSERT INTO app.other (k, v) VALUES ('x', 1), ('y', NULL)");
    await server.root("FLUSH TABLE app.typed; FLUSH TABLE app.other");
    await untilJobsIdle(server);
    // Updated and deleted flushed rows, then buffered rows (one updated, one deleted).
    await ok(
      server,
      ALICE,
      "UPDATE app.typed SET title = 'updated', score = NULL, at = " +
        "'1970-01-01T00:00:00.000000001Z', tags = '{\"u\":[true]}', done = true " +
        `WHERE id IN (${[0, 2, 10, 11].map(typedId)})`,
    );
    await ok(server, ALICE, `DELETE FROM app.typed WHERE id IN (${[3, 12, 13].map(typedId)})`);
    await ok(server, ALICE, "UPDATE app.other SET v = 9007199254740993 WHERE k = 'y'");
    await load(server, ALICE, `app.typed`, TYPED_COLS, 300, 340, typedRow);
    await ok(server, ALICE, `UPDATE app.typed SET n = 77 WHERE id = ${typedId(301)}`);
    await ok(server, ALICE, `DELETE FROM app.typed WHERE id = ${typedId(302)}`);

    const ex = await exportOf(server, ALICE);
    const got = await download(server, ex.url, ALICE);
    assertEquals(got.res.status, 200);
    const files = await unzip(got.bytes);
    const manifest = checkManifest(files);
    assertEquals(manifest.tables.map((t: Obj) => `${t.table}:${t.rows}`), [
      "other:2",
      `typed:${300 - 3 + 40 - 1}`,
    ]);

    const want: Record<string, RegExp> = {
      BIGINT: /^BIGINT$/,
      INT: /^INTEGER$/,
      TEXT: /^VARCHAR$/,
      DOUBLE: /^DOUBLE$/,
      TIMESTAMP: /^TIMESTAMP(_NS)?$/,
      BOOLEAN: /^BOOLEAN$/,
      JSON: /^(JSON|VARCHAR)$/,
    };
    for (const t of manifest.tables) {
      const name = `${t.namespace}.${t.table}`;
      const schema = JSON.parse(new TextDecoder().decode(files.get(t.files.schema)!));
      const types = new Map<string, string>(
        schema.columns.map((c: Obj) => [c.name, String(c.data_type).toUpperCase()]),
      );
      const pk = schema.columns.find((c: Obj) => c.primary_key).name as string;
      const duck = await duckRead(files.get(t.files.parquet)!);
      // DuckDB's own types of the member's columns.
      assertEquals(duck.types.map((d) => d[0]), [...types.keys()], `${name}: DuckDB's columns`);
      for (const [col, type] of duck.types) {
        const sqlType = types.get(col)!;
        assert(want[sqlType]?.test(type), `${name}.${col}: ${sqlType} read by DuckDB as ${type}`);
      }
      const normRow = (o: Obj, jsonAsText: boolean) =>
        Object.fromEntries(
          [...types.keys()].map((c) => [c, norm(types.get(c)!, o[c], jsonAsText)]),
        );
      const key = (o: Obj) => String(o[pk]);
      const sorted = (list: Obj[]) =>
        list.sort((x, y) => key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0);

      const fromDuck = sorted(duck.rows.map((o) => normRow(o, true)));
      const fromHy = sorted(
        (await parquetOf(files.get(t.files.parquet)!, true)).map((o) => normRow(o, false)),
      );
      const fromJsonl = sorted(jsonlOf(files, t.files.jsonl).map((o) => normRow(o, false)));
      const fromSelect = sorted(
        (await selectObjects(server, ALICE, `SELECT * FROM ${name}`)).map((o: Obj) =>
          normRow(o, false)
        ),
      );
      assertEquals(fromDuck.length, t.rows, `${name}: DuckDB row count`);
      assertEquals(fromDuck, fromHy, `${name}: DuckDB = hyparquet`);
      assertEquals(fromDuck, fromJsonl, `${name}: DuckDB = JSONL`);
      assertEquals(fromDuck, fromSelect, `${name}: DuckDB = alice's SELECT`);
      assert(fromDuck.every((o) => o._deleted === "false"), `${name}: no deleted row`);
      if (t.table === "typed") {
        const updated = fromDuck.filter((o) => o.title === "updated").map((o) => o.id);
        assertEquals(updated.sort(), [0, 2, 10, 11].map(typedId).sort(), "updated flushed rows");
      }
    }
  });
});

// ------------------------------------------------------------------ 4. service account

Deno.test("export: a service account may export for a user; download is owner, dba, system", async () => {
  await withServer({}, async (server) => {
    await server.root(
      "CREATE NAMESPACE app;\n" +
        "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, title TEXT);\n" + USERS,
    );
    await ok(server, ALICE, "INSERT INTO app.notes (id, title) VALUES (1, 'one'), (2, 'two')");
    await ok(server, BOB, "INSERT INTO app.notes (id, title) VALUES (1, 'bob')");

    const r = await ok(server, SVC, "EXECUTE AS USER 'alice' (EXPORT USER DATA)");
    assertEquals(r.body.results[0].schema.map((c: Obj) => c.name), [
      "export_id",
      "job_id",
      "user_id",
      "download_url",
    ]);
    const [exportId, jobId, userId, url] = rows(r)[0] as string[];
    assert(exportId && jobId, r.text);
    assertEquals([userId, url], ["alice", `/v1/exports/alice/${encodeURIComponent(exportId)}`]);
    const done = await untilExported(server, ALICE, exportId);
    assertEquals([done.jobId, done.url], [jobId, url]);
    // SHOW EXPORTS lists the caller's own exports: the service account has none.
    const svcShown = rows(await server.sql("SHOW EXPORTS", { auth: SVC })).map((x) => x[0]);
    assert(!svcShown.includes(exportId), JSON.stringify(svcShown));

    const denied = await download(server, url, SVC);
    assertEquals(denied.res.status, 403);
    assertEquals(
      JSON.parse(new TextDecoder().decode(denied.bytes)).error.code,
      "PERMISSION_DENIED",
    );
    assertEquals((await download(server, url, BOB)).res.status, 403);
    const owner = await download(server, url, ALICE);
    assertEquals(owner.res.status, 200);
    assertEquals(owner.bytes.length, done.bytes);
    for (const auth of [DBA, ROOT]) {
      const other = await download(server, url, auth);
      assertEquals(other.res.status, 200);
      assertEquals(other.bytes, owner.bytes);
    }
    const files = await unzip(owner.bytes);
    const manifest = checkManifest(files);
    assertEquals(manifest.user, "alice");
    assertEquals(
      jsonlOf(files, "app/notes.jsonl").map((o) => [o.id, o.title]),
      [["1", "one"], ["2", "two"]],
    );

    // EXECUTE AS: service may act for users only; a user for nobody (SPEC §5).
    assertError(
      await server.sql("EXECUTE AS USER 'dana' (EXPORT USER DATA)", { auth: SVC }),
      "PERMISSION_DENIED",
    );
    assertError(
      await server.sql("EXECUTE AS USER 'alice' (EXPORT USER DATA)", { auth: BOB }),
      "PERMISSION_DENIED",
    );
  });
});
