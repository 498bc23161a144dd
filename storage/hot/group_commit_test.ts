// Group commit when the disk fills up, on a real 2 MiB tmpfs (skipped with the reason where it
// cannot be mounted): a statement that runs out of space in the middle makes SQLite roll the
// whole group back; every statement of that group fails with STORAGE_ERROR (none was
// acknowledged), the statement queued behind it starts a new group and commits, and once the
// space is back writes go on.

import { assert, assertEquals } from "../../tests/_util.ts";
import { mountTmpfs } from "../../tests/_tmpfs.ts";
import { DbError } from "../../errors.ts";
import { GroupCommit } from "./group_commit.ts";
import { SqliteStore } from "./sqlite.ts";

Deno.test("group commit: a disk full mid-statement fails its whole group, then writes go on", async () => {
  const fs = await mountTmpfs(2);
  if (typeof fs === "string") {
    console.log(`skipped: ${fs}`);
    return;
  }
  const store = new SqliteStore(`${fs.dir}/k.sqlite`, "full");
  try {
    const db = store.connection;
    // A small page cache makes a big statement spill to the WAL before its commit.
    db.exec("PRAGMA cache_size = 50; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const rollbacks: boolean[] = [];
    const group = new GroupCommit(db, { rollback: (whole) => rollbacks.push(whole) }, true);
    const insert = (id: number) => () => db.prepare("INSERT INTO t VALUES (?, 'small')").run(id);
    const huge = () => {
      const st = db.prepare("INSERT INTO t (v) VALUES (?)");
      for (let i = 0; i < 5000; i++) st.run("x".repeat(1000)); // ~5 MB: more than the disk
    };
    const outcome = (p: Promise<unknown>) =>
      p.then(() => "committed", (err) => err instanceof DbError ? err.code : String(err));
    // Queued in one turn, so all three belong to one group.
    const [first, big, behind] = await Promise.all([
      outcome(group.run(insert(1))),
      outcome(group.run(huge)),
      outcome(group.run(insert(3))),
    ]);
    assertEquals([first, big], ["STORAGE_ERROR", "STORAGE_ERROR"], "the rolled-back group");
    assertEquals(behind, "committed", "the statement behind it starts a new group");
    assert(rollbacks.includes(true), `a whole-group rollback was reported: ${rollbacks}`);
    const ids = () => db.prepare("SELECT id FROM t ORDER BY id").all().map((r) => Number(r.id));
    assertEquals(ids(), [3], "only the acknowledged statement is in the table");

    await fs.resize(16);
    assertEquals(await outcome(group.run(huge)), "committed", "space back: the big write lands");
    assertEquals(await outcome(group.run(insert(100_000))), "committed");
    const count = db.prepare("SELECT COUNT(*) AS n FROM t").get() as { n: number };
    assertEquals(Number(count.n), 5002);
  } finally {
    store.close();
    await fs.unmount();
  }
});
