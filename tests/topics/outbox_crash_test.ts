// The outbox across SIGKILL (SPEC §10): concurrent writers insert into a USER source table as
// several users while the server is SIGKILLed, twice; after restarting on the same data dir
// every acknowledged row is there with exactly one message, and there is no message without its
// row and no row without its message (in-flight writes at the kill may have gone either way, but
// both together). Per user the messages are in insert order and each partition's offsets run
// 0, 1, 2, … without a gap. The kill is awaited on acked writes, never on a timer.

import {
  ack,
  assert,
  assertEquals,
  consume,
  drain,
  type Msg,
  objects,
  publishAll,
  publishSql,
  ROOT,
  startServer,
  type TestServer,
  until,
} from "./_topics.ts";

const WRITERS = 6;
const ROUNDS = 2;
/** Acknowledged inserts per round before the kill. */
const PER_ROUND = 120;

interface Writes {
  acked: Map<string, Set<number>>; // user → acknowledged ids
  count: number;
}

/** One writer: inserts 1 or 2 rows per request as `user` until a request fails (the kill). */
async function writer(
  server: TestServer,
  user: string,
  base: number,
  writes: Writes,
  stop: () => boolean,
): Promise<void> {
  for (let i = 0; !stop(); i += 2) {
    const ids = i % 4 === 0 ? [base + i] : [base + i, base + i + 1];
    const values = ids.map((id) => `(${id}, 'note ${id} of ${user}')`).join(", ");
    try {
      const r = await server.sql(
        `EXECUTE AS USER '${user}' (INSERT INTO app.notes (id, body) VALUES ${values})`,
        { auth: ROOT },
      );
      const ok = r.status === 200 && r.body?.status === "success";
      if (!ok) throw new Error(`${user} insert: HTTP ${r.status} ${r.text}`);
    } catch (err) {
      // The kill: a refused or reset connection ends this writer; its outcome is unknown.
      if (err instanceof TypeError) return;
      throw err;
    }
    for (const id of ids) writes.acked.get(user)!.add(id);
    writes.count += ids.length;
  }
}

async function verify(server: TestServer, users: string[], writes: Writes): Promise<Msg[]> {
  const rowsOf = new Map<string, Set<number>>();
  for (const u of users) {
    const r = await server.sql(`EXECUTE AS USER '${u}' (SELECT id FROM app.notes ORDER BY id)`, {
      auth: ROOT,
    });
    rowsOf.set(u, new Set(objects(r).map((o) => Number(o.id))));
  }
  // A fresh group each time reads the whole log from the start.
  const msgs = await drain(server, "app.notes_out", `audit-${crypto.randomUUID()}`);
  const msgIds = new Map<string, number[]>();
  for (const m of msgs) {
    assertEquals([m.op, m.key], ["insert", m.user], `message ${m.partition}:${m.offset}`);
    assert(users.includes(m.user!), `user of ${JSON.stringify(m)}`);
    assertEquals(m.payload.body, `note ${m.payload.id} of ${m.user}`);
    msgIds.set(m.user!, [...msgIds.get(m.user!) ?? [], Number(m.payload.id)]);
  }
  for (const u of users) {
    const rowIds = rowsOf.get(u)!;
    const ids = msgIds.get(u) ?? [];
    const lost = [...writes.acked.get(u)!].filter((id) => !rowIds.has(id));
    assertEquals(lost, [], `${u}: acknowledged rows lost after SIGKILL`);
    assertEquals(ids.length, new Set(ids).size, `${u}: a row published twice`);
    assertEquals(
      [...rowIds].filter((id) => !ids.includes(id)),
      [],
      `${u}: rows without their message`,
    );
    assertEquals(ids.filter((id) => !rowIds.has(id)), [], `${u}: messages without their row`);
  }
  // Per user (key) the log is in insert order; per partition offsets are contiguous from 0.
  const byPartition = new Map<number, number[]>();
  for (const m of msgs) {
    byPartition.set(m.partition, [...byPartition.get(m.partition) ?? [], m.offset]);
  }
  for (const [p, offs] of byPartition) {
    assertEquals(
      [...offs].sort((a, b) => a - b),
      offs.map((_, i) => i),
      `partition ${p} offsets`,
    );
  }
  for (const u of users) {
    const mine = msgs.filter((m) => m.user === u).sort((a, b) => a.offset - b.offset);
    const parts = new Set(mine.map((m) => m.partition));
    assert(parts.size <= 1, `${u}: one key, one partition (also across restarts): ${[...parts]}`);
    const ids = mine.map((m) => Number(m.payload.id));
    assertEquals(ids, [...ids].sort((a, b) => a - b), `${u}: messages in insert order`);
  }
  return msgs;
}

Deno.test("topics: outbox keeps row and message together across SIGKILLs of the server", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "kalamdb-topics-crash-" });
  const users = Array.from({ length: WRITERS }, (_, i) => `w${i}`);
  const writes: Writes = { acked: new Map(users.map((u) => [u, new Set()])), count: 0 };
  let server: TestServer | undefined;
  try {
    const first = await startServer({}, { dataDir });
    server = first;
    await first.root(`CREATE NAMESPACE app;
      ${users.map((u) => `CREATE USER ${u} WITH PASSWORD '${u}-password' ROLE user;`).join("\n")}
      CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT);
      CREATE TOPIC app.notes_out PARTITIONS 4;
      ALTER TOPIC app.notes_out ADD SOURCE app.notes ON INSERT;
      CREATE TOPIC app.claims PARTITIONS 2 WITH (VISIBILITY_TIMEOUT_SECONDS = 1)`);
    // Claims survive the kill too: three claimed and not acked, one acked before it.
    await publishAll(
      first,
      ["a", "b", "c", "d"].map((k) => publishSql("app.claims", { k }, { key: k })),
    );
    const claimed = await consume(first, "app.claims", "g", { limit: 10 });
    assertEquals(claimed.map((m) => m.payload.k).sort(), ["a", "b", "c", "d"]);
    assertEquals(await ack(first, "app.claims", "g", claimed.filter((m) => m.key === "d")), 1);
    for (let round = 0; round < ROUNDS; round++) {
      const live = round === 0 ? first : await startServer({}, { dataDir });
      server = live;
      let killed = false;
      const target = writes.count + PER_ROUND;
      const running = users.map((u, w) =>
        writer(live, u, (round + 1) * 1_000_000 + w * 10_000, writes, () => killed)
      );
      await until(
        () => writes.count >= target,
        `round ${round}: ${PER_ROUND} acked inserts`,
        60_000,
      );
      Deno.kill(live.pid, "SIGKILL");
      killed = true;
      await Promise.all(running);
      const out = await live.stop(); // only collects the exit: the child is already dead
      assert(out.code !== 0, `round ${round}: the server was killed, exit ${out.code}`);
      server = undefined;
    }
    server = await startServer({}, { dataDir });
    const before = await verify(server, users, writes);
    const again = await consume(server, "app.claims", "g", { limit: 10, wait: 5000 });
    assertEquals(
      again.map((m) => [m.key, m.delivery_count]).sort(),
      [["a", 2], ["b", 2], ["c", 2]],
      "unacked claims redelivered after restart, the acked one not",
    );
    assertEquals(await ack(server, "app.claims", "g", again), 3);
    assert(before.length >= ROUNDS * PER_ROUND, `messages: ${before.length}`);
    // The restarted server goes on publishing at the next offsets.
    await server.root(
      "EXECUTE AS USER 'w0' (INSERT INTO app.notes (id, body) VALUES (99000000, 'note 99000000 of w0'))",
    );
    writes.acked.get("w0")!.add(99_000_000);
    const after = await verify(server, users, writes);
    console.log(
      `outbox crash: ${writes.count} acked rows, ${after.length} messages after ${ROUNDS} SIGKILLs`,
    );
    assertEquals(after.length, before.length + 1);
    const out = await server.stop();
    server = undefined;
    assertEquals(out.code, 0, `graceful exit after recovery; stderr:\n${out.stderr}`);
  } finally {
    if (server) await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
