// `kalamdb shell`: connects (cli/connect.ts) and hands the session to the shell.

import type { ShellFlags } from "./args.ts";
import type { Config } from "./config.ts";
import { connect } from "./connect.ts";
import { formatError } from "./format.ts";
import { asDbError } from "./remote.ts";
import type { Session } from "./session.ts";
import { runShell } from "./shell.ts";

export async function runShellCommand(flags: ShellFlags, config: Config): Promise<number> {
  let session: Session;
  try {
    session = await connect(flags, config);
  } catch (err) {
    if (err instanceof Error && err.name === "UsageError") throw err;
    console.error(formatError(asDbError(err)));
    return 1;
  }
  try {
    const color = !flags.noColor && Deno.env.get("NO_COLOR") === undefined &&
      Deno.stdout.isTerminal();
    return await runShell(session, { color, format: flags.format });
  } finally {
    await session.close();
  }
}
