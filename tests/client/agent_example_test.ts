// The README's agent example (examples/agent/agent.ts) against a real server: three users
// write chat messages, the agent answers every one in the user's own partition, in the order the
// user wrote them, and a user sees only their own replies.

import { createClient } from "../../client/mod.ts";
import { AGENT_SCHEMA, runAgent } from "../../examples/mod.ts";
import { assert, assertEquals, startServer, until } from "../server/_server.ts";

const USERS = ["ann", "bob", "cy"];
const PER_USER = 12;

Deno.test("agent example: every user's messages answered once, in order, in their partition", async () => {
  const server = await startServer();
  const root = createClient({ url: server.url, auth: { user: "root", password: "" } });
  const clients = USERS.map((u) =>
    createClient({ url: server.url, auth: { user: u, password: `pw-${u}` } })
  );
  let agentDb = undefined as ReturnType<typeof createClient> | undefined;
  let stop: (() => Promise<void>) | undefined;
  try {
    await root.query(AGENT_SCHEMA);
    await root.query("CREATE USER agent WITH PASSWORD 'agent-pw' ROLE service");
    for (const u of USERS) await root.query(`CREATE USER ${u} WITH PASSWORD 'pw-${u}' ROLE user`);
    agentDb = createClient({ url: server.url, auth: { user: "agent", password: "agent-pw" } });
    // The agent answers slowly for bob: his messages still come one after another.
    stop = runAgent(agentDb, async (text) => {
      if (text.startsWith("bob")) await new Promise((r) => setTimeout(r, 5));
      return `re: ${text}`;
    });
    await Promise.all(clients.map(async (db, i) => {
      for (let n = 1; n <= PER_USER; n++) {
        await db.query("INSERT INTO chat.messages (content) VALUES ($1)", [`${USERS[i]} ${n}`]);
      }
    }));
    for (const [i, db] of clients.entries()) {
      const u = USERS[i];
      const rows = await until(
        async () => {
          const { rows } = await db.query(
            "SELECT r.content AS reply, m.content AS asked FROM chat.replies r " +
              "JOIN chat.messages m ON m.id = r.reply_to ORDER BY r._seq",
          );
          return rows.length === PER_USER ? rows : undefined;
        },
        `all of ${u}'s messages answered`,
        60_000,
      );
      // Answered in the order asked (reply order = _seq order of the replies).
      assertEquals(
        rows.map((r) => r.reply),
        Array.from({ length: PER_USER }, (_, n) => `re: ${u} ${n + 1}`),
      );
      assert(rows.every((r) => r.reply === `re: ${r.asked}`));
    }
    const groups = await root.query(
      "SELECT SUM(pending) AS p, SUM(lag) AS l FROM system.topic_groups WHERE topic = 'chat.to_agent'",
    );
    assertEquals([Number(groups.rows[0].p), Number(groups.rows[0].l)], [0, 0], "all acked");
  } finally {
    await stop?.();
    agentDb?.close();
    for (const c of clients) c.close();
    root.close();
    await server.stop();
  }
});
