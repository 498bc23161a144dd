// Topics end to end (SPEC §10) over a real server: the outbox (a source table's write publishes
// in its own transaction, filters, DROP SOURCE), MESSAGE_ID dedupe, the WAIT long-poll woken by
// a publish, several groups, FROM LATEST / FROM n, permissions, the HTTP routes and their error
// codes, and system.topic_groups after partial acks. Events are awaited, never slept for.

import {
  ack,
  assert,
  assertEquals,
  assertError,
  assertSuccess,
  basic,
  consume,
  drain,
  groupRows,
  objects,
  publish,
  publishAll,
  publishSql,
  ROOT,
  within,
  withServer,
} from "./_topics.ts";

const ALICE = basic("alice", "alice-pw");
const SVC = basic("svc", "svc-pw");

Deno.test("topics: outbox publishes with the write, nothing for a failed one; WHERE; DROP SOURCE", async () => {
  await withServer({}, async (server) => {
    await server.root(`CREATE NAMESPACE app;
      CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
      CREATE USER TABLE app.msgs (id BIGINT PRIMARY KEY, body TEXT, n INT);
      CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, name TEXT);
      CREATE TOPIC app.outbox PARTITIONS 2;
      CREATE TOPIC app.items_out;
      ALTER TOPIC app.outbox ADD SOURCE app.msgs ON INSERT, UPDATE, DELETE;
      ALTER TOPIC app.items_out ADD SOURCE app.items ON INSERT WHERE name <> 'skip'`);
    assertSuccess(
      await server.sql("INSERT INTO app.msgs (id, body, n) VALUES (1, 'one', 10)", { auth: ALICE }),
    );
    // A multi-row INSERT failing on its duplicate primary key stores and publishes nothing.
    assertError(
      await server.sql("INSERT INTO app.msgs (id, body, n) VALUES (2, 'two', 20), (1, 'dup', 0)", {
        auth: ALICE,
      }),
      "UNIQUE_VIOLATION",
    );
    const ids = objects(await server.sql("SELECT id FROM app.msgs ORDER BY id", { auth: ALICE }));
    assertEquals(ids, [{ id: "1" }], "the failed insert left no row");
    assertSuccess(
      await server.sql("UPDATE app.msgs SET body = 'uno' WHERE id = 1", { auth: ALICE }),
    );
    assertSuccess(await server.sql("DELETE FROM app.msgs WHERE id = 1", { auth: ALICE }));

    const got = await drain(server, "app.outbox", "g");
    assertEquals(
      got.map((m) => [m.op, m.key, m.user, m.payload.id, m.payload.body, m.payload.n]),
      [
        ["insert", "alice", "alice", "1", "one", 10],
        ["update", "alice", "alice", "1", "uno", 10],
        ["delete", "alice", "alice", "1", "uno", 10],
      ],
      "one message per committed write, none for the failed insert",
    );
    for (const m of got) {
      assertEquals(m.topic, "app.outbox");
      assert(typeof m.payload._seq === "string", `full payload carries _seq: ${m.payload._seq}`);
      assertEquals(m.delivery_count, 1);
    }
    // Same key → same partition, offsets one apart.
    assertEquals(new Set(got.map((m) => m.partition)).size, 1);
    assertEquals(got.map((m) => m.offset - got[0].offset), [0, 1, 2]);

    // SHARED: key = primary key as text, user null; the source's WHERE filters.
    await server.root(
      "INSERT INTO app.items (id, name) VALUES (10, 'ten'), (11, 'skip'), (12, 'x')",
    );
    const items = await drain(server, "app.items_out", "g");
    assertEquals(
      items.map((m) => [m.op, m.key, m.user, m.payload.id, m.payload.name]),
      [["insert", "10", null, "10", "ten"], ["insert", "12", null, "12", "x"]],
    );

    // ADD SOURCE for a table that already is one replaces its definition (here: ON UPDATE, no
    // WHERE), and an UPDATE of several rows publishes one message per row.
    await server.root("ALTER TOPIC app.items_out ADD SOURCE app.items ON UPDATE");
    await server.root("UPDATE app.items SET name = 'all' WHERE id >= 10");
    const updates = await drain(server, "app.items_out", "g");
    assertEquals(
      updates.map((m) => [m.op, m.key, m.payload.name]).sort(),
      [["update", "10", "all"], ["update", "11", "all"], ["update", "12", "all"]],
    );

    // DROP SOURCE: later writes publish nothing (the write's commit is where it would publish).
    await server.root("ALTER TOPIC app.outbox DROP SOURCE app.msgs");
    assertSuccess(
      await server.sql("INSERT INTO app.msgs (id, body, n) VALUES (3, 'three', 3)", {
        auth: ALICE,
      }),
    );
    assertEquals(await consume(server, "app.outbox", "g"), [], "no message after DROP SOURCE");
    const topics = objects(
      await server.root(
        "SELECT topic_name, messages, sources FROM system.topics WHERE namespace = 'app' ORDER BY topic_name",
      ),
    );
    assertEquals(topics, [
      {
        topic_name: "items_out",
        messages: "5",
        sources: "app.items ON UPDATE",
      },
      { topic_name: "outbox", messages: "3", sources: null },
    ]);
    // Bad names and bad payloads.
    assertError(await server.sql("CREATE TOPIC app.`bad-name`", { auth: ROOT }), "INVALID_SQL");
    assertError(await server.sql("CREATE TOPIC app.1x", { auth: ROOT }), "INVALID_SQL");
    assertError(
      await server.sql("PUBLISH TO app.outbox PAYLOAD 'not json'", { auth: ROOT }),
      "INVALID_PARAMETER",
    );
  });
});

Deno.test("topics: MESSAGE_ID dedupe, long-poll wake-up, several groups, FROM LATEST / n", async () => {
  await withServer({}, async (server) => {
    await server.root("CREATE NAMESPACE app; CREATE TOPIC app.inbox");
    const first = await publish(server, "app.inbox", { n: 0 }, { key: "k", id: "m-1" });
    assertEquals(first, { partition: 0, offset: 0, duplicate: false });
    const again = await publish(server, "app.inbox", { n: 999 }, { key: "k", id: "m-1" });
    assertEquals(again, { partition: 0, offset: 0, duplicate: true }, "same id → same offset");
    const other = await publish(server, "app.inbox", { n: 1 }, { key: "k", id: "m-2" });
    assertEquals(other, { partition: 0, offset: 1, duplicate: false });
    const [t] = objects(
      await server.root("SELECT messages FROM system.topics WHERE topic_name = 'inbox'"),
    );
    assertEquals(t.messages, "2", "the duplicate stored nothing");

    // Several groups each see every message (no keys here: no per-key blocking).
    await publishAll(server, [1, 2, 3].map((i) => publishSql("app.inbox", { i })));
    for (const g of ["a", "b", "c"]) {
      const got = await consume(server, "app.inbox", g, { limit: 100 });
      assertEquals(
        got.map((m) => [m.offset, m.message_id, m.payload]),
        [[0, "m-1", { n: 0 }], [2, null, { i: 1 }], [3, null, { i: 2 }], [4, null, { i: 3 }]],
        `group ${g}: key k's second message waits for the first's ack`,
      );
      assertEquals(await ack(server, "app.inbox", g, got), 4);
      const rest = await consume(server, "app.inbox", g);
      assertEquals(rest.map((m) => [m.offset, m.payload]), [[1, { n: 1 }]]);
      assertEquals(await ack(server, "app.inbox", g, rest), 1);
      assertEquals(await ack(server, "app.inbox", g, rest), 0, "an acked message acks once");
    }

    // Long-poll: a CONSUME WAIT 30000 already waiting returns the message published after it.
    const waiting = consume(server, "app.inbox", "a", { wait: 30_000 });
    const published = await publish(server, "app.inbox", { wake: true });
    const woke = await within(waiting, 30_000, "long-poll answer");
    assertEquals(woke.map((m) => [m.offset, m.payload]), [[published.offset, { wake: true }]]);
    // ...and one waiting behind a claimed key is answered by the ack that unblocks the key.
    const k1 = await publish(server, "app.inbox", { blk: 1 }, { key: "blk" });
    const k2 = await publish(server, "app.inbox", { blk: 2 }, { key: "blk" });
    const head = await consume(server, "app.inbox", "a");
    assertEquals(head.map((m) => m.offset), [k1.offset], "blk's second waits for the first");
    const behind = consume(server, "app.inbox", "a", { wait: 30_000 });
    assertEquals(await ack(server, "app.inbox", "a", head), 1);
    const unblocked = await within(behind, 30_000, "long-poll after ack");
    assertEquals(unblocked.map((m) => [m.offset, m.payload]), [[k2.offset, { blk: 2 }]]);
    assertEquals(await ack(server, "app.inbox", "a", unblocked), 1);

    // FROM LATEST skips what was published before the group's first CONSUME; FROM n starts at n.
    assertEquals(await consume(server, "app.inbox", "late", { from: "LATEST" }), []);
    const fresh = await publish(server, "app.inbox", { fresh: 1 });
    assertEquals(
      (await consume(server, "app.inbox", "late", { from: "LATEST" })).map((m) => m.offset),
      [fresh.offset],
    );
    assertEquals(
      (await consume(server, "app.inbox", "mid", { from: "4" })).map((m) => m.offset),
      [4, published.offset, k1.offset, fresh.offset], // k2 waits for k1 in this group too
    );
    const early = await consume(server, "app.inbox", "new", { from: "EARLIEST", limit: 2 });
    assertEquals(early.map((m) => m.offset), [0, 2], "EARLIEST from 0; key k's 1 waits");

    // Concurrent publishes of one MESSAGE_ID store it once; every answer names that offset.
    await server.root("CREATE TOPIC app.dd PARTITIONS 3");
    const answers = await Promise.all(
      Array.from(
        { length: 30 },
        (_, i) => publish(server, "app.dd", { i }, { key: `k${i % 5}`, id: `id-${i % 10}` }),
      ),
    );
    for (let id = 0; id < 10; id++) {
      const mine = answers.filter((_, i) => i % 10 === id);
      assertEquals(mine.filter((a) => !a.duplicate).length, 1, `id-${id} stored once`);
      assertEquals(new Set(mine.map((a) => `${a.partition}:${a.offset}`)).size, 1, `id-${id}`);
    }
    const stored = await drain(server, "app.dd", "g");
    assertEquals(
      stored.map((m) => m.message_id).sort(),
      Array.from({ length: 10 }, (_, i) => `id-${i}`).sort(),
    );
  });
});

Deno.test("topics: a new group's FROM applies to every partition, whatever its first LIMIT", async () => {
  await withServer({}, async (server) => {
    await server.root("CREATE NAMESPACE app; CREATE TOPIC app.two PARTITIONS 2");
    // Unkeyed messages; both partitions get offsets 0..3.
    await publishAll(server, Array.from({ length: 8 }, (_, i) => publishSql("app.two", { i })));
    const perPartition = objects(
      await server.root("SELECT partitions, messages FROM system.topics WHERE topic_name = 'two'"),
    );
    assertEquals(perPartition, [{ partitions: 2, messages: "8" }]);
    const at = (ms: { partition: number; offset: number }[]) =>
      ms.map((m) => `${m.partition}:${m.offset}`).sort();
    // The group's first CONSUME says FROM 2 but claims one message (LIMIT 1): the group starts
    // at offset 2 in both partitions, so a later CONSUME never hands out offsets 0 or 1.
    const first = await consume(server, "app.two", "g", { from: "2", limit: 1 });
    assertEquals(first.map((m) => m.offset), [2]);
    const rest = await consume(server, "app.two", "g", { limit: 100 });
    const p = first[0].partition, q = 1 - p;
    assertEquals(
      at(rest),
      [`${p}:3`, `${q}:2`, `${q}:3`].sort(),
      "the other partition starts FROM 2 as well",
    );
    // Same for a group that started EARLIEST with LIMIT 1: a later FROM LATEST does not move it.
    const e1 = await consume(server, "app.two", "h", { limit: 1 });
    const e2 = await consume(server, "app.two", "h", { from: "LATEST", limit: 100 });
    assertEquals(at([...e1, ...e2]).length, 8, `group h lost messages: ${at([...e1, ...e2])}`);
  });
});

Deno.test("topics: permissions — user denied, service and EXECUTE AS allowed, anonymous denied", async () => {
  await withServer({}, async (server) => {
    await server.root(`CREATE NAMESPACE app;
      CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
      CREATE USER svc WITH PASSWORD 'svc-pw' ROLE service`);
    assertSuccess(await server.sql("CREATE TOPIC app.jobs", { auth: SVC }), "service creates");
    assertSuccess(await server.sql(publishSql("app.jobs", { a: 1 }, { key: "k" }), { auth: SVC }));
    const denied = [
      "CREATE TOPIC app.mine",
      "PUBLISH TO app.jobs PAYLOAD '{}'",
      "CONSUME FROM app.jobs GROUP 'g'",
      "ACK app.jobs GROUP 'g' OFFSETS (0:0)",
      "DROP TOPIC app.jobs",
    ];
    for (const sql of denied) {
      assertError(await server.sql(sql, { auth: ALICE }), "PERMISSION_DENIED", `alice: ${sql}`);
      assertError(await server.sql(sql), "PERMISSION_DENIED", `anonymous: ${sql}`);
    }
    assertError(
      await server.request("POST", "/v1/api/topics/consume", {
        auth: ALICE,
        body: { topic: "app.jobs", group: "g" },
      }),
      "PERMISSION_DENIED",
    );
    assertError(
      await server.request("POST", "/v1/api/topics/publish", {
        body: { topic: "app.jobs", payload: 1 },
      }),
      "PERMISSION_DENIED",
      "anonymous publish over HTTP",
    );
    // Nothing above consumed anything: the service's EXECUTE AS alice gets the message.
    const r = await server.sql("EXECUTE AS USER 'alice' (CONSUME FROM app.jobs GROUP 'g')", {
      auth: SVC,
    });
    assertEquals(assertSuccess(r).as_user, "alice");
    assertEquals(objects(r).map((m) => [m.offset, m.payload]), [["0", { a: 1 }]]);
    assertSuccess(await server.sql("ACK app.jobs GROUP 'g' OFFSETS (0:0)", { auth: SVC }));
    const [t] = objects(await server.root("SELECT topic_name FROM system.topics"));
    assertEquals(t.topic_name, "jobs", "alice's CREATE/DROP did nothing");
  });
});

Deno.test("topics: HTTP consume/ack/nack/publish round trip and error codes", async () => {
  await withServer({}, async (server) => {
    await server.root("CREATE NAMESPACE app; CREATE TOPIC app.web PARTITIONS 3");
    const post = (route: string, body: unknown) =>
      server.request("POST", `/v1/api/topics/${route}`, { auth: ROOT, body });
    const pub = await post("publish", {
      topic: "app.web",
      key: "user-1",
      message_id: "w-1",
      payload: { list: [1, "two", null], nested: { ok: true } },
    });
    assertEquals(pub.status, 200, pub.text);
    assertEquals(pub.body.status, "success");
    assertEquals(typeof pub.body.offset, "number");
    assertEquals([pub.body.offset, pub.body.duplicate], [0, false]);
    const dup = await post("publish", { topic: "app.web", message_id: "w-1", payload: 0 });
    assertEquals(
      [dup.body.partition, dup.body.offset, dup.body.duplicate],
      [pub.body.partition, 0, true],
    );
    const plain = await post("publish", { topic: "app.web", payload: "just a string" });
    assertEquals(plain.body.duplicate, false);

    const c1 = await post("consume", { topic: "app.web", group: "h", consumer: "w1", limit: 10 });
    assertEquals(c1.status, 200, c1.text);
    assertEquals(c1.body.status, "success");
    const byPayload = (ms: { payload: unknown }[]) =>
      ms.map((m) => JSON.stringify(m.payload)).sort();
    assertEquals(byPayload(c1.body.messages), [
      '"just a string"',
      '{"list":[1,"two",null],"nested":{"ok":true}}',
    ]);
    const keyed = c1.body.messages.find((m: { key: string }) => m.key === "user-1");
    assertEquals(
      [
        keyed.topic,
        keyed.partition,
        keyed.offset,
        keyed.op,
        keyed.message_id,
        keyed.delivery_count,
      ],
      ["app.web", pub.body.partition, 0, "publish", "w-1", 1],
    );
    assertEquals(typeof keyed.ack_deadline, "string");
    // NACK with no delay: visible again at once, delivery_count 2.
    const nack = await post("nack", {
      topic: "app.web",
      group: "h",
      offsets: [[keyed.partition, keyed.offset]],
      delay_s: 0,
    });
    assertEquals([nack.status, nack.body.released], [200, 1], nack.text);
    const c2 = await post("consume", { topic: "app.web", group: "h", wait_ms: 0 });
    assertEquals(
      c2.body.messages.map((
        m: { key: string; delivery_count: number },
      ) => [m.key, m.delivery_count]),
      [["user-1", 2]],
    );
    const all = c1.body.messages.map((m: { partition: number; offset: number }) => [
      m.partition,
      m.offset,
    ]);
    const a1 = await post("ack", { topic: "app.web", group: "h", offsets: all });
    assertEquals([a1.status, a1.body.status, a1.body.acknowledged], [200, "success", 2], a1.text);
    const a2 = await post("ack", { topic: "app.web", group: "h", offsets: all });
    assertEquals(a2.body.acknowledged, 0, "acked once");
    assertEquals((await post("consume", { topic: "app.web", group: "h" })).body.messages, []);

    // Errors: the SPEC §4 shape and codes.
    const bad: [string, unknown, string][] = [
      ["consume", { group: "g" }, "INVALID_PARAMETER"],
      ["consume", { topic: "nodot", group: "g" }, "INVALID_PARAMETER"],
      ["consume", { topic: "app.web" }, "INVALID_PARAMETER"],
      ["consume", { topic: "app.web", group: "g", limit: -1 }, "INVALID_PARAMETER"],
      ["consume", { topic: "app.web", group: "g", from: "middle" }, "INVALID_PARAMETER"],
      ["consume", { topic: "app.nope", group: "g" }, "NOT_FOUND"],
      ["ack", { topic: "app.web", group: "g" }, "INVALID_PARAMETER"],
      ["ack", { topic: "app.web", group: "g", offsets: [[0]] }, "INVALID_PARAMETER"],
      ["ack", { topic: "app.nope", group: "g", offsets: [[0, 0]] }, "NOT_FOUND"],
      ["nack", { topic: "app.web", group: "g", offsets: [["a", 0]] }, "INVALID_PARAMETER"],
      ["publish", { topic: "app.web" }, "INVALID_PARAMETER"],
      ["publish", { payload: 1 }, "INVALID_PARAMETER"],
      ["publish", { topic: "app.nope", payload: 1 }, "NOT_FOUND"],
      ["publish", "{not json", "INVALID_PARAMETER"],
    ];
    for (const [route, body, code] of bad) {
      const r = await post(route, body);
      assertEquals(r.body?.error?.code, code, `${route} ${JSON.stringify(body)}: ${r.text}`);
      assertEquals(r.body.status, "error");
      assertEquals(r.status, code === "NOT_FOUND" ? 404 : 400, `${route}: ${r.text}`);
    }
  });
});

Deno.test("topics: system.topic_groups committed_offset, pending and lag after partial acks", async () => {
  await withServer({}, async (server) => {
    await server.root("CREATE NAMESPACE app; CREATE TOPIC app.q");
    await publishAll(server, Array.from({ length: 10 }, (_, i) => publishSql("app.q", { i })));
    const got = await consume(server, "app.q", "w", { limit: 10 });
    assertEquals(got.map((m) => m.offset), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const at = (o: number[]) => got.filter((m) => o.includes(m.offset));
    assertEquals(await ack(server, "app.q", "w", at([0, 1, 2, 5])), 4);
    let [g] = await groupRows(server, "app.q", "w");
    assertEquals(
      [g.partition, g.committed_offset, g.pending, g.lag],
      [0, "3", "6", "7"],
      "committed = lowest unacked; pending = unacked; lag = end - committed",
    );
    assert(typeof g.oldest_pending_age_s === "number" && g.oldest_pending_age_s >= 0, `${g}`);
    assertEquals(await ack(server, "app.q", "w", at([3, 4])), 2);
    [g] = await groupRows(server, "app.q", "w");
    assertEquals([g.committed_offset, g.pending, g.lag], ["6", "4", "4"]);
    assertEquals(await ack(server, "app.q", "w", at([6, 7, 8, 9])), 4);
    [g] = await groupRows(server, "app.q", "w");
    assertEquals([g.committed_offset, g.pending, g.lag, g.oldest_pending_age_s], [
      "10",
      "0",
      "0",
      null,
    ]);
    // A second group that has not acked anything lags by everything it claimed.
    assertEquals((await consume(server, "app.q", "x", { limit: 3 })).length, 3);
    const [x] = await groupRows(server, "app.q", "x");
    assertEquals([x.committed_offset, x.pending, x.lag], ["0", "3", "10"]);
  });
});
