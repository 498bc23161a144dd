// The live-query room: the registry (subscribe, unsubscribe, list, kill, delivery), routing of
// committed changes to subscriptions, the initial snapshot, the messages sockets get (SPEC §8),
// and the query compiler they share. It reads storage only through `LiveSource` from
// storage/mod.ts; all else it takes from there is types and the subscribe-option rules.

export { LiveRegistry, type RegistryOptions } from "./registry.ts";
export type { LiveConnection } from "./protocol.ts";
export type { SubscribeOptions } from "../storage/mod.ts";
export { type CompiledLive, compileLive, type LiveQuery, parseLiveQuery } from "./query.ts";
