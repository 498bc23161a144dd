// The SDK's edge cases found in review, each a regression test: a subscribe/unsubscribe/subscribe
// burst during the first login (React StrictMode) opens one socket; values the server typed
// loosely never break a result or the socket; one caller's abort fails only that caller; an
// already-aborted signal settles `ready`; a duplicated output name is no primary key.

import { createClient, KalamError, Timestamp } from "../../client/mod.ts";
import { assert, assertEquals, startServer, until } from "../server/_server.ts";
import { assertRejects } from "../_util.ts";
import { trackedSockets } from "./_sockets.ts";

Deno.test("sdk robust: subscribe, unsubscribe, subscribe before the login answered: one socket", async () => {
  const s = await startServer();
  const sockets = trackedSockets();
  const db = createClient({
    url: s.url,
    auth: { user: "root", password: "" },
    WebSocket: sockets.WebSocket,
  });
  try {
    await s.root("CREATE NAMESPACE k; CREATE SHARED TABLE k.t (id BIGINT PRIMARY KEY)");
    const a = db.subscribe("SELECT id FROM k.t");
    a.unsubscribe();
    const b = db.subscribe("SELECT id FROM k.t");
    await b.ready;
    assertEquals(sockets.opened.length, 1, "the first connect gave way to the second");
    db.close();
    await until(() => sockets.opened.every((w) => w.readyState === WebSocket.CLOSED), "all closed");
    assertEquals(db.connectionState, "closed");
  } finally {
    db.close();
    await s.stop();
  }
});

Deno.test("sdk robust: loosely typed values stay wire values; the socket lives on", async () => {
  const s = await startServer();
  const db = createClient({ url: s.url, auth: { user: "root", password: "" } });
  try {
    await db.query(
      `CREATE NAMESPACE k; CREATE SHARED TABLE k.t (id BIGINT PRIMARY KEY, at TIMESTAMP, n BIGINT);
      INSERT INTO k.t VALUES (1, NULL, NULL)`,
    );
    // COALESCE has one type: BIGINT and DECIMAL give DECIMAL (a wire string), and a text literal
    // takes the TIMESTAMP type of the column beside it.
    const q = await db.queryOne(
      "SELECT COALESCE(n, 5.5) AS x, COALESCE(at, '2026-01-01 10:00:00') AS y FROM k.t",
    );
    assertEquals(q?.x, "5.5");
    assertEquals(String(q?.y), "2026-01-01T10:00:00.000000000Z");
    assert(q?.y instanceof Timestamp, "decoded as a Timestamp");
    const odd = db.subscribe(
      "SELECT id, COALESCE(at, '2026-01-01') AS y FROM k.t",
    );
    const plain = db.subscribe<{ id: bigint }>("SELECT id FROM k.t");
    await Promise.all([odd.ready, plain.ready]);
    const seen: bigint[] = [];
    const live = db.live<{ id: bigint }>(
      "SELECT id FROM k.t",
      (rows) => seen.splice(0, seen.length, ...rows.map((r) => r.id)),
    );
    await live.ready;
    await db.query("INSERT INTO k.t VALUES (2, NULL, NULL)");
    await until(() => seen.length === 2, "both subscriptions still deliver");
    assert(odd.active && plain.active, "nothing ended");
  } finally {
    db.close();
    await s.stop();
  }
});

/** A fetch that answers after 50 ms (a login, then SQL), honouring its signal. */
const slowFetch: typeof fetch = (input, init) =>
  new Promise((resolve, reject) => {
    const path = new URL(String(input)).pathname;
    const t = setTimeout(() => {
      const body = path.endsWith("/login")
        ? {
          access_token: "a",
          refresh_token: "r",
          expires_at: new Date(Date.now() + 3600e3).toISOString(),
          user: { id: "u", role: "user" },
        }
        : { status: "success", took_ms: 0.1, results: [{ schema: [], rows: [], row_count: 0 }] };
      resolve(new Response(JSON.stringify(body), { status: 200 }));
    }, 50);
    init?.signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(new DOMException("aborted", "AbortError"));
    });
  });

Deno.test("sdk robust: aborting one query during the shared login fails only that query", async () => {
  const db = createClient({
    url: "http://kalamdb.invalid",
    auth: { user: "u", password: "p" },
    fetch: slowFetch,
  });
  const ac = new AbortController();
  const a = db.query("SELECT 1", [], { signal: ac.signal }).then(
    () => "ok",
    (e) => (e as KalamError).code,
  );
  const b = db.query("SELECT 2").then(() => "ok", (e) => (e as KalamError).code);
  ac.abort();
  assertEquals([await a, await b], ["ABORTED", "ok"]);
  db.close();
});

Deno.test("sdk robust: an already-aborted signal rejects ready at once", async () => {
  const db = createClient({ url: "http://kalamdb.invalid" });
  const ac = new AbortController();
  ac.abort();
  const sub = db.subscribe("SELECT id FROM k.t", {}, { signal: ac.signal });
  assertEquals(((await assertRejects(() => sub.ready)) as KalamError).code, "ABORTED");
  const live = db.live("SELECT id FROM k.t", undefined, { signal: ac.signal });
  assertEquals(((await assertRejects(() => live.ready)) as KalamError).code, "ABORTED");
  assertEquals(db.connectionState, "idle", "nothing connected");
  db.close();
});

Deno.test("sdk robust: the ack names the primary key only when one output column has its name", async () => {
  const s = await startServer();
  const db = createClient({ url: s.url, auth: { user: "root", password: "" } });
  try {
    await db.query("CREATE NAMESPACE k; CREATE SHARED TABLE k.t (id BIGINT PRIMARY KEY, v BIGINT)");
    const cases: [string, string | undefined][] = [
      ["SELECT * FROM k.t", "id"],
      ["SELECT v, id AS key FROM k.t", "key"],
      ["SELECT id, v AS id FROM k.t", undefined],
      ["SELECT v FROM k.t", undefined],
    ];
    for (const [sql, pk] of cases) {
      const sub = db.subscribe(sql);
      await sub.ready;
      assertEquals(sub.primaryKey, pk, sql);
      sub.unsubscribe();
    }
  } finally {
    db.close();
    await s.stop();
  }
});
