// Version, commit and build date of this program. A compiled `kalamdb` carries the stamp that
// scripts/compile.ts wrote into _build_info.ts; a development run (`deno run main.ts`) asks git
// for the commit and its commit date at run time, and says "dev" / "unknown" when it cannot know.

import { BUILD_INFO } from "./_build_info.ts";

/** What `--version` and the healthcheck report. */
export interface BuildInfo {
  readonly version: string;
  readonly commit: string;
  readonly buildDate: string;
}

/** The program version (SPEC §1). */
export const VERSION = "0.1.0";

let cached: Promise<BuildInfo> | undefined;

/**
 * The program's build info: the compile-time stamp when present, else git's commit and that
 * commit's date (UTC), `dev` / `unknown` outside a git checkout.
 *
 * @example
 * versionLine(await buildInfo()); // "kalamdb 0.1.0 (commit 1a2b3c4, built 2026-11-25T20:00:00Z)"
 */
export function buildInfo(): Promise<BuildInfo> {
  cached ??= resolveBuildInfo();
  return cached;
}

async function resolveBuildInfo(): Promise<BuildInfo> {
  if (BUILD_INFO.commit) {
    return { version: VERSION, commit: BUILD_INFO.commit, buildDate: BUILD_INFO.buildDate };
  }
  const head = await gitHead();
  return {
    version: VERSION,
    commit: head?.commit ?? "dev",
    buildDate: BUILD_INFO.buildDate || head?.date || "unknown",
  };
}

/** The `--version` line. */
export function versionLine(info: BuildInfo): string {
  return `kalamdb ${info.version} (commit ${info.commit}, built ${info.buildDate})`;
}

/** `git rev-parse --short HEAD` in this source tree, or undefined (no git, no permission…). */
export async function gitCommit(cwd = import.meta.dirname): Promise<string | undefined> {
  return (await gitHead(cwd))?.commit;
}

/** HEAD's short hash and commit date (UTC, RFC 3339 to the second), or undefined. */
async function gitHead(
  cwd = import.meta.dirname,
): Promise<{ commit: string; date: string } | undefined> {
  try {
    const out = await new Deno.Command("git", {
      args: ["log", "-1", "--format=%h %ct"],
      cwd,
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).output();
    const m = /^([0-9a-f]+) (\d+)$/.exec(new TextDecoder().decode(out.stdout).trim());
    if (!out.success || !m) return undefined;
    const date = new Date(Number(m[2]) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    return { commit: m[1], date };
  } catch {
    return undefined;
  }
}
