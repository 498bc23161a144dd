// Idle memory (issue 17 item 4): the resident memory of an idle KalamDB-TS server next to bare
// `Deno.serve` processes that load, step by step, what the server loads — node:sqlite with an
// open WAL database, the first npm packages (msgpackr, jose, smol-toml: what a request needs),
// then every library of the server. Each is its own process on loopback, measured once its RSS
// has not changed for a second (at most 20 s after it listens), from /proc/<pid>/status: RssAnon
// (heap, V8 and SQLite allocations) and RssFile (pages of the deno binary and of files mapped).
//
//   deno run -A scripts/bench/idle.ts

const ROOT = new URL("../../", import.meta.url);
const MAIN = new URL("main.ts", ROOT).pathname;

/** The bare servers: each line a module imported before `Deno.serve`. */
const LIBRARIES = ["hyparquet", "hyparquet-writer", "hyparquet-compressors", "@zip.js/zip.js"]
  .concat(["aws4fetch", "node:zlib", "node:crypto"]);
const VARIANTS: { name: string; imports: string[]; sqlite: boolean }[] = [
  { name: "bare Deno.serve", imports: [], sqlite: false },
  { name: "+ node:sqlite, a WAL database open", imports: [], sqlite: true },
  {
    name: "+ msgpackr, jose, smol-toml (npm)",
    imports: ["msgpackr", "jose", "smol-toml"],
    sqlite: true,
  },
  {
    name: "+ every library of the server",
    imports: ["msgpackr", "jose", "smol-toml", ...LIBRARIES],
    sqlite: true,
  },
];

export interface IdleRow {
  readonly name: string;
  readonly rssMb: number;
  readonly anonMb: number;
  readonly fileMb: number;
}

function memory(pid: number): { rss: number; anon: number; file: number } {
  const s = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (k: string) => Number(s.match(new RegExp(`${k}:\\s+(\\d+)`))?.[1] ?? 0);
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") };
}

/** Starts `args`, waits for "listening" on stdout, then for a steady RSS; kills it by pid. */
async function measure(name: string, args: string[], cwd: string): Promise<IdleRow> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "null",
    env: { KALAMDB_RATE_LIMIT: "0" },
  }).spawn();
  try {
    const reader = child.stdout.getReader();
    const deadline = Date.now() + 60_000;
    let text = "";
    while (!/listening/.test(text)) {
      if (Date.now() > deadline) throw new Error(`${name}: not listening within 60 s`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`${name}: exited before listening: ${text.slice(-300)}`);
      text += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    child.stdout.cancel().catch(() => {});
    // Steady: the same RSS (±64 kB) for 1 s, checked every 250 ms, within 20 s.
    let last = memory(child.pid);
    let steadySince = Date.now();
    const until = Date.now() + 20_000;
    while (Date.now() - steadySince < 1000 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      const now = memory(child.pid);
      if (Math.abs(now.rss - last.rss) > 64) steadySince = Date.now();
      last = now;
    }
    const mb = (kb: number) => Math.round(kb / 102.4) / 10;
    return { name, rssMb: mb(last.rss), anonMb: mb(last.anon), fileMb: mb(last.file) };
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
  }
}

/** Runs every variant and the server, one after another. */
export async function runIdleBench(): Promise<IdleRow[]> {
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-idle-" });
  const rows: IdleRow[] = [];
  try {
    for (const [i, v] of VARIANTS.entries()) {
      const file = `${dir}/idle_${i}.ts`;
      const sqlite = v.sqlite
        ? `import { DatabaseSync } from "node:sqlite";\n` +
          `new DatabaseSync(${JSON.stringify(`${dir}/v${i}.sqlite`)})` +
          `.exec("PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS t (x)");\n`
        : "";
      await Deno.writeTextFile(
        file,
        v.imports.map((m) => `import ${JSON.stringify(m)};\n`).join("") + sqlite +
          `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => ` +
          `console.log("listening on", a.port) }, () => new Response("ok"));\n`,
      );
      console.log(`  ${v.name} …`);
      // The project's config resolves the npm imports (its node_modules) from the temp file.
      const config = new URL("deno.json", ROOT).pathname;
      rows.push(await measure(v.name, ["run", "-A", "--config", config, file], ROOT.pathname));
    }
    console.log("  KalamDB-TS server …");
    rows.push(
      await measure(
        "KalamDB-TS server (main.ts serve), idle",
        ["run", "-A", MAIN, "serve", "--data", `${dir}/kalamdb`, "--port", "0"],
        ROOT.pathname,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return rows;
}

export function idleTable(rows: readonly IdleRow[]): string {
  const out = ["| process | RSS MB | RssAnon MB | RssFile MB |", "|---|---:|---:|---:|"];
  for (const r of rows) out.push(`| ${r.name} | ${r.rssMb} | ${r.anonMb} | ${r.fileMb} |`);
  return out.join("\n");
}

if (import.meta.main) console.log(idleTable(await runIdleBench()));
