// `\consume ns.topic [group] [--no-ack]` (SPEC §7, §10): prints a topic's messages as a group's
// consumer until Ctrl-C, in embedded and remote mode alike — a loop of short CONSUME … WAIT
// long-polls and, unless --no-ack, an ACK of each printed batch. With --no-ack the claims run
// out after the topic's visibility timeout and the messages go back to the group: a peek.

import type { Session } from "./session.ts";
import type { StatementResult } from "../storage/mod.ts";
import { printString as quote } from "../sql/mod.ts";

export interface ConsumeAction {
  readonly topic: string;
  readonly group: string;
  readonly ack: boolean;
}

export interface ConsumeOutput {
  /** Prints one batch of messages (a result as the shell renders results). */
  result(r: StatementResult): void;
  /** Prints an error line. */
  error(text: string): void;
}

/** Long-polls for at most this long, so Ctrl-C stops a wait within it. */
const WAIT_MS = 1000;

/** The columns worth a screen line: the topic is the one asked for, the deadline is the shell's. */
const SHOWN = ["partition", "offset", "key", "op", "user", "payload", "delivery_count"];

function compact(r: StatementResult): StatementResult {
  const keep = SHOWN.map((n) => r.schema!.findIndex((c) => c.name === n)).filter((i) => i >= 0);
  return {
    ...r,
    schema: keep.map((i) => r.schema![i]),
    ...(r.types ? { types: keep.map((i) => r.types![i]) } : {}),
    rows: r.rows!.map((row) => keep.map((i) => row[i])),
  };
}

/** Runs until `signal` aborts or a statement fails; returns how many messages were printed. */
export async function consumeLoop(
  session: Session,
  a: ConsumeAction,
  out: ConsumeOutput,
  signal: AbortSignal,
): Promise<number> {
  const consume = `CONSUME FROM ${a.topic} GROUP ${quote(a.group)} CONSUMER 'shell' LIMIT 100 ` +
    `WAIT ${WAIT_MS}`;
  let printed = 0;
  while (!signal.aborted) {
    const batch = await session.execute(consume, { signal });
    if (signal.aborted) break;
    if (batch.error) {
      out.error(`ERROR ${batch.error.code}: ${batch.error.message}`);
      break;
    }
    const r = batch.results[0];
    if (!r || r.rowCount === 0) continue;
    out.result(compact(r));
    printed += r.rowCount;
    if (!a.ack) continue;
    const names = r.schema!.map((c) => c.name);
    const [p, o] = [names.indexOf("partition"), names.indexOf("offset")];
    const offsets = r.rows!.map((row) => `${row[p]}:${row[o]}`).join(", ");
    const acked = await session.execute(
      `ACK ${a.topic} GROUP ${quote(a.group)} CONSUMER 'shell' OFFSETS (${offsets})`,
    );
    if (acked.error) {
      out.error(`ERROR ${acked.error.code}: ${acked.error.message}`);
      break;
    }
  }
  return printed;
}
