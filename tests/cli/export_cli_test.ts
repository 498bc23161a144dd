// `kalamdb export --user NAME -o FILE` (SPEC §9) remote against a real server and embedded on a
// data directory: the zip is written byte for byte as the server wrote it (SHA-256), 0600, with
// no temporary file left; its manifest names the user and its rows; a stderr that is not a
// terminal gets no progress line. Once in a real terminal (tmux): the progress line ends on its
// latest state, on a line of its own, before the result. (Failed downloads and the progress
// line's drawing: cli/export_test.ts.)

import { MAIN, runMain } from "../../cli/_test_util.ts";
import { BlobReader, configure, TextWriter, ZipReader } from "@zip.js/zip.js";
import { assert, assertEquals, startServer } from "../server/_server.ts";
import { withTempDir } from "../_util.ts";
import { Pane, tmuxMissing } from "./_tmux.ts";
import { names, zipsIn } from "./_export_files.ts";

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

async function sha256(file: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(file));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Non-terminal stderr: only lines, no `\r` redraws or escape sequences. */
function assertNoProgress(stderr: string) {
  assert(!stderr.includes("\r") && !stderr.includes("\x1b"), JSON.stringify(stderr));
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
        assert(r.stderr.includes("queued; waiting for it to be written"), r.stderr);
        assertNoProgress(r.stderr);
        const m = await manifestOf(out);
        assertEquals(m.user, "alice");
        assertEquals(m.tables.map((x: { rows: number }) => x.rows), [2]);
        const [zip, ...more] = await zipsIn(server.dataDir);
        assertEquals(more, []);
        assertEquals(await sha256(out), await sha256(zip));
        assertEquals((await Deno.stat(out)).mode! & 0o777, 0o600);
        assertEquals(await names(home), ["remote.zip"]); // no temporary file left
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
      assertNoProgress(r.stderr);
      const m = await manifestOf(out);
      assertEquals(m.user, "alice");
      assertEquals(m.tables.map((x: { table: string }) => x.table), ["notes"]);
      const [zip] = await zipsIn(data);
      assertEquals(await sha256(out), await sha256(zip));
      assertEquals((await Deno.stat(out)).mode! & 0o777, 0o600);
      assert(!(await names(home)).some((n) => n.endsWith(".tmp")), "no temporary file left");
    });
  });
});

const missing = await tmuxMissing();

Deno.test({
  name: "kalamdb export in a terminal: the progress line, then the result",
  ignore: missing !== undefined,
  async fn() {
    await withTempDir(async (home) => {
      const env = { DENO_DIR, HOME: home };
      const data = `${home}/data`;
      const setup = await runMain(["sql", "--data", data, "-c", SETUP], env);
      assertEquals(setup.code, 0, setup.stderr);
      const out = `${home}/alice.zip`;
      const argv = [Deno.execPath(), "run", "-q", "-A", MAIN, "export", "--data", data];
      const pane = await Pane.start([...argv, "--user", "alice", "-o", out], {
        width: 120,
        height: 30,
        env: { ...env, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", TERM: "tmux-256color" },
      });
      try {
        const screen = await pane.waitFor("[exited", { timeoutMs: 30_000 });
        const lines = screen.split("\n");
        const at = lines.findIndex((l) => l.includes("queued; waiting for it to be written"));
        assert(at >= 0, screen);
        // The progress line ends on its latest state, on a line of its own.
        assert(/^Downloading \d+(\.\d)? k?B \/ \d+(\.\d)? k?B$/.test(lines[at + 1]), screen);
        assert(lines[at + 2].startsWith(`Wrote ${out} (`), screen);
        assertEquals(lines[at + 3], "[exited 0]");
      } finally {
        await pane.close();
      }
    });
  },
});
