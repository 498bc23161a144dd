export type { Manifest } from "./manifest.ts";
export { ColdTier } from "./tier.ts";
export type { FlushResult, ScopeStats, TablePlace } from "./tier.ts";
