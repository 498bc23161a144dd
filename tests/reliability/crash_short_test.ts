// Crash safety under load, short profile (issue 15, item 1), inside `deno task test`: runs
// scripts/reliability/mod.ts --short as a child (its own server child, data dir and seeded
// SIGKILL schedule) and requires exit 0 and a summary with no loss, duplicate or missed change,
// and for the topic both tables feed: every committed write's message, each processed.
// The seed is random unless KALAMDB_CRASH_SEED is set; it is printed, and a failure shows the
// command that replays the same schedule.

import { assert, assertMatch } from "../_util.ts";

const MOD = new URL("../../scripts/reliability/mod.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
/** The harness bounds itself (~80 s); this is the backstop on a loaded machine. */
const DEADLINE_MS = 115_000;

Deno.test("reliability: SIGKILLs under concurrent writes, flushes and resuming subscribers lose nothing", async () => {
  const seed = Deno.env.get("KALAMDB_CRASH_SEED") ?? String(Math.floor(Math.random() * 2 ** 31));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MOD, "--short", "--seed", seed],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(DEADLINE_MS),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const err = new TextDecoder().decode(out.stderr);
  const summary = text.trim().split("\n").at(-1) ?? "";
  const context = `rerun: deno run -A scripts/reliability/mod.ts --short --seed ${seed}\n` +
    `${text.slice(-6000)}\n${err.slice(-3000)}`;
  assert(out.success, `harness exit ${out.code} (signal ${out.signal})\n${context}`);
  assertMatch(summary, /^crash ok: \d+ SIGKILLs, lost: 0, duplicates: 0,/);
  assertMatch(summary, /half-applied: 0,.*changes missed: 0, duplicate changes: 0/);
  // The topic sourced by both tables: an outbox message per committed write, all processed.
  assertMatch(
    summary,
    /topic: [1-9]\d* messages, lost: 0, duplicates: 0, phantom: 0, half-published: 0, not processed: 0, \d+ redelivered \(after a confirmed ack: 0\)/,
  );
  console.log(summary);
});
