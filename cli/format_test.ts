// Unit tests of CLI output: table alignment (by display width) and fitting, NULL, timestamps,
// JSON Lines, CSV quoting, the Took line, ERROR lines and their caret context.

import type { StatementResult } from "../storage/mod.ts";
import type { BaseType } from "../sql/mod.ts";
import { DbError } from "../errors.ts";
import {
  csvField,
  escapeControls,
  formatAnyError,
  formatCsv,
  formatError,
  formatJson,
  formatTable,
  formatTook,
  roundMs,
} from "./format.ts";
import { printBatch } from "./batch.ts";
import { displayWidth } from "./width.ts";
import { assertEquals, assertIncludes } from "./_test_util.ts";

function result(
  cols: [string, BaseType][],
  rows: StatementResult["rows"],
  extra: Partial<StatementResult> = {},
): StatementResult {
  return {
    statement: 1,
    schema: cols.map(([name, type]) => ({ name, type })),
    types: cols.map(([, base]) => ({ base })),
    rows,
    rowCount: rows?.length ?? 0,
    tookMs: 0.412,
    ...extra,
  };
}

const todos = result([["id", "BIGINT"], ["title", "TEXT"], ["done", "BOOLEAN"]], [
  [1n, "Buy milk", false],
  [10n, "Walk", true],
]);

Deno.test("table: numbers right, text left, psql-like rules and footer", () => {
  assertEquals(
    formatTable(todos),
    [
      " id | title    | done",
      "----+----------+-------",
      "  1 | Buy milk | false",
      " 10 | Walk     | true",
      "(2 rows)",
      "Took: 0.412 ms",
    ].join("\n"),
  );
});

Deno.test("table: one row says (1 row); NULL and timestamps rendered with displayValue", () => {
  const r = result([["at", "TIMESTAMP"], ["note", "TEXT"]], [[1_764_101_701_123_456_789n, null]]);
  assertEquals(
    formatTable(r),
    [
      " at                             | note",
      "--------------------------------+------",
      " 2025-11-25T20:15:01.123456789Z | NULL",
      "(1 row)",
      "Took: 0.412 ms",
    ].join("\n"),
  );
});

Deno.test("table: empty result keeps the header", () => {
  assertEquals(
    formatTable(result([["id", "INT"]], [])),
    " id\n----\n(0 rows)\nTook: 0.412 ms",
  );
});

Deno.test("table: fits maxWidth by truncating the widest cells with …", () => {
  const long = "x".repeat(60);
  const r = result([["id", "INT"], ["body", "TEXT"]], [[1, long]]);
  const lines = formatTable(r, { maxWidth: 30 }).split("\n");
  for (const line of lines.slice(0, 3)) assertEquals([...line].length <= 30, true, line);
  assertIncludes(lines[2], "…");
  // Without a width (stdout is not a TTY) nothing is truncated.
  assertIncludes(formatTable(r), long);
});

Deno.test("table: newlines in cells stay on one line", () => {
  const r = result([["t", "TEXT"]], [["a\nb"]]);
  assertIncludes(formatTable(r), " a\\nb");
});

Deno.test("table: CJK and emoji aligned by display width", () => {
  const r = result([["id", "INT"], ["名前", "TEXT"], ["note", "TEXT"]], [
    [1, "中文名字", "ok"],
    [2, "👩‍💻 dev", "한국어"],
    [3, "e\u0301t\u00e9", "🇯🇵"],
  ]);
  assertEquals(
    formatTable(r),
    [
      " id | 名前     | note",
      "----+----------+--------",
      "  1 | 中文名字 | ok",
      "  2 | 👩‍💻 dev   | 한국어",
      "  3 | e\u0301t\u00e9      | 🇯🇵",
      "(3 rows)",
      "Took: 0.412 ms",
    ].join("\n"),
  );
});

Deno.test("table: truncation at a wide character boundary keeps the columns aligned", () => {
  const r = result([["id", "INT"], ["body", "TEXT"], ["n", "INT"]], [
    [1, "日本語のテキストです", 7],
    [2, "ab👍🏽cdefghijk", 8],
  ]);
  // 1 + 2 + 3 + body + 3 + 1 = 18 columns leaves body 7: "日本語" (6) + "…" and "ab👍🏽cd" + "…".
  assertEquals(formatTable(r, { maxWidth: 18 }).split("\n").slice(0, 4), [
    " id | body    | n",
    "----+---------+---",
    "  1 | 日本語… | 7",
    "  2 | ab👍🏽cd… | 8",
  ]);
  // 6 columns: a third wide char would straddle the edge, so the cell is one column short.
  assertEquals(formatTable(r, { maxWidth: 17 }).split("\n")[2], "  1 | 日本…  | 7");
});

Deno.test("non-row statements print the message and Took", () => {
  const r: StatementResult = {
    statement: 2,
    rowCount: 2,
    message: "Inserted 2 row(s)",
    tookMs: 1.23456,
  };
  assertEquals(formatTable(r), "Inserted 2 row(s)\nTook: 1.235 ms");
});

Deno.test("Took is never 0.000", () => {
  assertEquals(formatTook(0), "Took: 0.001 ms");
  assertEquals(formatTook(0.0004), "Took: 0.001 ms");
  assertEquals(formatTook(0.0016), "Took: 0.002 ms");
  assertEquals(formatTook(Number.NaN), "Took: 0.001 ms");
  assertEquals(formatTook(12.3456), "Took: 12.346 ms");
  assertEquals(roundMs(0), 0.001);
});

Deno.test("json: one object per statement, rows as objects, API value encoding", () => {
  const r = result([["id", "BIGINT"], ["at", "TIMESTAMP"], ["id", "INT"]], [[
    258874983317667840n,
    0n,
    null,
  ]]);
  assertEquals(JSON.parse(formatJson(r)), {
    statement: 1,
    schema: [{ name: "id", type: "BIGINT" }, { name: "at", type: "TIMESTAMP" }, {
      name: "id",
      type: "INT",
    }],
    rows: [{ id: "258874983317667840", at: "1970-01-01T00:00:00.000000000Z", id_2: null }],
    row_count: 1,
    took_ms: 0.412,
  });
  const msg = formatJson({ statement: 3, rowCount: 1, message: "Inserted 1 row(s)", tookMs: 0 });
  assertEquals(JSON.parse(msg), {
    statement: 3,
    row_count: 1,
    message: "Inserted 1 row(s)",
    took_ms: 0.001,
  });
  assertEquals(formatJson(todos).includes("\n"), false);
});

Deno.test("csv: header + rows, RFC 4180 quoting, NULL empty vs empty string quoted", () => {
  const r = result([["id", "INT"], ["text", "TEXT"]], [
    [1, 'say "hi", ok'],
    [2, "two\nlines"],
    [3, null],
    [4, ""],
  ]);
  assertEquals(
    formatCsv(r),
    'id,text\n1,"say ""hi"", ok"\n2,"two\nlines"\n3,\n4,""',
  );
  assertEquals(csvField("plain"), "plain");
  assertEquals(csvField("a\rb"), '"a\rb"');
  assertEquals(formatCsv({ statement: 1, rowCount: 0, tookMs: 1, message: "ok" }), undefined);
});

Deno.test("error lines carry code, statement, line and column", () => {
  const err = new DbError("INVALID_SQL", 'Unexpected "SELEC"', {
    statement: 2,
    line: 3,
    column: 1,
  });
  assertEquals(
    formatError(err),
    'ERROR INVALID_SQL: Unexpected "SELEC" (statement 2, line 3, column 1)',
  );
  assertEquals(
    formatError(new DbError("EMPTY_SQL", "No statements")),
    "ERROR EMPTY_SQL: No statements",
  );
});

Deno.test("error with SQL: the line and a caret under the column, psql style", () => {
  const err = new DbError("INVALID_SQL", 'Unexpected "FRM"', { statement: 2, line: 3, column: 10 });
  const sql = "SELECT 1;\n\nSELECT * FRM t;";
  assertEquals(formatError(err, sql).split("\n"), [
    'ERROR INVALID_SQL: Unexpected "FRM" (statement 2, line 3, column 10)',
    "LINE 3: SELECT * FRM t;",
    "                 ^",
  ]);
  // Without the SQL, or without a line, only the first line (what users match on).
  assertEquals(
    formatError(err),
    'ERROR INVALID_SQL: Unexpected "FRM" (statement 2, line 3, column 10)',
  );
  assertEquals(
    formatError(new DbError("EMPTY_SQL", "No statements"), sql),
    "ERROR EMPTY_SQL: No statements",
  );
  // A line but no column: the line without a caret; CRLF line ends are not shown.
  assertEquals(
    formatError(new DbError("TABLE_NOT_FOUND", "nope", { line: 1 }), "SELECT * FROM a.b;\r\n"),
    "ERROR TABLE_NOT_FOUND: nope (line 1)\nLINE 1: SELECT * FROM a.b;",
  );
});

Deno.test("error caret: tabs expanded, wide characters counted 2, end of line", () => {
  const at = (sql: string, line: number, column: number) =>
    formatError(new DbError("INVALID_SQL", "x", { line, column }), sql).split("\n").slice(1);
  // Column 18 (UTF-16 units) is the "t"; the tab expands to 8 spaces, 日本 takes 4 columns.
  assertEquals(at("SELECT 1;\n\tSELECT '日本' FRM t;", 2, 18), [
    "LINE 2:         SELECT '日本' FRM t;",
    "                                  ^",
  ]);
  // A tab in mid-line goes to the next multiple of 8.
  assertEquals(at("ab\tc", 1, 4), ["LINE 1: ab      c", "                ^"]);
  // 👍🏽 is 4 UTF-16 units (the lexer's column counts them) but 2 columns on screen.
  assertEquals(at("SELECT '👍🏽' x", 1, 15), ["LINE 1: SELECT '👍🏽' x", "                    ^"]);
  // Past the end (an error at end of input): the caret right after the last character.
  assertEquals(at("SELECT 1 +", 1, 11), ["LINE 1: SELECT 1 +", "                  ^"]);
});

Deno.test("error caret: long lines windowed around the column with …", () => {
  const sql = "SELECT " + "a, ".repeat(60) + "b FRM t";
  const err = (column: number) => new DbError("INVALID_SQL", "x", { line: 1, column });
  const frm = sql.indexOf("FRM") + 1;
  const [, line, caret] = formatError(err(frm), sql).split("\n");
  assertEquals(
    line,
    "LINE 1: … a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, b FRM t",
  );
  assertEquals(caret.indexOf("^"), line.indexOf("FRM"));
  assertEquals(line.length <= 80, true);
  // Near the start: cut on the right only.
  const [, left, leftCaret] = formatError(err(8), sql).split("\n");
  assertEquals(left.startsWith("LINE 1: SELECT a, a,"), true);
  assertEquals(left.endsWith("…"), true);
  assertEquals(left.length, 80);
  assertEquals(leftCaret, "               ^");
  // In the middle: cut on both sides, 10 columns kept after the caret.
  const [, mid, midCaret] = formatError(err(100), sql).split("\n");
  assertEquals(mid.length, 80);
  assertEquals(mid.startsWith("LINE 1: …") && mid.endsWith("…"), true);
  assertEquals(midCaret.length, 80 - 1 - 10);
  assertEquals(mid[midCaret.length - 1], sql[99]);
  // A narrower terminal windows tighter; wide characters are never split by the window.
  const wide = "SELECT '" + "漢".repeat(50) + "' FRM t;";
  const [, w, wCaret] = formatError(err(wide.indexOf("FRM") + 1), wide, { maxWidth: 40 }).split(
    "\n",
  );
  assertEquals(w, "LINE 1: …漢漢漢漢漢漢漢漢漢漢漢' FRM t;");
  assertEquals(displayWidth(wCaret.slice(0, -1)), displayWidth(w.slice(0, w.indexOf("FRM"))));
});

Deno.test("formatAnyError: DbError with context, anything else as INTERNAL_ERROR", () => {
  const err = new DbError("INVALID_SQL", "bad", { line: 1, column: 3 });
  assertEquals(formatAnyError(err, "ab c"), formatError(err, "ab c"));
  assertEquals(formatAnyError(new Error("disk on fire")), "ERROR INTERNAL_ERROR: disk on fire");
  assertEquals(formatAnyError("nope"), "ERROR INTERNAL_ERROR: nope");
});

Deno.test("printBatch: results before the error, then the error, then the rest", () => {
  const out: string[] = [];
  const err: string[] = [];
  const ok = (statement: number): StatementResult => ({
    statement,
    rowCount: 0,
    message: `ok ${statement}`,
    tookMs: 1,
  });
  const events: string[] = [];
  printBatch(
    {
      results: [ok(1), ok(3)],
      error: new DbError("TABLE_NOT_FOUND", "nope", { statement: 2 }),
      asUser: "root",
      tookMs: 2,
    },
    "table",
    {
      out: (t) => (out.push(t), events.push(`out:${t.split("\n").find((l) => l.trim())}`)),
      err: (t) => (err.push(t), events.push(`err:${t}`)),
    },
  );
  assertEquals(events, [
    "out:ok 1",
    "err:ERROR TABLE_NOT_FOUND: nope (statement 2)",
    "out:ok 3",
  ]);
  assertEquals(out[1].startsWith("\n"), true, "blocks separated by a blank line");
});

Deno.test("format: control characters in values are shown escaped, never sent to the terminal", () => {
  assertEquals(escapeControls("a\nb\tc\x1b[31mred\x07\u009b"), "a\\nb\\tc\\x1b[31mred\\x07\\u009b");
  assertEquals(escapeControls("plain 日本 🎉"), "plain 日本 🎉");
});
