// Hostile SQL in-process (issue 15 item 3): generated near-valid SQL (tests/fuzz/_sql_gen.ts),
// damaged SQL and random text go through the parser alone and through a whole Database, as root
// and as a `user`. Property: every input ends within a deadline with results or a DbError whose
// code is in the SPEC §4 catalogue and is not INTERNAL_ERROR — never another exception, never a
// hang. The parser is also held to its printer: what it accepts prints to SQL that parses back
// to the same text.

import { parseSql, printStatement } from "../../sql/mod.ts";
import type { Database } from "../../storage/mod.ts";
import { DbError, ERROR_CODES } from "../../errors.ts";
import { AssertionError, withDatabase } from "../_util.ts";
import { fc, params, preview, regressions, Tally, within } from "./_fuzz.ts";
import { FIXTURE, hostileSql } from "./_sql_gen.ts";

/** A statement's own timeout, and the deadline of a whole input (a loaded machine). */
const STATEMENT_TIMEOUT_MS = 5_000;
const INPUT_DEADLINE_MS = 20_000;

/** Fails unless `err` is a DbError with a catalogued code other than INTERNAL_ERROR. */
function assertCoded(err: unknown, input: string): void {
  if (!(err instanceof DbError)) {
    throw new AssertionError(`not a DbError (${String(err)}) for ${preview(input)}`);
  }
  if (!(err.code in ERROR_CODES) || err.code === "INTERNAL_ERROR") {
    throw new AssertionError(`${err.code} (${err.message}) for ${preview(input)}`);
  }
}

/** Runs one input as `user` and checks the property. */
async function runOne(db: Database, sql: string, user: string): Promise<void> {
  const batch = await within(
    db.execute(sql, { user, timeoutMs: STATEMENT_TIMEOUT_MS }),
    INPUT_DEADLINE_MS,
    `${user}: ${preview(sql)}`,
  );
  for (const err of batch.errors ?? []) assertCoded(err, sql);
  if (batch.error) assertCoded(batch.error, sql);
}

/** Puts back what a DROP or ALTER of the input took away (errors such as ALREADY_EXISTS are fine). */
async function restoreFixture(db: Database, sql: string): Promise<void> {
  if (/drop|alter|execute/i.test(sql)) await db.execute(FIXTURE, { continueOnError: true });
}

/** The parser alone: never throws, diagnostics carry positions, printed SQL parses back. */
function checkParse(text: string): void {
  let parsed;
  try {
    parsed = parseSql(text);
  } catch (err) {
    throw new AssertionError(`parseSql threw ${String(err)} for ${preview(text)}`);
  }
  for (const d of parsed.diagnostics) {
    if (!(d.code in ERROR_CODES) || !(d.line >= 1) || !(d.column >= 1)) {
      throw new AssertionError(`diagnostic ${JSON.stringify(d)} for ${preview(text)}`);
    }
  }
  for (const { statement } of parsed.statements) {
    const printed = printStatement(statement);
    const again = parseSql(printed);
    if (again.diagnostics.length || again.statements.length !== 1) {
      throw new AssertionError(
        `printed SQL does not parse back: ${preview(printed)} (${
          again.diagnostics[0]?.message
        }) from ${preview(text)}`,
      );
    }
    const reprinted = printStatement(again.statements[0].statement);
    if (reprinted !== printed) {
      throw new AssertionError(`print is not stable: ${preview(printed)} → ${preview(reprinted)}`);
    }
  }
}

Deno.test("fuzz sql: the parser never throws and its printer round-trips", () => {
  const tally = new Tally("sql-parse");
  for (const r of regressions("sql")) {
    tally.one();
    checkParse(r.text ?? "");
  }
  fc.assert(
    fc.property(hostileSql, (text) => {
      tally.one();
      checkParse(text);
    }),
    params(1500),
  );
  tally.print();
});

Deno.test("fuzz sql: every input ends with results or a coded error, as root and as a user", async () => {
  const tally = new Tally("sql-exec");
  await withDatabase(async (db) => {
    const setup = await db.execute(FIXTURE);
    if (setup.error) throw setup.error;
    for (const r of regressions("sql")) {
      for (const user of ["root", "alice"]) {
        tally.one();
        await runOne(db, r.text ?? "", user);
        await restoreFixture(db, r.text ?? "");
      }
    }
    await fc.assert(
      fc.asyncProperty(hostileSql, fc.constantFrom("root", "alice"), async (sql, user) => {
        tally.one();
        await runOne(db, sql, user);
        await restoreFixture(db, sql);
      }),
      params(400),
    );
    await db.hooks.idle();
  });
  tally.print();
});
