// `kalamdb login` / `kalamdb logout` (SPEC §7): log in over HTTP and keep the token pair (never
// the password) in the credentials file under an instance name; logout removes the entry.

import type { TokenPair } from "../client/mod.ts";
import type { RemoteFlags } from "./args.ts";
import { defaultUrl, normalise, passwordFor } from "./connect.ts";
import {
  credentialsPath,
  DEFAULT_INSTANCE,
  readLogin,
  removeLogin,
  saveLogin,
} from "./credentials.ts";
import { formatError } from "./format.ts";
import { asDbError } from "./remote.ts";
import { KalamError } from "../client/mod.ts";

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const console_: Output = { out: (t) => console.log(t), err: (t) => console.error(t) };

export async function runLogin(flags: RemoteFlags, output: Output = console_): Promise<number> {
  const instance = flags.instance ?? DEFAULT_INSTANCE;
  const url = normalise(flags.url ?? (await readLogin(instance))?.url ?? defaultUrl());
  const user = flags.user ?? "root";
  const { password } = await passwordFor({ ...flags, user }, Deno.env.get("KALAMDB_PASSWORD"));
  let pair: TokenPair;
  try {
    pair = await login(url, user, password);
  } catch (err) {
    output.err(formatError(asDbError(err)));
    return 1;
  }
  await saveLogin(instance, url, pair);
  output.out(
    `Logged in to ${url} as ${pair.user.id} (${pair.user.role}); token saved as instance ` +
      `"${instance}" in ${credentialsPath()} (access token expires ${pair.expires_at})`,
  );
  return 0;
}

export async function runLogout(
  flags: { readonly instance?: string },
  output: Output = console_,
): Promise<number> {
  const instance = flags.instance ?? DEFAULT_INSTANCE;
  output.out(
    await removeLogin(instance)
      ? `Logged out: removed instance "${instance}" from ${credentialsPath()}`
      : `No login stored for instance "${instance}"`,
  );
  return 0;
}

async function login(url: string, user: string, password: string): Promise<TokenPair> {
  let res: Response;
  try {
    res = await fetch(`${url}/v1/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user, password }),
    });
  } catch (err) {
    throw new KalamError({
      code: "NETWORK_ERROR",
      message: `cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
  const body = await res.json().catch(() => undefined);
  if (!res.ok) {
    throw new KalamError({
      code: body?.error?.code ?? "PROTOCOL_ERROR",
      message: body?.error?.message ?? `HTTP ${res.status}`,
      status: res.status,
    });
  }
  return body as TokenPair;
}
