// Which session a CLI command gets (SPEC §7): remote when `--url` (or `--instance`, `--user`,
// `--token`) says so or a server answers on the default URL, else embedded on the data
// directory — except that an explicit `--data` always means embedded (the user named the
// directory). Remote credentials, first match wins: `--token`; `--user` with `--password`,
// `KALAMDB_PASSWORD` or a no-echo prompt on a TTY; the stored login of `--instance` (default
// `local`) when it is for this URL; else root with no password (loopback only, SPEC §5).

import type { Auth } from "../client/mod.ts";
import { UsageError } from "./args.ts";
import type { Config } from "./config.ts";
import { DEFAULT_INSTANCE, readLogin, storedTokenProvider } from "./credentials.ts";
import { EmbeddedSession } from "./embedded.ts";
import { promptSecret } from "./prompt.ts";
import { RemoteSession } from "./remote.ts";
import type { Session } from "./session.ts";

/** The server tried when no --url is given: `KALAMDB_URL`, else the default port on loopback. */
export function defaultUrl(): string {
  return Deno.env.get("KALAMDB_URL") || "http://127.0.0.1:2900";
}

/** The connection flags of `sql`, `shell`, `--file`, `export`. */
export interface ConnectFlags {
  readonly url?: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  readonly instance?: string;
  /** Embedded identity (`--as-user`, default root). */
  readonly asUser?: string;
  /** `--data` was given on the command line. */
  readonly data?: string;
}

export async function connect(
  flags: ConnectFlags,
  config: Config,
  /** Told when no server answered and the data directory is opened instead. */
  onFallback: (note: string) => void = () => {},
): Promise<Session> {
  const url = await remoteUrl(flags);
  if (url === undefined) {
    if (flags.data === undefined) {
      onFallback(`kalamdb: no server at ${defaultUrl()}; running embedded on ${config.dataDir}`);
    }
    return await EmbeddedSession.open({
      dataDir: config.dataDir,
      nodeId: config.nodeId,
      asUser: flags.asUser ?? "root",
    });
  }
  if (flags.asUser !== undefined && flags.asUser !== "root") {
    throw new UsageError("--as-user is for embedded mode; against a server use --user");
  }
  return await RemoteSession.connect({ url, ...await remoteAuth(flags, url) });
}

/** The server to talk to, or undefined for embedded mode. */
async function remoteUrl(flags: ConnectFlags): Promise<string | undefined> {
  if (flags.url !== undefined) return normalise(flags.url);
  if (flags.instance !== undefined) {
    const login = await readLogin(flags.instance);
    if (!login) {
      throw new UsageError(
        `no login stored for instance "${flags.instance}": run \`kalamdb login --instance ${flags.instance} --url …\``,
      );
    }
    return normalise(login.url);
  }
  const fallback = normalise(defaultUrl());
  const remoteOnly = flags.user !== undefined || flags.token !== undefined;
  if (remoteOnly && flags.data !== undefined) {
    throw new UsageError(
      "--user/--token log in to a server and --data opens a directory: give one",
    );
  }
  if (remoteOnly) return fallback;
  if (flags.data !== undefined) return undefined;
  return await answers(fallback) ? fallback : undefined;
}

export function normalise(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url must be an http(s) URL, got "${url}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`--url must be an http(s) URL, got "${url}"`);
  }
  return parsed.origin;
}

/**
 * Whether a KalamDB server answers its healthcheck at `url`. Only a refused connection (or an
 * answer that is not KalamDB's) means "no server": one that is merely slow still counts, so a
 * loaded server is never silently replaced by a fresh local directory.
 */
export async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/api/healthcheck`, { signal: AbortSignal.timeout(3000) });
    const body = await res.json().catch(() => undefined);
    return res.ok && body?.status === "ok";
  } catch (err) {
    return err instanceof DOMException &&
      (err.name === "TimeoutError" || err.name === "AbortError");
  }
}

async function remoteAuth(
  flags: ConnectFlags,
  url: string,
): Promise<{ auth: Auth; credentials: string; role?: string }> {
  if (flags.token !== undefined) return { auth: { token: flags.token }, credentials: "--token" };
  const envPassword = Deno.env.get("KALAMDB_PASSWORD");
  if (flags.user !== undefined) {
    const { password, source } = await passwordFor(flags, envPassword);
    return { auth: { user: flags.user, password }, credentials: `--user with ${source}` };
  }
  if (flags.password !== undefined) {
    return {
      auth: { user: "root", password: flags.password },
      credentials: "root with --password",
    };
  }
  const instance = flags.instance ?? DEFAULT_INSTANCE;
  const login = await readLogin(instance);
  if (login && flags.instance !== undefined && normalise(login.url) !== url) {
    throw new UsageError(
      `instance "${instance}" is a login for ${login.url}, not ${url}: drop --url or --instance`,
    );
  }
  if (login && normalise(login.url) === url) {
    return {
      auth: { tokenProvider: storedTokenProvider(instance, login) },
      credentials: `credentials file (instance ${instance}, saved ${login.saved_at})`,
      role: login.role,
    };
  }
  if (envPassword !== undefined) {
    return {
      auth: { user: "root", password: envPassword },
      credentials: "root with KALAMDB_PASSWORD",
    };
  }
  return {
    auth: { user: "root", password: "" },
    credentials: "default root (no password, loopback)",
  };
}

export async function passwordFor(
  flags: ConnectFlags,
  envPassword: string | undefined,
): Promise<{ password: string; source: string }> {
  if (flags.password !== undefined) return { password: flags.password, source: "--password" };
  if (envPassword !== undefined) return { password: envPassword, source: "KALAMDB_PASSWORD" };
  if (Deno.stdin.isTerminal()) {
    return { password: await promptSecret(`Password for ${flags.user}: `), source: "prompt" };
  }
  return { password: "", source: "no password" };
}
