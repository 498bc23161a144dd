// The single executable (issue 13, item 6): `deno task compile` builds ./kalamdb, whose
// --version carries the commit and build date and which runs a --file batch. `deno compile`
// needs its runtime base (denort): downloaded where Deno can reach its host, or DENORT_BIN.
// Where neither works, the test says so and is skipped.

import { assert, assertEquals, assertMatch } from "../_util.ts";
import { cleanEnv } from "../../cli/_test_util.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Why a compile cannot work here, or undefined when it can: a tiny program is compiled first. */
async function unavailable(): Promise<string | undefined> {
  if (Deno.env.get("DENORT_BIN")) return undefined;
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-compile-probe-" });
  try {
    await Deno.writeTextFile(`${dir}/hello.ts`, "console.log('hi');\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["compile", "--no-check", "--output", `${dir}/hello`, `${dir}/hello.ts`],
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    if (out.success) return undefined;
    // deno-lint-ignore no-control-regex -- deno's colour codes
    const text = new TextDecoder().decode(out.stderr).replace(/\x1b\[[0-9;]*m/g, "");
    const lines = text.split("\n").map((l) => l.trim());
    const download = lines.find((l) => l.startsWith("Download "))?.slice("Download ".length);
    const error = lines.find((l) => /^error/i.test(l)) ?? lines.filter(Boolean).pop();
    const why = download ? `downloading ${download} failed (${error})` : error;
    return `deno compile cannot get its runtime base (denort) here and DENORT_BIN is not set: ${why}`;
  } catch (err) {
    return `deno compile did not finish: ${err instanceof Error ? err.message : err}`;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const reason = await unavailable();
if (reason) console.log(`compile test skipped: ${reason}`);

Deno.test({
  name: "compile: ./kalamdb --version is stamped and runs a --file batch",
  ignore: reason !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kalamdb-compile-" });
    const bin = `${dir}/kalamdb`;
    try {
      const built = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "scripts/compile.ts", "--output", bin],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(built.stderr);
      assert(built.success, `compile failed:\n${log}`);
      const run = async (args: string[]) => {
        const out = await new Deno.Command(bin, { args, env: cleanEnv(), clearEnv: true }).output();
        return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
      };
      const version = await run(["--version"]);
      assertMatch(
        version.stdout,
        /^kalamdb \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}(-dirty)?, built \d{4}-\d\d-\d\dT/,
      );
      await Deno.writeTextFile(`${dir}/a.sql`, "CREATE NAMESPACE c; SELECT 41 + 1 AS answer;");
      const batch = await run([
        "--file",
        `${dir}/a.sql`,
        "--data",
        `${dir}/data`,
        "--format",
        "csv",
      ]);
      assertEquals(batch, { code: 0, stdout: "answer\n42\n" });
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
