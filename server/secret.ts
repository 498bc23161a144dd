// The JWT signing secret: the configured one (KALAMDB_JWT_SECRET / jwt_secret), else one
// generated at the first start and kept in the data directory (mode 0600), so tokens survive
// restarts without any setup.

import { randomBytes } from "node:crypto";

const FILE = "jwt_secret";

/** The secret to sign tokens with; creates `<dataDir>/jwt_secret` when needed. */
export function jwtSecret(dataDir: string, configured?: string): string {
  if (configured) return configured;
  const path = `${dataDir}/${FILE}`;
  try {
    const kept = Deno.readTextFileSync(path).trim();
    if (kept.length >= 32) return kept;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const secret = randomBytes(48).toString("base64url");
  // 0600 before the secret is in it: the create mode is masked by the umask and not applied to a
  // (too short) file that was already there.
  const file = Deno.openSync(path, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    if (Deno.build.os !== "windows") Deno.chmodSync(path, 0o600);
    file.writeSync(new TextEncoder().encode(secret + "\n"));
  } finally {
    file.close();
  }
  return secret;
}
