// The chat example end to end in a real browser (Debian's chromium through playwright-core):
// two pages signed in as alice and one as bob. Alice's message appears live on both of her pages
// and never on bob's (chat.messages is a USER table), also after bob's page has proven it is live
// by showing his own message; everyone sees the PUBLIC room list. Every wait is bounded by
// playwright's timeout; screenshots of the three pages go to the artifact dir.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { type Chat, ROOMS, startChat, USERS } from "../../examples/mod.ts";
import { assert, assertEquals } from "../_util.ts";

const CHROMIUM = "/usr/bin/chromium";
const missing = !existsSync(CHROMIUM);
if (missing) {
  console.log(`chat browser test skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
}

/** Bound of every single wait (a loaded CI machine runs the whole suite in parallel). */
const WAIT_MS = 20_000;

const ARTIFACTS = Deno.env.get("KALAMDB_TEST_ARTIFACTS") ??
  new URL("../../.scratch/artifacts/", import.meta.url).pathname;

/** Opens the page in a fresh context (its own cookies and storage). */
async function open(browser: Browser, url: string, label: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on("pageerror", (err) => console.error(`[${label}] page error: ${err.message}`));
  await page.goto(url);
  return page;
}

/** Opens the page and signs in as `user`. */
async function openAs(browser: Browser, url: string, user: string): Promise<Page> {
  const page = await open(browser, url, user);
  await signIn(page, user, USERS[user]);
  return page;
}

async function signIn(page: Page, user: string, password: string): Promise<void> {
  await page.fill("#login-user", user);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
}

/** Waits until the page shows every room and the live status, with the first room open. */
async function waitReady(page: Page): Promise<void> {
  await page.locator("#chat-view").waitFor({ state: "visible" });
  await page.locator(".room-link").nth(ROOMS.length - 1).waitFor();
  const names = await page.locator(".room-link").allTextContents();
  assertEquals(names, ROOMS.map((r) => `# ${r.name}`));
  await page.locator('#status[data-state="live"]').waitFor();
  await page.locator(`#room-title:text-is("# ${ROOMS[0].name}")`).waitFor();
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill("#compose-input", text);
  await page.click("#compose-send");
}

function message(page: Page, text: string) {
  return page.locator(".message .body", { hasText: text });
}

/** The three pages' story; every wait is bounded by the pages' default timeout. */
async function scenario(browser: Browser, url: string): Promise<void> {
  const a = await openAs(browser, url, "alice");
  const b = await openAs(browser, url, "alice");

  // Bob first tries a wrong password: the page shows the SDK's error code.
  const c = await open(browser, url, "bob");
  await signIn(c, "bob", "wrong");
  await c.locator('#error-code:text-is("UNAUTHORIZED")').waitFor();
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await c.screenshot({ path: join(ARTIFACTS, "chat-login-error.png") });
  await signIn(c, "bob", USERS.bob);
  await Promise.all([a, b, c].map(waitReady));
  assert(await c.locator("#error").isHidden(), "the error banner clears on sign-in");

  const stamp = crypto.randomUUID().slice(0, 8);
  const fromAlice = `hello from alice ${stamp}`;
  await send(a, fromAlice);
  await message(a, fromAlice).waitFor();
  await message(b, fromAlice).waitFor();

  // Bob's page is live (his own message arrives), yet alice's message is not there.
  const fromBob = `bob here ${stamp}`;
  await send(c, fromBob);
  await message(c, fromBob).waitFor();
  assertEquals(await message(c, fromAlice).count(), 0, "bob must not see alice's message");

  // And the other way round: alice's pages get her later message but never bob's.
  const again = `alice again ${stamp}`;
  await send(b, again);
  for (const page of [a, b]) {
    await message(page, again).waitFor();
    assertEquals(await message(page, fromBob).count(), 0, "alice must not see bob's message");
    assertEquals(await page.locator(".message").count(), 2);
  }
  assertEquals(await c.locator(".message").count(), 1);

  const shots: [Page, string][] = [[a, "alice-a"], [b, "alice-b"], [c, "bob"]];
  for (const [page, name] of shots) {
    await page.screenshot({ path: join(ARTIFACTS, `chat-${name}.png`) });
  }

  // Another room starts empty and keeps its own messages.
  await a.click('.room-link:text-is("# random")');
  await a.locator(".messages .empty").waitFor();
  await send(a, `in random ${stamp}`);
  await message(a, `in random ${stamp}`).waitFor();
  assertEquals(await a.locator(".message").count(), 1);
  assertEquals(await b.locator(".message").count(), 2, "page B still shows #general");
}

Deno.test({
  name: "chat example: alice's messages reach both of her pages and never bob's",
  ignore: missing,
  async fn() {
    // The bundle is built into this test's own dir, so a parallel build of dist/ cannot race it.
    const work = await Deno.makeTempDir({ prefix: "kalamdb-chat-browser-" });
    let chat: Chat | undefined;
    let out: { code: number; stderr: string } | undefined;
    try {
      chat = await startChat({
        dataDir: join(work, "data"),
        bundleDir: join(work, "bundle"),
        port: 0,
        apiPort: 0,
      });
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        // Root in a container has no user namespace for chromium's sandbox.
        args: ["--no-sandbox"],
        timeout: WAIT_MS,
      });
      try {
        await scenario(browser, chat.pageUrl);
      } finally {
        await browser.close();
      }
    } finally {
      out = await chat?.stop();
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
    assertEquals(out?.code, 0, `kalamdb exit status; stderr:\n${out?.stderr}`);
  },
});
