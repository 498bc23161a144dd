// The real `kalamdb shell` in a real terminal (tmux): banner, a multi-line statement with the
// continuation prompt, Tab completion of a table name, `\d`, `\session`, `\format csv`, a syntax
// error with its caret, Ctrl-C on partial input, during a long query and during `\subscribe`,
// the empty-prompt hint, Ctrl-D, and history recalled with Up after a restart (the file 0600,
// without the line that held a password). Embedded mode on a temporary data directory, HOME a
// temporary directory. Skips, saying why, when tmux is missing.

import { assert, assertEquals, MAIN, runMain } from "../../cli/_test_util.ts";
import { Pane, tmuxMissing } from "./_tmux.ts";

const missing = await tmuxMissing();
if (missing) console.log(`shell_tmux_test: skipped — ${missing}`);

const PROMPT = "root@embedded>";
/** The text ends at a fresh prompt. */
const atPrompt = (text: string) => text.trimEnd().endsWith(PROMPT);
/** 300 rows: a three-way cross join is 27 million rows, seconds of work, bounded. */
const ROWS = Array.from({ length: 300 }, (_, i) => `(${i + 1})`).join(", ");
const SETUP = `CREATE NAMESPACE app;
CREATE TABLE app.todos (id BIGINT PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN DEFAULT false)
  WITH (TYPE = 'SHARED');
INSERT INTO app.todos (id, title) VALUES (1, 'buy milk'), (2, 'write tests'), (3, 'ship');
CREATE TABLE app.numbers (n INT PRIMARY KEY) WITH (TYPE = 'SHARED');
INSERT INTO app.numbers (n) VALUES ${ROWS};`;
const SLOW = "SELECT count(*) AS n FROM app.numbers a JOIN app.numbers b ON true " +
  "JOIN app.numbers c ON true;";

/** Where Deno keeps its caches: the shell runs with another HOME and must not refetch them. */
async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
    .output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
}

async function startShell(home: string, data: string): Promise<Pane> {
  const env: Record<string, string> = {
    HOME: home,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR: Deno.env.get("DENO_DIR") ?? await denoDir(),
    TERM: "tmux-256color",
    LANG: "C.UTF-8",
  };
  // -q: Deno's module-loading progress bar (the flush workers start ~1 s after opening) clears
  // the terminal's current line on stderr, which would erase the prompt under the test's eyes.
  const argv = [Deno.execPath(), "run", "-q", "-A", MAIN, "shell", "--data", data];
  const pane = await Pane.start(argv, { width: 120, height: 40, env });
  try {
    await pane.waitFor((s) => s.includes("Type \\help for help.") && atPrompt(s), {
      timeoutMs: 30_000,
    });
  } catch (err) {
    await pane.close();
    throw err;
  }
  return pane;
}

/** Runs one line and waits for the prompt after its output; returns that output. */
async function run(pane: Pane, line: string, timeoutMs?: number): Promise<string> {
  await pane.line(line);
  return await pane.waitFor(atPrompt, { after: `${PROMPT} ${line}`, timeoutMs });
}

Deno.test({
  name: "kalamdb shell in a terminal: editing, meta-commands, Ctrl-C, Ctrl-D and history",
  ignore: missing !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const home = await Deno.makeTempDir({ prefix: "kalamdb-shell-home-" });
    const data = `${home}/data`;
    let pane: Pane | undefined;
    try {
      const setup = await runMain(["sql", "--data", data, "-c", SETUP]);
      assertEquals(setup.code, 0, setup.stderr);
      pane = await startShell(home, data);
      await steps(t, pane);
      await pane.close();

      await t.step("history is recalled with Up after a restart", async () => {
        pane = await startShell(home, data);
        await pane.press("Up");
        await pane.waitFor(`${PROMPT} SELECT 'still here' AS alive;`, { after: "help." });
        const file = `${home}/.kalamdb/history`;
        assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
        assertEquals((await Deno.stat(`${home}/.kalamdb`)).mode! & 0o777, 0o700);
        const saved = await Deno.readTextFile(file);
        assert(saved.includes("SELECT id, title FROM app.todos WHERE id < 3 ORDER BY id;\n"));
        assert(!/password/i.test(saved), saved);
      });
    } finally {
      await pane?.close();
      await Deno.remove(home, { recursive: true });
    }
  },
});

async function steps(t: Deno.TestContext, pane: Pane): Promise<void> {
  await t.step("banner: version, mode and target", async () => {
    const screen = await pane.screen();
    assert(/^kalamdb 0\.1\.0 \(commit \S+, built \S+\)$/m.test(screen), screen);
    assert(screen.includes(`embedded on `) && screen.includes(" as root"), screen);
  });

  await t.step("a multi-line statement continues under an aligned prompt", async () => {
    await pane.line("SELECT id, title");
    await pane.waitFor("          ...>", { after: "SELECT id, title" });
    await pane.line("FROM app.todos");
    await pane.line("WHERE id < 3 ORDER BY id;");
    const out = await pane.waitFor(atPrompt, { after: "WHERE id < 3 ORDER BY id;" });
    assert(out.includes(" 1 | buy milk") && out.includes(" 2 | write tests"), out);
    assert(out.includes("(2 rows)") && /Took: \d+\.\d{3} ms/.test(out), out);
  });

  await t.step("Up recalls the multi-line statement as one line", async () => {
    await pane.press("Up");
    await pane.waitFor(`${PROMPT} SELECT id, title FROM app.todos WHERE id < 3 ORDER BY id;`, {
      after: "(2 rows)",
    });
    await pane.press("C-c");
    await pane.waitFor(atPrompt, { after: "ORDER BY id;^C" });
  });

  await t.step("Tab completes a table name", async () => {
    await pane.type("SELECT title FROM app.to");
    await pane.press("Tab");
    await pane.waitFor(`${PROMPT} SELECT title FROM app.todos`, { after: "WHERE id < 3" });
    await pane.type(" WHERE id = 3;");
    await pane.press("Enter");
    const out = await pane.waitFor(atPrompt, { after: "app.todos WHERE id = 3;" });
    assert(out.includes(" ship") && out.includes("(1 row)"), out);
  });

  await t.step("\\d describes a table", async () => {
    const out = await run(pane, "\\d app.todos");
    assert(out.includes("column_name") && /\btitle\s+\| TEXT\b/.test(out), out);
  });

  await t.step("\\session says embedded, where and who", async () => {
    const out = await run(pane, "\\session");
    assert(/^mode:\s+embedded/m.test(out) && /^data dir:\s+\S+data$/m.test(out), out);
    assert(/^user:\s+root$/m.test(out) && /^role:\s+system$/m.test(out), out);
  });

  await t.step("\\format csv switches the output", async () => {
    assert((await run(pane, "\\format csv")).includes("Output format is csv."));
    const out = await run(pane, "SELECT id, title FROM app.todos WHERE id = 1;");
    assert(out.includes("id,title\n1,buy milk"), out);
    await run(pane, "\\format table");
  });

  await t.step("a syntax error shows its line with a caret", async () => {
    const out = await run(pane, "SELECT * FRM app.todos;");
    assert(/ERROR INVALID_SQL: .*line 1, column \d+/.test(out), out);
    assert(out.includes("LINE 1: SELECT * FRM app.todos;") && /^\s+\^$/m.test(out), out);
  });

  await t.step("unknown meta-commands get a suggestion", async () => {
    assert(
      (await run(pane, "\\dtt")).includes(
        "Unknown command \\dtt — try \\help (did you mean \\dt?)",
      ),
    );
  });

  await t.step("Ctrl-C clears a partial statement", async () => {
    await pane.line("SELECT 'never run'");
    await pane.waitFor("...>", { after: "SELECT 'never run'" });
    await pane.type("AS x");
    await pane.press("C-c");
    await pane.waitFor(atPrompt, { after: "AS x^C" });
    const out = await run(pane, "SELECT 'fresh' AS y;");
    assert(out.includes("fresh") && !out.includes("never run"), out);
  });

  await t.step("Ctrl-C cancels a long query and the shell stays", async () => {
    await pane.line(SLOW);
    await pane.waitFor(/\d+\.\d s\s+Ctrl-C to cancel/, { after: SLOW, timeoutMs: 30_000 });
    await pane.press("C-c");
    const out = await pane.waitFor(atPrompt, { after: SLOW, timeoutMs: 30_000 });
    assert(out.includes("Cancelled") && !out.includes("27000000"), out);
    assert(!out.includes("Ctrl-C to cancel"), `the spinner was not erased:\n${out}`);
  });

  await t.step("\\subscribe prints the snapshot and ends with Ctrl-C", async () => {
    const line = "\\subscribe SELECT id, title FROM app.todos WHERE id <= 2";
    await pane.line(line);
    const snapshot = await pane.waitFor("(2 rows)", { after: line });
    assert(snapshot.includes("Subscribed to") && snapshot.includes(" 2 | write tests"), snapshot);
    await pane.press("C-c");
    const out = await pane.waitFor(atPrompt, { after: line });
    assert(out.includes("Subscription ended (0 changes)"), out);
    assert((await run(pane, "SELECT 'still here' AS alive;")).includes("still here"));
  });

  await t.step("a line with a password is not written to the history file", async () => {
    await run(pane, "SELECT 'x' AS password;");
    await run(pane, "SELECT 'still here' AS alive;");
  });

  await t.step("Ctrl-C on an empty prompt prints a hint; Ctrl-D exits 0", async () => {
    await pane.press("C-c");
    await pane.waitFor("Use \\q or Ctrl-D to exit.", { after: "AS alive;" });
    await pane.press("C-d");
    await pane.waitFor("[exited 0]", { after: "Use \\q or Ctrl-D to exit." });
  });
}
