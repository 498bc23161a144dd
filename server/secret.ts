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
  Deno.writeTextFileSync(path, secret + "\n", { mode: 0o600 });
  return secret;
}
