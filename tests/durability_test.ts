// Durability and data-directory ownership, tested with a real child process: every insert the
// child saw acknowledged must be there after SIGKILL, and a directory held by a live process
// cannot be opened a second time (the error names the owner's pid).

import { Database } from "../storage/mod.ts";
import { DbError } from "../errors.ts";
import {
  assert,
  assertEquals,
  assertStringIncludes,
  displayRows,
  exec,
  withTempDir,
} from "./_util.ts";

const WRITER = new URL("./_writer.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;
const WANTED_ACKS = 200;

/** Reads a byte stream as text lines; `next()` resolves to null at end of stream. */
class LineReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  async next(): Promise<string | null> {
    while (true) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      if (this.#done) {
        const rest = this.#buffer;
        this.#buffer = "";
        return rest === "" ? null : rest; // a torn last line (killed mid-write) is returned as is
      }
      const { value, done } = await this.#reader.read();
      if (done) this.#done = true;
      else this.#buffer += value;
    }
  }

  async drain(): Promise<string[]> {
    const lines: string[] = [];
    for (let line = await this.next(); line !== null; line = await this.next()) lines.push(line);
    return lines;
  }
}

function spawnWriter(dir: string, mode: "write" | "hold"): Deno.ChildProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WRITER, dir, mode],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Every wait on the child is bounded: one that hangs is killed at the deadline, which ends
  // its output, so the reading loops fail with the writer's stderr instead of hanging.
  const deadline = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  }, CHILD_TIMEOUT_MS);
  child.status.finally(() => clearTimeout(deadline));
  return child;
}

/** The longest a writer child may live (a loaded machine); its tests finish far sooner. */
const CHILD_TIMEOUT_MS = 120_000;

/** Kills the child if it still runs and waits for it, so no test leaks a process. */
async function stop(child: Deno.ChildProcess): Promise<Deno.CommandStatus> {
  try {
    child.kill("SIGKILL");
  } catch { /* already exited */ }
  return await child.status;
}

/** Tries to open `dir`, which `pid` holds, and checks the error. */
async function assertLockedBy(dir: string, pid: number): Promise<void> {
  let db: Database | undefined;
  try {
    db = await Database.open({ dataDir: dir, nodeId: 3 });
  } catch (err) {
    assert(err instanceof DbError, `expected a DbError, got ${err}`);
    assertEquals(err.code, "STORAGE_ERROR");
    assertStringIncludes(err.message, String(pid), "the error names the owner's pid");
    return;
  } finally {
    await db?.close();
  }
  throw new Error(`Database.open succeeded on a directory held by live pid ${pid}`);
}

Deno.test("durability: every acknowledged insert survives SIGKILL of the writer", async () => {
  await withTempDir(async (dir) => {
    const child = spawnWriter(dir, "write");
    const stderr = new Response(child.stderr).text();
    const out = new LineReader(child.stdout);
    const acked = new Set<bigint>();
    const record = (line: string) => {
      const m = /^ack (\d+)$/.exec(line);
      if (m) acked.add(BigInt(m[1]));
    };
    let lockChecked = false;
    try {
      while (acked.size < WANTED_ACKS) {
        const line = await out.next();
        if (line === null) {
          throw new Error(
            `writer exited after ${acked.size} acks (${
              (await child.status).code
            }): ${await stderr}`,
          );
        }
        record(line);
        // While the writer is live and writing, a second opener must be refused.
        if (!lockChecked && acked.size >= 20) {
          lockChecked = true;
          await assertLockedBy(dir, child.pid);
        }
      }
      const status = await stop(child);
      assertEquals(status.signal, "SIGKILL", "the writer was killed, it did not exit by itself");
      // Acks printed between our last read and the kill count too: they were committed.
      for (const line of await out.drain()) record(line);
    } finally {
      await stop(child);
      await out.drain().catch(() => []);
      await stderr;
    }

    const db = await Database.open({ dataDir: dir, nodeId: 1 });
    try {
      const res = await exec(db, "SELECT id, payload FROM app.events;");
      const rows = displayRows(res.results[0]);
      const present = new Set(rows.map((r) => BigInt(r[0])));
      const missing = [...acked].filter((id) => !present.has(id));
      assertEquals(missing, [], `acknowledged ids lost after SIGKILL (acked ${acked.size})`);
      assert(present.size >= acked.size, `${present.size} rows < ${acked.size} acks`);
      for (const [id, payload] of rows) assertEquals(payload, `event ${id}`);
      // The reopened directory is fully writable (the dead writer's lock was taken over).
      await exec(db, "INSERT INTO app.events (id, payload) VALUES (0, 'after restart');");
    } finally {
      await db.close();
    }
  });
});

Deno.test("a data directory held by a live process cannot be opened; the error names its pid", async () => {
  await withTempDir(async (dir) => {
    const child = spawnWriter(dir, "hold");
    const stderr = new Response(child.stderr).text();
    const out = new LineReader(child.stdout);
    try {
      const first = await out.next();
      if (first !== "ready") {
        await stop(child);
        throw new Error(`holder did not start: ${first} ${await stderr}`);
      }
      await assertLockedBy(dir, child.pid);
    } finally {
      await stop(child);
      await out.drain();
      await stderr;
    }
    // Once the holder is gone its stale lock does not block a new owner.
    const db = await Database.open({ dataDir: dir, nodeId: 1 });
    await db.close();
  });
});
