import { assert, assertEquals } from "../tests/assert.ts";
import { LiveRowsState } from "./live_rows.ts";
import type { Change } from "./subscription.ts";
import type { Row } from "./values.ts";

const ins = (...rows: Row[]): Change => ({ op: "insert", seq: "1", rows, oldRows: [] });
const upd = (row: Row, old: Row): Change => ({
  op: "update",
  seq: "1",
  rows: [row],
  oldRows: [old],
});
const del = (...oldRows: Row[]): Change => ({ op: "delete", seq: "1", rows: [], oldRows });
const ids = (s: LiveRowsState) => s.get().map((r) => r.id);

Deno.test("live rows: snapshot sorted by primary key; inserts land in order", () => {
  const s = new LiveRowsState();
  s.setKey("id");
  s.reset([{ id: 5n, v: "e" }, { id: 1n, v: "a" }, { id: 3n, v: "c" }]);
  assertEquals(ids(s), [1n, 3n, 5n]);
  s.apply(ins({ id: 4n, v: "d" }, { id: 0n, v: "z" }, { id: 9n, v: "i" }));
  assertEquals(ids(s), [0n, 1n, 3n, 4n, 5n, 9n]);
});

Deno.test("live rows: update replaces in place, delete removes, reset replaces all", () => {
  const s = new LiveRowsState();
  s.setKey("id");
  s.reset([{ id: 1n, v: "a" }, { id: 2n, v: "b" }]);
  s.apply(upd({ id: 2n, v: "B" }, { id: 2n, v: "b" }));
  assertEquals(s.get(), [{ id: 1n, v: "a" }, { id: 2n, v: "B" }]);
  s.apply(del({ id: 1n, v: "a" }));
  assertEquals(s.get(), [{ id: 2n, v: "B" }]);
  s.apply(del({ id: 7n, v: "never there" })); // unknown key: nothing happens
  assertEquals(s.size, 1);
  s.reset([{ id: 9n, v: "fresh" }]);
  assertEquals(s.get(), [{ id: 9n, v: "fresh" }]);
});

Deno.test("live rows: a row leaving the filter (delete) and one entering it (insert)", () => {
  // The server sends a row updated out of the filter as delete, into it as insert (SPEC §8).
  const s = new LiveRowsState();
  s.setKey("id");
  s.reset([{ id: 1n, done: false }, { id: 2n, done: false }]);
  s.apply(del({ id: 1n, done: false })); // UPDATE … SET done = true: left `WHERE NOT done`
  s.apply(ins({ id: 3n, done: false })); // UPDATE … SET done = false on 3: entered
  assertEquals(ids(s), [2n, 3n]);
});

Deno.test("live rows: an update that changes the primary key moves the row", () => {
  const s = new LiveRowsState();
  s.setKey("id");
  s.reset([{ id: 1n }, { id: 2n }, { id: 3n }]);
  s.apply(upd({ id: 10n }, { id: 1n }));
  assertEquals(ids(s), [2n, 3n, 10n]);
});

Deno.test("live rows: get() keeps its identity until a change, and old arrays never change", () => {
  const s = new LiveRowsState();
  s.setKey("id");
  s.reset([{ id: 1n }]);
  const first = s.get();
  assert(first === s.get(), "same array while nothing changed");
  s.apply(ins({ id: 2n }));
  s.apply(ins({ id: 3n }));
  const second = s.get();
  assert(second !== first, "a new array after a change");
  assertEquals(first.map((r) => r.id), [1n], "the array handed out earlier is untouched");
  assertEquals(second.map((r) => r.id), [1n, 2n, 3n]);
  assert(second[0] === first[0], "unchanged rows keep their identity");
});

Deno.test("live rows: without a primary key, rows are matched by content in arrival order", () => {
  const s = new LiveRowsState();
  s.reset([{ v: "b" }, { v: "a" }]);
  s.apply(ins({ v: "a" }));
  assertEquals(s.get(), [{ v: "b" }, { v: "a" }, { v: "a" }]);
  s.apply(del({ v: "a" }));
  assertEquals(s.get(), [{ v: "b" }, { v: "a" }], "one of two equal rows goes");
  s.apply(upd({ v: "c" }, { v: "b" }));
  assertEquals(s.get(), [{ v: "a" }, { v: "c" }]);
});
