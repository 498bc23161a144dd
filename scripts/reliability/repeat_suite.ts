// Runs the whole suite (`deno task test`) K times in a row while a CPU hog holds the cores
// (issue 15 item 6: "the whole suite passes 5 runs in a row while a CPU hog holds both cores").
// The one decision: each run gets its own hog (started just before, ended by pid right after) and
// its own process group under `setsid`, so a hung run is ended at its deadline — by that group's
// id, never by a name — and the next run starts on a quiet slate.
//
//   deno run -A scripts/reliability/repeat_suite.ts [--runs 5] [--procs 2]
//     [--run-timeout-s 1800] [--logs DIR] [--keep-going]
//
// Prints one line per run (`run 2/5: ok | 812 passed (1400 steps) | 0 failed (4m2s)`), the names
// of failed tests, and a final line `repeat_suite: 5/5 runs passed`. Exit status 0 only when every
// run passed. Each run's full output is kept in DIR (default: a fresh temp dir, printed first).

import { startHog, stopHog } from "./cpu_hog.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

interface RunResult {
  readonly ok: boolean;
  readonly summary: string;
  readonly failures: string[];
  readonly seconds: number;
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(args[i + 1]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number`);
  return n;
}

function textFlag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

/** Whether `setsid` exists, so a run can live in a process group of its own. */
async function hasSetsid(): Promise<boolean> {
  try {
    const r = await new Deno.Command("setsid", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return r.success;
  } catch {
    return false;
  }
}

/** The deno test summary line and the names listed under FAILURES. */
export function parseOutput(out: string): { summary: string; ok: boolean; failures: string[] } {
  // deno-lint-ignore no-control-regex
  const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
  const lines = plain.split("\n");
  const summary = lines.findLast((l) => /^(ok|FAILED) \| \d+ passed/.test(l.trim()))?.trim() ??
    "no summary line (the run did not finish)";
  const failures: string[] = [];
  const start = lines.findLastIndex((l) => l.trim() === "FAILURES");
  if (start >= 0) {
    for (const l of lines.slice(start + 1)) {
      if (/^(ok|FAILED) \|/.test(l.trim())) break;
      if (l.includes("=>")) failures.push(l.trim());
    }
  }
  return { summary, ok: summary.startsWith("ok |"), failures };
}

async function runOnce(
  log: string,
  opts: { procs: number; timeoutS: number; setsid: boolean },
): Promise<RunResult> {
  const t0 = Date.now();
  const hog = startHog(opts.procs, opts.timeoutS + 60); // ends on its own even if we die
  console.log(`  hog pids: ${hog.map((c) => c.pid).join(" ")}`);
  const file = await Deno.open(log, { write: true, create: true, truncate: true });
  const args = ["task", "test"];
  const child = new Deno.Command(opts.setsid ? "setsid" : Deno.execPath(), {
    args: opts.setsid ? [Deno.execPath(), ...args] : args,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  console.log(`  suite pid: ${child.pid}`);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      // The run's own process group (setsid made child.pid its leader), else the child alone.
      if (opts.setsid) Deno.kill(-child.pid, "SIGKILL");
      else child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, opts.timeoutS * 1000);
  const chunks: Uint8Array[] = [];
  const keep = (s: ReadableStream<Uint8Array>) =>
    s.pipeTo(
      new WritableStream({
        async write(c) {
          chunks.push(c);
          await file.write(c);
        },
      }),
    );
  await Promise.all([keep(child.stdout), keep(child.stderr)]);
  await child.status;
  clearTimeout(timer);
  file.close();
  stopHog(hog);
  await Promise.all(hog.map((c) => c.status));
  const out = new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
  const parsed = parseOutput(out);
  const summary = timedOut
    ? `TIMED OUT after ${opts.timeoutS} s; ${parsed.summary}`
    : parsed.summary;
  return { ...parsed, ok: parsed.ok && !timedOut, summary, seconds: (Date.now() - t0) / 1000 };
}

if (import.meta.main) {
  const runs = flag(Deno.args, "--runs", 5);
  const procs = flag(Deno.args, "--procs", 2);
  const timeoutS = flag(Deno.args, "--run-timeout-s", 1800);
  const keepGoing = Deno.args.includes("--keep-going");
  const logs = textFlag(Deno.args, "--logs") ??
    await Deno.makeTempDir({ prefix: "kalamdb-repeat-" });
  await Deno.mkdir(logs, { recursive: true });
  const setsid = await hasSetsid();
  console.log(
    `repeat_suite: ${runs} runs of deno task test under ${procs} busy loops; logs ${logs}`,
  );
  let passed = 0;
  let done = 0;
  for (let k = 1; k <= runs; k++) {
    console.log(`run ${k}/${runs}: started ${new Date().toISOString()}`);
    const r = await runOnce(`${logs}/run-${k}.log`, { procs, timeoutS, setsid });
    done++;
    if (r.ok) passed++;
    console.log(`run ${k}/${runs}: ${r.summary} [${r.seconds.toFixed(0)} s wall]`);
    for (const f of r.failures) console.log(`  failed: ${f}`);
    if (!r.ok && !keepGoing) break;
  }
  console.log(
    `repeat_suite: ${passed}/${done} runs passed (${runs} asked, in a row: ${
      passed === runs ? "yes" : "no"
    })`,
  );
  Deno.exit(passed === runs ? 0 : 1);
}
