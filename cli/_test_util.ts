// Tiny assert helpers and process fixtures for the CLI tests (JSR's @std/assert is unreachable
// here). Equality compares Deno.inspect renderings, which covers bigint and nested objects.

export {
  assert,
  assertEquals,
  AssertionError,
  assertMatch,
  assertStringIncludes as assertIncludes,
} from "../tests/_util.ts";
import { AssertionError } from "../tests/_util.ts";

/** Runs `fn`, returns what it threw; fails when it did not throw. */
export function assertThrows(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new AssertionError("expected the function to throw");
}

/** Runs `fn` with a fresh temporary directory and removes it afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-cli-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Path of main.ts, for running the executable as a child process. */
export const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Output of one `deno run -A main.ts …` child. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs main.ts with `args` to completion, with a clean KALAMDB_* environment. */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { ...cleanEnv(), ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** This process's environment without KALAMDB_* variables, so tests do not inherit settings. */
export function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("KALAMDB_")),
  );
}
