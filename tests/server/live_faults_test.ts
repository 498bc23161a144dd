// Live queries when something goes wrong (issue 10, items 2 and 3), end to end: a subscription
// whose filter throws on a row is ended with an `error` message while every other subscription
// gets every change; and `snapshot_seq` is a committed position even while writers are in flight,
// so a client that resumes from it right after the ack loses nothing and gets nothing twice.

import { assert, assertEquals, basic, startServer, type TestServer, until } from "./_server.ts";
import { LiveClient, type Msg } from "./_live.ts";

const BOB = basic("bob", "bob-pw");
const ALICE = basic("alice", "alice-pw");

async function setup(server: TestServer): Promise<void> {
  await server.root(`CREATE NAMESPACE app;
    CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
    CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;
    CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
    CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT)`);
}

Deno.test("live: a subscription whose filter throws ends with an error; the others get every change", async () => {
  const server = await startServer();
  try {
    await setup(server);
    const bob = await LiveClient.open(server.url, BOB);
    const alice = await LiveClient.open(server.url, ALICE);
    const anon = await LiveClient.open(server.url);
    anon.send({ type: "authenticate" });
    await anon.next((m) => m.type === "auth_success");
    const ok = async (c: LiveClient, id: string, sql: string) =>
      assertEquals((await c.subscribe(id, sql)).ack.type, "subscription_ack", sql);
    // Interleaved, so failing ones sit between working ones in the delivery order.
    await ok(bob, "all", "SELECT * FROM app.t");
    await ok(alice, "like", "SELECT id FROM app.t WHERE v LIKE 'x-%'");
    await ok(anon, "cast", "SELECT id FROM app.t WHERE CAST(v AS INT) = 5");
    await ok(alice, "div", "SELECT id FROM app.t WHERE 10 / (id - id) = 1");
    await ok(bob, "pos", "SELECT id, v FROM app.t WHERE id > 0");
    await ok(anon, "anon_all", "SELECT id FROM app.t");
    await server.root("INSERT INTO app.t (id, v) VALUES (1, 'x-1')");
    await server.root(
      "INSERT INTO app.t (id, v) VALUES (2, '5'); UPDATE app.t SET v = 'y' WHERE id = 1",
    );
    const castError = await anon.next((m) => m.id === "cast" && m.type === "error");
    assertEquals(castError.code, "TYPE_MISMATCH");
    assert(/stopped/.test(castError.message), castError.message);
    const divError = await alice.next((m) => m.id === "div" && m.type === "error");
    assertEquals(divError.code, "INVALID_PARAMETER");
    const changes = (c: LiveClient, id: string, n: number) =>
      c.collect(id, "change", n).then((all) =>
        all.map((m: Msg) =>
          `${m.op}:${(m.op === "delete" ? m.old_rows : m.rows).map((r: Msg) => r.id)}`
        )
      );
    assertEquals(await changes(bob, "all", 3), ["insert:1", "insert:2", "update:1"]);
    assertEquals(await changes(bob, "pos", 3), ["insert:1", "insert:2", "update:1"]);
    assertEquals(await changes(anon, "anon_all", 3), ["insert:1", "insert:2", "update:1"]);
    assertEquals(await changes(alice, "like", 2), ["insert:1", "delete:1"]);
    // The failed subscriptions are gone (no further messages, not listed) and say nothing else.
    await Promise.all([bob.roundTrip(), alice.roundTrip(), anon.roundTrip()]);
    assertEquals(anon.of("cast", "change"), []);
    assertEquals(alice.of("div", "change"), []);
    const listed = await server.root("SELECT query FROM system.live_queries ORDER BY query");
    const queries = listed.body.results[0].rows.map((r: string[]) => r[0]);
    assertEquals(queries.length, 4, JSON.stringify(queries));
    assert(!queries.some((q: string) => /CAST|10 \//.test(q)), JSON.stringify(queries));
    // A filter that throws on the snapshot registers nothing and says why.
    const late = await anon.subscribe("late", "SELECT id FROM app.t WHERE CAST(v AS INT) = 5");
    assertEquals([late.ack.type, late.ack.code], ["error", "TYPE_MISMATCH"]);
    for (const c of [bob, alice, anon]) await c.close();
  } finally {
    await server.stop();
  }
});

Deno.test("live: snapshot_seq is a committed position under 4 concurrent writers; resuming from it loses nothing", async () => {
  const server = await startServer();
  try {
    await setup(server);
    const WRITERS = 4, EACH = 60, ROUNDS = 4;
    const total = WRITERS * EACH;
    let written = 0;
    const writers = Array.from({ length: WRITERS }, (_, w) =>
      (async () => {
        for (let i = 0; i < EACH; i++) {
          const id = w * EACH + i + 1;
          const r = await server.sql(`INSERT INTO app.notes (id, v) VALUES (${id}, 'w${w}')`, {
            auth: ALICE,
          });
          assertEquals(r.status, 200, r.text);
          written++;
        }
      })());
    const done = Promise.all(writers);
    const sql = "SELECT id FROM app.notes";
    for (let round = 0; round < ROUNDS; round++) {
      // Subscribe while writes are in flight, take the snapshot, then drop the socket at once.
      const due = ((round + 1) * total) / (ROUNDS + 1);
      await until(() => written >= due, `${due} rows written`, 30_000, 0);
      const first = await LiveClient.open(server.url, ALICE);
      const { ack, rows } = await first.subscribe("n", sql);
      const snapshotSeq = BigInt(ack.snapshot_seq);
      await first.roundTrip();
      for (const c of first.of("n", "change")) {
        assert(BigInt(c.seq) > snapshotSeq, `change ${c.seq} ≤ snapshot_seq ${snapshotSeq}`);
      }
      await first.close();
      // Resume from the ack's snapshot_seq: snapshot + replay + live = every row exactly once.
      const again = await LiveClient.open(server.url, ALICE);
      const resumed = await again.subscribe("n", sql, { from_seq: ack.snapshot_seq });
      assertEquals(resumed.ack.resumed, true);
      const ids = () => [
        ...rows.map((r) => Number(r.id)),
        ...again.of("n", "change").flatMap((c) => c.rows.map((r: Msg) => Number(r.id))),
      ];
      if (round === ROUNDS - 1) await done;
      const target = round === ROUNDS - 1 ? total : written;
      await until(async () => {
        await again.roundTrip();
        return ids().length >= target;
      }, `round ${round}: ${target} rows`);
      const seen = ids();
      assertEquals(new Set(seen).size, seen.length, `round ${round}: a row came twice`);
      assert(seen.length >= target, `round ${round}: ${seen.length} of ${target} rows`);
      for (const c of again.of("n", "change")) {
        assert(BigInt(c.seq) > snapshotSeq, `replayed ${c.seq} ≤ from_seq ${snapshotSeq}`);
      }
      await again.close();
    }
  } finally {
    await server.stop();
  }
});
