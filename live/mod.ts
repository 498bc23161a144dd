// The live-query subsystem's door: the registry that turns committed changes into per-socket
// messages (SPEC §8), and the query compiler it uses.

export { type LiveConnection, LiveRegistry, type RegistryOptions } from "./registry.ts";
export type { SubscribeOptions } from "../storage/mod.ts";
export { type CompiledLive, compileLive, type LiveQuery, parseLiveQuery } from "./query.ts";
