// Batch-level parser tests: statement splitting, comments everywhere, exact statement text,
// absolute positions, and diagnostics (code, line, column, statement) for malformed input.

import { parseBatch, parseExpression, parseSql } from "./mod.ts";
import { assert, assertDbError, assertEquals, stripSpans } from "../_test_util.ts";
import { tokenize } from "../_lexer.ts";

Deno.test("batches split on ; but not inside strings, quoted names or comments", () => {
  const sql = "SELECT 'a;b' AS \"x;y\" -- c;d\n; /* e;f */ SELECT 2;;  ;\nSELECT 3";
  const stmts = parseBatch(sql);
  assertEquals(stmts.map((s) => s.text), [
    "SELECT 'a;b' AS \"x;y\"",
    "SELECT 2",
    "SELECT 3",
  ]);
  assertEquals(stmts.map((s) => [s.span.line, s.span.column]), [[1, 1], [2, 13], [3, 1]]);
  assertEquals(stmts[1].span.start, sql.indexOf("SELECT 2"));
  assertEquals(sql.slice(stmts[2].span.start, stmts[2].span.end), "SELECT 3");
});

Deno.test("comments in every position are ignored", () => {
  const plain = parseBatch("SELECT a, b FROM app.t WHERE a = 1")[0].statement;
  const variants = [
    "-- leading\nSELECT a, b FROM app.t WHERE a = 1",
    "/* leading */ SELECT a, b FROM app.t WHERE a = 1 -- trailing without newline",
    "SELECT/**/a,/* x */b FROM app/*y*/./*z*/t WHERE a --c\n= 1",
    "SELECT a, b FROM app.t WHERE a = 1 /* multi\nline\n*/",
    "SELECT a, b -- between\nFROM app.t\n-- more\nWHERE a = 1;\n-- after the batch",
    "SELECT a, b FROM app.t WHERE a = 1;/* end */",
    "SELECT a, b FROM app.t WHERE a = 1--",
  ];
  for (const v of variants) {
    const stmts = parseBatch(v);
    assertEquals(stmts.length, 1, v);
    assertEquals(stripSpans(stmts[0].statement), stripSpans(plain), v);
  }
  assertEquals(parseBatch("SELECT 1 -- x\n")[0].text, "SELECT 1");
});

Deno.test("only whitespace or comments is EMPTY_SQL", () => {
  for (const sql of ["", "   \n\t", "-- nothing", "/* nothing */ ;; -- x", ";"]) {
    assertDbError(() => parseBatch(sql), "EMPTY_SQL");
    assertEquals(parseSql(sql), { statements: [], diagnostics: [] });
  }
});

Deno.test("lexer tracks line and column for every token", () => {
  const toks = tokenize("SELECT\n  a ->> 'k',\r\n\t$12 /* c\n */ >= 1.5e3");
  assertEquals(
    toks.map((t) => [t.kind, t.value, t.line, t.column]),
    [
      ["ident", "select", 1, 1],
      ["ident", "a", 2, 3],
      ["op", "->>", 2, 5],
      ["string", "k", 2, 9],
      ["op", ",", 2, 12],
      ["param", "12", 3, 2],
      ["op", ">=", 4, 5],
      ["number", "1.5e3", 4, 8],
      ["eof", "", 4, 13],
    ],
  );
});

/** [sql, code, line, column, statement, message pattern] */
const MALFORMED: readonly [string, string, number, number, number, RegExp][] = [
  ["SELECT 'abc", "INVALID_SQL", 1, 8, 1, /Unterminated string literal/],
  ["SELECT 1;\nSELECT 'x' || 'abc\n;", "INVALID_SQL", 2, 15, 2, /Unterminated string/],
  ['SELECT "abc FROM app.t', "INVALID_SQL", 1, 8, 1, /Unterminated quoted identifier/],
  ["SELECT 1 /* never closed", "INVALID_SQL", 1, 10, 1, /Unterminated block comment/],
  ["SELECT (1 + 2", "INVALID_SQL", 1, 14, 1, /Expected "\)" but found end of input/],
  ["SELECT COUNT(* FROM app.t", "INVALID_SQL", 1, 16, 1, /Expected "\)" but found "FROM"/],
  ["INSERT INTO app.t VALUES (1, 2", "INVALID_SQL", 1, 31, 1, /Expected "\)"/],
  ["FOO BAR", "INVALID_SQL", 1, 1, 1, /Unknown statement 'FOO'/],
  ["SELECT 1;\n  SELEC 2", "INVALID_SQL", 2, 3, 2, /Unknown statement 'SELEC'/],
  ["CREATE NAMESPACE system", "INVALID_SQL", 1, 18, 1, /reserved/],
  ["CREATE NAMESPACE Default", "INVALID_SQL", 1, 18, 1, /reserved/],
  ["CREATE NAMESPACE information_schema", "INVALID_SQL", 1, 18, 1, /reserved/],
  ['CREATE NAMESPACE "bad-name"', "INVALID_SQL", 1, 18, 1, /Invalid namespace name/],
  [
    "SELECT * FROM messages",
    "INVALID_SQL",
    1,
    15,
    1,
    /Table name "messages" must be qualified: write namespace.table, e.g. app.messages/,
  ],
  ["INSERT INTO t VALUES (1)", "INVALID_SQL", 1, 13, 1, /namespace\.table/],
  ["UPDATE t SET a = 1", "INVALID_SQL", 1, 8, 1, /namespace\.table/],
  ["DELETE FROM t", "INVALID_SQL", 1, 13, 1, /namespace\.table/],
  ["CREATE TABLE t (id INT)", "INVALID_SQL", 1, 14, 1, /namespace\.table/],
  ["SELECT * FROM app.a JOIN b ON 1 = 1", "INVALID_SQL", 1, 26, 1, /namespace\.table/],
  ["SELECT 1 2", "INVALID_SQL", 1, 10, 1, /after the end of the statement/],
  ["SELECT * FROM app.t WHERE a = 1 garbage", "INVALID_SQL", 1, 33, 1, /GARBAGE/],
  ["CREATE TABLE app.t (id WIDGET)", "INVALID_SQL", 1, 24, 1, /Unknown type "WIDGET"/],
  ["CREATE TABLE app.t (_id BIGINT)", "INVALID_SQL", 1, 21, 1, /reserved/],
  ["ALTER TABLE app.t ADD COLUMN _x INT", "INVALID_SQL", 1, 30, 1, /starting with _/],
  ["SELECT @", "INVALID_SQL", 1, 8, 1, /Unexpected character '@'/],
  ["SELECT $0", "INVALID_SQL", 1, 8, 1, /Invalid parameter/],
  ["SELECT * FROM app.t WHERE", "INVALID_SQL", 1, 26, 1, /Expected an expression/],
  ["SELECT FROM app.t", "INVALID_SQL", 1, 8, 1, /Expected an expression but found "FROM"/],
  ["CREATE USER bob WITH PASSWORD 'x' ROLE king", "INVALID_SQL", 1, 40, 1, /Unknown role/],
  ["CREATE STORAGE s TYPE ftp PATH '/x'", "INVALID_SQL", 1, 23, 1, /storage type/],
  ["SHOW THINGS", "INVALID_SQL", 1, 6, 1, /Expected NAMESPACES/],
  ["KILL 'x'", "INVALID_SQL", 1, 6, 1, /Expected JOB or LIVE QUERY/],
  ["SELECT (SELECT 1 FROM app.t) AS x FROM (SELECT 1)", "INVALID_SQL", 1, 50, 1, /alias/],
  ["SELECT * FROM app.a RIGHT JOIN app.b ON 1 = 1", "UNSUPPORTED", 1, 21, 1, /RIGHT JOIN/],
  ["EXECUTE AS USER 'a' (SELECT 1", "INVALID_SQL", 1, 30, 1, /Expected "\)"/],
  ["SELECT 1; SELECT 2; DROP", "INVALID_SQL", 1, 25, 3, /Expected NAMESPACE/],
  ["SELECT a FROM app.t ORDER BY a NULLS MIDDLE", "INVALID_SQL", 1, 38, 1, /FIRST or LAST/],
];

Deno.test("malformed input gives the right code, position and statement", () => {
  for (const [sql, code, line, column, statement, message] of MALFORMED) {
    try {
      assertDbError(() => parseBatch(sql), code, { line, column, statement, message });
    } catch (err) {
      throw new Error(`${sql}\n${(err as Error).message}`);
    }
  }
});

Deno.test("after an error the parser recovers at the next ;", () => {
  const sql = "SELECT 1;\nSELECT (;\nSELECT 2;\nFOO;\n  SELECT * FROM t;\nSELECT 3";
  const { statements, diagnostics } = parseSql(sql);
  assertEquals(statements.map((s) => s.text), ["SELECT 1", "SELECT 2", "SELECT 3"]);
  assertEquals(
    diagnostics.map((d) => [d.statement, d.line, d.column, d.code]),
    [[2, 2, 9, "INVALID_SQL"], [4, 4, 1, "INVALID_SQL"], [5, 5, 17, "INVALID_SQL"]],
  );
  assertDbError(() => parseBatch(sql), "INVALID_SQL", { statement: 2, line: 2, column: 9 });
});

Deno.test("keywords used as names where unambiguous", () => {
  const s = parseBatch(
    "CREATE TABLE app.t (name TEXT PRIMARY KEY, type TEXT, key TEXT, user TEXT, role TEXT, " +
      "data TEXT, level INT, ttl INT, storage TEXT, primary INT)",
  )[0].statement;
  assert(s.kind === "create_table");
  assertEquals(s.columns.map((c) => c.name), [
    "name",
    "type",
    "key",
    "user",
    "role",
    "data",
    "level",
    "ttl",
    "storage",
    "primary",
  ]);
  assertDbError(() => parseBatch("SELECT from FROM app.t"), "INVALID_SQL", { column: 8 });
  assertEquals(parseBatch('SELECT "from" FROM app.t').length, 1);
});

Deno.test("parseExpression rejects trailing input and bad syntax with INVALID_SQL", () => {
  assertDbError(() => parseExpression("NOW() x"), "INVALID_SQL", { line: 1, column: 7 });
  assertDbError(() => parseExpression(""), "INVALID_SQL", { message: /end of input/ });
  assertDbError(() => parseExpression("'open"), "INVALID_SQL", { column: 1 });
});
