// Old topic messages in Parquet segments: an offload moves them out of SQLite without a gap or a
// duplicate; a consumer far behind, a new group from EARLIEST and a redelivery read them back
// (also after reopening); trimming drops whole segments with their files; DROP USER rewrites the
// segments that held the user's messages; MESSAGE_IDs stay in SQLite, so dedupe still holds.

import { Database } from "../mod.ts";
import { assert, assertEquals, until, withDatabase } from "../../tests/_util.ts";

type Rows = unknown[][];

async function q(db: Database, sql: string): Promise<Rows> {
  const r = await db.execute(sql);
  if (r.error) throw new Error(`${r.error.code}: ${r.error.message} in ${sql}`);
  return (r.results.at(-1)?.rows ?? []) as Rows;
}

const offload = (db: Database) =>
  db.hooks.runJob({ type: "offload-topics", parameters: { hot_ms: 0, min_rows: 1 } });

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string) {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(`${d}/${e.name}`);
      else if (e.name.endsWith(".parquet")) out.push(`${d}/${e.name}`);
    }
  }
  await walk(`${dir}/topics`).catch(() => {});
  return out;
}

/** Consumes and acks until empty; the (partition, offset, i) of every message in order. */
async function drain(db: Database, group: string, extra = ""): Promise<[number, number, number][]> {
  const all: [number, number, number][] = [];
  while (true) {
    const rows = await q(db, `CONSUME FROM app.t GROUP '${group}' ${extra} LIMIT 70`);
    if (rows.length === 0) return all;
    for (const r of rows) all.push([Number(r[1]), Number(r[2]), JSON.parse(String(r[6])).i]);
    await q(db, `ACK app.t GROUP '${group}' OFFSETS (${rows.map((r) => `${r[1]}:${r[2]}`)})`);
  }
}

async function publish(db: Database, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const id = i % 50 === 0 ? ` MESSAGE_ID 'm${i}'` : "";
    await q(db, `PUBLISH TO app.t KEY 'k${i % 7}'${id} PAYLOAD '{"i":${i}}'`);
  }
}

function checkComplete(got: [number, number, number][], n: number, what: string): void {
  assertEquals(
    got.map((g) => g[2]).sort((a, b) => a - b),
    Array.from({ length: n }, (_, i) => i),
    what,
  );
  for (const p of new Set(got.map((g) => g[0]))) {
    const offsets = got.filter((g) => g[0] === p).map((g) => g[1]);
    assertEquals(offsets, [...offsets].sort((a, b) => a - b), `${what}: partition ${p} in order`);
  }
}

Deno.test("topic segments: offloaded messages read back by late groups, in order, after reopening", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let db = await Database.open({ dataDir: dir });
    await q(
      db,
      "CREATE NAMESPACE app; CREATE TOPIC app.t PARTITIONS 2 WITH (VISIBILITY_TIMEOUT_SECONDS = 1)",
    );
    await publish(db, 0, 300);
    const early = await drain(db, "g");
    checkComplete(early, 300, "before the offload");
    await publish(db, 300, 600);
    // h claims a few (never acks them) before they move out: they come back from the segment.
    const claimed = await q(db, "CONSUME FROM app.t GROUP 'h' LIMIT 5");
    assertEquals(claimed.length, 5);
    await offload(db);
    assert((await files(dir)).length >= 2, "one segment per partition at least");
    const total = await q(db, "SELECT messages FROM system.topics WHERE topic_name = 't'");
    assertEquals(total[0][0], 600n, "every message counted once: SQLite and segments");
    // Dedupe: the ids stayed in SQLite.
    const dup = await q(db, `PUBLISH TO app.t MESSAGE_ID 'm100' PAYLOAD '{"i":-1}'`);
    assertEquals(dup[0][2], true);
    checkComplete([...early, ...await drain(db, "g")], 600, "g after the offload");
    await db.close();
    db = await Database.open({ dataDir: dir });
    const late = await drain(db, "late", "FROM EARLIEST");
    checkComplete(late, 600, "a new group from EARLIEST, after reopening");
    // h's 5 claims run out: redelivered (delivery 2) from the segments; the rest as they come.
    const again: string[] = [];
    await until(
      async () => {
        const rows = await q(db, "CONSUME FROM app.t GROUP 'h' LIMIT 600 WAIT 3000");
        for (const r of rows) if (r[9] === 2) again.push(`${r[1]}:${r[2]}`);
        const fresh = rows.filter((r) => r[9] === 1);
        if (fresh.length) {
          await q(db, `ACK app.t GROUP 'h' OFFSETS (${fresh.map((r) => `${r[1]}:${r[2]}`)})`);
        }
        return again.length >= 5;
      },
      "h's expired claims come back",
      20_000,
    );
    assertEquals(again.sort(), claimed.map((r) => `${r[1]}:${r[2]}`).sort());
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("topic segments: trimmed whole once every group acked them; DROP USER rewrites them", async () => {
  await withDatabase(async (db, dir) => {
    await q(
      db,
      `CREATE NAMESPACE app; CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, b TEXT);
      CREATE TOPIC app.t; ALTER TOPIC app.t ADD SOURCE app.notes ON INSERT;
      CREATE USER alice WITH PASSWORD 'pw' ROLE user; CREATE USER bob WITH PASSWORD 'pw' ROLE user`,
    );
    for (let i = 0; i < 20; i++) {
      for (const u of ["alice", "bob"]) {
        await q(db, `EXECUTE AS USER '${u}' (INSERT INTO app.notes VALUES (${i}, '${u}'))`);
      }
    }
    await offload(db);
    assertEquals((await files(dir)).length, 1);
    const r = await db.execute("DROP USER alice");
    assert(r.error === undefined, r.error?.message);
    const kept = await q(db, "SELECT messages FROM system.topics WHERE topic_name = 't'");
    assertEquals(kept[0][0], 20n, "only bob's 20 are left");
    const users = new Set<unknown>();
    while (true) {
      const rows = await q(db, "CONSUME FROM app.t GROUP 'g' LIMIT 100");
      if (rows.length === 0) break;
      for (const row of rows) users.add(row[5]);
      await q(db, `ACK app.t GROUP 'g' OFFSETS (${rows.map((x) => `${x[1]}:${x[2]}`)})`);
    }
    assertEquals([...users], ["bob"]);
    await db.hooks.runJob({ type: "trim-topics" });
    await until(async () => (await files(dir)).length === 0, "the acked segment's file goes", 5000);
    const none = await q(db, "SELECT messages FROM system.topics WHERE topic_name = 't'");
    assertEquals(none[0][0], 0n);
  });
});

Deno.test("parked messages come back after a restart, for an empty key, and from a segment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let db = await Database.open({ dataDir: dir });
    await q(db, "CREATE NAMESPACE app; CREATE TOPIC app.t");
    for (const k of ["a", "", "a", "", "b"]) {
      await q(db, `PUBLISH TO app.t KEY '${k}' PAYLOAD '{"k":"${k}"}'`);
    }
    const first = await q(db, "CONSUME FROM app.t GROUP 'g' LIMIT 2"); // a@0, ''@1
    assertEquals(first.map((r) => r[2]), [0n, 1n]);
    assertEquals((await q(db, "CONSUME FROM app.t GROUP 'g'")).map((r) => r[2]), [4n]); // b; 2, 3 parked
    await q(db, "ACK app.t GROUP 'g' OFFSETS (0:0, 0:1, 0:4)");
    await offload(db); // the parked 2 and 3 now live in a segment
    await db.close();
    db = await Database.open({ dataDir: dir });
    const next = await q(db, "CONSUME FROM app.t GROUP 'g'");
    assertEquals(next.map((r) => [r[2], r[3]]), [[2n, "a"], [3n, ""]]);
    await q(db, "ACK app.t GROUP 'g' OFFSETS (0:2, 0:3)");
    const groups = await q(db, "SELECT committed_offset, pending, lag FROM system.topic_groups");
    assertEquals(groups, [[5n, 0n, 0n]]);
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
