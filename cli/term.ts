// The terminal side of the shell: colours (only on a TTY, never with --no-color or NO_COLOR),
// and what runs while a statement or a subscription is busy — a spinner with the elapsed time
// after ~300 ms, and Ctrl-C as an interrupt.
//
// Decision: both live in a small worker thread. Embedded statements run on the shell's own
// thread, and a CPU-bound query (a big join) never yields to the event loop, so neither a timer
// nor a signal listener on this thread could run until it ends. The worker owns a SIGINT listener
// and the spinner timer; it raises a flag in shared memory that the engine polls between batches
// (`Cancel.aborted`, see `cancelSignal`), and draws the spinner under a lock the shell takes to
// erase it before printing. While busy the TTY is put in cbreak mode (no echo, but Ctrl-C sends
// SIGINT); readline's raw mode comes back afterwards.

/** ANSI styles; identity functions when colour is off. */
export interface Colors {
  readonly enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

/** Whether to colour: a TTY, no `--no-color`, no `NO_COLOR` (any value, per no-color.org). */
export function colorWanted(isTty: boolean, noColorFlag = false): boolean {
  return isTty && !noColorFlag && Deno.env.get("NO_COLOR") === undefined;
}

export function colors(enabled: boolean): Colors {
  const sgr = (on: number, off: number) => (s: string) =>
    enabled && s !== "" ? `\x1b[${on}m${s}\x1b[${off}m` : s;
  return {
    enabled,
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
  };
}

/**
 * Colours a rendered result block: a table's header bold and its rule, row count and `Took:`
 * line dim. The text stays the same characters; only escapes are added.
 */
export function decorate(block: string, c: Colors): string {
  if (!c.enabled) return block;
  const lines = block.split("\n");
  const isTable = lines.length > 1 && /^-+(\+-+)*$/.test(lines[1]);
  return lines.map((l, i) => {
    if (isTable && i === 0) return c.bold(l);
    if (isTable && i === 1) return c.dim(l);
    if (/^\(\d+ rows?\)$/.test(l) || /^Took: \d/.test(l)) return c.dim(l);
    return l;
  }).join("\n");
}

/** `ERROR …` lines in red (the first line bold red), context lines as they are. */
export function decorateError(text: string, c: Colors): string {
  if (!c.enabled) return text;
  const [first, ...rest] = text.split("\n");
  return [c.bold(c.red(first)), ...rest].join("\n");
}

/** One busy period: a running statement or subscription. */
export interface Busy {
  /** True once Ctrl-C was pressed during this period. */
  readonly interrupted: boolean;
  /** Resolves at the first Ctrl-C of this period. */
  readonly onInterrupt: Promise<void>;
  /** Ends the period: the spinner is erased (synchronously) and the TTY given back to readline. */
  end(): void;
}

// Shared memory layout (Int32 slots; the start time as a Float64 at byte 16).
const ARMED = 0;
const INTERRUPTED = 1;
const LOCK = 2;
const DRAWN = 3;
const SPINNER = 4;
const START_BYTE = 24;

/** Spinner frames and the delay before the spinner appears. */
const WORKER_SOURCE = `
const frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
const enc = new TextEncoder();
let slots, start, style, n = 0;
self.onmessage = (e) => {
  slots = new Int32Array(e.data.buffer, 0, 6);
  start = new Float64Array(e.data.buffer, ${START_BYTE}, 1);
  style = e.data.color ? ["\\x1b[2m", "\\x1b[22m"] : ["", ""];
  Deno.addSignalListener("SIGINT", () => {
    if (Atomics.load(slots, ${ARMED})) Atomics.store(slots, ${INTERRUPTED}, 1);
    self.postMessage("sigint");
  });
  setInterval(tick, 80);
  self.postMessage("ready");
};
function tick() {
  if (!Atomics.load(slots, ${ARMED}) || !Atomics.load(slots, ${SPINNER})) return;
  const ms = Date.now() - start[0];
  if (ms < ${300}) return;
  if (Atomics.compareExchange(slots, ${LOCK}, 0, 1) !== 0) return;
  try {
    if (!Atomics.load(slots, ${ARMED})) return;
    const t = (ms / 1000).toFixed(1);
    const text = "\\r\\x1b[2K" + style[0] + frames[n++ % frames.length] + " " + t + " s" +
      (Atomics.load(slots, ${INTERRUPTED}) ? "  cancelling…" : "  Ctrl-C to cancel") + style[1];
    Deno.stdout.writeSync(enc.encode(text));
    Atomics.store(slots, ${DRAWN}, 1);
  } finally {
    Atomics.store(slots, ${LOCK}, 0);
  }
}
`;

/**
 * The shell's terminal: hands out busy periods. With a TTY it starts the worker (spinner on
 * stdout, SIGINT listener); without one, Ctrl-C still interrupts through a listener on this
 * thread (which runs whenever the work awaits I/O, as remote statements do).
 */
export class Terminal {
  #worker?: Worker;
  #slots: Int32Array;
  #start: Float64Array;
  #tty: boolean;
  #listeners = new Set<() => void>();

  private constructor(tty: boolean, buffer: SharedArrayBuffer) {
    this.#tty = tty;
    this.#slots = new Int32Array(buffer, 0, 6);
    this.#start = new Float64Array(buffer, START_BYTE, 1);
  }

  /** `tty`: stdin and stdout are the process's and a terminal (spinner, cbreak mode). */
  static async open(options: { tty: boolean; color: boolean }): Promise<Terminal> {
    const term = new Terminal(options.tty, new SharedArrayBuffer(32));
    if (options.tty) await term.#startWorker(options.color).catch(() => term.#worker = undefined);
    return term;
  }

  async #startWorker(color: boolean): Promise<void> {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    const worker = new Worker(url, { type: "module" });
    this.#worker = worker;
    const ready = Promise.withResolvers<void>();
    worker.onmessage = (e) => {
      if (e.data === "ready") ready.resolve();
      else if (e.data === "sigint") { for (const f of this.#listeners) f(); }
    };
    worker.onerror = (e) => {
      e.preventDefault();
      ready.reject(e);
    };
    worker.postMessage({ buffer: this.#slots.buffer, color });
    await ready.promise;
    URL.revokeObjectURL(url);
  }

  /** Starts a busy period; `spinner` false for subscriptions (they print as they go). */
  begin(options: { spinner: boolean }): Busy {
    const slots = this.#slots;
    Atomics.store(slots, INTERRUPTED, 0);
    Atomics.store(slots, SPINNER, options.spinner ? 1 : 0);
    this.#start[0] = Date.now();
    Atomics.store(slots, ARMED, 1);
    const interrupt = Promise.withResolvers<void>();
    const onSignal = () => {
      Atomics.store(slots, INTERRUPTED, 1);
      interrupt.resolve();
    };
    this.#listeners.add(onSignal);
    const ownListener = !this.#worker;
    if (ownListener) addSigint(onSignal);
    if (this.#tty) setStdinMode("cbreak");
    let ended = false;
    return {
      get interrupted() {
        return Atomics.load(slots, INTERRUPTED) === 1;
      },
      onInterrupt: interrupt.promise,
      end: () => {
        if (ended) return;
        ended = true;
        this.#listeners.delete(onSignal);
        if (ownListener) removeSigint(onSignal);
        this.#disarm();
        if (this.#tty) setStdinMode("raw");
      },
    };
  }

  /** Stops the spinner and erases its line, waiting out a frame being drawn. */
  #disarm(): void {
    const slots = this.#slots;
    while (Atomics.compareExchange(slots, LOCK, 0, 1) !== 0) { /* the worker writes one frame */ }
    Atomics.store(slots, ARMED, 0);
    if (Atomics.exchange(slots, DRAWN, 0) === 1) {
      Deno.stdout.writeSync(new TextEncoder().encode("\r\x1b[2K"));
    }
    Atomics.store(slots, LOCK, 0);
  }

  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
  }
}

/**
 * An AbortSignal for `session.execute` that also reads as aborted once the busy period was
 * interrupted — what lets a CPU-bound embedded query see Ctrl-C (the engine only polls
 * `.aborted`). Embedded sessions only: a remote session hands the signal to `fetch`, which needs
 * a genuine AbortSignal (the real one is aborted there by the interrupt listener).
 */
export function cancelSignal(signal: AbortSignal, busy: Busy): AbortSignal {
  return new Proxy(signal, {
    get(target, key) {
      if (key === "aborted") return target.aborted || busy.interrupted;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function addSigint(f: () => void): void {
  try {
    Deno.addSignalListener("SIGINT", f);
  } catch { /* no signals here (e.g. a platform without SIGINT): Ctrl-C ends the process */ }
}

function removeSigint(f: () => void): void {
  try {
    Deno.removeSignalListener("SIGINT", f);
  } catch { /* never added */ }
}

function setStdinMode(mode: "cbreak" | "raw"): void {
  try {
    Deno.stdin.setRaw(true, { cbreak: mode === "cbreak" });
  } catch { /* not a TTY, or cbreak unsupported (Windows): Ctrl-C stays a key press */ }
}
