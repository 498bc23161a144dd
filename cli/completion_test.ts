// Unit tests of the shell's input scanner (quotes, comments, statement completeness) and of Tab
// completion over a fixed catalog.

import { assertEquals } from "./_test_util.ts";
import {
  type CatalogSnapshot,
  complete,
  isBlank,
  mentionedTables,
  scanSql,
  stripComments,
  takeComplete,
} from "./completion.ts";

const META = ["\\d", "\\dn", "\\dt", "\\format", "\\help", "\\q", "\\session", "\\subscribe"];
const CATALOG: CatalogSnapshot = {
  namespaces: ["app", "chat"],
  tables: ["app.todos", "app.users", "chat.messages"],
  columns: new Map([
    ["app.todos", [{ name: "id", type: "BIGINT" }, { name: "title", type: "TEXT" }, {
      name: "done",
      type: "BOOLEAN",
    }]],
  ]),
};

const words = (before: string, whole?: string) => complete(before, CATALOG, META, whole)[0];

Deno.test("a statement is complete at a ; outside quotes and comments", () => {
  assertEquals(takeComplete("SELECT 1;"), { ready: "SELECT 1;", rest: "" });
  assertEquals(takeComplete("SELECT 1"), { rest: "SELECT 1" });
  assertEquals(takeComplete("SELECT 'a;b'"), { rest: "SELECT 'a;b'" });
  assertEquals(takeComplete("SELECT 'it''s;'"), { rest: "SELECT 'it''s;'" });
  assertEquals(takeComplete('SELECT "a;b" FROM t'), { rest: 'SELECT "a;b" FROM t' });
  assertEquals(takeComplete("SELECT 1 -- done;"), { rest: "SELECT 1 -- done;" });
  assertEquals(takeComplete("SELECT 1 /* ; */"), { rest: "SELECT 1 /* ; */" });
  assertEquals(takeComplete("SELECT 1 -- x\n;"), { ready: "SELECT 1 -- x\n;", rest: "" });
});

Deno.test("text after the last ; stays for the next statement unless it is blank", () => {
  assertEquals(takeComplete("SELECT 1; SELECT"), { ready: "SELECT 1;", rest: "SELECT" });
  assertEquals(takeComplete("SELECT 1; SELECT 2;"), { ready: "SELECT 1; SELECT 2;", rest: "" });
  assertEquals(takeComplete("SELECT 1;  -- trailing"), { ready: "SELECT 1;", rest: "" });
  assertEquals(takeComplete("SELECT 1; /* open"), { ready: "SELECT 1;", rest: "/* open" });
});

Deno.test("the scanner reports what is open at the end (for the continuation prompt)", () => {
  assertEquals(scanSql("SELECT 'abc").state, "string");
  assertEquals(scanSql('SELECT "ab').state, "ident");
  assertEquals(scanSql("SELECT /* x").state, "block_comment");
  assertEquals(scanSql("SELECT -- x").state, "line_comment");
  assertEquals(scanSql("SELECT -- x\n").state, "code");
  assertEquals(scanSql("SELECT 'a''b'").state, "code");
});

Deno.test("comments are stripped outside quotes only", () => {
  assertEquals(stripComments("SELECT 1 -- c\nFROM t"), "SELECT 1 \nFROM t");
  assertEquals(stripComments("SELECT '--not' /* c */ x"), "SELECT '--not'   x");
  assertEquals(isBlank("  -- only a comment\n /* and */ "), true);
  assertEquals(isBlank("/* open"), false);
});

Deno.test("keywords complete in the case typed", () => {
  assertEquals(words("SEL"), ["SELECT"]);
  assertEquals(words("sel"), ["select"]);
  assertEquals(words("SELECT * FR"), ["FROM"]);
});

Deno.test("after FROM/INTO/UPDATE/TABLE: namespaces (with the dot) and tables", () => {
  assertEquals(words("SELECT * FROM "), [
    "app.",
    "chat.",
    "app.todos",
    "app.users",
    "chat.messages",
  ]);
  assertEquals(words("SELECT * FROM a"), ["app.", "app.todos", "app.users"]);
  assertEquals(words("SELECT * FROM app."), ["app.todos", "app.users"]);
  assertEquals(words("INSERT INTO app.t"), ["app.todos"]);
  assertEquals(words("DESCRIBE TABLE ch"), ["chat.", "chat.messages"]);
  assertEquals(words("SUBSCRIBE TO app.u"), ["app.users"]);
  assertEquals(words("SELECT *\nFROM app.to"), ["app.todos"]);
});

Deno.test("namespaces after IN and NAMESPACE", () => {
  assertEquals(words("SHOW TABLES IN c"), ["chat"]);
  assertEquals(words("DROP NAMESPACE a"), ["app"]);
});

Deno.test("columns of the tables the statement names, also when FROM comes after the cursor", () => {
  assertEquals(words("SELECT * FROM app.todos WHERE ti"), ["title"]);
  assertEquals(words("SELECT ti", "SELECT ti FROM app.todos"), ["title"]);
  assertEquals(words("SELECT app.todos.d"), ["app.todos.done"]);
  // No column fits: keywords.
  assertEquals(words("SELECT * FROM app.todos WHERE id IS NU"), ["NULL", "NULLS"]);
  // Unknown table: keywords only.
  assertEquals(words("SELECT ti FROM app.users WHERE ti"), ["timestamp"]);
});

Deno.test("meta-commands and their arguments", () => {
  assertEquals(words("\\d"), ["\\dn", "\\dt"]);
  assertEquals(words("\\s"), ["\\session", "\\subscribe"]);
  assertEquals(words("\\d app.t"), ["app.todos"]);
  assertEquals(words("\\format c"), ["csv"]);
  assertEquals(words("\\subscribe sel"), ["SELECT"]);
});

Deno.test("nothing is completed inside strings and comments", () => {
  assertEquals(words("SELECT 'FR"), []);
  assertEquals(words("SELECT 1 -- FR"), []);
  assertEquals(words("SELECT /* FR"), []);
});

Deno.test("the tables a statement names are found past comments", () => {
  assertEquals(mentionedTables("SELECT * FROM app.todos JOIN app.users ON true", CATALOG), [
    "app.todos",
    "app.users",
  ]);
  assertEquals(mentionedTables("SELECT 1 -- app.todos", CATALOG), []);
  assertEquals(mentionedTables("SELECT * FROM x.y", CATALOG), []);
});
