// Shared pieces of the security suites: JWTs built by hand (any header, any signature, any
// algorithm) so a test can send exactly the token an attacker would; a scan for secrets in any
// text or bytes; unzipping an export; and reading a file as another local user (`nobody`) when
// the suite runs as root. Everything talks to a real server started by tests/server/_server.ts.

import { BlobReader, configure, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import { SECRET } from "../server/_server.ts";

configure({ useWebWorkers: false });

const enc = new TextEncoder();

/** The one message of every authentication failure (SPEC §5; auth/jwt.ts). */
export const UNAUTHORIZED = "Invalid or missing credentials";

/** base64url of bytes or of a string's UTF-8. */
export function b64url(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_");
}

async function hmac(hash: string, key: string, data: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", enc.encode(key), { name: "HMAC", hash }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(data)));
}

export interface RawToken {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** How to sign: an HMAC hash with a key (default SHA-256 with SECRET), or a fixed signature. */
  readonly hmac?: { hash: "SHA-256" | "SHA-384" | "SHA-512"; key?: string };
  readonly signature?: string;
}

/** A JWT assembled by hand: whatever header and payload, signed as told. */
export async function rawToken(t: RawToken): Promise<string> {
  const signing = `${b64url(JSON.stringify(t.header))}.${b64url(JSON.stringify(t.payload))}`;
  if (t.signature !== undefined) return `${signing}.${t.signature}`;
  const { hash = "SHA-256", key = SECRET } = t.hmac ?? {};
  return `${signing}.${b64url(await hmac(hash, key, signing))}`;
}

/** An RS256 token signed with a fresh RSA key (the server has no RSA key at all). */
export async function rsaToken(payload: Record<string, unknown>): Promise<string> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const header = { alg: "RS256", typ: "JWT", jwk: { kty: jwk.kty, n: jwk.n, e: jwk.e } };
  const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, enc.encode(signing));
  return `${signing}.${b64url(new Uint8Array(sig))}`;
}

/** Claims of a valid-looking access token for `sub`, with overrides. */
export function claims(
  sub: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { sub, role: "user", token_type: "access", iat: now, exp: now + 3600, ...extra };
}

/**
 * Which of `secrets` occur in `text` (also base64 / base64url / hex encoded, so a secret
 * copied into a JSON-encoded or binary field is found too). Returns "<what>: <secret>" hits.
 */
export function leaks(what: string, text: string, secrets: readonly string[]): string[] {
  const hits: string[] = [];
  for (const s of secrets) {
    const forms = [
      s,
      btoa(s),
      b64url(s),
      [...enc.encode(s)].map((b) => b.toString(16).padStart(2, "0")).join(""),
    ];
    if (forms.some((f) => text.includes(f))) hits.push(`${what}: ${s}`);
  }
  return hits;
}

/** The members of a zip, by name. */
export async function unzip(bytes: Uint8Array): Promise<Map<string, Uint8Array>> {
  const reader = new ZipReader(new BlobReader(new Blob([bytes as BlobPart])));
  const out = new Map<string, Uint8Array>();
  for (const entry of await reader.getEntries()) {
    if (!entry.directory && entry.getData) {
      out.set(entry.filename, await entry.getData(new Uint8ArrayWriter()));
    }
  }
  await reader.close();
  return out;
}

/** Whether the suite can try reads as another local user (running as root with `setpriv`). */
export function canImpersonate(): boolean {
  if (Deno.build.os === "windows" || Deno.uid() !== 0) return false;
  try {
    return Deno.statSync("/usr/bin/setpriv").isFile;
  } catch {
    return false;
  }
}

/** Tries to read (or list) `path` as `nobody`; true when that succeeded. */
export async function readableByNobody(path: string): Promise<boolean> {
  const isDir = Deno.statSync(path).isDirectory;
  const out = await new Deno.Command("/usr/bin/setpriv", {
    args: [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      isDir ? "ls" : "head",
      ...(isDir ? [path] : ["-c", "1", path]),
    ],
    stdout: "null",
    stderr: "null",
  }).output();
  return out.success;
}
