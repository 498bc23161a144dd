// `kalamdb export --user NAME -o FILE` (SPEC §9) remote against a real server and embedded on a
// data directory: the zip is written, its manifest names the user and its rows.

import { runMain } from "../../cli/_test_util.ts";
import { BlobReader, configure, TextWriter, ZipReader } from "@zip.js/zip.js";
import { assert, assertEquals, startServer } from "../server/_server.ts";
import { withTempDir } from "../_util.ts";

configure({ useWebWorkers: false });

const DENO_DIR = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;

const SETUP = "CREATE NAMESPACE app;\n" +
  "CREATE USER TABLE app.notes (id INT PRIMARY KEY, title TEXT);\n" +
  "CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;\n" +
  "EXECUTE AS USER 'alice' (INSERT INTO app.notes (id, title) VALUES (1, 'a'), (2, 'b'));";

async function manifestOf(file: string) {
  const reader = new ZipReader(new BlobReader(new Blob([await Deno.readFile(file)])));
  const entry = (await reader.getEntries()).find((e) => e.filename === "manifest.json");
  assert(entry && !entry.directory, "manifest.json in the zip");
  const text = await entry.getData!(new TextWriter());
  await reader.close();
  return JSON.parse(text);
}

Deno.test("cli export: remote and embedded write the user's zip", async (t) => {
  await withTempDir(async (home) => {
    const env = { DENO_DIR, HOME: home };
    await t.step("remote (root on loopback, --user alice)", async () => {
      const server = await startServer();
      try {
        await server.root(SETUP);
        const out = `${home}/remote.zip`;
        const r = await runMain(["export", "--url", server.url, "--user", "alice", "-o", out], env);
        assertEquals(r.code, 0, r.stderr);
        assert(r.stdout.includes(`Wrote ${out}`), r.stdout);
        const m = await manifestOf(out);
        assertEquals(m.user, "alice");
        assertEquals(m.tables.map((x: { rows: number }) => x.rows), [2]);
      } finally {
        await server.stop();
      }
    });
    await t.step("embedded (--data)", async () => {
      const data = `${home}/data`;
      const setup = await runMain(["sql", "--data", data, "-c", SETUP], env);
      assertEquals(setup.code, 0, setup.stderr);
      const out = `${home}/embedded.zip`;
      const r = await runMain(["export", "--data", data, "--user", "alice", "-o", out], env);
      assertEquals(r.code, 0, r.stderr);
      const m = await manifestOf(out);
      assertEquals(m.user, "alice");
      assertEquals(m.tables.map((x: { table: string }) => x.table), ["notes"]);
    });
  });
});
