// End-to-end tests of authentication (SPEC §5): Basic and Bearer, login and refresh, the JWT
// claims, one UNAUTHORIZED message for every failure, the store's role winning over the token's,
// dropped users, and root's loopback-only empty password (with and without a trusted proxy).
// Tokens are forged with jose and the servers' known secret instead of waiting for expiry.

import { jwtVerify, SignJWT } from "jose";
import {
  assert,
  assertEquals,
  assertError,
  assertSuccess,
  basic,
  bearer,
  forgeToken,
  jwtPart,
  type Reply,
  ROOT,
  SECRET,
  type TestServer,
  withServer,
} from "./_server.ts";

// Many deliberate failures come from 127.0.0.1 here; keep the per-address lockout out of the way.
const ENV = { KALAMDB_LOGIN_FAILURE_LIMIT: "1000" };
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

Deno.test("auth: Basic, Bearer, login, refresh, failures, role re-check", async (t) => {
  await withServer(ENV, async (s) => {
    await s.root(
      "CREATE NAMESPACE au;\n" +
        "CREATE TABLE au.pub (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');\n" +
        "CREATE USER TABLE au.notes (id INT PRIMARY KEY, v TEXT);\n" +
        "CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;\n" +
        "CREATE USER carol WITH PASSWORD 'carol-pw' ROLE service;\n" +
        "CREATE USER dave WITH PASSWORD 'dave-pw' ROLE user;",
    );
    const whoAmI = (auth?: string) => s.sql("SELECT * FROM au.pub;", { auth });

    await t.step("Basic credentials; XFF from an untrusted peer is ignored", async () => {
      assertEquals(assertSuccess(await whoAmI(basic("alice", "alice-pw"))).as_user, "alice");
      assertEquals(assertSuccess(await whoAmI(ROOT)).as_user, "root");
      const proxied = await s.sql("SELECT 1;", {
        auth: ROOT,
        headers: { "x-forwarded-for": "10.1.2.3" },
      });
      assertEquals(
        assertSuccess(proxied, "root: with XFF from a non-trusted peer").as_user,
        "root",
      );
    });

    await t.step("login: 200 with tokens, expires_at, user; JWT claims", async () => {
      await checkLogin(s);
    });

    await t.step("refresh: new tokens; an access token is not a refresh token", async () => {
      const login = await s.login("alice", "alice-pw");
      const r = await s.request("POST", "/v1/api/auth/refresh", {
        body: { refresh_token: login.body.refresh_token },
      });
      assertEquals(r.status, 200, r.text);
      assertEquals(Object.keys(r.body).sort(), [
        "access_token",
        "expires_at",
        "refresh_token",
        "user",
      ]);
      assertEquals(r.body.user, { id: "alice", role: "user" });
      assertEquals(jwtPart(r.body.access_token, 1).token_type, "access");
      assertEquals(jwtPart(r.body.refresh_token, 1).token_type, "refresh");
      assertEquals(assertSuccess(await whoAmI(bearer(r.body.access_token))).as_user, "alice");
      const wrong = await s.request("POST", "/v1/api/auth/refresh", {
        body: { refresh_token: login.body.access_token },
      });
      assertError(wrong, "UNAUTHORIZED", "access token used to refresh");
    });

    await t.step("login/refresh: malformed requests are INVALID_PARAMETER", async () => {
      // By analogy with /v1/api/sql: a request that is not well-formed is the client's mistake
      // (400), not a failed authentication.
      const post = (path: string, body: string, type = "application/json") =>
        s.request("POST", path, { body, headers: { "content-type": type } });
      const login = "/v1/api/auth/login";
      const refresh = "/v1/api/auth/refresh";
      const cases: [string, string, string?][] = [
        [login, '{"user":"alice","password":"alice-pw"}', "text/plain"],
        [login, "{not json"],
        [login, '{"user":"alice"}'],
        [login, '{"user":"alice","password":7}'],
        [login, '{"password":"alice-pw"}'],
        [refresh, "{not json"],
        [refresh, "{}"],
        [refresh, '{"refresh_token":7}'],
      ];
      const problems: string[] = [];
      for (const [path, body, type] of cases) {
        const r = await post(path, body, type);
        if (r.status !== 400 || r.body?.error?.code !== "INVALID_PARAMETER") {
          problems.push(`${path} ${body} (${type ?? "json"}) → HTTP ${r.status} ${r.text}`);
        }
      }
      assert(problems.length === 0, `expected 400 INVALID_PARAMETER:\n${problems.join("\n")}`);
    });

    await t.step("every authentication failure: 401 with one and the same message", async () => {
      await checkSameUnauthorized(s);
    });

    await t.step(
      "a forged token with the right secret works; the store's role applies",
      async () => {
        const asUser = await forgeToken({ sub: "alice", role: "user", token_type: "access" });
        assertEquals(assertSuccess(await whoAmI(bearer(asUser))).as_user, "alice");
        const elevated = await forgeToken({ sub: "alice", role: "system", token_type: "access" });
        const r = await s.sql("SELECT * FROM system.users;", { auth: bearer(elevated) });
        assertError(r, "PERMISSION_DENIED", "token claims system, store says user");
      },
    );

    await t.step("demoting a user takes effect on her existing token", async () => {
      const carol = await s.token("carol", "carol-pw");
      assertSuccess(await s.sql("INSERT INTO au.pub (id, v) VALUES (1, 'c');", { auth: carol }));
      await s.root("ALTER USER carol SET ROLE user;");
      const r = await s.sql("INSERT INTO au.pub (id, v) VALUES (2, 'c');", { auth: carol });
      assertError(r, "PERMISSION_DENIED", "demoted service → user writing a shared table");
      assertEquals(assertSuccess(await whoAmI(carol)).as_user, "carol");
    });

    await t.step("a dropped user's token and password stop working", async () => {
      const dave = await s.token("dave", "dave-pw");
      assertEquals(assertSuccess(await whoAmI(dave)).as_user, "dave");
      await s.root("DROP USER dave;");
      const tokenReply = await whoAmI(dave);
      const basicReply = await whoAmI(basic("dave", "dave-pw"));
      const loginReply = await s.login("dave", "dave-pw");
      const reference = await whoAmI(basic("alice", "not-her-password"));
      const replies: [string, Reply][] = [
        ["token", tokenReply],
        ["basic", basicReply],
        ["login", loginReply],
      ];
      for (const [what, r] of replies) {
        const e = assertError(r, "UNAUTHORIZED", `dropped user's ${what}`);
        assertEquals(e.message, reference.body.error.message, `same message (${what})`);
      }
    });

    await t.step("ALTER USER root SET PASSWORD ends the empty-password login", async () => {
      await s.root("ALTER USER root SET PASSWORD 'new-root-pw';");
      assertError(await s.sql("SELECT 1;", { auth: ROOT }), "UNAUTHORIZED");
      const r = await s.sql("SELECT 1;", { auth: basic("root", "new-root-pw") });
      assertEquals(assertSuccess(r).as_user, "root");
    });
  });
});

async function checkLogin(s: TestServer): Promise<void> {
  const before = Math.floor(Date.now() / 1000);
  const r = await s.login("alice", "alice-pw");
  const after = Math.ceil(Date.now() / 1000); // iat is bounded by the request, not by a guess
  assertEquals(r.status, 200, r.text);
  assertEquals(r.headers.get("content-type")?.split(";")[0], "application/json");
  assertEquals(Object.keys(r.body).sort(), ["access_token", "expires_at", "refresh_token", "user"]);
  assertEquals(r.body.user, { id: "alice", role: "user" });
  assert(RFC3339.test(r.body.expires_at), `expires_at RFC 3339: ${r.body.expires_at}`);

  const key = new TextEncoder().encode(SECRET);
  const access = await jwtVerify(r.body.access_token, key, { algorithms: ["HS256"] });
  assertEquals(access.protectedHeader.alg, "HS256");
  const a = access.payload;
  assertEquals([a.sub, a.role, a.token_type], ["alice", "user", "access"]);
  assert(
    typeof a.iat === "number" && a.iat >= before - 1 && a.iat <= after,
    `iat ${a.iat} in [${before}, ${after}]`,
  );
  assertEquals(a.exp! - a.iat!, 3600, "access TTL default 3600 s");
  const expiresAt = Date.parse(r.body.expires_at) / 1000;
  assert(Math.abs(expiresAt - a.exp!) <= 1, `expires_at ${r.body.expires_at} vs exp ${a.exp}`);

  const refresh = (await jwtVerify(r.body.refresh_token, key, { algorithms: ["HS256"] })).payload;
  assertEquals([refresh.sub, refresh.role, refresh.token_type], ["alice", "user", "refresh"]);
  assertEquals(refresh.exp! - refresh.iat!, 604800, "refresh TTL default 604800 s");

  const me = await s.sql("SELECT CURRENT_USER();", { auth: bearer(r.body.access_token) });
  assertEquals(assertSuccess(me).results[0].rows, [["alice"]]);
  assertEquals(me.body.as_user, "alice");

  const root = await s.login("root", "");
  assertEquals(root.status, 200, `root login from loopback: ${root.text}`);
  assertEquals(root.body.user, { id: "root", role: "system" });
}

async function checkSameUnauthorized(s: TestServer): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const login = await s.login("alice", "alice-pw");
  const access: string = login.body.access_token;
  const [h, p, sig] = access.split(".");
  const claims = jwtPart(access, 1);
  const tamperedPayload = btoa(JSON.stringify({ ...claims, role: "system" }))
    .replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_");
  const none = `${btoa('{"alg":"none","typ":"JWT"}').replaceAll("=", "")}.${p}.`;
  const cases: [string, () => Promise<Reply>][] = [
    ["wrong password", () => s.sql("SELECT 1;", { auth: basic("alice", "nope") })],
    ["unknown user", () => s.sql("SELECT 1;", { auth: basic("nobody", "x") })],
    ["root wrong password", () => s.sql("SELECT 1;", { auth: basic("root", "x") })],
    ["Basic not base64", () => s.sql("SELECT 1;", { auth: "Basic !!!" })],
    ["Basic without colon", () => s.sql("SELECT 1;", { auth: `Basic ${btoa("alice")}` })],
    ["Bearer garbage", () => s.sql("SELECT 1;", { auth: "Bearer not.a.jwt" })],
    ["Bearer empty", () => s.sql("SELECT 1;", { auth: "Bearer " })],
    [
      "tampered payload",
      () => s.sql("SELECT 1;", { auth: bearer(`${h}.${tamperedPayload}.${sig}`) }),
    ],
    [
      "tampered signature",
      () => s.sql("SELECT 1;", { auth: bearer(`${h}.${p}.${sig.slice(0, -4)}AAAA`) }),
    ],
    ["alg none", () => s.sql("SELECT 1;", { auth: bearer(none) })],
    ["expired", async () => {
      const tok = await forgeToken({
        sub: "alice",
        role: "user",
        token_type: "access",
        iat: now - 7200,
        exp: now - 3600,
      });
      return s.sql("SELECT 1;", { auth: bearer(tok) });
    }],
    ["wrong secret", async () => {
      const tok = await forgeToken({ sub: "alice", role: "user", token_type: "access" }, "other");
      return s.sql("SELECT 1;", { auth: bearer(tok) });
    }],
    [
      "refresh token as access token",
      () => s.sql("SELECT 1;", { auth: bearer(login.body.refresh_token) }),
    ],
    ["token for an unknown user", async () => {
      const tok = await forgeToken({ sub: "ghost", role: "dba", token_type: "access" });
      return s.sql("SELECT 1;", { auth: bearer(tok) });
    }],
    ["token without token_type", async () => {
      const tok = await new SignJWT({ role: "user" }).setProtectedHeader({ alg: "HS256" })
        .setSubject("alice").setIssuedAt().setExpirationTime("1h")
        .sign(new TextEncoder().encode(SECRET));
      return s.sql("SELECT 1;", { auth: bearer(tok) });
    }],
    ["unknown scheme", () => s.sql("SELECT 1;", { auth: "Digest abc" })],
    ["refresh with an expired refresh token", async () => {
      const tok = await forgeToken({
        sub: "alice",
        role: "user",
        token_type: "refresh",
        iat: now - 7200,
        exp: now - 3600,
      });
      return s.request("POST", "/v1/api/auth/refresh", { body: { refresh_token: tok } });
    }],
    ["refresh with a wrong-secret refresh token", async () => {
      const tok = await forgeToken({ sub: "alice", role: "user", token_type: "refresh" }, "x");
      return s.request("POST", "/v1/api/auth/refresh", { body: { refresh_token: tok } });
    }],
    ["login wrong password", () => s.login("alice", "nope")],
    ["login unknown user", () => s.login("nobody", "x")],
  ];
  const messages = new Map<string, string[]>();
  const problems: string[] = [];
  for (const [what, run] of cases) {
    const r = await run();
    if (r.status !== 401 || r.body?.error?.code !== "UNAUTHORIZED") {
      problems.push(`${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
      continue;
    }
    assertError(r, "UNAUTHORIZED", what);
    const m: string = r.body.error.message;
    messages.set(m, [...(messages.get(m) ?? []), what]);
  }
  assert(problems.length === 0, `not 401 UNAUTHORIZED:\n${problems.join("\n")}`);
  assertEquals(
    messages.size,
    1,
    `one message for all failures, got ${JSON.stringify([...messages])}`,
  );
}

Deno.test("auth: root's empty password works from loopback only (trusted proxy)", async () => {
  await withServer({ KALAMDB_TRUSTED_PROXIES: "127.0.0.1" }, async (s) => {
    const xff = (v: string) => ({ "x-forwarded-for": v });
    assertEquals(assertSuccess(await s.sql("SELECT 1;", { auth: ROOT })).as_user, "root");
    const remote = await s.sql("SELECT 1;", { auth: ROOT, headers: xff("10.1.2.3") });
    assertError(remote, "UNAUTHORIZED", "root: relayed from 10.1.2.3");
    const spoofed = await s.sql("SELECT 1;", { auth: ROOT, headers: xff("127.0.0.1, 10.1.2.3") });
    assertError(spoofed, "UNAUTHORIZED", "the rightmost XFF entry is the client");
    assertError(await s.login("root", "", xff("10.1.2.3")), "UNAUTHORIZED", "login from afar");
    const relayedLoopback = await s.sql("SELECT 1;", { auth: ROOT, headers: xff("127.0.0.1") });
    assertEquals(assertSuccess(relayedLoopback).as_user, "root");
    // A token of password-less root, obtained on loopback, is no key from elsewhere either.
    const rootToken = await s.token("root", "");
    const viaToken = await s.sql("SELECT 1;", { auth: rootToken, headers: xff("10.1.2.3") });
    assertError(viaToken, "UNAUTHORIZED", "root's token relayed from 10.1.2.3");
    assertEquals(assertSuccess(await s.sql("SELECT 1;", { auth: rootToken })).as_user, "root");
    // Other users are not address-bound.
    await s.root("CREATE USER erin WITH PASSWORD 'erin-pw' ROLE user;");
    const erin = await s.sql("SELECT 1;", {
      auth: basic("erin", "erin-pw"),
      headers: xff("10.1.2.3"),
    });
    assertEquals(assertSuccess(erin).as_user, "erin");
  });
});

Deno.test("auth: KALAMDB_ROOT_PASSWORD and token TTLs from the environment", async () => {
  const env = {
    KALAMDB_ROOT_PASSWORD: "s3cret-root",
    KALAMDB_ACCESS_TOKEN_TTL: "60",
    KALAMDB_REFRESH_TOKEN_TTL: "120",
  };
  await withServer(env, async (s) => {
    assertError(
      await s.sql("SELECT 1;", { auth: ROOT }),
      "UNAUTHORIZED",
      "root: with a password set",
    );
    const ok = await s.sql("SELECT 1;", { auth: basic("root", "s3cret-root") });
    assertEquals(assertSuccess(ok).as_user, "root");
    const login = await s.login("root", "s3cret-root");
    assertEquals(login.status, 200, login.text);
    assertEquals(login.body.user, { id: "root", role: "system" });
    const access = jwtPart(login.body.access_token, 1);
    const refresh = jwtPart(login.body.refresh_token, 1);
    assertEquals([access.exp - access.iat, refresh.exp - refresh.iat], [60, 120]);
  });
});
