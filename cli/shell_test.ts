// The shell's loop over piped streams (no TTY: no prompts, no history) against a scripted
// session: multi-line statements run once complete, meta-commands plan the right SQL, errors get
// their caret line, `\timing off` hides Took lines, `\format json`, SUBSCRIBE TO streams the
// equivalent SELECT (snapshot table, then one line per change), and DDL refreshes the catalog.
// The terminal parts (Ctrl-C, spinner, Tab, history file) are driven in tests/cli/shell_tmux_test.ts.

import { PassThrough } from "node:stream";
import { assert, assertEquals, assertIncludes } from "./_test_util.ts";
import { DbError } from "../errors.ts";
import type { BatchResult, StatementResult } from "../storage/mod.ts";
import type { LiveEvent, Session, SessionInfo } from "./session.ts";
import { runShell } from "./shell.ts";

const INFO: SessionInfo = {
  mode: "embedded",
  target: "./data",
  host: "embedded",
  user: "root",
  role: "system",
  credentials: "embedded (root)",
};

/** A session that answers from a script and records what it was asked. */
class ScriptedSession implements Session {
  readonly info = INFO;
  readonly executed: string[] = [];
  readonly subscribed: string[] = [];
  events: LiveEvent[] = [];

  execute(sql: string): Promise<BatchResult> {
    this.executed.push(sql);
    if (sql.includes("FRM")) {
      const error = new DbError("INVALID_SQL", 'Unexpected "FRM"', {
        statement: 1,
        line: 2,
        column: 3,
      });
      return Promise.resolve({ results: [], error, errors: [error], asUser: "root", tookMs: 1 });
    }
    const results: StatementResult[] = [];
    const url = "/v1/exports/root/e1";
    if (sql === "EXPORT USER DATA") {
      results.push(
        rows(["export_id", "job_id", "user_id", "download_url"], [["e1", "j1", "root", url]]),
      );
    } else if (sql === "SHOW EXPORTS") {
      results.push(rows(["export_id", "job_id", "status"], [["e1", "j1", "completed"]]));
    } else if (sql === "SHOW TABLES") {
      results.push(rows(["namespace", "table_name"], [["app", "t"]]));
    } else if (sql === "SHOW NAMESPACES") results.push(rows(["name"], [["app"]]));
    else if (sql.startsWith("DESCRIBE")) {
      results.push(rows(["column_name", "data_type"], [["id", "BIGINT"], ["title", "TEXT"]]));
    } else results.push(rows(["n"], [[1]]));
    return Promise.resolve({ results, asUser: "root", tookMs: 1 });
  }

  subscribe(sql: string, onEvent: (e: LiveEvent) => void): Promise<void> {
    this.subscribed.push(sql);
    for (const e of this.events) onEvent(e);
    return Promise.resolve(); // as if the server ended it
  }

  async download(url: string, to: string): Promise<number> {
    this.executed.push(`download ${url}`);
    await Deno.writeFile(to, new Uint8Array([80, 75, 5, 6]), { createNew: true, mode: 0o600 });
    return 4;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function rows(names: string[], values: (string | number)[][]): StatementResult {
  return {
    statement: 1,
    schema: names.map((name) => ({ name, type: "TEXT" })),
    rows: values,
    rowCount: values.length,
    tookMs: 0.5,
  };
}

/** Runs the shell on `input` and returns what it printed after the banner. */
async function shell(session: Session, input: string, format = "table" as const): Promise<string> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let out = "";
  stdout.on("data", (chunk) => out += chunk.toString());
  stdin.end(input);
  const code = await runShell(session, { input: stdin, output: stdout, historyFile: null, format });
  assertEquals(code, 0);
  assertIncludes(out, "embedded on ./data as root\nType \\help for help.\n");
  return out.slice(out.indexOf("help.\n") + 6);
}

const userStatements = (s: ScriptedSession) =>
  s.executed.filter((q) => !/^(SHOW NAMESPACES|SHOW TABLES|DESCRIBE TABLE)/.test(q));

Deno.test("a statement runs once its ; arrives, lines joined as typed", async () => {
  const s = new ScriptedSession();
  const out = await shell(s, "SELECT 1\n  AS n;\nSELECT 2; SELECT\n3;\n");
  assertEquals(userStatements(s), ["SELECT 1\n  AS n;", "SELECT 2;", "SELECT\n3;"]);
  assertIncludes(out, " n\n---\n 1\n(1 row)\nTook: 0.500 ms");
});

Deno.test("meta-commands run their SQL; exit ends the shell", async () => {
  const s = new ScriptedSession();
  const out = await shell(s, "\\dt\n\\d app.t\n\\kill abc\n\\nope\nexit\nSELECT 'not run';\n");
  assertEquals(userStatements(s), ["KILL LIVE QUERY 'abc'"]);
  assert(s.executed.filter((q) => q === "SHOW TABLES").length >= 2);
  assertIncludes(out, "Unknown command \\nope — try \\help");
  assert(!s.executed.some((q) => q.includes("not run")));
});

Deno.test("errors show the statement's line with a caret", async () => {
  const out = await shell(new ScriptedSession(), "SELECT *\n  FRM app.t;\n");
  assertIncludes(out, 'ERROR INVALID_SQL: Unexpected "FRM" (statement 1, line 2, column 3)\n');
  assertIncludes(out, "LINE 2:   FRM app.t;\n          ^\n");
});

Deno.test("\\timing off hides the Took lines; \\format json switches the format", async () => {
  const out = await shell(
    new ScriptedSession(),
    "\\timing off\nSELECT 1;\n\\format json\nSELECT 1;\n",
  );
  assertIncludes(out, "Timing is off.\n n\n---\n 1\n(1 row)\nOutput format is json.\n");
  assertIncludes(out, '"rows":[{"n":1}]');
});

Deno.test("SUBSCRIBE TO streams the equivalent SELECT: a snapshot table, then change lines", async () => {
  const s = new ScriptedSession();
  s.events = [
    { kind: "snapshot", rows: [{ id: "1", title: "a", _seq: "7" }] },
    { kind: "insert", rows: [{ id: "2", title: "b", _seq: "8" }] },
    {
      kind: "update",
      rows: [{ id: "2", title: "c", _seq: "9" }],
      oldRows: [{ id: "2", title: "b" }],
    },
    { kind: "delete", rows: [], oldRows: [{ id: "1", title: "a", _seq: "7" }] },
  ];
  const out = await shell(s, "SUBSCRIBE TO app.t WHERE id > 0;\n");
  assertEquals(s.subscribed, ["SELECT * FROM app.t WHERE id > 0"]);
  assertIncludes(out, "Subscribed to SELECT * FROM app.t WHERE id > 0 — Ctrl-C to stop\n");
  assertIncludes(out, " id | title\n----+-------\n  1 | a\n(1 row)\n");
  const changes = out.split("\n").filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l));
  assertEquals(changes.map((l) => l.slice(13)), [
    'INSERT {id: 2, title: "b"}',
    'UPDATE {id: 2, title: "b"} → {id: 2, title: "c"}',
    'DELETE {id: 1, title: "a"}',
  ]);
  assertIncludes(out, "Subscription ended (3 changes)");
});

Deno.test("\\subscribe takes a SELECT; a failing subscription prints its error", async () => {
  const s = new ScriptedSession();
  s.subscribe = (sql) => {
    s.subscribed.push(sql);
    return Promise.reject(new DbError("PERMISSION_DENIED", "Not allowed"));
  };
  const out = await shell(s, "\\subscribe SELECT id FROM app.t\n");
  assertEquals(s.subscribed, ["SELECT id FROM app.t"]);
  assertIncludes(out, "ERROR PERMISSION_DENIED: Not allowed");
});

Deno.test("DDL refreshes the catalog; other statements do not", async () => {
  const s = new ScriptedSession();
  await shell(s, "SELECT 1;\nCREATE TABLE app.u (id INT PRIMARY KEY);\nSELECT 2;\n");
  // Once at start and once after the CREATE.
  assertEquals(s.executed.filter((q) => q === "SHOW NAMESPACES").length, 2);
});

Deno.test("an empty snapshot prints (0 rows); \\format json streams changes as JSON Lines", async () => {
  const s = new ScriptedSession();
  s.events = [
    { kind: "snapshot", rows: [] },
    { kind: "insert", rows: [{ id: 5n, title: "x" }] },
  ];
  const out = await shell(s, "\\format json\n\\subscribe SELECT * FROM app.t\n");
  assertIncludes(out, '"row_count":0,"message":"(0 rows)"');
  const line = out.split("\n").find((l) => l.includes('"op":"insert"'));
  assert(line !== undefined, out);
  assertEquals(JSON.parse(line).rows, [{ id: "5", title: "x" }]);
});

Deno.test("a line starting with \\ inside an open string is part of the string", async () => {
  const s = new ScriptedSession();
  await shell(s, "INSERT INTO app.t VALUES (1, 'first line\n\\dt not a command\nlast');\n");
  assertEquals(userStatements(s), [
    "INSERT INTO app.t VALUES (1, 'first line\n\\dt not a command\nlast');",
  ]);
});

Deno.test("\\export -o FILE runs EXPORT USER DATA, waits, downloads the zip", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const session = new ScriptedSession();
    const out = await shell(session, `\\export -o ${dir}/me.zip\n`);
    assertIncludes(out, `Wrote ${dir}/me.zip (4 bytes)`);
    assertEquals(session.executed.slice(-3), [ // the completion catalog loads first
      "EXPORT USER DATA",
      "SHOW EXPORTS",
      "download /v1/exports/root/e1",
    ]);
    assertEquals(await Deno.readFile(`${dir}/me.zip`), new Uint8Array([80, 75, 5, 6]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
