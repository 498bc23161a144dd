// Security: DROP USER erases the user's data (issue 15 item 4), so a new user given the same
// name — another person — starts empty: none of the old rows (buffered or flushed to Parquet),
// none of the old STREAM events, no replay of the old changes through a resume from seq 0, no
// old export, also after a restart. Other users' rows stay as they were.

import {
  assert,
  assertEquals,
  assertSuccess,
  basic,
  rows,
  startServer,
} from "../server/_server.ts";
import { LiveClient } from "../server/_live.ts";
import { untilJobsIdle } from "../server/_jobs.ts";
import { download, exportOf } from "../server/_export.ts";

Deno.test("security/drop user: a re-created namesake sees none of the dropped user's data", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "kalamdb-drop-user-" });
  let s = await startServer({}, { dataDir });
  try {
    await s.root(`CREATE NAMESPACE app;
      CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT);
      CREATE STREAM TABLE app.events (id BIGINT PRIMARY KEY, v TEXT) WITH (TTL_SECONDS = 3600);
      CREATE USER alice WITH PASSWORD 'old-alice-pw' ROLE user;
      CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user`);
    const oldAlice = basic("alice", "old-alice-pw"), bob = basic("bob", "bob-pw");
    const write = async (auth: string, sql: string) => assertSuccess(await s.sql(sql, { auth }));
    const values = (from: number, to: number, tag: string) =>
      Array.from({ length: to - from + 1 }, (_, i) => `(${from + i}, '${tag}-${from + i}')`)
        .join(", ");
    for (const [auth, tag] of [[oldAlice, "old-alice"], [bob, "bob"]]) {
      await write(auth, `INSERT INTO app.notes (id, v) VALUES ${values(1, 30, tag)}`);
    }
    await s.root("FLUSH TABLE app.notes");
    await untilJobsIdle(s);
    for (const [auth, tag] of [[oldAlice, "old-alice"], [bob, "bob"]]) {
      await write(auth, `INSERT INTO app.notes (id, v) VALUES ${values(31, 40, tag)}`);
      await write(auth, `UPDATE app.notes SET v = '${tag}-updated' WHERE id = 1`);
      await write(auth, `INSERT INTO app.events (id, v) VALUES ${values(1, 5, tag)}`);
    }
    const oldExport = await exportOf(s, oldAlice);
    const bobBefore = rows(await s.sql("SELECT id, v FROM app.notes ORDER BY id", { auth: bob }));
    assertEquals(bobBefore.length, 40);

    const dropped = await s.root("DROP USER alice");
    const message = String(dropped.body.results[0].message);
    assert(/dropped with their data/.test(message), message);
    assert(/[1-9]\d* segment file/.test(message) && /1 export/.test(message), message);
    await s.root("CREATE USER alice WITH PASSWORD 'new-alice-pw' ROLE user");
    const newAlice = basic("alice", "new-alice-pw");

    const seesNothing = async (what: string) => {
      for (const sql of ["SELECT * FROM app.notes", "SELECT * FROM app.events", "SHOW EXPORTS"]) {
        const r = await s.sql(sql, { auth: newAlice });
        assertEquals(rows(r), [], `${what}: ${sql} as the new alice`);
      }
      const got = await download(s, oldExport.url.replace(/^https?:\/\/[^/]+/, ""), newAlice);
      assertEquals(got.res.status, 404, `${what}: the old export is gone`);
    };
    await seesNothing("after the drop");
    // A resume from the very beginning replays none of the old changes.
    const ws = await LiveClient.open(s.url, newAlice);
    for (const table of ["notes", "events"]) {
      const sub = await ws.subscribe(table, `SELECT * FROM app.${table}`, { from_seq: "0" });
      assertEquals(sub.ack.type, "subscription_ack", JSON.stringify(sub.ack));
    }
    await ws.roundTrip();
    const replayed = ws.messages.filter((m) => m.type === "change" || m.type === "initial_data")
      .filter((m) => JSON.stringify(m).includes("old-alice"));
    assertEquals(replayed, [], "no old change replayed");
    await ws.close();

    // The new alice's own data lives its own life, flushed into a fresh scope.
    await write(newAlice, `INSERT INTO app.notes (id, v) VALUES (7, 'new-alice-7')`);
    await s.root("FLUSH TABLE app.notes");
    await untilJobsIdle(s);
    assertEquals(rows(await s.sql("SELECT id, v FROM app.notes", { auth: newAlice })), [[
      "7",
      "new-alice-7",
    ]]);
    assertEquals(
      rows(await s.sql("SELECT id, v FROM app.notes ORDER BY id", { auth: bob })),
      bobBefore,
      "bob's rows untouched",
    );

    const out = await s.stop();
    assertEquals(out.code, 0, out.stderr);
    s = await startServer({}, { dataDir });
    assertEquals(rows(await s.sql("SELECT id, v FROM app.notes", { auth: newAlice })), [[
      "7",
      "new-alice-7",
    ]], "after a restart");
    assertEquals(rows(await s.sql("SELECT * FROM app.events", { auth: newAlice })), []);
    assertEquals(
      rows(await s.sql("SELECT id, v FROM app.notes ORDER BY id", { auth: bob })),
      bobBefore,
      "bob's rows after a restart",
    );
  } finally {
    await s.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
