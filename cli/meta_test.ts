// Unit tests of meta-command parsing and planning, SUBSCRIBE TO conversion, `\session` and the
// lines a subscription prints.

import { assertEquals, assertIncludes } from "./_test_util.ts";
import {
  changeLines,
  helpText,
  inlineRow,
  liveLayout,
  META_NAMES,
  parseMeta,
  planMeta,
  sessionText,
  subscription,
  suggest,
} from "./meta.ts";

const state = { format: "table" as const, timing: true };
const plan = (line: string) => planMeta(line, state);

Deno.test("meta-command lines split into name, arguments and the rest", () => {
  assertEquals(parseMeta("\\d app.todos;"), {
    name: "\\d",
    args: ["app.todos"],
    rest: "app.todos",
  });
  assertEquals(parseMeta("  \\dt  "), { name: "\\dt", args: [], rest: "" });
  assertEquals(
    parseMeta("\\subscribe SELECT * FROM app.t WHERE id > 1").rest,
    "SELECT * FROM app.t WHERE id > 1",
  );
});

Deno.test("listing commands plan the SQL every role may run", () => {
  assertEquals(plan("\\dn"), { kind: "sql", sql: "SHOW NAMESPACES" });
  assertEquals(plan("\\dt"), { kind: "sql", sql: "SHOW TABLES" });
  assertEquals(plan("\\dt app"), { kind: "sql", sql: "SHOW TABLES IN app" });
  assertEquals(plan("\\d app.todos"), { kind: "sql", sql: "DESCRIBE TABLE app.todos" });
  assertEquals(plan("\\d"), { kind: "sql", sql: "SHOW TABLES" });
  assertEquals(plan("\\live"), { kind: "sql", sql: "SHOW LIVE QUERIES" });
  assertEquals(plan("\\stats app.todos"), { kind: "sql", sql: "SHOW STATS FOR TABLE app.todos" });
  assertEquals(plan("\\flush app.todos"), { kind: "sql", sql: "FLUSH TABLE app.todos" });
  assertEquals(plan("\\flush app"), { kind: "sql", sql: "FLUSH ALL TABLES IN app" });
  assertEquals(plan("\\jobs").kind, "sql");
});

Deno.test("arguments are validated, never pasted into SQL", () => {
  assertEquals(plan("\\d app.todos; DROP TABLE app.x"), {
    kind: "error",
    text: "usage: \\d ns.table",
  });
  assertEquals(plan("\\d todos"), { kind: "error", text: "usage: \\d ns.table" });
  assertEquals(plan("\\dt a b"), { kind: "error", text: "usage: \\dt [ns]" });
  assertEquals(plan("\\kill abc'--"), { kind: "sql", sql: "KILL LIVE QUERY 'abc''--'" });
  assertEquals(plan("\\kill"), { kind: "error", text: "usage: \\kill live_id" });
  assertEquals(plan("\\subscribe DELETE FROM app.t").kind, "error");
});

Deno.test("settings: \\format, \\timing, \\q and \\export", () => {
  assertEquals(plan("\\format csv"), { kind: "format", format: "csv" });
  assertEquals(plan("\\format"), { kind: "print", text: "Output format is table." });
  assertEquals(plan("\\format xml").kind, "error");
  assertEquals(plan("\\timing"), { kind: "timing", on: false });
  assertEquals(plan("\\timing on"), { kind: "timing", on: true });
  assertEquals(plan("\\q"), { kind: "quit" });
  assertEquals(plan("\\quit"), { kind: "quit" });
  assertEquals(plan("\\?").kind, "print");
  assertEquals(plan("\\export -o x.zip"), { kind: "export", output: "x.zip" });
  assertEquals(plan("\\export"), { kind: "export" });
  assertEquals(plan("\\export x.zip").kind, "error");
});

Deno.test("unknown commands suggest the closest one", () => {
  assertEquals(plan("\\foo"), { kind: "error", text: "Unknown command \\foo — try \\help" });
  assertEquals(plan("\\dtt"), {
    kind: "error",
    text: "Unknown command \\dtt — try \\help (did you mean \\dt?)",
  });
  assertEquals(suggest("\\sesion"), "\\session");
  assertEquals(suggest("\\qiut"), "\\q");
});

Deno.test("\\help lists every meta-command", () => {
  const text = helpText();
  for (const name of META_NAMES) assertIncludes(text, name);
});

Deno.test("SUBSCRIBE TO becomes the SELECT it streams, with last_rows", () => {
  assertEquals(subscription("SUBSCRIBE TO app.t WHERE id > 1;"), {
    sql: "SELECT * FROM app.t WHERE id > 1",
  });
  assertEquals(subscription("subscribe to app.t options (last_rows = 5);"), {
    sql: "SELECT * FROM app.t",
    lastRows: 5,
  });
  assertEquals(subscription("SELECT 1;"), undefined);
  assertEquals(subscription("SUBSCRIBE TO app.t; SELECT 1;"), undefined);
});

Deno.test("\\session shows mode, target, user, role, credentials and token expiry", () => {
  const now = new Date("2026-01-01T12:00:00Z");
  const text = sessionText(
    {
      mode: "remote",
      target: "http://127.0.0.1:2900",
      host: "127.0.0.1:2900",
      serverVersion: "0.1.0, commit abc",
      user: "alice",
      role: "user",
      credentials: "credentials file (instance local)",
      tokenExpiresAt: new Date("2026-01-01T12:30:00Z"),
    },
    "kalamdb 0.1.0",
    now,
  );
  assertEquals(text.split("\n"), [
    "mode:           remote (HTTP API and /v1/ws)",
    "server:         http://127.0.0.1:2900",
    "server version: 0.1.0, commit abc",
    "client:         kalamdb 0.1.0",
    "user:           alice",
    "role:           user",
    "credentials:    credentials file (instance local)",
    "token expires:  2026-01-01T12:30:00Z (in 30 min)",
  ]);
});

Deno.test("change lines: time, operation, row (UPDATE old → new), system columns hidden", () => {
  const layout = liveLayout("SELECT * FROM app.t", new Map([["id", "BIGINT"], ["title", "TEXT"]]));
  const at = new Date(2026, 0, 1, 9, 5, 7, 42);
  const row = { id: "1", title: "x", _seq: "99", _deleted: false };
  assertEquals(changeLines({ kind: "insert", rows: [row] }, layout, at), [
    '09:05:07.042 INSERT {id: 1, title: "x"}',
  ]);
  assertEquals(
    changeLines({ kind: "update", rows: [{ ...row, title: "y" }], oldRows: [row] }, layout, at),
    ['09:05:07.042 UPDATE {id: 1, title: "x"} → {id: 1, title: "y"}'],
  );
  assertEquals(changeLines({ kind: "delete", rows: [], oldRows: [row] }, layout, at), [
    '09:05:07.042 DELETE {id: 1, title: "x"}',
  ]);
  assertEquals(changeLines({ kind: "snapshot", rows: [row] }, layout, at), []);
  const withSeq = liveLayout("SELECT id, _seq FROM app.t", new Map());
  assertEquals(
    inlineRow({ id: 1, _seq: "99", n: null, ok: true }, withSeq),
    '{id: 1, _seq: "99", n: NULL, ok: true}',
  );
});
