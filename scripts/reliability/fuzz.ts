// The longer fuzz run (issue 15 item 3): the suites of tests/fuzz/ with every property's number
// of runs multiplied (FUZZ_RUNS) under another seed (FUZZ_SEED), bounded by a deadline. It runs
// them as `deno test` children — the suites own their generators and fixtures — and prints the
// "N inputs" each target tried. A failure prints fast-check's counterexample and seed; add the
// input to tests/fuzz/regressions.json once fixed.
//
// Usage: deno run -A scripts/reliability/fuzz.ts [--runs 20] [--seed 1] [--timeout-s 1200]

const flags = new Map<string, string>();
for (let i = 0; i < Deno.args.length; i += 2) flags.set(Deno.args[i], Deno.args[i + 1] ?? "");
const runs = Number(flags.get("--runs") ?? 20);
const seed = Number(flags.get("--seed") ?? 1);
const timeoutS = Number(flags.get("--timeout-s") ?? 1200);
if (!(runs >= 1) || !Number.isInteger(seed) || !(timeoutS > 0)) {
  console.error("usage: fuzz.ts [--runs N≥1] [--seed INT] [--timeout-s S]");
  Deno.exit(2);
}

const dir = new URL("../../tests/fuzz/", import.meta.url).pathname;
console.log(`fuzz: tests/fuzz/ with FUZZ_RUNS=${runs} FUZZ_SEED=${seed}, deadline ${timeoutS} s`);
const t0 = performance.now();
const child = new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", "--parallel", dir],
  env: { FUZZ_RUNS: String(runs), FUZZ_SEED: String(seed) },
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
}).spawn();
let timedOut = false;
const timer = setTimeout(() => {
  timedOut = true;
  try {
    child.kill("SIGKILL"); // our own child, by its handle
  } catch { /* already exited */ }
}, timeoutS * 1000);
const out = await child.output(); // also the exit status; ends when the child does
clearTimeout(timer);
const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);

const totals = [...text.matchAll(/^fuzz ([\w-]+): (\d+) inputs/gm)].map((m) => ({
  target: m[1],
  inputs: Number(m[2]),
}));
for (const t of totals) console.log(`${t.target.padEnd(10)} ${t.inputs} inputs`);
const sum = totals.reduce((n, t) => n + t.inputs, 0);
const secs = ((performance.now() - t0) / 1000).toFixed(0);
console.log(`total      ${sum} inputs in ${secs} s (seed ${seed})`);
if (timedOut) {
  console.log(`fuzz: the run did not end within ${timeoutS} s (a hang?); its output:\n${text}`);
  Deno.exit(1);
}
if (!out.success) {
  console.log(`fuzz: FAILED (status ${out.code}); output:\n${text.slice(-20_000)}`);
  Deno.exit(1);
}
console.log("fuzz: every input ended with a result or a coded error");
