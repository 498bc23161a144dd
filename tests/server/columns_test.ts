// A dropped column that is added again is a new column (issue 10, item 4), end to end through a
// real server: rows written before the DROP read NULL (or the new column's DEFAULT) for it — in
// the write buffer, in flushed segments, in a live snapshot and a resume replay, and after a
// restart — never the dropped values.

import { assertEquals, basic, rows, startServer, type TestServer } from "./_server.ts";
import { untilJobsIdle } from "./_jobs.ts";
import { LiveClient } from "./_live.ts";

const ROOT = basic("root", "");

async function select(
  s: TestServer,
  sql = "SELECT * FROM app.n ORDER BY id",
): Promise<unknown[][]> {
  return rows(await s.root(sql));
}

Deno.test("columns: a dropped and re-added column reads NULL or its DEFAULT, never the old values", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "kalamdb-columns-test-" });
  try {
    let s = await startServer({}, { dataDir });
    try {
      await s.root(`CREATE NAMESPACE app;
        CREATE SHARED TABLE app.n (id BIGINT PRIMARY KEY, note TEXT, tag TEXT);
        INSERT INTO app.n (id, note, tag) VALUES (1, 'old note', 'a')`);
      await s.root("FLUSH TABLE app.n");
      await untilJobsIdle(s);
      // Row 1 is in a segment now; row 2 stays in the buffer.
      await s.root("INSERT INTO app.n (id, note, tag) VALUES (2, 'other', 'b')");
      const live = await LiveClient.open(s.url, ROOT);
      const before = await live.subscribe("n", "SELECT id FROM app.n");
      await s.root("UPDATE app.n SET note = 'changed' WHERE id = 2");
      await live.close();
      // Drop and re-add in one request, as the report did (one embedded batch).
      await s.root(`ALTER TABLE app.n DROP COLUMN note;
        ALTER TABLE app.n ADD COLUMN note TEXT;
        ALTER TABLE app.n DROP COLUMN tag;
        ALTER TABLE app.n ADD COLUMN tag TEXT DEFAULT 'none'`);
      const expected = [["1", null, "none"], ["2", null, "none"]];
      assertEquals(await select(s, "SELECT id, note, tag FROM app.n ORDER BY id"), expected);
      assertEquals(await select(s, "SELECT id FROM app.n WHERE note = 'old note'"), []);
      // New writes use the new column.
      await s.root("INSERT INTO app.n (id, note) VALUES (3, 'fresh')");
      const all = [...expected, ["3", "fresh", "none"]];
      assertEquals(await select(s, "SELECT id, note, tag FROM app.n ORDER BY id"), all);
      // A live snapshot and a replay of changes written before the DROP.
      const again = await LiveClient.open(s.url, ROOT);
      const snap = await again.subscribe("s", "SELECT id, note, tag FROM app.n");
      assertEquals(
        snap.rows.map((r) => [r.id, r.note, r.tag]).sort((a, b) => a[0] < b[0] ? -1 : 1),
        all,
      );
      const replay = await again.subscribe("r", "SELECT id, note, tag FROM app.n", {
        from_seq: before.ack.snapshot_seq,
      });
      assertEquals(replay.ack.resumed, true);
      await again.roundTrip();
      const changed = again.of("r", "change").map((c) => [c.op, c.rows[0].id, c.rows[0].note]);
      assertEquals(changed, [["update", "2", null], ["insert", "3", "fresh"]]);
      await again.close();
      // Flushed again (the buffered rows go to a segment under the new schema), then restarted.
      await s.root("FLUSH TABLE app.n");
      await untilJobsIdle(s);
      assertEquals(await select(s, "SELECT id, note, tag FROM app.n ORDER BY id"), all);
      await s.stop();
      s = await startServer({}, { dataDir });
      assertEquals(await select(s, "SELECT id, note, tag FROM app.n ORDER BY id"), all);
    } finally {
      await s.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
