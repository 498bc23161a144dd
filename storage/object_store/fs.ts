// ObjectStore over a local directory. Keys map to files under the root ("a/b" → "<root>/a/b").
//
// Design decision: put writes a temp file beside the target, fsyncs it, renames it over the
// target and fsyncs the directory, so a crash leaves the old object or the new one, never a torn
// file. Temp files are named ".tmp-<uuid>-<name>"; list skips them, so leftovers of a crash are
// invisible (and harmless) until something sweeps them. Files are 0600 and the directories it
// makes 0700 (SPEC §12); an existing root is left as its owner set it. The file calls are
// synchronous: under a thousand busy HTTP clients the runtime's async file operations (served by
// its blocking pool) took up to 25 s each, holding a flush that long; a segment's write or
// ranged read is a few milliseconds of the thread at most, as SQLite's own commits are.

// The methods stay async although their calls are not: a failure is a rejection, as the
// interface promises and the S3 backend does.
// deno-lint-ignore-file require-await

import { DbError } from "../../errors.ts";
import {
  checkObjectPath,
  checkObjectPrefix,
  checkRange,
  missingObject,
  type ObjectStore,
} from "./store.ts";
import { FILE_MODE, makePrivateDirsSync, makePrivateFileSync } from "../_modes.ts";

const TEMP_NAME = /^\.tmp-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-/;

export class FsObjectStore implements ObjectStore {
  readonly #root: string;

  constructor(root: string) {
    if (typeof root !== "string" || root === "") {
      throw new DbError("INVALID_PARAMETER", "Filesystem object store needs a root directory");
    }
    this.#root = root.length > 1 ? root.replace(/\/+$/, "") : root;
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    const file = this.#file(path);
    const dir = file.slice(0, file.lastIndexOf("/"));
    const temp = `${dir}/.tmp-${crypto.randomUUID()}-${file.slice(dir.length + 1)}`;
    try {
      const f = createTemp(temp, dir);
      try {
        let written = 0;
        while (written < data.length) written += f.writeSync(data.subarray(written));
        f.syncSync();
      } finally {
        f.close();
      }
      Deno.renameSync(temp, file);
      syncDir(dir);
    } catch (err) {
      try {
        Deno.removeSync(temp);
      } catch { /* never created */ }
      throw storageError("write", path, err);
    }
  }

  async get(path: string): Promise<Uint8Array | undefined> {
    const file = this.#file(path);
    try {
      return Deno.readFileSync(file);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw storageError("read", path, err);
    }
  }

  async getRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    const file = this.#file(path);
    checkRange(offset, length);
    let f: Deno.FsFile;
    try {
      f = Deno.openSync(file, { read: true });
    } catch (err) {
      if (isMissing(err)) throw missingObject(path);
      throw storageError("read", path, err);
    }
    try {
      const info = f.statSync();
      if (!info.isFile) throw missingObject(path);
      const size = info.size;
      const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      f.seekSync(offset, Deno.SeekMode.Start);
      let filled = 0;
      while (filled < out.length) {
        const n = f.readSync(out.subarray(filled));
        if (n === null) break; // shrank under us; return what is there
        filled += n;
      }
      return out.subarray(0, filled);
    } catch (err) {
      throw storageError("read", path, err);
    } finally {
      f.close();
    }
  }

  async head(path: string): Promise<{ size: number } | undefined> {
    const file = this.#file(path);
    try {
      const info = Deno.statSync(file);
      return info.isFile ? { size: info.size } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw storageError("read", path, err);
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkObjectPrefix(prefix);
    // Walk from the deepest directory the prefix names; descend only where keys can still match.
    const base = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/") + 1) : "";
    const keys: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: Iterable<Deno.DirEntry>;
      try {
        entries = Deno.readDirSync(rel === "" ? this.#root : `${this.#root}/${rel}`);
        for (const e of entries) {
          const key = rel + e.name;
          if (e.isFile && key.startsWith(prefix) && !TEMP_NAME.test(e.name)) keys.push(key);
          else if (e.isDirectory && (key + "/").startsWith(prefix.slice(0, key.length + 1))) {
            await walk(key + "/");
          }
        }
      } catch (err) {
        if (isMissing(err) || err instanceof Deno.errors.NotADirectory) return;
        throw storageError("list", prefix, err);
      }
    };
    await walk(base);
    return keys.sort();
  }

  async delete(path: string): Promise<void> {
    const file = this.#file(path);
    try {
      Deno.removeSync(file);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw storageError("delete", path, err);
    }
  }

  #file(path: string): string {
    return `${this.#root}/${checkObjectPath(path)}`;
  }
}

// A missing directory is made on the first put into it (0700, like every missing parent), so
// the common case costs no mkdir. The file is 0600 before it gets its name.
function createTemp(temp: string, dir: string): Deno.FsFile {
  const open = () => Deno.openSync(temp, { write: true, createNew: true, mode: FILE_MODE });
  let f: Deno.FsFile;
  try {
    f = open();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    makePrivateDirsSync(dir);
    f = open();
  }
  try {
    makePrivateFileSync(temp);
  } catch (err) {
    f.close();
    throw err;
  }
  return f;
}

function syncDir(dir: string): void {
  const d = Deno.openSync(dir, { read: true });
  try {
    d.syncSync();
  } finally {
    d.close();
  }
}

function isMissing(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound || err instanceof Deno.errors.IsADirectory ||
    err instanceof Deno.errors.NotADirectory;
}

// The OS message names absolute paths; only the key and the error kind go to the caller.
function storageError(action: string, path: string, err: unknown): DbError {
  if (err instanceof DbError) return err;
  // The OS's reason ("No space left on device (os error 28)"), without the path Deno appends.
  const why = err instanceof Error ? err.message.replace(/\): .*$/s, ")").slice(0, 200) : "";
  const kind = err instanceof Error ? `${err.name}${why ? `, ${why}` : ""}` : "unknown error";
  const failure = new DbError(
    "STORAGE_ERROR",
    `Could not ${action} object ${JSON.stringify(path)}: ${kind}`,
  );
  failure.transient = true; // the filesystem refused (full, read-only, I/O error)
  return failure;
}
