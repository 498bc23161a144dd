// The real shell against a real server, in tmux (issue 13): `\live` and `\kill` on another
// client's subscription, `\subscribe` printing a change another process made, then Ctrl-C; a
// regular user's `\session` and rows; and embedded mode when no server answers.

import { MAIN } from "../../cli/_test_util.ts";
import { createClient, type KalamError } from "../../client/mod.ts";
import { assert, assertMatch, startServer, until } from "../server/_server.ts";
import { withTempDir } from "../_util.ts";
import { Pane, tmuxMissing } from "./_tmux.ts";

const missing = await tmuxMissing();
if (missing) console.log(`shell_remote_test: skipped — ${missing}`);

async function env(home: string, extra: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
    .output();
  return {
    HOME: home,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR: Deno.env.get("DENO_DIR") ?? JSON.parse(new TextDecoder().decode(out.stdout)).denoDir,
    TERM: "tmux-256color",
    LANG: "C.UTF-8",
    ...extra,
  };
}

async function shell(args: string[], environment: Record<string, string>, prompt: string) {
  const pane = await Pane.start([Deno.execPath(), "run", "-q", "-A", MAIN, "shell", ...args], {
    width: 140,
    height: 45,
    env: environment,
  });
  try {
    await pane.waitFor((s) => s.trimEnd().endsWith(prompt), { timeoutMs: 30_000 });
  } catch (err) {
    await pane.close();
    throw err;
  }
  const run = async (line: string, timeoutMs?: number) => {
    await pane.line(line);
    return await pane.waitFor((s) => s.trimEnd().endsWith(prompt), {
      after: `${prompt} ${line}`,
      timeoutMs,
    });
  };
  return { pane, run };
}

Deno.test({
  name: "shell remote: \\live, \\kill, \\subscribe with Ctrl-C, a regular user, embedded fallback",
  ignore: missing !== undefined,
  async fn() {
    await withTempDir(async (home) => {
      const s = await startServer();
      const host = new URL(s.url).host;
      const watcher = createClient({ url: s.url, auth: { user: "root", password: "" } });
      const panes: Pane[] = [];
      try {
        await s.root(`CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
          CREATE NAMESPACE n; CREATE SHARED TABLE n.t (id BIGINT PRIMARY KEY, v TEXT);
          CREATE USER TABLE n.mine (id INT PRIMARY KEY, note TEXT);`);
        const root = await shell(["--url", s.url], await env(home), `root@${host}>`);
        panes.push(root.pane);
        await root.pane.waitFor(`connected to ${s.url} as root (system)`);

        // Another client's subscription, seen and killed from the shell.
        let killed: KalamError | undefined;
        const other = watcher.subscribe("SELECT id FROM n.t", { onError: (e) => killed = e });
        await other.ready;
        const live = await root.run("\\live");
        const liveId = live.match(/lq-[0-9a-z-]+/)?.[0];
        assert(liveId, `a live id in:\n${live}`);
        assertMatch(live, /\| n +\| t +\| SELECT id/); // the query, cut to fit the terminal
        await root.run(`\\kill ${liveId}`);
        await until(() => killed?.code === "LIVE_QUERY_KILLED", "the other client was told");

        // \subscribe: a change made by another process appears; Ctrl-C ends it.
        await root.pane.line("\\subscribe SELECT id, v FROM n.t");
        await root.pane.waitFor(/0 rows|\(0 rows\)|snapshot/i, { after: "\\subscribe SELECT" });
        await s.root("INSERT INTO n.t VALUES (7, 'from another process')");
        await root.pane.waitFor(/INSERT .*from another process/, { after: "\\subscribe SELECT" });
        await root.pane.press("C-c");
        await root.pane.waitFor((t) => t.trimEnd().endsWith(`root@${host}>`), {
          after: "from another process",
        });
        const after = await root.run("SELECT v FROM n.t;");
        assertMatch(after, /from another process/);

        // A regular user, the password typed at a no-echo prompt: their session and rows only.
        const alicePane = await Pane.start(
          [Deno.execPath(), "run", "-q", "-A", MAIN, "shell", "--url", s.url, "--user", "alice"],
          { width: 140, height: 45, env: await env(home) },
        );
        panes.push(alicePane);
        await alicePane.waitFor("Password for alice:", { timeoutMs: 30_000 });
        await alicePane.line("alice-pw");
        const prompt = `alice@${host}>`;
        const banner = await alicePane.waitFor((t) => t.trimEnd().endsWith(prompt));
        assert(!banner.includes("alice-pw"), `the password was echoed:\n${banner}`);
        const alice = {
          pane: alicePane,
          run: async (line: string) => {
            await alicePane.line(line);
            return await alicePane.waitFor((t) => t.trimEnd().endsWith(prompt), {
              after: `${prompt} ${line}`,
            });
          },
        };
        const session = await alice.run("\\session");
        assertMatch(session, /user:\s+alice/);
        assertMatch(session, /role:\s+user/);
        await alice.run("INSERT INTO n.mine VALUES (1, 'alice only');");
        assertMatch(await alice.run("SELECT note FROM n.mine;"), /alice only[\s\S]*\(1 row\)/);
        assertMatch(await root.run("SELECT note FROM n.mine;"), /\(0 rows\)/);
        assertMatch(await alice.run("CREATE NAMESPACE x;"), /ERROR PERMISSION_DENIED/);

        // No server on the default URL: embedded on the data directory.
        const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const closed = `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
        l.close();
        const embedded = await shell(
          [],
          await env(home, { KALAMDB_URL: closed, KALAMDB_DATA_DIR: `${home}/data` }),
          "root@embedded>",
        );
        panes.push(embedded.pane);
        await embedded.pane.waitFor(/embedded/);
        assertMatch(await embedded.run("\\session"), /embedded/);
      } finally {
        watcher.close();
        for (const p of panes) await p.close();
        await s.stop();
      }
    });
  },
});
