// An AI agent as a topic consumer (README, Topics): every user's chat messages reach one
// worker group through a topic sourced by a USER table; the agent answers each user in that
// user's own partition with EXECUTE AS USER. Per-key order (the key of a USER-table message is
// its user) means one user's messages are answered one after another, while different users are
// answered in parallel. Delivery is at least once, so the answer is written idempotently: its
// primary key is the message it answers, and a second answer is a UNIQUE_VIOLATION, i.e. done.
//
//   deno run -A examples/agent/agent.ts --url http://127.0.0.1:2900 --user agent --password …

import { parseArgs } from "node:util";
import { createClient, type KalamClient, KalamError, type TopicMessage } from "../../client/mod.ts";

/** The schema the agent works on (run once, as a dba or root). */
export const AGENT_SCHEMA = `
CREATE NAMESPACE IF NOT EXISTS chat;
CREATE USER TABLE IF NOT EXISTS chat.messages (
  id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
  content TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT NOW());
CREATE USER TABLE IF NOT EXISTS chat.replies (
  reply_to BIGINT PRIMARY KEY,
  content TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT NOW());
CREATE TOPIC IF NOT EXISTS chat.to_agent PARTITIONS 4 WITH (
  VISIBILITY_TIMEOUT_SECONDS = 60, MAX_DELIVERIES = 5, DEAD_LETTER = 'chat.agent_failed');
ALTER TOPIC chat.to_agent ADD SOURCE chat.messages ON INSERT;
`;

/** Stands in for the model call: replace with your LLM client. */
export function answer(text: string): Promise<string> {
  return Promise.resolve(`You said: ${text}`);
}

type ChatMessage = { id: string; content: string };

/** Starts the agent; resolves with a function that stops it. */
export function runAgent(
  db: KalamClient,
  reply: (text: string) => Promise<string> = answer,
): () => Promise<void> {
  const worker = db.consume<ChatMessage>(
    { topic: "chat.to_agent", group: "agents", consumer: "agent-1", maxInFlight: 32 },
    async (m: TopicMessage<ChatMessage>) => {
      const text = await reply(m.payload.content);
      const user = m.user!.replaceAll("'", "''");
      try {
        await db.query(
          `EXECUTE AS USER '${user}' (INSERT INTO chat.replies (reply_to, content) VALUES ($1, $2))`,
          [BigInt(m.payload.id), text],
        );
      } catch (err) {
        // Answered before (a redelivery after a lost ack): nothing more to do.
        if (!(err instanceof KalamError && err.code === "UNIQUE_VIOLATION")) throw err;
      }
    },
  );
  return async () => {
    worker.stop();
    await worker.done;
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: "http://127.0.0.1:2900" },
      user: { type: "string", default: "agent" },
      password: { type: "string", default: Deno.env.get("KALAMDB_PASSWORD") ?? "" },
    },
  });
  const db = createClient({
    url: values.url,
    auth: { user: values.user, password: values.password },
  });
  const stop = runAgent(db);
  console.log(`agent consuming chat.to_agent on ${values.url} as ${values.user} — Ctrl-C to stop`);
  Deno.addSignalListener("SIGINT", async () => {
    await stop();
    db.close();
    Deno.exit(0);
  });
}
