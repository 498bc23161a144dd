// Statistics pruning with constants the column's type rounds (found in review): a segment whose
// boundary value satisfies `r > 0.1` (REAL: the stored 0.1 is fround(0.1), above the double 0.1)
// or `d > 0.999` (DECIMAL(10,2): the constant becomes 1.00) must not be skipped — not by SELECT,
// and not by UPDATE / DELETE, which now prune segments by their WHERE too.

import { assertEquals, exec, withDatabase } from "./_util.ts";
import type { Database } from "../storage/mod.ts";

async function ids(db: Database, sql: string): Promise<number[]> {
  const r = await exec(db, sql);
  return (r.results.at(-1)!.rows ?? []).map((row) => Number(row[0]));
}

Deno.test("cold pruning: a constant rounded to the column's type never skips a matching segment", async () => {
  await withDatabase(async (db) => {
    await exec(
      db,
      `CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, r REAL,
      d DECIMAL(10,2)) WITH (FLUSH_POLICY = 'rows:1000000,interval:3600')`,
    );
    await exec(db, "INSERT INTO app.t VALUES (1, 0.1, 1.00), (2, 0.5, 5.00)");
    await db.hooks.flushAll();
    for (
      const [where, want] of [
        ["r > 0.1", [1, 2]],
        ["r >= 0.1 AND r < 0.2", [1]],
        ["d > 0.999 AND d < 1.001", [1]],
        ["d < 1.001", [1]],
        ["d = 1.004", []],
      ] as const
    ) {
      assertEquals(
        await ids(db, `SELECT id FROM app.t WHERE ${where} ORDER BY id`),
        [...want],
        where,
      );
    }
    assertEquals(await ids(db, "UPDATE app.t SET d = 7 WHERE r > 0.1 AND r < 0.2 RETURNING id"), [
      1,
    ]);
    assertEquals(await ids(db, "DELETE FROM app.t WHERE d > 6.999 AND d < 7.001 RETURNING id"), [
      1,
    ]);
    assertEquals(await ids(db, "SELECT id FROM app.t ORDER BY id"), [2]);
  });
});
