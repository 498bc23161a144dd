// `deno task bench`: runs every benchmark, prints a table, writes scripts/bench/results.json and
// the tables in BENCHMARKS.md. Flags: --quick (small sizes, for a smoke run; does not write
// BENCHMARKS.md).

import { parseArgs } from "node:util";
import { type Measurement, runCoreBench } from "./core.ts";

const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const scale = values.quick ? 0.05 : 1;

function fmt(n: number): string {
  return n.toLocaleString("en", { maximumFractionDigits: 0 });
}

function table(rows: Measurement[]): string {
  const lines = [
    "| benchmark | unit | KalamDB-TS | raw building block | ratio | target |",
    "|---|---|---:|---:|---:|---|",
  ];
  for (const r of rows) {
    const note = r.note ? ` (${r.note})` : "";
    lines.push(
      `| ${r.name}${note} | ${r.unit} | ${fmt(r.engine)} | ${fmt(r.raw)} | ${
        r.ratio.toFixed(2)
      } | ${r.target} |`,
    );
  }
  return lines.join("\n");
}

const started = new Date().toISOString();
console.log(`core engine benchmark (scale ${scale}) …`);
const core = await runCoreBench(scale);
const text = table(core);
console.log(text);

await Deno.writeTextFile(
  new URL("./results.json", import.meta.url),
  JSON.stringify({ started, scale, core }, null, 2) + "\n",
);
if (!values.quick) {
  const md = `# Benchmarks

Measured by \`deno task bench\` (scripts/bench/) on this project's machine: 2 cores, 24 GiB,
Deno ${Deno.version.deno}. Every number is from one run, engine and peer side by side in the same
process, same data, same durability (SQLite WAL, \`synchronous=FULL\`). Ratios are
engine ÷ peer; higher is better. Raw numbers are in scripts/bench/results.json.

## Core engine vs raw \`node:sqlite\` (issue 2) — run of ${started}

${text}

What the engine does on top of the raw statement: parse (cached by SQL text), plan, type-check
and coerce values, encode rows to MessagePack, check primary-key uniqueness, assign a Snowflake
\`_seq\`, append a change-log entry with the old row (the raw side writes one row, the engine two),
and for reads decode rows and apply per-user visibility.
`;
  await Deno.writeTextFile(new URL("../../BENCHMARKS.md", import.meta.url), md);
}
