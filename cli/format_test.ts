// Unit tests of CLI output: table alignment and fitting, NULL, timestamps, JSON Lines, CSV
// quoting, the Took line and ERROR lines.

import type { StatementResult } from "../storage/mod.ts";
import type { BaseType } from "../sql/mod.ts";
import { DbError } from "../errors.ts";
import {
  csvField,
  formatCsv,
  formatError,
  formatJson,
  formatTable,
  formatTook,
  roundMs,
} from "./format.ts";
import { printBatch } from "./batch.ts";
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
