// Parser tests: every statement form parses to the expected tree and survives
// parse → print → parse unchanged.

import { type Expr, MAX_EXPRESSION_DEPTH, type SelectStmt, type Statement } from "./ast.ts";
import { parseBatch, parseExpression, parseSql, printExpr, printStatement } from "./parse/mod.ts";
import { assert, assertDbError, assertEquals, roundTrip, stripSpans } from "./_test_util.ts";

/** Statements that must parse and round-trip. */
const VALID: readonly string[] = [
  // SELECT
  "SELECT 1",
  "SELECT 1 + 1 AS two, 'x' three",
  "SELECT * FROM app.messages",
  "SELECT DISTINCT a, b FROM app.t",
  "SELECT m.*, u.name FROM app.messages m JOIN app.users AS u ON m.user_id = u.id",
  "SELECT * FROM app.a INNER JOIN app.b ON a.id = b.id LEFT OUTER JOIN app.c ON c.x = b.x",
  "SELECT * FROM app.a LEFT JOIN app.b ON a.id = b.id",
  "SELECT * FROM app.a CROSS JOIN app.b",
  "SELECT * FROM app.a, app.b, app.c",
  "SELECT s.n FROM (SELECT COUNT(*) AS n FROM app.t) AS s",
  "SELECT s.n FROM (SELECT 1 AS n) s WHERE s.n > 0",
  "SELECT * FROM system.tables",
  "SELECT a, COUNT(*) FROM app.t WHERE b > 1 GROUP BY a HAVING COUNT(*) > 2",
  "SELECT a FROM app.t ORDER BY a DESC NULLS FIRST, b ASC NULLS LAST, c LIMIT 10 OFFSET 5",
  "SELECT a FROM app.t OFFSET 5 LIMIT 10",
  "SELECT a FROM app.t LIMIT $1 OFFSET $2",
  "SELECT COUNT(DISTINCT user_id), SUM(x), AVG(x), MIN(x), MAX(x) FROM app.t",
  "SELECT name, type, key, user, role, data, level, ttl, storage FROM app.t",
  'SELECT "Mixed Case", "select" FROM app."T" WHERE "a""b" = 1',
  // expressions
  "SELECT a FROM app.t WHERE a = 1 AND b <> 2 OR NOT c != 3",
  "SELECT a FROM app.t WHERE a < 1 AND a <= 2 AND a > 3 AND a >= 4",
  "SELECT a FROM app.t WHERE a IS NULL AND b IS NOT NULL",
  "SELECT a FROM app.t WHERE a IN (1, 2, 3) AND b NOT IN ('x')",
  "SELECT a FROM app.t WHERE a IN (SELECT id FROM app.u) AND b NOT IN (SELECT id FROM app.v)",
  "SELECT a FROM app.t WHERE a BETWEEN 1 AND 10 AND b NOT BETWEEN 2 AND 3",
  "SELECT a FROM app.t WHERE a LIKE 'x%' AND b NOT LIKE '_y' AND c ILIKE 'Z' AND d NOT ILIKE 'q'",
  "SELECT 1 + 2 * 3 - 4 / 5 % 6, 'a' || 'b' || c, -x, +y, - -1",
  "SELECT doc->>'name', doc->'a'->>'b' FROM app.t",
  "SELECT TRUE, FALSE, NULL, 1.5, 0.10, 1e-3, 2.5E+10, .5, 12345678901234567890",
  "SELECT NOW(), CURRENT_TIMESTAMP, CURRENT_USER(), CURRENT_USER, SNOWFLAKE_ID(), UUID_V7()",
  "SELECT CAST(a AS BIGINT), CAST('1.5' AS DECIMAL(10,2)), CAST(b AS VARCHAR(20)), c::TEXT",
  "SELECT CASE WHEN a > 1 THEN 'big' WHEN a > 0 THEN 'small' ELSE 'none' END FROM app.t",
  "SELECT CASE a WHEN 1 THEN 'one' END FROM app.t",
  "SELECT (SELECT MAX(x) FROM app.u) AS m",
  "SELECT a FROM app.t WHERE EXISTS (SELECT 1 FROM app.u) AND NOT EXISTS (SELECT 2)",
  "SELECT LOWER(UPPER(TRIM(s))), LENGTH(s), SUBSTR(s, 1, 2), COALESCE(a, b), NULLIF(a, 1)",
  "SELECT ROUND(ABS(-1.25), 1), CONCAT('a', 'b'), LEFT('abc', 2)",
  "SELECT a FROM app.t WHERE (a = 1 OR b = 2) AND NOT (c = 3)",
  "SELECT -(a + b), NOT NOT TRUE, (1 + 2) * 3",
  "SELECT 'it''s', '', 'semi;colon', '-- not a comment'",
  // DML
  "INSERT INTO app.t (id, name) VALUES (1, 'a'), (2, 'b')",
  "INSERT INTO app.t VALUES (1, 'a') RETURNING *",
  "INSERT INTO app.t (id) VALUES ($1) RETURNING id, name AS n",
  "UPDATE app.t SET name = 'x', n = n + 1 WHERE id = 1 RETURNING *",
  "UPDATE app.t SET done = TRUE",
  "DELETE FROM app.t WHERE id = 1 RETURNING id",
  "DELETE FROM app.t",
  // DDL
  "CREATE NAMESPACE app",
  "CREATE NAMESPACE IF NOT EXISTS app",
  "DROP NAMESPACE app",
  "DROP NAMESPACE IF EXISTS app CASCADE",
  `CREATE USER TABLE IF NOT EXISTS app.messages (
     id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
     conversation_id BIGINT NOT NULL,
     content TEXT NOT NULL,
     note TEXT NULL,
     price DECIMAL(10,2) DEFAULT 0.00,
     code VARCHAR(8),
     created_at TIMESTAMP NOT NULL DEFAULT NOW()
   ) WITH (TYPE = 'USER', STORAGE_ID = 'local', FLUSH_POLICY = 'rows:1000,interval:60')`,
  "CREATE SHARED TABLE app.cfg (k TEXT, v JSON, PRIMARY KEY (k)) WITH (ACCESS_LEVEL = PUBLIC)",
  "CREATE STREAM TABLE app.ev (id BIGSERIAL PRIMARY KEY, body TEXT) WITH (TTL_SECONDS = 30)",
  "CREATE TABLE app.x (id INT AUTO_INCREMENT PRIMARY KEY, f FLOAT, d DOUBLE, b BLOB, u UUID)",
  "CREATE TABLE app.y (id BIGINT PRIMARY KEY, ok BOOLEAN DEFAULT FALSE, dt DATE, s SMALLINT)",
  "CREATE TABLE app.z (id BIGINT PRIMARY KEY) WITH (FLAG = TRUE, N = -1, R = 1.5)",
  "CREATE TABLE app.w (name TEXT PRIMARY KEY, type TEXT, key TEXT, user TEXT, level INT)",
  "DROP TABLE app.t",
  "DROP TABLE IF EXISTS app.t",
  "ALTER TABLE app.t ADD COLUMN c TEXT NOT NULL DEFAULT 'x'",
  "ALTER TABLE app.t ADD IF NOT EXISTS c INTEGER",
  "ALTER TABLE app.t DROP COLUMN c",
  "ALTER TABLE app.t DROP IF EXISTS c",
  "ALTER TABLE app.t RENAME COLUMN a TO b",
  "ALTER TABLE app.t SET TTL 3600",
  "ALTER TABLE app.t SET STORAGE s3_main",
  "ALTER TABLE app.t SET ACCESS_LEVEL public",
  "ALTER TABLE app.t SET ACCESS_LEVEL 'PROTECTED'",
  "ALTER TABLE app.t SET FLUSH_POLICY 'rows:100'",
  "CREATE STORAGE local2 TYPE filesystem PATH '/data/x'",
  "CREATE STORAGE IF NOT EXISTS s3a TYPE s3 BUCKET 'b' ENDPOINT 'http://x' REGION 'eu' " +
  `CREDENTIALS '{"k":"v"}' SHARED_TABLES_TEMPLATE '{namespace}/{table}' ` +
  "USER_TABLES_TEMPLATE '{namespace}/{table}/{user_id}'",
  "ALTER STORAGE s3a SET REGION 'us', BUCKET 'c'",
  "ALTER STORAGE s3a REGION 'us' ENDPOINT 'e'",
  "DROP STORAGE s3a",
  "DROP STORAGE IF EXISTS s3a",
  // users
  "CREATE USER alice WITH PASSWORD 'secret' ROLE user",
  "CREATE USER 'bob@x' WITH PASSWORD 'p' ROLE service EMAIL 'bob@x.io'",
  "CREATE USER IF NOT EXISTS carol WITH PASSWORD 'p' ROLE dba",
  "ALTER USER alice SET PASSWORD 'new'",
  "ALTER USER alice SET ROLE system",
  "ALTER USER alice SET EMAIL 'a@b.c'",
  "DROP USER alice",
  "DROP USER IF EXISTS 'Alice'",
  "EXECUTE AS USER 'alice' (INSERT INTO app.t (id) VALUES (1))",
  "EXECUTE AS USER alice (SELECT * FROM app.t)",
  // SHOW / maintenance / live
  "SHOW NAMESPACES",
  "SHOW TABLES",
  "SHOW TABLES IN app",
  "SHOW STORAGES",
  "SHOW USERS",
  "SHOW LIVE QUERIES",
  "SHOW JOBS",
  "SHOW EXPORTS",
  "SHOW STATS FOR TABLE app.t",
  "DESCRIBE TABLE app.t",
  "DESCRIBE app.t",
  "DESC TABLE app.t",
  "FLUSH TABLE app.t",
  "FLUSH ALL TABLES IN app",
  "STORAGE FLUSH TABLE app.t",
  "STORAGE FLUSH ALL IN app",
  "COMPACT TABLE app.t",
  "KILL JOB 'job-1'",
  "KILL LIVE QUERY 'live-1'",
  "EXPORT USER DATA",
  "SUBSCRIBE TO app.t",
  "SUBSCRIBE TO app.t WHERE a = 1 AND b IN (1, 2) OPTIONS (last_rows = 50, batch_size = 10)",
  "SUBSCRIBE TO app.t OPTIONS (last_rows = 5)",
  // topics
  "CREATE TOPIC app.inbox",
  "CREATE TOPIC IF NOT EXISTS app.inbox PARTITIONS 4 WITH (RETENTION_SECONDS = 60, DEAD_LETTER = 'app.dead')",
  "DROP TOPIC app.inbox",
  "DROP TOPIC IF EXISTS app.inbox",
  "CLEAR TOPIC app.inbox",
  "SHOW TOPICS",
  "SHOW TOPICS IN app",
  "ALTER TOPIC app.inbox ADD SOURCE app.msgs ON INSERT",
  "ALTER TOPIC app.inbox ADD SOURCE app.msgs ON INSERT, UPDATE, DELETE WHERE body <> 'x' WITH (PAYLOAD = 'diff')",
  "ALTER TOPIC app.inbox DROP SOURCE app.msgs",
  "PUBLISH TO app.inbox PAYLOAD '{}'",
  "PUBLISH TO app.inbox KEY 'k' MESSAGE_ID 'm-1' PAYLOAD $1",
  "CONSUME FROM app.inbox GROUP 'agents'",
  "CONSUME FROM app.inbox GROUP agents CONSUMER 'w-1' FROM LATEST LIMIT 10 WAIT 5000",
  "CONSUME FROM app.inbox GROUP 'g' FROM 42",
  "ACK app.inbox GROUP 'agents' OFFSETS (0:1, 3:17)",
  "NACK app.inbox GROUP 'agents' OFFSETS (0:1) DELAY 30",
  "ACK app.inbox GROUP 'agents' CONSUMER 'w-1' OFFSETS (2:3)",
  "NACK app.inbox GROUP 'agents' CONSUMER 'w-1' OFFSETS $1 DELAY 5",
  "EXECUTE AS USER 'alice' (CONSUME FROM app.inbox GROUP 'g' LIMIT 1)",
];

Deno.test("topic statements: names checked, clauses once, offsets as pairs", () => {
  for (
    const [sql, message] of [
      ['CREATE TOPIC app."a/b"', "Invalid topic name"],
      ["CREATE TOPIC inbox", "must be qualified"],
      ["CONSUME FROM app.t GROUP 'g' LIMIT 1 LIMIT 2", "LIMIT given twice"],
      ["ACK app.t GROUP 'g' OFFSETS (1)", "Expected"],
      ["ALTER TOPIC app.t ADD SOURCE app.s ON INSERT, INSERT", "INSERT given twice"],
      ["PUBLISH TO app.t KEY 'a' KEY 'b' PAYLOAD '{}'", "KEY given twice"],
    ]
  ) {
    const { diagnostics } = parseSql(sql);
    assertEquals(diagnostics[0]?.code, "INVALID_SQL", sql);
    assert(diagnostics[0].message.includes(message), `${sql}: ${diagnostics[0].message}`);
  }
});

Deno.test("every valid statement form parses and round-trips", () => {
  for (const sql of VALID) {
    try {
      roundTrip(sql);
    } catch (err) {
      throw new Error(`${sql}\n${(err as Error).message}`);
    }
  }
});

function one(sql: string): Statement {
  return stripSpans(roundTrip(sql));
}

function select(sql: string): SelectStmt {
  const s = one(sql);
  assert(s.kind === "select");
  return s;
}

function expr(text: string): Expr {
  return stripSpans(parseExpression(text));
}

Deno.test("precedence: OR < AND < NOT < comparison < || < + < * < unary < ->>", () => {
  assertEquals(printExpr(expr("a OR b AND NOT c = d")), "a OR (b AND (NOT (c = d)))");
  assertEquals(printExpr(expr("a = b || c + d * -e")), "a = (b || (c + (d * (-e))))");
  assertEquals(printExpr(expr("-j->>'k'")), "-(j ->> 'k')");
  assertEquals(printExpr(expr("a - b - c")), "(a - b) - c");
  assertEquals(printExpr(expr("x BETWEEN 1 + 1 AND 3 AND y")), "(x BETWEEN (1 + 1) AND 3) AND y");
  assertEquals(printExpr(expr("NOT a IS NULL")), "NOT (a IS NULL)");
  assertEquals(printExpr(expr("x::INT + 1")), "CAST(x AS INT) + 1");
});

Deno.test("literals: ints exact, decimals keep text, negatives are unary minus", () => {
  assertEquals(expr("42"), { kind: "literal", value: 42, numeric: "int" });
  assertEquals(expr("9007199254740993"), {
    kind: "literal",
    value: 9007199254740993n,
    numeric: "int",
  });
  assertEquals(expr("0.10"), { kind: "literal", value: 0.1, numeric: "decimal", text: "0.10" });
  assertEquals(expr("-1"), {
    kind: "unary",
    op: "-",
    operand: { kind: "literal", value: 1, numeric: "int" },
  });
  assertEquals(expr("'it''s'"), { kind: "literal", value: "it's" });
  assertEquals(expr("$3"), { kind: "param", index: 3 });
});

Deno.test("identifiers: unquoted lower-cased, quoted keep case", () => {
  const s = select('SELECT Foo, "Bar", T.Baz FROM App.Things AS T');
  assertEquals(s.items.map((i) => i.expr), [
    { kind: "column", name: "foo" },
    { kind: "column", name: "Bar" },
    { kind: "column", table: "t", name: "baz" },
  ]);
  assertEquals(s.from, {
    kind: "table_ref",
    table: { namespace: "app", name: "things" },
    alias: "t",
  });
});

Deno.test("functions: COUNT(*), COUNT(DISTINCT), CURRENT_TIMESTAMP without parens", () => {
  assertEquals(expr("count(*)"), {
    kind: "func",
    name: "COUNT",
    args: [{ kind: "star" }],
    distinct: false,
  });
  assertEquals(expr("COUNT(DISTINCT x)"), {
    kind: "func",
    name: "COUNT",
    args: [{ kind: "column", name: "x" }],
    distinct: true,
  });
  assertEquals(expr("current_timestamp"), {
    kind: "func",
    name: "CURRENT_TIMESTAMP",
    args: [],
    distinct: false,
  });
  assertEquals(expr("CURRENT_USER"), {
    kind: "func",
    name: "CURRENT_USER",
    args: [],
    distinct: false,
  });
});

Deno.test("joins are left-associative; comma is CROSS", () => {
  const s = select("SELECT * FROM app.a, app.b LEFT JOIN app.c ON c.id = b.id");
  assert(s.from?.kind === "join");
  assertEquals(s.from.joinType, "LEFT");
  assert(s.from.left.kind === "join");
  assertEquals(s.from.left.joinType, "CROSS");
});

Deno.test("CREATE TABLE column definitions and options", () => {
  const s = one(
    "CREATE STREAM TABLE app.e (id BIGSERIAL PRIMARY KEY, v VARCHAR(20) NOT NULL, " +
      "d NUMERIC(10, 2) DEFAULT 1.50) WITH (ttl_seconds = 30, access_level = public, x = 'Y')",
  );
  assert(s.kind === "create_table");
  assertEquals(s.typePrefix, "STREAM");
  assertEquals(s.columns.map((c) => [c.name, c.type, c.notNull, c.primaryKey, c.autoIncrement]), [
    ["id", { base: "BIGINT" }, false, true, true],
    ["v", { base: "TEXT", precision: 20 }, true, false, false],
    ["d", { base: "DECIMAL", precision: 10, scale: 2 }, false, false, false],
  ]);
  assertEquals(s.columns[2].default, {
    kind: "literal",
    value: 1.5,
    numeric: "decimal",
    text: "1.50",
  });
  assertEquals(s.options, [
    { key: "TTL_SECONDS", value: 30 },
    { key: "ACCESS_LEVEL", value: "public" },
    { key: "X", value: "Y" },
  ]);
  const t = one("CREATE TABLE app.t (a INT AUTO_INCREMENT, PRIMARY KEY (a))");
  assert(t.kind === "create_table");
  assertEquals(t.typePrefix, undefined);
  assertEquals(t.primaryKey, ["a"]);
  assertEquals(t.columns[0].type, { base: "BIGINT" });
});

Deno.test("storage, user and admin statements carry their fields", () => {
  const cs = one("CREATE STORAGE S3 TYPE S3 BUCKET 'b' region 'r'");
  assertEquals(cs, {
    kind: "create_storage",
    id: "s3",
    ifNotExists: false,
    storageType: "s3",
    settings: [{ key: "BUCKET", value: "b" }, { key: "REGION", value: "r" }],
  });
  assertEquals(one("CREATE USER 'Bob' WITH PASSWORD 'pw' ROLE 'DBA' EMAIL 'b@x'"), {
    kind: "create_user",
    name: "Bob",
    ifNotExists: false,
    password: "pw",
    role: "dba",
    email: "b@x",
  });
  assertEquals(one("ALTER TABLE app.t SET ACCESS_LEVEL public"), {
    kind: "alter_table",
    table: { namespace: "app", name: "t" },
    change: { action: "set_access_level", level: "PUBLIC" },
  });
  assertEquals(one("STORAGE FLUSH ALL IN app"), { kind: "flush", namespace: "app" });
  assertEquals(one("SHOW STATS FOR TABLE app.t"), {
    kind: "show",
    target: { what: "stats", table: { namespace: "app", name: "t" } },
  });
  const ex = one("EXECUTE AS USER 'alice' (DELETE FROM app.t)");
  assert(ex.kind === "execute_as");
  assertEquals([ex.user, ex.statement.kind], ["alice", "delete"]);
});

Deno.test("SUBSCRIBE TO becomes SELECT * FROM … WHERE …", () => {
  const s = one("SUBSCRIBE TO app.t WHERE a > 1 OPTIONS (last_rows = 10)");
  assert(s.kind === "subscribe");
  assertEquals(printStatement(s.query), "SELECT * FROM app.t WHERE a > 1");
  assertEquals(s.options, [{ key: "LAST_ROWS", value: 10 }]);
});

Deno.test("parseExpression parses stored DEFAULT texts", () => {
  for (const text of ["NOW()", "SNOWFLAKE_ID()", "'x'", "0", "-1.5", "CURRENT_USER()"]) {
    assertEquals(
      printExpr(expr(printExpr(parseExpression(text)))),
      printExpr(parseExpression(text)),
    );
  }
});

// ---------------------------------------------------------------- limits

const D = MAX_EXPRESSION_DEPTH;
const nest = (n: number, open: string, inner: string, close: string) =>
  open.repeat(n) + inner + close.repeat(n);
const chain = (n: number, term = "1", op = " + ") => term + `${op}${term}`.repeat(n - 1);

/** Shapes of depth exactly D as a SELECT item (level 1), each `shape(n)` n levels deep. */
const SHAPES: Record<string, (n: number) => string> = {
  parens: (n) => nest(n, "(", "1", ")"),
  chain: (n) => chain(n),
  "OR chain": (n) => chain(n - 1, "a = 1", " OR "),
  unary: (n) => "- ".repeat(n - 1) + "1",
  not: (n) => "NOT ".repeat(n - 1) + "TRUE",
  calls: (n) => nest(n - 1, "ABS(", "x", ")"),
  cast: (n) => "x" + "::INT".repeat(n - 1),
  case: (n) => nest(n - 1, "CASE WHEN a THEN ", "1", " END"),
  "mixed unary and binary": (n) => nest((n - 1) / 3, "-(1 + -(", "1", "))"),
  subqueries: (n) => nest((n - 1) / 2, "(SELECT ", "1", ")"),
};

Deno.test("depth: every shape parses at the limit and round-trips through the printer", () => {
  for (const [name, shape] of Object.entries(SHAPES)) {
    const n = name === "mixed unary and binary"
      ? D - ((D - 1) % 3)
      : name === "subqueries"
      ? D - ((D - 1) % 2)
      : D;
    try {
      roundTrip(`SELECT ${shape(n)} FROM app.t`);
    } catch (err) {
      throw new Error(`${name}: ${(err as Error).message.slice(0, 300)}`);
    }
  }
});

Deno.test("depth: one level past the limit is INVALID_SQL with a position, never a crash", () => {
  for (const [name, shape] of Object.entries(SHAPES)) {
    const n = name === "mixed unary and binary" ? D + 3 : name === "subqueries" ? D + 2 : D + 1;
    const { statements, diagnostics } = parseSql(`SELECT 1; SELECT ${shape(n)}; SELECT 2`);
    assertEquals(statements.length, 2, name);
    assertEquals(diagnostics.map((d) => [d.code, d.message, d.statement]), [
      ["INVALID_SQL", `Expression is nested too deeply (limit ${D})`, 2],
    ], name);
  }
  // Where the limit is hit: the parenthesis one too deep; the deepest node of a long chain.
  assertDbError(() => parseBatch(`SELECT ${nest(D + 1, "(", "1", ")")}`), "INVALID_SQL", {
    line: 1,
    column: 8 + D,
    message: new RegExp(`nested too deeply \\(limit ${D}\\)`),
  });
  assertDbError(() => parseBatch(`SELECT\n  ${chain(5000, "1", "+")}`), "INVALID_SQL", {
    line: 2,
    column: 3,
  });
  // Far past it: input that used to overflow the stack.
  for (const sql of [nest(100_000, "(", "1", ")"), "- ".repeat(100_000) + "1", chain(100_000)]) {
    assertDbError(() => parseBatch(`SELECT ${sql}`), "INVALID_SQL");
    assertDbError(() => parseExpression(sql), "INVALID_SQL");
  }
  assertDbError(
    () => parseBatch(nest(D + 1, "EXECUTE AS USER 'a' (", "SELECT 1", ")")),
    "INVALID_SQL",
  );
  assertDbError(
    () => parseBatch(`SELECT 1 FROM ${nest(D, "(SELECT 1 FROM ", "app.t", ") AS q")}`),
    "INVALID_SQL",
  );
  const joins = Array.from({ length: D + 1 }, (_, i) => ` JOIN app.t AS a${i} ON TRUE`).join("");
  assertDbError(() => parseBatch(`SELECT 1 FROM app.t${joins}`), "INVALID_SQL");
  // A failed nesting leaves nothing behind: the next statement parses at full depth.
  const after = parseSql(`SELECT ${nest(D + 1, "(", "1", ")")}; SELECT ${nest(D, "(", "1", ")")}`);
  assertEquals(after.statements.length, 1);
});

Deno.test("parseExpression (stored DEFAULT texts) has the same limit", () => {
  assertEquals(printExpr(parseExpression(chain(D, "1", "+"))).length > 0, true);
  assertDbError(() => parseExpression(chain(D + 1, "1", "+")), "INVALID_SQL");
});

Deno.test("type modifiers: DECIMAL(p,s) with 1 <= p <= 1000, 0 <= s <= p; VARCHAR(n >= 1)", () => {
  // Each points at the offending number.
  const bad: [string, number][] = [["DECIMAL(1000000000,9)", 26], ["DECIMAL(1001)", 26], [
    "NUMERIC(5,6)",
    28,
  ], ["DECIMAL(0)", 26]];
  for (const [t, column] of bad) {
    assertDbError(() => parseBatch(`SELECT CAST(1 AS ${t})`), "INVALID_SQL", { column });
  }
  assertDbError(
    () => parseBatch("CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(0))"),
    "INVALID_SQL",
  );
  roundTrip("SELECT CAST(1 AS DECIMAL(1000,1000)), CAST(1 AS DECIMAL(1)), CAST(x AS VARCHAR(1))");
});

Deno.test("a DEFAULT cannot use a parameter", () => {
  assertDbError(
    () => parseBatch("CREATE TABLE app.t (id INT PRIMARY KEY, v INT DEFAULT 1 + $2)"),
    "INVALID_SQL",
    { column: 59, message: /parameter \(\$2\)/ },
  );
  assertDbError(() => parseBatch("ALTER TABLE app.t ADD COLUMN v INT DEFAULT $1"), "INVALID_SQL");
});
