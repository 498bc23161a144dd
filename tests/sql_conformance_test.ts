// The SQL conformance suite: every tests/sql/cases/*.sql file run three ways (one Deno.test per
// file and mode, see tests/sql/_runner.ts for the case format) — all buffered; setup data all
// flushed to Parquet; mixed (a flush after every other setup statement, so later updates and
// deletes hit flushed rows) — with identical expectations; plus the few properties of a batch
// result that a case file cannot express (positions, asUser, params, splitting).

import { runCases } from "./sql/_runner.ts";
import type { Database } from "../storage/mod.ts";
import { parseCaseFile, statementComplete } from "./sql/_cases.ts";
import {
  assert,
  assertEquals,
  assertStringIncludes,
  displayRows,
  exec,
  execError,
  withDatabase,
} from "./_util.ts";

/**
 * The S3 mode: a storage on the loopback S3 server (scripts/s3/swift.sh, KALAMDB_TEST_S3_*), every
 * table moved onto it with ALTER TABLE … SET STORAGE (a move job), then flushed there.
 */
const S3 = {
  endpoint: Deno.env.get("KALAMDB_TEST_S3_ENDPOINT"),
  bucket: Deno.env.get("KALAMDB_TEST_S3_BUCKET"),
  region: Deno.env.get("KALAMDB_TEST_S3_REGION") ?? "us-east-1",
  key: Deno.env.get("KALAMDB_TEST_S3_ACCESS_KEY"),
  secret: Deno.env.get("KALAMDB_TEST_S3_SECRET_KEY"),
};

async function moveAllToS3(db: Database): Promise<void> {
  // Literal template segments are plain words (letters, digits, _), so no "-" from the UUID.
  const prefix = `conformance_${crypto.randomUUID().replaceAll("-", "")}`;
  const credentials = JSON.stringify({ access_key_id: S3.key, secret_access_key: S3.secret });
  const created = await db.execute(`CREATE STORAGE s3test TYPE s3 BUCKET '${S3.bucket}'
    ENDPOINT '${S3.endpoint}' REGION '${S3.region}' CREDENTIALS '${credentials}'
    SHARED_TABLES_TEMPLATE '${prefix}/{namespace}/{table}'
    USER_TABLES_TEMPLATE '${prefix}/{namespace}/{table}/{user_id}'`);
  if (created.error) throw created.error;
  await db.hooks.flushAll(); // some data flushed on local first, so the move has files to carry
  for (const t of db.hooks.tables()) {
    if (t.tableType === "STREAM") continue;
    const r = await db.execute(`ALTER TABLE ${t.namespace}.${t.name} SET STORAGE s3test`);
    if (r.error) throw r.error;
  }
  await db.hooks.idle();
  for (const t of db.hooks.tables()) {
    if (t.tableType !== "STREAM" && t.storageId !== "s3test") {
      throw new Error(`${t.namespace}.${t.name} was not moved: ${t.storageId}`);
    }
  }
}

/** Deletes what a case file left in the bucket. */
async function emptyS3(db: Database): Promise<void> {
  const storage = db.hooks.storage("s3test");
  if (!storage) return;
  const prefix = storage.config.SHARED_TABLES_TEMPLATE.split("/")[0];
  const store = db.hooks.objectStore("s3test");
  for (const key of await store.list(`${prefix}/`)) await store.delete(key);
}

await runCases("buffered");
await runCases("flushed", { afterSetup: (db) => db.hooks.flushAll() });
await runCases("s3", {
  afterSetup: moveAllToS3,
  cleanup: emptyS3,
  ignoreReason: S3.endpoint && S3.bucket ? undefined : "KALAMDB_TEST_S3_* not set " +
    "(start a loopback S3 server with scripts/s3/swift.sh start <dir>; .ci/run does)",
});
await runCases("mixed", {
  afterSetupStep: (db, i) => i % 2 === 1 ? db.hooks.flushAll() : Promise.resolve(),
});

const SETUP = `
CREATE NAMESPACE app;
CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT NOT NULL);
`;

Deno.test("case parser: statements, expectations, users and setup", () => {
  const file = parseCaseFile(
    "x.sql",
    `-- setup
CREATE NAMESPACE app; -- trailing comment
-- end setup
-- as: alice
SELECT 'a;b' AS s,
  1 AS n;
-- expect:
-- s | n
-- a;b | 1

INSERT INTO app.t VALUES (1);
-- error: UNIQUE_VIOLATION | ALREADY_EXISTS
`,
  );
  assertEquals(file.steps.length, 3);
  assertEquals(file.steps[0].setup, true);
  assertEquals(file.steps[0].user, "root");
  assertEquals(file.steps[1].user, "alice");
  assertEquals(file.steps[1].line, 5);
  assertEquals(file.steps[1].expects, [
    { kind: "rows", header: ["s", "n"], rows: [["a;b", "1"]], ordered: true, withinMs: undefined },
  ]);
  assertEquals(file.steps[2].expects, [
    { kind: "error", codes: ["UNIQUE_VIOLATION", "ALREADY_EXISTS"], orOk: false },
  ]);
  assert(statementComplete("SELECT 'it''s;' ;"));
  assert(!statementComplete("SELECT ';"));
  assert(!statementComplete("SELECT 1 -- ;"));
  assert(!statementComplete("SELECT 1 /* ; */"));
});

Deno.test("batch: one result per statement, 1-based index, tookMs > 0, message", async () => {
  await withDatabase(async (db) => {
    const res = await exec(
      db,
      SETUP + "INSERT INTO app.notes (id, body) VALUES (1, 'a'), (2, 'b');\n",
    );
    assertEquals(res.results.length, 4);
    res.results.forEach((r, i) => {
      assertEquals(r.statement, i + 1);
      assert(r.tookMs > 0, `statement ${i + 1} tookMs must be > 0, got ${r.tookMs}`);
    });
    assertEquals(res.results[3].rowCount, 2);
    assert(res.results[3].message, "an INSERT without RETURNING carries a message");
    assert(res.tookMs > 0, "batch tookMs must be > 0");
    assertEquals(res.asUser, "root");
  });
});

Deno.test("batch: ';' inside strings and comments does not split", async () => {
  await withDatabase(async (db) => {
    await exec(db, SETUP);
    const res = await exec(
      db,
      `INSERT INTO app.notes (id, body) VALUES (1, 'semi;colon'); /* ; not here; */
       -- nor here;
       SELECT body FROM app.notes WHERE id = 1;`,
    );
    assertEquals(res.results.length, 2);
    assertEquals(displayRows(res.results[1]), [["semi;colon"]]);
  });
});

Deno.test("batch: the first error stops it and carries statement, line and column", async () => {
  await withDatabase(async (db) => {
    await exec(db, SETUP);
    const res = await db.execute(
      "INSERT INTO app.notes (id, body) VALUES (1, 'a');\nSELECT * FROM app.nope;\nINSERT INTO app.notes (id, body) VALUES (2, 'b');",
    );
    assert(res.error, "expected an error");
    assertEquals(res.error.code, "TABLE_NOT_FOUND");
    assertEquals(res.error.statement, 2);
    assertEquals(res.error.line, 2);
    assert((res.error.column ?? 0) >= 1, `column must be set, got ${res.error.column}`);
    assertEquals(res.results.length, 1, "results of the statements before the error");
    const after = await exec(db, "SELECT id FROM app.notes;");
    assertEquals(
      displayRows(after.results[0]),
      [["1"]],
      "the statement after the error did not run",
    );
  });
});

Deno.test("batch: a syntax error reports its line and column", async () => {
  await withDatabase(async (db) => {
    const res = await db.execute("SELECT 1 AS a;\nSELECT id FROM FROM app.t;");
    assert(res.error, "expected an error");
    assertEquals(res.error.code, "INVALID_SQL");
    assertEquals(res.error.line, 2);
    assertEquals(res.error.column, 16);
  });
});

Deno.test("batch: continueOnError runs the statements after a failure", async () => {
  await withDatabase(async (db) => {
    await exec(db, SETUP);
    const res = await db.execute(
      "INSERT INTO app.notes (id, body) VALUES (1, 'a');\nSELECT * FROM app.nope;\nINSERT INTO app.notes (id, body) VALUES (2, 'b');",
      { continueOnError: true },
    );
    assert(res.error, "the first error is still reported");
    assertEquals(res.error.code, "TABLE_NOT_FOUND");
    const after = await exec(db, "SELECT id FROM app.notes;");
    assertEquals(displayRows(after.results[0]), [["1"], ["2"]]);
  });
});

Deno.test("batch: empty SQL and comment-only SQL are EMPTY_SQL", async () => {
  await withDatabase(async (db) => {
    await execError(db, "", "EMPTY_SQL");
    await execError(db, "  -- only a comment\n/* and a block */ ", "EMPTY_SQL");
  });
});

Deno.test("params: $1, $2 bind values (bigint beyond 2^53 exact)", async () => {
  await withDatabase(async (db) => {
    await exec(db, SETUP + "CREATE SHARED TABLE app.big (id BIGINT PRIMARY KEY, label TEXT);");
    await exec(db, "INSERT INTO app.big (id, label) VALUES ($1, $2);", {
      params: [9007199254740993n, "it's"],
    });
    const res = await exec(db, "SELECT id, label FROM app.big WHERE id = $1;", {
      params: [9007199254740993n],
    });
    assertEquals(res.results[0].rows, [[9007199254740993n, "it's"]]);
    await execError(db, "SELECT 1 AS a; SELECT $1 AS b;", "INVALID_PARAMETER", { params: [1] });
  });
});

Deno.test("EXECUTE AS USER: the row lands in alice's partition and asUser says so", async () => {
  await withDatabase(async (db) => {
    await exec(db, SETUP);
    const res = await exec(
      db,
      "EXECUTE AS USER 'alice' (INSERT INTO app.notes (id, body) VALUES (7, 'for alice'));",
    );
    assertEquals(res.asUser, "alice");
    const mine = await exec(db, "SELECT id, body FROM app.notes;");
    assertEquals(displayRows(mine.results[0]), [], "root's own partition stays empty");
    const hers = await exec(db, "SELECT id, body FROM app.notes;", { user: "alice" });
    assertEquals(displayRows(hers.results[0]), [["7", "for alice"]]);
    assertEquals(hers.asUser, "alice");
  });
});

Deno.test("values: result rows use the documented representation per type", async () => {
  await withDatabase(async (db) => {
    await exec(
      db,
      SETUP + `CREATE SHARED TABLE app.v (id INT PRIMARY KEY, big BIGINT, ts TIMESTAMP,
        amount DECIMAL(10,2), d DATE, bin BYTES, j JSON, ok BOOLEAN, x DOUBLE);
      INSERT INTO app.v VALUES (1, 9007199254740993, '2026-11-25T20:15:01.123456789Z', 12.3,
        '2026-02-28', 'hi', '{"a": [1, 2]}', TRUE, 0.5);`,
    );
    const r = (await exec(db, "SELECT id, big, ts, amount, d, bin, j, ok, x FROM app.v;"))
      .results[0];
    assertEquals(r.rows, [[
      1,
      9007199254740993n,
      1795637701123456789n,
      "12.30",
      "2026-02-28",
      new Uint8Array([0x68, 0x69]),
      '{"a":[1,2]}',
      true,
      0.5,
    ]]);
    assertEquals(r.types?.map((t) => t.base), [
      "INT",
      "BIGINT",
      "TIMESTAMP",
      "DECIMAL",
      "DATE",
      "BYTES",
      "JSON",
      "BOOLEAN",
      "DOUBLE",
    ]);
    assertEquals(r.schema?.map((c) => c.type), [
      "INT",
      "BIGINT",
      "TIMESTAMP",
      "DECIMAL(10,2)",
      "DATE",
      "BYTES",
      "JSON",
      "BOOLEAN",
      "DOUBLE",
    ]);
  });
});

Deno.test("system.users never shows a password or its hash", async () => {
  await withDatabase(async (db) => {
    await exec(db, SETUP);
    const r = (await exec(db, "SELECT * FROM system.users;")).results[0];
    const text = JSON.stringify(displayRows(r));
    assertStringIncludes(text, "alice");
    assert(!text.includes("alice-pw"), "the clear password is shown");
    assert(!/scrypt|bcrypt|\$2[aby]\$/i.test(text), `a hash is shown: ${text}`);
    for (const c of r.schema ?? []) assert(!/pass|hash/i.test(c.name), `column ${c.name}`);
  });
});
