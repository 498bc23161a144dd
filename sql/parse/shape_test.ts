import { assert, assertEquals } from "../../tests/assert.ts";
import { parseSql } from "./mod.ts";
import { bindShape, shapeOf, templateOf } from "./shape.ts";

/** The template of `sql` and the parameters two texts of its shape bind (undefined: none). */
function bindBoth(first: string, second: string) {
  const a = shapeOf(first)!;
  const t = templateOf(a, parseSql(first).statements);
  const b = shapeOf(second);
  assert(b && b.key === a.key, `${first} / ${second}: another shape`);
  return { template: t, first: t && bindShape(t, a), second: t && bindShape(t, b) };
}

Deno.test("shape: WHERE comparisons, IN and BETWEEN of SELECT take their literals as parameters", () => {
  const r = bindBoth(
    "SELECT * FROM app.t WHERE id = 10 AND (name <> 'ab' OR n IN (1, 2)) AND m BETWEEN 3 AND 4",
    "SELECT * FROM app.t WHERE id = 20 AND (name <> 'xy' OR n IN (5, 6)) AND m BETWEEN 7 AND 8",
  );
  assertEquals(r.first, [10, "ab", 1, 2, 3, 4]);
  assertEquals(r.second, [20, "xy", 5, 6, 7, 8]);
  const stmt = r.template!.statements[0].statement;
  assert(stmt.kind === "select" && stmt.where?.kind === "binary");
});

Deno.test("shape: literals in other places stay literal and must match", () => {
  // LIMIT and ORDER BY positions are fixed: a different one does not bind.
  const limit = bindBoth(
    "SELECT id FROM app.t WHERE n = 1 LIMIT 10",
    "SELECT id FROM app.t WHERE n = 2 LIMIT 20",
  );
  assertEquals(limit.first, [1]);
  assertEquals(limit.second, undefined);
  const same = bindBoth(
    "SELECT id FROM app.t WHERE n = 1 LIMIT 10",
    "SELECT id FROM app.t WHERE n = 9 LIMIT 10",
  );
  assertEquals(same.second, [9]);
  // Nothing to take: no template.
  assertEquals(
    bindBoth("SELECT 1 FROM app.t ORDER BY 1", "SELECT 2 FROM app.t ORDER BY 2").template,
    undefined,
  );
  assertEquals(
    bindBoth("SELECT * FROM app.t WHERE 1 = 1", "SELECT * FROM app.t WHERE 2 = 2").template,
    undefined,
  );
});

Deno.test("shape: a literal of another type than the template's does not bind", () => {
  const t = (a: string, b: string) =>
    bindBoth(`SELECT * FROM app.t WHERE n = ${a}`, `SELECT * FROM app.t WHERE n = ${b}`).second;
  assertEquals(t("5", "6"), [6]);
  assertEquals(t("500", "5e2"), undefined); // INT, then DECIMAL
  assertEquals(t("2147483647", "2147483648"), undefined); // INT, then BIGINT
  assertEquals(t("5.5", "5e5"), ["500000"]); // both exact decimals
  // A number and a string of one length are other shapes.
  assert(shapeOf("SELECT 1 WHERE n = 111")!.key !== shapeOf("SELECT 1 WHERE n = '1'")!.key);
  assertEquals(t("999999999999999999999", "1.5555555555555555555"), undefined); // int vs decimal, both DECIMAL
});

Deno.test("shape: spans stay those of the text run; parameters and bad tokens take no shape", () => {
  const a = shapeOf("SELECT * FROM app.t WHERE name = 'a\nb' AND x = 1")!;
  const b = shapeOf("SELECT * FROM app.t WHERE name = 'c\nd' AND x = 2")!;
  assertEquals(a.key, b.key);
  assert(shapeOf("SELECT * FROM app.t WHERE name = 'ab\nc' AND x = 1")!.key !== a.key);
  assertEquals(shapeOf("SELECT * FROM app.t WHERE id = $1 AND n = 5"), undefined);
  assertEquals(shapeOf("SELECT * FROM app.t WHERE id = 'open"), undefined);
  assertEquals(shapeOf("SELECT * FROM app.t"), undefined);
});

Deno.test("shape: INSERT VALUES and EXECUTE AS USER take theirs; DDL keeps them", () => {
  const ins = bindBoth(
    "INSERT INTO app.t (id, name) VALUES (1, 'a'), (2, 'b')",
    "INSERT INTO app.t (id, name) VALUES (3, 'c'), (4, 'd')",
  );
  assertEquals(ins.second, [3, "c", 4, "d"]);
  const as = bindBoth(
    "EXECUTE AS USER 'ann' (SELECT * FROM app.t WHERE id = 1)",
    "EXECUTE AS USER 'bob' (SELECT * FROM app.t WHERE id = 2)",
  );
  assertEquals(as.first, [1]);
  assertEquals(as.second, undefined); // the user name is fixed
  assertEquals(
    bindBoth("CREATE TOPIC app.q PARTITIONS 2", "CREATE TOPIC app.q PARTITIONS 3").template,
    undefined,
  );
});
