// Consumer groups end to end (SPEC §10): competing consumers never hold one message at once and
// process each exactly once when they ack in time; a consumer that dies mid-batch has its
// messages redelivered after the visibility timeout; per-key order across 4 consumers and 100
// keys; dead letters after MAX_DELIVERIES. Waits are CONSUME's own WAIT (woken by a publish, an
// ack or a visibility deadline) under a deadline; nothing sleeps. Long-polls pending at a
// graceful shutdown are answered.

import {
  ack,
  assert,
  assertEquals,
  consume,
  groupRows,
  type Msg,
  objects,
  publish,
  publishAll,
  publishSql,
  ROOT,
  startServer,
  type TestServer,
  until,
  within,
  withServer,
} from "./_topics.ts";

const id = (m: Msg) => `${m.partition}:${m.offset}`;

/**
 * Runs `n` consumers of one group until `done()`; each claims a batch, hands it to `work`
 * (which may record), then acks it. Bounded by `ms`.
 */
async function runConsumers(
  server: TestServer,
  topic: string,
  group: string,
  n: number,
  limit: number,
  done: () => boolean,
  work: (consumer: string, batch: Msg[]) => void,
  after: (consumer: string, batch: Msg[], acked: number) => void = () => {},
  ms = 120_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  const one = async (consumer: string) => {
    while (!done()) {
      assert(Date.now() < deadline, `${consumer}: consumers not done within ${ms} ms`);
      // The WAIT is woken by every ack/publish commit, so idle consumers notice the end.
      const batch = await consume(server, topic, group, { consumer, limit, wait: 1000 });
      if (batch.length === 0) continue;
      work(consumer, batch);
      after(consumer, batch, await ack(server, topic, group, batch));
    }
  };
  await within(
    Promise.all(Array.from({ length: n }, (_, i) => one(`c${i}`))),
    ms + 5_000,
    "consumers",
  );
}

Deno.test("topics: 4 competing consumers never share a message; each is processed once", async () => {
  await withServer({}, async (server) => {
    await server.root(
      "CREATE NAMESPACE app; CREATE TOPIC app.work PARTITIONS 4 WITH (VISIBILITY_TIMEOUT_SECONDS = 300)",
    );
    const total = 400;
    await publishAll(
      server,
      Array.from({ length: total }, (_, i) => publishSql("app.work", { i })),
    );
    const held = new Map<string, string>(); // message → consumer holding it (claim → ack answer)
    const seen = new Map<number, number>(); // payload i → times processed
    const clashes: string[] = [];
    const perConsumer = new Map<string, number>();
    let acked = 0;
    await runConsumers(
      server,
      "app.work",
      "pool",
      4,
      7,
      () => acked >= total,
      (c, batch) => {
        for (const m of batch) {
          const other = held.get(id(m));
          if (other !== undefined) clashes.push(`${id(m)} held by ${other} and ${c}`);
          held.set(id(m), c);
          seen.set(m.payload.i, (seen.get(m.payload.i) ?? 0) + 1);
          if (m.delivery_count !== 1) clashes.push(`${id(m)} delivered ${m.delivery_count} times`);
        }
        perConsumer.set(c, (perConsumer.get(c) ?? 0) + batch.length);
      },
      (_c, batch, n) => {
        assertEquals(n, batch.length, "every claimed message acks once");
        for (const m of batch) held.delete(id(m));
        acked += n;
      },
    );
    assertEquals(clashes, []);
    assertEquals(acked, total);
    assertEquals(seen.size, total, "every message processed");
    assertEquals([...seen.values()].filter((n) => n !== 1), [], "each exactly once");
    assertEquals([...perConsumer.values()].reduce((a, b) => a + b, 0), total);
    assertEquals(await consume(server, "app.work", "pool"), [], "nothing left or redelivered");
    const rows = await groupRows(server, "app.work", "pool");
    assertEquals(rows.map((r) => [r.pending, r.lag]), [["0", "0"], ["0", "0"], ["0", "0"], [
      "0",
      "0",
    ]]);
  });
});

Deno.test("topics: a consumer dying mid-batch → redelivered after the visibility timeout", async () => {
  await withServer({}, async (server) => {
    await server.root(
      "CREATE NAMESPACE app; CREATE TOPIC app.jobs PARTITIONS 2 WITH (VISIBILITY_TIMEOUT_SECONDS = 1)",
    );
    await publishAll(server, [
      publishSql("app.jobs", { j: 0 }, { key: "a" }),
      publishSql("app.jobs", { j: 1 }, { key: "b" }),
      publishSql("app.jobs", { j: 2 }),
      publishSql("app.jobs", { j: 3 }, { key: "c" }),
    ]);
    // Worker 1 claims everything, then "dies": it never acks.
    const first = await consume(server, "app.jobs", "g", { consumer: "w1", limit: 10 });
    assertEquals(first.map((m) => m.payload.j).sort(), [0, 1, 2, 3]);
    assertEquals(first.map((m) => m.delivery_count), [1, 1, 1, 1]);
    // Another group sees them all the same.
    assertEquals((await consume(server, "app.jobs", "other", { limit: 10 })).length, 4);
    // While claimed they are invisible to the group's other consumers (shown on a topic whose
    // timeout cannot pass during the check, so no timing decides the answer).
    await server.root("CREATE TOPIC app.slow WITH (VISIBILITY_TIMEOUT_SECONDS = 600)");
    await publishAll(server, [publishSql("app.slow", { s: 1 }), publishSql("app.slow", { s: 2 })]);
    assertEquals((await consume(server, "app.slow", "g", { consumer: "w1" })).length, 2);
    assertEquals(await consume(server, "app.slow", "g", { consumer: "w2" }), []);
    // Worker 2's long-poll is answered when the claims expire, with the same messages.
    const second = await within(
      consume(server, "app.jobs", "g", { consumer: "w2", limit: 10, wait: 5000 }),
      30_000,
      "redelivery",
    );
    const view = (ms: Msg[]) =>
      ms.map((m) => [m.partition, m.offset, m.key, JSON.stringify(m.payload)]).sort();
    assertEquals(view(second), view(first), "the same messages, redelivered");
    assertEquals(second.map((m) => m.delivery_count), [2, 2, 2, 2]);
    for (const m of second) {
      const before = first.find((f) => id(f) === id(m))!;
      assert(
        Date.parse(m.ack_deadline) > Date.parse(before.ack_deadline),
        `new claim, new deadline: ${before.ack_deadline} → ${m.ack_deadline}`,
      );
    }
    assertEquals(await ack(server, "app.jobs", "g", second), 4);
    // The dead worker's late ack finds nothing left to ack.
    assertEquals(await ack(server, "app.jobs", "g", first), 0);
    assertEquals(await consume(server, "app.jobs", "g", { wait: 0 }), []);

    // NACK … DELAY hides a claimed message (and blocks its key) until the delay passes; NACK
    // DELAY 0 makes it visible at once, as a further delivery.
    const n1 = await publish(server, "app.jobs", { j: 4 }, { key: "n" });
    const n2 = await publish(server, "app.jobs", { j: 5 }, { key: "n" });
    const [held] = await consume(server, "app.jobs", "g");
    assertEquals([held.offset, held.delivery_count], [n1.offset, 1]);
    const nack = (delay: number) =>
      server.root(
        `NACK app.jobs GROUP 'g' OFFSETS (${held.partition}:${held.offset}) DELAY ${delay}`,
      );
    assertEquals((await nack(3600)).body.results[0].row_count, 1);
    assertEquals(await consume(server, "app.jobs", "g"), [], "delayed, and key n stays blocked");
    assertEquals((await nack(0)).body.results[0].row_count, 1);
    const back = await consume(server, "app.jobs", "g");
    assertEquals(back.map((m) => [m.offset, m.delivery_count]), [[n1.offset, 2]]);
    assertEquals(await ack(server, "app.jobs", "g", back), 1);
    assertEquals((await nack(0)).body.results[0].row_count, 0, "an acked message nacks nothing");
    const last = await consume(server, "app.jobs", "g");
    assertEquals(last.map((m) => [m.offset, m.delivery_count]), [[n2.offset, 1]]);
  });
});

Deno.test("topics: per-key order holds across 4 consumers and 100 keys", async () => {
  await withServer({}, async (server) => {
    await server.root(
      "CREATE NAMESPACE app; CREATE TOPIC app.chat PARTITIONS 4 WITH (VISIBILITY_TIMEOUT_SECONDS = 300)",
    );
    const keys = 100, rounds = 5;
    const stmts: string[] = [];
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < keys; k++) stmts.push(publishSql("app.chat", { k, r }, { key: `u${k}` }));
    }
    // Keys are published interleaved; a few unkeyed messages mixed in have no constraint.
    for (let i = 0; i < 20; i++) stmts.splice(i * 25, 0, publishSql("app.chat", { free: i }));
    await publishAll(server, stmts);
    const total = stmts.length;
    const order = new Map<string, number[]>(); // key → rounds in processing order
    const offsets = new Map<string, number[]>();
    const inFlight = new Set<string>(); // keys claimed and not yet acked
    const problems: string[] = [];
    let acked = 0;
    await runConsumers(
      server,
      "app.chat",
      "agents",
      4,
      10,
      () => acked >= total,
      (c, batch) => {
        for (const m of batch) {
          assertEquals(m.delivery_count, 1, `${id(m)} redelivered`);
          if (m.key === null) continue;
          if (inFlight.has(m.key)) problems.push(`${c} got key ${m.key} while it was claimed`);
          inFlight.add(m.key);
          order.set(m.key, [...order.get(m.key) ?? [], m.payload.r]);
          offsets.set(m.key, [...offsets.get(m.key) ?? [], m.offset]);
        }
      },
      (_c, batch, n) => {
        assertEquals(n, batch.length);
        for (const m of batch) if (m.key !== null) inFlight.delete(m.key);
        acked += n;
      },
    );
    assertEquals(problems, []);
    assertEquals(acked, total);
    assertEquals(order.size, keys);
    for (const [key, seq] of order) {
      assertEquals(seq, [0, 1, 2, 3, 4], `processing order of key ${key}`);
      const offs = offsets.get(key)!;
      assert(offs.every((o, i) => i === 0 || o > offs[i - 1]), `offsets of ${key}: ${offs}`);
    }
  });
});

Deno.test("topics: after MAX_DELIVERIES a message goes to the dead-letter topic (or is dropped)", async () => {
  await withServer({}, async (server) => {
    await server.root(`CREATE NAMESPACE app;
      CREATE TOPIC app.tasks WITH (MAX_DELIVERIES = 2, VISIBILITY_TIMEOUT_SECONDS = 1,
        DEAD_LETTER = 'app.tasks_dead');
      CREATE TOPIC app.lossy WITH (MAX_DELIVERIES = 1, VISIBILITY_TIMEOUT_SECONDS = 1)`);
    const [dl] = objects(
      await server.root("SELECT dead_letter FROM system.topics WHERE topic_name = 'tasks'"),
    );
    assertEquals(dl.dead_letter, "app.tasks_dead");
    const sent = await publish(server, "app.tasks", { task: "x" }, { key: "k1", id: "t-1" });
    const after = await publish(server, "app.tasks", { task: "y" }, { key: "k1" });
    const lost = await publish(server, "app.lossy", { lost: true }, { key: "z" });

    // Each WAIT is answered when the previous claim expires (or after 5 s with nothing); the
    // claim that finds the message out of deliveries hands out what comes next instead.
    const deliveries = async (topic: string, offset: number) => {
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        const got = await consume(server, topic, "g", { wait: 5000 });
        const mine = got.filter((m) => m.offset === offset);
        counts.push(...mine.map((m) => m.delivery_count));
        if (mine.length === 0) return { counts, then: got };
      }
      return { counts, then: [] };
    };
    const [tasks, lossy] = await within(
      Promise.all([deliveries("app.tasks", sent.offset), deliveries("app.lossy", lost.offset)]),
      60_000,
      "deliveries",
    );
    assertEquals(tasks.counts, [1, 2], "two deliveries, then out of the group");
    // The dead message no longer blocks its key: the next k1 message is handed out.
    assertEquals(
      tasks.then.map((m) => [m.offset, m.key, m.payload, m.delivery_count]),
      [[after.offset, "k1", { task: "y" }, 1]],
    );
    assertEquals(await ack(server, "app.tasks", "g", tasks.then), 1);
    assertEquals(lossy.counts, [1]);
    assertEquals(lossy.then, []);

    const dead = await consume(server, "app.tasks_dead", "ops", { wait: 5000 });
    assertEquals(dead.length, 1, JSON.stringify(dead));
    const [d] = dead;
    assertEquals([d.topic, d.op, d.key], ["app.tasks_dead", "dead_letter", "k1"]);
    assertEquals(
      {
        reason: d.payload.reason,
        delivery_count: d.payload.delivery_count,
        topic: d.payload.topic,
        partition: d.payload.partition,
        offset: Number(d.payload.offset),
        key: d.payload.key,
        payload: d.payload.payload,
      },
      {
        reason: "max_deliveries",
        delivery_count: 2,
        topic: "app.tasks",
        partition: sent.partition,
        offset: sent.offset,
        key: "k1",
        payload: { task: "x" },
      },
    );
    const [g] = await groupRows(server, "app.tasks", "g");
    assertEquals([g.pending, g.lag], ["0", "0"]);
    const [l] = await groupRows(server, "app.lossy", "g");
    assertEquals([l.pending, l.lag], ["0", "0"], "without DEAD_LETTER it is dropped for the group");
    assertEquals(await consume(server, "app.lossy", "g"), []);
  });
});

Deno.test("topics: long-polls pending at shutdown get an empty answer; the exit is graceful", async () => {
  const server = await startServer();
  let stopped = false;
  try {
    await server.root("CREATE NAMESPACE app; CREATE TOPIC app.idle PARTITIONS 2");
    const sqlPoll = consume(server, "app.idle", "s", { wait: 60_000 });
    const httpPoll = server.request("POST", "/v1/api/topics/consume", {
      auth: ROOT,
      body: { topic: "app.idle", group: "h", wait_ms: 60_000 },
    });
    // A CONSUME's first claim creates its group's cursors: then it is waiting.
    for (const g of ["s", "h"]) {
      await until(async () => (await groupRows(server, "app.idle", g)).length === 2, `${g} waits`);
    }
    const out = await server.stop();
    stopped = true;
    assertEquals(out.code, 0, `graceful exit; stderr:\n${out.stderr}`);
    assertEquals(await sqlPoll, []);
    const h = await httpPoll;
    assertEquals([h.status, h.body?.status, h.body?.messages], [200, "success", []], h.text);
  } finally {
    if (!stopped) await server.stop();
  }
});
