// The one executable, `kalamdb` (SPEC §1): `deno run -A main.ts [command] [flags]`, or the
// binary built by `deno task compile`. It only wires the CLI to the server; all logic lives in
// cli/ and server/.

import { runCli } from "./cli/mod.ts";
import { runServer } from "./server/mod.ts";

if (import.meta.main) {
  const status = await runCli(Deno.args, {
    serve: (config, build) =>
      runServer({
        hostname: config.host,
        port: config.port,
        dataDir: config.dataDir,
        nodeId: config.nodeId,
        build,
        limits: config.server,
        jwtSecret: config.jwtSecret,
        rootPassword: config.rootPassword,
      }),
  });
  Deno.exit(status);
}
