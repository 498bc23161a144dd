// Shared fixtures of the SELECT executor tests: a small catalog of users and orders (with a
// soft-deleted row) and helpers that parse, plan and run a SELECT against it.

import type { SelectStmt } from "../ast.ts";
import { parseBatch } from "../parse/mod.ts";
import { parseTimestamp } from "../values.ts";
import type { Value } from "../values.ts";
import { executeSelect } from "./select.ts";
import { MemoryCatalog } from "./_test_source.ts";
import { assert, makeCtx } from "./_test_util.ts";

export const ts = (s: string) => parseTimestamp(s)!;

export function setup(): MemoryCatalog {
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

export function stmt(sql: string): SelectStmt {
  const s = parseBatch(sql)[0].statement;
  assert(s.kind === "select", "not a SELECT");
  return s;
}

export async function run(sql: string, params: Value[] = [], catalog = setup()) {
  return await executeSelect(stmt(sql), makeCtx(catalog, { params }));
}

export async function rows(
  sql: string,
  params: Value[] = [],
  catalog = setup(),
): Promise<Value[][]> {
  return (await run(sql, params, catalog)).rows;
}
