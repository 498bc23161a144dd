// Batch mode: `kalamdb --file F`, `kalamdb sql -f F`, `kalamdb sql -c SQL`. The whole input runs
// as one batch through `Database.execute`, results go to stdout, `ERROR …` lines to stderr.
//
// Decision: only embedded mode exists in this build. SPEC §1 says batch talks to a running
// server when --url is given or one answers on the default URL; the server's SQL API arrives
// with a later issue, so for now --url is refused (exit 2) and the default URL is not probed —
// the data directory is opened directly, and its lock tells the user when a server owns it.

import { Database } from "../storage/mod.ts";
import type { BatchResult, StatementResult } from "../storage/mod.ts";
import { DbError } from "../errors.ts";
import type { BatchFlags, OutputFormat } from "./args.ts";
import { UsageError } from "./args.ts";
import { type Config, reason } from "./config.ts";
import { formatCsv, formatError, formatJson, formatTable, type TableOptions } from "./format.ts";

/** Where batch output goes; tests pass collectors, `runBatch` defaults to the process streams. */
export interface BatchOutput {
  out(text: string): void;
  err(text: string): void;
  /** Terminal width when stdout is a TTY; undefined means "never truncate". */
  readonly width?: number;
}

/**
 * Runs the batch and returns the exit status: 0 success, 1 a statement (or opening the data
 * directory) failed. Usage problems (missing file, --url) throw `UsageError` (exit 2).
 *
 * @example
 * await runBatch({ sql: "SELECT 1;", asUser: "root", continueOnError: false, format: "table" }, config);
 */
export async function runBatch(
  flags: BatchFlags,
  config: Config,
  output: BatchOutput = processOutput(),
): Promise<number> {
  if (flags.url !== undefined) {
    throw new UsageError(
      "remote mode (--url) arrives with the server's SQL API in a later build; " +
        "omit --url to run against the data directory (embedded mode)",
    );
  }
  const sql = flags.sql ?? await readInput(flags.file ?? "-");
  let db: Database;
  try {
    db = await Database.open({ dataDir: config.dataDir, nodeId: config.nodeId });
  } catch (err) {
    output.err(errorLine(err));
    return 1;
  }
  try {
    const batch = await db.execute(sql, {
      user: flags.asUser,
      continueOnError: flags.continueOnError,
    });
    printBatch(batch, flags.format, output);
    return batch.error ? 1 : 0;
  } catch (err) {
    output.err(errorLine(err));
    return 1;
  } finally {
    await db.close();
  }
}

/**
 * Prints results in statement order with the error in its place: everything before the failing
 * statement first, then its ERROR line, then (with --continue-on-error) the rest.
 */
export function printBatch(batch: BatchResult, format: OutputFormat, output: BatchOutput): void {
  const failedAt = batch.error?.statement ?? Infinity;
  const render = (r: StatementResult) => renderResult(r, format, { maxWidth: output.width });
  let first = true;
  const emit = (r: StatementResult) => {
    const text = render(r);
    if (text === undefined) return;
    // Table blocks are separated by a blank line; JSON Lines and CSV blocks are not padded.
    output.out(first || format === "json" ? text : `\n${text}`);
    first = false;
  };
  batch.results.filter((r) => r.statement < failedAt).forEach(emit);
  if (batch.error) output.err(formatError(batch.error));
  batch.results.filter((r) => r.statement >= failedAt).forEach(emit);
}

/** One result in the chosen format; undefined when the format prints nothing for it. */
export function renderResult(
  result: StatementResult,
  format: OutputFormat,
  options: TableOptions = {},
): string | undefined {
  switch (format) {
    case "table":
      return formatTable(result, options);
    case "json":
      return formatJson(result);
    case "csv":
      return formatCsv(result);
  }
}

/** An ERROR line for anything thrown; embedded mode is the user's own process, so non-DbError
 * messages are shown as they are rather than hidden as on the HTTP API. */
function errorLine(err: unknown): string {
  if (err instanceof DbError) return formatError(err);
  return `ERROR INTERNAL_ERROR: ${err instanceof Error ? err.message : String(err)}`;
}

async function readInput(file: string): Promise<string> {
  try {
    if (file === "-") return await new Response(Deno.stdin.readable).text();
    return await Deno.readTextFile(file);
  } catch (err) {
    throw new UsageError(`cannot read SQL file ${file}: ${reason(err)}`);
  }
}

/** stdout/stderr of this process; the table width is the terminal's when stdout is a TTY. */
export function processOutput(): BatchOutput {
  let width: number | undefined;
  if (Deno.stdout.isTerminal()) {
    try {
      width = Deno.consoleSize().columns;
    } catch {
      width = undefined;
    }
  }
  return { out: (t) => console.log(t), err: (t) => console.error(t), width };
}
