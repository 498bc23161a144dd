// The scripts folder's door: the parts of the tools that test suites reuse — the crash
// harness's on-disk check of manifests against their segment files, and the seeded PRNG.

export { checkManifests, emptyTally } from "./reliability/mod.ts";
export { rng } from "./_rng.ts";
