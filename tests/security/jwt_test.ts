// Security: tokens an attacker can make (issue 15 item 4), end to end over HTTP, the WebSocket
// (upgrade header and `authenticate` message), the refresh route and the export download. Each
// forged token must be refused with the one UNAUTHORIZED message; a token whose role claim is
// above the stored role gets the stored role; a dropped or demoted user's token — and a socket
// opened with it before the change — gets no more than the store now allows. tests/server/
// auth_test.ts covers the plain cases (alg none with an empty signature, expired, wrong secret,
// refresh as access over HTTP); these are the variants around them.

import {
  assert,
  assertEquals,
  assertError,
  assertSuccess,
  basic,
  bearer,
  forgeToken,
  type Reply,
  ROOT,
  SECRET,
  type TestServer,
  withServer,
} from "../server/_server.ts";
import { LiveClient } from "../server/_live.ts";
import { claims, rawToken, rsaToken, UNAUTHORIZED } from "./_kit.ts";

const ENV = { KALAMDB_LOGIN_FAILURE_LIMIT: "1000" };
const delay = <T>(ms: number, value: T) =>
  new Promise<T>((resolve) => {
    const timer = setTimeout(() => resolve(value), ms);
    Deno.unrefTimer(timer);
  });
const now = () => Math.floor(Date.now() / 1000);

async function setup(s: TestServer): Promise<void> {
  await s.root(`CREATE NAMESPACE app;
    CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT);
    CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;
    CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;
    CREATE USER svc WITH PASSWORD 'svc-pw' ROLE service;
    CREATE USER boss WITH PASSWORD 'boss-pw' ROLE dba;
    CREATE USER gone WITH PASSWORD 'gone-pw' ROLE service`);
}

/** Every way a token reaches the server; each must answer UNAUTHORIZED for `token`. */
async function refusedEverywhere(s: TestServer, token: string, what: string): Promise<string[]> {
  const problems: string[] = [];
  const http = await s.sql("SELECT 1", { auth: bearer(token) });
  if (http.status !== 401 || http.body?.error?.message !== UNAUTHORIZED) {
    problems.push(`${what} over HTTP: ${http.status} ${http.text.slice(0, 200)}`);
  }
  const dl = await s.request("GET", "/v1/exports/alice/x", { auth: bearer(token) });
  if (dl.status !== 401) problems.push(`${what} on the export route: ${dl.status} ${dl.text}`);
  const upgraded = await LiveClient.open(s.url, bearer(token)).then(
    async (c) => (await c.close(), true),
    () => false,
  );
  if (upgraded) problems.push(`${what} in the WebSocket upgrade header was accepted`);
  const ws = await LiveClient.open(s.url);
  ws.send({ type: "authenticate", token });
  const answer = await ws.next((m) => m.type === "auth_success" || m.type === "auth_error");
  await ws.close();
  if (answer.type !== "auth_error" || answer.code !== "UNAUTHORIZED") {
    problems.push(`${what} in a WebSocket authenticate message: ${JSON.stringify(answer)}`);
  }
  return problems;
}

Deno.test("security/jwt: forged, foreign and stale tokens are refused everywhere", async () => {
  await withServer(ENV, async (s) => {
    await setup(s);
    const alice = claims("alice");
    const root = claims("root", { role: "system" });
    const login = (await s.login("alice", "alice-pw")).body;
    const t = now();
    const cases: [string, Promise<string> | string][] = [
      [
        "alg none, empty signature, role system",
        rawToken({
          header: { alg: "none", typ: "JWT" },
          payload: root,
          signature: "",
        }),
      ],
      ["alg None", rawToken({ header: { alg: "None" }, payload: alice, signature: "" })],
      [
        "alg NONE with a real HS256 signature",
        rawToken({ header: { alg: "NONE" }, payload: alice }),
      ],
      ["no alg at all", rawToken({ header: { typ: "JWT" }, payload: alice })],
      [
        "HS384 signed with the server secret",
        rawToken({
          header: { alg: "HS384", typ: "JWT" },
          payload: alice,
          hmac: { hash: "SHA-384" },
        }),
      ],
      [
        "HS512 signed with the server secret",
        rawToken({
          header: { alg: "HS512", typ: "JWT" },
          payload: alice,
          hmac: { hash: "SHA-512" },
        }),
      ],
      [
        "RS256 header over an HS256 signature (key confusion)",
        rawToken({
          header: { alg: "RS256", typ: "JWT" },
          payload: alice,
        }),
      ],
      ["RS256 signed with the attacker's key, embedded jwk", rsaToken(root)],
      [
        "HS256 with the attacker's key and a jwk header",
        rawToken({
          header: { alg: "HS256", jwk: { kty: "oct", k: "YXR0YWNrZXI" } },
          payload: root,
          hmac: { hash: "SHA-256", key: "attacker-key-0123456789" },
        }),
      ],
      [
        "wrong key: the secret plus one character",
        rawToken({
          header: { alg: "HS256" },
          payload: alice,
          hmac: { hash: "SHA-256", key: `${SECRET}x` },
        }),
      ],
      [
        "wrong key: the secret's prefix",
        rawToken({
          header: { alg: "HS256" },
          payload: alice,
          hmac: { hash: "SHA-256", key: "kalamdb-test-secret" },
        }),
      ],
      [
        "expired a second ago",
        forgeToken({
          sub: "alice",
          role: "user",
          token_type: "access",
          iat: t - 600,
          exp: t - 1,
        }),
      ],
      [
        "iat an hour in the future",
        forgeToken({
          sub: "alice",
          role: "user",
          token_type: "access",
          iat: t + 3600,
          exp: t + 7200,
        }),
      ],
      [
        "nbf an hour in the future",
        rawToken({ header: { alg: "HS256" }, payload: { ...alice, nbf: t + 3600 } }),
      ],
      [
        "exp as a string",
        rawToken({ header: { alg: "HS256" }, payload: { ...alice, exp: String(t + 3600) } }),
      ],
      ["no exp", rawToken({ header: { alg: "HS256" }, payload: { ...alice, exp: undefined } })],
      [
        "role unknown to the server",
        rawToken({ header: { alg: "HS256" }, payload: { ...alice, role: "superuser" } }),
      ],
      [
        "sub as an array",
        rawToken({ header: { alg: "HS256" }, payload: { ...alice, sub: ["alice"] } }),
      ],
      ["token_type refresh (a refresh token) as access", login.refresh_token],
      [
        "token_type id",
        rawToken({ header: { alg: "HS256" }, payload: { ...alice, token_type: "id" } }),
      ],
      [
        "crit header the server does not know",
        rawToken({
          header: { alg: "HS256", crit: ["exp2"], exp2: 1 },
          payload: alice,
        }),
      ],
      ["two tokens glued", `${login.access_token}.${login.access_token}`],
    ];
    const problems: string[] = [];
    for (const [what, token] of cases) {
      problems.push(...await refusedEverywhere(s, await token, what));
    }
    assert(problems.length === 0, `accepted or wrong answer:\n- ${problems.join("\n- ")}`);
    // The control: the same paths take a genuine token.
    assertEquals(
      assertSuccess(await s.sql("SELECT 1", { auth: bearer(login.access_token) })).as_user,
      "alice",
    );
  });
});

Deno.test("security/jwt: a role claim above the stored role gets the stored role only", async () => {
  await withServer(ENV, async (s) => {
    await setup(s);
    const denied = [
      "SELECT * FROM system.users",
      "CREATE USER mallory WITH PASSWORD 'm' ROLE system",
      "ALTER USER alice SET ROLE system",
      "EXECUTE AS USER 'bob' (SELECT * FROM app.notes)",
      "FLUSH TABLE app.notes",
      "CREATE NAMESPACE evil",
      "KILL LIVE QUERY 'lq-x'",
    ];
    const problems: string[] = [];
    for (const role of ["service", "dba", "system"]) {
      const auth = bearer(await forgeToken({ sub: "alice", role, token_type: "access" }));
      for (const sql of denied) {
        const r = await s.sql(sql, { auth });
        if (r.body?.error?.code !== "PERMISSION_DENIED") {
          problems.push(`alice claiming ${role}: ${sql} → ${r.status} ${r.text.slice(0, 200)}`);
        }
      }
      // Over the WebSocket the socket gets the stored role, and no all-users subscription.
      const ws = await LiveClient.open(s.url, auth);
      const ok = await ws.next((m) => m.type === "auth_success" || m.type === "auth_error");
      if (ok.role !== "user") problems.push(`alice claiming ${role} on WS: ${JSON.stringify(ok)}`);
      const { ack } = await ws.subscribe("all", "SELECT * FROM app.notes", { all_users: true });
      if (ack.code !== "PERMISSION_DENIED") {
        problems.push(`alice claiming ${role}: all_users subscribe → ${JSON.stringify(ack)}`);
      }
      await ws.close();
      // A refresh token with the claim is renewed with the stored role.
      const refresh = await forgeToken({ sub: "alice", role, token_type: "refresh" });
      const renewed = await s.request("POST", "/v1/api/auth/refresh", {
        body: { refresh_token: refresh },
      });
      if (renewed.body?.user?.role !== "user") {
        problems.push(`refresh claiming ${role}: ${renewed.status} ${renewed.text}`);
      }
    }
    assert(problems.length === 0, `elevated:\n- ${problems.join("\n- ")}`);
    const users = await s.root("SELECT user_id, role FROM system.users ORDER BY user_id");
    assert(!users.text.includes("mallory") && !users.text.includes('"alice","system"'), users.text);
  });
});

Deno.test("security/jwt: a dropped or recreated user's token, and sockets opened before", async () => {
  await withServer(ENV, async (s) => {
    await setup(s);
    const pair = (await s.login("gone", "gone-pw")).body;
    const token = bearer(pair.access_token);
    // A socket authenticated before the drop, with an all-users subscription on it.
    const open = await LiveClient.open(s.url, token);
    const early = await open.subscribe("all", "SELECT id, v FROM app.notes", { all_users: true });
    assertEquals(early.ack.type, "subscription_ack", JSON.stringify(early.ack));
    await s.root("DROP USER gone");
    const problems = await refusedEverywhere(s, pair.access_token, "dropped user's access token");
    const refresh = await s.request("POST", "/v1/api/auth/refresh", {
      body: { refresh_token: pair.refresh_token },
    });
    if (refresh.status !== 401) problems.push(`dropped user's refresh: ${refresh.status}`);
    // The socket opened before the drop: no new subscription, no more rows of anyone.
    const { ack } = await open.subscribe("late", "SELECT id, v FROM app.notes", {
      all_users: true,
    });
    if (ack.type === "subscription_ack") {
      problems.push(`subscribe after DROP USER: ${JSON.stringify(ack)}`);
    }
    const alice = basic("alice", "alice-pw");
    assertSuccess(
      await s.sql("INSERT INTO app.notes (id, v) VALUES (1, 'alice secret')", { auth: alice }),
    );
    // The server closed the socket after refusing the subscribe (bounded wait).
    const closed = await Promise.race([open.closed().then(() => true), delay(10_000, false)]);
    if (!closed) problems.push("the dropped user's socket stayed open");
    if (!open.of("all", "error").some((m) => m.code === "LIVE_QUERY_KILLED")) {
      problems.push(
        `the old subscription was not ended: ${JSON.stringify(open.messages.slice(-4))}`,
      );
    }
    const leaked = open.messages.filter((m) =>
      m.type === "change" && JSON.stringify(m).includes("alice secret")
    );
    if (leaked.length) {
      problems.push(`dropped user's socket still got changes: ${JSON.stringify(leaked)}`);
    }
    await open.close();
    // A new user of the same name is a new person: the old tokens are not theirs.
    await s.root("CREATE USER gone WITH PASSWORD 'new-pw' ROLE service");
    const again = await s.sql("SELECT 1", { auth: token });
    if (again.status !== 401) {
      problems.push(`old token for the recreated user: ${again.status} ${again.text}`);
    }
    const fresh = await s.token("gone", "new-pw");
    assertEquals(assertSuccess(await s.sql("SELECT 1", { auth: fresh })).as_user, "gone");
    assert(problems.length === 0, `still working:\n- ${problems.join("\n- ")}`);
  });
});

Deno.test("security/jwt: a demoted user's token and open socket get the lower role at once", async () => {
  await withServer(ENV, async (s) => {
    await setup(s);
    const boss = await s.token("boss", "boss-pw");
    const svc = await s.token("svc", "svc-pw");
    const ws = await LiveClient.open(s.url, svc);
    const before = await ws.subscribe("all", "SELECT id, v FROM app.notes", { all_users: true });
    assertEquals(before.ack.type, "subscription_ack", JSON.stringify(before.ack));
    await s.root("ALTER USER boss SET ROLE user; ALTER USER svc SET ROLE user");
    const problems: string[] = [];
    const check = (what: string, r: Reply) => {
      if (r.body?.error?.code !== "PERMISSION_DENIED") {
        problems.push(`${what}: ${r.status} ${r.text.slice(0, 200)}`);
      }
    };
    check(
      "demoted dba reads system.users",
      await s.sql("SELECT * FROM system.users", { auth: boss }),
    );
    check(
      "demoted dba creates a user",
      await s.sql("CREATE USER x WITH PASSWORD 'x' ROLE user", { auth: boss }),
    );
    check(
      "demoted service EXECUTE AS",
      await s.sql("EXECUTE AS USER 'alice' (SELECT 1)", { auth: svc }),
    );
    const late = await ws.subscribe("late", "SELECT id, v FROM app.notes", { all_users: true });
    if (late.ack.code !== "PERMISSION_DENIED") {
      problems.push(
        `demoted service's open socket subscribes all_users: ${JSON.stringify(late.ack)}`,
      );
    }
    // The all-users subscription made while it was a service ends; alice's row never arrives.
    assertSuccess(
      await s.sql("INSERT INTO app.notes (id, v) VALUES (7, 'alice private')", {
        auth: basic("alice", "alice-pw"),
      }),
    );
    await ws.roundTrip();
    if (!ws.of("all", "error").some((m) => m.code === "LIVE_QUERY_KILLED")) {
      problems.push(
        `the all-users subscription was not ended: ${JSON.stringify(ws.messages.slice(-4))}`,
      );
    }
    const leaked = ws.messages.filter((m) =>
      m.type === "change" && JSON.stringify(m).includes("alice private")
    );
    if (leaked.length) {
      problems.push(`demoted service still gets all users' rows: ${JSON.stringify(leaked)}`);
    }
    await ws.close();
    const refreshed = await s.login("svc", "svc-pw");
    assertEquals(refreshed.body.user.role, "user");
    assert(problems.length === 0, `the old role still works:\n- ${problems.join("\n- ")}`);
    assertError(await s.sql("SELECT * FROM system.users", { auth: boss }), "PERMISSION_DENIED");
    assertSuccess(await s.sql("SELECT 1", { auth: ROOT }));
  });
});
