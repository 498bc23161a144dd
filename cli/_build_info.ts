// Build stamp. Left empty in the repository; `deno task compile` (scripts/compile.ts) writes the
// commit and build date here just before `deno compile` and restores this file afterwards.

/** Commit and UTC build date stamped at compile time; empty strings when not stamped. */
export const BUILD_INFO = { commit: "", buildDate: "" };
