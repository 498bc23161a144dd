// Unit tests of the terminal helpers: colour only when wanted, decoration that adds escapes but
// never changes the text, and the cancel view an embedded statement polls.

import { assertEquals } from "./_test_util.ts";
import { cancelSignal, colors, colorWanted, decorate, decorateError } from "./term.ts";
import type { Busy } from "./term.ts";

// deno-lint-ignore no-control-regex -- removing the SGR escapes is the point
const strip = (s: string) => s.replace(/\x1b\[\d+m/g, "");
const TABLE = " id | title\n----+-------\n  1 | a\n(1 row)\nTook: 0.412 ms";

Deno.test("colour needs a TTY and neither --no-color nor NO_COLOR", () => {
  const saved = Deno.env.get("NO_COLOR");
  try {
    Deno.env.delete("NO_COLOR");
    assertEquals(colorWanted(true), true);
    assertEquals(colorWanted(false), false);
    assertEquals(colorWanted(true, true), false);
    Deno.env.set("NO_COLOR", "");
    assertEquals(colorWanted(true), false);
  } finally {
    if (saved === undefined) Deno.env.delete("NO_COLOR");
    else Deno.env.set("NO_COLOR", saved);
  }
});

Deno.test("decoration adds escapes only: header bold, rule, count and Took dim", () => {
  const on = colors(true);
  const shown = decorate(TABLE, on);
  assertEquals(strip(shown), TABLE);
  assertEquals(shown.split("\n")[0], "\x1b[1m id | title\x1b[22m");
  assertEquals(shown.split("\n")[4], "\x1b[2mTook: 0.412 ms\x1b[22m");
  assertEquals(decorate(TABLE, colors(false)), TABLE);
  const error = "ERROR INVALID_SQL: x (line 1, column 3)\nLINE 1: SELEC\n          ^";
  assertEquals(strip(decorateError(error, on)), error);
  assertEquals(decorateError(error, colors(false)), error);
});

Deno.test("the cancel view reads as aborted once the busy period is interrupted", () => {
  let interrupted = false;
  const busy = {
    get interrupted() {
      return interrupted;
    },
  } as Busy;
  const controller = new AbortController();
  const signal = cancelSignal(controller.signal, busy);
  assertEquals(signal.aborted, false);
  interrupted = true;
  assertEquals(signal.aborted, true);
  // Still an event target: listeners go to the real signal.
  let fired = false;
  signal.addEventListener("abort", () => fired = true);
  controller.abort();
  assertEquals(fired, true);
});
