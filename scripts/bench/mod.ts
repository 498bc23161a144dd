// `deno task bench`: runs the benchmarks, prints tables, writes scripts/bench/results.json and
// BENCHMARKS.md. Flags: --only core|http|cold|live|client|export|topics|idle|arrow (run one part; the others'
// results are kept from results.json), --quick (small sizes, for a smoke run: prints only, so it
// never overwrites the recorded numbers).

import { parseArgs } from "node:util";
import { runCoreBench } from "./core.ts";
import { runHttpBench } from "./http.ts";
import { runColdBench } from "./cold.ts";
import { runLiveBench } from "./live.ts";
import { runClientBench } from "./client.ts";
import { clientTable } from "./_client_report.ts";
import { liveTable } from "./_live_report.ts";
import { runExportBench } from "./export.ts";
import { exportTable } from "./_export_report.ts";
import { runTopicsBench } from "./topics.ts";
import { topicsTable } from "./_topics_report.ts";
import { idleTable, runIdleBench } from "./idle.ts";
import { arrowTable, runArrowBench } from "./arrow.ts";
import { benchmarksMd, coldTable, coreTable, httpTable, type Results } from "./_report.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
  },
});
const PARTS = ["core", "http", "cold", "live", "client", "export", "topics", "idle", "arrow"];
if (values.only !== undefined && !PARTS.includes(values.only)) {
  console.error(`--only must be one of ${PARTS.join(", ")}; got ${values.only}`);
  Deno.exit(2);
}
const runs = (part: string) => values.only === undefined || values.only === part;
const scale = values.quick ? 0.05 : 1;
const resultsFile = new URL("./results.json", import.meta.url);

/** The last results, in today's shape; results.json of issue 2 had `{started, scale, core}`. */
async function previous(): Promise<Results> {
  try {
    const old = JSON.parse(await Deno.readTextFile(resultsFile));
    if (Array.isArray(old.core)) {
      return { core: { started: old.started, scale: old.scale, results: old.core } };
    }
    return old;
  } catch {
    return {};
  }
}

const results = await previous();
if (runs("core")) {
  const started = new Date().toISOString();
  console.log(`core engine benchmark (scale ${scale}) …`);
  const core = await runCoreBench(scale);
  console.log(coreTable(core));
  results.core = { started, scale, results: core };
}
if (runs("http")) {
  const started = new Date().toISOString();
  console.log(`HTTP benchmark (scale ${scale}) …`);
  const http = await runHttpBench(scale);
  console.log(httpTable(http));
  if (http.kalamdbError) console.log(`KalamDB-TS server not measured:\n${http.kalamdbError}`);
  results.http = { started, scale, results: http };
}
if (runs("cold")) {
  const started = new Date().toISOString();
  console.log(`cold-tier benchmark (scale ${scale}) …`);
  const cold = await runColdBench(scale);
  console.log(coldTable(cold));
  results.cold = { started, scale, results: cold };
}
if (runs("live")) {
  const started = new Date().toISOString();
  console.log(`live-query benchmark (scale ${scale}) …`);
  const live = await runLiveBench(scale);
  console.log(liveTable(live));
  for (const u of live.unavailable) console.log(`${u.system} not measured:\n${u.reason}`);
  results.live = { started, scale, results: live };
}
if (runs("client")) {
  const started = new Date().toISOString();
  console.log(`client SDK benchmark (scale ${scale}) …`);
  const client = await runClientBench(scale);
  console.log(clientTable(client));
  results.client = { started, scale, results: client };
}
if (runs("export")) {
  const started = new Date().toISOString();
  console.log(`per-user export benchmark (scale ${scale}) …`);
  // A failed export (or a zip that does not check out) records nothing: the last results stay.
  try {
    const exp = await runExportBench(scale);
    console.log(exportTable(exp));
    results.export = { started, scale, results: exp };
  } catch (err) {
    console.error(`export benchmark failed, nothing recorded:\n${(err as Error).stack ?? err}`);
    if (values.only === "export") Deno.exitCode = 1;
  }
}

if (runs("topics")) {
  const started = new Date().toISOString();
  console.log(`topics benchmark (scale ${scale}) …`);
  const topics = await runTopicsBench(scale);
  console.log(topicsTable(topics));
  results.topics = { started, scale, results: topics };
}

if (runs("idle")) {
  const started = new Date().toISOString();
  console.log("idle memory …");
  const idle = await runIdleBench();
  console.log(idleTable(idle));
  results.idle = { started, scale: 1, results: idle };
}

if (runs("arrow")) {
  const started = new Date().toISOString();
  console.log(`Arrow vs JSON answers (scale ${scale}) …`);
  const arrow = await runArrowBench(Math.max(10_000, Math.round(1_000_000 * scale)));
  console.log(arrowTable(arrow));
  results.arrow = { started, scale, results: arrow };
}

if (!values.quick) {
  await Deno.writeTextFile(resultsFile, JSON.stringify(results, null, 2) + "\n");
  await Deno.writeTextFile(new URL("../../BENCHMARKS.md", import.meta.url), benchmarksMd(results));
}
