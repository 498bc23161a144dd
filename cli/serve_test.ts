// End-to-end tests of `main.ts serve`: healthcheck, the data-directory lock seen by a second
// process, and clean exit on SIGTERM. The server announces readiness on stdout ("listening
// on"), so the test waits for that line instead of sleeping.

import {
  assert,
  assertEquals,
  assertIncludes,
  cleanEnv,
  MAIN,
  runMain,
  withTempDir,
} from "./_test_util.ts";

interface ServerChild {
  readonly child: Deno.ChildProcess;
  readonly url: string;
  /** Sends SIGTERM and resolves with the exit status and all output. */
  stop(): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Starts `main.ts serve` on an OS-chosen port and waits for its "listening on" line. */
async function startServer(dataDir: string): Promise<ServerChild> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--port", "0", "--data", dataDir],
    env: cleanEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  let url: string | undefined;
  while (url === undefined) {
    const { value, done } = await reader.read();
    if (done) {
      const status = await child.status;
      throw new Error(
        `server exited (${status.code}) before listening:\n${stdout}\n${await stderr}`,
      );
    }
    stdout += value;
    url = stdout.match(/listening on (http:\/\/\S+)/)?.[1];
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  const rest = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) stdout += r.value;
    return stdout;
  })();
  return {
    child,
    url,
    async stop() {
      child.kill("SIGTERM");
      const status = await child.status;
      return { code: status.code, stdout: await rest, stderr: await stderr };
    },
  };
}

Deno.test("serve: healthcheck answers, SIGTERM shuts down cleanly", async () => {
  await withTempDir(async (dir) => {
    const server = await startServer(dir);
    try {
      const res = await fetch(`${server.url}/v1/api/healthcheck`);
      assertEquals(res.status, 200);
      assertEquals(res.headers.get("content-type"), "application/json");
      const body = await res.json();
      assertEquals(body.status, "ok");
      assertEquals(body.version, "0.1.0");
      assert(typeof body.commit === "string" && body.commit !== "", "commit");
      assert(typeof body.build_date === "string" && body.build_date !== "", "build_date");
      assert(typeof body.uptime_s === "number" && body.uptime_s >= 0, "uptime_s");
      const missing = await fetch(`${server.url}/nope`);
      assertEquals(missing.status, 404);
      assertEquals((await missing.json()).error.code, "NOT_FOUND");
    } finally {
      const out = await server.stop();
      assertEquals(out.code, 0, out.stderr);
      assertIncludes(out.stdout, "shutting down");
    }
  });
});

Deno.test("serve: a second process on the same data dir gets the lock error with the pid", async () => {
  await withTempDir(async (dir) => {
    const server = await startServer(dir);
    try {
      const r = await runMain(["sql", "-c", "SHOW NAMESPACES;", "--data", dir]);
      assertEquals(r.code, 1);
      assertIncludes(r.stderr, "ERROR ");
      assertIncludes(r.stderr, String(server.child.pid));
    } finally {
      assertEquals((await server.stop()).code, 0);
    }
  });
});
