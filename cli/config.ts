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
  /** Server limits and security settings (SPEC §4–§5); defaults in `SERVER_DEFAULTS`. */
  readonly server: ServerSettings;
}

/** What the server enforces; every field has an env variable and a kalamdb.toml key. */
export interface ServerSettings {
  /** Peers whose X-Forwarded-For is believed (KALAMDB_TRUSTED_PROXIES, comma-separated). */
  readonly trustedProxies: readonly string[];
  readonly maxBodyBytes: number;
  readonly maxSqlBytes: number;
  /** Request-body bytes in flight across all requests; at least maxBodyBytes. */
  readonly maxInflightBodyBytes: number;
  /** Time for a whole request body to arrive, from the start of reading it. */
  readonly bodyTimeoutMs: number;
  readonly queryTimeoutMs: number;
  /** Requests per second per identity (burst twice that); 0 turns the limit off. */
  readonly rateLimit: number;
  /** Failed passwords per (client address, user name) per minute before that pair is locked out. */
  readonly loginFailureLimit: number;
  /** Distinct user names failing from one address per minute before its passwords are refused. */
  readonly loginSprayLimit: number;
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlS: number;
  /** Hours the change log keeps entries for live-query resume. */
  readonly changeLogRetentionHours: number;
  /** Seconds a written export is kept before it is deleted (SPEC §9: 7 days by default). */
  readonly exportRetentionS: number;
  /** WebSocket: time to authenticate, and idle time before the server closes the socket. */
  readonly wsAuthTimeoutMs: number;
  readonly wsIdleTimeoutMs: number;
  /** Messages queued for one socket before its subscriptions overflow (SUBSCRIPTION_OVERFLOW). */
  readonly wsMaxQueue: number;
  /**
   * Row versions one table's buffer may hold waiting for a flush; past it writes to the table
   * are STORAGE_ERROR until a flush succeeds (a storage down for long). 0 turns the bound off.
   */
  readonly maxBufferedRows: number;
}

export const SERVER_DEFAULTS: ServerSettings = {
  trustedProxies: [],
  maxBodyBytes: 10 * 1024 * 1024,
  maxSqlBytes: 1024 * 1024,
  maxInflightBodyBytes: 128 * 1024 * 1024,
  bodyTimeoutMs: 30_000,
  queryTimeoutMs: 30_000,
  rateLimit: 1000,
  loginFailureLimit: 10,
  loginSprayLimit: 100,
  accessTokenTtlS: 3600,
  refreshTokenTtlS: 7 * 24 * 3600,
  changeLogRetentionHours: 24,
  exportRetentionS: 7 * 86400,
  wsAuthTimeoutMs: 5000,
  wsIdleTimeoutMs: 300_000,
  wsMaxQueue: 10_000,
  maxBufferedRows: 10_000_000,
};

/** (field, env variable, file key, min, max) of the numeric server settings. */
const SERVER_NUMBERS = [
  ["maxBodyBytes", "KALAMDB_MAX_BODY_BYTES", "max_body_bytes", 1, 2 ** 31],
  ["maxSqlBytes", "KALAMDB_MAX_SQL_BYTES", "max_sql_bytes", 1, 2 ** 31],
  [
    "maxInflightBodyBytes",
    "KALAMDB_MAX_INFLIGHT_BODY_BYTES",
    "max_inflight_body_bytes",
    1,
    2 ** 40,
  ],
  ["bodyTimeoutMs", "KALAMDB_BODY_TIMEOUT_MS", "body_timeout_ms", 1, 3600_000],
  ["queryTimeoutMs", "KALAMDB_QUERY_TIMEOUT_MS", "query_timeout_ms", 1, 24 * 3600_000],
  ["rateLimit", "KALAMDB_RATE_LIMIT", "rate_limit", 0, 1e9],
  ["loginFailureLimit", "KALAMDB_LOGIN_FAILURE_LIMIT", "login_failure_limit", 0, 1e9],
  ["loginSprayLimit", "KALAMDB_LOGIN_SPRAY_LIMIT", "login_spray_limit", 0, 1e9],
  ["accessTokenTtlS", "KALAMDB_ACCESS_TOKEN_TTL", "access_token_ttl", 1, 365 * 86400],
  ["refreshTokenTtlS", "KALAMDB_REFRESH_TOKEN_TTL", "refresh_token_ttl", 1, 3650 * 86400],
  [
    "changeLogRetentionHours",
    "KALAMDB_CHANGELOG_RETENTION_HOURS",
    "changelog_retention_hours",
    1,
    24 * 3650,
  ],
  ["exportRetentionS", "KALAMDB_EXPORT_RETENTION_S", "export_retention_s", 1, 3650 * 86400],
  ["wsAuthTimeoutMs", "KALAMDB_WS_AUTH_TIMEOUT_MS", "ws_auth_timeout_ms", 1, 3600_000],
  ["wsIdleTimeoutMs", "KALAMDB_WS_IDLE_TIMEOUT_MS", "ws_idle_timeout_ms", 1, 24 * 3600_000],
  ["wsMaxQueue", "KALAMDB_WS_MAX_QUEUE", "ws_max_queue", 1, 1e7],
  ["maxBufferedRows", "KALAMDB_MAX_BUFFERED_ROWS", "max_buffered_rows", 0, 1e12],
] as const;

/** Settings as read from a TOML file, before validation. */
export type FileSettings = Readonly<Record<string, unknown>>;

/** Defaults when no flag, variable or file gives a value. */
export const DEFAULTS = { dataDir: "./data", host: "127.0.0.1", port: 2900, nodeId: 0 } as const;

const FILE_KEYS = [
  "data_dir",
  "host",
  "port",
  "node_id",
  "jwt_secret",
  "root_password",
  "trusted_proxies",
  ...SERVER_NUMBERS.map((n) => n[2]),
];

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
  const server: Record<string, unknown> = { ...SERVER_DEFAULTS };
  for (const [field, envName, key, min, max] of SERVER_NUMBERS) {
    server[field] = integer(pick(undefined, envName, key), key, min, max) ?? server[field];
  }
  // The body budget must hold one body of the largest size: raised to it by default, an error
  // when set lower on purpose.
  if ((server.maxInflightBodyBytes as number) < (server.maxBodyBytes as number)) {
    if (
      pick(undefined, "KALAMDB_MAX_INFLIGHT_BODY_BYTES", "max_inflight_body_bytes") !== undefined
    ) {
      throw new UsageError(
        `max_inflight_body_bytes (${server.maxInflightBodyBytes}) must be at least ` +
          `max_body_bytes (${server.maxBodyBytes})`,
      );
    }
    server.maxInflightBodyBytes = server.maxBodyBytes;
  }
  const proxies = pick(undefined, "KALAMDB_TRUSTED_PROXIES", "trusted_proxies");
  if (proxies !== undefined) server.trustedProxies = addressList(proxies);
  return {
    dataDir: dataDir ?? DEFAULTS.dataDir,
    host: host ?? DEFAULTS.host,
    port: port ?? DEFAULTS.port,
    nodeId: nodeId ?? DEFAULTS.nodeId,
    jwtSecret,
    rootPassword,
    server: server as unknown as ServerSettings,
  };
}

function addressList(v: unknown): string[] {
  const items = typeof v === "string" ? v.split(",") : Array.isArray(v) ? v : undefined;
  if (!items || items.some((x) => typeof x !== "string")) {
    throw new UsageError("trusted_proxies must be a comma-separated string or a list of strings");
  }
  return items.map((x: string) => x.trim()).filter((x: string) => x !== "");
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
