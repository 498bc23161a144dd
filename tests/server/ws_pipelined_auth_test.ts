// A `subscribe` sent right behind `authenticate`, before its answer (the README's example does
// this): the token or password check is async, so the subscribe waits for it and then runs,
// instead of being refused with "Authenticate first" (found by scripts/reliability, issue 15).

import { assertEquals, startServer } from "./_server.ts";
import { LiveClient } from "./_live.ts";

Deno.test("ws: subscribe pipelined behind authenticate (token and password) is served in order", async () => {
  const server = await startServer();
  try {
    await server.root(`CREATE NAMESPACE app;
      CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
      CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT);`);
    const token = (await server.token("alice", "alice-pw")).replace(/^Bearer /, "");
    for (const auth of [{ token }, { user: "alice", password: "alice-pw" }]) {
      const c = await LiveClient.open(server.url);
      c.send({ type: "authenticate", ...auth });
      c.send({ type: "subscribe", id: "a", sql: "SELECT id FROM app.notes" });
      c.send({ type: "subscribe", id: "b", sql: "SELECT v FROM app.notes" });
      const acks = await c.collect("a", "subscription_ack", 1);
      await c.collect("b", "subscription_ack", 1);
      assertEquals(acks.length, 1);
      assertEquals(c.messages[0].type, "auth_success", JSON.stringify(c.messages[0]));
      assertEquals(
        c.messages.filter((m) => m.type === "subscription_ack").map((m) => m.id),
        ["a", "b"],
      );
      await c.close();
    }
    // Wrong credentials: the held subscribe is dropped with the socket, nothing else is said.
    const bad = await LiveClient.open(server.url);
    bad.send({ type: "authenticate", user: "alice", password: "nope" });
    bad.send({ type: "subscribe", id: "a", sql: "SELECT id FROM app.notes" });
    await bad.closed();
    assertEquals(bad.messages.map((m) => m.type), ["auth_error"]);
  } finally {
    await server.stop();
  }
});
