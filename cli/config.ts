// Configuration resolution (SPEC §1): flags, then KALAMDB_* environment variables, then an
// optional kalamdb.toml given by --config, then defaults. `resolveConfig` is pure (tests feed it
// env and file contents); `loadConfig` does the I/O. Relative paths in the TOML file are resolved
// against the file's own directory, so a config in /etc/kalamdb works from any cwd.

import { parse as parseToml } from "smol-toml";
import { dirname, isAbsolute, join } from "node:path";
import { type ConfigFlags, UsageError } from "./args.ts";

/** The resolved settings of one run. Secrets are never printed. */
export interface Config {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly nodeId: number;
  readonly jwtSecret?: string;
  readonly rootPassword?: string;
}

/** Settings as read from a TOML file, before validation. */
export type FileSettings = Readonly<Record<string, unknown>>;

/** Defaults when no flag, variable or file gives a value. */
export const DEFAULTS = { dataDir: "./data", host: "127.0.0.1", port: 2900, nodeId: 0 } as const;

const FILE_KEYS = ["data_dir", "host", "port", "node_id", "jwt_secret", "root_password"];

/**
 * Resolves settings from the four sources in precedence order and validates them.
 * Throws `UsageError` for bad values (exit status 2).
 *
 * @example
 * resolveConfig({ port: "3000" }, { KALAMDB_PORT: "4000" }, { port: 5000 }).port; // 3000
 */
export function resolveConfig(
  flags: ConfigFlags,
  env: Readonly<Record<string, string | undefined>>,
  file: FileSettings = {},
): Config {
  const pick = (flag: string | undefined, envName: string, key: string): unknown => {
    if (flag !== undefined) return flag;
    const e = env[envName];
    if (e !== undefined && e !== "") return e;
    return file[key];
  };
  const dataDir = text(pick(flags.data, "KALAMDB_DATA_DIR", "data_dir"), "data directory");
  const host = text(pick(flags.host, "KALAMDB_HOST", "host"), "host");
  const port = integer(pick(flags.port, "KALAMDB_PORT", "port"), "port", 0, 65535);
  const nodeId = integer(pick(flags.nodeId, "KALAMDB_NODE_ID", "node_id"), "node id", 0, 1023);
  const jwtSecret = text(pick(undefined, "KALAMDB_JWT_SECRET", "jwt_secret"), "jwt_secret");
  const rootPassword = text(
    pick(undefined, "KALAMDB_ROOT_PASSWORD", "root_password"),
    "root_password",
  );
  return {
    dataDir: dataDir ?? DEFAULTS.dataDir,
    host: host ?? DEFAULTS.host,
    port: port ?? DEFAULTS.port,
    nodeId: nodeId ?? DEFAULTS.nodeId,
    jwtSecret,
    rootPassword,
  };
}

/**
 * Parses kalamdb.toml text. Keys may sit at the top level or in a `[server]` table (which wins);
 * unknown keys are errors so a typo never silently falls back to a default.
 */
export function parseConfigFile(source: string, path = "kalamdb.toml"): FileSettings {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(source) as Record<string, unknown>;
  } catch (err) {
    const msg = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new UsageError(`cannot parse ${path}: ${msg}`);
  }
  const out: Record<string, unknown> = {};
  const take = (table: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(table)) {
      if (prefix === "" && key === "server" && isTable(value)) continue;
      if (!FILE_KEYS.includes(key)) {
        throw new UsageError(`unknown key "${prefix}${key}" in ${path}`);
      }
      out[key] = value;
    }
  };
  take(doc, "");
  if (isTable(doc.server)) take(doc.server, "server.");
  if (typeof out.data_dir === "string" && !isAbsolute(out.data_dir)) {
    out.data_dir = join(dirname(path), out.data_dir);
  }
  return out;
}

/** Reads flags, the environment (default: this process's) and the --config file into a `Config`. */
export async function loadConfig(
  flags: ConfigFlags,
  env: Readonly<Record<string, string | undefined>> = Deno.env.toObject(),
): Promise<Config> {
  let file: FileSettings = {};
  if (flags.config !== undefined) {
    let source: string;
    try {
      source = await Deno.readTextFile(flags.config);
    } catch (err) {
      throw new UsageError(`cannot read config file ${flags.config}: ${reason(err)}`);
    }
    file = parseConfigFile(source, flags.config);
  }
  return resolveConfig(flags, env, file);
}

/** A short, human reason for a failed file read. */
export function reason(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "no such file";
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.IsADirectory) return "is a directory";
  return err instanceof Error ? err.message : String(err);
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function text(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v.trim() === "") {
    throw new UsageError(`${what} must be a non-empty string`);
  }
  return v;
}

function integer(v: unknown, what: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  let n = NaN;
  if (typeof v === "number" && Number.isInteger(v)) n = v;
  else if (typeof v === "bigint") n = Number(v);
  else if (typeof v === "string" && /^\s*\d+\s*$/.test(v)) n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${what} must be an integer from ${min} to ${max}, got ${show(v)}`);
  }
  return n;
}

function show(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : String(v);
}
