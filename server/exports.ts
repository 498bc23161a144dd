// `GET /v1/exports/<user>/<export_id>` (SPEC §9): the zip of a finished export, streamed from
// the data directory. The owner, dba and system may download; anyone else gets
// PERMISSION_DENIED before the export is looked up (so ids of other users are not revealed);
// an unknown id, or one of another user than the path names, is NOT_FOUND. A single
// `Range: bytes=a-b` (also `a-` and `-n`) answers 206 with Content-Range; an unsatisfiable one
// 416. Multiple ranges are not supported: the whole file is sent instead (RFC 9110 allows it).

import type { Database } from "../storage/mod.ts";
import { DbError, toDbError } from "../errors.ts";
import type { Authenticator } from "./authenticate.ts";
import { errorResponse } from "./respond.ts";

export const EXPORTS_PREFIX = "/v1/exports/";

export async function downloadExport(
  db: Database,
  auth: Authenticator,
  req: Request,
  path: string,
  peer: string,
  t0: number,
): Promise<Response> {
  try {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return errorResponse(
        new DbError("UNSUPPORTED", `${req.method} is not allowed here; use GET`),
        t0,
        [],
        405,
      );
    }
    const parts = path.slice(EXPORTS_PREFIX.length).split("/");
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new DbError("NOT_FOUND", `No route for GET ${path}`);
    }
    let user: string, exportId: string;
    try {
      [user, exportId] = parts.map(decodeURIComponent);
    } catch {
      throw new DbError("NOT_FOUND", `No export at ${path}`); // malformed %-encoding
    }
    const who = await auth.request(req, auth.address(req, peer));
    if (
      who.role !== "dba" && who.role !== "system" &&
      !(who.role !== "anonymous" && who.user === user)
    ) {
      throw new DbError(
        "PERMISSION_DENIED",
        "Only the owner, dba or system may download an export",
      );
    }
    const found = db.exportFile(exportId);
    if (!found || found.user !== user) {
      throw new DbError(
        "NOT_FOUND",
        `Export "${exportId}" of ${user} does not exist or is not ready`,
      );
    }
    return await sendFile(req, found.path, exportId);
  } catch (err) {
    return errorResponse(toDbError(err), t0);
  }
}

async function sendFile(req: Request, path: string, exportId: string): Promise<Response> {
  let size: number;
  try {
    size = (await Deno.stat(path)).size;
  } catch (err) {
    // Expired (and deleted) between the lookup and now: gone, not a server error.
    if (err instanceof Deno.errors.NotFound) {
      throw new DbError("NOT_FOUND", `Export "${exportId}" no longer exists`);
    }
    throw err;
  }
  const headers: Record<string, string> = {
    "content-type": "application/zip",
    "content-disposition": `attachment; filename="${
      exportId.replace(/[^A-Za-z0-9_.-]/g, "_")
    }.zip"`,
    "accept-ranges": "bytes",
    "access-control-allow-origin": "*",
  };
  const range = parseRange(req.headers.get("range"), size);
  if (range === "unsatisfiable") {
    return new Response(null, {
      status: 416,
      headers: { ...headers, "content-range": `bytes */${size}` },
    });
  }
  const [start, end] = range ?? [0, size - 1];
  const length = Math.max(0, end - start + 1);
  headers["content-length"] = String(length);
  if (range) headers["content-range"] = `bytes ${start}-${end}/${size}`;
  const status = range ? 206 : 200;
  if (req.method === "HEAD" || length === 0) return new Response(null, { status, headers });
  const file = await Deno.open(path, { read: true });
  await file.seek(start, Deno.SeekMode.Start);
  let left = length;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buf = new Uint8Array(Math.min(64 * 1024, left));
      const n = await file.read(buf);
      if (n === null || n === 0) {
        file.close();
        return controller.close();
      }
      left -= n;
      controller.enqueue(buf.subarray(0, n));
      if (left <= 0) {
        file.close();
        controller.close();
      }
    },
    cancel() {
      file.close();
    },
  });
  return new Response(body, { status, headers });
}

/** One byte range of a `Range` header; undefined for none (or one this route ignores). */
function parseRange(
  header: string | null,
  size: number,
): [number, number] | "unsatisfiable" | undefined {
  if (header === null) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return [start, end];
}
