// The examples' door (DESIGN.md, Layout): what tests and scripts may use of examples/.

export { buildClient, ROOMS, setup, startChat, USERS } from "./chat/mod.ts";
export type { Chat, ChatOptions } from "./chat/mod.ts";
export { AGENT_SCHEMA, answer, runAgent } from "./agent/mod.ts";
