// The role matrix of SPEC §5 over HTTP: every statement family run by anonymous, user, service,
// dba and system (root); each cell must succeed or answer PERMISSION_DENIED (403). Mismatches
// are collected and reported together, so one run shows the whole matrix. Also: who may grant
// which role, and that nobody changes their own role.

import {
  assertEquals,
  assertError,
  assertSuccess,
  Failures,
  ROOT,
  rows,
  type TestServer,
  withServer,
} from "./_server.ts";

const ROLES = ["anonymous", "user", "service", "dba", "system"] as const;
type RoleName = typeof ROLES[number];
const ALL: readonly RoleName[] = ROLES;
const AUTH: readonly RoleName[] = ["user", "service", "dba", "system"];
const SVC: readonly RoleName[] = ["service", "dba", "system"];
const DBA: readonly RoleName[] = ["dba", "system"];
const NONE: readonly RoleName[] = [];

/** The login of each role (system is root). */
const LOGIN: Record<RoleName, string> = {
  anonymous: "",
  user: "u_user",
  service: "u_service",
  dba: "u_dba",
  system: "root",
};

/** One matrix row: SQL for a role (null = not applicable) and the roles allowed to run it. */
type Row = [
  label: string,
  sql: (r: RoleName, n: number) => string | null,
  allowed: readonly RoleName[],
];

const MATRIX: Row[] = [
  ["SELECT PUBLIC shared", () => "SELECT * FROM app.pub;", ALL],
  ["SELECT PROTECTED shared", () => "SELECT * FROM app.prot;", AUTH],
  ["SELECT PRIVATE shared", () => "SELECT * FROM app.priv;", SVC],
  ["INSERT PUBLIC shared", (_, n) => `INSERT INTO app.pub (id, v) VALUES (${n}, 'x');`, SVC],
  ["INSERT PROTECTED shared", (_, n) => `INSERT INTO app.prot (id, v) VALUES (${n}, 'x');`, SVC],
  ["INSERT PRIVATE shared", (_, n) => `INSERT INTO app.priv (id, v) VALUES (${n}, 'x');`, SVC],
  ["UPDATE PUBLIC shared", (_, n) => `UPDATE app.pub SET v = 'y' WHERE id = ${n};`, SVC],
  ["DELETE PROTECTED shared", (_, n) => `DELETE FROM app.prot WHERE id = ${n};`, SVC],
  ["DELETE PRIVATE shared", (_, n) => `DELETE FROM app.priv WHERE id = ${n};`, SVC],
  ["INSERT USER table", () => "INSERT INTO app.notes (id, v) VALUES (1, 'mine');", AUTH],
  ["SELECT USER table", () => "SELECT * FROM app.notes;", AUTH],
  ["UPDATE USER table", () => "UPDATE app.notes SET v = 'upd' WHERE id = 1;", AUTH],
  ["DELETE USER table", () => "DELETE FROM app.notes WHERE id = 1;", AUTH],
  ["INSERT STREAM table", () => "INSERT INTO app.events (id, v) VALUES (1, 'e');", AUTH],
  ["SELECT STREAM table", () => "SELECT * FROM app.events;", AUTH],
  ["UPDATE STREAM table", () => "UPDATE app.events SET v = 'f' WHERE id = 1;", AUTH],
  ["DELETE STREAM table", () => "DELETE FROM app.events WHERE id = 1;", AUTH],
  ["SELECT system.users", () => "SELECT * FROM system.users;", DBA],
  ["SELECT system.tables", () => "SELECT * FROM system.tables;", DBA],
  ["SELECT system.namespaces", () => "SELECT * FROM system.namespaces;", DBA],
  ["INSERT system.users", () => "INSERT INTO system.users (user_id) VALUES ('evil');", NONE],
  ["UPDATE system.users", () => "UPDATE system.users SET email = 'e' WHERE user_id = 'x';", NONE],
  ["DELETE system.tables", () => "DELETE FROM system.tables WHERE table_name = 'x';", NONE],
  ["CREATE USER TABLE", (r) => `CREATE USER TABLE app.ut_${r} (id INT PRIMARY KEY);`, AUTH],
  [
    "CREATE STREAM TABLE",
    (r) => `CREATE STREAM TABLE app.st_${r} (id INT PRIMARY KEY) WITH (TTL_SECONDS = 60);`,
    AUTH,
  ],
  ["CREATE SHARED TABLE", (r) => `CREATE SHARED TABLE app.sh_${r} (id INT PRIMARY KEY);`, SVC],
  ["CREATE TABLE (shared default)", (r) => `CREATE TABLE app.df_${r} (id INT PRIMARY KEY);`, SVC],
  ["ALTER TABLE", (r) => `ALTER TABLE app.alt ADD COLUMN c_${r} TEXT;`, SVC],
  ["DROP TABLE", (r) => `DROP TABLE app.drop_${r};`, SVC],
  ["CREATE NAMESPACE", (r) => `CREATE NAMESPACE ns_${r};`, DBA],
  ["DROP NAMESPACE", (r) => `DROP NAMESPACE dropns_${r};`, DBA],
  [
    "CREATE STORAGE",
    (r) => `CREATE STORAGE st_${r} TYPE filesystem PATH '${STORAGE_DIR}/${r}';`,
    DBA,
  ],
  [
    "ALTER STORAGE",
    (r) => `ALTER STORAGE dropst_${r} SHARED_TABLES_TEMPLATE '{namespace}/x/{table}';`,
    DBA,
  ],
  ["DROP STORAGE", (r) => `DROP STORAGE dropst_${r};`, DBA],
  ["CREATE USER", (r) => `CREATE USER new_${r} WITH PASSWORD 'p' ROLE user;`, DBA],
  ["ALTER USER SET ROLE (other)", (r) => `ALTER USER victim_${r} SET ROLE service;`, DBA],
  ["ALTER USER SET PASSWORD (other)", (r) => `ALTER USER victim_${r} SET PASSWORD 'q';`, DBA],
  ["DROP USER", (r) => `DROP USER droppee_${r};`, DBA],
  // Self: same password again, so the role's credentials keep working. root's own password is
  // not changed here (auth_test covers it); anonymous has no self, so it targets u_user.
  [
    "ALTER USER <self> SET PASSWORD",
    (r) =>
      r === "system"
        ? null
        : `ALTER USER ${r === "anonymous" ? "u_user" : LOGIN[r]} SET PASSWORD 'pw-${
          r === "anonymous" ? "user" : r
        }';`,
    ["user", "service", "dba"],
  ],
  ["SHOW NAMESPACES", () => "SHOW NAMESPACES;", AUTH],
  ["SHOW TABLES", () => "SHOW TABLES;", AUTH],
  ["SHOW TABLES IN app", () => "SHOW TABLES IN app;", AUTH],
  ["DESCRIBE TABLE (readable)", () => "DESCRIBE TABLE app.prot;", AUTH],
  ["SHOW STORAGES", () => "SHOW STORAGES;", DBA],
];

let STORAGE_DIR = "";

async function setup(s: TestServer): Promise<Record<RoleName, string | undefined>> {
  STORAGE_DIR = `${s.dataDir}/extra-storages`;
  let sql = "CREATE NAMESPACE app;\n" +
    "CREATE TABLE app.pub (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');\n" +
    "CREATE TABLE app.prot (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PROTECTED');\n" +
    "CREATE TABLE app.priv (id INT PRIMARY KEY, v TEXT);\n" +
    "CREATE USER TABLE app.notes (id INT PRIMARY KEY, v TEXT);\n" +
    "CREATE STREAM TABLE app.events (id INT PRIMARY KEY, v TEXT) WITH (TTL_SECONDS = 3600);\n" +
    "CREATE TABLE app.alt (id INT PRIMARY KEY);\n" +
    "INSERT INTO app.pub (id, v) VALUES (1, 'p'); INSERT INTO app.prot (id, v) VALUES (1, 'p');\n" +
    "INSERT INTO app.priv (id, v) VALUES (1, 'p');\n";
  for (const r of ROLES) {
    sql += `CREATE TABLE app.drop_${r} (id INT PRIMARY KEY); CREATE NAMESPACE dropns_${r};\n` +
      `CREATE STORAGE dropst_${r} TYPE filesystem PATH '${STORAGE_DIR}/drop_${r}';\n` +
      `CREATE USER victim_${r} WITH PASSWORD 'v' ROLE user;\n` +
      `CREATE USER droppee_${r} WITH PASSWORD 'v' ROLE user;\n`;
  }
  for (const r of ["user", "service", "dba"]) {
    sql += `CREATE USER u_${r} WITH PASSWORD 'pw-${r}' ROLE ${r};\n`;
  }
  await s.root(sql);
  return {
    anonymous: undefined,
    user: await s.token("u_user", "pw-user"),
    service: await s.token("u_service", "pw-service"),
    dba: await s.token("u_dba", "pw-dba"),
    system: ROOT,
  };
}

Deno.test("roles: the SPEC §5 permission matrix", async () => {
  await withServer({}, async (s) => {
    const auth = await setup(s);
    const failures = new Failures();
    for (const [label, sqlFor, allowed] of MATRIX) {
      for (const [i, role] of ROLES.entries()) {
        const sql = sqlFor(role, 10 + i);
        if (sql === null) continue;
        const r = await s.sql(sql, { auth: auth[role] });
        const cell = `${label} as ${role} (${sql})`;
        if (allowed.includes(role)) {
          failures.run(`${cell} should succeed`, () => assertSuccess(r));
        } else {
          failures.run(
            `${cell} should be PERMISSION_DENIED`,
            () => assertError(r, "PERMISSION_DENIED"),
          );
        }
      }
    }
    // Denied writes left nothing behind; allowed ones did their work.
    const awaitedPub = await s.root("SELECT id FROM app.pub ORDER BY id;");
    failures.run(
      "app.pub ids after the matrix",
      () => assertEquals(rows(awaitedPub), [[1], [12], [13], [14]]),
    );
    const users = rows(await s.root("SELECT user_id FROM system.users ORDER BY user_id;")).flat();
    failures.check(
      !users.includes("evil") && !users.includes("new_user") && users.includes("new_dba"),
      `system.users after the matrix: ${JSON.stringify(users)}`,
    );
    failures.assertNone();
  });
});

Deno.test("roles: granting roles — dba cannot grant system, nobody changes their own", async () => {
  await withServer({}, async (s) => {
    await s.root(
      "CREATE USER u_user WITH PASSWORD 'pw-user' ROLE user;\n" +
        "CREATE USER u_service WITH PASSWORD 'pw-service' ROLE service;\n" +
        "CREATE USER u_dba WITH PASSWORD 'pw-dba' ROLE dba;\n" +
        "CREATE USER target WITH PASSWORD 't' ROLE user;",
    );
    const dba = await s.token("u_dba", "pw-dba");
    const service = await s.token("u_service", "pw-service");
    const user = await s.token("u_user", "pw-user");
    const failures = new Failures();
    const denied: [string, string | undefined, string][] = [
      ["dba creates a system user", dba, "CREATE USER sys2 WITH PASSWORD 'x' ROLE system;"],
      ["dba promotes to system", dba, "ALTER USER target SET ROLE system;"],
      ["dba changes own role", dba, "ALTER USER u_dba SET ROLE user;"],
      ["service changes own role", service, "ALTER USER u_service SET ROLE dba;"],
      ["user changes own role", user, "ALTER USER u_user SET ROLE service;"],
      ["root changes own role", ROOT, "ALTER USER root SET ROLE dba;"],
      ["user sets another's password", user, "ALTER USER target SET PASSWORD 'x';"],
      ["service sets another's password", service, "ALTER USER target SET PASSWORD 'x';"],
      ["dba sets root's password", dba, "ALTER USER root SET PASSWORD 'mine-now';"],
      ["dba drops root", dba, "DROP USER root;"],
      ["dba impersonates root", dba, "EXECUTE AS USER 'root' (SELECT 1);"],
    ];
    for (const [what, auth, sql] of denied) {
      const r = await s.sql(sql, { auth });
      failures.run(what, () => assertError(r, "PERMISSION_DENIED", sql));
    }
    const allowed: [string, string, string][] = [
      ["dba creates a dba", dba, "CREATE USER dba2 WITH PASSWORD 'x' ROLE dba;"],
      ["dba promotes to service", dba, "ALTER USER target SET ROLE service;"],
      ["root creates a system user", ROOT, "CREATE USER sys3 WITH PASSWORD 'x' ROLE system;"],
    ];
    for (const [what, auth, sql] of allowed) {
      const r = await s.sql(sql, { auth });
      failures.run(what, () => assertSuccess(r, sql));
    }
    const roles = await s.root("SELECT user_id, role FROM system.users ORDER BY user_id;");
    failures.run("roles afterwards", () =>
      assertEquals(rows(roles), [
        ["dba2", "dba"],
        ["root", "system"],
        ["sys3", "system"],
        ["target", "service"],
        ["u_dba", "dba"],
        ["u_service", "service"],
        ["u_user", "user"],
      ]));
    failures.assertNone();
  });
});
