// Version, commit and build date of this program. A compiled `kalamdb` carries the stamp that
// scripts/compile.ts wrote into _build_info.ts; a development run (`deno run main.ts`) asks git
// for the commit at run time, and says "dev" / "unknown" when it cannot know.

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
 * The program's build info: the compile-time stamp when present, else git's commit and
 * `unknown` build date.
 *
 * @example
 * versionLine(await buildInfo()); // "kalamdb 0.1.0 (commit 1a2b3c4, built 2026-11-25T20:00:00Z)"
 */
export function buildInfo(): Promise<BuildInfo> {
  cached ??= resolveBuildInfo();
  return cached;
}

async function resolveBuildInfo(): Promise<BuildInfo> {
  const commit = BUILD_INFO.commit || await gitCommit() || "dev";
  return { version: VERSION, commit, buildDate: BUILD_INFO.buildDate || "unknown" };
}

/** The `--version` line. */
export function versionLine(info: BuildInfo): string {
  return `kalamdb ${info.version} (commit ${info.commit}, built ${info.buildDate})`;
}

/** `git rev-parse --short HEAD` in this source tree, or undefined (no git, no permission…). */
export async function gitCommit(cwd = import.meta.dirname): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      cwd,
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).output();
    const commit = new TextDecoder().decode(out.stdout).trim();
    return out.success && /^[0-9a-f]+$/.test(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}
