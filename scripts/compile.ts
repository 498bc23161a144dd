// `deno task compile`: stamps the commit and build date into cli/_build_info.ts, runs
// `deno compile -A --output kalamdb main.ts`, and restores the unstamped file whatever happens,
// so the working tree stays clean. Extra arguments go to `deno compile` (e.g. `--target …`).
// `deno compile` needs a `denort` runtime: it downloads one unless DENORT_BIN names a local
// binary, which it honours (the environment is passed through unchanged).
// SOURCE_DATE_EPOCH (seconds), when set, fixes the build date for reproducible builds.

const root = new URL("../", import.meta.url);
const stampFile = new URL("cli/_build_info.ts", root);
/**
 * npm packages only tests and benchmarks use (the browser driver, DuckDB, PostgreSQL, the type
 * checker): left out of the binary, which otherwise embeds all of node_modules (~180 MB).
 */
const DEV_ONLY =
  /^(playwright-core|typescript|fast-check|pure-rand|@duckdb\+[^@]+|pg|pg-[^@]+|pgpass|postgres-[^@]+)@/;

/** node_modules/.deno entries of the dev-only packages, as `--exclude` arguments. */
async function devExcludes(): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(new URL("node_modules/.deno/", root))) {
      if (!DEV_ONLY.test(e.name)) continue;
      // `name@version` (a scope's `/` written `+`) holds the package at node_modules/<name>.
      const pkg = e.name.slice(0, e.name.lastIndexOf("@")).replace("+", "/");
      out.push("--exclude", `node_modules/.deno/${e.name}/node_modules/${pkg}`);
      out.push("--exclude", `node_modules/${pkg}`);
    }
  } catch { /* no node_modules yet: deno compile fetches what main.ts needs */ }
  return out;
}

/** Modules loaded by URL at run time (workers), which `deno compile` must be told to include. */
const INCLUDES = ["storage/cold/flush_worker.ts"];

/** Runs a command in the repository root; returns its trimmed stdout, or undefined on failure. */
async function capture(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, { args, cwd: root, stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

/** The short commit, with `-dirty` when tracked files differ from it; "dev" without git. */
async function commitStamp(): Promise<string> {
  const commit = await capture("git", ["rev-parse", "--short", "HEAD"]);
  if (!commit) return "dev";
  const changes = await capture("git", ["status", "--porcelain", "--untracked-files=no"]);
  return changes ? `${commit}-dirty` : commit;
}

/** UTC build date without milliseconds: `2026-11-25T20:00:00Z`. */
function buildDate(): string {
  const epoch = Deno.env.get("SOURCE_DATE_EPOCH");
  const date = epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date();
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function stampSource(commit: string, date: string): string {
  return `// Build stamp. Left empty in the repository; \`deno task compile\` (scripts/compile.ts) writes the
// commit and build date here just before \`deno compile\` and restores this file afterwards.

/** Commit and UTC build date stamped at compile time; empty strings when not stamped. */
export const BUILD_INFO = { commit: ${JSON.stringify(commit)}, buildDate: ${JSON.stringify(date)} };
`;
}

async function main(): Promise<number> {
  // `--output PATH` among the extra arguments (the last one wins, as for deno compile).
  const at = Deno.args.lastIndexOf("--output");
  const out = at >= 0 ? Deno.args[at + 1] : undefined;
  const binary = out === undefined
    ? new URL("kalamdb", root).pathname
    : out.startsWith("/")
    ? out
    : `${Deno.cwd()}/${out}`;
  for (const path of INCLUDES) {
    if (!(await Deno.stat(new URL(path, root)).catch(() => undefined))?.isFile) {
      console.error(`compile: ${path} (a worker the binary must include) does not exist`);
      return 1;
    }
  }
  const commit = await commitStamp();
  const date = buildDate();
  const original = await Deno.readTextFile(stampFile);
  const denort = Deno.env.get("DENORT_BIN");
  console.error(`Stamping commit ${commit}, built ${date}`);
  if (denort) console.error(`Using DENORT_BIN=${denort}`);
  await Deno.writeTextFile(stampFile, stampSource(commit, date));
  let status: Deno.CommandStatus;
  try {
    status = await new Deno.Command(Deno.execPath(), {
      // Workers are loaded by URL at run time: include them in the binary explicitly.
      args: [
        "compile",
        "-A",
        // As deno.json's "unstable": a request's signal aborts only when its client goes away,
        // not after every answer (that made and dropped an exception per request).
        "--unstable-no-legacy-abort",
        ...INCLUDES.flatMap((path) => ["--include", path]),
        ...await devExcludes(),
        "--output",
        binary,
        ...Deno.args.filter((_, i) => i !== at && i !== at + 1),
        "main.ts",
      ],
      cwd: root,
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
  } finally {
    await Deno.writeTextFile(stampFile, original);
  }
  if (!status.success) {
    console.error(
      `\ncompile failed: \`deno compile\` exited with status ${status.code} (its error is above).\n` +
        "It needs the denort runtime for the target: without network access, set DENORT_BIN to a\n" +
        "local denort binary of the same Deno version (" + Deno.version.deno + ") and run again.",
    );
    return status.code || 1;
  }
  // Smoke test (skipped when cross-compiling): a wrong DENORT_BIN (e.g. the full `deno` binary)
  // yields an executable that runs as plain deno instead of kalamdb.
  if (!Deno.args.includes("--target")) {
    const line = await capture(binary, ["--version"]);
    if (!line?.startsWith(`kalamdb `)) {
      console.error(
        `\ncompile produced ${binary}, but it does not run as kalamdb ` +
          `(\`--version\` printed ${JSON.stringify(line?.split("\n")[0] ?? "nothing")}).\n` +
          `Is DENORT_BIN a denort binary (not the full deno executable)? Removed ${binary}.`,
      );
      await Deno.remove(binary).catch(() => {});
      return 1;
    }
    console.error(line);
  }
  console.error(`Built ${binary}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
