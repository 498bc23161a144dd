// A CPU hog for the deterministic-tests check (issue 15 item 6): starts N busy-loop child
// processes that each spin for a bounded time and then exit on their own. The one decision: every
// spinner is its own `deno eval` process with its own deadline, so a hog whose parent is killed
// still ends by itself — nothing ever needs a broad kill to clean it up.
//
//   deno run -A scripts/reliability/cpu_hog.ts [--procs 2] [--seconds 600]
//
// Prints one line `hog pids: <pid> <pid>` (and `hog pid <pid>` per child), then waits for the
// children; on SIGINT/SIGTERM it ends exactly those pids.

/** Spins until `seconds` have passed (a deadline, not a count of iterations). */
const SPIN = (seconds: number) =>
  `const end = Date.now() + ${seconds * 1000}; let x = 0; ` +
  `while (Date.now() < end) { for (let i = 0; i < 1e6; i++) x = (x * 31 + i) | 0; }`;

/** Starts `procs` spinners of `seconds` each; returns them (the caller owns their pids). */
export function startHog(procs: number, seconds: number): Deno.ChildProcess[] {
  const children: Deno.ChildProcess[] = [];
  for (let i = 0; i < procs; i++) {
    children.push(
      new Deno.Command(Deno.execPath(), {
        args: ["eval", SPIN(seconds)],
        stdin: "null",
        stdout: "null",
        stderr: "inherit",
      }).spawn(),
    );
  }
  return children;
}

/** Ends the given children by pid (SIGTERM); already-exited ones are ignored. */
export function stopHog(children: readonly Deno.ChildProcess[]): void {
  for (const c of children) {
    try {
      c.kill("SIGTERM");
    } catch { /* already exited */ }
  }
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(args[i + 1]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number`);
  return n;
}

if (import.meta.main) {
  const procs = flag(Deno.args, "--procs", 2);
  const seconds = flag(Deno.args, "--seconds", 600);
  const children = startHog(procs, seconds);
  for (const c of children) console.log(`hog pid ${c.pid}`);
  console.log(`hog pids: ${children.map((c) => c.pid).join(" ")} (${procs} x ${seconds} s)`);
  const stop = () => stopHog(children);
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await Promise.all(children.map((c) => c.status));
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  console.log("hog done");
}
