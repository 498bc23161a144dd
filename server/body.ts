// Reading a JSON request body under the size limit. The Content-Type must be JSON; a declared
// Content-Length over the limit is refused before reading, and a body without one is counted as
// it streams in, so a client cannot make the server buffer more than the limit either way.

import { DbError } from "../errors.ts";

/** The parsed JSON object of a POST body; throws INVALID_PARAMETER / PAYLOAD_TOO_LARGE. */
export async function readJsonObject(
  req: Request,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type.trim())) {
    await req.body?.cancel();
    throw new DbError(
      "INVALID_PARAMETER",
      `Content-Type must be application/json (got ${type ? `"${type}"` : "none"})`,
    );
  }
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await req.body?.cancel();
    throw tooLarge(maxBytes);
  }
  // With a declared length (within the limit) Deno parses the body in one go; without one it
  // is counted as it streams in.
  let value: unknown;
  try {
    value = Number.isFinite(declared)
      ? await req.json()
      : JSON.parse(new TextDecoder().decode(await readCapped(req, maxBytes)));
  } catch (err) {
    if (err instanceof DbError) throw err;
    throw new DbError("INVALID_PARAMETER", `Malformed JSON body: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DbError("INVALID_PARAMETER", "The JSON body must be an object");
  }
  return value as Record<string, unknown>;
}

async function readCapped(req: Request, maxBytes: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function tooLarge(maxBytes: number): DbError {
  return new DbError(
    "PAYLOAD_TOO_LARGE",
    `The request body exceeds the limit of ${maxBytes} bytes`,
  );
}
