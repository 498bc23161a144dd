// Unit tests of the shell's history: what is never written (passwords, credentials, tokens),
// multi-line statements as one entry, and the file (0600 in a 0700 directory, newest first).

import { assert, assertEquals, withTempDir } from "./_test_util.ts";
import { appendHistory, historyEntry, loadHistory, mayPersist } from "./history.ts";

Deno.test("lines with PASSWORD, CREDENTIALS or a token are not persisted", () => {
  assertEquals(mayPersist("SELECT * FROM app.todos;"), true);
  assertEquals(mayPersist("ALTER USER root SET PASSWORD 'x';"), false);
  assertEquals(mayPersist("create user a with password 'p' role user;"), false);
  assertEquals(
    mayPersist("CREATE STORAGE s3 TYPE s3 BUCKET 'b' CREDENTIALS '{\"key\":\"k\"}';"),
    false,
  );
  const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyb290In0.c2lnbmF0dXJl";
  assertEquals(mayPersist(`SELECT '${jwt}';`), false);
  assertEquals(mayPersist("SELECT 'Zx8Kq2LmN4pR7sT1uV3wY5aB6cD9eF0g';"), false);
  // Long names and hex digests are not tokens.
  assertEquals(mayPersist("SELECT a_very_long_column_name_with_number_2 FROM app.t;"), true);
  assertEquals(mayPersist("SELECT 'd41d8cd98f00b204e9800998ecf8427e';"), true);
  assertEquals(mayPersist("   "), false);
});

Deno.test("a multi-line statement is one entry, line comments dropped", () => {
  assertEquals(
    historyEntry(["SELECT *", "  FROM app.t", "  WHERE id = 1;"]),
    "SELECT * FROM app.t WHERE id = 1;",
  );
  assertEquals(historyEntry(["SELECT * -- all", "FROM app.t;"]), "SELECT * FROM app.t;");
  assertEquals(historyEntry(["SELECT '--x'", "FROM app.t;"]), "SELECT '--x' FROM app.t;");
  assertEquals(historyEntry(["SELECT 1", "", "  ;"]), "SELECT 1 ;");
  // A string spanning lines keeps its line break (and so stays out of the file).
  const entry = historyEntry(["INSERT INTO app.t VALUES ('a", "b');"]);
  assertEquals(entry, "INSERT INTO app.t VALUES ('a\nb');");
  assertEquals(mayPersist(entry), false);
});

Deno.test("the history file: created 0600 in a 0700 directory, loaded newest first", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/.kalamdb/history`;
    assertEquals(await loadHistory(file), []);
    for (
      const e of ["SELECT 1;", "SELECT 2;", "SELECT 2;", "ALTER USER u SET PASSWORD 'p';", "\\dt"]
    ) {
      assert(await appendHistory(file, e));
    }
    assertEquals(await loadHistory(file), ["\\dt", "SELECT 2;", "SELECT 1;"]);
    assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(`${dir}/.kalamdb`)).mode! & 0o777, 0o700);
    assert(!(await Deno.readTextFile(file)).includes("PASSWORD"));
  });
});

Deno.test("a history file that cannot be written is reported, not thrown", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/blocker`, "");
    assertEquals(await appendHistory(`${dir}/blocker/history`, "SELECT 1;"), false);
    assertEquals(await appendHistory(undefined, "SELECT 1;"), true);
  });
});
