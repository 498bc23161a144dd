// The shell's history: `~/.kalamdb/history` (file 0600 in a 0700 directory), one entry per line,
// oldest first, appended as entries are made so two shells do not overwrite each other. A
// multi-line statement is one entry, its lines joined by a space (line comments dropped, as a
// space would otherwise comment out the rest); an entry that cannot be one line (a string
// spanning lines) stays in this session's memory only. Entries that may hold a secret — PASSWORD,
// CREDENTIALS (S3 keys), a JWT or another token-looking string — are never written (they do stay
// in this session's memory, as in psql, so Up still finds them).

import { dirname, join } from "node:path";
import { scanSql } from "./completion.ts";

/** How many entries are loaded, and kept when the file is compacted. */
export const HISTORY_SIZE = 1000;

const SECRET_WORDS = /password|credentials/i;
/** A JWT's start (`eyJ` is `{"` in base64). */
const JWT = /eyJ[A-Za-z0-9_-]{5,}/;
/** Runs of base64 characters long enough to be an opaque token. */
const LONG_RUN = /[A-Za-z0-9_+/=-]{32,}/g;

/** The default history file: `$HOME/.kalamdb/history`, or undefined without a HOME. */
export function defaultHistoryFile(): string | undefined {
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  return home ? join(home, ".kalamdb", "history") : undefined;
}

/**
 * Whether an entry may be written to the history file.
 *
 * @example
 * mayPersist("ALTER USER root SET PASSWORD 'x';"); // false
 */
export function mayPersist(entry: string): boolean {
  return entry.trim() !== "" && !entry.includes("\n") && !SECRET_WORDS.test(entry) &&
    !JWT.test(entry) && !hasOpaqueToken(entry);
}

/** A 32+ character base64 run mixing upper case, lower case and digits (identifiers and hex
 * digests rarely do; API keys and refresh tokens do). */
function hasOpaqueToken(entry: string): boolean {
  return [...entry.matchAll(LONG_RUN)].some(([run]) =>
    /[a-z]/.test(run) && /[A-Z]/.test(run) && /\d/.test(run)
  );
}

/**
 * One history entry for the lines of a statement: joined by a space, trailing `--` comments
 * dropped and blank lines skipped; lines inside a quoted string are kept apart by `\n`.
 *
 * @example
 * historyEntry(["SELECT *  -- all", "  FROM app.t;"]); // "SELECT * FROM app.t;"
 */
export function historyEntry(lines: readonly string[]): string {
  let out = "";
  for (const raw of lines) {
    const inQuote = scanSql(out).state;
    if (inQuote === "string" || inQuote === "ident") {
      out += "\n" + raw;
      continue;
    }
    const line = dropLineComment(out, raw).trim();
    if (line === "") continue;
    out += (out === "" ? "" : " ") + line;
  }
  return out.trimEnd();
}

/** `line` without a `--` comment that starts outside quotes (given the text before it). */
function dropLineComment(before: string, line: string): string {
  const prefix = before === "" ? "" : before + " ";
  for (let i = line.indexOf("--"); i >= 0; i = line.indexOf("--", i + 1)) {
    if (scanSql(prefix + line.slice(0, i)).state === "code") return line.slice(0, i);
  }
  return line;
}

/** The file as readline wants it: newest first, at most `HISTORY_SIZE`, consecutive repeats merged. */
export async function loadHistory(file: string | undefined): Promise<string[]> {
  if (!file) return [];
  let text: string;
  try {
    text = await Deno.readTextFile(file);
    await Deno.chmod(file, 0o600).catch(() => {});
  } catch {
    return [];
  }
  const entries = text.split("\n").filter((l) => l.trim() !== "");
  if (entries.length > 2 * HISTORY_SIZE) await compact(file, entries.slice(-HISTORY_SIZE));
  const newestFirst: string[] = [];
  for (const e of entries.slice(-HISTORY_SIZE).reverse()) {
    if (newestFirst[newestFirst.length - 1] !== e) newestFirst.push(e);
  }
  return newestFirst;
}

/** Appends one entry (when it may be persisted); false when the file cannot be written. */
export async function appendHistory(file: string | undefined, entry: string): Promise<boolean> {
  if (!file || !mayPersist(entry)) return true;
  try {
    await Deno.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(file, entry + "\n", { append: true, mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}

async function compact(file: string, keep: readonly string[]): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    await Deno.writeTextFile(tmp, keep.join("\n") + "\n", { mode: 0o600 });
    await Deno.rename(tmp, file);
  } catch {
    await Deno.remove(tmp).catch(() => {});
  }
}
