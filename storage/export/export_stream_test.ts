// The streamed export's merge against the SQL read of the same data: several segments with
// tombstones (flushed updates and deletes), a column added between flushes, buffered versions
// over flushed ones, more rows than one row group; and one statement's writes racing the
// export and a flush land wholly in it or wholly out. Every member is checked against the
// manifest's SHA-256, the Parquet member read back with hyparquet.

import { BlobReader, configure, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { createHash } from "node:crypto";
import type { Database } from "../mod.ts";
import { exec, withDatabase } from "../../tests/_util.ts";
import { partsOf } from "../database.ts";
import { assert, assertEquals } from "../../sql/_test_util.ts";
import { toJsonValue } from "../../sql/mod.ts";

configure({ useWebWorkers: false });

const withDb = withDatabase;

async function rowsOf(db: Database, sql: string, user?: string) {
  return (await exec(db, sql, { user })).results.at(-1)?.rows ?? [];
}

/** Inserts rows `from..to` for `user` in statements of 2,000 rows. */
async function insert(db: Database, user: string, from: number, to: number) {
  for (let a = from; a <= to; a += 2000) {
    const values = [];
    for (let id = a; id <= Math.min(to, a + 1999); id++) {
      values.push(`(${id}, 'v${id}', ${id % 7})`);
    }
    await rowsOf(db, `INSERT INTO app.items (id, title, n) VALUES ${values.join(", ")}`, user);
  }
}

async function flush(db: Database) {
  await rowsOf(db, "FLUSH TABLE app.items");
  await db.hooks.idle();
}

interface Unzipped {
  manifest: {
    snapshot_seq: string;
    tables: { table: string; rows: number }[];
    members: Record<string, { sha256: string; bytes: number }>;
  };
  members: Map<string, Uint8Array>;
}

/** Runs EXPORT USER DATA as `user`, waits for it, reads the zip and checks every checksum. */
async function exportOf(db: Database, user: string, during?: () => Promise<void>) {
  const [[exportId]] = await rowsOf(db, "EXPORT USER DATA", user);
  await during?.();
  await db.hooks.idle();
  const file = db.exportFile(String(exportId));
  assert(file, "the export is written");
  const reader = new ZipReader(new BlobReader(new Blob([await Deno.readFile(file.path)])));
  const members = new Map<string, Uint8Array>();
  for (const entry of await reader.getEntries()) {
    if (!entry.directory) members.set(entry.filename, await entry.getData!(new Uint8ArrayWriter()));
  }
  await reader.close();
  const manifest = JSON.parse(new TextDecoder().decode(members.get("manifest.json")));
  for (const [name, m] of Object.entries(manifest.members as Unzipped["manifest"]["members"])) {
    const bytes = members.get(name)!;
    assertEquals(bytes.length, m.bytes, name);
    assertEquals(createHash("sha256").update(bytes).digest("hex"), m.sha256, name);
  }
  return { manifest, members } as Unzipped;
}

function jsonl(u: Unzipped, name: string): Record<string, unknown>[] {
  const text = new TextDecoder().decode(u.members.get(name));
  return text.split("\n").filter((l) => l).map((l) => JSON.parse(l));
}

const byId = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  Number(a.id) - Number(b.id);

Deno.test("export streams segments with tombstones and buffered versions, equal to SELECT", async () => {
  await withDb(async (db) => {
    await rowsOf(
      db,
      "CREATE NAMESPACE app; CREATE USER alice WITH PASSWORD 'pw1pw1pw1' ROLE user; CREATE USER bob WITH PASSWORD 'pw1pw1pw1' ROLE user",
    );
    await rowsOf(db, "CREATE USER TABLE app.items (id BIGINT PRIMARY KEY, title TEXT, n INT)");
    await insert(db, "alice", 1, 30_000);
    await insert(db, "bob", 1, 500);
    await flush(db);
    // Updates and deletes of flushed rows, flushed again: keys in two segments, tombstoned.
    await rowsOf(db, "UPDATE app.items SET title = 'second' WHERE id <= 1000", "alice");
    await rowsOf(db, "DELETE FROM app.items WHERE id > 29500", "alice");
    await flush(db);
    await rowsOf(db, "ALTER TABLE app.items ADD COLUMN note TEXT DEFAULT 'none'");
    await insert(db, "alice", 30_001, 31_000);
    await flush(db);
    // Buffered versions over flushed rows: updates, a delete, a re-insert of a deleted key.
    await rowsOf(db, "UPDATE app.items SET note = 'buffered' WHERE id <= 10", "alice");
    await rowsOf(db, "DELETE FROM app.items WHERE id = 20", "alice");
    await rowsOf(db, "INSERT INTO app.items (id, title, n) VALUES (29999, 'back', 1)", "alice");

    const u = await exportOf(db, "alice");
    const out = jsonl(u, "app/items.jsonl").sort(byId);
    const r = await db.execute("SELECT * FROM app.items ORDER BY id", { user: "alice" });
    if (r.error) throw r.error;
    const { schema, types } = r.results[0];
    const want = r.results[0].rows!.map((row) =>
      Object.fromEntries(row.map((v, i) => [schema![i].name, toJsonValue(v, types![i])]))
    );
    assertEquals(out.length, 30_500);
    assertEquals(u.manifest.tables.map((t) => [t.table, t.rows]), [["items", 30_500]]);
    assertEquals(JSON.parse(JSON.stringify(out)), JSON.parse(JSON.stringify(want)));
    assertEquals(out.find((o) => o.id === "5" || o.id === 5)?.note, "buffered");
    assert(!out.some((o) => Number(o.id) === 20), "a buffered delete hides the flushed row");

    // The Parquet member: the same rows, in more than one row group.
    const bytes = u.members.get("app/items.parquet")!;
    const file = bytes.slice().buffer;
    assert(parquetMetadata(file).row_groups.length > 1, "written a row group at a time");
    const pq = await parquetReadObjects({ file, compressors });
    assertEquals(pq.length, out.length);
    const pqIds = pq.map((o) => Number(o.id)).sort((a, b) => a - b);
    assertEquals(pqIds, out.map((o) => Number(o.id)));
    const ten = pq.find((o) => Number(o.id) === 10)!;
    assertEquals([ten.title, ten.note], ["second", "buffered"]);
  });
});

Deno.test("a statement racing the export and a flush is wholly in it or wholly out", async () => {
  await withDb(async (db) => {
    await rowsOf(
      db,
      "CREATE NAMESPACE app; CREATE USER alice WITH PASSWORD 'pw1pw1pw1' ROLE user; CREATE USER bob WITH PASSWORD 'pw1pw1pw1' ROLE user",
    );
    await rowsOf(db, "CREATE USER TABLE app.items (id BIGINT PRIMARY KEY, title TEXT, n INT)");
    await insert(db, "alice", 1, 20_000);
    await flush(db);
    await insert(db, "alice", 20_001, 24_000);
    for (let round = 0; round < 3; round++) {
      const u = await exportOf(db, "alice", async () => {
        // One statement changes every row; a flush runs beside the export.
        const update = rowsOf(db, `UPDATE app.items SET n = ${100 + round}`, "alice");
        await Promise.all([update, db.hooks.flush(db.hooks.table("app", "items"))]);
      });
      const updated = jsonl(u, "app/items.jsonl").filter((o) => o.n === 100 + round).length;
      assert(updated === 0 || updated === 24_000, `round ${round}: ${updated} rows updated, a mix`);
      const seq = BigInt(u.manifest.snapshot_seq);
      for (const o of jsonl(u, "app/items.jsonl")) assert(BigInt(String(o._seq)) <= seq);
      assertEquals(u.manifest.tables[0].rows, 24_000);
    }
  });
});

Deno.test("a table flush passes by the scopes an export holds and flushes the other users", async () => {
  await withDb(async (db) => {
    await rowsOf(
      db,
      "CREATE NAMESPACE app; CREATE USER alice WITH PASSWORD 'pw1pw1pw1' ROLE user; " +
        "CREATE USER bob WITH PASSWORD 'pw1pw1pw1' ROLE user",
    );
    await rowsOf(db, "CREATE USER TABLE app.items (id BIGINT PRIMARY KEY, title TEXT, n INT)");
    await insert(db, "alice", 1, 100);
    await insert(db, "bob", 1, 100);
    const { cold } = partsOf(db);
    const table = db.hooks.table("app", "items");
    await cold.holdScopes([table.id], "alice", async () => {
      await db.hooks.flush(table); // returns although alice's scope is held
      assert(cold.hasColdData(table.id, "bob"), "bob's rows are flushed");
      assert(!cold.hasColdData(table.id, "alice"), "alice's held scope is not");
    });
    await db.hooks.flush(table);
    assert(cold.hasColdData(table.id, "alice"), "flushed once released");
    assertEquals((await rowsOf(db, "SELECT COUNT(*) FROM app.items", "alice"))[0][0], 100n);
  });
});
