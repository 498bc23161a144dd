// Security: names that try to become someone else's path (issue 15 item 4). Traversal and
// look-alike spellings (`..`, `/`, `\`, NUL, Cyrillic and full-width letters) in namespace,
// table, column, user and storage ids are refused; objects whose names differ only in case are
// distinct objects with distinct directories and manifests, and after a restart each one's rows
// are still its own. tests/server/names_test.ts covers the table/column rule and templates.

import { assert, assertEquals, basic, rows, startServer } from "../server/_server.ts";
import { untilJobsIdle } from "../server/_jobs.ts";

const HOSTILE = [
  "..",
  "../x",
  "a/b",
  "a\\\\b",
  "a\\b",
  "x\u0000y",
  "\u0430pp", // Cyrillic а
  "\uff41pp", // full-width ａ
  "app\u200b", // zero-width space
  "r\u043eot", // Cyrillic о in root
];

/** Every file under `dir`, relative. */
function files(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(rel ? `${dir}/${rel}` : dir)) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...files(dir, p));
    else out.push(p);
  }
  return out;
}

Deno.test("security/names: traversal and look-alikes refused in every kind of id; case twins stay apart across a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "kalamdb-sec-names-" });
  try {
    let s = await startServer({}, { dataDir });
    const problems: string[] = [];
    try {
      await s.root(`CREATE NAMESPACE app;
        CREATE USER alice WITH PASSWORD 'a' ROLE user;
        CREATE USER bob WITH PASSWORD 'b' ROLE user`);
      for (const raw of HOSTILE) {
        const q = `"${raw.replaceAll('"', '""')}"`;
        const lit = `'${raw.replaceAll("'", "''")}'`;
        for (
          const sql of [
            `CREATE NAMESPACE ${q}`,
            `CREATE USER TABLE app.${q} (id BIGINT PRIMARY KEY)`,
            `CREATE USER TABLE ${q}.t (id BIGINT PRIMARY KEY)`,
            `CREATE SHARED TABLE app.ok (id BIGINT PRIMARY KEY, ${q} TEXT)`,
            `CREATE USER ${q} WITH PASSWORD 'p' ROLE user`,
            `CREATE USER ${lit} WITH PASSWORD 'p' ROLE user`,
            `CREATE STORAGE ${q} TYPE filesystem PATH '${dataDir}/../elsewhere'`,
          ]
        ) {
          const r = await s.sql(sql, { auth: basic("root", "") });
          if (r.status === 200) problems.push(`accepted: ${JSON.stringify(sql)}`);
          else if (r.status >= 500) {
            problems.push(`${r.status} for ${JSON.stringify(sql)}: ${r.text}`);
          }
        }
        // Impersonation and downloads by such a name find nobody.
        const as = await s.sql(`EXECUTE AS USER ${lit} (SELECT 1)`, { auth: basic("root", "") });
        if (as.body?.error?.code !== "NOT_FOUND") problems.push(`EXECUTE AS ${raw}: ${as.text}`);
      }
      // A storage root that reaches the data dir through `..` is the data dir.
      const sneaky = `CREATE STORAGE sneaky TYPE filesystem PATH '${dataDir}/x/../storage/app'`;
      const r = await s.sql(sneaky, { auth: basic("root", "") });
      if (r.status === 200) problems.push(`accepted: ${sneaky}`);
      // Export downloads with encoded traversal answer 404, never a file.
      for (
        const path of ["root/..%2F..%2Fkalamdb.sqlite", "..%2Froot/x", "root/%2e%2e%2fjwt_secret"]
      ) {
        const d = await s.request("GET", `/v1/exports/${path}`, { auth: basic("root", "") });
        if (d.status !== 404) problems.push(`download ${path}: ${d.status}`);
      }
      const names = rows(await s.root("SELECT * FROM system.namespaces")).map((r) => r[0]);
      const users = rows(await s.root("SELECT user_id FROM system.users ORDER BY user_id")).flat();
      assertEquals(users, ["alice", "bob", "root"]);
      assert(names.every((n) => /^[A-Za-z_]\w*$/.test(String(n))), `namespaces: ${names}`);

      // Case twins: namespaces, tables and columns that differ only in case.
      await s.root(`CREATE NAMESPACE "App";
        CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT);
        CREATE USER TABLE app."Notes" (id BIGINT PRIMARY KEY, v TEXT);
        CREATE USER TABLE "App".notes (id BIGINT PRIMARY KEY, v TEXT)`);
      const twins = ["app.notes", 'app."Notes"', '"App".notes'];
      for (const [i, t] of twins.entries()) {
        for (const [who, pw] of [["alice", "a"], ["bob", "b"]]) {
          const w = await s.sql(`INSERT INTO ${t} (id, v) VALUES (1, '${who}@${i}')`, {
            auth: basic(who, pw),
          });
          assertEquals(w.status, 200, `${t} as ${who}: ${w.text}`);
        }
        await s.root(`FLUSH TABLE ${t}`);
      }
      await untilJobsIdle(s);
    } finally {
      const out = await s.stop();
      assertEquals(out.code, 0, out.stderr);
    }
    // Each (table, user) scope has its own directory and its own manifest naming its own segment.
    const all = files(`${dataDir}/storage`);
    const manifests = all.filter((f) => f.endsWith("manifest.json"));
    assertEquals(manifests.length, 6, `manifests: ${manifests}`);
    const dirs = new Set(manifests.map((m) => m.slice(0, m.lastIndexOf("/"))));
    assertEquals(dirs.size, 6, `scope dirs: ${[...dirs]}`);
    const segments = new Set<string>();
    for (const m of manifests) {
      const text = Deno.readTextFileSync(`${dataDir}/storage/${m}`);
      for (const seg of text.match(/batch-\d+\.parquet/g) ?? []) {
        segments.add(`${m.slice(0, m.lastIndexOf("/"))}/${seg}`);
      }
    }
    assertEquals(segments.size, 6, `segments named by manifests: ${[...segments]}`);
    // After a restart, every user reads exactly their own row of each twin.
    s = await startServer({}, { dataDir });
    try {
      const twins = ["app.notes", 'app."Notes"', '"App".notes'];
      for (const [i, t] of twins.entries()) {
        for (const [who, pw] of [["alice", "a"], ["bob", "b"]]) {
          const got = rows(await s.sql(`SELECT v FROM ${t}`, { auth: basic(who, pw) }));
          if (JSON.stringify(got) !== JSON.stringify([[`${who}@${i}`]])) {
            problems.push(`${t} as ${who} after restart: ${JSON.stringify(got)}`);
          }
        }
      }
    } finally {
      const out = await s.stop();
      assertEquals(out.code, 0, out.stderr);
    }
    assert(problems.length === 0, `problems:\n- ${problems.join("\n- ")}`);
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
