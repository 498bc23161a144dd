// Reliability harness (issue 15). Item 1, crash safety under load: a real server SIGKILLed at
// seeded-random moments under concurrent writers and resuming live subscribers, then checked for
// lost, duplicated, resurrected and half-applied rows, manifest/segment consistency and
// exactly-once change delivery (see _crash_run.ts, _crash_check.ts).
//
//   deno run -A scripts/reliability/mod.ts --short          (≤ 2 min; also run by deno task test)
//   deno run -A scripts/reliability/mod.ts --long           (≥ 20 SIGKILLs, ~10 min: deno task soak)
//   deno run -A scripts/reliability/mod.ts --short --seed 42 --keep   (rerun one schedule, keep data)
//
// Exit status 0 when every check holds; the last line is the summary.

import { parseArgs } from "node:util";
import { PROFILES, type Report, runCrash } from "./_crash_run.ts";

export { type Profile, PROFILES, type Report, runCrash } from "./_crash_run.ts";
/** The on-disk manifest and segment check, for suites that make their own faults. */
export { checkManifests, emptyTally } from "./_crash_check.ts";

/** Prints a report: the problems found (first few of each), then the summary line. */
export function printReport(r: Report, log: (line: string) => void = console.log): void {
  for (const p of r.tally.problems.slice(0, 40)) log(`  ! ${p}`);
  log(`crash ${r.ok ? "ok" : "FAILED"}: ${r.summary}`);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      short: { type: "boolean" },
      long: { type: "boolean" },
      seed: { type: "string" },
      keep: { type: "boolean" },
    },
  });
  const profile = values.long ? PROFILES.long : PROFILES.short;
  const seed = values.seed === undefined
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(values.seed);
  console.log(
    `crash safety, ${profile.name} profile, seed ${seed} (rerun: --${profile.name} --seed ${seed})`,
  );
  const report = await runCrash(profile, seed);
  printReport(report);
  if (values.keep || !report.ok) console.log(`data dir kept: ${report.dataDir}`);
  else await Deno.remove(report.dataDir, { recursive: true }).catch(() => {});
  Deno.exit(report.ok ? 0 : 1);
}
