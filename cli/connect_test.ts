import { answers } from "./connect.ts";
import { homeOverride, readLogin, saveLogin, storedTokenProvider } from "./credentials.ts";
import { assert, assertEquals, withTempDir } from "./_test_util.ts";
import type { TokenPair } from "../client/mod.ts";

Deno.test("connect: only a refused connection means no server; a slow one still counts", async () => {
  const ac = new AbortController();
  const release = Promise.withResolvers<void>();
  const slow = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async () => {
      await release.promise; // answers only after the probe gave up waiting
      return Response.json({ status: "ok" });
    },
  );
  const other = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    () => new Response("not kalamdb", { status: 404 }),
  );
  try {
    assert(await answers(`http://127.0.0.1:${slow.addr.port}`), "a slow server is a server");
    assert(!(await answers(`http://127.0.0.1:${other.addr.port}`)), "something else is not");
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    assert(!(await answers(`http://127.0.0.1:${port}`)), "nobody listens");
  } finally {
    release.resolve();
    ac.abort();
    await Promise.all([slow.finished, other.finished]);
  }
});

const pair = (n: number): TokenPair => ({
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  expires_at: new Date(Date.now() + (n === 0 ? -1000 : 3600_000)).toISOString(),
  user: { id: "alice", role: "user" },
});

Deno.test("credentials: one refresh for concurrent calls; a logout or newer login wins", async () => {
  await withTempDir(async (home) => {
    homeOverride.dir = `${home}/.kalamdb`;
    try {
      let refreshes = 0;
      const fake: typeof fetch = async () => {
        refreshes++;
        await new Promise((r) => setTimeout(r, 20));
        return Response.json(pair(refreshes));
      };
      const expired = await saveLogin("local", "http://127.0.0.1:1", pair(0));
      const provider = storedTokenProvider("local", expired, fake);
      const tokens = await Promise.all([provider(), provider(), provider()]);
      assertEquals([refreshes, tokens], [1, ["access-1", "access-1", "access-1"]]);
      assertEquals((await readLogin("local"))?.access_token, "access-1", "saved back");
      // Logged out meanwhile: the running session renews for itself, the file stays empty.
      const again = await saveLogin("local", "http://127.0.0.1:1", pair(0));
      const second = storedTokenProvider("local", again, fake);
      await Deno.remove(`${home}/.kalamdb/credentials.json`);
      assertEquals(await second(), "access-2");
      assertEquals(await readLogin("local"), undefined, "a logout is not undone");
    } finally {
      homeOverride.dir = undefined;
    }
  });
});
