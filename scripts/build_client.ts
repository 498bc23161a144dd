// `deno task build:client`: bundles the client SDK (client/mod.ts) for browsers into one ESM file,
// dist/kalamdb-client.js, with its declarations in dist/kalamdb-client.d.ts. Tests and the
// example import `buildClient()` to build into a directory of their own.
//
//   deno task build:client [--out <dir>] [--minify]

import { parseArgs } from "node:util";

const ROOT = new URL("../", import.meta.url);
const ENTRY = new URL("client/mod.ts", ROOT).pathname;

export interface BuiltClient {
  readonly js: string;
  readonly dts: string;
}

/** Bundles the SDK into `outDir` (default dist/); throws with deno's output on failure. */
export async function buildClient(
  outDir = new URL("dist/", ROOT).pathname,
  options: { minify?: boolean } = {},
): Promise<BuiltClient> {
  await Deno.mkdir(outDir, { recursive: true });
  const js = `${outDir.replace(/\/+$/, "")}/kalamdb-client.js`;
  const args = [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--format",
    "esm",
    "--declaration",
    ...(options.minify ? ["--minify"] : []),
    "-o",
    js,
    ENTRY,
  ];
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`deno bundle failed (${out.code}):\n${text}`);
  }
  return { js, dts: js.replace(/\.js$/, ".d.ts") };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { out: { type: "string" }, minify: { type: "boolean", default: false } },
  });
  const built = await buildClient(values.out, { minify: values.minify });
  const size = (await Deno.stat(built.js)).size;
  console.log(`${built.js} (${(size / 1024).toFixed(1)} KiB) and ${built.dts}`);
}
