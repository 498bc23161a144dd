// Security: password hashes and storage credentials never leave the server (SPEC §3, §5, §6,
// §12). One server holds users with known passwords and an S3 storage with known credentials;
// every system table, SHOW and DESCRIBE answer, a set of failing statements, a failed flush to
// that storage, an export zip and the server's whole stdout/stderr are searched for the
// passwords, their hashes and the credentials (also base64 / hex encoded). Then the files of
// the data directory are tried as another local user (`nobody`) when the suite runs as root.

import { assert, assertEquals, rows, startServer, until } from "../server/_server.ts";
import { untilJobsIdle } from "../server/_jobs.ts";
import { canImpersonate, leaks, readableByNobody, unzip } from "./_kit.ts";
import { DatabaseSync } from "node:sqlite";

const PASSWORD = "pw-Zq81-alice-secret";
const ROOT_PW = "pw-Kx02-root-secret";
const ACCESS_KEY = "AKIAQ7SECURITYTEST01";
const SECRET_KEY = "sk-Wm93+secret/access+key-0123456789";

Deno.test("security/secrets: no hash, password or credential in any answer, log or export", async () => {
  const s = await startServer({
    KALAMDB_LOGIN_FAILURE_LIMIT: "1000",
    KALAMDB_ROOT_PASSWORD: ROOT_PW,
  });
  const root = `Basic ${btoa(`root:${ROOT_PW}`)}`;
  const seen: [string, string][] = [];
  const sql = async (text: string, auth = root) => {
    const r = await s.sql(text, { auth });
    seen.push([text, r.text]);
    return r;
  };
  let out: { code: number; stdout: string; stderr: string } | undefined;
  const hashes: string[] = [];
  const creds = JSON.stringify({ access_key_id: ACCESS_KEY, secret_access_key: SECRET_KEY });
  try {
    await sql(`CREATE NAMESPACE app;
      CREATE USER alice WITH PASSWORD '${PASSWORD}' ROLE user;
      CREATE USER boss WITH PASSWORD '${PASSWORD}-boss' ROLE dba;
      CREATE STORAGE s3x TYPE s3 BUCKET 'sec-bucket' ENDPOINT 'http://127.0.0.1:9'
        REGION 'us-east-1' CREDENTIALS '${creds}';
      CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT);
      CREATE SHARED TABLE app.cold (id BIGINT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = 's3x');
      INSERT INTO app.cold (id, v) VALUES (1, 'x');
      ALTER USER boss SET PASSWORD '${PASSWORD}-boss2'`);
    const alice = `Basic ${btoa(`alice:${PASSWORD}`)}`;
    assertEquals(
      (await sql("INSERT INTO app.notes (id, v) VALUES (1, 'mine')", alice)).status,
      200,
    );
    // A flush to the unreachable S3 endpoint fails (and retries): its messages are searched too.
    await sql("FLUSH TABLE app.cold", root);
    await sql("ALTER STORAGE s3x REGION 'eu-west-1'", root);
    const systemTables = rows(
      await sql("SELECT table_name FROM system.tables WHERE namespace = 'system'", root),
    )
      .map((r) => String(r[0]));
    for (
      const t of new Set([
        ...systemTables,
        "users",
        "storages",
        "jobs",
        "columns",
        "tables",
        "stats",
      ])
    ) {
      await sql(`SELECT * FROM system.${t}`, root);
    }
    for (
      const q of [
        "SHOW STORAGES",
        "SHOW JOBS",
        "SHOW NAMESPACES",
        "SHOW TABLES",
        "SHOW LIVE QUERIES",
        "SHOW EXPORTS",
        "SHOW STATS FOR TABLE app.cold",
        "DESCRIBE TABLE system.users",
        "DESCRIBE TABLE system.storages",
        "DESCRIBE TABLE app.cold",
        "SELECT * FROM system.users u JOIN system.storages s ON 1 = 1",
        "SELECT password_hash FROM system.users",
        "SELECT credentials FROM system.storages",
        "SELECT * FROM system.columns WHERE table_name IN ('users', 'storages')",
        // Failing statements that carry a password or credentials in their text.
        `CREATE USER alice WITH PASSWORD '${PASSWORD}' ROLE user`,
        `CREATE USER alice2 WITH PASSWORD '${PASSWORD}' ROLE superuser`,
        `CREATE USER alice3 WITH PASSWORD '${PASSWORD}' ROLE user EXTRA`,
        `ALTER USER nobody_here SET PASSWORD '${PASSWORD}'`,
        `ALTER USER alice SET PASSWORD '${PASSWORD}' garbage`,
        `CREATE STORAGE s3x TYPE s3 BUCKET 'b2' CREDENTIALS '${creds}'`,
        `CREATE STORAGE s3y TYPE s3 BUCKET 'sec-bucket' ENDPOINT 'http://127.0.0.1:9' CREDENTIALS '${creds}'`,
        `CREATE STORAGE s3z TYPE s3 BUCKET 'b3' CREDENTIALS '{"access_key_id":"${ACCESS_KEY}"}'`,
        `CREATE STORAGE s3w TYPE s3 BUCKET 'b4' CREDENTIALS '${creds.slice(0, -1)}'`,
        `ALTER STORAGE s3x CREDENTIALS '{"access_key_id":"${ACCESS_KEY}"}'`,
        `ALTER STORAGE s3x CREDENTIALS '${creds}' BOGUS 'x'`,
      ]
    ) await sql(q, root);
    // As a user and anonymous: denials must not echo either.
    for (const auth of [alice, undefined]) {
      for (
        const q of [
          "SELECT * FROM system.users",
          "SHOW STORAGES",
          `CREATE STORAGE q TYPE s3 BUCKET 'b' CREDENTIALS '${creds}'`,
        ]
      ) {
        const r = await s.sql(q, { auth });
        seen.push([`${q} as ${auth ? "alice" : "anonymous"}`, r.text]);
      }
    }
    const logins = [await s.login("alice", "wrong-" + PASSWORD), await s.login("alice", PASSWORD)];
    for (const r of logins) {
      seen.push(["login", r.text.replace(/"(access|refresh)_token":"[^"]+"/g, "")]);
    }
    // An export of alice's data.
    const exp = await s.sql("EXPORT USER DATA", { auth: alice });
    assertEquals(exp.status, 200, exp.text);
    const shown = await until(async () => {
      const r = rows(await s.sql("SHOW EXPORTS", { auth: alice }));
      return r.length === 1 && r[0][2] === "completed" ? r : undefined;
    }, "alice's export completed");
    const zip = await fetch(s.url + String(shown[0][5]).replace(/^https?:\/\/[^/]+/, ""), {
      headers: { authorization: alice },
    });
    assertEquals(zip.status, 200);
    const files = await unzip(new Uint8Array(await zip.arrayBuffer()));
    for (const [name, bytes] of files) {
      seen.push([`export member ${name}`, new TextDecoder().decode(bytes)]);
    }
    // The hashes, read straight from the SQLite file (0600 to everyone but us).
    const db = new DatabaseSync(`${s.dataDir}/kalamdb.sqlite`, { readOnly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      for (const { name } of tables) {
        const stmt = db.prepare(`SELECT * FROM "${name}"`);
        stmt.setReadBigInts(true);
        for (const row of stmt.all()) {
          for (const v of Object.values(row)) {
            if (typeof v === "string" && v.startsWith("scrypt$")) hashes.push(v);
          }
        }
      }
    } finally {
      db.close();
    }
    assert(hashes.length >= 3, `found ${hashes.length} hashes in the SQLite file`);
  } finally {
    out = await s.stop();
  }
  // Each hash's salt and key parts separately: a hash printed in pieces still leaks.
  const hashParts = hashes.flatMap((h) => [h, ...h.split("$").slice(4)]);
  const secrets = [PASSWORD, ROOT_PW, ACCESS_KEY, SECRET_KEY, ...hashParts];
  const hits = [
    ...seen.flatMap(([what, text]) => leaks(what, text, secrets)),
    ...leaks("server stdout", out.stdout, secrets),
    ...leaks("server stderr", out.stderr, secrets),
  ];
  assert(hits.length === 0, `secrets leaked:\n- ${hits.join("\n- ")}`);
  assert(seen.length > 40, `${seen.length} answers searched`);
  assertEquals(out.code, 0, out.stderr);
});

Deno.test({
  name: "security/secrets: another local user can read nothing of the data directory",
  ignore: !canImpersonate(),
  fn: async () => {
    const s = await startServer({ KALAMDB_JWT_SECRET: "" }); // the server keeps its own secret
    try {
      await s.root(
        `CREATE NAMESPACE app; CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT);
        INSERT INTO app.notes (id, v) VALUES (1, 'a'); FLUSH TABLE app.notes;
        CREATE USER alice WITH PASSWORD 'x' ROLE user`,
      );
      await untilJobsIdle(s);
      await s.root("EXPORT USER DATA");
      await untilJobsIdle(s);
      const readable: string[] = [];
      // With the modes as the server left them, nobody cannot even list the data directory.
      if (await readableByNobody(s.dataDir)) readable.push(`${s.dataDir} (as left)`);
      // Defence in depth: with every directory opened for traversal (0711), no file is readable.
      const dirs: string[] = [];
      const fileList: string[] = [];
      const walk = (path: string) => {
        for (const e of Deno.readDirSync(path)) {
          const p = `${path}/${e.name}`;
          if (e.isDirectory) (dirs.push(p), walk(p));
          else if (e.isFile) fileList.push(p);
        }
      };
      walk(s.dataDir);
      dirs.push(s.dataDir);
      try {
        for (const d of dirs) Deno.chmodSync(d, 0o711);
        for (const f of fileList) if (await readableByNobody(f)) readable.push(f);
      } finally {
        for (const d of dirs) Deno.chmodSync(d, 0o700);
      }
      const names = fileList.map((f) => f.slice(s.dataDir.length + 1));
      for (const want of ["kalamdb.sqlite", "jwt_secret", "manifest.json", ".parquet", ".zip"]) {
        assert(names.some((n) => n.endsWith(want)), `${want} among ${names}`);
      }
      assertEquals(readable, [], "readable by nobody");
    } finally {
      const out = await s.stop();
      assertEquals(out.code, 0, out.stderr);
    }
  },
});
