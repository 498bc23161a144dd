// `deno task example`: builds the client bundle, starts a KalamDB server on loopback with the chat
// schema, users alice/bob and a few rooms, and serves the chat page. Ctrl-C / SIGTERM stops the
// server child (by its pid) and exits.
//
//   deno task example [--port 8080] [--api-port 2900] [--data ./data-chat]

import { parseArgs } from "node:util";
import { startChat, USERS } from "./mod.ts";

export { startChat } from "./mod.ts";
export type { Chat, ChatOptions } from "./mod.ts";

const HELP = `Usage: deno task example [flags]

Flags:
  --port PORT      the chat page's port on 127.0.0.1 (default 8080; 0 = any free port)
  --api-port PORT  the KalamDB server's port on 127.0.0.1 (default 2900; 0 = any free port)
  --data DIR       the server's data directory (default ./data-chat; kept between runs)
  -h, --help       show this help`;

function port(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag}: not a port: ${text}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "8080" },
      "api-port": { type: "string", default: "2900" },
      data: { type: "string", default: "./data-chat" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const chat = await startChat({
    dataDir: values.data,
    port: port(values.port, "--port"),
    apiPort: port(values["api-port"], "--api-port"),
    log: (line) => console.log(line),
  });
  console.log(`\nKalamDB API: ${chat.apiUrl}`);
  console.log(`Chat page:   ${chat.pageUrl}`);
  console.log(`Users: ${Object.entries(USERS).map(([u, p]) => `${u} / ${p}`).join(", ")}`);
  console.log("Ctrl-C stops both.");
  const done = Promise.withResolvers<Deno.Signal>();
  const onSignal = (signal: Deno.Signal) => () => done.resolve(signal);
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  const signal = await done.promise;
  for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  console.log(`\n${signal}: stopping kalamdb (pid ${chat.apiPid})`);
  const out = await chat.stop();
  if (out.code !== 0) console.error(out.stderr);
  Deno.exit(out.code === 0 ? 0 : 1);
}

if (import.meta.main) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    Deno.exit(1);
  });
}
