// Unit tests of the pure auth pieces: the role policy (incl. permission before existence), the
// client-address decision with synthetic remote peers, tokens, and the rate limiters.

import { SignJWT } from "jose";
import { DbError } from "../errors.ts";
import { assert, assertEquals, assertRejects } from "../tests/_util.ts";
import {
  type Action,
  authorize,
  clientAddress,
  FailureLimiter,
  isLoopback,
  LoginLimiter,
  networkKey,
  type Principal,
  RateLimiter,
  type Role,
  Tokens,
} from "./mod.ts";

function denied(who: Principal, action: Action): string | undefined {
  try {
    authorize(who, action);
    return undefined;
  } catch (err) {
    assert(err instanceof DbError && err.code === "PERMISSION_DENIED", String(err));
    return err.message;
  }
}

const as = (role: Role, user: string = role): Principal => ({ user, role });

Deno.test("policy: shared access levels by role", () => {
  const read = (role: Role, accessLevel?: "PUBLIC" | "PROTECTED" | "PRIVATE") =>
    denied(as(role), { op: "read", table: "a.t", facts: { type: "SHARED", accessLevel } }) ===
      undefined;
  assertEquals(["anonymous", "user", "service"].map((r) => read(r as Role, "PUBLIC")), [
    true,
    true,
    true,
  ]);
  assertEquals(["anonymous", "user", "service"].map((r) => read(r as Role, "PROTECTED")), [
    false,
    true,
    true,
  ]);
  assertEquals(["user", "service", "dba"].map((r) => read(r as Role)), [false, true, true]);
});

Deno.test("policy: a missing table and a forbidden one get the same answer", () => {
  for (const role of ["anonymous", "user"] as const) {
    const missing = denied(as(role), { op: "read", table: "app.x", facts: undefined });
    const priv = denied(as(role), {
      op: "read",
      table: "app.x",
      facts: { type: "SHARED", accessLevel: "PRIVATE" },
    });
    assert(missing !== undefined);
    assertEquals(missing, priv);
  }
  // service may read every non-system table: a missing one is the handler's TABLE_NOT_FOUND.
  assertEquals(denied(as("service"), { op: "read", table: "app.x" }), undefined);
  assert(denied(as("service"), { op: "read", table: "system.x", facts: { type: "SYSTEM" } }));
  assertEquals(
    denied(as("dba"), { op: "read", table: "system.users", facts: { type: "SYSTEM" } }),
    undefined,
  );
  assert(denied(as("system"), { op: "write", table: "system.users", facts: { type: "SYSTEM" } }));
});

Deno.test("policy: roles, own role, system grants, EXECUTE AS matrix", () => {
  assert(denied(as("dba"), { op: "create_user", role: "system" }));
  assertEquals(denied(as("dba"), { op: "create_user", role: "service" }), undefined);
  assert(denied(as("service"), { op: "create_user", role: "user" }));
  assert(
    denied(as("dba", "boss"), {
      op: "set_role",
      target: "boss",
      targetRole: "dba",
      role: "system",
    }),
  );
  assert(
    denied(as("system", "root"), {
      op: "set_role",
      target: "root",
      targetRole: "system",
      role: "dba",
    }),
  );
  assert(denied(as("dba"), { op: "set_role", target: "x", targetRole: "user", role: "system" }));
  assert(denied(as("dba"), { op: "drop_user", target: "root", targetRole: "system" }));
  assertEquals(denied(as("user", "alice"), { op: "set_profile", target: "alice" }), undefined);
  assert(denied(as("user", "alice"), { op: "set_profile", target: "bob", targetRole: "user" }));
  const exec = (role: Role, target: "user" | "service" | "dba" | "system") =>
    denied(as(role), { op: "execute_as", target: "t", targetRole: target }) === undefined;
  assertEquals(
    (["user", "service", "dba", "system"] as const).map((t) => [
      exec("user", t),
      exec("service", t),
      exec("dba", t),
      exec("system", t),
    ]),
    [[false, true, true, true], [false, false, true, true], [false, false, false, true], [
      false,
      false,
      false,
      true,
    ]],
  );
});

Deno.test("address: loopback forms and X-Forwarded-For only from trusted proxies", () => {
  for (const a of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "[::1]"]) {
    assert(isLoopback(a), a);
  }
  for (const a of ["10.0.0.1", "::ffff:10.0.0.1", "128.0.0.1", "1127.0.0.1", "fe80::1", ""]) {
    assert(!isLoopback(a), a);
  }
  // A remote peer cannot claim loopback through the header.
  assertEquals(clientAddress("203.0.113.5", "127.0.0.1", []), "203.0.113.5");
  assertEquals(clientAddress("203.0.113.5", "127.0.0.1", ["10.0.0.1"]), "203.0.113.5");
  // Through a trusted proxy, the rightmost untrusted hop is the client.
  assertEquals(clientAddress("10.0.0.1", "127.0.0.1, 198.51.100.2", ["10.0.0.1"]), "198.51.100.2");
  assertEquals(clientAddress("10.0.0.1", "198.51.100.2, 10.0.0.1", ["10.0.0.1"]), "198.51.100.2");
  assertEquals(clientAddress("127.0.0.1", null, ["127.0.0.1"]), "127.0.0.1");
});

Deno.test("tokens: round trip; wrong type, tampering, other secret, expiry fail alike", async () => {
  const tokens = new Tokens("0123456789abcdef-secret", { accessTtlS: 60 });
  const pair = await tokens.issue("alice", "user");
  const claims = await tokens.verify(pair.access_token, "access");
  assertEquals([claims.sub, claims.role, claims.token_type], ["alice", "user", "access"]);
  assertEquals(claims.exp - claims.iat, 60);
  const expired = await tokens.sign("alice", "user", "access", 1000);
  const failures = [
    () => tokens.verify(pair.refresh_token, "access"),
    () => tokens.verify(pair.access_token, "refresh"),
    () => tokens.verify(pair.access_token.slice(0, -2) + "xx", "access"),
    () => new Tokens("another-secret-0123456789").verify(pair.access_token, "access"),
    () => tokens.verify(expired, "access"),
    async () =>
      tokens.verify(
        await new SignJWT({ role: "system", token_type: "access" })
          .setProtectedHeader({ alg: "HS384" }).setSubject("alice").setIssuedAt()
          .setExpirationTime("1h").sign(new TextEncoder().encode("0123456789abcdef-secret")),
        "access",
      ),
  ];
  const messages = new Set<string>();
  for (const f of failures) {
    const err = await assertRejects(f);
    assert(err instanceof DbError && err.code === "UNAUTHORIZED");
    messages.add(err.message);
  }
  assertEquals(messages.size, 1);
});

Deno.test("limits: token bucket refills; failures block for the window", () => {
  const rate = new RateLimiter(2, 4);
  const takes = Array.from({ length: 6 }, () => rate.take("a", 0));
  assertEquals(takes, [true, true, true, true, false, false]);
  assert(rate.take("b", 0), "other keys are independent");
  assert(rate.take("a", 500), "half a second refills one token at 2/s");
  assert(!rate.take("a", 500));
  assert(new RateLimiter(0).take("x"), "0 = unlimited");
  const fails = new FailureLimiter(3, 60_000);
  for (let i = 0; i < 3; i++) {
    assert(!fails.blocked("ip", i));
    fails.fail("ip", i);
  }
  assert(fails.blocked("ip", 10));
  assert(!fails.blocked("other", 10));
  assert(!fails.blocked("ip", 60_010), "the window passes");
});

Deno.test("limits: passwords lock per (address, user) for a fixed window, never extended", () => {
  const logins = new LoginLimiter({ perUser: 3, distinctUsers: 100, windowMs: 60_000 });
  for (let i = 0; i < 3; i++) {
    assert(!logins.blocked("ip", "alice", i), `attempt ${i + 1} is allowed`);
    logins.fail("ip", "alice", i);
  }
  assert(logins.blocked("ip", "alice", 10));
  assert(logins.blocked("ip", "ALICE", 10), "names are compared lower-cased");
  assert(!logins.blocked("ip", "bob", 10), "another user from the same address");
  assert(!logins.blocked("other", "alice", 10), "the same user from another address");
  // A failure that slips in while locked (a request already past the check) does not extend it.
  logins.fail("ip", "alice", 30_000);
  assert(logins.blocked("ip", "alice", 59_999));
  assert(!logins.blocked("ip", "alice", 60_000), "free a window after the first failure");
  const off = new LoginLimiter({ perUser: 0 });
  for (let i = 0; i < 100; i++) off.fail("ip", `u${i}`, 0);
  assert(!off.blocked("ip", "u0", 1), "0 turns lockouts off");
});

Deno.test("limits: distinct failing names per address have a ceiling", () => {
  const logins = new LoginLimiter({ perUser: 100, distinctUsers: 3, windowMs: 60_000 });
  for (let i = 0; i < 10; i++) logins.fail("ip", "same", i);
  logins.fail("ip", "Other", 10);
  logins.fail("ip", "OTHER", 11);
  assert(!logins.blocked("ip", "carol", 20), "two distinct names, however many failures");
  logins.fail("ip", "third", 30);
  assert(logins.blocked("ip", "carol", 40), "the third distinct name refuses every name");
  assert(!logins.blocked("elsewhere", "carol", 40));
  assert(!logins.blocked("ip", "carol", 60_000), "the window passes");
});

Deno.test("limits: attempts in flight hold a place per name under the ceiling", () => {
  const logins = new LoginLimiter({ perUser: 10, distinctUsers: 3, windowMs: 60_000 });
  // One name many times at once (a pool reconnecting) holds one place, whatever its count.
  const same = Array.from({ length: 6 }, () => logins.begin("ip", "alice", 0));
  assert(same.every((t) => t !== undefined), "the same name, six at once");
  // Other names in flight count as if they failed: a spray sent at once meets the ceiling.
  const b = logins.begin("ip", "bob", 0), c = logins.begin("ip", "carol", 0);
  assert(b && c, "three names in flight");
  assertEquals(logins.begin("ip", "dave", 0), undefined, "a fourth name is refused meanwhile");
  assert(logins.begin("elsewhere", "dave", 0), "other addresses are not");
  // Successes give their places back; failures turn them into counted names.
  for (const t of same) logins.end(t!, false, 1);
  logins.end(b!, false, 1);
  logins.end(c!, true, 1);
  const d = logins.begin("ip", "dave", 2);
  assert(d, "places given back");
  logins.end(d, true, 2);
  assert(logins.begin("ip", "frank", 3), "2 names failed: a third may be tried");
  assertEquals(logins.begin("ip", "erin", 3), undefined, "2 failed and 1 in flight: the ceiling");
});

Deno.test("limits: login keys are bounded in number and size", () => {
  const logins = new LoginLimiter({ perUser: 1, distinctUsers: 0, maxKeys: 10 });
  logins.fail("ip", "alice", 0);
  assert(logins.blocked("ip", "alice", 1));
  for (let i = 0; i < 100; i++) logins.fail(`10.0.0.${i}`, "alice", 2);
  assert(!logins.blocked("ip", "alice", 3), "the oldest key was forgotten");
  const long = "x".repeat(100_000);
  logins.fail("ip", `${long}1`, 4);
  assert(logins.blocked("ip", `${long}2`, 5), "long names share a key cut to a bounded length");
});

Deno.test("networkKey: IPv6 clients count as their /64, IPv4 (also mapped) as themselves", () => {
  assertEquals(networkKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assertEquals(networkKey("[2001:0db8:0001:0002:ffff:ffff:ffff:ffff]"), "2001:db8:1:2::/64");
  assertEquals(networkKey("2001:db8::1"), "2001:db8:0:0::/64");
  assertEquals(networkKey("::1"), "0:0:0:0::/64");
  assertEquals(networkKey("::ffff:203.0.113.9"), "203.0.113.9");
  assertEquals(networkKey("203.0.113.9"), "203.0.113.9");
  assertEquals(networkKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  assertEquals(networkKey("not:an::add::ress"), "not:an::add::ress");
  // Rotating the low 64 bits does not reset a lockout.
  const logins = new LoginLimiter({ perUser: 3, distinctUsers: 100, windowMs: 60_000 });
  for (let i = 1; i <= 3; i++) logins.fail(`2001:db8:1:2::${i}`, "alice", 0);
  assertEquals(logins.blocked("2001:db8:1:2::99", "alice", 1), true);
  assertEquals(logins.blocked("2001:db8:1:3::1", "alice", 1), false);
});
