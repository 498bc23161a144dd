// Unit tests of argument parsing and configuration: precedence flag > env > toml > default,
// bad values, help listing every flag.

import { FLAGS, parseInvocation, UsageError } from "./args.ts";
import { DEFAULTS, loadConfig, parseConfigFile, resolveConfig, SERVER_DEFAULTS } from "./config.ts";
import { helpText } from "./help.ts";
import { assert, assertEquals, assertIncludes, assertThrows, withTempDir } from "./_test_util.ts";

Deno.test("commands: default serve, --file batch, sql -c/-f, version, help, unavailable", () => {
  assertEquals(parseInvocation([]).kind, "serve");
  assertEquals(parseInvocation(["serve", "--port", "3000"]), {
    kind: "serve",
    flags: { config: undefined, data: undefined, host: undefined, port: "3000", nodeId: undefined },
  });
  const batch = parseInvocation(["--file", "a.sql", "--data", "d", "--format", "csv"]);
  assert(batch.kind === "batch");
  assertEquals([batch.flags.file, batch.flags.data, batch.flags.format], ["a.sql", "d", "csv"]);
  assertEquals(batch.flags.asUser, undefined, "root unless --as-user says otherwise");
  const c = parseInvocation([
    "sql",
    "-c",
    "SELECT 1;",
    "--as-user",
    "alice",
    "--continue-on-error",
  ]);
  assert(c.kind === "batch");
  assertEquals([c.flags.sql, c.flags.asUser, c.flags.continueOnError], [
    "SELECT 1;",
    "alice",
    true,
  ]);
  assertEquals(parseInvocation(["--version"]), { kind: "version" });
  assertEquals(parseInvocation(["-V"]), { kind: "version" });
  assertEquals(parseInvocation(["--help"]), { kind: "help", topic: "kalamdb" });
  assertEquals(parseInvocation(["sql", "--help"]), { kind: "help", topic: "sql" });
  assertEquals(parseInvocation(["export", "--user", "alice", "-o", "a.zip", "--data", "d"]), {
    kind: "export",
    flags: {
      config: undefined,
      data: "d",
      host: undefined,
      port: undefined,
      nodeId: undefined,
      url: undefined,
      password: undefined,
      token: undefined,
      instance: undefined,
      exportUser: "alice",
      output: "a.zip",
    },
  });
  const shell = parseInvocation(["shell", "--url", "http://h:1", "-u", "bob", "--no-color"]);
  assert(shell.kind === "shell");
  assertEquals([shell.flags.url, shell.flags.user, shell.flags.noColor, shell.flags.format], [
    "http://h:1",
    "bob",
    true,
    "table",
  ]);
  assertEquals(parseInvocation(["login", "--instance", "dev"]).kind, "login");
  assertEquals(parseInvocation(["logout"]), { kind: "logout", flags: { instance: undefined } });
  assertEquals(parseInvocation(["export", "--help"]), { kind: "help", topic: "export" });
});

Deno.test("usage errors: unknown command/flag, bad format, sql without input", () => {
  for (
    const argv of [
      ["bogus"],
      ["sql", "--nope"],
      ["sql"],
      ["sql", "-c", "x", "-f", "y"],
      ["sql", "-c", "x", "--format", "xml"],
      ["--format", "json"], // batch flag without --file
      ["serve", "--file", "x.sql"],
      ["serve", "extra"],
    ]
  ) {
    assert(assertThrows(() => parseInvocation(argv)) instanceof UsageError, argv.join(" "));
  }
});

Deno.test("help lists every flag of every command", () => {
  for (const [topic, flags] of Object.entries(FLAGS)) {
    const text = helpText(topic as keyof typeof FLAGS);
    for (const f of flags) assertIncludes(text, `--${f.name}`, topic);
  }
});

Deno.test("config precedence: flag > env > toml > default", () => {
  const file = { data_dir: "/toml", host: "toml.host", port: 3000, node_id: 3 };
  const env = { KALAMDB_DATA_DIR: "/env", KALAMDB_PORT: "4000" };
  const flags = { port: "5000" };
  assertEquals(resolveConfig(flags, env, file), {
    dataDir: "/env",
    host: "toml.host",
    port: 5000,
    nodeId: 3,
    jwtSecret: undefined,
    rootPassword: undefined,
    server: SERVER_DEFAULTS,
  });
  assertEquals(resolveConfig({}, env, file).port, 4000);
  assertEquals(resolveConfig({}, {}, file).port, 3000);
  const d = resolveConfig({}, {}, {});
  assertEquals([d.dataDir, d.host, d.port, d.nodeId], [
    DEFAULTS.dataDir,
    DEFAULTS.host,
    DEFAULTS.port,
    DEFAULTS.nodeId,
  ]);
  // An empty variable counts as unset.
  assertEquals(resolveConfig({}, { KALAMDB_PORT: "" }, file).port, 3000);
  // Secrets come from env or file only.
  const s = resolveConfig({}, { KALAMDB_JWT_SECRET: "e" }, { jwt_secret: "f", root_password: "p" });
  assertEquals([s.jwtSecret, s.rootPassword], ["e", "p"]);
  // Server limits: env over file over default; proxies as a list or a comma string.
  const limits = resolveConfig({}, {
    KALAMDB_RATE_LIMIT: "5",
    KALAMDB_TRUSTED_PROXIES: "10.0.0.1, 10.0.0.2",
  }, { rate_limit: 7, query_timeout_ms: 250, trusted_proxies: ["x"] }).server;
  assertEquals(
    [limits.rateLimit, limits.queryTimeoutMs, limits.trustedProxies, limits.maxBodyBytes],
    [5, 250, ["10.0.0.1", "10.0.0.2"], 10 * 1024 * 1024],
  );
});

Deno.test("config: bad values are usage errors", () => {
  const bad: [Record<string, string>, Record<string, string>, Record<string, unknown>][] = [
    [{ port: "x" }, {}, {}],
    [{ port: "70000" }, {}, {}],
    [{ port: "-1" }, {}, {}],
    [{}, { KALAMDB_PORT: "29o0" }, {}],
    [{ nodeId: "1024" }, {}, {}],
    [{}, { KALAMDB_NODE_ID: "-3" }, {}],
    [{}, {}, { node_id: 1.5 }],
    [{}, {}, { port: "abc" }],
    [{ data: "" }, {}, {}],
    [{}, {}, { host: 42 }],
  ];
  for (const [flags, env, file] of bad) {
    const err = assertThrows(() => resolveConfig(flags, env, file));
    assert(err instanceof UsageError, JSON.stringify([flags, env, file]));
  }
  assertEquals(resolveConfig({ nodeId: "1023" }, {}, {}).nodeId, 1023);
});

Deno.test("toml: top-level and [server] keys, unknown keys rejected, relative data_dir", () => {
  const s = parseConfigFile(
    'data_dir = "d"\nport = 1\n[server]\nport = 2\nhost = "h"\n',
    "/etc/k.toml",
  );
  assertEquals(s, { data_dir: "/etc/d", port: 2, host: "h" });
  assert(assertThrows(() => parseConfigFile("prot = 1\n")) instanceof UsageError);
  assert(assertThrows(() => parseConfigFile("[server]\nfoo = 1\n")) instanceof UsageError);
  assert(assertThrows(() => parseConfigFile("port = \n")) instanceof UsageError);
});

Deno.test("loadConfig reads the --config file; a missing file is a usage error", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/kalamdb.toml`;
    await Deno.writeTextFile(path, 'node_id = 7\nhost = "0.0.0.0"\n');
    const cfg = await loadConfig({ config: path, host: "127.0.0.2" }, {});
    assertEquals([cfg.nodeId, cfg.host], [7, "127.0.0.2"]);
    assertEquals((await loadConfig({ config: path }, { KALAMDB_NODE_ID: "9" })).nodeId, 9);
    let err: unknown;
    try {
      await loadConfig({ config: `${dir}/missing.toml` }, {});
    } catch (e) {
      err = e;
    }
    assert(err instanceof UsageError);
    assertIncludes(err.message, "no such file");
  });
});
