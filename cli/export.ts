// `kalamdb export [--user NAME] [-o FILE]` (SPEC §9): runs `EXPORT USER DATA` (as NAME through
// `EXECUTE AS USER` when NAME is not the session's user), polls `SHOW EXPORTS` until the job has
// written the zip, then downloads it (remote: GET download_url; embedded: the file in the data
// directory) to FILE (default `<user>-<export_id>.zip`). Exit 0 when the zip is written.

import { DbError } from "../errors.ts";
import { type ExportFlags, UsageError } from "./args.ts";
import type { Config } from "./config.ts";
import { connect } from "./connect.ts";
import { formatError } from "./format.ts";
import type { Session } from "./session.ts";

const POLL_MS = 100;

export async function runExport(
  flags: ExportFlags,
  config: Config,
  output: { out(text: string): void; err(text: string): void } = {
    out: (t) => console.log(t),
    err: (t) => console.error(t),
  },
): Promise<number> {
  let session: Session;
  try {
    session = await connect(flags, config, (note) => output.err(note));
  } catch (err) {
    if (err instanceof UsageError) throw err; // exit status 2
    output.err(err instanceof DbError ? formatError(err) : String(err));
    return 1;
  }
  try {
    const user = flags.exportUser ?? session.info.user;
    output.out(await exportToFile(session, user, flags.output, (note) => output.err(note)));
    return 0;
  } catch (err) {
    output.err(err instanceof DbError ? formatError(err) : `kalamdb: ${String(err)}`);
    return 1;
  } finally {
    await session.close();
  }
}

/**
 * Exports `user`'s data through the session into `output` (default `<user>-<export_id>.zip`);
 * returns the line to print. Also the shell's `\export`.
 */
export async function exportToFile(
  session: Session,
  user: string,
  output: string | undefined,
  note: (text: string) => void,
  timeoutMs = 10 * 60_000,
): Promise<string> {
  const as = (sql: string) =>
    user === session.info.user ? sql : `EXECUTE AS USER '${user.replaceAll("'", "''")}' (${sql})`;
  const { exportId, url } = await startExport(session, as("EXPORT USER DATA"));
  note(`Export ${exportId} of ${user} queued; waiting for it to be written…`);
  await untilWritten(session, as("SHOW EXPORTS"), exportId, timeoutMs);
  const bytes = await session.download(url);
  const file = output ?? `${user.replace(/[^A-Za-z0-9_.-]/g, "_")}-${exportId}.zip`;
  // Temp file + rename: an interrupted download never leaves a half zip under the final name.
  const tmp = `${file}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeFile(tmp, bytes, { mode: 0o600 });
  await Deno.rename(tmp, file);
  return `Wrote ${file} (${bytes.length} bytes)`;
}

async function startExport(session: Session, sql: string) {
  const r = await session.execute(sql);
  if (r.error) throw r.error;
  const row = r.results[0]?.rows?.[0];
  if (!row) throw new DbError("INTERNAL_ERROR", "EXPORT USER DATA returned no row");
  return { exportId: String(row[0]), url: String(row[3]) };
}

async function untilWritten(session: Session, show: string, exportId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const r = await session.execute(show);
    if (r.error) throw r.error;
    const row = r.results[0]?.rows?.find((x) => x[0] === exportId);
    const status = row ? String(row[2]) : "missing";
    if (status === "completed") return;
    if (status === "failed" || status === "cancelled" || status === "missing") {
      throw new DbError("INTERNAL_ERROR", `Export ${exportId} ${status}`);
    }
    if (Date.now() > deadline) {
      throw new DbError("QUERY_TIMEOUT", `Export ${exportId} not written within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
