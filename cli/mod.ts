// The CLI's door: `runCli(argv, { serve })` dispatches a command line and returns the exit
// status (0 ok, 1 a statement or the run failed, 2 usage or configuration error). The server is
// passed in by main.ts, so cli/ never imports server/ (imports point one way, DESIGN.md).

import { parseInvocation, UsageError } from "./args.ts";
import { runBatch } from "./batch.ts";
import { type Config, loadConfig } from "./config.ts";
import { helpText } from "./help.ts";
import { type BuildInfo, buildInfo, versionLine } from "./version.ts";
import { DbError } from "../errors.ts";
import { formatError } from "./format.ts";
import { runLogin, runLogout } from "./login.ts";

export { type Invocation, parseInvocation, UsageError } from "./args.ts";
export { type Config, DEFAULTS, loadConfig, parseConfigFile, resolveConfig } from "./config.ts";
export { type BuildInfo, buildInfo, VERSION, versionLine } from "./version.ts";
export { runBatch } from "./batch.ts";

/** Runs the server until it is asked to stop; supplied by main.ts. */
export type ServeFn = (config: Config, build: BuildInfo) => Promise<void>;

/**
 * Dispatches one command line.
 *
 * @example
 * Deno.exit(await runCli(Deno.args, { serve: (config, build) => runServer({ ... }) }));
 */
export async function runCli(
  argv: readonly string[],
  options: { serve: ServeFn },
): Promise<number> {
  try {
    const inv = parseInvocation(argv);
    switch (inv.kind) {
      case "help":
        console.log(helpText(inv.topic).trimEnd());
        return 0;
      case "version":
        console.log(versionLine(await buildInfo()));
        return 0;
      case "unavailable":
        console.error(`kalamdb: \`kalamdb ${inv.command}\` is not available yet in this build`);
        return 2;
      case "serve":
        await options.serve(await loadConfig(inv.flags), await buildInfo());
        return 0;
      case "batch":
        return await runBatch(inv.flags, await loadConfig(inv.flags));
      case "shell": {
        // Loaded on demand: batch runs and the server never pay for readline and the shell.
        const { runShellCommand } = await import("./shell_command.ts");
        return await runShellCommand(inv.flags, await loadConfig(inv.flags));
      }
      case "login":
        return await runLogin(inv.flags);
      case "export": {
        const { runExport } = await import("./export.ts");
        return await runExport(inv.flags, await loadConfig(inv.flags));
      }
      case "logout":
        return await runLogout(inv.flags);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`kalamdb: ${err.message}\nTry 'kalamdb --help' for more information.`);
      return 2;
    }
    if (err instanceof DbError) {
      console.error(formatError(err));
      return 1;
    }
    if (err instanceof Deno.errors.AddrInUse) {
      console.error(`kalamdb: cannot listen: address already in use (${err.message})`);
      return 1;
    }
    console.error(`kalamdb: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
