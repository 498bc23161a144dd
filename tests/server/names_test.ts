// Names that become storage paths (issue 10, item 1), end to end through a real server: SPEC §2's
// name rule for every created name, user names unique regardless of case, path templates and
// storage roots that can never put two objects in one directory, and a DROP TABLE cleanup that
// deletes only the files its own manifests list.

import {
  assert,
  assertEquals,
  assertError,
  assertSuccess,
  basic,
  rows,
  type TestServer,
  withServer,
} from "./_server.ts";
import { untilJobsIdle } from "./_jobs.ts";

const BAD_NAMES = [
  '"victim-11/w"',
  '"../../x"',
  '"a/b"',
  '"a-1"',
  '"a.b"',
  '"ünï"',
  '"x y"',
  '"1abc"',
  `"${"n".repeat(65)}"`,
  `${"n".repeat(65)}`,
];

async function tableCount(s: TestServer): Promise<number> {
  return Number(
    rows(await s.root("SELECT COUNT(*) FROM system.tables WHERE namespace = 'app'"))[0][0],
  );
}

Deno.test("names: table and column names outside SPEC §2 are INVALID_SQL and create nothing", async () => {
  await withServer({}, async (s) => {
    await s.root(
      "CREATE NAMESPACE app; CREATE USER TABLE app.victim (id BIGINT PRIMARY KEY, v TEXT)",
    );
    assertEquals(await tableCount(s), 1);
    for (const bad of BAD_NAMES) {
      for (
        const sql of [
          `CREATE SHARED TABLE app.${bad} (id BIGINT PRIMARY KEY)`,
          `CREATE USER TABLE app.${bad} (id BIGINT PRIMARY KEY)`,
          `CREATE TABLE app.ok_name (id BIGINT PRIMARY KEY, ${bad} TEXT)`,
          `ALTER TABLE app.victim ADD COLUMN ${bad} TEXT`,
          `ALTER TABLE app.victim RENAME COLUMN v TO ${bad}`,
          `CREATE NAMESPACE ${bad}`,
        ]
      ) {
        const e = assertError(await s.sql(sql, { auth: basic("root", "") }), "INVALID_SQL", sql);
        assert(/Invalid \w+ name/.test(e.message), `${sql}: ${e.message}`);
      }
    }
    assertEquals(await tableCount(s), 1, "no table was created");
    const cols = rows(await s.root("DESCRIBE TABLE app.victim")).map((r) => r[0]);
    assertEquals(cols.filter((c) => !String(c).startsWith("_")), ["id", "v"]);
    // The longest valid name works, quoted or not.
    const longest = "n".repeat(64);
    await s.root(`CREATE TABLE app.${longest} (id BIGINT PRIMARY KEY, "${longest}" TEXT)`);
    assertEquals(await tableCount(s), 2);
  });
});

Deno.test("names: user names are unique regardless of case", async () => {
  await withServer({}, async (s) => {
    const r = await s.sql(`CREATE USER "ROOT" WITH PASSWORD 'x' ROLE user`, {
      auth: basic("root", ""),
    });
    assertError(r, "ALREADY_EXISTS");
    await s.root("CREATE USER alice WITH PASSWORD 'a' ROLE user");
    for (const name of ['"Alice"', "'ALICE'", '"aLiCe"']) {
      const sql = `CREATE USER ${name} WITH PASSWORD 'b' ROLE user`;
      assertError(await s.sql(sql, { auth: basic("root", "") }), "ALREADY_EXISTS", sql);
    }
    const users = rows(await s.root("SELECT user_id FROM system.users ORDER BY user_id"));
    assertEquals(users.map((u) => u[0]), ["alice", "root"]);
  });
});

Deno.test("names: path templates and storage roots can never share a directory", async () => {
  await withServer({}, async (s) => {
    const dir = `${s.dataDir}/elsewhere`;
    const bad = [
      // Placeholders glued together could make two (namespace, table) pairs one path.
      `CREATE STORAGE s1 TYPE filesystem PATH '${dir}' SHARED_TABLES_TEMPLATE '{namespace}_{table}'`,
      `CREATE STORAGE s1 TYPE filesystem PATH '${dir}' USER_TABLES_TEMPLATE '{namespace}/{user_id}/{table}'`,
      `CREATE STORAGE s1 TYPE filesystem PATH '${dir}' USER_TABLES_TEMPLATE '{namespace}/{table}/{user_id}/{table}'`,
      `CREATE STORAGE s1 TYPE filesystem PATH '${dir}' SHARED_TABLES_TEMPLATE 'x-1/{namespace}/{table}'`,
      `CREATE STORAGE s1 TYPE filesystem PATH '${dir}' SHARED_TABLES_TEMPLATE '../{namespace}/{table}'`,
      // Roots that nest inside (or hold) another storage's root.
      `CREATE STORAGE s1 TYPE filesystem PATH '${s.dataDir}/storage'`,
      `CREATE STORAGE s1 TYPE filesystem PATH '${s.dataDir}/storage/app'`,
      `CREATE STORAGE s1 TYPE filesystem PATH '${s.dataDir}'`,
    ];
    for (const sql of bad) {
      assertError(await s.sql(sql, { auth: basic("root", "") }), "INVALID_PARAMETER", sql);
    }
    await s.root(`CREATE STORAGE s1 TYPE filesystem PATH '${dir}'`);
    const twin = `CREATE STORAGE s2 TYPE filesystem PATH '${dir}/'`;
    assertError(await s.sql(twin, { auth: basic("root", "") }), "INVALID_PARAMETER", twin);
    const s3 = (id: string, creds: string) =>
      `CREATE STORAGE ${id} TYPE s3 BUCKET 'b' ENDPOINT 'http://127.0.0.1:1' CREDENTIALS '${creds}'`;
    for (const creds of ['{"access_key_id":"k"}', "{}", "[1]", '"x"']) {
      assertError(await s.sql(s3("s3a", creds), { auth: basic("root", "") }), "INVALID_PARAMETER");
    }
    await s.root(s3("s3a", '{"access_key_id":"k","secret_access_key":"s"}'));
    const sameBucket = s3("s3b", '{"access_key_id":"k","secret_access_key":"s"}');
    assertError(await s.sql(sameBucket, { auth: basic("root", "") }), "INVALID_PARAMETER");
    const ids = rows(await s.root("SELECT storage_id FROM system.storages ORDER BY storage_id"));
    assertEquals(ids.map((r) => r[0]), ["local", "s1", "s3a"]);
  });
});

Deno.test("names: DROP TABLE's cleanup deletes only the files its manifests list", async () => {
  await withServer({}, async (s) => {
    await s.root(`CREATE NAMESPACE app;
      CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT);
      CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user`);
    const alice = basic("alice", "alice-pw");
    for (let round = 0; round < 2; round++) {
      const r = await s.sql(`INSERT INTO app.notes (id, v) VALUES (${round}, 'r${round}')`, {
        auth: alice,
      });
      assertSuccess(r);
      await s.root("FLUSH TABLE app.notes");
      await untilJobsIdle(s);
    }
    const tableDir = [...Deno.readDirSync(`${s.dataDir}/storage/app`)].map((e) => e.name);
    assertEquals(tableDir.length, 1);
    assert(/^notes-\d+$/.test(tableDir[0]), tableDir[0]);
    const scope = `${s.dataDir}/storage/app/${tableDir[0]}/alice`;
    const own = [...Deno.readDirSync(scope)].map((e) => e.name).sort();
    assertEquals(own, ["batch-1.parquet", "batch-2.parquet", "manifest.json"]);
    // Something else's files in the same directory (what an unchecked name once put there).
    Deno.writeTextFileSync(`${scope}/foreign.parquet`, "not ours");
    Deno.mkdirSync(`${scope}/w-12`);
    Deno.writeTextFileSync(`${scope}/w-12/manifest.json`, "{}");
    await s.root("DROP TABLE app.notes");
    await untilJobsIdle(s);
    const status = rows(
      await s.root("SELECT status FROM system.jobs WHERE job_type = 'cleanup'"),
    );
    assertEquals(status, [["completed"]]);
    const left = [...Deno.readDirSync(scope)].map((e) => e.name).sort();
    assertEquals(left, ["foreign.parquet", "w-12"]);
    assertEquals(Deno.readTextFileSync(`${scope}/w-12/manifest.json`), "{}");
  });
});
