// File modes (SPEC §12): the data directory holds password hashes and storage credentials, so
// every directory the server makes is 0700 and every file 0600, whatever the process umask.
//
// Design decisions: modes are set with chmod after creating (the mode given to mkdir/open is
// masked by the umask); and an existing data directory is repaired at open by a walk that reads
// all of the data directory's own entries but does not descend into a subdirectory that is
// already 0700. That is sound because such a directory is only 0700 once its contents are (a
// new one is 0700 before anything is put in it; the walk chmods a directory after its entries,
// so an interrupted walk is redone), and it keeps a restart at a few stats, not one per segment.
// Symlinks are not followed or changed: what they point to is the operator's. No-ops on Windows.

import { DbError } from "../errors.ts";

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

const POSIX = Deno.build.os !== "windows";

function modeOf(info: Deno.FileInfo): number {
  return (info.mode ?? 0) & 0o777;
}

/** chmods `path` to `mode` unless it already has it (an unneeded chmod may fail on foreign files). */
function setModeSync(path: string, mode: number, info = Deno.lstatSync(path)): void {
  if (POSIX && !info.isSymlink && modeOf(info) !== mode) Deno.chmodSync(path, mode);
}

/** What the server keeps directly in a data directory; nothing else there is touched. */
const OWNED_FILE = /^(kalamdb\.sqlite(-wal|-shm|-journal)?|kalamdb\.lock|jwt_secret)$/;
/** The default storage's root (segments, manifests) under the data directory. */
const OWNED_DIRS = new Set(["storage"]);

/**
 * Creates the data directory (and missing parents) and makes it 0700. An existing directory is
 * taken only when it is empty or already holds a database: a non-empty foreign directory
 * (`--data /tmp`, `--data .`) is refused rather than having its mode changed.
 */
export function makeDataDirSync(dir: string): void {
  let existed = true;
  try {
    Deno.mkdirSync(dir, { mode: DIR_MODE });
    existed = false;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      Deno.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
      existed = false;
    } else if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  if (existed && !isDataDirSync(dir)) {
    throw new DbError(
      "STORAGE_ERROR",
      `${dir} is not empty and holds no KalamDB database (kalamdb.sqlite): choose an empty or ` +
        "new directory as the data directory",
    );
  }
  if (POSIX) Deno.chmodSync(dir, DIR_MODE); // also repairs an existing 0755 one
}

/** Already a data directory (it has the database), or holds nothing but what the server owns. */
function isDataDirSync(dir: string): boolean {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch (err) {
    throw new DbError(
      "STORAGE_ERROR",
      `${dir} is not a usable directory: ${(err as Error).message}`,
    );
  }
  // A fresh volume's lost+found and dotfiles (.DS_Store, .gitkeep) do not make a directory foreign.
  const harmless = (n: string) => n === "lost+found" || n.startsWith(".");
  return names.includes("kalamdb.sqlite") ||
    names.every((n) => OWNED_FILE.test(n) || OWNED_DIRS.has(n) || harmless(n));
}

/**
 * Repairs the modes of what the server keeps in an existing data directory (itself is
 * `makeDataDirSync`'s): its own files 0600 and the default storage tree 0700 / 0600,
 * recursively (see the opening comment). Other entries are not the server's and stay as they
 * are. Throws when a mode cannot be set (e.g. the file belongs to another user), naming the path.
 */
export function fixDataDirModesSync(dir: string): void {
  if (!POSIX) return;
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isFile && OWNED_FILE.test(entry.name)) {
      const info = lstatOrUndefined(path);
      if (info) repairSync(path, FILE_MODE, info);
    } else if (entry.isDirectory && OWNED_DIRS.has(entry.name)) {
      const info = lstatOrUndefined(path);
      if (info?.isDirectory && modeOf(info) !== DIR_MODE) {
        fixEntriesSync(path);
        repairSync(path, DIR_MODE, info);
      }
    }
  }
}

function lstatOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined; // removed meanwhile
    throw err;
  }
}

function fixEntriesSync(dir: string): void {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue; // removed meanwhile
      throw err;
    }
    if (info.isFile) repairSync(path, FILE_MODE, info);
    else if (info.isDirectory && modeOf(info) !== DIR_MODE) {
      fixEntriesSync(path); // first: a 0700 directory is one whose contents are done
      repairSync(path, DIR_MODE, info);
    }
  }
}

function repairSync(path: string, mode: number, info: Deno.FileInfo): void {
  try {
    setModeSync(path, mode, info);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw new Error(
      `cannot make ${path} ${mode.toString(8).padStart(4, "0")} (${(err as Error).name}); ` +
        "chown it to the server's user or fix its mode",
    );
  }
}

/**
 * Makes sure the SQLite database at `path` exists as a 0600 file before SQLite opens it (SQLite
 * creates its -wal and -shm with the database file's mode), and repairs existing -wal / -shm.
 */
export function prepareDatabaseFileSync(path: string): void {
  Deno.openSync(path, { write: true, create: true, mode: FILE_MODE }).close();
  if (!POSIX) return;
  setModeSync(path, FILE_MODE);
  for (const suffix of ["-wal", "-shm", "-journal"]) {
    try {
      setModeSync(path + suffix, FILE_MODE);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
}

/**
 * Creates `dir` and its missing parents as 0700 directories; existing ones are left as they are
 * (a filesystem storage root outside the data directory is the operator's to set).
 */
export function makePrivateDirs(dir: string): Promise<void> {
  // Synchronous inside: a few quick syscalls, never queued behind the runtime's blocking pool
  // (which a loaded server's async file operations waited on for seconds).
  makePrivateDirsSync(dir);
  return Promise.resolve();
}

/** `makePrivateDirs`, synchronously. */
export function makePrivateDirsSync(dir: string): void {
  if (!POSIX) {
    Deno.mkdirSync(dir, { recursive: true });
    return;
  }
  try {
    Deno.mkdirSync(dir, { mode: DIR_MODE });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return;
    const cut = dir.lastIndexOf("/");
    if (!(err instanceof Deno.errors.NotFound) || cut <= 0) throw err;
    makePrivateDirsSync(dir.slice(0, cut));
    try {
      Deno.mkdirSync(dir, { mode: DIR_MODE });
    } catch (again) {
      if (again instanceof Deno.errors.AlreadyExists) return;
      throw again;
    }
  }
  Deno.chmodSync(dir, DIR_MODE);
}

/** Makes a file this process just created 0600 exactly (its create mode was umask-masked). */
export function makePrivateFile(path: string): Promise<void> {
  makePrivateFileSync(path);
  return Promise.resolve();
}

/** `makePrivateFile`, synchronously. */
export function makePrivateFileSync(path: string): void {
  if (POSIX) Deno.chmodSync(path, FILE_MODE);
}
