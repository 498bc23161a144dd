// Child process for tests/cold_test.ts: a workload that ends in a flush, for crash tests.
// Opens the data directory, writes rows to a USER table (alice) and a SHARED table — inserts,
// then updates and deletes of some of them — prints `ack <table> <id> <value|deleted>` after
// each acknowledged write, then flushes both tables. With KALAMDB_CRASH_AT set (see
// storage/cold.ts) the flush kills the process at that step; otherwise it prints `flushed`.
//
//   KALAMDB_CRASH_AT=flush:after-manifest deno run -A tests/_flusher.ts <dataDir> <round>

import { Database } from "../storage/mod.ts";

const [dataDir, roundText = "1"] = Deno.args;
const round = Number(roundText);
const encoder = new TextEncoder();
function say(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

const db = await Database.open({ dataDir, nodeId: 4 });
async function run(sql: string, user = "root"): Promise<void> {
  const r = await db.execute(sql, { user });
  if (r.error) {
    console.error(`${sql}: ${r.error.code}: ${r.error.message}`);
    Deno.exit(3);
  }
}

await run(`CREATE NAMESPACE IF NOT EXISTS app;
  CREATE USER TABLE IF NOT EXISTS app.notes (id BIGINT PRIMARY KEY, v TEXT NOT NULL);
  CREATE SHARED TABLE IF NOT EXISTS app.cfg (id BIGINT PRIMARY KEY, v TEXT NOT NULL)`);
if (!db.hooks.hasUser("alice")) {
  await run("CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user");
}
const base = round * 1000;
for (let i = 0; i < 40; i++) {
  const id = base + i;
  await run(`INSERT INTO app.notes (id, v) VALUES (${id}, 'n${id}')`, "alice");
  say(`ack notes ${id} n${id}`);
  await run(`INSERT INTO app.cfg (id, v) VALUES (${id}, 'c${id}')`);
  say(`ack cfg ${id} c${id}`);
}
// Rewrite rows of the previous round (flushed by then): updates and deletes of cold rows.
const prev = base - 1000;
if (prev > 0) {
  for (let i = 0; i < 10; i++) {
    await run(`UPDATE app.notes SET v = 'u${prev + i}' WHERE id = ${prev + i}`, "alice");
    say(`ack notes ${prev + i} u${prev + i}`);
    await run(`DELETE FROM app.cfg WHERE id = ${prev + i}`);
    say(`ack cfg ${prev + i} deleted`);
  }
}
for (const name of ["notes", "cfg"]) {
  await db.hooks.flush(db.hooks.table("app", name));
}
say("flushed");
await db.close();
