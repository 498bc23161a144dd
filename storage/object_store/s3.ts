// ObjectStore over an S3-compatible bucket: SigV4 via aws4fetch, path-style URLs
// (`<endpoint>/<bucket>/<prefix><key>`), so custom endpoints (MinIO, Swift s3api, R2) work.
//
// Design decision: every request goes through one `#exchange` that owns the timeout, retries
// (network errors, 5xx, 429 — all our requests are idempotent) and the error message. Messages
// carry the method, the key, the HTTP status and the S3 error code only: never credentials, and
// never the rest of an S3 error body (signature errors echo the access key and string-to-sign).

import { AwsClient } from "aws4fetch";
import { DbError } from "../../errors.ts";
import {
  checkObjectPath,
  checkObjectPrefix,
  checkRange,
  missingObject,
  type ObjectStore,
  type S3StoreConfig,
} from "./store.ts";

const RETRIES = 2;
const RETRY_BASE_MS = 100;

export class S3ObjectStore implements ObjectStore {
  readonly #client: AwsClient;
  readonly #bucketUrl: string;
  readonly #host: string;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #pageSize: number;

  constructor(config: S3StoreConfig) {
    const invalid = (what: string) => new DbError("INVALID_PARAMETER", `S3 store: ${what}`);
    let url: URL;
    try {
      url = new URL(config.endpoint);
    } catch {
      throw invalid("endpoint is not a URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw invalid("endpoint must be http(s)");
    }
    if (url.username || url.password || url.search || url.hash) {
      throw invalid("endpoint must not carry credentials, a query or a fragment");
    }
    if (!config.bucket || /[/\\\0]/.test(config.bucket)) throw invalid("invalid bucket name");
    if (!config.region) throw invalid("region is required");
    const { accessKeyId, secretAccessKey } = config.credentials ?? {};
    if (!accessKeyId || !secretAccessKey) throw invalid("credentials are required");
    const prefix = checkObjectPrefix(config.prefix ?? "");
    this.#prefix = prefix === "" || prefix.endsWith("/") ? prefix : prefix + "/";
    this.#host = url.host;
    this.#bucketUrl = `${url.origin}${url.pathname.replace(/\/+$/, "")}/${
      encodeURIComponent(config.bucket)
    }`;
    this.#timeoutMs = config.timeoutMs ?? 30_000;
    this.#pageSize = Math.min(Math.max(1, config.listPageSize ?? 1000), 1000);
    // Retries are ours (#exchange): aws4fetch's own would leave 5xx bodies unread.
    this.#client = new AwsClient({
      accessKeyId,
      secretAccessKey,
      service: "s3",
      region: config.region,
      retries: 0,
    });
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    const url = this.#objectUrl(path);
    const headers = {
      "content-type": "application/octet-stream",
      "x-amz-content-sha256": await sha256Hex(data),
    };
    await this.#exchange("PUT", url, path, { headers, body: data }, async (res) => {
      if (res.status !== 200) throw await failure("PUT", path, res);
      await res.body?.cancel();
    });
  }

  get(path: string): Promise<Uint8Array | undefined> {
    return this.#exchange("GET", this.#objectUrl(path), path, {}, async (res) => {
      if (res.status === 200) return new Uint8Array(await res.arrayBuffer());
      const err = await failure("GET", path, res);
      if (res.status === 404 && err.s3Code !== "NoSuchBucket") return undefined;
      throw err;
    });
  }

  async getRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const url = this.#objectUrl(path);
    checkRange(offset, length);
    if (length === 0) { // a zero-byte Range cannot be expressed in HTTP
      if (!(await this.head(path))) throw missingObject(path);
      return new Uint8Array(0);
    }
    const headers = { range: `bytes=${offset}-${offset + length - 1}` };
    return this.#exchange("GET", url, path, { headers }, async (res) => {
      if (res.status === 206) return new Uint8Array(await res.arrayBuffer());
      // A server that ignores Range sends everything; cut the slice out ourselves.
      if (res.status === 200) {
        return new Uint8Array(await res.arrayBuffer()).slice(offset, offset + length);
      }
      if (res.status === 416) { // offset at or past the end: nothing there
        await res.body?.cancel();
        return new Uint8Array(0);
      }
      const err = await failure("GET", path, res);
      if (res.status === 404 && err.s3Code !== "NoSuchBucket") throw missingObject(path);
      throw err;
    });
  }

  head(path: string): Promise<{ size: number } | undefined> {
    // HEAD has no body, so a missing bucket also reads as a missing object here.
    return this.#exchange("HEAD", this.#objectUrl(path), path, {}, async (res) => {
      await res.body?.cancel();
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw await failure("HEAD", path, res);
      return { size: Number(res.headers.get("content-length") ?? 0) };
    });
  }

  async list(prefix: string): Promise<string[]> {
    checkObjectPrefix(prefix);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams({
        "list-type": "2",
        "prefix": this.#prefix + prefix,
        "max-keys": String(this.#pageSize),
      });
      if (token !== undefined) query.set("continuation-token", token);
      const url = `${this.#bucketUrl}?${query}`;
      const xml = await this.#exchange("GET", url, prefix, {}, async (res) => {
        if (res.status !== 200) throw await failure("LIST", prefix, res);
        return await res.text();
      });
      for (const key of xmlValues(xml, "Key")) keys.push(key.slice(this.#prefix.length));
      token = xmlValues(xml, "IsTruncated")[0] === "true"
        ? xmlValues(xml, "NextContinuationToken")[0]
        : undefined;
    } while (token);
    return keys.sort();
  }

  async delete(path: string): Promise<void> {
    await this.#exchange("DELETE", this.#objectUrl(path), path, {}, async (res) => {
      if (res.status === 204 || res.status === 200) {
        await res.body?.cancel();
        return;
      }
      const err = await failure("DELETE", path, res);
      if (res.status === 404 && err.s3Code !== "NoSuchBucket") return;
      throw err;
    });
  }

  #objectUrl(path: string): string {
    const key = this.#prefix + checkObjectPath(path);
    return `${this.#bucketUrl}/${key.split("/").map(encodeURIComponent).join("/")}`;
  }

  /** One signed request with timeout and retries; `handle` reads the response it settles on. */
  async #exchange<T>(
    method: string,
    url: string,
    what: string,
    init: { headers?: Record<string, string>; body?: Uint8Array },
    handle: (res: Response) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0;; attempt++) {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), this.#timeoutMs);
      try {
        let res: Response;
        try {
          res = await this.#client.fetch(url, {
            method,
            headers: init.headers,
            // Uint8Array<ArrayBufferLike> vs BodyInit: a TS lib quirk (SharedArrayBuffer).
            body: init.body as BodyInit | undefined,
            signal: abort.signal,
          });
        } catch {
          if (attempt < RETRIES && !abort.signal.aborted) {
            await backoff(attempt);
            continue;
          }
          throw this.#transportError(method, what, abort.signal.aborted);
        }
        if ((res.status >= 500 || res.status === 429) && attempt < RETRIES) {
          await res.body?.cancel();
          await backoff(attempt);
          continue;
        }
        return await handle(res);
      } catch (err) {
        if (err instanceof DbError) throw err;
        throw this.#transportError(method, what, abort.signal.aborted);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  #transportError(method: string, what: string, timedOut: boolean): DbError {
    const why = timedOut
      ? `timed out after ${this.#timeoutMs} ms`
      : `could not reach ${this.#host}`;
    const err = new DbError("STORAGE_ERROR", `S3 ${method} ${JSON.stringify(what)} failed: ${why}`);
    err.transient = true;
    return err;
  }
}

/** A DbError for a non-success response, with the S3 error code (if any) kept aside. */
async function failure(
  method: string,
  what: string,
  res: Response,
): Promise<DbError & { s3Code?: string }> {
  const body = method === "HEAD" ? "" : await res.text().catch(() => "");
  const code = xmlValues(body, "Code")[0];
  const detail = code && /^[A-Za-z0-9.]{1,64}$/.test(code) ? ` ${code}` : "";
  const err: DbError & { s3Code?: string } = new DbError(
    "STORAGE_ERROR",
    `S3 ${method} ${JSON.stringify(what)} failed: HTTP ${res.status}${detail}`,
  );
  err.s3Code = code;
  // The server's trouble (5xx, throttling, a timeout), not the request's: worth retrying.
  err.transient = res.status >= 500 || res.status === 429 || res.status === 408;
  return err;
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

/** Text of every `<tag>…</tag>` (flat elements only, which is all S3 listings need). */
function xmlValues(xml: string, tag: string): string[] {
  const out: string[] = [];
  for (const m of xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))) {
    out.push(
      m[1].replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
        if (ref[0] !== "#") return ENTITIES[ref] ?? whole;
        return String.fromCodePoint(
          parseInt(ref.slice(ref[1] === "x" ? 2 : 1), ref[1] === "x" ? 16 : 10),
        );
      }),
    );
  }
  return out;
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 2 ** attempt));
}
