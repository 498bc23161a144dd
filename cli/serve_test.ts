// End-to-end tests of `main.ts serve` as a command: healthcheck, clean exit on SIGTERM, and the
// data-directory lock seen by a second process. The server is started by the shared harness of
// the server suites (tests/server/_server.ts), which waits for its "listening on" line.

import { assert, assertEquals, assertIncludes, runMain, withTempDir } from "./_test_util.ts";
import { startServer } from "../tests/server/_server.ts";

Deno.test("serve: healthcheck answers, SIGTERM shuts down cleanly", async () => {
  const server = await startServer();
  try {
    const res = await server.request("GET", "/v1/api/healthcheck");
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "application/json");
    assertEquals([res.body.status, res.body.version], ["ok", "0.1.0"]);
    assert(typeof res.body.commit === "string" && res.body.commit !== "", "commit");
    assert(typeof res.body.build_date === "string" && res.body.build_date !== "", "build_date");
    assert(typeof res.body.uptime_s === "number" && res.body.uptime_s >= 0, "uptime_s");
  } finally {
    const out = await server.stop();
    assertEquals(out.code, 0, out.stderr);
    assertIncludes(out.stdout, "shutting down");
  }
});

Deno.test("serve: a second process on the same data dir gets the lock error with the pid", async () => {
  await withTempDir(async (dir) => {
    const server = await startServer({}, { dataDir: dir });
    try {
      const r = await runMain(["sql", "-c", "SHOW NAMESPACES;", "--data", dir]);
      assertEquals(r.code, 1);
      assertIncludes(r.stderr, "ERROR ");
      assertIncludes(r.stderr, String(server.pid));
    } finally {
      assertEquals((await server.stop()).code, 0);
    }
  });
});
