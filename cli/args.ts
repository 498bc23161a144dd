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
export type CommandName = "serve" | "sql" | "shell" | "export" | "login" | "logout";
const COMMANDS: readonly CommandName[] = ["serve", "sql", "shell", "export", "login", "logout"];
/** Commands a later issue implements; they answer "not available yet". */
const UNAVAILABLE = new Set<CommandName>([]);

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
  help: "talk to the server at URL (default: http://127.0.0.1:2900 when it answers, " +
    "else embedded on --data)",
};
const USER: FlagSpec = {
  name: "user",
  short: "u",
  type: "string",
  arg: "NAME",
  help: "log in to the server as NAME (default root)",
};
const PASSWORD: FlagSpec = {
  name: "password",
  type: "string",
  arg: "PW",
  help: "password for --user (default: KALAMDB_PASSWORD, else prompted on a TTY)",
};
const TOKEN: FlagSpec = {
  name: "token",
  type: "string",
  arg: "JWT",
  help: "use this access token instead of a password",
};
const INSTANCE: FlagSpec = {
  name: "instance",
  type: "string",
  arg: "NAME",
  help: "use the login stored by `kalamdb login --instance NAME` (default local)",
};
const NO_COLOR: FlagSpec = {
  name: "no-color",
  type: "boolean",
  help: "never colour the output (also: the NO_COLOR environment variable)",
};
const HELP: FlagSpec = { name: "help", short: "h", type: "boolean", help: "show this help" };
const VERSION: FlagSpec = {
  name: "version",
  short: "V",
  type: "boolean",
  help: "print version, commit and build date",
};

const REMOTE = [URL_FLAG, USER, PASSWORD, TOKEN, INSTANCE];
const EXPORT_USER: FlagSpec = {
  name: "user",
  short: "u",
  type: "string",
  arg: "NAME",
  help: "whose data to export (default: the session's user; others via EXECUTE AS USER)",
};
const OUTPUT: FlagSpec = {
  name: "output",
  short: "o",
  type: "string",
  arg: "FILE",
  help: "write the zip to FILE (default <user>-<export_id>.zip)",
};
const BATCH_COMMON = [DATA, CONFIG, NODE_ID, AS_USER, CONTINUE, FORMAT, ...REMOTE];

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
    ...REMOTE,
    VERSION,
    HELP,
  ],
  serve: [DATA, CONFIG, HOST, PORT, NODE_ID, HELP],
  sql: [FILE, COMMAND, ...BATCH_COMMON, HELP],
  shell: [DATA, CONFIG, NODE_ID, AS_USER, FORMAT, ...REMOTE, NO_COLOR, HELP],
  export: [DATA, CONFIG, NODE_ID, EXPORT_USER, OUTPUT, URL_FLAG, TOKEN, INSTANCE, HELP],
  login: [URL_FLAG, USER, PASSWORD, INSTANCE, HELP],
  logout: [INSTANCE, HELP],
};

/** Flags that feed the configuration (SPEC §1 precedence). */
export interface ConfigFlags {
  readonly config?: string;
  readonly data?: string;
  readonly host?: string;
  readonly port?: string;
  readonly nodeId?: string;
}

/** Where a session connects (cli/connect.ts): a server's URL and credentials, or --data. */
export interface RemoteFlags {
  readonly url?: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  readonly instance?: string;
}

/** Flags of batch mode (`kalamdb --file`, `kalamdb sql -f|-c`). */
export interface BatchFlags extends ConfigFlags, RemoteFlags {
  readonly file?: string;
  readonly sql?: string;
  /** Embedded identity; undefined = root. */
  readonly asUser?: string;
  readonly continueOnError: boolean;
  readonly format: OutputFormat;
}

/** Flags of `kalamdb export` (the session logs in as root or with --token / --instance). */
export interface ExportFlags extends ConfigFlags, RemoteFlags {
  readonly exportUser?: string;
  readonly output?: string;
}

/** Flags of `kalamdb shell`. */
export interface ShellFlags extends ConfigFlags, RemoteFlags {
  readonly asUser?: string;
  readonly format: OutputFormat;
  readonly noColor: boolean;
}

export type OutputFormat = "table" | "json" | "csv";
const FORMATS: readonly OutputFormat[] = ["table", "json", "csv"];

/** What the command line asks for. */
export type Invocation =
  | { readonly kind: "help"; readonly topic: CommandName | "kalamdb" }
  | { readonly kind: "version" }
  | { readonly kind: "serve"; readonly flags: ConfigFlags }
  | { readonly kind: "batch"; readonly flags: BatchFlags }
  | { readonly kind: "shell"; readonly flags: ShellFlags }
  | { readonly kind: "login"; readonly flags: RemoteFlags }
  | { readonly kind: "export"; readonly flags: ExportFlags }
  | { readonly kind: "logout"; readonly flags: { readonly instance?: string } }
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
  if (topic === "shell") {
    return {
      kind: "shell",
      flags: {
        ...configFlags(values),
        ...remoteFlags(values),
        asUser: asUserFlag(values),
        format: formatFlag(values),
        noColor: values["no-color"] === true,
      },
    };
  }
  if (topic === "login") return { kind: "login", flags: remoteFlags(values) };
  if (topic === "export") {
    const { user: exportUser, ...remote } = remoteFlags(values);
    return {
      kind: "export",
      flags: { ...configFlags(values), ...remote, exportUser, output: str(values, "output") },
    };
  }
  if (topic === "logout") return { kind: "logout", flags: { instance: str(values, "instance") } };
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
  const batchOnly = [
    "as-user",
    "continue-on-error",
    "format",
    "url",
    "user",
    "password",
    "token",
    "instance",
  ]
    .filter((k) => k in values);
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

function formatFlag(values: FlagValues): OutputFormat {
  const format = str(values, "format") ?? "table";
  if (!FORMATS.includes(format as OutputFormat)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got "${format}"`);
  }
  return format as OutputFormat;
}

function asUserFlag(values: FlagValues): string | undefined {
  const asUser = str(values, "as-user");
  if (asUser === "") throw new UsageError("--as-user needs a name");
  return asUser;
}

function remoteFlags(values: FlagValues): RemoteFlags {
  for (const name of ["url", "user", "token", "instance"]) {
    if (str(values, name) === "") throw new UsageError(`--${name} needs a value`);
  }
  return {
    url: str(values, "url"),
    user: str(values, "user"),
    password: str(values, "password"),
    token: str(values, "token"),
    instance: str(values, "instance"),
  };
}

function batchFlags(values: FlagValues): BatchFlags {
  return {
    ...configFlags(values),
    ...remoteFlags(values),
    file: str(values, "file"),
    sql: str(values, "command"),
    asUser: asUserFlag(values),
    continueOnError: values["continue-on-error"] === true,
    format: formatFlag(values),
  };
}
