// Child processes for the live benchmark (live.ts, _peers.ts): spawning with line-by-line output,
// waiting for a ready line, stopping by pid, one-shot commands, free ports, CPU seconds from
// /proc and installing a missing Debian package. Nothing here knows which system it runs.

const ROOT = new URL("../../", import.meta.url);

/** Reads a process's output line by line, keeping the last few KiB of everything. */
export class Lines {
  #reader: ReadableStreamDefaultReader<string>;
  #buf = "";
  tail = "";

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line, or null at the end; throws after `timeoutMs`. */
  async next(timeoutMs: number): Promise<string | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no output for ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      while (!this.#buf.includes("\n")) {
        const { value, done } = await Promise.race([this.#reader.read(), timeout]);
        if (done) {
          const rest = this.#buf;
          this.#buf = "";
          return rest || null;
        }
        this.#buf += value;
        this.tail = (this.tail + value).slice(-4096);
      }
    } finally {
      clearTimeout(timer);
    }
    const nl = this.#buf.indexOf("\n");
    const line = this.#buf.slice(0, nl);
    this.#buf = this.#buf.slice(nl + 1);
    return line;
  }

  /** Keeps reading in the background (so the pipe never fills), showing `seen` each chunk. */
  drain(seen?: (text: string) => void): void {
    (async () => {
      for (;;) {
        const { value, done } = await this.#reader.read();
        if (done) return;
        this.tail = (this.tail + value).slice(-4096);
        seen?.(value);
      }
    })().catch(() => {});
  }
}

export interface Proc {
  readonly name: string;
  readonly child: Deno.ChildProcess;
  readonly stdout: Lines;
  readonly stderr: Lines;
}

export function spawn(
  name: string,
  cmd: string,
  args: string[],
  o: { env?: Record<string, string>; stdin?: boolean } = {},
): Proc {
  const child = new Deno.Command(cmd, {
    args,
    cwd: ROOT.pathname,
    env: o.env,
    stdin: o.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Lines(child.stderr);
  stderr.drain();
  return { name, child, stdout: new Lines(child.stdout), stderr };
}

/** Waits for a stdout line matching `re` (≤ `timeoutMs`), then drains stdout. */
export async function waitFor(p: Proc, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let line: string | null;
    try {
      line = await p.stdout.next(Math.max(1, deadline - Date.now()));
    } catch (err) {
      throw new Error(`${p.name}: ${(err as Error).message}\n${p.stdout.tail}\n${p.stderr.tail}`);
    }
    if (line === null) {
      const status = await p.child.status;
      throw new Error(
        `${p.name} exited (${status.code}) before ready:\n${p.stdout.tail}\n${p.stderr.tail}`,
      );
    }
    const m = re.exec(line);
    if (m) return m;
  }
}

/** SIGTERM to this pid, then waits (SIGKILL after `graceMs`). */
export async function stop(p: Proc, graceMs = 20_000): Promise<void> {
  try {
    p.child.kill("SIGTERM");
  } catch { /* already exited */ }
  const timer = setTimeout(() => {
    try {
      p.child.kill("SIGKILL");
    } catch { /* exited meanwhile */ }
  }, graceMs);
  await p.child.status;
  clearTimeout(timer);
}

/** Runs a command to completion; throws with its output when it fails. */
export async function run(
  cmd: string,
  args: string[],
  timeoutMs = 120_000,
  env?: Record<string, string>,
): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} → exit ${out.code}\n${text.trim()}`);
  return text;
}

export async function which(cmd: string): Promise<string | null> {
  try {
    return (await run("sh", ["-c", `command -v ${cmd}`])).trim() || null;
  } catch {
    return null;
  }
}

/** A port that was free a moment ago (for servers that cannot report theirs). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * user + system CPU seconds of one process and of its children it has reaped (PostgreSQL's
 * exited backends count towards the postmaster), 0 when it is gone.
 */
export function cpuOf(pid: number): number {
  try {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ").at(-1)!.split(" ");
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

/** A process and its direct children (PostgreSQL's backends). */
export function withChildren(pid: number): number[] {
  const pids = [pid];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const f = Deno.readTextFileSync(`/proc/${e.name}/stat`).split(") ").at(-1)!.split(" ");
      if (Number(f[1]) === pid) pids.push(Number(e.name));
    } catch { /* exited */ }
  }
  return pids;
}

/** `apt-get install -y --no-install-recommends <pkg>` (after `apt-get update` if needed). */
export async function aptInstall(pkg: string): Promise<void> {
  if (Deno.uid() !== 0) throw new Error(`${pkg} is not installed and this is not root`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const args = ["install", "-y", "--no-install-recommends", pkg];
  console.log(`  installing ${pkg} from Debian …`);
  try {
    await run("apt-get", args, 300_000, env);
  } catch {
    await run("apt-get", ["update"], 300_000, env);
    await run("apt-get", args, 300_000, env);
  }
}
