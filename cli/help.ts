// `--help` texts, generated from the flag tables in args.ts so that no flag goes unlisted.

import { type CommandName, FLAGS, type FlagSpec } from "./args.ts";

const SUMMARY: Record<CommandName | "kalamdb", { usage: string; about: string }> = {
  kalamdb: {
    usage: "kalamdb [command] [flags]",
    about: "KalamDB: a SQL-first realtime database. Without a command, runs the server\n" +
      "(or, with --file, runs a SQL file as a batch and exits).\n\n" +
      "Commands:\n" +
      "  serve     run the server (the default)\n" +
      "  sql       run SQL from -f FILE or -c SQL as one batch, then exit\n" +
      "  shell     interactive SQL shell (a server, or embedded on --data)\n" +
      "  export    export one user's data as a zip (EXPORT USER DATA, then the download)\n" +
      "  login     log in to a server and store its token in ~/.kalamdb/credentials.json\n" +
      "  logout    remove a stored login\n\n" +
      "Run 'kalamdb <command> --help' for a command's flags.",
  },
  serve: {
    usage: "kalamdb serve [flags]",
    about: "Runs the server. Settings: flags, then KALAMDB_* environment variables, then\n" +
      "the --config file, then defaults. Secrets (KALAMDB_JWT_SECRET, KALAMDB_ROOT_PASSWORD)\n" +
      "come from the environment or the config file only, never from flags.",
  },
  sql: {
    usage: "kalamdb sql (-f FILE | -c SQL) [flags]",
    about: "Runs SQL as one batch and exits: status 0 on success, 1 when a statement failed,\n" +
      "2 on a usage error. Remote (a server) when --url, --user, --token or --instance say\n" +
      "so or a server answers on http://127.0.0.1:2900; else embedded on the data directory.\n" +
      "An explicit --data always runs embedded.",
  },
  shell: {
    usage: "kalamdb shell [flags]",
    about: "Interactive SQL shell, remote or embedded like `kalamdb sql` (\\help inside lists\n" +
      "the meta-commands). History in ~/.kalamdb/history; Ctrl-C cancels, Ctrl-D exits.",
  },
  export: {
    usage: "kalamdb export [flags]",
    about: "Exports one user's data (SPEC §9): runs EXPORT USER DATA (EXECUTE AS USER for\n" +
      "--user), waits for the job, then downloads the zip. Remote or embedded like\n" +
      "`kalamdb sql`; the session is root (loopback) or --token / --instance.",
  },
  login: {
    usage: "kalamdb login [--url URL] [--user NAME] [--password PW] [--instance NAME]",
    about: "Logs in (password prompted without echo on a TTY, else KALAMDB_PASSWORD) and stores\n" +
      "the access and refresh tokens — never the password — with the URL in\n" +
      "~/.kalamdb/credentials.json (mode 0600), one entry per instance (default local).",
  },
  logout: {
    usage: "kalamdb logout [--instance NAME]",
    about: "Removes the stored login of an instance (default local).",
  },
};

/** The help text of `kalamdb --help` or `kalamdb <command> --help`. */
export function helpText(topic: CommandName | "kalamdb"): string {
  const { usage, about } = SUMMARY[topic];
  const rows = FLAGS[topic].map(flagLabel);
  const width = Math.max(...rows.map((r) => r.label.length));
  const lines = rows.map((r) => `  ${r.label.padEnd(width)}  ${r.help}`);
  return `Usage: ${usage}\n\n${about}\n\nFlags:\n${lines.join("\n")}\n`;
}

function flagLabel(f: FlagSpec): { label: string; help: string } {
  const long = `--${f.name}${f.type === "string" ? ` ${f.arg ?? "VALUE"}` : ""}`;
  return { label: f.short ? `-${f.short}, ${long}` : `    ${long}`, help: f.help };
}
