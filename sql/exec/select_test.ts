// SELECT executor tests over the in-memory source: scans and key seeks, soft deletes, projection,
// DISTINCT, grouping, ordering, LIMIT, joins, subqueries and cancellation.

import type { SelectStmt } from "../ast.ts";
import { parseBatch } from "../parse/mod.ts";
import { parseTimestamp } from "../values.ts";
import type { Value } from "../values.ts";
import { executeSelect, planSelect } from "./select.ts";
import { extractKeys, projectReturning } from "./keys.ts";
import { MemoryCatalog } from "./_test_source.ts";
import { assert, assertEquals, assertRejects, makeCtx } from "./_test_util.ts";

const ts = (s: string) => parseTimestamp(s)!;

function setup(): MemoryCatalog {
  const c = new MemoryCatalog();
  c.add("app.users", [
    ["id", "BIGINT", true],
    ["name", "TEXT"],
    ["age", "INT"],
    ["balance", { base: "DECIMAL", precision: 10, scale: 2 }],
    ["created", "TIMESTAMP"],
    ["team", "TEXT"],
  ], [
    [3n, "carol", 25, "100.00", ts("2024-03-01"), "red"],
    [1n, "alice", 30, "10.50", ts("2024-01-01"), "red"],
    [2n, "bob", null, "9.20", ts("2024-02-01"), "blue"],
    [4n, "dave", 41, null, ts("2024-04-01"), null],
    [5n, "erin", 22, "1.00", ts("2024-05-01"), "blue", 99n, true],
  ]);
  c.add("app.orders", [
    ["id", "INT", true],
    ["user_id", "BIGINT"],
    ["amount", "DOUBLE"],
    ["note", "TEXT"],
  ], [
    [10, 1n, 5.5, "a"],
    [11, 1n, 4.5, null],
    [12, 3n, 20, "c"],
    [13, 9n, 1, "orphan"],
  ]);
  c.add("app.empty", [["id", "BIGINT", true], ["v", "INT"]], []);
  return c;
}

function stmt(sql: string): SelectStmt {
  const s = parseBatch(sql)[0].statement;
  assert(s.kind === "select", "not a SELECT");
  return s;
}

async function run(sql: string, params: Value[] = [], catalog = setup()) {
  return await executeSelect(stmt(sql), makeCtx(catalog, { params }));
}

async function rows(sql: string, params: Value[] = [], catalog = setup()): Promise<Value[][]> {
  return (await run(sql, params, catalog)).rows;
}

Deno.test("SELECT * returns all columns in schema order, pk order, deleted rows hidden", async () => {
  const r = await run("SELECT * FROM app.users");
  assertEquals(r.columns.map((c) => c.name), [
    "id",
    "name",
    "age",
    "balance",
    "created",
    "team",
    "_seq",
    "_deleted",
  ]);
  assertEquals(r.columns[3].type, "DECIMAL(10,2)");
  assertEquals(r.rows.map((x) => x[0]), [1n, 2n, 3n, 4n]);
  assertEquals(r.rows[0][7], false);
});

Deno.test("_deleted in WHERE includes deleted rows and lets the predicate decide", async () => {
  const c = setup();
  assertEquals(await rows("SELECT id FROM app.users WHERE _deleted = true", [], c), [[5n]]);
  assertEquals(c.calls.at(-1)!.options.includeDeleted, true);
  assertEquals((await rows("SELECT id FROM app.users WHERE _deleted OR id = 1", [], c)).length, 2);
  await rows("SELECT id FROM app.users WHERE id > 0", [], c);
  assertEquals(c.calls.at(-1)!.options.includeDeleted, false);
});

Deno.test("primary-key equality and IN become key seeks", async () => {
  const c = setup();
  assertEquals(await rows("SELECT name FROM app.users WHERE id = 2", [], c), [["bob"]]);
  assertEquals(c.calls.at(-1)!.options.keys, [2n]);
  assertEquals(await rows("SELECT name FROM app.users WHERE id IN (3, 1, 3)", [], c), [
    ["alice"],
    ["carol"],
  ]);
  assertEquals(c.calls.at(-1)!.options.keys, [3n, 1n]);
  assertEquals(await rows("SELECT name FROM app.users u WHERE u.id = $1", ["4"], c), [["dave"]]);
  assertEquals(c.calls.at(-1)!.options.keys, [4n]);
  await rows("SELECT name FROM app.users WHERE age > 20 AND (id = 1 OR id = 2)", [], c);
  assertEquals(c.calls.at(-1)!.options.keys, [1n, 2n]);
  assertEquals(await rows("SELECT name FROM app.users WHERE id = 1 AND age > 40", [], c), []);
  await rows("SELECT name FROM app.users WHERE id > 2", [], c);
  assertEquals(c.calls.at(-1)!.options.keys, undefined);
  await rows("SELECT name FROM app.users WHERE id = 1 OR age = 41", [], c);
  assertEquals(c.calls.at(-1)!.options.keys, undefined);
  assertEquals(await rows("SELECT name FROM app.users WHERE id = 1.5", [], c), []);
  const plan = planSelect(stmt("SELECT name FROM app.users WHERE id = $1"), makeCtx(c));
  assert(plan.explain().includes("KeyLookup app.users"), plan.explain());
});

Deno.test("extractKeys and projectReturning for DML", async () => {
  const c = setup();
  const schema = c.tables.get("app.users")!.schema;
  const where = stmt("SELECT 1 FROM app.users WHERE id IN ($1, 7) AND name = 'x'").where;
  assertEquals(extractKeys(where, schema, "users", makeCtx(c, { params: [5] })), [5n, 7n]);
  assertEquals(
    extractKeys(
      stmt("SELECT 1 FROM app.users WHERE name = 'x'").where,
      schema,
      "users",
      makeCtx(c),
    ),
    undefined,
  );
  const ret = projectReturning(
    stmt("SELECT id, UPPER(name) AS n, * FROM app.users").items,
    schema,
    makeCtx(c),
  );
  assertEquals(ret.columns.slice(0, 3), [
    { name: "id", type: "BIGINT" },
    { name: "n", type: "TEXT" },
    { name: "id", type: "BIGINT" },
  ]);
  assertEquals(ret.project([1n, "ann", 3, null, 0n, null, 1n, false]).slice(0, 2), [1n, "ANN"]);
  await assertRejects(
    () => projectReturning(stmt("SELECT nope FROM app.users").items, schema, makeCtx(c)),
    "COLUMN_NOT_FOUND",
  );
});

Deno.test("expressions, aliases and result column names and types", async () => {
  const r = await run(
    "SELECT id * 2 AS twice, name, UPPER(name), COALESCE(age, 0) + 1, created FROM app.users WHERE id = 1",
  );
  assertEquals(r.columns, [
    { name: "twice", type: "BIGINT" },
    { name: "name", type: "TEXT" },
    { name: "upper", type: "TEXT" },
    { name: "?column?", type: "INT" },
    { name: "created", type: "TIMESTAMP" },
  ]);
  assertEquals(r.rows, [[2n, "alice", "ALICE", 31, ts("2024-01-01")]]);
  const n = await run("SELECT 1 + 1 AS two, 'x' || 'y', NOW() AS t, $1 AS p", [null]);
  assertEquals(n.rows, [[2, "xy", 1_700_000_000_123_456_789n, null]]);
  assertEquals(n.types.map((t) => t.base), ["INT", "TEXT", "TIMESTAMP", "TEXT"]);
});

Deno.test("WHERE with timestamps, decimals, LIKE and NULLs", async () => {
  assertEquals(await rows("SELECT id FROM app.users WHERE created >= '2024-02-15'"), [[3n], [4n]]);
  assertEquals(await rows("SELECT id FROM app.users WHERE balance > 9.5"), [[1n], [3n]]);
  assertEquals(await rows("SELECT id FROM app.users WHERE name LIKE '%a%' AND team IS NOT NULL"), [
    [1n],
    [3n],
  ]);
  assertEquals(await rows("SELECT id FROM app.users WHERE age <> 30"), [[3n], [4n]]);
  assertEquals(await rows("SELECT id FROM app.users WHERE NOT (age < 30)"), [[1n], [4n]]);
  assertEquals(await rows("SELECT id FROM app.users WHERE team NOT IN ('red', NULL)"), []);
});

Deno.test("DISTINCT", async () => {
  assertEquals(await rows("SELECT DISTINCT team FROM app.users"), [["red"], ["blue"], [null]]);
  assertEquals(
    await rows("SELECT DISTINCT team FROM app.users ORDER BY team NULLS FIRST"),
    [[null], ["blue"], ["red"]],
  );
  await assertRejects(
    () => rows("SELECT DISTINCT team FROM app.users ORDER BY age"),
    "INVALID_SQL",
  );
});

Deno.test("GROUP BY with aggregates and HAVING", async () => {
  const r = await run(
    "SELECT team, COUNT(*) AS n, COUNT(age), SUM(age), AVG(age), MIN(balance), MAX(balance) " +
      "FROM app.users GROUP BY team ORDER BY team",
  );
  assertEquals(r.columns.map((c) => c.type), [
    "TEXT",
    "BIGINT",
    "BIGINT",
    "BIGINT",
    "DOUBLE",
    "DECIMAL(10,2)",
    "DECIMAL(10,2)",
  ]);
  assertEquals(r.rows, [
    ["blue", 1n, 0n, null, null, "9.20", "9.20"],
    ["red", 2n, 2n, 55n, 27.5, "10.50", "100.00"],
    [null, 1n, 1n, 41n, 41, null, null],
  ]);
  assertEquals(
    await rows("SELECT team, COUNT(*) FROM app.users GROUP BY team HAVING COUNT(*) > 1"),
    [["red", 2n]],
  );
  assertEquals(await rows("SELECT COUNT(DISTINCT team), SUM(balance) FROM app.users"), [[
    2n,
    "119.70",
  ]]);
  assertEquals(
    await rows("SELECT UPPER(team) AS t, COUNT(*) FROM app.users GROUP BY 1 ORDER BY 2, t"),
    [
      ["BLUE", 1n],
      [null, 1n],
      ["RED", 2n],
    ],
  );
  assertEquals(await rows("SELECT team AS t FROM app.users GROUP BY t ORDER BY t DESC"), [
    [null],
    ["red"],
    ["blue"],
  ]);
  assertEquals(
    await rows(
      "SELECT age % 2 AS odd, COUNT(*) FROM app.users WHERE age IS NOT NULL GROUP BY age % 2 ORDER BY odd",
    ),
    [
      [0, 1n],
      [1, 2n],
    ],
  );
  assertEquals(await rows("SELECT MAX(created) FROM app.users"), [[ts("2024-04-01")]]);
});

Deno.test("aggregates over zero rows", async () => {
  assertEquals(
    await rows("SELECT COUNT(*), COUNT(v), SUM(v), AVG(v), MIN(v), MAX(v) FROM app.empty"),
    [
      [0n, 0n, null, null, null, null],
    ],
  );
  assertEquals(await rows("SELECT v, COUNT(*) FROM app.empty GROUP BY v"), []);
  assertEquals(await rows("SELECT COUNT(*) FROM app.users WHERE id > 100"), [[0n]]);
});

Deno.test("grouping errors", async () => {
  await assertRejects(
    () => rows("SELECT name, COUNT(*) FROM app.users GROUP BY team"),
    "INVALID_SQL",
    /GROUP BY/,
  );
  await assertRejects(() => rows("SELECT name FROM app.users WHERE COUNT(*) > 1"), "INVALID_SQL");
  await assertRejects(() => rows("SELECT SUM(COUNT(*)) FROM app.users"), "INVALID_SQL");
  await assertRejects(() => rows("SELECT SUM(name) FROM app.users"), "TYPE_MISMATCH");
});

Deno.test("ORDER BY: expressions, aliases, ordinals, hidden columns, NULL placement", async () => {
  assertEquals(await rows("SELECT id FROM app.users ORDER BY age"), [[3n], [1n], [4n], [2n]]);
  assertEquals(await rows("SELECT id FROM app.users ORDER BY age DESC"), [[2n], [4n], [1n], [3n]]);
  assertEquals(await rows("SELECT id FROM app.users ORDER BY age NULLS FIRST"), [
    [2n],
    [3n],
    [1n],
    [4n],
  ]);
  assertEquals(await rows("SELECT id FROM app.users ORDER BY age DESC NULLS LAST"), [
    [4n],
    [1n],
    [3n],
    [2n],
  ]);
  assertEquals(await rows("SELECT id, balance AS b FROM app.users ORDER BY b"), [
    [2n, "9.20"],
    [1n, "10.50"],
    [3n, "100.00"],
    [4n, null],
  ]);
  assertEquals(await rows("SELECT name, id FROM app.users ORDER BY 2 DESC LIMIT 2"), [
    ["dave", 4n],
    ["carol", 3n],
  ]);
  assertEquals(await rows("SELECT name FROM app.users ORDER BY team, LENGTH(name) DESC"), [
    ["bob"],
    ["alice"], // ties keep primary-key order
    ["carol"],
    ["dave"],
  ]);
  assertEquals(await rows("SELECT name FROM app.users ORDER BY team DESC, name DESC"), [
    ["dave"],
    ["carol"],
    ["alice"],
    ["bob"],
  ]);
  assertEquals(await rows("SELECT name FROM app.users ORDER BY created DESC LIMIT 1"), [["dave"]]);
  await assertRejects(() => rows("SELECT id FROM app.users ORDER BY 3"), "INVALID_SQL");
});

Deno.test("LIMIT / OFFSET with params, and LIMIT stops the scan early", async () => {
  assertEquals(await rows("SELECT id FROM app.users LIMIT 2 OFFSET 1"), [[2n], [3n]]);
  assertEquals(await rows("SELECT id FROM app.users LIMIT $1 OFFSET $2", [1, 3]), [[4n]]);
  assertEquals(await rows("SELECT id FROM app.users OFFSET 3"), [[4n]]);
  assertEquals(await rows("SELECT id FROM app.users LIMIT 0"), []);
  await assertRejects(() => rows("SELECT id FROM app.users LIMIT -1"), "INVALID_PARAMETER");
  const c = setup();
  const users = c.tables.get("app.users")!;
  let batches = 0;
  users.onBatch = () => batches++;
  assertEquals(await rows("SELECT id FROM app.users LIMIT 1", [], c), [[1n]]);
  assertEquals(batches, 0);
});

Deno.test("INNER, LEFT and CROSS joins", async () => {
  assertEquals(
    await rows(
      "SELECT u.name, o.amount FROM app.users u JOIN app.orders o ON o.user_id = u.id ORDER BY o.id",
    ),
    [["alice", 5.5], ["alice", 4.5], ["carol", 20]],
  );
  assertEquals(
    await rows(
      "SELECT u.id, o.id FROM app.users u LEFT JOIN app.orders o ON u.id = o.user_id AND o.amount > 5",
    ),
    [[1n, 10], [2n, null], [3n, 12], [4n, null]],
  );
  assertEquals(
    await rows(
      "SELECT o.id, u.name FROM app.orders o LEFT JOIN app.users u ON u.id = o.user_id WHERE u.name IS NULL",
    ),
    [[13, null]],
  );
  assertEquals((await rows("SELECT * FROM app.users CROSS JOIN app.orders")).length, 16);
  const star = await run(
    "SELECT * FROM app.orders o JOIN app.users u ON o.user_id = u.id WHERE o.id = 12",
  );
  assertEquals(star.columns.length, 6 + 8);
  assertEquals(star.rows[0][0], 12);
  assertEquals(star.rows[0][7], "carol");
  assertEquals(
    await rows("SELECT u.* FROM app.users u JOIN app.orders o ON o.user_id = u.id AND o.id = 12"),
    [[3n, "carol", 25, "100.00", ts("2024-03-01"), "red", 1n, false]],
  );
  assertEquals(
    await rows(
      "SELECT u.id, o.id FROM app.users u JOIN app.orders o ON o.amount > u.age ORDER BY 1",
    ),
    [],
  );
  assertEquals(
    await rows(
      "SELECT u.id, COUNT(o.id) FROM app.users u LEFT JOIN app.orders o ON o.user_id = u.id GROUP BY u.id ORDER BY u.id",
    ),
    [[1n, 2n], [2n, 0n], [3n, 1n], [4n, 0n]],
  );
});

Deno.test("join plans: hash join on equality, pushdown of single-table conditions", async () => {
  const c = setup();
  const ctx = makeCtx(c);
  const hash = planSelect(
    stmt("SELECT 1 FROM app.users u JOIN app.orders o ON u.id = o.user_id WHERE u.id = 1"),
    ctx,
  );
  assert(hash.explain().startsWith("Project"), hash.explain());
  assert(hash.explain().includes("HashJoin INNER"), hash.explain());
  assert(hash.explain().includes("KeyLookup app.users AS u"), hash.explain());
  const loop = planSelect(
    stmt("SELECT 1 FROM app.users u JOIN app.orders o ON u.id < o.user_id"),
    ctx,
  );
  assert(loop.explain().includes("NestedLoopJoin"), loop.explain());
  await assertRejects(
    () => rows("SELECT id FROM app.users u JOIN app.orders o ON u.id = o.user_id"),
    "INVALID_SQL",
    /ambiguous/,
  );
  await assertRejects(
    () => rows("SELECT 1 FROM app.users u JOIN app.users u ON u.id = u.id"),
    "INVALID_SQL",
  );
  // A WHERE on the nullable side of a LEFT JOIN stays above the join.
  const left = planSelect(
    stmt("SELECT 1 FROM app.users u LEFT JOIN app.orders o ON u.id = o.user_id WHERE o.id = 10"),
    ctx,
  );
  assert(left.explain().includes("Filter o.id = 10"), left.explain());
});

Deno.test("subqueries: FROM, IN, scalar, EXISTS", async () => {
  assertEquals(
    await rows(
      "SELECT s.n FROM (SELECT name AS n, age FROM app.users WHERE age > 24) AS s ORDER BY s.age",
    ),
    [["carol"], ["alice"], ["dave"]],
  );
  assertEquals(
    await rows("SELECT name FROM app.users WHERE id IN (SELECT user_id FROM app.orders)"),
    [["alice"], ["carol"]],
  );
  assertEquals(
    await rows(
      "SELECT name FROM app.users WHERE id NOT IN (SELECT user_id FROM app.orders) ORDER BY 1",
    ),
    [["bob"], ["dave"]],
  );
  assertEquals(
    await rows("SELECT name FROM app.users WHERE age = (SELECT MAX(age) FROM app.users)"),
    [["dave"]],
  );
  assertEquals(await rows("SELECT (SELECT COUNT(*) FROM app.orders) AS n"), [[4n]]);
  assertEquals(await rows("SELECT (SELECT v FROM app.empty) AS n"), [[null]]);
  assertEquals(
    (await rows(
      "SELECT id FROM app.users WHERE EXISTS (SELECT 1 FROM app.orders WHERE amount > 10)",
    )).length,
    4,
  );
  assertEquals(
    await rows("SELECT id FROM app.users WHERE NOT EXISTS (SELECT 1 FROM app.empty)  AND id = 1"),
    [[1n]],
  );
  assertEquals(
    await rows(
      "SELECT t.team, t.n FROM (SELECT team, COUNT(*) AS n FROM app.users GROUP BY team) t WHERE t.n > 1",
    ),
    [["red", 2n]],
  );
  await assertRejects(
    () => rows("SELECT (SELECT id FROM app.users)"),
    "INVALID_SQL",
    /more than one row/i,
  );
  await assertRejects(
    () => rows("SELECT 1 WHERE 1 IN (SELECT id, name FROM app.users)"),
    "INVALID_SQL",
  );
});

Deno.test("SELECT without FROM", async () => {
  assertEquals(await rows("SELECT 1, 'a', NULL"), [[1, "a", null]]);
  assertEquals(await rows("SELECT 1 WHERE 1 = 2"), []);
  assertEquals(await rows("SELECT COUNT(*)"), [[1n]]);
  await assertRejects(() => rows("SELECT *"), "INVALID_SQL");
});

Deno.test("errors: unknown table, unknown column", async () => {
  await assertRejects(() => rows("SELECT * FROM app.nope"), "TABLE_NOT_FOUND");
  await assertRejects(() => rows("SELECT nope FROM app.users"), "COLUMN_NOT_FOUND", /"nope"/);
  await assertRejects(() => rows("SELECT 1 FROM app.users WHERE x.id = 1"), "COLUMN_NOT_FOUND");
  await assertRejects(() => rows("SELECT x.* FROM app.users"), "INVALID_SQL");
});

Deno.test("an aborted signal stops the query with QUERY_TIMEOUT", async () => {
  const c = setup();
  const ac = new AbortController();
  ac.abort();
  await assertRejects(
    () => executeSelect(stmt("SELECT * FROM app.users"), makeCtx(c, { signal: ac.signal })),
    "QUERY_TIMEOUT",
  );
  const mid = new AbortController();
  const users = c.tables.get("app.users")!;
  users.onBatch = () => mid.abort();
  await assertRejects(
    () =>
      executeSelect(
        stmt("SELECT * FROM app.users ORDER BY name"),
        makeCtx(c, { signal: mid.signal }),
      ),
    "QUERY_TIMEOUT",
    /cancelled/,
  );
});

Deno.test("a plan runs again with new parameters", async () => {
  const c = setup();
  const plan = planSelect(
    stmt("SELECT name FROM app.users WHERE id = $1 AND id IN (SELECT user_id FROM app.orders)"),
    makeCtx(c),
  );
  assertEquals((await plan.execute(makeCtx(c, { params: [1] }))).rows, [["alice"]]);
  assertEquals((await plan.execute(makeCtx(c, { params: [2] }))).rows, []);
  assertEquals((await plan.execute(makeCtx(c, { params: [3] }))).rows, [["carol"]]);
});

Deno.test("ORDER BY a column outside the select list with LIMIT drops the hidden key", async () => {
  const r = await run("SELECT name FROM app.users ORDER BY balance DESC NULLS LAST LIMIT 2");
  assertEquals(r.rows, [["carol"], ["alice"]]);
  assertEquals(r.columns, [{ name: "name", type: "TEXT" }]);
});

Deno.test("EXPLAIN shows the operator tree", () => {
  const c = setup();
  const plan = planSelect(
    stmt(
      "SELECT team, COUNT(*) FROM app.users WHERE age > 1 GROUP BY team ORDER BY 2 DESC LIMIT 1",
    ),
    makeCtx(c),
  );
  assertEquals(
    plan.explain(),
    [
      "Limit",
      "  Sort 2 DESC",
      "    Project team, count",
      "      Aggregate BY team: COUNT(*)",
      "        Scan app.users filter: age > 1",
    ].join("\n"),
  );
});

Deno.test("a re-run sees new data in subqueries even with the same context", async () => {
  const c = setup();
  const ctx = makeCtx(c);
  const plan = planSelect(
    stmt("SELECT id FROM app.users WHERE id IN (SELECT user_id FROM app.orders)"),
    ctx,
  );
  assertEquals((await plan.execute(ctx)).rows, [[1n], [3n]]);
  c.tables.get("app.orders")!.rows.push([14, 2n, 1, null, 9n, false]);
  assertEquals((await plan.execute(ctx)).rows, [[1n], [2n], [3n]]);
});
