// Batch mode against a real server (issue 13): the same batch remote and embedded prints the
// same lines; todo-app.sql; an error's position; JSON output; login and the credentials file; a
// regular user's session; a stored token renewed.

import { runMain, type RunResult } from "../../cli/_test_util.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
  startServer,
  type TestServer,
  until,
} from "../server/_server.ts";
import { withTempDir } from "../_util.ts";

const DENO_DIR = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;

/** Runs main.ts with a HOME of its own (no stored logins leak in). */
function kalamdb(args: string[], home: string, env: Record<string, string> = {}) {
  // Deno's cache stays where it is (a new HOME would download the npm packages again).
  return runMain(args, { DENO_DIR, HOME: home, ...env });
}

const normal = (r: RunResult) => ({
  code: r.code,
  stdout: r.stdout.replace(/Took: \d+\.\d{3} ms/g, "Took: T ms")
    .replace(/"took_ms":[\d.]+/g, '"took_ms":T'),
  stderr: r.stderr,
});

async function withServerAndHome(fn: (s: TestServer, home: string) => Promise<void>) {
  await withTempDir(async (home) => {
    const server = await startServer();
    try {
      await fn(server, home);
    } finally {
      await server.stop();
    }
  });
}

const BATCH = `CREATE NAMESPACE b;
CREATE SHARED TABLE b.t (id BIGINT PRIMARY KEY, name TEXT, price DECIMAL(8,2), at TIMESTAMP, j JSON, ok BOOLEAN);
INSERT INTO b.t VALUES (9007199254740993, '日本語 ✓', 12.50, '2026-01-02T03:04:05.123456789Z', '{"a":[1]}', true),
  (2, NULL, NULL, NULL, NULL, NULL);
SELECT id, name, price, at, j, ok FROM b.t ORDER BY id;
UPDATE b.t SET name = 'two' WHERE id = 2;
SELECT id, name FROM b.missing;
SELECT COUNT(*) AS n FROM b.t;
`;

Deno.test("cli remote: the same batch prints the same lines remote and embedded", async () => {
  await withTempDir(async (home) => {
    const variants = [[], ["--continue-on-error"], ["--format", "json"], ["--format", "csv"]];
    for (const [k, extra] of variants.entries()) {
      const fresh = await startServer();
      try {
        const remote = await kalamdb(["sql", "-c", BATCH, "--url", fresh.url, ...extra], home);
        const embedded = await kalamdb(
          ["sql", "-c", BATCH, "--data", `${home}/e${k}`, ...extra],
          home,
        );
        assertEquals(normal(remote), normal(embedded), `with ${extra.join(" ") || "defaults"}`);
        assertEquals(remote.code, 1);
        assertMatch(
          remote.stderr,
          /^ERROR TABLE_NOT_FOUND: .*\(statement 6, line 7, column 1\)$/m,
        );
        if (extra[0] === "--continue-on-error") assertMatch(remote.stdout, /^ n$/m);
        if (extra[1] === "json") {
          const objs = remote.stdout.trim().split("\n").map((l) => JSON.parse(l));
          assertEquals(objs[3].rows[0].id, "2");
          assertEquals(objs[3].rows[1].id, "9007199254740993");
          assertEquals(objs[3].rows[1].at, "2026-01-02T03:04:05.123456789Z");
          assertEquals(objs[3].rows[1].j, { a: [1] });
        }
      } finally {
        await fresh.stop();
      }
    }
  });
});

Deno.test("cli remote: todo-app.sql, and an error on line 3 of a file", async () => {
  await withServerAndHome(async (s, home) => {
    const todo = new URL("../../todo-app.sql", import.meta.url).pathname;
    const r = await kalamdb(["--file", todo, "--url", s.url], home);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout, /\(\d+ rows?\)\nTook: \d+\.\d{3} ms/);
    assert(!/Took: 0\.000 ms/.test(r.stdout), "never a zero time");
    const bad = `${home}/bad.sql`;
    await Deno.writeTextFile(
      bad,
      "SELECT 1;\n-- two\nSELECT nope FROM todo_app.todos;\nSELECT 2;\n",
    );
    const e = await kalamdb(["--file", bad, "--url", s.url], home);
    assertEquals(e.code, 1);
    assertMatch(e.stderr, /^ERROR COLUMN_NOT_FOUND: .*\(statement 2, line 3, column \d+\)$/m);
    assertEquals(e.stdout.match(/Took:/g)?.length, 1, "statement 1 printed, 3 not run");
  });
});

Deno.test("cli remote: login stores tokens (0600, no password), --instance, logout", async () => {
  await withServerAndHome(async (s, home) => {
    await s.root(`CREATE USER alice WITH PASSWORD 'alice-secret-pw' ROLE user;
      CREATE NAMESPACE n; CREATE USER TABLE n.notes (id INT PRIMARY KEY, v TEXT);`);
    const login = await kalamdb([
      "login",
      "--url",
      s.url,
      "--user",
      "alice",
      "--password",
      "alice-secret-pw",
      "--instance",
      "dev",
    ], home);
    assertEquals(login.code, 0, login.stderr);
    assertStringIncludes(login.stdout, "as alice (user)");
    const path = `${home}/.kalamdb/credentials.json`;
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(`${home}/.kalamdb`)).mode! & 0o777, 0o700);
    const text = await Deno.readTextFile(path);
    assert(!text.includes("alice-secret-pw"), "the password is never stored");
    const entry = JSON.parse(text).instances.dev;
    assertEquals([entry.url, entry.user, entry.role], [s.url, "alice", "user"]);
    assert(entry.access_token && entry.refresh_token, "the token pair is kept");
    // A regular user's session through the stored login: own rows, role limits.
    const sql = "INSERT INTO n.notes VALUES (1, 'mine'); SELECT v FROM n.notes;";
    const mine = await kalamdb(["sql", "-c", sql, "--instance", "dev", "--format", "csv"], home);
    assertEquals(mine.code, 0, mine.stderr);
    assertEquals(mine.stdout, "v\nmine\n");
    const denied = await kalamdb(
      ["sql", "-c", "CREATE NAMESPACE nope;", "--instance", "dev"],
      home,
    );
    assertEquals(denied.code, 1);
    assertMatch(denied.stderr, /^ERROR PERMISSION_DENIED: /m);
    const rootView = await s.root("SELECT COUNT(*) AS n FROM n.notes");
    assertEquals(rootView.body.results[0].rows, [["0"]], "root sees only root's partition");
    // The same with --user and KALAMDB_PASSWORD; a wrong password is UNAUTHORIZED.
    const env = await kalamdb(
      ["sql", "-c", "SELECT v FROM n.notes;", "--url", s.url, "--user", "alice", "--format", "csv"],
      home,
      { KALAMDB_PASSWORD: "alice-secret-pw" },
    );
    assertEquals(env.stdout, "v\nmine\n", env.stderr);
    const wrong = await kalamdb(
      ["sql", "-c", "SELECT 1;", "--url", s.url, "--user", "alice", "--password", "nope"],
      home,
    );
    assertEquals(wrong.code, 1);
    assertMatch(wrong.stderr, /^ERROR UNAUTHORIZED: /m);
    const out = await kalamdb(["logout", "--instance", "dev"], home);
    assertEquals(out.code, 0);
    assertEquals(JSON.parse(await Deno.readTextFile(path)).instances, {});
    const gone = await kalamdb(["sql", "-c", "SELECT 1;", "--instance", "dev"], home);
    assertEquals(gone.code, 2);
    assertStringIncludes(gone.stderr, 'no login stored for instance "dev"');
  });
});

Deno.test("cli remote: an expiring stored token is renewed with the refresh token and saved", async () => {
  await withTempDir(async (home) => {
    const s = await startServer({ KALAMDB_ACCESS_TOKEN_TTL: "1" });
    try {
      const login = await kalamdb(["login", "--url", s.url], home);
      assertEquals(login.code, 0, login.stderr);
      const path = `${home}/.kalamdb/credentials.json`;
      const before = JSON.parse(await Deno.readTextFile(path)).instances.local;
      // Once the 1-second token has expired, the next run refreshes it (and saves it back).
      await until(() => Date.now() > Date.parse(before.expires_at), "token expired", 10_000, 50);
      const r = await kalamdb(
        ["sql", "-c", "SELECT 1 AS x;", "--url", s.url, "--format", "csv"],
        home,
      );
      assertEquals(r.stdout, "x\n1\n", r.stderr);
      const after = JSON.parse(await Deno.readTextFile(path)).instances.local;
      // (Within one second the new token can equal the old: the save time tells.)
      assert(after.saved_at !== before.saved_at, "renewed and saved back");
      assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    } finally {
      await s.stop();
    }
  });
});

Deno.test("cli remote: without --url a server that answers the default URL is used, else embedded", async () => {
  await withServerAndHome(async (s, home) => {
    // KALAMDB_URL stands in for http://127.0.0.1:2900 (which another process may own).
    const remote = await kalamdb(["sql", "-c", "SELECT 1 AS x;", "--format", "csv"], home, {
      KALAMDB_URL: s.url,
      KALAMDB_DATA_DIR: `${home}/unused`,
    });
    assertEquals(remote.stdout, "x\n1\n", remote.stderr);
    assert(!(await exists(`${home}/unused`)), "the data directory was not opened");
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closed = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    listener.close();
    const embedded = await kalamdb(["sql", "-c", "SELECT 1 AS x;", "--format", "csv"], home, {
      KALAMDB_URL: closed,
      KALAMDB_DATA_DIR: `${home}/data`,
    });
    assertEquals(embedded.stdout, "x\n1\n", embedded.stderr);
    assert(await exists(`${home}/data`), "nobody answered: embedded on the data directory");
    // An explicit --data is embedded even when a server answers.
    const explicit = await kalamdb(
      ["sql", "-c", "CREATE NAMESPACE only_here;", "--data", `${home}/d2`],
      home,
      { KALAMDB_URL: s.url },
    );
    assertEquals(explicit.code, 0, explicit.stderr);
    const onServer = await s.root("SELECT name FROM system.namespaces WHERE name = 'only_here'");
    assertEquals(onServer.body.results[0].rows, []);
  });
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("cli remote: --continue-on-error stops where embedded stops, numbering alike", async () => {
  await withServerAndHome(async (s, home) => {
    const batches = [
      "SELECT * FROM a.b;\nSELECT * FRM x;\nSELECT 5 AS five;", // a syntax error ends the batch
      "SELECT 1 AS a;\nSELECT 1 AS b UNION SELECT 2;\nSELECT 3 AS c;\nSELECT 4 AS d;",
      "SELECT * FROM a.b; SELECT * FROM c.d;\n-- note\nSELECT 2 AS two; SELECT * FROM e.f",
    ];
    for (const [k, sql] of batches.entries()) {
      const args = ["sql", "-c", sql, "--continue-on-error"];
      const remote = await kalamdb([...args, "--url", s.url], home);
      const embedded = await kalamdb([...args, "--data", `${home}/c${k}`], home);
      assertEquals(normal(remote), normal(embedded), sql);
    }
  });
});
