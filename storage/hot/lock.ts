// The data-directory lock: one process owns a data directory at a time. The lock is a file
// holding the owner's pid, created with createNew; a lock whose pid is no longer running is
// stale (the owner crashed) and is taken over.

import { DbError } from "../../errors.ts";
import { FILE_MODE } from "../_modes.ts";

const LOCK_NAME = "kalamdb.lock";

function isRunning(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    if (Deno.build.os !== "linux") {
      try {
        Deno.kill(pid, "SIGCONT");
        return true;
      } catch {
        return false;
      }
    }
    return false;
  }
}

/** Takes the lock of `dir` or throws STORAGE_ERROR naming the owner's pid. Returns the release. */
export function lockDataDir(dir: string): () => void {
  const path = `${dir}/${LOCK_NAME}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const file = Deno.openSync(path, { write: true, createNew: true, mode: FILE_MODE });
      file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
      file.close();
      return () => {
        try {
          if (Deno.readTextFileSync(path).trim() === String(Deno.pid)) Deno.removeSync(path);
        } catch { /* already gone */ }
      };
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) {
        throw new DbError(
          "STORAGE_ERROR",
          `Cannot lock data directory ${dir}: ${(err as Error).message}`,
        );
      }
      let owner = NaN;
      try {
        owner = parseInt(Deno.readTextFileSync(path), 10);
      } catch { /* removed meanwhile */ }
      if (Number.isInteger(owner) && isRunning(owner)) {
        throw new DbError(
          "STORAGE_ERROR",
          `Data directory ${dir} is in use by another process (pid ${owner}); stop it or use --url to talk to it`,
        );
      }
      try {
        Deno.removeSync(path); // stale lock of a crashed process
      } catch { /* raced with another opener */ }
    }
  }
  throw new DbError("STORAGE_ERROR", `Cannot lock data directory ${dir}`);
}
