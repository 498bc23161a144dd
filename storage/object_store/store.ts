// The object-store interface the flush, read and compaction paths use for segment files and
// manifests, and the key checks both backends share (fs.ts, s3.ts; mod.ts opens one).
//
// Design decision: keys are canonical relative paths ("app/messages/alice/batch-1.parquet"),
// checked here once for both backends, so a key means the same object on disk and in a bucket
// and can never escape the filesystem root. `list` uses S3 prefix semantics on both backends.

import { DbError } from "../../errors.ts";

/** Where the bytes of segments and manifests live. Every method throws `DbError`. */
export interface ObjectStore {
  /** Writes the whole object; readers see the old or the new bytes, never a mix. */
  put(path: string, data: Uint8Array): Promise<void>;
  /** The object's bytes, or undefined when there is no such object. */
  get(path: string): Promise<Uint8Array | undefined>;
  /** `length` bytes from `offset`, cut short at the end of the object. Missing → STORAGE_ERROR. */
  getRange(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** The object's size, or undefined when there is no such object. */
  head(path: string): Promise<{ size: number } | undefined>;
  /** Every key starting with `prefix` (plain string prefix, "" = all), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Removes the object; a missing object is not an error. */
  delete(path: string): Promise<void>;
}

/** A directory on the local filesystem. */
export interface FsStoreConfig {
  kind: "filesystem";
  /** Directory that holds the objects; created on the first put. */
  root: string;
}

/** An S3-compatible bucket, addressed path-style (`<endpoint>/<bucket>/<key>`). */
export interface S3StoreConfig {
  kind: "s3";
  /** e.g. "https://s3.us-east-1.amazonaws.com" or "http://127.0.0.1:9000". */
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Key prefix inside the bucket ("kalamdb/" stores "a/b" as "kalamdb/a/b"); default none. */
  prefix?: string;
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
  /** Keys per ListObjectsV2 page (servers cap it at 1000); default 1000. */
  listPageSize?: number;
}

export type ObjectStoreConfig = FsStoreConfig | S3StoreConfig;

/**
 * Returns `path` when it is a canonical relative key: non-empty "/"-separated segments, none of
 * them "." or "..", no leading "/", no backslash, no NUL. Otherwise throws INVALID_PARAMETER.
 *
 * @example
 * checkObjectPath("app/messages/alice/batch-1.parquet"); // ok
 * checkObjectPath("../etc/passwd"); // throws
 */
export function checkObjectPath(path: string): string {
  if (typeof path !== "string" || path === "" || !validSegments(path)) {
    throw new DbError("INVALID_PARAMETER", `Invalid object path ${JSON.stringify(path)}`);
  }
  return path;
}

/** Like `checkObjectPath`, but "" (everything) and a trailing "/" are allowed. */
export function checkObjectPrefix(prefix: string): string {
  if (typeof prefix !== "string") {
    throw new DbError("INVALID_PARAMETER", "Invalid object prefix");
  }
  const body = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  if (prefix !== "" && !validSegments(body)) {
    throw new DbError("INVALID_PARAMETER", `Invalid object prefix ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/** Rejects byte ranges whose offset or length is not a non-negative safe integer. */
export function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new DbError(
      "INVALID_PARAMETER",
      `Invalid byte range (offset ${offset}, length ${length})`,
    );
  }
}

/** The error for reading a range of an object that is not there (the caller expected it). */
export function missingObject(path: string): DbError {
  return new DbError("STORAGE_ERROR", `Object ${JSON.stringify(path)} does not exist`);
}

function validSegments(path: string): boolean {
  if (path.includes("\0") || path.includes("\\")) return false;
  return path.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}
