// Tiny assert helpers and process fixtures for the CLI tests (JSR's @std/assert is unreachable
// here). Equality compares Deno.inspect renderings, which covers bigint and nested objects.

export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function show(v: unknown): string {
  return Deno.inspect(v, { depth: 8, colors: false, strAbbreviateSize: 2000 });
}

/** Fails with `message` unless `cond` is truthy. */
export function assert(cond: unknown, message = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(message);
}

/** Deep equality by rendering. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  const a = show(actual);
  const e = show(expected);
  if (a !== e) throw new AssertionError(`${message ?? ""}\nexpected: ${e}\n  actual: ${a}`);
}

/** `actual` contains `part`. */
export function assertIncludes(actual: string, part: string, message?: string): void {
  if (!actual.includes(part)) {
    throw new AssertionError(
      `${message ?? ""}\nexpected ${show(actual)}\nto include ${show(part)}`,
    );
  }
}

/** `actual` matches `re`. */
export function assertMatch(actual: string, re: RegExp, message?: string): void {
  if (!re.test(actual)) {
    throw new AssertionError(`${message ?? ""}\nexpected ${show(actual)}\nto match ${re}`);
  }
}

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
