// `kalamdb shell`: the interactive SQL shell over a session (remote or embedded — the same code).
// node:readline does the line editing; this file owns the loop: multi-line statements (read
// until a `;` outside quotes and comments, with a continuation prompt), meta-commands (cli/meta.ts,
// one line each, starting with `\`), the history file (cli/history.ts), Tab completion
// (cli/completion.ts), Ctrl-C (clears the input, cancels the running statement, ends a
// subscription) and Ctrl-D (exits 0). Results print through batch mode's `printBatch`, so tables,
// `Took:` lines and `ERROR …` lines are the ones `kalamdb sql` prints.
// Decision: one statement is one history entry, managed here rather than by readline (which
// would record each line of a multi-line statement separately).

import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import process from "node:process";
import type { OutputFormat } from "./args.ts";
import { printBatch, renderResult } from "./batch.ts";
import { Catalog, complete, scanSql, stripComments, takeComplete } from "./completion.ts";
import type { BatchResult, StatementResult } from "../storage/mod.ts";
import { formatAnyError, formatError } from "./format.ts";
import {
  appendHistory,
  defaultHistoryFile,
  HISTORY_SIZE,
  historyEntry,
  loadHistory,
} from "./history.ts";
import {
  changeJson,
  changeLines,
  type LiveLayout,
  liveLayout,
  META_NAMES,
  type MetaAction,
  planMeta,
  sessionText,
  snapshotResult,
  subscription,
} from "./meta.ts";
import type { LiveEvent, Session } from "./session.ts";
import {
  type Busy,
  cancelSignal,
  type Colors,
  colors,
  decorate,
  decorateError,
  Terminal,
} from "./term.ts";
import { buildInfo, versionLine } from "./version.ts";
import { exportReport, exportToFile } from "./export.ts";
import { type ConsumeAction, consumeLoop } from "./consume.ts";

export interface ShellOptions {
  /** Default: the process's stdin. */
  readonly input?: Readable & { isTTY?: boolean };
  /** Default: the process's stdout. */
  readonly output?: Writable & { isTTY?: boolean; columns?: number };
  /** Default `~/.kalamdb/history` (from HOME); null keeps history in memory only. */
  readonly historyFile?: string | null;
  /** Colour the output (the caller decides: a TTY, no --no-color, no NO_COLOR). */
  readonly color?: boolean;
  readonly format?: OutputFormat;
  /** Table width; default the terminal's when the output is a TTY, else unlimited. */
  readonly width?: number;
}

/** Statements that change what completion offers. */
const DDL = /\b(create|drop|alter)\b/i;
/** How long Tab waits for the catalog before answering with what it has. */
const COMPLETION_WAIT_MS = 1500;

/**
 * Runs the shell until `\q`, Ctrl-D or the end of the input; returns the exit status (0).
 *
 * @example
 * const session = await EmbeddedSession.open({ dataDir: "./data", nodeId: 1, asUser: "root" });
 * Deno.exit(await runShell(session, { color: true, format: "table" }));
 */
export async function runShell(session: Session, options: ShellOptions = {}): Promise<number> {
  const shell = await Shell.start(session, options);
  try {
    return await shell.run();
  } finally {
    shell.close();
  }
}

/** Lines from readline in order, also those that arrive while a statement runs. */
class LineQueue {
  #queue: (string | null)[] = [];
  #waiter?: (line: string | null) => void;

  push(line: string | null): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) waiter(line);
    else this.#queue.push(line);
  }

  next(): Promise<string | null> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift()!);
    return new Promise((resolve) => this.#waiter = resolve);
  }
}

class Shell {
  #session: Session;
  #out: Writable & { isTTY?: boolean; columns?: number };
  #rl: Interface;
  #lines = new LineQueue();
  #term: Terminal;
  #c: Colors;
  #tty: boolean;
  #width?: number;
  #format: OutputFormat;
  #timing = true;
  #historyFile?: string;
  #history: string[];
  #historyWarned = false;
  #buffer: string[] = [];
  /** Readline has closed (end of input, Ctrl-D): lines already read still run. */
  #inputClosed = false;
  #catalog: Catalog;
  #client = "";

  private constructor(session: Session, options: ShellOptions, init: ShellInit) {
    this.#session = session;
    this.#out = init.output;
    this.#tty = init.tty;
    this.#term = init.term;
    this.#c = colors(options.color ?? false);
    this.#width = options.width;
    this.#format = options.format ?? "table";
    this.#historyFile = init.historyFile;
    this.#history = init.history;
    this.#catalog = new Catalog((sql) => session.execute(sql));
    this.#rl = createInterface({
      input: init.input,
      output: init.output,
      terminal: init.tty,
      history: [...init.history],
      historySize: HISTORY_SIZE,
      removeHistoryDuplicates: false,
      completer: (line: string, done: (err: null, result: [string[], string]) => void) =>
        this.#complete(line).then((r) => done(null, r)),
    });
    this.#rl.on("line", (line) => {
      this.#syncHistory();
      this.#lines.push(line);
    });
    this.#rl.on("close", () => {
      this.#inputClosed = true;
      this.#lines.push(null);
    });
    this.#rl.on("SIGINT", () => this.#onCtrlC());
  }

  static async start(session: Session, options: ShellOptions): Promise<Shell> {
    const input = options.input ?? process.stdin;
    const output = options.output ?? process.stdout;
    const tty = Boolean(input.isTTY && output.isTTY);
    const processTty = tty && input === process.stdin && output === process.stdout;
    const historyFile = options.historyFile === null
      ? undefined
      : options.historyFile ?? defaultHistoryFile();
    const [history, term] = await Promise.all([
      loadHistory(historyFile),
      Terminal.open({ tty: processTty, color: options.color ?? false }),
    ]);
    const shell = new Shell(session, options, { input, output, tty, term, historyFile, history });
    shell.#client = versionLine(await buildInfo());
    return shell;
  }

  async run(): Promise<number> {
    this.#banner();
    void this.#catalog.refresh();
    for (;;) {
      this.#prompt();
      const line = await this.#lines.next();
      if (line === null) {
        if (this.#tty) this.#write("");
        return 0;
      }
      if (await this.#handle(line) === "quit") return 0;
    }
  }

  close(): void {
    this.#rl.close();
    this.#term.close();
  }

  #banner(): void {
    const info = this.#session.info;
    const where = info.mode === "remote"
      ? `connected to ${info.target} as ${info.user} (${info.role})`
      : `embedded on ${info.target} as ${info.user}`;
    this.#write(`${this.#c.bold(this.#client)}\n${where}\nType \\help for help.\n`);
  }

  /** The main prompt, or the continuation prompt aligned under it (showing an open quote). */
  #prompt(): void {
    const info = this.#session.info;
    const main = `${info.user}@${info.host}> `;
    if (this.#inputClosed) return;
    // Piped input: no prompts (the output is a transcript), but reading goes on.
    if (!this.#tty) return void this.#rl.resume();
    if (this.#buffer.length === 0) {
      this.#rl.setPrompt(this.#c.bold(main));
    } else {
      const state = scanSql(this.#buffer.join("\n") + "\n").state;
      const mark = state === "string"
        ? "'"
        : state === "ident"
        ? '"'
        : state === "block_comment"
        ? "*"
        : ".";
      this.#rl.setPrompt(`${" ".repeat(Math.max(main.length - 5, 0))}..${mark}> `);
    }
    this.#rl.prompt();
  }

  /** One line typed at the prompt. */
  async #handle(line: string): Promise<"quit" | void> {
    const trimmed = line.trim();
    // A `\` line is a meta-command unless it continues an open string or comment.
    const open = this.#buffer.length > 0 &&
      scanSql(this.#buffer.join("\n") + "\n").state !== "code";
    if (trimmed.startsWith("\\") && !open) {
      this.#remember(trimmed);
      return await this.#meta(trimmed);
    }
    if (this.#buffer.length === 0) {
      if (trimmed === "") return;
      if (/^(exit|quit)$/i.test(trimmed)) return "quit";
      if (/^help$/i.test(trimmed)) return void this.#write("Type \\help for the meta-commands.");
    }
    this.#buffer.push(line);
    const { ready, rest } = takeComplete(this.#buffer.join("\n"));
    if (ready === undefined) return;
    this.#remember(historyEntry(this.#buffer));
    this.#buffer = rest === "" ? [] : [rest];
    await this.#sql(ready);
  }

  async #meta(line: string): Promise<"quit" | void> {
    const action: MetaAction = planMeta(line, { format: this.#format, timing: this.#timing });
    switch (action.kind) {
      case "quit":
        return "quit";
      case "sql":
        return await this.#execute(action.sql);
      case "subscribe":
        return await this.#subscribe(action.sql);
      case "consume":
        return await this.#consume(action);
      case "print":
        return this.#write(action.text);
      case "error":
        return this.#error(action.text);
      case "session":
        return this.#write(sessionText(this.#session.info, this.#client));
      case "format":
        this.#format = action.format;
        return this.#write(`Output format is ${action.format}.`);
      case "timing":
        this.#timing = action.on;
        return this.#write(`Timing is ${action.on ? "on" : "off"}.`);
      case "export": {
        const user = this.#session.info.user;
        const note = (text: string) => this.#write(text);
        const draw = this.#tty ? (raw: string) => void this.#out.write(raw) : undefined;
        const report = exportReport(note, { draw });
        return await exportToFile(this.#session, { user, output: action.output, report })
          .then(note, (err) => this.#error(err instanceof Error ? err.message : String(err)));
      }
    }
  }

  /** A complete statement (or several): SUBSCRIBE TO streams, the rest runs as one batch. */
  async #sql(sql: string): Promise<void> {
    const live = subscription(sql);
    if (live) return await this.#subscribe(live.sql, live.lastRows);
    await this.#execute(sql);
    if (DDL.test(stripComments(sql))) void this.#catalog.refresh();
  }

  /** Runs a batch with the spinner and Ctrl-C armed, then prints it. */
  async #execute(sql: string): Promise<void> {
    const controller = new AbortController();
    const busy = this.#begin(true);
    busy.onInterrupt.then(() => controller.abort());
    const signal = this.#session.info.mode === "embedded"
      ? cancelSignal(controller.signal, busy)
      : controller.signal;
    let batch: BatchResult | undefined;
    let thrown: unknown;
    try {
      batch = await this.#session.execute(sql, { signal });
    } catch (err) {
      thrown = err;
    } finally {
      this.#end(busy);
    }
    const cancelled = busy.interrupted && (thrown !== undefined || batch?.error !== undefined);
    if (batch) this.#print(batch, sql, cancelled);
    else if (cancelled) this.#cancelled();
    else this.#error(formatAnyError(thrown, sql, { maxWidth: this.#cols() }));
    // As psql: a blank line between a statement's output and the next prompt.
    if (this.#tty) this.#write("");
  }

  #error(text: string): void {
    this.#write(decorateError(text, this.#c));
  }

  #print(batch: BatchResult, sql: string, cancelled: boolean): void {
    const errors = batch.errors?.length ? batch.errors : batch.error ? [batch.error] : [];
    let next = 0;
    printBatch(batch, this.#format, {
      width: this.#cols(),
      out: (text) => this.#write(this.#block(text)),
      // printBatch's ERROR lines come in `errors` order; each is re-rendered with its source line.
      err: (text) => {
        const e = errors[next++];
        if (cancelled && e === batch.error) return this.#cancelled();
        this.#error(e ? formatError(e, sql, { maxWidth: this.#cols() }) : text);
      },
    });
  }

  /** A result block as shown: `Took:` lines dropped with \timing off, then coloured. */
  #block(text: string): string {
    const shown = this.#timing
      ? text
      : text.split("\n").filter((l) => !/^Took: \d/.test(l)).join("\n");
    return decorate(shown, this.#c);
  }

  #cancelled(): void {
    // The HTTP API cannot stop a statement the server already runs: say so, never "undone".
    const note = this.#session.info.mode === "remote"
      ? " (stopped waiting: the server may still finish the statements it received)"
      : "";
    this.#write(this.#c.yellow(`Cancelled${note}`));
  }

  /** Runs a stream (a subscription, a consumer) until Ctrl-C; `run` gives its closing line. */
  async #stream(title: string, run: (signal: AbortSignal) => Promise<string>): Promise<void> {
    this.#write(this.#c.dim(`${title} — Ctrl-C to stop`));
    const controller = new AbortController();
    const busy = this.#begin(false);
    busy.onInterrupt.then(() => controller.abort());
    try {
      this.#write(this.#c.dim(await run(controller.signal)));
    } catch (err) {
      this.#error(formatAnyError(err));
    } finally {
      this.#end(busy);
    }
  }

  /** Streams a live query until Ctrl-C (or the server ends it). */
  async #subscribe(sql: string, lastRows?: number): Promise<void> {
    const layout = liveLayout(sql, await this.#columnTypes(sql));
    const started = performance.now();
    let changes = 0;
    const onEvent = (e: LiveEvent) => {
      if (e.kind !== "snapshot" && e.kind !== "reset") {
        changes += e.rows.length || e.oldRows?.length || 0;
      }
      this.#event(e, layout, performance.now() - started);
    };
    await this.#stream(`Subscribed to ${sql}`, async (signal) => {
      await this.#session.subscribe(sql, onEvent, signal, { lastRows });
      return `Subscription ended (${changes} change${changes === 1 ? "" : "s"})`;
    });
  }

  /** `\consume`: a topic's messages as they come, until Ctrl-C. */
  async #consume(a: ConsumeAction): Promise<void> {
    const out = {
      result: (r: StatementResult) =>
        this.#write(this.#block(renderResult(r, this.#format, { maxWidth: this.#cols() }) ?? "")),
      error: (text: string) => this.#error(text),
    };
    await this.#stream(`Consuming ${a.topic} as group ${a.group}`, async (signal) => {
      const n = await consumeLoop(this.#session, a, out, signal);
      return `Stopped consuming (${n} message${n === 1 ? "" : "s"})`;
    });
  }

  #event(e: LiveEvent, layout: LiveLayout, tookMs: number): void {
    if (e.kind === "snapshot" || e.kind === "reset") {
      const result = snapshotResult(e.rows, layout, tookMs);
      const text = renderResult(result, this.#format, { maxWidth: this.#cols() });
      if (e.kind === "reset") this.#write(this.#c.yellow("RESET (the subscription restarted):"));
      if (text !== undefined) this.#write(this.#block(text));
      return;
    }
    if (this.#format === "json") return this.#write(changeJson(e));
    const paint = e.kind === "insert"
      ? this.#c.green
      : e.kind === "delete"
      ? this.#c.red
      : this.#c.yellow;
    for (const line of changeLines(e, layout, new Date())) {
      const [time, op, ...rest] = line.split(" ");
      this.#write(`${this.#c.dim(time)} ${paint(op)} ${rest.join(" ")}`);
    }
  }

  /** Types of the columns of the tables a query names (for printing wire values). */
  async #columnTypes(sql: string): Promise<Map<string, string>> {
    const types = new Map<string, string>();
    const snapshot = await this.#catalog.forText(sql).catch(() => undefined);
    for (const columns of snapshot ? snapshot.columns.values() : []) {
      for (const c of columns) if (!types.has(c.name)) types.set(c.name, c.type);
    }
    return types;
  }

  /** Busy: readline paused (typed keys wait), the terminal's interrupt and spinner armed. */
  #begin(spinner: boolean): Busy {
    if (!this.#inputClosed) this.#rl.pause();
    return this.#term.begin({ spinner: spinner && this.#tty });
  }

  #end(busy: Busy): void {
    busy.end();
  }

  #onCtrlC(): void {
    const typed = (this.#rl as unknown as { line: string }).line;
    if (typed === "" && this.#buffer.length === 0) {
      this.#write(`^C\n${this.#c.dim("Use \\q or Ctrl-D to exit.")}`);
    } else {
      this.#write("^C");
    }
    this.#buffer = [];
    Object.assign(this.#rl, { line: "", cursor: 0 });
    this.#prompt();
  }

  async #complete(line: string): Promise<[string[], string]> {
    const typed = (this.#rl as unknown as { line: string }).line ?? line;
    const earlier = this.#buffer.length ? this.#buffer.join("\n") + "\n" : "";
    const whole = earlier + typed;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wait = new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), COMPLETION_WAIT_MS);
    });
    const fetched = this.#catalog.forText(whole);
    const snapshot = (await Promise.race([fetched, wait]).finally(() => clearTimeout(timer))) ??
      this.#catalog.snapshot;
    return complete(earlier + line, snapshot, META_NAMES, whole);
  }

  /** One history entry: in memory (newest first, no consecutive repeats) and in the file. */
  #remember(entry: string): void {
    // Piped input is a script, not something typed: it stays out of the history.
    if (entry === "" || !this.#tty) return;
    if (this.#history[0] !== entry) this.#history.unshift(entry);
    if (this.#history.length > HISTORY_SIZE) this.#history.length = HISTORY_SIZE;
    this.#syncHistory();
    void appendHistory(this.#historyFile, entry).then((ok) => {
      if (ok || this.#historyWarned) return;
      this.#historyWarned = true;
      this.#write(this.#c.dim(`(history is not saved: cannot write ${this.#historyFile})`));
    });
  }

  /** Readline's list is ours: it would otherwise hold each line of a multi-line statement. */
  #syncHistory(): void {
    Object.assign(this.#rl, { history: [...this.#history] });
  }

  #cols(): number | undefined {
    return this.#width ?? (this.#out.isTTY ? this.#out.columns : undefined);
  }

  #write(text: string): void {
    this.#out.write(text + "\n");
  }
}

interface ShellInit {
  readonly input: Readable & { isTTY?: boolean };
  readonly output: Writable & { isTTY?: boolean; columns?: number };
  readonly tty: boolean;
  readonly term: Terminal;
  readonly historyFile?: string;
  readonly history: string[];
}
