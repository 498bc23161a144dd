// End-to-end tests of the executable: `deno run -A main.ts …` as a real child process, asserting
// on stdout, stderr and the exit status. The SQL cases need the real Database (storage/).

import {
  assert,
  assertEquals,
  assertIncludes,
  assertMatch,
  runMain,
  withTempDir,
} from "./_test_util.ts";

const SETUP = [
  "CREATE NAMESPACE app;",
  "CREATE TABLE app.todos (id BIGINT PRIMARY KEY, title TEXT NOT NULL);",
  "INSERT INTO app.todos (id, title) VALUES (1, 'Buy milk'), (2, 'Walk the dog');",
].join("\n");

Deno.test("--version prints version, commit and build date", async () => {
  const r = await runMain(["--version"]);
  assertEquals(r.code, 0, r.stderr);
  assertMatch(r.stdout.trimEnd(), /^kalamdb 0\.1\.0 \(commit \S+, built \S+\)$/);
  // Under `deno run` in a git checkout: HEAD's hash and its commit date, never "unknown".
  const git = await new Deno.Command("git", {
    args: ["log", "-1", "--format=%h %ct"],
    cwd: import.meta.dirname,
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => undefined);
  const head = git?.success ? new TextDecoder().decode(git.stdout).trim().split(" ") : undefined;
  if (!head) return console.log("  (not a git checkout: commit and date not compared)");
  const date = new Date(Number(head[1]) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  assertEquals(r.stdout.trimEnd(), `kalamdb 0.1.0 (commit ${head[0]}, built ${date})`);
});

Deno.test("--help lists commands and flags; sql --help lists -c", async () => {
  const top = await runMain(["--help"]);
  assertEquals(top.code, 0);
  for (const word of ["serve", "sql", "shell", "export", "login", "--file", "--data", "--port"]) {
    assertIncludes(top.stdout, word);
  }
  const sql = await runMain(["sql", "--help"]);
  assertIncludes(sql.stdout, "--command");
  assertIncludes(sql.stdout, "--continue-on-error");
});

Deno.test("sql -c runs a batch and prints psql-like tables", async () => {
  await withTempDir(async (dir) => {
    const sql = `${SETUP}\nSELECT id, title FROM app.todos ORDER BY id;`;
    const r = await runMain(["sql", "-c", sql, "--data", dir]);
    assertEquals(r.code, 0, r.stderr);
    assertIncludes(r.stdout, "Inserted 2 row(s)");
    assertMatch(r.stdout, /^ id \| title\s*$/m);
    assertMatch(r.stdout, /^-+\+-+$/m);
    assertIncludes(r.stdout, "  1 | Buy milk\n");
    assertIncludes(r.stdout, "  2 | Walk the dog\n");
    assertIncludes(r.stdout, "(2 rows)\nTook: ");
    assertEquals(r.stdout.split("\n").filter((l) => l.startsWith("Took: ")).length, 4);
    assert(!r.stdout.includes("Took: 0.000 ms"), "Took must never print 0.000");
    assertEquals(r.stderr, "");
  });
});

Deno.test("data persists between runs; --file and --format json", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/todo-app.sql`;
    await Deno.writeTextFile(file, `-- setup; with a comment\n${SETUP}\n`);
    const setup = await runMain(["--file", file, "--data", `${dir}/data`]);
    assertEquals(setup.code, 0, setup.stderr);
    const r = await runMain([
      "sql",
      "-c",
      "SELECT id, title FROM app.todos ORDER BY id;",
      "--data",
      `${dir}/data`,
      "--format",
      "json",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assertEquals(lines.length, 1);
    const obj = JSON.parse(lines[0]);
    assertEquals(obj.rows, [{ id: "1", title: "Buy milk" }, { id: "2", title: "Walk the dog" }]);
    assertEquals(obj.row_count, 2);
    assert(obj.took_ms > 0);
  });
});

Deno.test("--format csv prints only data", async () => {
  await withTempDir(async (dir) => {
    const sql = `${SETUP}\nSELECT id, title FROM app.todos ORDER BY id;`;
    const r = await runMain(["sql", "-c", sql, "--data", dir, "--format", "csv"]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout, "id,title\n1,Buy milk\n2,Walk the dog\n");
  });
});

Deno.test("a failing statement prints ERROR with its position and exits 1", async () => {
  await withTempDir(async (dir) => {
    const r = await runMain([
      "sql",
      "-c",
      "CREATE NAMESPACE app;\nSELEC * FROM app.t;",
      "--data",
      dir,
    ]);
    assertEquals(r.code, 1);
    assertMatch(r.stderr, /^ERROR INVALID_SQL: .+ \(statement 2, line 2, column \d+\)$/m);
    assertIncludes(r.stdout, "Took: ", "the statement before the error is printed");
  });
});

Deno.test("--continue-on-error runs on after a failure, still exits 1", async () => {
  await withTempDir(async (dir) => {
    const sql = "SELECT * FROM app.missing;\nCREATE NAMESPACE app;";
    const stop = await runMain(["sql", "-c", sql, "--data", `${dir}/a`]);
    assertEquals(stop.code, 1);
    assertEquals(stop.stdout, "");
    const on = await runMain(["sql", "-c", sql, "--data", `${dir}/b`, "--continue-on-error"]);
    assertEquals(on.code, 1);
    assertMatch(on.stderr, /^ERROR \w+: .+\(statement 1/m);
    assertIncludes(on.stdout, "Took: ", "statement 2 ran");
  });
});

Deno.test("usage errors exit 2: missing file, bad port, export's bad URL; no server: 1", async () => {
  await withTempDir(async (dir) => {
    const missing = await runMain(["--file", `${dir}/nope.sql`, "--data", dir]);
    assertEquals(missing.code, 2);
    assertIncludes(missing.stderr, "nope.sql");
    const url = await runMain(["sql", "-c", "SELECT 1;", "--url", "http://127.0.0.1:1"]);
    assertEquals(url.code, 1, "nobody listens on port 1: a connection error, not a usage error");
    assertMatch(url.stderr, /^ERROR NETWORK_ERROR: cannot reach http:\/\/127\.0\.0\.1:1/m);
    const bad = await runMain(["sql", "-c", "SELECT 1;", "--url", "ftp://x"]);
    assertEquals(bad.code, 2);
    assertIncludes(bad.stderr, "--url must be an http(s) URL");
    const port = await runMain(["serve", "--data", dir], { KALAMDB_PORT: "http" });
    assertEquals(port.code, 2);
    assertIncludes(port.stderr, "port");
    const node = await runMain(["sql", "-c", "SELECT 1;", "--node-id", "4096", "--data", dir]);
    assertEquals(node.code, 2);
    const exp = await runMain(["export", "--url", "ftp://x", "--user", "alice"]);
    assertEquals(exp.code, 2);
    assertIncludes(exp.stderr, "--url must be an http(s) URL");
  });
});
