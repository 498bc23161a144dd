// End-to-end tests of the request-body bounds (issue 10, item 6) over raw loopback sockets
// against a real server process: a declared Content-Length is never turned into an allocation,
// a server-wide budget of body bytes in flight refuses (503 STORAGE_ERROR, Retry-After) what
// does not fit and gets every byte back on timeout and on client abort, a body that does not
// arrive within KALAMDB_BODY_TIMEOUT_MS is 408 QUERY_TIMEOUT and its connection is cut, and an
// oversized WebSocket message is PAYLOAD_TOO_LARGE then close 1009. Every wait has a deadline;
// the only timer-driven writes are the drip of a slow client, which is the load under test.

import {
  assert,
  assertEquals,
  assertError,
  assertSuccess,
  ROOT,
  type TestServer,
  until,
  withServer,
} from "./_server.ts";
import { LiveClient, type Msg } from "./_live.ts";
import { resolveConfig } from "../../cli/mod.ts";
import { UsageError } from "../../cli/mod.ts";

/** Deadline of any single wait (generous: the machine may be loaded). */
const WAIT_MS = 30_000;

/** A raw HTTP/1.1 connection: writes what the test says, reads responses in the background. */
class RawConn {
  #conn: Deno.Conn;
  #data = "";
  #ended?: "eof" | "reset";
  #changed = Promise.withResolvers<void>();
  #pump: Promise<void>;
  #drip?: ReturnType<typeof setInterval>;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.#pump = this.#read();
  }

  /** Connects to the server and sends `head` (request line + headers) and `body`. */
  static async open(server: TestServer, head: string, body = ""): Promise<RawConn> {
    const port = Number(new URL(server.url).port);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const raw = new RawConn(conn);
    await conn.write(new TextEncoder().encode(head + body));
    return raw;
  }

  /** The first response once it is complete, or undefined (nothing, or not all of it yet). */
  get reply(): RawReply | undefined {
    return parseReply(this.#data);
  }

  /** Waits (bounded) for the first complete response. */
  async response(what: string): Promise<RawReply> {
    await this.#until(() => this.reply !== undefined || this.#ended !== undefined, what);
    const reply = this.reply;
    assert(
      reply,
      `${what}: the connection ended (${this.#ended}) without a response: ` +
        JSON.stringify(this.#data.slice(0, 300)),
    );
    return reply;
  }

  /** Waits (bounded) until the server ends the connection: "eof" or "reset". */
  async ended(what: string): Promise<"eof" | "reset"> {
    await this.#until(() => this.#ended !== undefined, what);
    return this.#ended!;
  }

  /** Writes one byte every `everyMs` ms, at most `max` bytes, until stopped or refused. */
  drip(everyMs: number, max: number): void {
    let sent = 0;
    this.#drip = setInterval(() => {
      if (sent++ >= max || this.#ended) return this.#stopDrip();
      this.#conn.write(new Uint8Array([0x20])).catch(() => this.#stopDrip());
    }, everyMs);
  }

  async close(): Promise<void> {
    this.#stopDrip();
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    await this.#pump;
  }

  #stopDrip(): void {
    clearInterval(this.#drip);
    this.#drip = undefined;
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(65536);
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) {
          this.#ended = "eof";
          break;
        }
        this.#data += decoder.decode(buf.subarray(0, n), { stream: true });
        this.#wake();
      }
    } catch (err) {
      // A reset after the response is one way of cutting a connection; our own close is another.
      this.#ended = err instanceof Deno.errors.ConnectionReset ? "reset" : "eof";
    }
    this.#wake();
  }

  #wake(): void {
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
  }

  async #until(done: () => boolean, what: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"expired">((resolve) => {
      timer = setTimeout(() => resolve("expired"), WAIT_MS);
    });
    try {
      while (!done()) {
        if (await Promise.race([this.#changed.promise, expired]) === "expired") {
          throw new Error(
            `${what}: nothing within ${WAIT_MS} ms; got ` +
              JSON.stringify(this.#data.slice(0, 300)),
          );
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

interface RawReply {
  readonly status: number;
  readonly headers: Headers;
  // deno-lint-ignore no-explicit-any
  readonly body: any;
}

/**
 * Parses the first HTTP response of `data` when it is complete: a Content-Length body, or a
 * chunked one up to its last chunk or — for a response whose connection is cut on purpose —
 * up to the chunk that completes the JSON value.
 */
function parseReply(data: string): RawReply | undefined {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine, ...lines] = data.slice(0, end).split("\r\n");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const status = Number(statusLine.split(" ")[1]);
  let rest = data.slice(end + 4);
  let text = "";
  const length = headers.get("content-length");
  if (length !== null) {
    if (rest.length < Number(length)) return undefined;
    text = rest.slice(0, Number(length));
  } else {
    for (;;) {
      const eol = rest.indexOf("\r\n");
      if (eol < 0) return undefined;
      const size = parseInt(rest.slice(0, eol), 16);
      if (size === 0) break;
      if (rest.length < eol + 2 + size) return undefined;
      text += rest.slice(eol + 2, eol + 2 + size);
      rest = rest.slice(eol + 4 + size);
      if (isJson(text)) break;
    }
  }
  return { status, headers, body: isJson(text) ? JSON.parse(text) : text };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The head of an anonymous POST /v1/api/sql declaring `length` body bytes. */
function post(length: number): string {
  return "POST /v1/api/sql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n" +
    `content-length: ${length}\r\n\r\n`;
}

/** A valid SQL request body of exactly `size` bytes. */
function bodyOf(size: number): string {
  const head = '{"sql":"SELECT 1;"';
  return head + " ".repeat(size - head.length - 1) + "}";
}

/** Asserts the SPEC error shape on a raw reply; returns the error object. */
// deno-lint-ignore no-explicit-any
function rawError(r: RawReply, code: string, status: number, what: string): any {
  const ctx = `${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`;
  assertEquals(r.body?.error?.code, code, ctx);
  assertEquals(r.status, status, ctx);
  assertEquals(r.body.status, "error", ctx);
  return r.body.error;
}

/**
 * Opens a connection that declares `declared` bytes and sends one, and returns it once the
 * server has reserved its bytes. With a budget of exactly `declared`, a small probe is refused
 * (503) only while that connection holds the budget, so the probe tells when it is in; a
 * connection refused because a probe held the budget at that moment is opened again.
 */
async function admitHanging(s: TestServer, declared: number): Promise<RawConn> {
  // Budget is charged by bytes that arrived: send all but the last byte, then hold.
  const hanging = await RawConn.open(s, post(declared), "{" + " ".repeat(declared - 2));
  try {
    await until(async () => {
      const probe = await s.request("POST", "/v1/api/sql", { body: '{"sql":"SELECT 1;"}' });
      if (probe.status !== 503) {
        return assertSuccess(probe, "a probe while the budget is free") && false;
      }
      assertError(probe, "STORAGE_ERROR", "a probe while the budget is full");
      assertEquals(probe.headers.get("retry-after"), "1", "503 says when to retry");
      return true;
    }, "the hanging body holds the budget");
  } catch (err) {
    await hanging.close();
    throw err;
  }
  return hanging;
}

/** Retries (deadline-bounded, each try awaiting the last answer) until a body of `size` passes. */
async function assertBudgetFree(s: TestServer, size: number, what: string): Promise<void> {
  await until(async () => {
    const r = await s.request("POST", "/v1/api/sql", { auth: ROOT, body: bodyOf(size) });
    if (r.status === 200) return assertSuccess(r, what) || true;
    assertError(r, "STORAGE_ERROR", `${what}: only "busy" while the budget comes back`);
    return false;
  }, `${what}: the budget comes back`);
}

const B = 100_000;

Deno.test("body limits: a body that does not arrive in time is 408 and its connection is cut", async (t) => {
  const env = {
    KALAMDB_MAX_BODY_BYTES: String(B),
    KALAMDB_MAX_INFLIGHT_BODY_BYTES: String(B),
    KALAMDB_BODY_TIMEOUT_MS: "1000",
  };
  await withServer(env, async (s) => {
    await t.step("a dripping body: 408 QUERY_TIMEOUT after the timeout, then cut", async () => {
      const t0 = performance.now();
      const c = await RawConn.open(s, post(B), '{"sql":"');
      try {
        c.drip(100, 300);
        const r = await c.response("dripping body");
        const elapsed = performance.now() - t0;
        rawError(r, "QUERY_TIMEOUT", 408, "dripping body");
        assert(elapsed >= 1000, `answered after ${elapsed} ms, before the 1000 ms timeout`);
        assertEquals(r.headers.get("connection"), "close");
        // The server ends the connection although the client keeps sending.
        await c.ended("the connection after the 408");
      } finally {
        await c.close();
      }
      // Every reserved byte is back: a body as large as the whole budget passes.
      await assertBudgetFree(s, B, "after a timeout");
    });

    await t.step("20 dripping connections: each 408 and cut; the budget comes back", async () => {
      const conns = await Promise.all(
        Array.from({ length: 20 }, () => RawConn.open(s, post(1000), '{"sql":"')),
      );
      try {
        for (const c of conns) c.drip(100, 300);
        for (const [i, c] of conns.entries()) {
          rawError(await c.response(`drip ${i}`), "QUERY_TIMEOUT", 408, `drip ${i}`);
          await c.ended(`drip ${i} after its 408`);
        }
      } finally {
        await Promise.all(conns.map((c) => c.close()));
      }
      await assertBudgetFree(s, B, "after 20 timeouts");
    });

    await t.step("a silent body also gets 408 after the timeout", async () => {
      const t0 = performance.now();
      const c = await RawConn.open(s, post(B), "{");
      try {
        const r = await c.response("silent body");
        const elapsed = performance.now() - t0;
        rawError(r, "QUERY_TIMEOUT", 408, "silent body");
        assert(elapsed >= 1000, `answered after ${elapsed} ms, before the 1000 ms timeout`);
      } finally {
        await c.close();
      }
      await assertBudgetFree(s, B, "after a silent timeout");
    });
  });
});

Deno.test("body limits: the in-flight budget refuses with 503 and gets every byte back", async (t) => {
  const env = {
    KALAMDB_MAX_BODY_BYTES: String(B),
    KALAMDB_MAX_INFLIGHT_BODY_BYTES: String(B),
    KALAMDB_BODY_TIMEOUT_MS: "120000",
  };
  await withServer(env, async (s) => {
    await t.step("a declared length over the limit is 413 before any body byte", async () => {
      // No body byte is ever sent and the body timeout is far away: the answer cannot wait.
      const c = await RawConn.open(s, post(B + 1));
      try {
        rawError(await c.response("declared B + 1"), "PAYLOAD_TOO_LARGE", 413, "declared B + 1");
      } finally {
        await c.close();
      }
      const huge = await RawConn.open(s, post(10_000_000_000));
      try {
        rawError(await huge.response("declared 10 GB"), "PAYLOAD_TOO_LARGE", 413, "10 GB");
      } finally {
        await huge.close();
      }
    });

    await t.step("a body holding the budget: others get 503; its abort gives it back", async () => {
      const hanging = await admitHanging(s, B);
      try {
        // A chunked body (no Content-Length) is counted as it arrives, and refused likewise.
        const chunked = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"sql":"SELECT 1;"}'));
            controller.close();
          },
        });
        const r = await s.request("POST", "/v1/api/sql", { auth: ROOT, body: chunked });
        assertError(r, "STORAGE_ERROR", "a chunked body while the budget is full");
        assertEquals(r.headers.get("retry-after"), "1");
      } finally {
        await hanging.close(); // the client goes away mid-body
      }
      await assertBudgetFree(s, B, "after a client abort");
      await assertBudgetFree(s, B, "and again");
    });
  });
});

Deno.test("body limits: connections declaring 10 MB cost nothing and lock nobody out", async () => {
  const env = {
    KALAMDB_MAX_BODY_BYTES: "10000000",
    KALAMDB_MAX_INFLIGHT_BODY_BYTES: String(20 * 10_000_000),
    KALAMDB_BODY_TIMEOUT_MS: "120000",
  };
  await withServer(env, async (s) => {
    const rss = () => {
      try {
        const status = Deno.readTextFileSync(`/proc/${s.pid}/status`);
        return Number(status.match(/VmRSS:\s+(\d+)/)?.[1]) * 1024;
      } catch {
        return undefined; // no procfs (not Linux): the memory check is skipped
      }
    };
    const before = rss();
    const total = 30; // declaring more than the whole budget together
    const conns: RawConn[] = [];
    try {
      for (let i = 0; i < total; i++) conns.push(await RawConn.open(s, post(10_000_000), "{"));
      // Only bytes that arrived are charged: a real request still gets through, at once.
      await until(async () => {
        const r = await s.sql("SELECT 1", { auth: ROOT });
        return r.status === 200;
      }, "a normal request beside 30 declared 10 MB bodies");
      const login = await s.request("POST", "/v1/api/auth/login", {
        body: { user: "root", password: "" },
      });
      assertEquals(login.status, 200, login.text);
      const after = rss();
      if (before !== undefined && after !== undefined) {
        // Buffers sized from the header would be 30 × 10 MB here.
        const grown = after - before;
        assert(grown < 100 * 1024 * 1024, `the server grew by ${grown} bytes`);
      }
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
    await assertBudgetFree(s, 10_000_000, "after closing every connection");
  });
});

Deno.test("body limits: WebSocket messages and subscription SQL are capped", async (t) => {
  await withServer({}, async (s) => {
    const open = async () => {
      const c = await LiveClient.open(s.url);
      c.send({ type: "authenticate" });
      await c.next((m) => m.type === "auth_success");
      return c;
    };
    const sqlOf = (bytes: number) =>
      "SELECT * FROM app.t WHERE c = '" + "x".repeat(bytes - 32) + "'";
    const bounded = <T>(p: Promise<T>, what: string) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${WAIT_MS} ms`)), WAIT_MS);
      });
      return Promise.race([p, expired]).finally(() => clearTimeout(timer));
    };

    await t.step(
      "a 2 MiB subscription is PAYLOAD_TOO_LARGE and the socket closes 1009",
      async () => {
        const c = await open();
        try {
          assertEquals(new TextEncoder().encode(sqlOf(2 << 20)).length, 2 << 20);
          c.send({ type: "subscribe", id: "big", sql: sqlOf(2 << 20) });
          const e: Msg = await c.next((m) => m.type === "error");
          assertEquals(e.code, "PAYLOAD_TOO_LARGE", JSON.stringify(e));
          const closed = await bounded(c.closed(), "close after the oversized message");
          assertEquals(closed.code, 1009, `close code; reason ${closed.reason}`);
        } finally {
          await c.close();
        }
      },
    );

    await t.step("SQL over 1 MiB in a message under the cap: an error for that id", async () => {
      const c = await open();
      try {
        c.send({ type: "subscribe", id: "over", sql: sqlOf((1 << 20) + 1) });
        const e = await c.next((m) => m.id === "over");
        assertEquals([e.type, e.code], ["error", "PAYLOAD_TOO_LARGE"], JSON.stringify(e));
        // Exactly the limit passes the size check (and fails on what it names instead).
        c.send({ type: "subscribe", id: "at", sql: sqlOf(1 << 20) });
        const at = await c.next((m) => m.id === "at");
        assert(at.code !== "PAYLOAD_TOO_LARGE", JSON.stringify(at).slice(0, 300));
        await c.roundTrip(); // the socket stays usable
      } finally {
        await c.close();
      }
    });

    await t.step("an oversized message before authentication is refused too", async () => {
      const c = await LiveClient.open(s.url);
      try {
        c.sendRaw(" ".repeat(2 << 20));
        const e = await c.next((m) => m.type === "error");
        assertEquals(e.code, "PAYLOAD_TOO_LARGE", JSON.stringify(e));
        assertEquals((await bounded(c.closed(), "close")).code, 1009);
      } finally {
        await c.close();
      }
    });
  });
});

Deno.test("body limits: configuration knobs and their defaults", () => {
  const defaults = resolveConfig({}, {}).server;
  assertEquals([defaults.bodyTimeoutMs, defaults.maxInflightBodyBytes], [30_000, 128 << 20]);
  const set = resolveConfig({}, {
    KALAMDB_BODY_TIMEOUT_MS: "1500",
    KALAMDB_MAX_INFLIGHT_BODY_BYTES: "20000000",
  }).server;
  assertEquals([set.bodyTimeoutMs, set.maxInflightBodyBytes], [1500, 20_000_000]);
  const file = resolveConfig({}, {}, { body_timeout_ms: 2500, max_inflight_body_bytes: 3e7 });
  assertEquals([file.server.bodyTimeoutMs, file.server.maxInflightBodyBytes], [2500, 3e7]);
  // The budget holds at least one body of the largest size: raised by default, refused if set.
  const big = resolveConfig({}, { KALAMDB_MAX_BODY_BYTES: String(200 << 20) }).server;
  assertEquals(big.maxInflightBodyBytes, 200 << 20);
  let error: unknown;
  try {
    resolveConfig({}, { KALAMDB_MAX_BODY_BYTES: "2000", KALAMDB_MAX_INFLIGHT_BODY_BYTES: "1000" });
  } catch (err) {
    error = err;
  }
  assert(error instanceof UsageError, `budget below the body limit: ${error}`);
  assert(/max_inflight_body_bytes/.test(error.message), error.message);
});
