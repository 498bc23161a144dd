// The one assertion library of every test (JSR's @std/assert is not reachable here): deep
// equality by Deno.inspect (bigint, Uint8Array, nested arrays and key order all count), and a
// few string checks. No imports, so any folder's tests can use it.

export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/** Renders any value for failure messages (bigint and Uint8Array included). */
export function show(v: unknown): string {
  return Deno.inspect(v, { depth: 6, colors: false, strAbbreviateSize: 400 });
}

export function assert(cond: unknown, message = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(message);
}

/** Deep equality via Deno.inspect (handles bigint, Uint8Array, nested arrays). */
export function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  const a = show(actual);
  const e = show(expected);
  if (a !== e) {
    throw new AssertionError(`${message ? message + "\n" : ""}expected: ${e}\n  actual: ${a}`);
  }
}

export function assertStringIncludes(actual: string, expected: string, message?: string): void {
  if (!actual.includes(expected)) {
    throw new AssertionError(
      `${message ? message + "\n" : ""}expected ${show(actual)} to include ${show(expected)}`,
    );
  }
}

export function assertMatch(actual: string, re: RegExp, message?: string): void {
  if (!re.test(actual)) {
    throw new AssertionError(
      `${message ? message + "\n" : ""}expected ${show(actual)} to match ${re}`,
    );
  }
}
