// DROP USER racing a storage move (ALTER TABLE … SET STORAGE): the move copies a user's segment
// files to the new storage while DROP USER erases them on the old one. A shim holds the move's
// first write to the new storage until DROP USER has committed, so the race happens every run.
// Afterwards nothing of the dropped user is on either storage, and the other user's rows moved.

import { Database } from "../../storage/mod.ts";
import { PassThroughStore } from "../_store.ts";
import { assert, assertEquals, exec, withTempDir } from "../_util.ts";

/** Passes everything through; the first `put` waits for `release` once `armed`. */
class HeldStore extends PassThroughStore {
  armed = false;
  readonly reached = Promise.withResolvers<void>();
  readonly release = Promise.withResolvers<void>();
  override async put(path: string, data: Uint8Array) {
    if (this.armed) {
      this.armed = false;
      this.reached.resolve();
      await this.release.promise;
    }
    return this.inner.put(path, data);
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string) {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(`${d}/${e.name}`);
      else out.push(`${d}/${e.name}`.slice(dir.length + 1));
    }
  }
  await walk(dir).catch(() => {});
  return out.sort();
}

Deno.test("DROP USER during a storage move leaves nothing of the user on either storage", async () => {
  await withTempDir(async (dir) => {
    let archive: HeldStore | undefined;
    const db = await Database.open({
      dataDir: dir,
      objectStoreShim: (id, store) => id === "archive" ? (archive ??= new HeldStore(store)) : store,
    });
    try {
      await exec(
        db,
        `CREATE NAMESPACE app; CREATE USER TABLE app.notes (id INT PRIMARY KEY, v TEXT);
        CREATE STORAGE archive TYPE filesystem PATH '${dir}/archive';
        CREATE USER alice WITH PASSWORD 'pw' ROLE user; CREATE USER bob WITH PASSWORD 'pw' ROLE user`,
      );
      for (const u of ["alice", "bob"]) {
        await exec(db, `INSERT INTO app.notes VALUES (1, '${u} 1'), (2, '${u} 2')`, { user: u });
      }
      await db.hooks.flushAll();
      // The move copies scope after scope; its first write to the archive waits.
      db.hooks.objectStore("archive"); // opens (and wraps) the archive store
      archive!.armed = true;
      await exec(db, "ALTER TABLE app.notes SET STORAGE archive");
      await archive!.reached.promise;
      const dropped = await db.execute("DROP USER alice");
      assert(dropped.error === undefined, dropped.error?.message);
      archive!.release.resolve();
      await db.hooks.idle();
      assertEquals(db.hooks.table("app", "notes").storageId, "archive");
      const everywhere = [
        ...await filesUnder(`${dir}/storage`),
        ...await filesUnder(`${dir}/archive`),
      ];
      assert(!everywhere.some((f) => f.includes("alice")), everywhere.join("\n"));
      assert(everywhere.some((f) => f.includes("bob")), "bob's files moved");
      const bob = await exec(db, "SELECT v FROM app.notes ORDER BY id", { user: "bob" });
      assertEquals(bob.results[0].rows, [["bob 1"], ["bob 2"]]);
    } finally {
      await db.close();
    }
  });
});
