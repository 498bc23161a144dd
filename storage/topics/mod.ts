// The topics room (SPEC §10): topics and their sources, the per-partition log, consumer groups
// with claims, acks, redelivery and dead letters. It lives inside storage because a source
// table's write and its messages must commit in one SQLite transaction (the outbox).

export { messageJson, type SourceWrite, Topics } from "./topics.ts";
export type { PayloadMode, TopicInfo, TopicSource } from "./catalog.ts";
export type { Message } from "./log.ts";
export type { Claimed, GroupPartition } from "./groups.ts";
export type { SegmentRef } from "./segments.ts";
