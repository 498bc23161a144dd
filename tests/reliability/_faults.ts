// Storage faults for the reliability suites: a directory made unwritable (chmod 0500, or
// `chattr +i` when running as root, where modes do not deny) and a loopback Swift S3 server whose
// proxy can be stopped and started again. Design decision: every fault is undone by the same
// object that made it, and only processes this kit started are signalled, by pid.

import type { Reply, TestServer } from "../server/_server.ts";
import { assertEquals, assertSuccess, ROOT, rows, until } from "../server/_server.ts";

const SWIFT = new URL("../../scripts/s3/swift.sh", import.meta.url).pathname;

/** A fault that can be undone; `how` names the mechanism for the test log. */
export interface Fault {
  readonly how: string;
  restore(): Promise<void>;
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output()
    .catch((err) => ({ success: false, stdout: new Uint8Array(), stderr: String(err) }));
  const dec = new TextDecoder();
  const err = typeof out.stderr === "string" ? out.stderr : dec.decode(out.stderr);
  return { ok: out.success, text: dec.decode(out.stdout) + err };
}

function chmodTree(path: string, dirMode: number): void {
  const info = Deno.lstatSync(path);
  if (!info.isDirectory) return;
  for (const e of Deno.readDirSync(path)) chmodTree(`${path}/${e.name}`, dirMode);
  Deno.chmodSync(path, dirMode);
}

/**
 * Makes `dir` and everything under it unwritable; the reason instead when this machine
 * cannot deny the current user (root without a working chattr).
 */
export async function denyWrites(dir: string): Promise<Fault | string> {
  if (Deno.uid() !== 0) {
    chmodTree(dir, 0o500);
    return { how: "chmod 0500", restore: () => Promise.resolve(chmodTree(dir, 0o700)) };
  }
  const set = await run("chattr", ["-R", "+i", dir]);
  if (!set.ok) {
    await run("chattr", ["-R", "-i", dir]);
    return `running as root (chmod does not deny) and chattr +i failed: ${set.text.trim()}`;
  }
  return {
    how: "chattr +i (root)",
    async restore() {
      const r = await run("chattr", ["-R", "-i", dir]);
      if (!r.ok) throw new Error(`chattr -i ${dir}: ${r.text}`);
    },
  };
}

/** Rows of `table` still in the buffer (SHOW STATS), 0 once everything flushed. */
export async function bufferedRows(s: TestServer, table: string): Promise<number> {
  const stats = rows(await s.root(`SHOW STATS FOR TABLE ${table}`));
  const row = stats.find(([metric]) => metric === "buffered_rows");
  if (!row) throw new Error(`SHOW STATS has no buffered_rows: ${JSON.stringify(stats)}`);
  return Number(row[1]);
}

/** The flush jobs of `table` as [job_id, status, retry_count, message]. */
export async function flushJobs(s: TestServer, table: string): Promise<string[][]> {
  const r = await s.root(`SELECT job_id, status, retry_count, message FROM system.jobs
    WHERE job_type = 'flush' AND table_name = '${table}' ORDER BY created_at, job_id`);
  return rows(r).map((row) => row.map(String));
}

/** Waits until a flush job of `table` is `retrying`; returns it. */
export async function untilRetrying(s: TestServer, table: string, timeoutMs = 30_000) {
  return await until(
    async () => (await flushJobs(s, table)).find((j) => j[1] === "retrying"),
    `a flush job of ${table} retrying`,
    timeoutMs,
  );
}

/** A loopback Swift S3 server this kit started; its proxy can be stopped and restarted. */
export interface Swift {
  readonly endpoint: string;
  readonly env: Record<string, string>;
  stopProxy(): Promise<void>;
  startProxy(): Promise<void>;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT"); // a harmless signal: does the process still exist?
    return true;
  } catch {
    return false;
  }
}

/** Starts Swift under a temp dir, or returns why it cannot (no Swift installed, start failed). */
export async function startSwift(): Promise<Swift | string> {
  for (const bin of ["swift-proxy-server", "swift-object-server", "memcached"]) {
    if (!(await run("sh", ["-c", `command -v ${bin}`])).ok) {
      return `${bin} not installed (scripts/s3/swift.sh install)`;
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-swift-faults-" });
  const started = await run("bash", [SWIFT, "start", dir]);
  const stopAll = async () => {
    await run("bash", [SWIFT, "stop", dir]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  if (!started.ok) {
    await stopAll();
    return `swift.sh start failed: ${started.text.trim().split("\n").slice(-3).join(" | ")}`;
  }
  const env = Object.fromEntries(
    Deno.readTextFileSync(`${dir}/s3.env`).trim().split("\n").map((l) => l.split("=", 2)),
  );
  const endpoint = env.KALAMDB_TEST_S3_ENDPOINT;
  // swift.sh starts memcached, account, container, object, proxy: the proxy is the last pid.
  const pids = () => Deno.readTextFileSync(`${dir}/pids`).trim().split("\n").map(Number);
  let proxy: Deno.ChildProcess | undefined;
  const healthy = async () => {
    try {
      const r = await fetch(`${endpoint}/healthcheck`);
      await r.body?.cancel();
      return r.status === 200;
    } catch {
      return false;
    }
  };
  return {
    endpoint,
    env,
    async stopProxy() {
      const pid = pids().at(-1)!;
      Deno.kill(pid, "SIGKILL");
      await until(() => !alive(pid), `swift proxy ${pid} gone`, 10_000);
      if (proxy) await proxy.status;
    },
    async startProxy() {
      // `exec` keeps the pid: the one recorded is the proxy itself, so swift.sh stop ends it.
      proxy = new Deno.Command("bash", {
        args: [
          "-c",
          `exec swift-proxy-server '${dir}/etc/proxy-server.conf' -v \
          >>'${dir}/logs/proxy.log' 2>&1`,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      Deno.writeTextFileSync(`${dir}/pids`, `${proxy.pid}\n`, { append: true });
      await until(healthy, "swift proxy healthy again", 30_000, 50);
    },
    async stop() {
      await stopAll();
      if (proxy) await proxy.status;
    },
  };
}

/**
 * Acknowledged writes of one table `(id BIGINT PRIMARY KEY, v TEXT)`: id → the last acknowledged
 * value. Compared with the whole table, a lost row, a duplicate or a stale version all fail the
 * same comparison; a refused write is never recorded, so one that was applied fails it too.
 */
export class Ledger {
  readonly rows = new Map<number, string>();
  readonly table: string;
  #next = 1;

  constructor(table: string) {
    this.table = table;
  }

  /** Inserts `n` rows (`v` = tag, id, pad) as root in one statement; records them if acknowledged. */
  async tryInsert(s: TestServer, n: number, tag: string, pad = ""): Promise<Reply> {
    const ids = Array.from({ length: n }, () => this.#next++);
    const values = ids.map((id) => `(${id}, '${tag}${id}${pad}')`).join(", ");
    const r = await s.sql(`INSERT INTO ${this.table} (id, v) VALUES ${values}`, { auth: ROOT });
    if (r.status === 200) { for (const id of ids) this.rows.set(id, `${tag}${id}${pad}`); }
    return r;
  }

  /** Inserts `n` rows; fails unless acknowledged. */
  async insert(s: TestServer, n: number, tag: string, pad = ""): Promise<void> {
    assertSuccess(await this.tryInsert(s, n, tag, pad), `insert ${n} rows`);
  }

  /** Updates ids `from..to` (some of them flushed) to `tag<id>`. */
  async update(s: TestServer, from: number, to: number, tag: string): Promise<void> {
    await s.root(`UPDATE ${this.table} SET v = '${tag}' || CAST(id AS TEXT)
      WHERE id BETWEEN ${from} AND ${to}`);
    for (let id = from; id <= to; id++) if (this.rows.has(id)) this.rows.set(id, `${tag}${id}`);
  }

  /** COUNT(*), no duplicate id, and every row equal to the ledger. */
  async check(s: TestServer, what: string): Promise<void> {
    const count = Number(rows(await s.root(`SELECT COUNT(*) FROM ${this.table}`))[0][0]);
    assertEquals(count, this.rows.size, `${what}: COUNT(*)`);
    const dup = rows(
      await s.root(`SELECT id, COUNT(*) AS n FROM ${this.table} GROUP BY id
      HAVING COUNT(*) > 1`),
    );
    assertEquals(dup, [], `${what}: duplicate ids`);
    const got = rows(await s.root(`SELECT id, v FROM ${this.table} ORDER BY id`))
      .map(([id, v]) => [Number(id), v]);
    const want = [...this.rows].sort((a, b) => a[0] - b[0]);
    assertEquals(got, want, `${what}: full comparison`);
  }
}
