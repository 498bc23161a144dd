// Two commits side by side: the core benchmark (engine ÷ raw node:sqlite, same run) of an older
// commit and of the working tree, alternated `runs` times so both see the same machine load, and
// the median ratio of each. A restructure that claims "no behaviour change" shows with it that
// it cost no speed either (issue 11; the figures are in BENCHMARKS.md).
//
// Usage: deno run -A scripts/bench/trees.ts <commit> [runs=6] [scale=1]

const [commit, runsArg = "6", scaleArg = "1"] = Deno.args;
if (!commit) {
  console.error("usage: deno run -A scripts/bench/trees.ts <commit> [runs] [scale]");
  Deno.exit(2);
}
const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const runs = Number(runsArg), scale = Number(scaleArg);

async function git(...args: string[]): Promise<void> {
  const out = await new Deno.Command("git", { args, cwd: root, stdout: "null" }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")} failed`);
}

/** One core benchmark run in `tree` (its own deno.json and sources): name → engine ÷ raw. */
async function coreRatios(tree: string): Promise<Map<string, number>> {
  const code = `import { runCoreBench } from "./scripts/bench/core.ts";
    console.log(JSON.stringify((await runCoreBench(${scale})).map((r) => [r.name, r.ratio])));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: tree,
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`core benchmark failed in ${tree}`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const rows = JSON.parse(lines[lines.length - 1]) as [string, number][];
  // Names carry run-specific figures in parentheses; the text before them is the benchmark.
  return new Map(rows.map(([name, ratio]) => [name.split(" (")[0].split(" vs ")[0], ratio]));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const old = await Deno.makeTempDir({ prefix: "kalamdb-tree-" });
try {
  await git("worktree", "add", "--detach", old, commit);
  await Deno.symlink(`${root}/node_modules`, `${old}/node_modules`);
  const seen = new Map<string, { before: number[]; after: number[] }>();
  for (let i = 0; i < runs; i++) {
    for (const [tree, side] of [[old, "before"], [root, "after"]] as const) {
      for (const [name, ratio] of await coreRatios(tree)) {
        if (!seen.has(name)) seen.set(name, { before: [], after: [] });
        seen.get(name)![side].push(ratio);
      }
    }
    console.error(`run ${i + 1}/${runs} done`);
  }
  console.log(`| benchmark | ${commit.slice(0, 7)} | working tree | after ÷ before |`);
  console.log("|---|---:|---:|---:|");
  for (const [name, { before, after }] of seen) {
    const b = median(before), a = median(after);
    console.log(`| ${name} | ${b.toFixed(2)} | ${a.toFixed(2)} | ${(a / b).toFixed(2)} |`);
  }
} finally {
  await git("worktree", "remove", "--force", old).catch(() =>
    Deno.remove(old, { recursive: true })
  );
}
