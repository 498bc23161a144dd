// End-to-end tests of what roles see (SPEC §5): permission before existence (denials never tell
// which names exist), per-user isolation of USER tables over HTTP, EXECUTE AS USER (who may
// impersonate whom, and the inner statement checked with the target's role), and system.users
// never showing a password hash.

import {
  assert,
  assertEquals,
  assertError,
  assertSuccess,
  Failures,
  type Reply,
  ROOT,
  rows,
  type TestServer,
  withServer,
} from "./_server.ts";

interface Auths {
  user: string;
  bob: string;
  service: string;
  service2: string;
  dba: string;
  dba2: string;
}

async function setup(s: TestServer): Promise<Auths> {
  await s.root(
    "CREATE NAMESPACE app;\n" +
      "CREATE TABLE app.priv (id INT PRIMARY KEY, v TEXT);\n" +
      "CREATE TABLE app.shared (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');\n" +
      "CREATE USER TABLE app.notes (id INT PRIMARY KEY, v TEXT);\n" +
      "CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;\n" +
      "CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;\n" +
      "CREATE USER svc WITH PASSWORD 'svc-pw' ROLE service;\n" +
      "CREATE USER svc2 WITH PASSWORD 'svc2-pw' ROLE service;\n" +
      "CREATE USER dba1 WITH PASSWORD 'dba1-pw' ROLE dba;\n" +
      "CREATE USER dba2 WITH PASSWORD 'dba2-pw' ROLE dba;",
  );
  return {
    user: await s.token("alice", "alice-pw"),
    bob: await s.token("bob", "bob-pw"),
    service: await s.token("svc", "svc-pw"),
    service2: await s.token("svc2", "svc2-pw"),
    dba: await s.token("dba1", "dba1-pw"),
    dba2: await s.token("dba2", "dba2-pw"),
  };
}

/** The denial's message with every mention of the probed names blanked out. */
function shape(r: Reply, names: string[]): string {
  let m: string = r.body?.error?.message ?? `<no message: ${r.text}>`;
  for (const n of names.toSorted((a, b) => b.length - a.length)) {
    m = m.replace(new RegExp(`\\b${n.replaceAll(".", "\\.")}\\b`, "g"), "<name>");
  }
  return m;
}

Deno.test("permissions: before existence, isolation, EXECUTE AS, system.users", async (t) => {
  await withServer({}, async (s) => {
    const a = await setup(s);

    await t.step("a denial looks the same whether or not the target exists", async () => {
      const probes: [string, (name: string) => string, string[]][] = [
        ["SELECT", (n) => `SELECT * FROM ${n};`, ["app.priv", "app.nope", "nope.nope"]],
        ["INSERT", (n) => `INSERT INTO ${n} (id) VALUES (1);`, [
          "app.priv",
          "app.nope",
          "nope.nope",
        ]],
        ["DELETE", (n) => `DELETE FROM ${n} WHERE id = 1;`, ["app.priv", "app.nope", "nope.nope"]],
        ["DROP TABLE", (n) => `DROP TABLE ${n};`, ["app.shared", "app.nope", "nope.gone"]],
        ["ALTER TABLE", (n) => `ALTER TABLE ${n} ADD COLUMN c TEXT;`, [
          "app.shared",
          "app.nope",
          "nope.nope",
        ]],
        ["CREATE TABLE", (n) => `CREATE TABLE ${n} (id INT PRIMARY KEY);`, [
          "app.priv",
          "app.fresh",
          "nope.t",
        ]],
        ["SELECT system", (n) => `SELECT * FROM ${n};`, ["system.users", "system.nope"]],
        ["DESCRIBE", (n) => `DESCRIBE TABLE ${n};`, ["app.priv", "app.nope", "nope.nope"]],
      ];
      const failures = new Failures();
      for (const [who, auth] of [["user", a.user], ["anonymous", undefined]] as const) {
        for (const [what, sqlFor, names] of probes) {
          const replies = await Promise.all(names.map((n) => s.sql(sqlFor(n), { auth })));
          const parts = names.flatMap((n) => [n, ...n.split(".")]);
          for (const [i, r] of replies.entries()) {
            failures.run(
              `${what} ${names[i]} as ${who}`,
              () => assertError(r, "PERMISSION_DENIED"),
            );
          }
          const shapes = new Set(replies.map((r) => shape(r, parts)));
          failures.check(
            shapes.size === 1,
            `${what} as ${who}: messages differ: ${JSON.stringify(replies.map((r) => r.text))}`,
          );
          failures.check(
            replies.every((r) => !/exist|not found|unknown/i.test(r.body?.error?.message ?? "")),
            `${what} as ${who}: a denial mentions existence: ${replies.map((r) => r.text)}`,
          );
        }
      }
      failures.assertNone();
      // Callers allowed to act get the real answer.
      assertError(await s.sql("SELECT * FROM app.nope;", { auth: a.service }), "TABLE_NOT_FOUND");
      assertError(await s.sql("SELECT * FROM nope.t;", { auth: a.service }), "NAMESPACE_NOT_FOUND");
    });

    await t.step("no way around a denial: joins, subqueries, nested EXECUTE AS", async () => {
      const failures = new Failures();
      const cases: [string, string | undefined][] = [
        ["SELECT * FROM app.shared WHERE id IN (SELECT id FROM app.priv);", undefined],
        ["SELECT * FROM app.shared s JOIN app.priv p ON s.id = p.id;", undefined],
        ["SELECT * FROM app.notes n LEFT JOIN app.priv p ON n.id = p.id;", a.user],
        ["SELECT * FROM (SELECT * FROM system.users) u;", a.user],
        ["SELECT * FROM app.shared s JOIN system.users u ON 1 = 1;", a.user],
        ["UPDATE app.notes SET v = 'x' WHERE id IN (SELECT id FROM app.priv);", a.user],
        ["DELETE FROM app.notes WHERE id IN (SELECT id FROM app.priv);", a.user],
        ["EXECUTE AS USER 'alice' (EXECUTE AS USER 'root' (SELECT * FROM app.priv));", a.service],
      ];
      for (const [sql, auth] of cases) {
        const r = await s.sql(sql, { auth });
        failures.run(sql, () => assertError(r, "PERMISSION_DENIED"));
      }
      failures.assertNone();
    });

    await t.step("USER tables: everyone sees only their own partition", async () => {
      await checkIsolation(s, a);
    });

    await t.step("EXECUTE AS USER: who may impersonate whom", async () => {
      await checkExecuteAs(s, a);
    });

    await t.step("system.users never shows a password hash", async () => {
      const r = await s.root("SELECT * FROM system.users;");
      const result = r.body.results[0];
      const names: string[] = result.schema.map((c: { name: string }) => c.name);
      assert(
        names.every((n) => !/pass|hash|secret|salt/i.test(n)),
        `columns: ${JSON.stringify(names)}`,
      );
      assert(!/scrypt\$|bcrypt|\$2[aby]\$/.test(r.text), `a hash leaked: ${r.text}`);
      assertEquals(result.row_count, 7, r.text);
      const roles = rows(await s.root("SELECT user_id, role FROM system.users ORDER BY user_id;"));
      assertEquals(roles, [
        ["alice", "user"],
        ["bob", "user"],
        ["dba1", "dba"],
        ["dba2", "dba"],
        ["root", "system"],
        ["svc", "service"],
        ["svc2", "service"],
      ]);
    });
  });
});

async function checkIsolation(s: TestServer, a: Auths): Promise<void> {
  const ins = (auth: string, id: number, v: string) =>
    s.sql(`INSERT INTO app.notes (id, v) VALUES (${id}, '${v}');`, { auth });
  assertSuccess(await ins(a.user, 1, "alice-1"));
  assertSuccess(await ins(a.user, 2, "alice-2"));
  assertSuccess(await ins(a.bob, 1, "bob-1"), "same id, other partition");
  assertSuccess(await ins(ROOT, 9, "root-9"));
  const mine = (auth: string) => s.sql("SELECT id, v FROM app.notes ORDER BY id;", { auth });
  assertEquals(rows(await mine(a.user)), [[1, "alice-1"], [2, "alice-2"]]);
  assertEquals(rows(await mine(a.bob)), [[1, "bob-1"]]);
  assertEquals(rows(await mine(ROOT)), [[9, "root-9"]], "root sees only root's partition");
  const asAlice = await s.sql(
    "EXECUTE AS USER 'alice' (SELECT id, v FROM app.notes ORDER BY id);",
    {
      auth: ROOT,
    },
  );
  assertEquals(rows(asAlice), [[1, "alice-1"], [2, "alice-2"]]);
  assertEquals(asAlice.body.as_user, "alice");
  // bob cannot touch alice's rows: his UPDATE/DELETE only reach his partition.
  const upd = await s.sql("UPDATE app.notes SET v = 'hacked' WHERE id = 2;", { auth: a.bob });
  assertEquals(assertSuccess(upd).results[0].row_count, 0);
  const del = await s.sql("DELETE FROM app.notes WHERE id = 1;", { auth: a.bob });
  assertEquals(assertSuccess(del).results[0].row_count, 1);
  assertEquals(rows(await mine(a.user)), [[1, "alice-1"], [2, "alice-2"]]);
  assertEquals(rows(await mine(a.bob)), []);
}

async function checkExecuteAs(s: TestServer, a: Auths): Promise<void> {
  const inner = "SELECT COUNT(*) AS n FROM app.notes";
  const run = (auth: string, target: string, stmt = inner) =>
    s.sql(`EXECUTE AS USER '${target}' (${stmt});`, { auth });
  const failures = new Failures();
  const cases: [string, string, string, boolean][] = [
    ["user", a.user, "bob", false],
    ["user", a.user, "alice", false],
    ["service", a.service, "alice", true],
    ["service", a.service, "svc2", false],
    ["service", a.service, "dba1", false],
    ["service", a.service, "root", false],
    ["dba", a.dba, "alice", true],
    ["dba", a.dba, "svc", true],
    ["dba", a.dba, "dba2", false],
    ["dba", a.dba, "root", false],
    ["system", ROOT, "alice", true],
    ["system", ROOT, "svc", true],
    ["system", ROOT, "dba1", true],
  ];
  for (const [role, auth, target, ok] of cases) {
    const r = await run(auth, target);
    const what = `${role} EXECUTE AS ${target}`;
    if (ok) {
      failures.run(what, () => assertEquals(assertSuccess(r).as_user, target));
    } else failures.run(what, () => assertError(r, "PERMISSION_DENIED"));
  }
  // The inner statement is checked with the target's role, not the caller's.
  const priv = await run(ROOT, "alice", "SELECT * FROM app.priv");
  failures.run("root as alice reads PRIVATE", () => assertError(priv, "PERMISSION_DENIED"));
  const sys = await run(a.dba, "svc", "SELECT * FROM system.users");
  failures.run("dba as svc reads system.users", () => assertError(sys, "PERMISSION_DENIED"));
  const svcWrites = await run(ROOT, "svc", "INSERT INTO app.priv (id, v) VALUES (5, 'by svc')");
  failures.run("root as svc writes PRIVATE", () => assertSuccess(svcWrites));
  // A service writing as alice puts the row in alice's partition.
  const w = await run(a.service, "alice", "INSERT INTO app.notes (id, v) VALUES (3, 'via svc')");
  failures.run("svc writes as alice", () => assertEquals(assertSuccess(w).as_user, "alice"));
  const alice = await s.sql("SELECT id, v FROM app.notes WHERE id = 3;", { auth: a.user });
  failures.run("alice sees the row", () => assertEquals(rows(alice), [[3, "via svc"]]));
  // Missing targets: NOT_FOUND for those who may impersonate, PERMISSION_DENIED for others.
  // as_user is the effective user of the batch's last statement.
  const last = await s.sql(`SELECT 1; EXECUTE AS USER 'alice' (${inner});`, { auth: a.service });
  failures.run(
    "as_user after EXECUTE AS last",
    () => assertEquals(assertSuccess(last).as_user, "alice"),
  );
  const first = await s.sql(`EXECUTE AS USER 'alice' (${inner}); SELECT 1;`, { auth: a.service });
  failures.run(
    "as_user after EXECUTE AS first",
    () => assertEquals(assertSuccess(first).as_user, "svc"),
  );
  failures.assertNone();
  assertError(await run(a.service, "ghost"), "NOT_FOUND", "service EXECUTE AS a missing user");
  assertError(await run(a.user, "ghost"), "PERMISSION_DENIED", "user EXECUTE AS a missing user");
}
