// Runs the SQL conformance case files against a real Database. One fresh data directory per
// case file; statements run one by one as the user the file names. The same cases are meant to
// run on buffered, flushed and mixed data: `runCases(mode, { afterSetup })` registers one
// Deno.test per file, and the hook (a flush, or a flush plus updates) runs between a file's
// setup section and its checks. Mismatches are collected so one run reports every failing
// statement of a file, not just the first.

import { Database } from "../../storage/mod.ts";
import type { BatchResult, StatementResult } from "../../storage/mod.ts";
import { displayValue } from "../../sql/mod.ts";
import { type CaseFile, type CaseStep, type Expectation, parseCaseFile } from "./_cases.ts";

export type RunMode = "buffered" | "flushed" | "mixed" | "s3";

export interface RunOptions {
  /** Runs once per case file after its setup statements (e.g. FLUSH every table). */
  readonly afterSetup?: (db: Database) => Promise<void>;
  /** Runs after each setup statement with its 0-based index (mixed mode flushes every other). */
  readonly afterSetupStep?: (db: Database, index: number) => Promise<void>;
  /** Runs before the database of a case file closes (e.g. removes S3 objects). */
  readonly cleanup?: (db: Database) => Promise<void>;
  /** Skips every file with this reason (printed), e.g. no S3 server configured. */
  readonly ignoreReason?: string;
  /** Only files whose name includes this text (debugging). */
  readonly only?: string;
  /** Directory of the case files; defaults to tests/sql/cases. */
  readonly dir?: string;
}

const CASES_DIR = new URL("./cases/", import.meta.url);

/** Reads and parses every case file, sorted by name. */
export async function loadCases(dir: string | URL = CASES_DIR): Promise<CaseFile[]> {
  const files: CaseFile[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".sql")) continue;
    const path = typeof dir === "string" ? `${dir}/${entry.name}` : new URL(entry.name, dir);
    files.push(parseCaseFile(entry.name, await Deno.readTextFile(path)));
  }
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

/** Registers one Deno.test per case file for `mode`. */
export async function runCases(mode: RunMode, options: RunOptions = {}): Promise<void> {
  if (mode !== "buffered" && !options.afterSetup && !options.afterSetupStep) {
    throw new Error(`mode "${mode}" needs an afterSetup hook that puts the data in that state`);
  }
  if (options.ignoreReason) {
    console.log(`sql conformance [${mode}] skipped: ${options.ignoreReason}`);
  }
  for (const file of await loadCases(options.dir ?? CASES_DIR)) {
    if (options.only && !file.name.includes(options.only)) continue;
    Deno.test({
      name: `sql conformance [${mode}] ${file.name}`,
      ignore: file.skipModes.includes(mode) || options.ignoreReason !== undefined,
      fn: () => runCaseFile(file, options),
    });
  }
}

/** Runs one parsed case file on a fresh temp data directory; throws listing every mismatch. */
export async function runCaseFile(file: CaseFile, options: RunOptions = {}): Promise<void> {
  const { afterSetup, afterSetupStep } = options;
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-cases-" });
  const failures: string[] = [];
  try {
    const db = await Database.open({ dataDir: dir, nodeId: 1 });
    try {
      let hooked = false;
      let setupIndex = 0;
      for (const step of file.steps) {
        if (!step.setup && !hooked) {
          hooked = true;
          await afterSetup?.(db);
        }
        const problem = await runStep(db, step);
        if (problem) {
          failures.push(
            `${file.name}:${step.line} [as ${step.user}] ${oneLine(step.sql)}\n${problem}`,
          );
          if (step.setup) break; // later statements would only report the setup's fallout
        }
        if (step.setup) await afterSetupStep?.(db, setupIndex++);
      }
      if (!hooked) await afterSetup?.(db);
    } finally {
      await options.cleanup?.(db).catch((err) => failures.push(`cleanup: ${err}`));
      await db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  if (failures.length > 0) {
    throw new Error(`${failures.length} failing statement(s):\n\n${failures.join("\n\n")}`);
  }
}

function oneLine(sql: string): string {
  const s = sql.replace(/\s+/g, " ");
  return s.length > 160 ? s.slice(0, 157) + "..." : s;
}

async function execute(db: Database, step: CaseStep): Promise<BatchResult> {
  // `-- as: anonymous` is a request without credentials (not a stored user).
  if (step.user === "anonymous") {
    return await db.execute(step.sql, { principal: { user: "anonymous", role: "anonymous" } });
  }
  return await db.execute(step.sql, { user: step.user });
}

/** Runs a step and returns a description of what went wrong, or undefined. */
async function runStep(db: Database, step: CaseStep): Promise<string | undefined> {
  let res: BatchResult;
  try {
    res = await execute(db, step);
  } catch (err) {
    return `  execute() threw instead of returning an error: ${(err as Error)?.stack ?? err}`;
  }
  const errorExp = step.expects.find((e) => e.kind === "error");
  if (errorExp && errorExp.kind === "error") {
    if (!res.error) {
      return errorExp.orOk
        ? undefined
        : `  expected error ${errorExp.codes.join(" | ")}, got success`;
    }
    if (!errorExp.codes.includes(res.error.code)) {
      return `  expected error ${
        errorExp.codes.join(" | ")
      }, got ${res.error.code}: ${res.error.message}`;
    }
    return undefined;
  }
  if (res.error) return `  unexpected error ${res.error.code}: ${res.error.message}`;
  const result = res.results.at(-1);
  if (!result) return "  no statement result returned";

  const problems: string[] = [];
  for (const exp of step.expects) {
    let problem = check(exp, result);
    if (problem && exp.kind === "rows" && exp.withinMs !== undefined) {
      problem = await poll(db, step, exp);
    }
    if (problem) problems.push(problem);
  }
  return problems.length > 0 ? problems.join("\n") : undefined;
}

/**
 * Re-runs the statement until its rows match, for effects that have no event to await (TTL
 * expiry is a read-time rule). Bounded by the case's `within` time.
 */
async function poll(db: Database, step: CaseStep, exp: Expectation): Promise<string | undefined> {
  const deadline = Date.now() + (exp.kind === "rows" ? exp.withinMs ?? 0 : 0);
  let problem: string | undefined = "not run";
  while (problem && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    const res = await execute(db, step);
    if (res.error) return `  unexpected error ${res.error.code}: ${res.error.message}`;
    problem = check(exp, res.results.at(-1)!);
  }
  return problem && `${problem}\n  (still different after polling)`;
}

function renderRows(r: StatementResult): string[][] {
  return (r.rows ?? []).map((row) => row.map((v, i) => displayValue(v, r.types?.[i]).trim()));
}

function cellMatches(expected: string, actual: string): boolean {
  if (expected === "<any>") return true;
  const re = /^<re:(.*)>$/.exec(expected);
  if (re) return new RegExp(`^(?:${re[1]})$`).test(actual);
  return expected === actual;
}

function rowMatches(expected: readonly string[], actual: readonly string[]): boolean {
  return expected.length === actual.length && expected.every((c, i) => cellMatches(c, actual[i]));
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, ...rows].map((r) => `    ${r.join(" | ")}`).join("\n");
}

function check(exp: Expectation, r: StatementResult): string | undefined {
  switch (exp.kind) {
    case "rows": {
      const header = (r.schema ?? []).map((c) => c.name);
      const rows = renderRows(r);
      let ok = rowMatches(exp.header, header) && rows.length === exp.rows.length;
      if (ok && exp.ordered) ok = exp.rows.every((e, i) => rowMatches(e, rows[i]));
      else if (ok) {
        const left = [...rows];
        for (const e of exp.rows) {
          const at = left.findIndex((a) => rowMatches(e, a));
          if (at < 0) {
            ok = false;
            break;
          }
          left.splice(at, 1);
        }
      }
      if (ok) return undefined;
      return `  rows differ${exp.ordered ? "" : " (unordered)"}\n  expected:\n${
        table(exp.header, exp.rows)
      }\n  actual:\n${table(header, rows)}`;
    }
    case "rowcount":
      return r.rowCount === exp.count
        ? undefined
        : `  expected rowCount ${exp.count}, got ${r.rowCount}`;
    case "includes": {
      const found = renderRows(r).some((row) => row.includes(exp.value));
      if (found !== exp.negate) return undefined;
      return `  expected the result ${exp.negate ? "not " : ""}to include a cell "${exp.value}"\n${
        table((r.schema ?? []).map((c) => c.name), renderRows(r))
      }`;
    }
    case "columnsExclude": {
      const bad = (r.schema ?? []).map((c) => c.name).filter((n) => exp.pattern.test(n));
      return bad.length === 0 ? undefined : `  columns ${bad.join(", ")} match ${exp.pattern}`;
    }
    case "error":
      return undefined; // handled before
  }
}
