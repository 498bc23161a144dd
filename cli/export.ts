// `kalamdb export [--user NAME] [-o FILE]` (SPEC §9): runs `EXPORT USER DATA` (as NAME through
// `EXECUTE AS USER` when NAME is not the session's user), polls `SHOW EXPORTS` until the job has
// written the zip, then streams it (remote: GET download_url; embedded: the file in the data
// directory) into FILE (default `<user>-<export_id>.zip`). Exit 0 when the zip is written.
//
// Decision: what the user sees goes through an `ExportReport` — notes as lines of their own
// (what scripts read) and, only on a terminal, one progress line redrawn in place (`\r`, clear
// to end of line) and ended with a newline. `kalamdb export` draws it on stderr; the shell's
// `\export` on its own output.

import { DbError } from "../errors.ts";
import { type ExportFlags, UsageError } from "./args.ts";
import type { Config } from "./config.ts";
import { connect } from "./connect.ts";
import { formatError } from "./format.ts";
import type { Session } from "./session.ts";

const POLL_MS = 100;
/** The progress line is redrawn at most this often (a download reports every chunk). */
const REDRAW_MS = 100;

/** Where an export tells the user how it goes. */
export interface ExportReport {
  /** A line of its own (ends an open progress line first). */
  note(text: string): void;
  /** Replaces the progress line; does nothing when not on a terminal. */
  progress(text: string): void;
  /** Ends the progress line, if one is shown, with its latest text and a newline. */
  end(): void;
}

/**
 * Notes through `note`; the progress line through `draw` (raw text, no newline added) when it
 * is given — pass it only for a terminal. `now` is the clock of the redraw throttle.
 *
 * @example
 * const draw = Deno.stderr.isTerminal() ? (raw: string) => void writeStderr(raw) : undefined;
 * const report = exportReport(console.error, { draw });
 */
export function exportReport(
  note: (text: string) => void,
  options: { draw?: (raw: string) => void; now?: () => number } = {},
): ExportReport {
  const { draw, now = Date.now } = options;
  let shown: string | undefined; // the text on the screen
  let latest: string | undefined; // the newest text (not drawn yet when throttled)
  let drawnAt = -Infinity;
  const redraw = () => {
    if (latest === undefined || latest === shown || !draw) return;
    draw(`\r${latest}\x1b[K`);
    shown = latest;
    drawnAt = now();
  };
  const end = () => {
    redraw();
    if (shown !== undefined) draw!("\n");
    shown = latest = undefined;
  };
  return {
    note(text) {
      end();
      note(text);
    },
    progress(text) {
      if (!draw) return;
      latest = text;
      if (now() - drawnAt >= REDRAW_MS) redraw();
    },
    end,
  };
}

/** Where `runExport` writes: the result line, the notes and errors, and the progress line. */
export interface ExportOutput {
  out(text: string): void;
  err(text: string): void;
  /** Raw progress text for a terminal; absent when stderr is not one. */
  draw?(raw: string): void;
}

function stderrOutput(): ExportOutput {
  const encoder = new TextEncoder();
  return {
    out: (t) => console.log(t),
    err: (t) => console.error(t),
    draw: Deno.stderr.isTerminal()
      ? (raw) => writeAll(Deno.stderr, encoder.encode(raw))
      : undefined,
  };
}

function writeAll(to: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += to.writeSync(bytes.subarray(at));
}

export async function runExport(
  flags: ExportFlags,
  config: Config,
  output: ExportOutput = stderrOutput(),
): Promise<number> {
  let session: Session;
  try {
    session = await connect(flags, config, (note) => output.err(note));
  } catch (err) {
    if (err instanceof UsageError) throw err; // exit status 2
    output.err(err instanceof DbError ? formatError(err) : String(err));
    return 1;
  }
  // Ctrl-C stops the wait or the download (the temporary file is removed); the job goes on.
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  Deno.addSignalListener("SIGINT", interrupt);
  try {
    const user = flags.exportUser ?? session.info.user;
    const draw = output.draw?.bind(output);
    const report = exportReport((note) => output.err(note), { draw });
    const signal = stop.signal;
    output.out(await exportToFile(session, { user, output: flags.output, report, signal }));
    return 0;
  } catch (err) {
    if (stop.signal.aborted) {
      output.err("kalamdb: export interrupted; nothing was written");
      return 130;
    }
    output.err(err instanceof DbError ? formatError(err) : `kalamdb: ${String(err)}`);
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", interrupt);
    await session.close();
  }
}

export interface ExportOptions {
  /** Whose data. */
  readonly user: string;
  /** The zip to write; default `<user>-<export_id>.zip`. */
  readonly output?: string;
  readonly report: ExportReport;
  /** How long to wait for the job; default a day (Ctrl-C stops it sooner). */
  readonly timeoutMs?: number;
  /** Stops waiting or downloading (rejects with its reason; no file is left). */
  readonly signal?: AbortSignal;
}

/**
 * Exports a user's data through the session into a zip; returns the line to print. Also the
 * shell's `\export`. The zip is streamed into a temporary file (0600) beside the target and
 * renamed over it when complete, so a failed or short download never leaves a half zip under
 * the final name, and the temporary file is removed.
 *
 * @example
 * console.log(await exportToFile(session, { user: "alice", report: exportReport(console.error) }));
 */
export async function exportToFile(session: Session, options: ExportOptions): Promise<string> {
  const { user, report, signal, timeoutMs = 24 * 3600_000 } = options;
  const as = (sql: string) =>
    user === session.info.user ? sql : `EXECUTE AS USER '${user.replaceAll("'", "''")}' (${sql})`;
  const { exportId, url } = await startExport(session, as("EXPORT USER DATA"));
  report.note(`Export ${exportId} of ${user} queued; waiting for it to be written…`);
  const file = options.output ?? `${user.replace(/[^A-Za-z0-9_.-]/g, "_")}-${exportId}.zip`;
  const tmp = `${file}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  let bytes: number;
  try {
    const started = Date.now();
    await untilWritten(session, as("SHOW EXPORTS"), exportId, { timeoutMs, signal }, (status) => {
      const seconds = Math.floor((Date.now() - started) / 1000);
      report.progress(`Export ${exportId}: ${status}, ${seconds} s`);
    });
    try {
      bytes = await session.download(url, tmp, {
        progress: (n, total) => {
          report.progress(
            `Downloading ${size(n)}${total === undefined ? "" : ` / ${size(total)}`}`,
          );
        },
        signal,
      });
      await Deno.rename(tmp, file);
    } catch (err) {
      await Deno.remove(tmp).catch(() => {}); // not created, or already gone
      throw err;
    }
  } finally {
    report.end();
  }
  return `Wrote ${file} (${bytes} bytes)`;
}

/** `12.3 MB`: decimal units, one decimal from kB on. */
export function size(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

async function startExport(session: Session, sql: string) {
  const r = await session.execute(sql);
  if (r.error) throw r.error;
  const row = r.results[0]?.rows?.[0];
  if (!row) throw new DbError("INTERNAL_ERROR", "EXPORT USER DATA returned no row");
  return { exportId: String(row[0]), url: String(row[3]) };
}

async function untilWritten(
  session: Session,
  show: string,
  exportId: string,
  options: { timeoutMs: number; signal?: AbortSignal },
  progress: (status: string) => void,
) {
  const { timeoutMs, signal } = options;
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const r = await session.execute(show, { signal });
    signal?.throwIfAborted();
    if (r.error) throw r.error;
    const row = r.results[0]?.rows?.find((x) => x[0] === exportId);
    const status = row ? String(row[2]) : "missing";
    if (status === "completed") return;
    progress(status);
    if (status === "failed" || status === "cancelled" || status === "missing") {
      throw new DbError("INTERNAL_ERROR", `Export ${exportId} ${status}`);
    }
    if (Date.now() > deadline) {
      throw new DbError("QUERY_TIMEOUT", `Export ${exportId} not written within ${timeoutMs} ms`);
    }
    await pause(POLL_MS, signal);
  }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
    };
    const abort = () => {
      done();
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal?.addEventListener("abort", abort, { once: true });
  });
}
