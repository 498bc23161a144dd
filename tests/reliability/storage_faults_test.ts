// Storage faults through a real server process (issue 15 item 2): a filesystem storage whose
// directories become unwritable, and an S3 server (loopback Swift) whose proxy is killed during a
// flush and kept down while writes go on. In both, flush jobs must go to `retrying`, writes must
// keep being acknowledged into the buffer, reads must keep answering, and once the storage is
// back every acknowledged row must be there exactly once. Design decision: the test keeps its own
// ledger of acknowledged writes (id → last value) and compares the whole table with it, so a lost
// row, a duplicate or a stale version all fail the same comparison.

import {
  assert,
  assertEquals,
  assertError,
  ROOT,
  rows,
  show,
  type TestServer,
  until,
  withServer,
} from "../server/_server.ts";
import { untilJobsIdle } from "../server/_jobs.ts";
import {
  bufferedRows,
  denyWrites,
  flushJobs,
  Ledger,
  startSwift,
  untilRetrying,
} from "./_faults.ts";

const TABLE = "app.t";
/**
 * The storage stays away at least this long (and until two more flush attempts failed):
 * `KALAMDB_OUTAGE_S=180 deno test -A tests/reliability/storage_faults_test.ts` for minutes.
 */
const OUTAGE_MS = Number(Deno.env.get("KALAMDB_OUTAGE_S") ?? 0) * 1000;
const T0 = Date.now();
/** A log line with the seconds since the file started (where a slow run spends its time). */
function log(line: string): void {
  console.log(`  [${((Date.now() - T0) / 1000).toFixed(1)} s] ${line}`);
}

const buffered = (s: TestServer) => bufferedRows(s, TABLE);

/**
 * The common script: rows flushed before the fault, the fault, FLUSH → `retrying`, writes and
 * reads during the outage, the storage back, everything flushed exactly once.
 */
async function outage(
  s: TestServer,
  storage: string,
  fault: { start(): Promise<void>; end(): Promise<void>; readsFlushed: boolean },
): Promise<void> {
  await s.root(`CREATE NAMESPACE app; CREATE SHARED TABLE ${TABLE} (id BIGINT PRIMARY KEY,
    v TEXT) WITH (STORAGE_ID = '${storage}', FLUSH_POLICY = 'rows:30,interval:600')`);
  const ledger = new Ledger(TABLE);
  await ledger.insert(s, 40, "a");
  await s.root(`FLUSH TABLE ${TABLE}`);
  await untilJobsIdle(s);
  assertEquals(await buffered(s), 0, "flushed before the fault");
  const before = (await flushJobs(s, "t")).length;

  await ledger.insert(s, 40, "b");
  await s.root(`FLUSH TABLE ${TABLE}`);
  await fault.start();
  // That flush may have finished before the fault began: one more, certainly after it.
  await ledger.insert(s, 5, "b2_");
  await s.root(`FLUSH TABLE ${TABLE}`);
  const retrying = await untilRetrying(s, "t");
  log(`flush job ${retrying[0]} retrying: ${retrying[3]}`);
  // Writes keep landing and reads keep answering while the storage stays away, until the jobs
  // have failed twice more (retries failing again, or a job out of retries and a new one).
  // Without S3 an UPDATE (even of buffered rows: the scan reads the flushed segment) must fail
  // with STORAGE_ERROR and change nothing; the ledger check after the outage proves it.
  const attempts = async () =>
    (await flushJobs(s, "t")).slice(before)
      .reduce((n, j) => n + Number(j[2]) + (j[1] === "failed" ? 1 : 0), 0);
  const attemptsAtStart = await attempts();
  const away = Date.now();
  let round = 0;
  await until(
    async () => {
      await ledger.insert(s, 15, `c${round}_`);
      if (fault.readsFlushed) {
        await ledger.update(s, 1 + (round % 8) * 5, 5 + (round % 8) * 5, `u${round}_`);
        await ledger.check(s, `during the outage, round ${round}`);
      }
      round++;
      const jobs = (await flushJobs(s, "t")).slice(before);
      assert(!jobs.some((j) => j[1] === "completed"), `no flush completed: ${show(jobs)}`);
      return await attempts() >= attemptsAtStart + 2 && Date.now() - away >= OUTAGE_MS;
    },
    "flush attempts failing while the storage is away",
    OUTAGE_MS + 30_000,
    0,
  );
  const newer = [...ledger.rows.keys()].filter((id) => id > 80).length;
  const bufOnly = await s.sql(`SELECT COUNT(*) FROM ${TABLE} WHERE id > 80`, { auth: ROOT });
  if (bufOnly.status !== 200 && !fault.readsFlushed) {
    assertError(bufOnly, "STORAGE_ERROR", "read without S3");
  } else assertEquals(Number(rows(bufOnly)[0][0]), newer, "buffered rows readable");
  log(`${round} write rounds acknowledged; read of buffered rows: HTTP ${bufOnly.status}`);
  if (!fault.readsFlushed) {
    // An UPDATE of buffered rows only reads no segment (pruned by its WHERE, as SELECT does), so
    // it works without the storage; one of flushed rows works from the segment cache or is
    // STORAGE_ERROR and changes nothing (the ledger check after the outage proves which).
    await ledger.update(s, 81, 90, "o");
    const r = await s.sql(`UPDATE ${TABLE} SET v = 'f' || CAST(id AS TEXT) WHERE id <= 5`, {
      auth: ROOT,
    });
    if (r.status === 200) { for (let id = 1; id <= 5; id++) ledger.rows.set(id, `f${id}`); }
    else assertError(r, "STORAGE_ERROR", "UPDATE of flushed rows without the storage");
    log(`UPDATE of buffered rows: ok; of flushed rows: HTTP ${r.status}`);
  }

  await fault.end();
  log("storage back");
  // No manual FLUSH: the retried job, or the FLUSH_POLICY tick (rows:30) resubmitting after a
  // job ran out of retries, flushes everything by itself.
  await until(async () => await buffered(s) === 0, "buffer flushed after the outage", 40_000, 50);
  await untilJobsIdle(s, 40_000);
  const jobs = (await flushJobs(s, "t")).slice(before);
  const first = jobs.find((j) => j[0] === retrying[0])!;
  log(
    `after the outage: job ${first[0]} ${first[1]} (retries ${first[2]}); ` +
      `${jobs.length} flush job(s): ${jobs.map((j) => j[1]).join(", ")}`,
  );
  assert(jobs.some((j) => j[1] === "completed"), `a flush completed: ${show(jobs)}`);
  await ledger.check(s, "after the outage");
}

Deno.test("storage faults: an unwritable filesystem storage retries, then flushes exactly once", async () => {
  const root = await Deno.makeTempDir({ prefix: "kalamdb-faulty-store-" });
  let restore: (() => Promise<void>) | undefined;
  try {
    // Probe first: skip (with the reason) where this user cannot be denied.
    const probe = await denyWrites(root);
    if (typeof probe === "string") {
      log(`skipped: ${probe}`);
      return;
    }
    await probe.restore();
    await withServer({}, async (s) => {
      await s.root(`CREATE STORAGE faulty TYPE filesystem PATH '${root}'`);
      await outage(s, "faulty", {
        readsFlushed: true,
        async start() {
          const f = await denyWrites(root);
          if (typeof f === "string") throw new Error(f);
          log(`storage made unwritable by ${f.how}`);
          restore = () => f.restore();
        },
        async end() {
          await restore?.();
          restore = undefined;
        },
      });
    });
  } finally {
    await restore?.();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("storage faults: S3 stopped mid-flush and for a while; the flush completes after", async () => {
  const swift = await startSwift();
  if (typeof swift === "string") {
    log(`skipped: ${swift}`);
    return;
  }
  log(`swift ready at ${swift.endpoint}`);
  let down = false;
  try {
    const env = swift.env;
    const creds = JSON.stringify({
      access_key_id: env.KALAMDB_TEST_S3_ACCESS_KEY,
      secret_access_key: env.KALAMDB_TEST_S3_SECRET_KEY,
    });
    const prefix = `faults_${crypto.randomUUID().replaceAll("-", "")}`;
    await withServer({}, async (s) => {
      await s.root(`CREATE STORAGE s3f TYPE s3 BUCKET '${env.KALAMDB_TEST_S3_BUCKET}'
        ENDPOINT '${swift.endpoint}' REGION '${env.KALAMDB_TEST_S3_REGION}'
        CREDENTIALS '${creds}' SHARED_TABLES_TEMPLATE '${prefix}/{namespace}/{table}'
        USER_TABLES_TEMPLATE '${prefix}/{namespace}/{table}/{user_id}'`);
      await outage(s, "s3f", {
        // Reads of flushed segments may come from the segment cache or fail with STORAGE_ERROR;
        // the buffer-only and full checks run once the proxy is back.
        readsFlushed: false,
        async start() {
          // The FLUSH was just answered: its job is queued or running when the proxy dies.
          const at = (await flushJobs(s, "t")).at(-1)?.[1];
          await swift.stopProxy();
          down = true;
          log(`swift proxy killed (flush job was ${at})`);
        },
        async end() {
          await swift.startProxy();
          down = false;
        },
      });
    });
  } finally {
    if (down) log("proxy left down by a failure");
    await swift.stop();
  }
});
