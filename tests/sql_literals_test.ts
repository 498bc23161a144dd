// Literal SQL shares a parameterised template (issue 17 item 1, sql/parse/shape.ts). Property:
// every statement answers exactly as without the template — same rows, same column types, same
// error code, message and position — whatever literals a text of the same shape carries. Two
// databases run the same statements in the same order, one with `parameterizeLiterals: false`,
// and every answer is compared; the statement shapes repeat with literals of every kind (small,
// INT-edge, BIGINT-sized and huge integers, decimals, exponents, strings with quotes, line breaks
// and digits, timestamps, NULL, negatives), so both the first text of a shape and later ones
// with other types or other fixed literals are exercised.

import { assert, assertEquals } from "./_util.ts";
import { Database } from "../storage/mod.ts";
import type { BatchResult } from "../storage/mod.ts";
import { rng } from "../scripts/mod.ts";

const SETUP = `CREATE NAMESPACE app;
CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, name TEXT, n INT, d DOUBLE,
  m DECIMAL(12, 2), at TIMESTAMP, ok BOOLEAN)`;

/** Literal pools; `…` holes in the templates below take one at random. */
const INTS = [
  "0",
  "1",
  "7",
  "42",
  "2147483647",
  "2147483648",
  "9007199254740993",
  "99999999999999999999",
];
const NUMBERS = [...INTS, "1.5", "0.10", "1e3", "2.5e-3", "12345678901.25"];
const STRINGS = [
  "'x'",
  "''",
  "'it''s'",
  "'line\nbreak'",
  "'42'",
  "'1.5'",
  "'2026-12-04T10:00:00Z'",
  "'2026-12-04'",
  "'true'",
  "'héllo'",
];
const ANY = [...NUMBERS, ...STRINGS, "NULL", "-3", "TRUE"];

const TEMPLATES: readonly string[] = [
  "INSERT INTO app.t (id, name, n, d, m, at, ok) VALUES (#, $, #, #, #, $, ?)",
  "INSERT INTO app.t (id, n) VALUES (#, ?)",
  "INSERT INTO app.t (id, name) VALUES (#, ?), (#, ?)",
  "SELECT id, name, n FROM app.t WHERE id = #",
  "SELECT * FROM app.t WHERE id = ?",
  "SELECT id FROM app.t WHERE n > # AND name <> $ ORDER BY id",
  "SELECT id FROM app.t WHERE id IN (#, #, ?) ORDER BY id",
  "SELECT id FROM app.t WHERE id BETWEEN # AND # ORDER BY id LIMIT 5",
  "SELECT id FROM app.t WHERE NOT (m >= #) OR at < $ ORDER BY 1",
  "SELECT COUNT(*), SUM(n) FROM app.t WHERE d <= ? OR name = ?",
  "SELECT id, n + # AS x FROM app.t WHERE n = # ORDER BY id LIMIT #",
  "SELECT id FROM app.t WHERE nam = #", // an unknown column after a literal: the position counts
  "SELECT id FROM app.t WHERE name LIKE $ ORDER BY id",
  "UPDATE app.t SET name = $ WHERE id = #",
  "UPDATE app.t SET n = n + 1 WHERE id IN (#, #) AND ok = ?",
  "DELETE FROM app.t WHERE id = # AND n < ?",
  "SELECT id FROM app.t WHERE ok = ? ORDER BY id",
  "SELECT #, $ FROM app.t WHERE id = #",
];

/** A template with its holes filled: # a number, $ a string, ? anything. */
function fill(template: string, rand: () => number): string {
  const pick = (xs: readonly string[]) => xs[Math.floor(rand() * xs.length)];
  return template.replace(/[#$?]/g, (h) => pick(h === "#" ? NUMBERS : h === "$" ? STRINGS : ANY));
}

/** What a batch answers, as comparable JSON (timings left out). */
function answer(b: BatchResult): string {
  return JSON.stringify({
    results: b.results.map((r) => ({ ...r, tookMs: undefined })),
    errors: (b.errors ?? []).map((e) => ({
      code: e.code,
      message: e.message,
      line: e.line,
      column: e.column,
      statement: e.statement,
    })),
  }, (_k, v) => typeof v === "bigint" ? `${v}n` : v);
}

Deno.test("literals: texts of one shape answer exactly as without the shared template", async () => {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const shaped = await Database.open({ dataDir: dirs[0], nodeId: 1 });
  const plain = await Database.open({ dataDir: dirs[1], nodeId: 1, parameterizeLiterals: false });
  try {
    for (const db of [shaped, plain]) assert(!(await db.execute(SETUP)).error);
    const rand = rng(20261204);
    let compared = 0, failed = 0, rows = 0;
    for (let round = 0; round < 60; round++) {
      for (const template of TEMPLATES) {
        const sql = fill(template, rand);
        const [a, b] = [await shaped.execute(sql), await plain.execute(sql)];
        assertEquals(answer(a), answer(b), sql);
        compared++;
        if (a.error) failed++;
        rows += a.results[0]?.rows?.length ?? 0;
      }
    }
    // The comparison saw both outcomes in numbers (a run of only errors would prove little).
    assert(failed > 100 && compared - failed > 300 && rows > 100, `${failed}/${compared}, ${rows}`);
    // The same again, as one batch of several statements.
    const batch = TEMPLATES.slice(3, 8).map((t) => fill(t, rand)).join(";\n");
    assertEquals(answer(await shaped.execute(batch)), answer(await plain.execute(batch)), batch);
  } finally {
    await shaped.close();
    await plain.close();
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("literals: a shaped text's own parameters are never mixed with its literals", async () => {
  const dir = await Deno.makeTempDir();
  const db = await Database.open({ dataDir: dir, nodeId: 1 });
  try {
    await db.execute(SETUP);
    await db.execute("INSERT INTO app.t (id, name, n) VALUES (1, 'a', 10), (2, 'b', 20)");
    // $1 with a literal beside it: the caller's parameter stays $1.
    const r = await db.execute("SELECT id FROM app.t WHERE n = $1 AND id = 2", { params: [20] });
    assertEquals(r.results[0].rows, [[2n]]);
    // The same shape as a cached one, with a literal the template keeps fixed (LIMIT).
    const one = await db.execute("SELECT id FROM app.t WHERE n > 0 ORDER BY id LIMIT 1");
    const two = await db.execute("SELECT id FROM app.t WHERE n > 5 ORDER BY id LIMIT 2");
    assertEquals(one.results[0].rows, [[1n]]);
    assertEquals(two.results[0].rows, [[1n], [2n]]);
    // ORDER BY 1 is a position, never a parameter; ORDER BY 2 on a 1-column result is an error.
    const bad = await db.execute("SELECT id FROM app.t WHERE n > 0 ORDER BY 2");
    assertEquals(bad.error?.code, "INVALID_SQL");
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
