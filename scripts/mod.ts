// The scripts folder's door: the parts of the tools that test suites reuse — the crash
// harness's on-disk check of manifests against their segment files.

export { checkManifests, emptyTally } from "./reliability/mod.ts";
