// The client SDK's door (SPEC §11): `createClient` and the types an app sees. Standard `fetch`
// and `WebSocket` only, no dependencies: the same module runs in browsers (bundled by
// `deno task build:client` into dist/kalamdb-client.js), Deno, Node ≥ 22 and Bun. Nothing here
// imports the server's code — the wire format of SPEC §4 and §8 is the only contract.

export { createClient, KalamClient } from "./client.ts";
export type { ClientOptions, LiveOptions, LiveRows } from "./client.ts";
export { tokenClaims } from "./auth.ts";
export type { Auth, TokenPair } from "./auth.ts";
export { KalamError } from "./errors.ts";
export type { ClientErrorCode, KalamErrorInit } from "./errors.ts";
export type { QueryOptions, QueryResult, StatementResult } from "./http.ts";
export type { ConnectionState, ReconnectOptions } from "./socket.ts";
export { Subscription } from "./subscription.ts";
export type {
  Change,
  ResetReason,
  SubscribeOptions,
  SubscriptionEvent,
  SubscriptionHandlers,
} from "./subscription.ts";
export { LiveRowsState } from "./live_rows.ts";
export { Consumer } from "./consumer.ts";
export type { ConsumeOptions, MessageHandler, TopicMessage } from "./consumer.ts";
export { Timestamp } from "./values.ts";
export type { Column, JsonValue, Row, Value } from "./values.ts";
