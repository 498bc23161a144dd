// Child process for tests/durability_test.ts. Opens a Database on the directory given as the
// first argument and, in mode `write` (default), inserts rows forever — alternating single
// inserts and small concurrent groups — printing `ack <id>` only after execute() resolved
// without error. In mode `hold` it just keeps the directory open. The parent SIGKILLs it.
//
//   deno run -A tests/_writer.ts <dataDir> [write|hold]

import { Database } from "../storage/mod.ts";

const [dataDir, mode = "write"] = Deno.args;
if (!dataDir) {
  console.error("usage: _writer.ts <dataDir> [write|hold]");
  Deno.exit(2);
}

const encoder = new TextEncoder();
/** Writes a whole line to stdout with no buffering, so a SIGKILL cannot lose a printed ack. */
function say(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

const db = await Database.open({ dataDir, nodeId: 2 });

async function insert(id: number): Promise<void> {
  const res = await db.execute(
    `INSERT INTO app.events (id, payload) VALUES (${id}, 'event ${id}');`,
  );
  if (res.error) {
    console.error(`insert ${id} failed: ${res.error.code}: ${res.error.message}`);
    Deno.exit(4);
  }
  say(`ack ${id}`);
}

if (mode === "hold") {
  say("ready");
  // Keep the process (and the directory lock) alive until the parent kills it.
  setInterval(() => {}, 60_000);
} else {
  const setup = await db.execute(
    `CREATE NAMESPACE IF NOT EXISTS app;
     CREATE USER TABLE IF NOT EXISTS app.events (id BIGINT PRIMARY KEY, payload TEXT NOT NULL);`,
  );
  if (setup.error) {
    console.error(`setup failed: ${setup.error.code}: ${setup.error.message}`);
    Deno.exit(3);
  }
  say("ready");

  let next = 1;
  for (let round = 0;; round++) {
    const size = round % 2 === 0 ? 1 : 1 + (round % 4); // 1, 2, 1, 4, 1, 2, …
    const group: Promise<void>[] = [];
    for (let k = 0; k < size; k++) group.push(insert(next++));
    await Promise.all(group);
  }
}
