// A real terminal for CLI tests: a command in a detached tmux session of a fixed size on a tmux
// server of our own (`tmux -L <socket>`, so no other tmux server is ever touched), driven with
// `send-keys` and read with `capture-pane`. Every wait polls the screen until a deadline; none
// sleeps for a fixed time.

import { until } from "../_util.ts";

/** Whether tmux can be run here (tests skip, saying why, when it cannot). */
export async function tmuxMissing(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .output();
    return out.success ? undefined : "tmux -V failed";
  } catch {
    return "tmux is not installed (Debian: apt-get install tmux)";
  }
}

export interface PaneOptions {
  readonly width?: number;
  readonly height?: number;
  /** The command's whole environment (nothing is inherited from the tmux server). */
  readonly env?: Record<string, string>;
}

export class Pane {
  readonly socket: string;
  #closed = false;

  private constructor(socket: string) {
    this.socket = socket;
  }

  /**
   * Starts `argv` in a new pane; when it exits the pane shows `[exited N]` and stays open until
   * `close()`.
   */
  static async start(argv: readonly string[], options: PaneOptions = {}): Promise<Pane> {
    const socket = `kalamdb-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${quote(v)}`).join(" ");
    const command = `env -i ${env} ${argv.map(quote).join(" ")}; echo "[exited $?]"; ` +
      `while :; do sleep 60; done`;
    const pane = new Pane(socket);
    await pane.tmux(
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      String(options.width ?? 120),
      "-y",
      String(options.height ?? 40),
      command,
    );
    return pane;
  }

  /** Types `text` literally (a trailing `;` escaped: tmux would take it as a separator). */
  async type(text: string): Promise<void> {
    await this.tmux("send-keys", "-t", "t", "-l", "--", text.replace(/;$/, "\\;"));
  }

  /** Presses keys by tmux name: `Enter`, `Tab`, `Up`, `C-c`, `C-d`… */
  async press(...keys: string[]): Promise<void> {
    await this.tmux("send-keys", "-t", "t", ...keys);
  }

  /** Types a line and presses Enter. */
  async line(text: string): Promise<void> {
    await this.type(text);
    await this.press("Enter");
  }

  /** The screen and its scrollback, trailing blank lines dropped. */
  async screen(): Promise<string> {
    const out = await this.tmux("capture-pane", "-p", "-S", "-", "-t", "t");
    return out.replace(/\s+$/, "");
  }

  /** The visible screen only (what the user sees now). */
  async visible(): Promise<string> {
    return (await this.tmux("capture-pane", "-p", "-t", "t")).replace(/\s+$/, "");
  }

  /**
   * Polls the screen until `expect` holds for the text after the last occurrence of `after`
   * (the whole screen when omitted), or throws with the screen after `timeoutMs`. Returns that
   * text. `expect` is a substring, a pattern or a predicate.
   */
  async waitFor(
    expect: string | RegExp | ((text: string) => boolean),
    options: { after?: string; timeoutMs?: number } = {},
  ): Promise<string> {
    const test = typeof expect === "string"
      ? (s: string) => s.includes(expect)
      : expect instanceof RegExp
      ? (s: string) => expect.test(s)
      : expect;
    const timeoutMs = options.timeoutMs ?? 30_000; // generous: the machine may be loaded
    const deadline = Date.now() + timeoutMs;
    let text = "";
    for (let delay = 20; Date.now() < deadline; delay = Math.min(delay * 2, 200)) {
      const screen = await this.screen();
      const at = options.after === undefined ? -1 : screen.lastIndexOf(options.after);
      text = at < 0
        ? (options.after === undefined ? screen : "")
        : screen.slice(at + options.after!.length);
      if (test(text)) return text;
      await new Promise((r) => setTimeout(r, delay));
    }
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${expect}` +
        `${options.after ? ` after ${JSON.stringify(options.after)}` : ""}; screen:\n` +
        (await this.screen().catch(() => text)),
    );
  }

  /**
   * Ends our tmux server (and so the command in it) and waits, bounded by a deadline, until every
   * process of the pane has exited: `kill-server` returns at once, and a shell still closing its
   * data directory would race a restart on it or the test's removal of it (seen under load:
   * "Directory not empty" removing HOME). A process still there after the grace period is sent
   * SIGKILL by pid (they are all ours).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pids = await this.#processTree().catch(() => [] as number[]);
    await this.tmux("kill-server").catch(() => {});
    const alive = () => pids.filter(running);
    try {
      await until(() => alive().length === 0, `pane processes ${pids.join(" ")} exit`, 15_000);
    } catch {
      for (const pid of alive()) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* exited meanwhile */ }
      }
      await until(() => alive().length === 0, `pane processes ${alive().join(" ")} exit`, 30_000);
    }
  }

  /** The pane's process and all its descendants (Linux /proc; empty where there is none). */
  async #processTree(): Promise<number[]> {
    const root = Number(
      (await this.tmux("display-message", "-p", "-t", "t", "#{pane_pid}")).trim(),
    );
    if (!Number.isInteger(root) || root <= 0) return [];
    const parent = new Map<number, number>();
    for await (const e of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      const ppid = statOf(Number(e.name))?.ppid;
      if (ppid !== undefined) parent.set(Number(e.name), ppid);
    }
    const tree = [root];
    for (let grew = true; grew;) {
      grew = false;
      for (const [pid, ppid] of parent) {
        if (tree.includes(ppid) && !tree.includes(pid)) {
          tree.push(pid);
          grew = true;
        }
      }
    }
    return tree;
  }

  async tmux(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const dec = new TextDecoder();
    if (!out.success) throw new Error(`tmux ${args[0]}: ${dec.decode(out.stderr).trim()}`);
    return dec.decode(out.stdout);
  }
}

/** A process's state and parent from /proc/<pid>/stat; undefined once it is gone. */
function statOf(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Whether `pid` still runs (a zombie waiting to be reaped counts as exited). */
function running(pid: number): boolean {
  const s = statOf(pid);
  return s !== undefined && s.state !== "Z" && s.state !== "X";
}

function quote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}
