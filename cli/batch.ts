// Batch mode: `kalamdb --file F`, `kalamdb sql -f F`, `kalamdb sql -c SQL`. The whole input runs
// as one batch through a session (cli/connect.ts: a server when --url says so or one answers on
// the default URL, else the data directory), results go to stdout, `ERROR …` lines to stderr —
// the same lines in both modes.

import type { BatchResult, StatementResult } from "../storage/mod.ts";
import { DbError } from "../errors.ts";
import type { BatchFlags, OutputFormat } from "./args.ts";
import { UsageError } from "./args.ts";
import { type Config, reason } from "./config.ts";
import { connect } from "./connect.ts";
import { formatCsv, formatError, formatJson, formatTable, type TableOptions } from "./format.ts";
import type { Session } from "./session.ts";

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
  const sql = flags.sql ?? await readInput(flags.file ?? "-");
  let session: Session;
  try {
    session = await connect(flags, config, (note) => output.err(note));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    output.err(errorLine(err));
    return 1;
  }
  try {
    const batch = await session.execute(sql, { continueOnError: flags.continueOnError });
    printBatch(batch, flags.format, output, sql);
    return batch.error ? 1 : 0;
  } catch (err) {
    output.err(errorLine(err));
    return 1;
  } finally {
    await session.close();
  }
}

/**
 * Prints results in statement order with the error in its place: everything before the failing
 * statement first, then its ERROR line, then (with --continue-on-error) the rest.
 */
export function printBatch(
  batch: BatchResult,
  format: OutputFormat,
  output: BatchOutput,
  /** The batch's text: an error with a position then shows its line with a caret. */
  sql?: string,
): void {
  const render = (r: StatementResult) => renderResult(r, format, { maxWidth: output.width });
  let first = true;
  const emit = (r: StatementResult) => {
    const text = render(r);
    if (text === undefined) return;
    // Table blocks are separated by a blank line; JSON Lines and CSV blocks are not padded.
    output.out(first || format === "json" ? text : `\n${text}`);
    first = false;
  };
  // Each error in its statement's place (more than one with --continue-on-error).
  const errors = batch.errors?.length ? batch.errors : batch.error ? [batch.error] : [];
  let next = 0;
  const errorsBefore = (statement: number) => {
    while (next < errors.length && (errors[next].statement ?? Infinity) < statement) {
      output.err(formatError(errors[next++], sql, { maxWidth: output.width }));
    }
  };
  for (const r of batch.results) {
    errorsBefore(r.statement);
    emit(r);
  }
  while (next < errors.length) {
    output.err(formatError(errors[next++], sql, { maxWidth: output.width }));
  }
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
