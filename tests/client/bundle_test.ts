// `deno task build:client`: one ESM file for browsers with its declarations, and nothing in it
// that only Deno or Node has.

import { buildClient } from "../../examples/mod.ts";
import { assert, assertMatch, withTempDir } from "../_util.ts";

Deno.test("bundle: one runtime-neutral ESM file and its .d.ts", async () => {
  await withTempDir(async (dir) => {
    await buildClient(dir); // = deno task build:client --out dir
    const built = { js: `${dir}/kalamdb-client.js`, dts: `${dir}/kalamdb-client.d.ts` };
    const js = await Deno.readTextFile(built.js);
    const dts = await Deno.readTextFile(built.dts);
    assertMatch(js, /export\s*\{[^}]*\bcreateClient\b[^}]*\}/);
    assertMatch(js, /export\s*\{[^}]*\bKalamError\b[^}]*\}/);
    // (A quoted "Deno.customInspect" symbol name is not a use of Deno.)
    for (const banned of [/(?<!["'])\bDeno\./, /from\s*["']node:/, /\brequire\(/, /\bprocess\./]) {
      assert(!banned.test(js), `the bundle uses ${banned}`);
    }
    assert(!/^import /m.test(js), "no imports left: everything is in the one file");
    assertMatch(dts, /export declare function createClient\(options: ClientOptions\): KalamClient/);
    assertMatch(dts, /export declare class Timestamp/);
    // The bundle loads and works as a module here too.
    const mod = await import(new URL(`file://${built.js}`).href);
    assert(new mod.Timestamp(1500000n).toDate().getTime() === 1, "Timestamp from the bundle");
  });
});
