// Command-line parsing: turns argv into one `Invocation`. Every flag is declared once in
// `FLAGS`; the parser and the `--help` text are both generated from those tables, so help
// always lists every flag a command accepts.

import { parseArgs } from "node:util";

/** A wrong flag, value or command: printed with a hint and exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The commands of the one `kalamdb` executable (SPEC §1). */
export type CommandName = "serve" | "sql" | "shell" | "export" | "login";
const COMMANDS: readonly CommandName[] = ["serve", "sql", "shell", "export", "login"];
/** Commands a later issue implements; they answer "not available yet". */
const UNAVAILABLE = new Set<CommandName>(["shell", "export", "login"]);

/** One flag: its long name, optional short letter, and help text. */
export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: "string" | "boolean";
  /** Placeholder shown in help for string flags. */
  readonly arg?: string;
  readonly help: string;
}

const CONFIG: FlagSpec = {
  name: "config",
  type: "string",
  arg: "FILE",
  help: "read settings from a kalamdb.toml",
};
const DATA: FlagSpec = {
  name: "data",
  type: "string",
  arg: "DIR",
  help: "data directory (env KALAMDB_DATA_DIR; default ./data)",
};
const NODE_ID: FlagSpec = {
  name: "node-id",
  type: "string",
  arg: "N",
  help: "Snowflake node id 0-1023 (env KALAMDB_NODE_ID; default 0)",
};
const HOST: FlagSpec = {
  name: "host",
  type: "string",
  arg: "ADDR",
  help: "address to listen on (env KALAMDB_HOST; default 127.0.0.1)",
};
const PORT: FlagSpec = {
  name: "port",
  type: "string",
  arg: "PORT",
  help: "port to listen on (env KALAMDB_PORT; default 2900)",
};
const FILE: FlagSpec = {
  name: "file",
  short: "f",
  type: "string",
  arg: "FILE",
  help: "run the SQL in FILE as one batch, then exit (- reads stdin)",
};
const COMMAND: FlagSpec = {
  name: "command",
  short: "c",
  type: "string",
  arg: "SQL",
  help: "run the SQL string as one batch, then exit",
};
const AS_USER: FlagSpec = {
  name: "as-user",
  type: "string",
  arg: "NAME",
  help: "identity the batch runs as (default root)",
};
const CONTINUE: FlagSpec = {
  name: "continue-on-error",
  type: "boolean",
  help: "keep running after a failing statement (exit status is still 1)",
};
const FORMAT: FlagSpec = {
  name: "format",
  type: "string",
  arg: "FMT",
  help: "output format: table (default), json (one object per statement) or csv",
};
const URL_FLAG: FlagSpec = {
  name: "url",
  type: "string",
  arg: "URL",
  help: "talk to a running server (not available yet in this build)",
};
const HELP: FlagSpec = { name: "help", short: "h", type: "boolean", help: "show this help" };
const VERSION: FlagSpec = {
  name: "version",
  short: "V",
  type: "boolean",
  help: "print version, commit and build date",
};

const BATCH_COMMON = [DATA, CONFIG, NODE_ID, AS_USER, CONTINUE, FORMAT, URL_FLAG];

/** The flags each command accepts; `kalamdb` alone accepts serve and `--file` batch flags. */
export const FLAGS: Readonly<Record<CommandName | "kalamdb", readonly FlagSpec[]>> = {
  kalamdb: [
    FILE,
    DATA,
    CONFIG,
    HOST,
    PORT,
    NODE_ID,
    AS_USER,
    CONTINUE,
    FORMAT,
    URL_FLAG,
    VERSION,
    HELP,
  ],
  serve: [DATA, CONFIG, HOST, PORT, NODE_ID, HELP],
  sql: [FILE, COMMAND, ...BATCH_COMMON, HELP],
  shell: [HELP],
  export: [HELP],
  login: [HELP],
};

/** Flags that feed the configuration (SPEC §1 precedence). */
export interface ConfigFlags {
  readonly config?: string;
  readonly data?: string;
  readonly host?: string;
  readonly port?: string;
  readonly nodeId?: string;
}

/** Flags of batch mode (`kalamdb --file`, `kalamdb sql -f|-c`). */
export interface BatchFlags extends ConfigFlags {
  readonly file?: string;
  readonly sql?: string;
  readonly asUser: string;
  readonly continueOnError: boolean;
  readonly format: OutputFormat;
  readonly url?: string;
}

export type OutputFormat = "table" | "json" | "csv";
const FORMATS: readonly OutputFormat[] = ["table", "json", "csv"];

/** What the command line asks for. */
export type Invocation =
  | { readonly kind: "help"; readonly topic: CommandName | "kalamdb" }
  | { readonly kind: "version" }
  | { readonly kind: "serve"; readonly flags: ConfigFlags }
  | { readonly kind: "batch"; readonly flags: BatchFlags }
  | { readonly kind: "unavailable"; readonly command: CommandName };

/**
 * Parses argv (without the program name).
 *
 * @example
 * parseInvocation(["sql", "-c", "SELECT 1;", "--format", "csv"]);
 * // → { kind: "batch", flags: { sql: "SELECT 1;", format: "csv", asUser: "root", … } }
 */
export function parseInvocation(argv: readonly string[]): Invocation {
  const first = argv[0];
  let topic: CommandName | "kalamdb" = "kalamdb";
  let rest = argv;
  if (first !== undefined && !first.startsWith("-")) {
    if (!COMMANDS.includes(first as CommandName)) {
      throw new UsageError(`unknown command "${first}"`);
    }
    topic = first as CommandName;
    rest = argv.slice(1);
  }
  const values = parseFlags(topic, rest);
  if (values.help) return { kind: "help", topic };
  if (values.version) return { kind: "version" };
  if (topic !== "kalamdb" && UNAVAILABLE.has(topic)) return { kind: "unavailable", command: topic };
  if (topic === "serve") return { kind: "serve", flags: configFlags(values) };
  if (topic === "sql") {
    if (values.file === undefined && values.command === undefined) {
      throw new UsageError("sql needs -f FILE or -c SQL");
    }
    if (values.file !== undefined && values.command !== undefined) {
      throw new UsageError("give either -f FILE or -c SQL, not both");
    }
    return { kind: "batch", flags: batchFlags(values) };
  }
  // `kalamdb` with no command: --file means batch, anything else runs the server.
  if (values.file !== undefined) return { kind: "batch", flags: batchFlags(values) };
  const batchOnly = ["as-user", "continue-on-error", "format", "url"].filter((k) => k in values);
  if (batchOnly.length > 0) {
    throw new UsageError(`--${batchOnly[0]} only applies with --file (batch mode)`);
  }
  return { kind: "serve", flags: configFlags(values) };
}

type FlagValues = Record<string, string | boolean | undefined>;

function parseFlags(topic: CommandName | "kalamdb", args: readonly string[]): FlagValues {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const f of FLAGS[topic]) {
    options[f.name] = f.short ? { type: f.type, short: f.short } : { type: f.type };
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    return values as FlagValues;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // node:util's messages name the flag; strip its advice about "--" which we do not support.
    const msg = err instanceof Error ? err.message.split(". To specify")[0] : String(err);
    throw new UsageError(topic === "kalamdb" ? msg : `${topic}: ${msg}`);
  }
}

function str(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

function configFlags(values: FlagValues): ConfigFlags {
  return {
    config: str(values, "config"),
    data: str(values, "data"),
    host: str(values, "host"),
    port: str(values, "port"),
    nodeId: str(values, "node-id"),
  };
}

function batchFlags(values: FlagValues): BatchFlags {
  const format = str(values, "format") ?? "table";
  if (!FORMATS.includes(format as OutputFormat)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got "${format}"`);
  }
  const asUser = str(values, "as-user") ?? "root";
  if (asUser === "") throw new UsageError("--as-user needs a name");
  return {
    ...configFlags(values),
    file: str(values, "file"),
    sql: str(values, "command"),
    asUser,
    continueOnError: values["continue-on-error"] === true,
    format: format as OutputFormat,
    url: str(values, "url"),
  };
}
