// SELECT executor tests of multi-source plans and plan reuse: INNER/LEFT/CROSS joins and their
// plans, subqueries (FROM, IN, scalar, EXISTS), cancellation, re-running a plan with new
// parameters or data, and EXPLAIN.

import { executeSelect, planSelect } from "./select.ts";
import { assert, assertEquals, assertRejects, makeCtx } from "./_test_util.ts";
import { rows, run, setup, stmt, ts } from "./_select_test_util.ts";

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
