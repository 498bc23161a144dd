// SPEC §12 on a real server: the data directory is 0700 and everything in it (SQLite database,
// -wal, -shm, lock, JWT secret, segments, manifests) 0600 / 0700 under the default umask; a data
// directory left 0755 / 0644 by an older version (and a crash, so -wal and -shm are still there)
// is repaired at open; a filesystem storage root elsewhere gets 0600 files in 0700 directories.
// The modes are exact under any umask; under the default 022 (or 002) the old code made 0755 /
// 0644.

import {
  assert,
  assertEquals,
  assertSuccess,
  rows,
  startServer,
  type TestServer,
} from "./_server.ts";
import { untilJobsIdle } from "./_jobs.ts";

const POSIX = Deno.build.os !== "windows";

/** Every entry under `dir` (itself included) whose mode is not 0700 (dirs) / 0600 (files). */
function wrongModes(dir: string): string[] {
  const wrong: string[] = [];
  const check = (path: string) => {
    const info = Deno.lstatSync(path);
    const mode = (info.mode ?? 0) & 0o777;
    const want = info.isDirectory ? 0o700 : 0o600;
    if (mode !== want) wrong.push(`${path}: ${mode.toString(8)}, want ${want.toString(8)}`);
    if (info.isDirectory) { for (const e of Deno.readDirSync(path)) check(`${path}/${e.name}`); }
  };
  check(dir);
  return wrong;
}

/** Paths of every file under `dir`, relative to it. */
function files(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(rel === "" ? dir : `${dir}/${rel}`)) {
    const path = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory) out.push(...files(dir, path));
    else out.push(path);
  }
  return out;
}

/** What an older version left: every directory 0755, every file 0644. */
function loosen(path: string): void {
  const info = Deno.lstatSync(path);
  if (info.isDirectory) {
    for (const e of Deno.readDirSync(path)) loosen(`${path}/${e.name}`);
    Deno.chmodSync(path, 0o755);
  } else Deno.chmodSync(path, 0o644);
}

/** A user table and a shared table, each with a flushed row (segments and manifests). */
async function fill(s: TestServer, storage = "local"): Promise<void> {
  await s.root(`CREATE NAMESPACE IF NOT EXISTS app;
    CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = '${storage}');
    CREATE SHARED TABLE app.rooms (id BIGINT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = '${storage}');
    INSERT INTO app.notes (id, v) VALUES (1, 'a');
    INSERT INTO app.rooms (id, v) VALUES (1, 'b');
    FLUSH TABLE app.notes;
    FLUSH TABLE app.rooms`);
  await untilJobsIdle(s);
}

/** The flushed files under `root`: at least one segment and one manifest per table. */
function assertFlushed(root: string): void {
  const names = files(root);
  for (const table of ["notes", "rooms"]) {
    const mine = names.filter((n) => n.includes(`/${table}`));
    assert(mine.some((n) => n.endsWith(".parquet")), `a ${table} segment in ${names}`);
    assert(mine.some((n) => n.endsWith("manifest.json")), `a ${table} manifest in ${names}`);
  }
}

Deno.test({
  name: "file modes: a new data dir is 0700 with 0600 files, also SQLite's -wal/-shm and segments",
  ignore: !POSIX,
  fn: async () => {
    const parent = await Deno.makeTempDir({ prefix: "kalamdb-modes-" });
    const dataDir = `${parent}/data`; // made by the server, not by makeTempDir (which is 0700)
    // No configured JWT secret: the server generates and keeps one in the data dir.
    const s = await startServer({ KALAMDB_JWT_SECRET: "" }, { dataDir });
    try {
      await fill(s);
      const top = files(dataDir);
      for (const name of ["kalamdb.sqlite", "kalamdb.sqlite-wal", "kalamdb.sqlite-shm"]) {
        assert(top.includes(name), `${name} in ${top}`);
      }
      assert(top.includes("kalamdb.lock") && top.includes("jwt_secret"), `${top}`);
      assertFlushed(`${dataDir}/storage`);
      assertEquals(wrongModes(dataDir), []);
    } finally {
      const out = await s.stop();
      await Deno.remove(parent, { recursive: true });
      assertEquals(out.code, 0, out.stderr);
    }
  },
});

Deno.test({
  name: "file modes: a 0755 / 0644 data dir left by a crash is made 0700 / 0600 at open",
  ignore: !POSIX,
  fn: async () => {
    const parent = await Deno.makeTempDir({ prefix: "kalamdb-modes-" });
    const dataDir = `${parent}/data`;
    try {
      const first = await startServer({ KALAMDB_JWT_SECRET: "" }, { dataDir });
      try {
        await fill(first);
      } finally {
        Deno.kill(first.pid, "SIGKILL"); // a crash: the -wal, -shm and lock stay behind
        await first.stop();
      }
      const left = files(dataDir);
      for (const name of ["kalamdb.sqlite-wal", "kalamdb.sqlite-shm", "jwt_secret"]) {
        assert(left.includes(name), `${name} left in ${left}`);
      }
      loosen(dataDir);
      assert(wrongModes(dataDir).length > left.length, "every file and directory was loosened");

      const again = await startServer({ KALAMDB_JWT_SECRET: "" }, { dataDir });
      try {
        assertEquals(wrongModes(dataDir), []);
        // Still the same data, and new files keep the modes.
        assertEquals(rows(await again.root("SELECT v FROM app.rooms")), [["b"]]);
        assertSuccess(await again.root("INSERT INTO app.rooms (id, v) VALUES (2, 'c')"));
        await again.root("FLUSH TABLE app.rooms");
        await untilJobsIdle(again);
        assertEquals(wrongModes(dataDir), []);
      } finally {
        const out = await again.stop();
        assertEquals(out.code, 0, out.stderr);
      }
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});

Deno.test({
  name: "file modes: a filesystem storage outside the data dir gets 0600 files in 0700 dirs",
  ignore: !POSIX,
  fn: async () => {
    const parent = await Deno.makeTempDir({ prefix: "kalamdb-modes-" });
    const root = `${parent}/segments/deep`; // missing: the server makes it and its parent
    const s = await startServer();
    try {
      await s.root(`CREATE STORAGE elsewhere TYPE filesystem PATH '${root}'`);
      await fill(s, "elsewhere");
      assertFlushed(root);
      assertEquals(wrongModes(`${parent}/segments`), []);
    } finally {
      const out = await s.stop();
      await Deno.remove(parent, { recursive: true });
      assertEquals(out.code, 0, out.stderr);
    }
  },
});

Deno.test("file modes: a non-empty foreign directory is refused as a data dir and left as it was; only the server's own entries are repaired", async () => {
  if (Deno.build.os === "windows") return;
  const { Database } = await import("../../storage/mod.ts");
  const foreign = await Deno.makeTempDir({ prefix: "kalamdb-foreign-" });
  const dataDir = await Deno.makeTempDir({ prefix: "kalamdb-owned-" });
  try {
    await Deno.mkdir(`${foreign}/project/bin`, { recursive: true });
    await Deno.writeTextFile(`${foreign}/project/bin/run.sh`, "#!/bin/sh\n");
    await Deno.chmod(`${foreign}/project/bin/run.sh`, 0o755);
    await Deno.chmod(foreign, 0o1777);
    let code = "";
    await Database.open({ dataDir: foreign }).then((db) => db.close(), (e) => code = e.code);
    assertEquals(code, "STORAGE_ERROR");
    assertEquals(Deno.statSync(foreign).mode! & 0o7777, 0o1777);
    assertEquals(Deno.statSync(`${foreign}/project/bin/run.sh`).mode! & 0o777, 0o755);
    assertEquals([...Deno.readDirSync(foreign)].map((e) => e.name), ["project"]);
    await Deno.chmod(foreign, 0o700);
    // A fresh volume (lost+found, dotfiles) is fine as a new data dir; a file is not a directory.
    const volume = `${foreign}/volume`;
    await Deno.mkdir(`${volume}/lost+found`, { recursive: true });
    await Deno.writeTextFile(`${volume}/.DS_Store`, "");
    await (await Database.open({ dataDir: volume })).close();
    let notDir = "";
    await Database.open({ dataDir: `${foreign}/project/bin/run.sh` }).then(
      (db) => db.close(),
      (e) => notDir = e.code,
    );
    assertEquals(notDir, "STORAGE_ERROR");
    // A real data dir with something of the operator's in it: that entry keeps its mode.
    await (await Database.open({ dataDir })).close();
    await Deno.writeTextFile(`${dataDir}/NOTES.txt`, "mine");
    await Deno.chmod(`${dataDir}/NOTES.txt`, 0o644);
    await Deno.chmod(`${dataDir}/kalamdb.sqlite`, 0o644);
    await (await Database.open({ dataDir })).close();
    assertEquals(Deno.statSync(`${dataDir}/NOTES.txt`).mode! & 0o777, 0o644);
    assertEquals(Deno.statSync(`${dataDir}/kalamdb.sqlite`).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(foreign, { recursive: true });
    await Deno.remove(dataDir, { recursive: true });
  }
});
