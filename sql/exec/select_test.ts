// SELECT executor tests over the in-memory source: scans and key seeks, soft deletes, projection,
// DISTINCT, grouping, ordering, LIMIT and the errors of plain queries. Joins, subqueries and
// plan reuse are in plan_test.ts.

import { extractKeys, projectReturning } from "./keys.ts";
import { planSelect } from "./select.ts";
import { assert, assertEquals, assertRejects, makeCtx } from "./_test_util.ts";
import { rows, run, setup, stmt, ts } from "./_select_test_util.ts";

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

Deno.test("ORDER BY a column outside the select list with LIMIT drops the hidden key", async () => {
  const r = await run("SELECT name FROM app.users ORDER BY balance DESC NULLS LAST LIMIT 2");
  assertEquals(r.rows, [["carol"], ["alice"]]);
  assertEquals(r.columns, [{ name: "name", type: "TEXT" }]);
});
