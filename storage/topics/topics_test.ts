// Topic semantics on an embedded database: retention trims only what every group has acked or
// what outlived RETENTION_SECONDS; offsets are never reused after a trim or a CLEAR; a trimmed
// MESSAGE_ID may be published again; a rolled-back source write publishes nothing; a source's
// filter and payload modes; per-key order with redelivery.

import { Database } from "../mod.ts";
import { assert, assertEquals, until, withDatabase } from "../../tests/_util.ts";

type Rows = unknown[][];

async function q(db: Database, sql: string): Promise<Rows> {
  const r = await db.execute(sql);
  if (r.error) throw new Error(`${r.error.code}: ${r.error.message} in ${sql}`);
  return (r.results.at(-1)?.rows ?? []) as Rows;
}

async function kept(db: Database, topic: string): Promise<number> {
  const rows = await q(
    db,
    `SELECT messages FROM system.topics WHERE namespace || '.' || topic_name = '${topic}'`,
  );
  return Number(rows[0][0]);
}

async function publish(db: Database, topic: string, n: number, extra = ""): Promise<void> {
  for (let i = 0; i < n; i++) await q(db, `PUBLISH TO ${topic} ${extra} PAYLOAD '{"i":${i}}'`);
}

const offsets = (rows: Rows) => rows.map((r) => Number(r[2]));

/** Consumes and acks batch after batch (per-key order hands one message per key at a time). */
async function drain(db: Database, topic: string, group: string): Promise<Rows> {
  const all: Rows = [];
  while (true) {
    const rows = await q(db, `CONSUME FROM ${topic} GROUP '${group}'`);
    if (rows.length === 0) return all.sort((a, b) => Number(a[2]) - Number(b[2]));
    all.push(...rows);
    await q(db, `ACK ${topic} GROUP '${group}' OFFSETS (${rows.map((r) => `${r[1]}:${r[2]}`)})`);
  }
}

Deno.test("topic retention: acked-by-all and expired messages go, unacked ones stay", async () => {
  await withDatabase(async (db) => {
    await q(db, "CREATE NAMESPACE app; CREATE TOPIC app.t WITH (RETENTION_SECONDS = 3600)");
    await publish(db, "app.t", 10);
    // Without any group nothing counts as acked: only the retention would trim.
    await db.hooks.runJob({ type: "trim-topics" });
    assertEquals(await kept(db, "app.t"), 10);

    assertEquals(offsets(await q(db, "CONSUME FROM app.t GROUP 'g' LIMIT 5")), [0, 1, 2, 3, 4]);
    await q(db, "ACK app.t GROUP 'g' OFFSETS (0:0, 0:1, 0:3)");
    await q(db, "CONSUME FROM app.t GROUP 'h' LIMIT 1"); // h holds offset 0
    await db.hooks.runJob({ type: "trim-topics" });
    assertEquals(await kept(db, "app.t"), 10, "h has acked nothing: everything stays");

    await q(db, "ACK app.t GROUP 'h' OFFSETS (0:0)");
    await q(db, "ACK app.t GROUP 'h' OFFSETS (0:1)"); // never handed to h: not an ack
    await db.hooks.runJob({ type: "trim-topics" });
    assertEquals(await kept(db, "app.t"), 9, "offset 0 is acked by g and h");
    // g's unacked 2 and 4 are still delivered after the trim; 3 (acked) is not.
    await q(db, "NACK app.t GROUP 'g' OFFSETS (0:2, 0:4)");
    assertEquals(offsets(await q(db, "CONSUME FROM app.t GROUP 'g' LIMIT 10")), [
      2,
      4,
      5,
      6,
      7,
      8,
      9,
    ]);
  });
});

Deno.test("topic retention: messages past RETENTION_SECONDS go even when unacked", async () => {
  await withDatabase(async (db) => {
    await q(db, "CREATE NAMESPACE app; CREATE TOPIC app.t WITH (RETENTION_SECONDS = 1)");
    await publish(db, "app.t", 3, "MESSAGE_ID 'same'"); // one stored, two duplicates
    assertEquals(await kept(db, "app.t"), 1);
    await q(db, "CONSUME FROM app.t GROUP 'g'");
    await until(
      async () => {
        await db.hooks.runJob({ type: "trim-topics" });
        return await kept(db, "app.t") === 0;
      },
      "the message outlives its retention and is trimmed",
      10_000,
      100,
    );
    // The id is free again, and the offset goes on (never reused).
    const r = await q(db, `PUBLISH TO app.t MESSAGE_ID 'same' PAYLOAD '{"again":true}'`);
    assertEquals([r[0][1], r[0][2]], [1n, false]);
    const got = await q(db, "CONSUME FROM app.t GROUP 'g'");
    assertEquals(offsets(got), [1]);
    await q(db, "CLEAR TOPIC app.t");
    const after = await q(db, `PUBLISH TO app.t PAYLOAD '{}'`);
    assertEquals(after[0][1], 2n, "CLEAR keeps the offsets going");
  });
});

Deno.test("topic sources: rollback publishes nothing; filter, payload modes, ops", async () => {
  await withDatabase(async (db) => {
    await q(
      db,
      `CREATE NAMESPACE app;
      CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, name TEXT, qty INT);
      CREATE TOPIC app.all; CREATE TOPIC app.big;
      ALTER TOPIC app.all ADD SOURCE app.items ON INSERT, UPDATE, DELETE WITH (PAYLOAD = 'diff');
      ALTER TOPIC app.big ADD SOURCE app.items ON INSERT WHERE qty >= 10 WITH (PAYLOAD = 'key')`,
    );
    await q(db, "INSERT INTO app.items VALUES (1, 'a', 1), (2, 'b', 20)");
    const dup = await db.execute("INSERT INTO app.items VALUES (3, 'c', 30), (1, 'again', 5)");
    assertEquals(dup.error?.code, "UNIQUE_VIOLATION");
    await q(db, "UPDATE app.items SET qty = 2 WHERE id = 1");
    await q(db, "DELETE FROM app.items WHERE id = 2");
    const all = await drain(db, "app.all", "g");
    assertEquals(
      all.map((r) => [r[3], r[4], JSON.parse(String(r[6]))]).map(([k, op, p]) => {
        delete (p as Record<string, unknown>)._seq;
        return [k, op, p];
      }),
      [
        ["1", "insert", { id: "1", name: "a", qty: 1 }],
        ["2", "insert", { id: "2", name: "b", qty: 20 }],
        ["1", "update", { id: "1", qty: 2 }],
        ["2", "delete", { id: "2" }],
      ],
    );
    const big = await drain(db, "app.big", "g");
    assertEquals(big.map((r) => String(r[6])), ['{"id":"2"}'], "the failed insert of 3 is absent");
    await q(db, "ALTER TOPIC app.big DROP SOURCE app.items");
    await q(db, "INSERT INTO app.items VALUES (4, 'd', 40)");
    assertEquals(await drain(db, "app.big", "g"), []);
    // Dropping the table drops its sources; a new table does not inherit them.
    await q(db, "DROP TABLE app.items");
    await q(db, "CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, name TEXT, qty INT)");
    await q(db, "INSERT INTO app.items VALUES (5, 'e', 50)");
    const rest = await drain(db, "app.all", "g");
    assertEquals(rest.map((r) => r[3]), ["4"], "only the insert before the DROP");
  });
});

Deno.test("consumer groups: per-key order across redelivery, keys in parallel, dead letters", async () => {
  await withDatabase(async (db) => {
    await q(
      db,
      `CREATE NAMESPACE app; CREATE TOPIC app.t PARTITIONS 3 WITH
      (VISIBILITY_TIMEOUT_SECONDS = 1, MAX_DELIVERIES = 2, DEAD_LETTER = 'app.dead')`,
    );
    for (let i = 0; i < 4; i++) {
      for (const k of ["a", "b"]) await q(db, `PUBLISH TO app.t KEY '${k}' PAYLOAD '{"i":${i}}'`);
    }
    const first = await q(db, "CONSUME FROM app.t GROUP 'g' LIMIT 100");
    assertEquals(first.map((r) => `${r[3]}${JSON.parse(String(r[6])).i}`).sort(), ["a0", "b0"]);
    const a0 = first.find((r) => r[3] === "a")!;
    const b0 = first.find((r) => r[3] === "b")!;
    await q(db, `ACK app.t GROUP 'g' OFFSETS (${b0[1]}:${b0[2]})`);
    // b goes on; a waits for its first message, which comes back after the timeout.
    for (const expected of ["b1", "b2", "b3"]) {
      const next = await q(db, "CONSUME FROM app.t GROUP 'g' LIMIT 100");
      assertEquals(next.map((r) => `${r[3]}${JSON.parse(String(r[6])).i}`), [expected]);
      await q(db, `ACK app.t GROUP 'g' OFFSETS (${next[0][1]}:${next[0][2]})`);
    }
    const again = await q(db, "CONSUME FROM app.t GROUP 'g' LIMIT 100 WAIT 5000");
    assertEquals(again.map((r) => [r[2], r[9]]), [[a0[2], 2]], "a0 again, second delivery");
    // Never acked: after the second expiry a0 leaves for the dead-letter topic, and a1 is next.
    const after = await q(db, "CONSUME FROM app.t GROUP 'g' LIMIT 100 WAIT 5000");
    assertEquals(after.map((r) => `${r[3]}${JSON.parse(String(r[6])).i}`), ["a1"]);
    const dead = await q(db, "CONSUME FROM app.dead GROUP 'ops'");
    assertEquals(dead.length, 1);
    const p = JSON.parse(String(dead[0][6]));
    assertEquals([dead[0][4], p.reason, p.delivery_count, p.key, p.payload], [
      "dead_letter",
      "max_deliveries",
      2,
      "a",
      { i: 0 },
    ]);
    assert(dead[0][3] === "a", "the dead letter keeps its key");
  });
});

Deno.test("DROP USER erases the messages published from the user's rows", async () => {
  await withDatabase(async (db) => {
    await q(
      db,
      `CREATE NAMESPACE app; CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, t TEXT);
      CREATE TOPIC app.t; ALTER TOPIC app.t ADD SOURCE app.notes ON INSERT;
      CREATE USER alice WITH PASSWORD 'pw' ROLE user; CREATE USER bob WITH PASSWORD 'pw' ROLE user`,
    );
    for (const u of ["alice", "bob"]) {
      await q(db, `EXECUTE AS USER '${u}' (INSERT INTO app.notes VALUES (1, 'x'), (2, 'y'))`);
    }
    const claimed = await q(db, "CONSUME FROM app.t GROUP 'g'"); // one per user (per-key order)
    assertEquals(claimed.map((r) => r[5]).sort(), ["alice", "bob"]);
    const r = await db.execute("DROP USER alice");
    assert(r.results[0].message?.includes("2 topic message(s)"), r.results[0].message);
    assertEquals(await kept(db, "app.t"), 2);
    // alice's claimed message is gone: the group counts it done and goes on with bob's.
    await q(db, `ACK app.t GROUP 'g' OFFSETS (${claimed.map((x) => `${x[1]}:${x[2]}`)})`);
    const rest = await drain(db, "app.t", "g");
    assertEquals(rest.map((x) => [x[5], JSON.parse(String(x[6])).id]), [["bob", "2"]]);
  });
});

Deno.test("review regressions: late NACK/ACK of a re-claimed message, dedupe past the ack-trim, dead-letter namespace", async () => {
  await withDatabase(async (db) => {
    await q(
      db,
      `CREATE NAMESPACE app; CREATE NAMESPACE dl;
      CREATE TOPIC app.t WITH (VISIBILITY_TIMEOUT_SECONDS = 1, DEAD_LETTER = 'dl.dead')`,
    );
    await q(db, `PUBLISH TO app.t KEY 'alice' PAYLOAD '{"n":0}'`);
    await q(db, `PUBLISH TO app.t KEY 'alice' PAYLOAD '{"n":1}'`);
    const a = await q(db, "CONSUME FROM app.t GROUP 'g' CONSUMER 'A'");
    assertEquals(offsets(a), [0]);
    // A's claim runs out; B takes the message again.
    const b = await q(db, "CONSUME FROM app.t GROUP 'g' CONSUMER 'B' WAIT 5000");
    assertEquals([offsets(b), b[0][9]], [[0], 2]);
    // A's late NACK and ACK settle nothing: B still holds it, alice's next stays back.
    const nack = await db.execute("NACK app.t GROUP 'g' CONSUMER 'A' OFFSETS (0:0)");
    const ack = await db.execute("ACK app.t GROUP 'g' CONSUMER 'A' OFFSETS (0:0)");
    assertEquals([nack.results[0].rowCount, ack.results[0].rowCount], [0, 0]);
    assertEquals(await q(db, "CONSUME FROM app.t GROUP 'g' CONSUMER 'C'"), []);
    const mine = await db.execute("ACK app.t GROUP 'g' CONSUMER 'B' OFFSETS (0:0)");
    assertEquals(mine.results[0].rowCount, 1);
    assertEquals(offsets(await q(db, "CONSUME FROM app.t GROUP 'g' CONSUMER 'C'")), [1]);

    // A MESSAGE_ID dedupes for the whole retention, also after every group acked it.
    await q(db, `PUBLISH TO app.t MESSAGE_ID 'order-42' PAYLOAD '{}'`);
    await drain(db, "app.t", "g2");
    await db.hooks.runJob({ type: "trim-topics" });
    const again = await q(db, `PUBLISH TO app.t MESSAGE_ID 'order-42' PAYLOAD '{}'`);
    assertEquals(again[0][2], true, "still a duplicate");

    // The dead-letter topic of app.t cannot go with its namespace first.
    const drop = await db.execute("DROP NAMESPACE dl CASCADE");
    assertEquals(drop.error?.code, "INVALID_SQL");
    assert(drop.error!.message.includes("dead-letter topic of app.t"));
  });
});

Deno.test("a held key's deep pile of parked messages, trimmed, does not stop the group", async () => {
  await withDatabase(async (db) => {
    await q(
      db,
      `CREATE NAMESPACE app; CREATE TOPIC app.t WITH (RETENTION_SECONDS = 1,
      VISIBILITY_TIMEOUT_SECONDS = 1)`,
    );
    const n = 7000;
    const publish = Array.from(
      { length: n },
      (_, i) => `PUBLISH TO app.t KEY 'k' PAYLOAD '{"i":${i}}'`,
    );
    for (let i = 0; i < n; i += 500) await q(db, publish.slice(i, i + 500).join(";"));
    assertEquals(offsets(await q(db, "CONSUME FROM app.t GROUP 'g' LIMIT 10")), [0]);
    for (let i = 0; i < n / 1024 + 2; i++) await q(db, "CONSUME FROM app.t GROUP 'g' LIMIT 10");
    await until(
      async () => {
        await db.hooks.runJob({ type: "trim-topics" });
        return await kept(db, "app.t") === 0;
      },
      "the retention trims the pile",
      10_000,
      100,
    );
    await q(db, `PUBLISH TO app.t KEY 'k' PAYLOAD '{"new":1}'`);
    await q(db, `PUBLISH TO app.t KEY 'other' PAYLOAD '{}'`);
    // Each claim drops a bounded part of the pile: k's new message comes within a few claims.
    // (By offset: with a 1 s visibility timeout a slow machine may see one again.)
    const got = new Map<string, unknown>();
    for (let i = 0; i < 4 && got.size < 2; i++) {
      for (const r of await q(db, "CONSUME FROM app.t GROUP 'g' LIMIT 10")) {
        got.set(`${r[1]}:${r[2]}`, r[3]);
      }
    }
    assertEquals([...got.values()].sort(), ["k", "other"]);
  });
});

Deno.test("ACK/NACK … OFFSETS $1 take the pairs as a JSON parameter; a bad one changes nothing", async () => {
  await withDatabase(async (db) => {
    await q(db, "CREATE NAMESPACE app; CREATE TOPIC app.p PARTITIONS 2");
    await publish(db, "app.p", 6);
    const rows = await q(db, "CONSUME FROM app.p GROUP 'g' LIMIT 6");
    assertEquals(rows.length, 6);
    const pairs = rows.map((r) => [Number(r[1]), Number(r[2])]);
    const nack = await db.execute("NACK app.p GROUP 'g' OFFSETS $1", {
      params: [JSON.stringify(pairs.slice(0, 2))],
    });
    assertEquals(nack.results[0].rowCount, 2);
    for (const bad of ["[]", "[[0]]", "[[0,-1]]", "{}", "not json", JSON.stringify([[0, 1.5]])]) {
      const r = await db.execute("ACK app.p GROUP 'g' OFFSETS $1", { params: [bad] });
      assertEquals(r.error?.code, "INVALID_PARAMETER", bad);
    }
    assertEquals(
      (await db.execute("ACK app.p GROUP 'g' OFFSETS $1")).error?.code,
      "INVALID_PARAMETER",
    );
    // Nothing was acked by the bad ones: all six are still the group's.
    const ack = await db.execute("ACK app.p GROUP 'g' OFFSETS $1", {
      params: [JSON.stringify(pairs)],
    });
    assertEquals(ack.results[0].rowCount, 6);
    assertEquals((await q(db, "CONSUME FROM app.p GROUP 'g'")).length, 0);
  });
});
