// Hostile `--file` input for the CLI's batch mode (issue 15 item 3): generated and damaged SQL,
// random bytes (invalid UTF-8, NUL, a BOM), very long lines and CRLF. Many inputs run in-process
// through `runBatch` (what `kalamdb --file F --data D` calls), a few through the real executable
// (`main.ts`) for its exit status and stderr. Property: exit status 0 with no ERROR line, or 1
// with an `ERROR <CODE>:` line of a catalogued code other than INTERNAL_ERROR — never a thrown
// exception, a stack trace or another status.

import { parseInvocation, resolveConfig, runBatch } from "../../cli/mod.ts";
import { runMain } from "../../cli/_test_util.ts";
import { ERROR_CODES } from "../../errors.ts";
import { assert, assertEquals, withTempDir } from "../_util.ts";
import { fc, params, preview, regressionBytes, regressions, Tally, within } from "./_fuzz.ts";
import { FIXTURE, hostileSql } from "./_sql_gen.ts";

const DEADLINE_MS = 60_000;
const enc = new TextEncoder();

const fileBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 5, arbitrary: hostileSql.map((s) => enc.encode(s)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 400 }) },
  {
    weight: 1,
    arbitrary: hostileSql.map((s) => enc.encode("\ufeff" + s.replaceAll("\n", "\r\n"))),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 200_000 }).map((n) =>
      enc.encode(`SELECT '${"é".repeat(n)}' +;`)
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(hostileSql, fc.uint8Array({ minLength: 1, maxLength: 6 })).map((
      [s, junk],
    ) => Uint8Array.from([...enc.encode(FIXTURE.split("\n")[0] + "\n" + s), ...junk])),
  },
);

/** Checks one finished run: status and the ERROR lines of stderr. */
function checkRun(code: number, stderr: string, input: Uint8Array): void {
  const what = `${preview(input)}\n  status ${code}, stderr: ${stderr.slice(0, 600)}`;
  assert(!/^\s+at |Uncaught|Stack backtrace/m.test(stderr), `stack trace: ${what}`);
  const codes = [...stderr.matchAll(/^ERROR ([A-Z_]+):/gm)].map((m) => m[1]);
  if (code === 0) {
    assertEquals(codes, [], `status 0 with an error: ${what}`);
    return;
  }
  assertEquals(code, 1, `exit status: ${what}`);
  assert(codes.length > 0, `status 1 without an ERROR line: ${what}`);
  for (const c of codes) {
    assert(c in ERROR_CODES && c !== "INTERNAL_ERROR", `code ${c}: ${what}`);
  }
}

/** Runs `bytes` as a --file batch in-process on `dataDir`. */
async function inProcess(bytes: Uint8Array, dir: string, n: number): Promise<void> {
  const file = `${dir}/in-${n}.sql`;
  await Deno.writeFile(file, bytes);
  const inv = parseInvocation(["--file", file, "--data", `${dir}/data`]);
  assert(inv.kind === "batch", "a --file invocation is a batch");
  const out: string[] = [];
  const err: string[] = [];
  let code: number;
  try {
    code = await within(
      runBatch(inv.flags, resolveConfig(inv.flags, {}), {
        out: (t) => out.push(t),
        err: (t) => err.push(t),
      }),
      DEADLINE_MS,
      preview(bytes),
    );
  } catch (e) {
    throw new Error(`runBatch threw ${String(e)} for ${preview(bytes)}`);
  } finally {
    await Deno.remove(file).catch(() => {});
  }
  checkRun(code, err.join("\n"), bytes);
}

Deno.test("fuzz cli: hostile --file input ends with status 0 or a coded ERROR and status 1", async () => {
  const tally = new Tally("cli-file");
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/setup.sql`, FIXTURE);
    await inProcess(enc.encode(FIXTURE), dir, -1);
    let n = 0;
    for (const r of regressions("cli")) {
      tally.one();
      await inProcess(regressionBytes(r), dir, n++);
    }
    await fc.assert(
      fc.asyncProperty(fileBytes, async (bytes) => {
        tally.one();
        await inProcess(bytes, dir, n++);
      }),
      params(40, false),
    );
    // The real executable, for its exit status and stderr: a few inputs of the same kinds.
    const samples = fc.sample(fileBytes, { numRuns: 3, seed: 7 });
    for (const bytes of [Uint8Array.from([0, 0xff, 0xfe, 0x3b, 0x0a, 0xc3]), ...samples]) {
      tally.one();
      const file = `${dir}/exe-${n++}.sql`;
      await Deno.writeFile(file, bytes);
      const r = await within(
        runMain(["--file", file, "--data", `${dir}/data`]),
        DEADLINE_MS,
        preview(bytes),
      );
      checkRun(r.code, r.stderr, bytes);
    }
  });
  tally.print();
});
