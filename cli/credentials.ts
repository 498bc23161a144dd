// The credentials file, `~/.kalamdb/credentials.json` (SPEC §7): one entry per instance (default
// `local`) with the server URL and the token pair `kalamdb login` got — never the password. The
// file is mode 0600 in a 0700 directory and written atomically (temp file + rename). A stored
// access token that is about to expire is renewed with the refresh token and saved back; when
// that fails too, the message says to log in again.

import { KalamError, type TokenPair } from "../client/mod.ts";
import { reason } from "./config.ts";

export const DEFAULT_INSTANCE = "local";

export interface StoredLogin {
  readonly url: string;
  readonly user: string;
  readonly role: string;
  readonly access_token: string;
  readonly refresh_token: string;
  readonly expires_at: string;
  readonly saved_at: string;
}

interface CredentialsFile {
  instances: Record<string, StoredLogin>;
}

/**
 * Where the files live instead of `~/.kalamdb` — for tests in one process, which cannot change
 * HOME without changing it for every other test running alongside.
 */
export const homeOverride: { dir?: string } = {};

/** `~/.kalamdb` (HOME, or USERPROFILE on Windows). */
export function kalamdbHome(): string {
  if (homeOverride.dir !== undefined) return homeOverride.dir;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  if (!home) throw new Error("HOME is not set: cannot find ~/.kalamdb");
  return `${home}/.kalamdb`;
}

export function credentialsPath(): string {
  return `${kalamdbHome()}/credentials.json`;
}

async function readFile(): Promise<CredentialsFile> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(credentialsPath()));
    if (typeof parsed?.instances === "object" && parsed.instances !== null) return parsed;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new Error(`cannot read ${credentialsPath()}: ${reason(err)}`);
    }
  }
  return { instances: {} };
}

async function writeFile(file: CredentialsFile): Promise<void> {
  const dir = kalamdbHome();
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const path = credentialsPath();
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  // Created 0600 before the tokens are written: they are never readable by others.
  await Deno.writeTextFile(tmp, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
  await Deno.chmod(tmp, 0o600);
  await Deno.rename(tmp, path);
}

/** The stored login of an instance; none without a HOME (then nothing is stored either). */
export async function readLogin(instance: string): Promise<StoredLogin | undefined> {
  if (homeOverride.dir === undefined && !Deno.env.get("HOME") && !Deno.env.get("USERPROFILE")) {
    return undefined;
  }
  return (await readFile()).instances[instance];
}

function entryOf(url: string, pair: TokenPair): StoredLogin {
  return {
    url,
    user: pair.user.id,
    role: pair.user.role,
    access_token: pair.access_token,
    refresh_token: pair.refresh_token,
    expires_at: pair.expires_at,
    saved_at: new Date().toISOString(),
  };
}

export async function saveLogin(
  instance: string,
  url: string,
  pair: TokenPair,
): Promise<StoredLogin> {
  const file = await readFile();
  const entry = entryOf(url, pair);
  file.instances[instance] = entry;
  await writeFile(file);
  return entry;
}

/** Removes an instance's entry; false when there was none. */
export async function removeLogin(instance: string): Promise<boolean> {
  const file = await readFile();
  if (!(instance in file.instances)) return false;
  delete file.instances[instance];
  await writeFile(file);
  return true;
}

/** Renew when the access token has less than this left. */
const RENEW_MARGIN_MS = 60_000;

/**
 * A token provider for the SDK over a stored login: the access token while it is fresh, else a
 * refresh (saved back to the file); a refused refresh says to log in again.
 */
export function storedTokenProvider(
  instance: string,
  login: StoredLogin,
  fetchFn: typeof fetch = fetch,
): () => Promise<string> {
  let current = login;
  let renewing: Promise<StoredLogin> | undefined;
  return async () => {
    // Within a minute of expiry — or half the token's life when that is shorter.
    const life = Date.parse(current.expires_at) - Date.parse(current.saved_at);
    const margin = Math.min(RENEW_MARGIN_MS, Math.max(life, 0) / 2);
    if (Date.parse(current.expires_at) - Date.now() > margin) return current.access_token;
    // Concurrent calls share one refresh.
    renewing ??= renew(instance, current, fetchFn).finally(() => renewing = undefined);
    current = await renewing;
    return current.access_token;
  };
}

async function renew(
  instance: string,
  login: StoredLogin,
  fetchFn: typeof fetch,
): Promise<StoredLogin> {
  let res: Response;
  try {
    res = await fetchFn(`${login.url.replace(/\/+$/, "")}/v1/api/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: login.refresh_token }),
    });
  } catch (err) {
    throw new KalamError({ code: "NETWORK_ERROR", message: reason(err), cause: err });
  }
  const body = await res.json().catch(() => undefined);
  if (!res.ok || typeof body?.access_token !== "string" || typeof body?.user?.id !== "string") {
    throw new KalamError({
      code: "UNAUTHORIZED",
      status: res.status,
      message: `The stored login of instance "${instance}" has expired: ` +
        `run \`kalamdb login --instance ${instance}\` again`,
    });
  }
  // Saved back only while the file still holds the login we renewed: a logout or a newer
  // login in the meantime wins (this session just keeps its fresh token).
  const onFile = await readLogin(instance);
  if (onFile?.refresh_token !== login.refresh_token) return entryOf(login.url, body as TokenPair);
  return await saveLogin(instance, login.url, body as TokenPair);
}
