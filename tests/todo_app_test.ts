// Runs the example todo-app.sql through the real CLI (`main.ts --file`) as a child process on
// a temp data directory, checks what it prints, then reopens the directory in-process and
// checks the stored rows by value.

import { Database } from "../storage/mod.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
  displayRows,
  exec,
  withTempDir,
} from "./_util.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("todo-app.sql runs through `main.ts --file` and leaves the expected rows", async () => {
  await withTempDir(async (dir) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts", "--file", "todo-app.sql", "--data", dir],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, `exit status\nstdout:\n${stdout}\nstderr:\n${stderr}`);

    // The final SELECT as a psql-like table: a header and one line per todo, ` | ` between cells.
    assertMatch(stdout, /title\s*\|\s*done\s*\|\s*category/);
    assertMatch(stdout, /Buy milk\s*\|\s*true\s*\|\s*Groceries/);
    assertMatch(stdout, /Call mom; ask about Sunday's dinner\s*\|\s*false\s*\|\s*Family/);
    assertMatch(stdout, /Water the plants\s*\|\s*false\s*\|\s*NULL/);
    assertMatch(stdout, /Write the quarterly report\s*\|\s*false\s*\|\s*Work/);
    const order = ["Buy milk", "Call mom", "Water the plants", "Write the quarterly"]
      .map((t) => stdout.indexOf(t));
    assertEquals(order, [...order].sort((a, b) => a - b), "rows printed in ORDER BY t.title");
    assertStringIncludes(stdout, "Took:");

    // Embedded batch mode runs as root: the todos are in root's partition.
    const db = await Database.open({ dataDir: dir, nodeId: 1 });
    try {
      const todos = await exec(
        db,
        "SELECT title, done, category_id, id > 0 AS has_id, created_at IS NOT NULL AS stamped FROM todo_app.todos ORDER BY title;",
      );
      assertEquals(displayRows(todos.results[0]), [
        ["Buy milk", "true", "1", "true", "true"],
        ["Call mom; ask about Sunday's dinner", "false", "2", "true", "true"],
        ["Water the plants", "false", "NULL", "true", "true"],
        ["Write the quarterly report", "false", "3", "true", "true"],
      ]);
      const cats = await exec(db, "SELECT id, name FROM todo_app.categories;");
      assertEquals(displayRows(cats.results[0]), [["1", "Groceries"], ["2", "Family"], [
        "3",
        "Work",
      ]]);
      const types = await exec(
        db,
        "SELECT table_name, table_type FROM system.tables WHERE namespace = 'todo_app' ORDER BY table_name;",
      );
      assertEquals(displayRows(types.results[0]), [["categories", "SHARED"], ["todos", "USER"]]);
      const ids = (todos.results[0].rows ?? []).length;
      assert(ids === 4, `expected 4 todos, got ${ids}`);
    } finally {
      await db.close();
    }
  });
});

Deno.test("a failing statement in --file exits 1 and names its line", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/bad.sql`;
    await Deno.writeTextFile(
      file,
      "CREATE NAMESPACE app;\n-- a comment\nSELECT * FROM app.missing;\nCREATE NAMESPACE never;\n",
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts", "--file", file, "--data", `${dir}/data`],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 1, text);
    assertStringIncludes(text, "ERROR TABLE_NOT_FOUND");
    assertMatch(text, /line:? 3\b|:3:\d/i);
  });
});
