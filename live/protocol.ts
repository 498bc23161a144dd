// Protocol: the messages a socket gets from the registry (SPEC §8) — the subscription ack, the
// initial_data batches, change messages and the error messages that end a subscription
// (a failure, an overflow, a kill). A change's message is built once per (shape, subscription
// id) and its JSON text shared by every socket that gets the same bytes.

import type { Principal } from "../auth/mod.ts";
import type { DbError } from "../errors.ts";
import type { Change } from "../storage/mod.ts";
import type { Subscription } from "./routing.ts";

/** Where messages for one socket go; the server coalesces them into frames. */
export interface LiveConnection {
  readonly id: string;
  readonly principal: Principal;
  /**
   * Queues a message (with its JSON text when the registry already made it, shared by every
   * socket that gets the same message); false when the socket's queue is full (overflow).
   */
  send(message: Record<string, unknown>, json?: string): boolean;
}

/** A message with its JSON text. */
export interface Sent {
  readonly message: Record<string, unknown>;
  readonly json: string;
}

/** One change as one subscription shape sees it. */
export interface Projected {
  readonly op?: "insert" | "update" | "delete";
  readonly rows: Record<string, unknown>[];
  readonly oldRows?: Record<string, unknown>[];
  /** The change message per subscription id (and user, for all-users), object and JSON. */
  readonly texts: Map<string, Sent>;
}

export function ack(sub: Subscription, seq: bigint, resumed: boolean): Record<string, unknown> {
  return {
    type: "subscription_ack",
    id: sub.id,
    live_id: sub.liveId,
    schema: sub.compiled.schema,
    ...(sub.compiled.primaryKey === undefined ? {} : { primary_key: sub.compiled.primaryKey }),
    snapshot_seq: String(seq),
    resumed,
  };
}

export function initialData(
  sub: Subscription,
  rows: Record<string, unknown>[],
  batch: number,
  hasMore: boolean,
): Record<string, unknown> {
  return { type: "initial_data", id: sub.id, rows, batch, has_more: hasMore };
}

/** How a change looks through a subscription's filter and projection (op undefined: unseen). */
export function projectChange(sub: Subscription, c: Change): Projected {
  const before = c.old !== undefined && sub.compiled.matches(c.old);
  const after = c.row !== undefined && sub.compiled.matches(c.row);
  return {
    op: before && after ? "update" : after ? "insert" : before ? "delete" : undefined,
    rows: after ? [sub.compiled.project(c.row!)] : [],
    oldRows: before ? [sub.compiled.project(c.old!)] : undefined,
    texts: new Map(),
  };
}

/**
 * The change message of a (seen) shape for a subscription: the same (shape, subscription id)
 * gets the same bytes on every socket, so they are built once and kept in the shape.
 */
export function changeMessage(sub: Subscription, c: Change, shape: Projected): Sent {
  const textKey = sub.scope === "*" ? `${sub.id}\0${c.user}` : sub.id;
  let sent = shape.texts.get(textKey);
  if (!sent) {
    const message: Record<string, unknown> = {
      type: "change",
      id: sub.id,
      op: shape.op,
      seq: String(c.seq),
      rows: shape.rows,
    };
    if (shape.oldRows) message.old_rows = shape.oldRows;
    if (sub.scope === "*") message.user = c.user;
    sent = { message, json: JSON.stringify(message) };
    shape.texts.set(textKey, sent);
  }
  return sent;
}

/** A subscription that stopped on an error (a filter or projection that threw, a schema change). */
export function failedMessage(sub: Subscription, e: DbError): Record<string, unknown> {
  return {
    type: "error",
    id: sub.id,
    code: e.code,
    message: `Live query ${sub.liveId} stopped: ${e.message}`,
  };
}

export function overflowMessage(sub: Subscription): Record<string, unknown> {
  return {
    type: "error",
    id: sub.id,
    code: "SUBSCRIPTION_OVERFLOW",
    message: "The client did not keep up; resubscribe with from_seq to resume",
  };
}

export function killedMessage(sub: Subscription): Record<string, unknown> {
  return {
    type: "error",
    id: sub.id,
    code: "LIVE_QUERY_KILLED",
    message: `Live query ${sub.liveId} was killed by an administrator`,
  };
}
