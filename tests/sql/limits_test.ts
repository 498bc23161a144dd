// Limits that input must not get past, end to end through a Database: expression depth (generated
// SQL too large to read in a case file, run through the same case runner) and JSON parameters
// (timestamps as epoch milliseconds, deep JSON values), which a case file cannot pass.

import { MAX_EXPRESSION_DEPTH as D } from "../../sql/mod.ts";
import { parseCaseFile } from "./_cases.ts";
import { runCaseFile } from "./_runner.ts";
import { assert, assertEquals, displayRows, withDatabase } from "../_util.ts";

const parens = (n: number, inner = "1") => "(".repeat(n) + inner + ")".repeat(n);
/** `n` nested calls of `open … close` around `inner`. */
const nest = (n: number, open: string, inner: string, close: string) =>
  open.repeat(n) + inner + close.repeat(n);
/** A left-deep chain of `n` terms: `1+1+…+1`. */
const chain = (n: number, term = "1", op = "+") => term + `${op}${term}`.repeat(n - 1);

/** Runs a generated case file (buffered mode) and fails with every mismatching statement. */
function runCases(name: string, text: string): Promise<void> {
  return runCaseFile(parseCaseFile(name, text));
}

/** A statement that must succeed with one row, one column `v` = `value`. */
function ok(sql: string, value: string): string {
  return `${sql};\n-- expect:\n-- v\n-- ${value}\n\n`;
}

function bad(sql: string, code = "INVALID_SQL"): string {
  return `${sql};\n-- error: ${code}\n\n`;
}

Deno.test("depth: every kind of nesting is accepted up to the limit and INVALID_SQL beyond", async () => {
  assert(D >= 100, `the limit (${D}) must stay generous`);
  const half = Math.floor((D - 1) / 2); // nested subqueries cost two levels each
  let text = "-- setup\nCREATE NAMESPACE app;\n" +
    "CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v INT);\n" +
    "INSERT INTO app.t (id, v) VALUES (1, 10);\n-- end setup\n\n";
  text += ok(`SELECT ${parens(D)} AS v`, "1");
  text += bad(`SELECT ${parens(D + 1)}`);
  text += bad(`SELECT ${parens(600)}`);
  text += bad(`SELECT ${parens(100_000)}`);
  text += ok(`SELECT ${chain(D)} AS v`, String(D));
  text += bad(`SELECT ${chain(D + 1)}`);
  text += bad(`SELECT ${chain(5000)}`);
  text += bad(`SELECT ${chain(5000, "'x'", "||")}`);
  text += ok(`SELECT ${"- ".repeat(D - 1)}1 AS v`, (D - 1) % 2 ? "-1" : "1");
  text += bad(`SELECT ${"- ".repeat(D)}1`);
  text += bad(`SELECT ${"- ".repeat(100_000)}1`);
  text += ok(`SELECT ${"NOT ".repeat(D - 1)}TRUE AS v`, (D - 1) % 2 ? "false" : "true");
  text += bad(`SELECT ${"NOT ".repeat(D)}TRUE`);
  text += ok(`SELECT ${nest(D - 1, "ABS(", "1", ")")} AS v`, "1");
  text += bad(`SELECT ${nest(D, "ABS(", "1", ")")}`);
  text += bad(`SELECT ${nest(100_000, "ABS(", "1", ")")}`);
  text += ok(`SELECT ${nest(D - 1, "CASE WHEN TRUE THEN ", "1", " END")} AS v`, "1");
  text += bad(`SELECT ${nest(D, "CASE WHEN TRUE THEN ", "1", " END")}`);
  text += ok(`SELECT ${nest(D - 1, "CAST(", "1", " AS INT)")} AS v`, "1");
  text += bad(`SELECT ${nest(D, "CAST(", "1", " AS INT)")}`);
  text += ok(`SELECT 1${"::INT".repeat(D - 1)} AS v`, "1");
  text += bad(`SELECT 1${"::INT".repeat(D)}`);
  text += ok(`SELECT ${nest(half, "(SELECT ", "1", ")")} AS v`, "1");
  text += bad(`SELECT ${nest(half + 1, "(SELECT ", "1", ")")}`);
  text += ok(
    `SELECT x AS v FROM ${nest(half - 1, "(SELECT x FROM ", "(SELECT 1 AS x) AS q", ") AS q")}`,
    "1",
  );
  text += bad(`SELECT x FROM ${nest(half, "(SELECT x FROM ", "(SELECT 1 AS x) AS q", ") AS q")}`);
  text += ok(`SELECT ${nest(half, "TRUE IN (SELECT ", "TRUE", ")")} AS v`, "true");
  text += bad(`SELECT ${nest(half + 1, "TRUE IN (SELECT ", "TRUE", ")")}`);
  text += ok(`SELECT v FROM app.t WHERE ${chain(D - 1, "id = 1", " OR ")}`, "10");
  text += bad(`SELECT v FROM app.t WHERE ${chain(D, "id = 1", " OR ")}`);
  text += bad(`SELECT v FROM app.t WHERE ${chain(5000, "id = 1", " AND ")}`);
  const joins = (n: number) =>
    "app.t AS a0" +
    Array.from({ length: n }, (_, i) => ` JOIN app.t AS a${i + 1} ON TRUE`).join("");
  text += ok(`SELECT a0.v AS v FROM ${joins(D - 2)}`, "10");
  text += bad(`SELECT a0.v FROM ${joins(D)}`);
  text += ok(nest(D - 1, "EXECUTE AS USER 'root' (", "SELECT 1 AS v", ")"), "1");
  text += bad(nest(D, "EXECUTE AS USER 'root' (", "SELECT 1", ")"));
  text += bad(nest(100_000, "EXECUTE AS USER 'root' ", "SELECT 1", ""));
  // Writes: VALUES, SET and WHERE are bounded the same way; nothing is written past the limit.
  text += `INSERT INTO app.t (id, v) VALUES (2, ${chain(D - 1)});\n\n`;
  text += bad(`INSERT INTO app.t (id, v) VALUES (3, ${chain(D + 1)})`);
  text += bad(`INSERT INTO app.t (id, v) VALUES (3, ${parens(100_000)})`);
  text += `UPDATE app.t SET v = ${nest(D - 2, "ABS(", "-1", ")")} WHERE id = 2;\n\n`;
  text += bad(`UPDATE app.t SET v = ${chain(5000)} WHERE id = 2`);
  text += ok(`SELECT COUNT(*) AS v FROM app.t`, "2");
  text += ok(`SELECT v FROM app.t WHERE id = 2`, "1");
  await runCases("depth (generated)", text);
});

Deno.test("depth: a DEFAULT is checked at CREATE / ADD COLUMN exactly as INSERT will read it back", async () => {
  let text = "-- setup\nCREATE NAMESPACE app;\n-- end setup\n\n";
  // Too deep: refused at CREATE, so no table fails every INSERT.
  text += bad(`CREATE SHARED TABLE app.d0 (id INT PRIMARY KEY, v INT DEFAULT ${chain(2000)})`);
  text += bad(`INSERT INTO app.d0 (id) VALUES (1)`, "TABLE_NOT_FOUND");
  // At the limit, in shapes whose stored (printed, fully parenthesised) text nests differently:
  // a chain, a unary chain, NOT, calls and a mix of all of them.
  const mixed = nest(Math.floor((D - 1) / 3), "ABS(-(1 + ", "1", "))");
  text += "CREATE SHARED TABLE app.d1 (id INT PRIMARY KEY,\n" +
    `  a INT DEFAULT ${chain(D)},\n` +
    `  b INT DEFAULT ${"- ".repeat(D - 1)}1,\n` +
    `  c BOOLEAN DEFAULT ${"NOT ".repeat(D - 1)}TRUE,\n` +
    `  e INT DEFAULT ${nest(D - 1, "COALESCE(NULL, ", "1", ")")},\n` +
    `  f INT DEFAULT ${mixed});\n\n`;
  text += "INSERT INTO app.d1 (id) VALUES (1);\n\n";
  text += `SELECT a, b, c, e, f FROM app.d1;\n-- expect:\n-- a | b | c | e | f\n` +
    `-- ${D} | ${(D - 1) % 2 ? -1 : 1} | ${(D - 1) % 2 ? "false" : "true"} | 1 | <re:\\d+>\n\n`;
  text += `ALTER TABLE app.d1 ADD COLUMN g INT DEFAULT ${"- ".repeat(D - 1)}2;\n\n`;
  text += bad(`ALTER TABLE app.d1 ADD COLUMN h INT DEFAULT ${chain(D + 1)}`);
  text += "INSERT INTO app.d1 (id) VALUES (2);\n\n";
  text += `SELECT COUNT(*) AS n, MIN(g) AS g FROM app.d1;\n-- expect:\n-- n | g\n` +
    `-- 2 | ${(D - 1) % 2 ? -2 : 2}\n\n`;
  // A DEFAULT cannot use a parameter: each INSERT would read its own $1.
  text += bad(`CREATE SHARED TABLE app.d2 (id INT PRIMARY KEY, v INT DEFAULT $1)`);
  text += bad(`ALTER TABLE app.d1 ADD COLUMN p INT DEFAULT 1 + $1`);
  await runCases("defaults (generated)", text);
});

Deno.test("JSON parameters: integers for a TIMESTAMP are epoch milliseconds, as SQL literals", async () => {
  await withDatabase(async (db) => {
    const setup = await db.execute(
      "CREATE NAMESPACE app; CREATE SHARED TABLE app.p (id INT PRIMARY KEY, ts TIMESTAMP, j JSON)",
    );
    assertEquals(setup.error, undefined);
    const insert = (params: unknown[]) =>
      db.execute("INSERT INTO app.p (id, ts) VALUES ($1, $2)", { params });
    assertEquals((await insert([1, 1700000000000])).error, undefined);
    assertEquals((await insert([2, 9223372036854])).error, undefined);
    assertEquals((await insert([3, "2023-11-14T22:13:20.5Z"])).error, undefined);
    for (const bad of [9223372036855, -9223372036855, 1.5, "2262-04-11T23:47:16.854775808Z"]) {
      assertEquals((await insert([9, bad])).error?.code, "TYPE_MISMATCH", `param ${bad}`);
    }
    const literal = await db.execute(
      "SELECT id, ts, ts = 1700000000000 AS lit, ts = $1 AS par, CAST($1 AS TIMESTAMP) AS c " +
        "FROM app.p ORDER BY id",
      { params: [1700000000000] },
    );
    assertEquals(literal.error, undefined);
    assertEquals(displayRows(literal.results[0]), [
      ["1", "2023-11-14T22:13:20.000000000Z", "true", "true", "2023-11-14T22:13:20.000000000Z"],
      ["2", "2262-04-11T23:47:16.854000000Z", "false", "false", "2023-11-14T22:13:20.000000000Z"],
      ["3", "2023-11-14T22:13:20.500000000Z", "false", "false", "2023-11-14T22:13:20.000000000Z"],
    ]);
    const keyed = await db.execute("SELECT id FROM app.p WHERE ts = $1", {
      params: [1700000000000],
    });
    assertEquals(displayRows(keyed.results[0]), [["1"]]);
  });
});

Deno.test("JSON parameters: a deeply nested JSON value is stored and read back", async () => {
  await withDatabase(async (db) => {
    await db.execute(
      "CREATE NAMESPACE app; CREATE SHARED TABLE app.j (id INT PRIMARY KEY, j JSON)",
    );
    const depth = 100_000;
    const deep = "[".repeat(depth) + "]".repeat(depth);
    const put = await db.execute("INSERT INTO app.j (id, j) VALUES (1, $1)", { params: [deep] });
    assertEquals(put.error, undefined);
    const got = await db.execute(
      "SELECT LENGTH(CAST(j AS TEXT)) AS n, LENGTH(j->0->0->>0) AS m FROM app.j",
    );
    assertEquals(got.error, undefined);
    assertEquals(displayRows(got.results[0]), [[String(2 * depth), String(2 * (depth - 3))]]);
  });
});
