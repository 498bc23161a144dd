// exportToFile through the session API, remote against a real server and embedded: a download
// that is refused (unknown id, another user's export), breaks off midway (a proxy that cuts the
// body) or is stopped by its signal (what Ctrl-C does) fails and leaves neither the zip nor its
// temporary file. And the progress line: drawn in place only when there is a terminal,
// throttled, ended with its latest text. (The CLI end to end: tests/cli/export_cli_test.ts.)

import { assert, assertEquals, startServer, type TestServer } from "../tests/server/_server.ts";
import { withTempDir } from "./_test_util.ts";
import { exportReport, exportToFile, size } from "./export.ts";
import { RemoteSession } from "./remote.ts";
import { EmbeddedSession } from "./embedded.ts";
import type { DownloadOptions, Session } from "./session.ts";
import { DbError } from "../errors.ts";
import { names, zipsIn } from "../tests/cli/_export_files.ts";

const SETUP = "CREATE NAMESPACE app;\n" +
  "CREATE USER TABLE app.notes (id INT PRIMARY KEY, title TEXT);\n" +
  "CREATE USER alice WITH PASSWORD 'alice-pw' ROLE user;\n" +
  "CREATE USER bob WITH PASSWORD 'bob-pw' ROLE user;\n" +
  "EXECUTE AS USER 'alice' (INSERT INTO app.notes (id, title) VALUES (1, 'a'), (2, 'b'));";

/** `session` with every download sent to `url` instead (an id that is not there, say). */
function downloadingFrom(session: Session, url: string): Session {
  return new Proxy(session, {
    get(target, key) {
      if (key === "download") {
        return (_: string, to: string, o?: DownloadOptions) => target.download(url, to, o);
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** `session` whose download is aborted by `stop` as soon as the first bytes are written. */
function abortingAtFirstBytes(session: Session, stop: AbortController): Session {
  return new Proxy(session, {
    get(target, key) {
      if (key === "download") {
        return (url: string, to: string, o: DownloadOptions = {}) =>
          target.download(url, to, {
            ...o,
            progress: (n, total) => {
              o.progress?.(n, total);
              stop.abort();
            },
          });
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** An export stopped by its signal mid-download: rejects with the abort, leaves nothing. */
async function abortsCleanly(session: Session, user: string, parent: string) {
  const dir = await Deno.makeTempDir({ dir: parent });
  const stop = new AbortController();
  const report = exportReport(() => {});
  const err = await exportToFile(abortingAtFirstBytes(session, stop), {
    user,
    output: `${dir}/out.zip`,
    report,
    signal: stop.signal,
  }).then(() => undefined, (e) => e);
  assert(stop.signal.aborted && err === stop.signal.reason, String(err));
  assertEquals(await names(dir), [], "no zip and no temporary file");
}

/** Runs an export into a new directory under `parent` that must fail with `code`; it stays empty. */
async function failsCleanly(session: Session, user: string, parent: string, code: string) {
  const dir = await Deno.makeTempDir({ dir: parent });
  const report = exportReport(() => {});
  const err = await exportToFile(session, { user, output: `${dir}/out.zip`, report })
    .then(() => undefined, (e) => e);
  assert(err instanceof DbError, String(err));
  assertEquals(err.code, code, err.message);
  assertEquals(await names(dir), [], "no zip and no temporary file");
  return err;
}

/**
 * A proxy in front of `server` that passes everything through but sends only the first 100
 * bytes of an export's body (with the whole Content-Length), then ends the connection.
 */
function cuttingProxy(server: TestServer) {
  const controller = new AbortController();
  const proxy = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: controller.signal, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      const upstream = await fetch(server.url + url.pathname + url.search, {
        method: req.method,
        headers: req.headers,
        body: req.body,
      });
      if (!url.pathname.startsWith("/v1/exports/") || upstream.status !== 200) return upstream;
      const bytes = new Uint8Array(await upstream.arrayBuffer()).subarray(0, 100);
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(bytes);
          c.close();
        },
      });
      return new Response(body, { headers: upstream.headers });
    },
  );
  return {
    url: `http://127.0.0.1:${proxy.addr.port}`,
    async close() {
      controller.abort();
      await proxy.finished;
    },
  };
}

Deno.test("export: a refused or broken download leaves no file behind", async (t) => {
  await withTempDir(async (dir) => {
    const server = await startServer();
    try {
      await server.root(SETUP);
      const root = await RemoteSession.connect({
        url: server.url,
        auth: { user: "root", password: "" },
        credentials: "test",
      });
      try {
        await t.step("remote, unknown export id", async () => {
          await failsCleanly(
            downloadingFrom(root, "/v1/exports/alice/nope"),
            "alice",
            dir,
            "NOT_FOUND",
          );
        });
        await t.step("remote, another user's export", async () => {
          const bob = await RemoteSession.connect({
            url: server.url,
            auth: { user: "bob", password: "bob-pw" },
            credentials: "test",
          });
          try {
            const [zip] = await zipsIn(server.dataDir);
            const id = zip.slice(zip.lastIndexOf("/") + 1, -".zip".length);
            const theirs = `/v1/exports/alice/${id}`;
            await failsCleanly(downloadingFrom(bob, theirs), "bob", dir, "PERMISSION_DENIED");
          } finally {
            await bob.close();
          }
        });
        await t.step("remote, stopped by its signal mid-download", async () => {
          await abortsCleanly(root, "alice", dir);
        });
      } finally {
        await root.close();
      }
      await t.step("remote, the body breaks off midway", async () => {
        const proxy = cuttingProxy(server);
        try {
          const session = await RemoteSession.connect({
            url: proxy.url,
            auth: { user: "root", password: "" },
            credentials: "test",
          });
          try {
            const err = await failsCleanly(session, "alice", dir, "STORAGE_ERROR");
            assert(err.message.includes("broke off"), err.message);
          } finally {
            await session.close();
          }
        } finally {
          await proxy.close();
        }
      });
    } finally {
      await server.stop();
    }
    await t.step("embedded, unknown export id and stopped by its signal", async () => {
      const session = await EmbeddedSession.open({
        dataDir: `${dir}-data`,
        nodeId: 1,
        asUser: "root",
      });
      try {
        await failsCleanly(
          downloadingFrom(session, "/v1/exports/root/nope"),
          "root",
          dir,
          "NOT_FOUND",
        );
        await abortsCleanly(session, "root", dir); // stopped by its signal mid-copy
      } finally {
        await session.close();
        await Deno.remove(`${dir}-data`, { recursive: true });
      }
    });
  });
});

Deno.test("export progress: one line redrawn in place on a terminal, nothing otherwise", () => {
  let clock = 0;
  const drawn: string[] = [];
  const notes: string[] = [];
  const report = exportReport((n) => notes.push(n), {
    draw: (raw) => drawn.push(raw),
    now: () => clock,
  });
  report.progress("Export e1: queued, 0 s");
  clock = 50;
  report.progress("Export e1: running, 0 s"); // within 100 ms: not drawn yet
  clock = 150;
  report.progress("Downloading 1.0 kB / 2.0 kB");
  clock = 160;
  report.progress("Downloading 2.0 kB / 2.0 kB"); // throttled, but end() shows it
  report.end();
  report.end(); // nothing open: nothing written
  assertEquals(drawn, [
    "\rExport e1: queued, 0 s\x1b[K",
    "\rDownloading 1.0 kB / 2.0 kB\x1b[K",
    "\rDownloading 2.0 kB / 2.0 kB\x1b[K",
    "\n",
  ]);
  report.progress("x");
  report.note("a note"); // ends the open line first
  assertEquals(drawn.slice(4), ["\rx\x1b[K", "\n"]);
  assertEquals(notes, ["a note"]);

  const plain: string[] = [];
  const quiet = exportReport((n) => plain.push(`note ${n}`));
  quiet.progress("Downloading 1 B");
  quiet.note("n");
  quiet.end();
  assertEquals(plain, ["note n"]);

  assertEquals([0, 999, 1000, 12_345_678, 40_100_000, 999_960, 3e9].map(size), [
    "0 B",
    "999 B",
    "1.0 kB",
    "12.3 MB",
    "40.1 MB",
    "1.0 MB",
    "3.0 GB",
  ]);
});
