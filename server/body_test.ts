// Unit test of the body budget's per-address share (the end-to-end suite runs from one address).

import { BodyBudget } from "./body.ts";
import { assertEquals } from "../tests/_util.ts";

Deno.test("body budget: one address holds at most its share; the others still fit; release gives back", () => {
  const budget = new BodyBudget(100, 30);
  assertEquals(budget.reserve(30, "a"), true);
  assertEquals(budget.reserve(1, "a"), false, "a is at its share");
  assertEquals(budget.reserve(30, "b"), true);
  assertEquals(budget.reserve(30, "c"), true);
  assertEquals(budget.reserve(11, "d"), false, "the total is the bound too");
  assertEquals(budget.reserve(10, "d"), true);
  assertEquals(budget.used, 100);
  budget.release(30, "a");
  assertEquals(budget.reserve(30, "a"), true, "a's share came back");
  for (const k of ["a", "b", "c"]) budget.release(30, k);
  budget.release(10, "d");
  assertEquals(budget.used, 0);
});
