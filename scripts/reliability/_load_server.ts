// The server and the generator processes of the load test (load.ts). `ServerProcess` of
// _crash_server.ts cannot take settings (it clears every KALAMDB_* variable), and this test must
// set a few — the rate limit, trusted proxies for the per-address socket cap, the root password —
// so the server is spawned here, the same way (`main.ts serve`, 127.0.0.1 port 0, the port read
// from its "listening on" line). Every child runs under `bash -c "ulimit -n …; exec …"`: `exec`
// keeps the pid, so the pid we hold is the Deno process itself (for /proc RSS and for the kill).

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Raises the soft fd limit to `nofile` (or the hard limit when lower), then execs "$@". */
const ULIMIT_EXEC = 'ulimit -n "$0" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';

/** A child with its stdout split into lines and stderr's tail kept. */
export class Child {
  readonly pid: number;
  readonly child: Deno.ChildProcess;
  readonly exited: Promise<Deno.CommandStatus>;
  #stdin?: WritableStreamDefaultWriter<Uint8Array>;
  #lines: ReadableStreamDefaultReader<string>;
  #buf = "";
  stderrTail = "";
  stderrAll = "";
  done = false;

  constructor(
    args: string[],
    o: { env?: Record<string, string>; nofile: number; stdin?: boolean },
  ) {
    const child = new Deno.Command("bash", {
      args: ["-c", ULIMIT_EXEC, String(o.nofile), Deno.execPath(), ...args],
      cwd: ROOT,
      env: o.env,
      stdin: o.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.pid = child.pid;
    this.exited = child.status.then((s) => (this.done = true, s));
    if (o.stdin) this.#stdin = child.stdin.getWriter();
    this.#lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    (async () => {
      for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.stderrTail = (this.stderrTail + text).slice(-4000);
        if (this.stderrAll.length < 1_000_000) this.stderrAll += text;
      }
    })().catch(() => {});
  }

  /** The next stdout line, or null at its end; throws after `timeoutMs`. */
  async line(timeoutMs: number): Promise<string | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no output for ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      while (!this.#buf.includes("\n")) {
        const { value, done } = await Promise.race([this.#lines.read(), late]);
        if (done) {
          const rest = this.#buf;
          this.#buf = "";
          return rest || null;
        }
        this.#buf += value;
      }
    } finally {
      clearTimeout(timer);
    }
    const nl = this.#buf.indexOf("\n");
    const line = this.#buf.slice(0, nl);
    this.#buf = this.#buf.slice(nl + 1);
    return line;
  }

  /** Keeps reading stdout so the child never blocks on a full pipe. */
  drain(): void {
    (async () => {
      for (let r = await this.#lines.read(); !r.done; r = await this.#lines.read()) { /* drop */ }
    })().catch(() => {});
  }

  async send(line: string): Promise<void> {
    await this.#stdin?.write(new TextEncoder().encode(line + "\n"));
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
  async stop(graceMs = 15_000): Promise<Deno.CommandStatus> {
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  signal(sig: Deno.Signal): void {
    if (this.done) return;
    try {
      this.child.kill(sig);
    } catch { /* exited meanwhile */ }
  }
}

/** Spawns `deno run -A <script> …args`. */
export function denoChild(
  script: string,
  args: string[],
  o: { env?: Record<string, string>; nofile: number; stdin?: boolean },
): Child {
  return new Child(["run", "-A", script, ...args], o);
}

/** The server: `main.ts serve` on 127.0.0.1:0 with `env`; resolves once it is healthy. */
export async function startServer(
  dataDir: string,
  env: Record<string, string>,
  nofile: number,
): Promise<{ server: Child; url: string }> {
  const clean = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("KALAMDB_")),
  );
  const server = new Child(
    [
      "run",
      "-A",
      // Extra runtime flags for the server (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`) to profile it.
      ...(Deno.env.get("LOAD_SERVER_FLAGS")?.split(" ").filter(Boolean) ?? []),
      MAIN,
      "serve",
      "--data",
      dataDir,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
    ],
    { env: { ...clean, ...env }, nofile },
  );
  try {
    let url: string | undefined;
    const deadline = Date.now() + 90_000;
    while (url === undefined) {
      const line = await server.line(Math.max(1, deadline - Date.now()));
      if (line === null) throw new Error(`server exited before listening:\n${server.stderrTail}`);
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1];
      if (port) url = `http://127.0.0.1:${port}`;
    }
    server.drain();
    while ((await fetch(url + "/v1/api/healthcheck").then((r) => r.text(), () => null)) === null) {
      if (Date.now() > deadline) throw new Error(`server at ${url} not healthy in time`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { server, url };
  } catch (err) {
    await server.stop(2000);
    throw err;
  }
}

/** VmRSS of `pid` in MiB, or null when the process is gone. */
export function rssMb(pid: number): number | null {
  return statusMb(pid, "VmRSS");
}

/** RssAnon (heap, not file pages) of `pid` in MiB, or null when the process is gone. */
export function rssAnonMb(pid: number): number | null {
  return statusMb(pid, "RssAnon");
}

function statusMb(pid: number, field: string): number | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1];
    return kb === undefined ? null : Math.round(Number(kb) / 102.4) / 10;
  } catch {
    return null;
  }
}

/** The soft limit on open files this process (and so its children, by default) has. */
export async function fdLimit(): Promise<{ soft: number; hard: number }> {
  const out = await new Deno.Command("bash", {
    args: ["-c", "ulimit -Sn; ulimit -Hn"],
    stdout: "piped",
  }).output();
  const [soft, hard] = new TextDecoder().decode(out.stdout).trim().split("\n").map((s) =>
    s === "unlimited" ? Infinity : Number(s)
  );
  return { soft, hard };
}

/** user + system CPU seconds of `pid` so far (0 when it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ").at(-1)!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}
