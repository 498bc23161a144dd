// Full disks through a real server process, on real tmpfs mounts (issue 15 item 2; skipped with
// the reason where this machine cannot mount one):
// - the storage full: a filesystem storage on a 1 MiB tmpfs fills up under writes; flush jobs go
//   to `retrying`, writes keep landing in the buffer until its bound (max_buffered_rows), then
//   STORAGE_ERROR naming the bound and the flush's failure, reads keep answering; once the tmpfs
//   grows the retried flush drains the buffer by itself and writes are accepted again.
// - the SQLite file's disk full: the data directory on a small tmpfs; writers from four clients
//   get STORAGE_ERROR (never a 500), the server stays healthy, nothing acknowledged is lost and
//   nothing refused is applied — before and after the space comes back, and across a restart.

import { assert, assertEquals, ROOT, rows, startServer, until } from "../server/_server.ts";
import { untilJobsIdle } from "../server/_jobs.ts";
import { mountTmpfs, type Tmpfs } from "../_tmpfs.ts";
import { bufferedRows, flushJobs, Ledger, untilRetrying } from "./_faults.ts";

const TABLE = "app.t";
const T0 = Date.now();
function log(line: string): void {
  console.log(`  [${((Date.now() - T0) / 1000).toFixed(1)} s] ${line}`);
}

/** ~1 KiB that compresses badly, so the tmpfs fills after a few hundred rows. */
function noise(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(768));
  return btoa(String.fromCharCode(...bytes));
}

async function withTmpfs(megabytes: number, fn: (fs: Tmpfs) => Promise<void>): Promise<void> {
  const fs = await mountTmpfs(megabytes);
  if (typeof fs === "string") {
    log(`skipped: ${fs}`);
    return;
  }
  try {
    await fn(fs);
  } finally {
    await fs.unmount();
  }
}

Deno.test("disk full: the storage's tmpfs fills; writes buffer up to the bound, then flush once it grows", async () => {
  await withTmpfs(1, async (fs) => {
    const BOUND = 300;
    const dataDir = await Deno.makeTempDir({ prefix: "kalamdb-storage-full-" });
    let s = await startServer({ KALAMDB_MAX_BUFFERED_ROWS: String(BOUND) }, { dataDir });
    try {
      await s.root(`CREATE STORAGE small TYPE filesystem PATH '${fs.dir}/store';
        CREATE NAMESPACE app; CREATE SHARED TABLE ${TABLE} (id BIGINT PRIMARY KEY, v TEXT)
        WITH (STORAGE_ID = 'small', FLUSH_POLICY = 'rows:40,interval:600')`);
      const ledger = new Ledger(TABLE);
      await ledger.insert(s, 40, "a");
      await s.root(`FLUSH TABLE ${TABLE}`);
      await untilJobsIdle(s);
      assertEquals(await bufferedRows(s, TABLE), 0, "flushed while there is space");
      // Fill the tmpfs, so the next flush fails for want of space.
      const filler = await Deno.open(`${fs.dir}/filler`, { write: true, create: true });
      try {
        for (;;) await filler.write(new Uint8Array(64 * 1024)); // ends at ENOSPC (1 MiB)
      } catch (err) {
        log(`tmpfs filled: ${(err as Error).message}`);
      } finally {
        filler.close();
      }
      await ledger.insert(s, 40, "b", noise());
      await s.root(`FLUSH TABLE ${TABLE}`);
      const retrying = await untilRetrying(s, "t");
      log(`flush job ${retrying[0]} retrying: ${retrying[3]}`);
      // Writes keep landing in the buffer until its bound, then are refused.
      let refused;
      await until(
        async () => {
          const r = await ledger.tryInsert(s, 10, "c", noise());
          if (r.status === 200) return false;
          refused = r;
          return true;
        },
        "a write refused once the buffer is at its bound",
        120_000,
        0,
      );
      const err = refused!.body?.error;
      log(`refused after ${ledger.rows.size} rows: ${refused!.status} ${err?.message}`);
      assertEquals([refused!.status, err?.code], [503, "STORAGE_ERROR"], refused!.text);
      assert(/max_buffered_rows/.test(err.message), `names the bound: ${err.message}`);
      assert(/space|ENOSPC/i.test(err.message), `says why the flush fails: ${err.message}`);
      assert(await bufferedRows(s, TABLE) >= BOUND - 10, "the buffer holds up to the bound");
      // Reads keep answering, over the flushed segments and the buffer, and refused writes
      // changed nothing.
      await ledger.check(s, "storage full");
      const again = await ledger.tryInsert(s, 1, "b");
      assertEquals(again.body?.error?.code, "STORAGE_ERROR", "still refused while full");

      await fs.resize(64);
      log("tmpfs grown to 64 MiB");
      await Deno.remove(`${fs.dir}/filler`);
      // No FLUSH here: the job that kept retrying drains the buffer by itself.
      await until(async () => await bufferedRows(s, TABLE) === 0, "buffer drained", 90_000, 100);
      await untilJobsIdle(s, 60_000);
      const jobs = await flushJobs(s, "t");
      const first = jobs.find((j) => j[0] === retrying[0])!;
      log(`job ${first[0]} ${first[1]} after ${first[2]} retries; ${jobs.length} flush jobs`);
      assertEquals(first[1], "completed", "the retried job completes once there is space");
      await ledger.insert(s, 10, "d");
      await ledger.check(s, "space back");
      const out = await s.stop();
      assertEquals(out.code, 0, out.stderr);
      s = await startServer({}, { dataDir });
      await ledger.check(s, "after a restart");
    } finally {
      await s.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  });
});

Deno.test("disk full: the SQLite file's disk fills; writes get STORAGE_ERROR, nothing acknowledged is lost", async () => {
  await withTmpfs(6, async (fs) => {
    const dataDir = `${fs.dir}/data`;
    let s = await startServer({}, { dataDir });
    try {
      await s.root(`CREATE NAMESPACE app; CREATE SHARED TABLE ${TABLE} (id BIGINT PRIMARY KEY,
        v TEXT) WITH (FLUSH_POLICY = 'rows:1000000,interval:3600')`);
      const ledger = new Ledger(TABLE);
      const codes = new Map<string, number>();
      // Four clients write at once (their statements share group commits) until each was
      // refused three times.
      await Promise.all(Array.from({ length: 4 }, async (_, w) => {
        let refusals = 0;
        await until(
          async () => {
            const r = await ledger.tryInsert(s, 20, `w${w}_`, noise());
            if (r.status !== 200) {
              const code = `${r.status} ${r.body?.error?.code}`;
              codes.set(code, (codes.get(code) ?? 0) + 1);
              refusals++;
            }
            return refusals >= 3;
          },
          `writer ${w} refused 3 times`,
          120_000,
          0,
        );
      }));
      log(`${ledger.rows.size} rows acknowledged; refusals: ${JSON.stringify([...codes])}`);
      assertEquals([...codes.keys()], ["503 STORAGE_ERROR"], "every refusal is STORAGE_ERROR");
      assert(ledger.rows.size > 0, "some writes landed before the disk filled");
      const health = await s.request("GET", "/v1/api/healthcheck");
      assertEquals(health.status, 200, "healthy with a full disk");
      await ledger.check(s, "disk full");
      // A flush cannot write the jobs table or a segment now: it must not take the server down.
      const flush = await s.sql(`FLUSH TABLE ${TABLE}`, { auth: ROOT });
      log(`FLUSH with a full disk: HTTP ${flush.status} ${flush.body?.error?.code ?? "queued"}`);

      await fs.resize(64);
      log("tmpfs grown to 64 MiB");
      await until(
        async () => (await ledger.tryInsert(s, 5, "back")).status === 200,
        "writes accepted again",
        30_000,
      );
      await ledger.check(s, "space back");
      log("writes accepted again");
      await s.root(`FLUSH TABLE ${TABLE}`);
      await until(async () => await bufferedRows(s, TABLE) === 0, "flushed", 90_000, 100);
      log("flushed");
      await untilJobsIdle(s, 60_000);
      await ledger.check(s, "flushed after the disk full");
      log("jobs idle");
      const out = await s.stop();
      assertEquals(out.code, 0, out.stderr);
      s = await startServer({}, { dataDir });
      await ledger.check(s, "after a restart");
      const count = Number(rows(await s.root(`SELECT COUNT(*) FROM ${TABLE}`))[0][0]);
      log(`after the restart: ${count} rows, as acknowledged`);
    } finally {
      await s.stop();
    }
  });
});
