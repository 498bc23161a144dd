// Topic statements (SPEC §10): CREATE / DROP / CLEAR / ALTER TOPIC, PUBLISH, CONSUME, ACK and
// NACK. Each parser starts after its leading keyword(s), whose first token it gets for the span.

import type {
  AckStmt,
  AlterTopicStmt,
  ClearTopicStmt,
  ConsumeFrom,
  ConsumeStmt,
  CreateTopicStmt,
  DropTopicStmt,
  Expr,
  PublishStmt,
  SourceOp,
} from "../ast.ts";
import type { Token } from "../_lexer.ts";
import type { Parser } from "./_parser.ts";
import { parseOptionList } from "./ddl.ts";
import { parseExpr } from "./expr.ts";

const topicName = (p: Parser, creating = false) => p.tableName(creating, "topic");

/** `CREATE TOPIC [IF NOT EXISTS] ns.t [PARTITIONS n] [WITH (…)]` (after CREATE). */
export function parseCreateTopic(p: Parser, first: Token): CreateTopicStmt {
  p.expect("TOPIC");
  const ifNotExists = p.acceptAll("IF", "NOT", "EXISTS");
  const topic = topicName(p, true);
  const partitions = p.accept("PARTITIONS") ? p.integer("a partition count") : undefined;
  const options = p.accept("WITH") ? parseOptionList(p) : [];
  return {
    kind: "create_topic",
    topic,
    ifNotExists,
    ...(partitions !== undefined ? { partitions } : {}),
    options,
    span: p.spanFrom(first),
  };
}

/** `DROP TOPIC [IF EXISTS] ns.t` (after DROP). */
export function parseDropTopic(p: Parser, first: Token): DropTopicStmt {
  p.expect("TOPIC");
  const ifExists = p.acceptAll("IF", "EXISTS");
  return { kind: "drop_topic", topic: topicName(p), ifExists, span: p.spanFrom(first) };
}

/** `CLEAR TOPIC ns.t` (after CLEAR). */
export function parseClearTopic(p: Parser, first: Token): ClearTopicStmt {
  p.expect("TOPIC");
  return { kind: "clear_topic", topic: topicName(p), span: p.spanFrom(first) };
}

const OPS: readonly SourceOp[] = ["insert", "update", "delete"];

/**
 * `ALTER TOPIC ns.t ADD SOURCE ns.table ON INSERT[, UPDATE, DELETE] [WHERE …] [WITH (…)]` or
 * `ALTER TOPIC ns.t DROP SOURCE ns.table` (after ALTER).
 */
export function parseAlterTopic(p: Parser, first: Token): AlterTopicStmt {
  p.expect("TOPIC");
  const topic = topicName(p);
  if (p.accept("DROP")) {
    p.expect("SOURCE");
    const table = p.tableName();
    return {
      kind: "alter_topic",
      topic,
      change: { action: "drop_source", table },
      span: p.spanFrom(first),
    };
  }
  p.expect("ADD");
  p.expect("SOURCE");
  const table = p.tableName();
  p.expect("ON");
  const ops: SourceOp[] = [];
  do {
    const t = p.peek();
    const op = OPS.find((o) => p.accept(o.toUpperCase()));
    if (!op) p.failExpected("INSERT, UPDATE or DELETE");
    if (ops.includes(op)) p.fail(`${op.toUpperCase()} given twice`, t);
    ops.push(op);
  } while (p.acceptOp(","));
  const where = p.accept("WHERE") ? parseExpr(p) : undefined;
  const options = p.accept("WITH") ? parseOptionList(p) : [];
  return {
    kind: "alter_topic",
    topic,
    change: { action: "add_source", table, ops, ...(where ? { where } : {}), options },
    span: p.spanFrom(first),
  };
}

/** `PUBLISH TO ns.t [KEY k] [MESSAGE_ID m] PAYLOAD json` (after PUBLISH). */
export function parsePublish(p: Parser, first: Token): PublishStmt {
  p.expect("TO");
  const topic = topicName(p);
  let key: Expr | undefined;
  let messageId: Expr | undefined;
  while (true) {
    const t = p.peek();
    if (!key && p.accept("KEY")) key = parseExpr(p);
    else if (!messageId && p.accept("MESSAGE_ID")) messageId = parseExpr(p);
    else if (t.kind === "ident" && (t.upper === "KEY" || t.upper === "MESSAGE_ID")) {
      p.fail(`${t.upper} given twice`, t);
    } else break;
  }
  p.expect("PAYLOAD");
  const payload = parseExpr(p);
  return {
    kind: "publish",
    topic,
    ...(key ? { key } : {}),
    ...(messageId ? { messageId } : {}),
    payload,
    span: p.spanFrom(first),
  };
}

/**
 * `CONSUME FROM ns.t GROUP 'g' [CONSUMER 'c'] [FROM EARLIEST | LATEST | n] [LIMIT n] [WAIT ms]`
 * (after CONSUME); the optional clauses in any order, each once.
 */
export function parseConsume(p: Parser, first: Token): ConsumeStmt {
  p.expect("FROM");
  const topic = topicName(p);
  p.expect("GROUP");
  const group = p.nameOrString("a group name");
  let consumer: string | undefined;
  let from: ConsumeFrom | undefined;
  let limit: number | undefined;
  let waitMs: number | undefined;
  const seen = new Set<string>();
  while (true) {
    const t = p.peek();
    if (t.kind !== "ident" || t.quoted) break;
    if (!["CONSUMER", "FROM", "LIMIT", "WAIT"].includes(t.upper)) break;
    if (seen.has(t.upper)) p.fail(`${t.upper} given twice`, t);
    seen.add(t.upper);
    p.next();
    if (t.upper === "CONSUMER") consumer = p.nameOrString("a consumer name");
    else if (t.upper === "LIMIT") limit = p.integer("a message count");
    else if (t.upper === "WAIT") waitMs = p.integer("a wait in milliseconds");
    else if (p.accept("EARLIEST")) from = "earliest";
    else if (p.accept("LATEST")) from = "latest";
    else from = p.integer("EARLIEST, LATEST or an offset");
  }
  return {
    kind: "consume",
    topic,
    group,
    ...(consumer !== undefined ? { consumer } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(waitMs !== undefined ? { waitMs } : {}),
    span: p.spanFrom(first),
  };
}

/**
 * `ACK ns.t GROUP 'g' [CONSUMER 'c'] OFFSETS (p:o, …)` / `NACK … [DELAY s]` (after ACK / NACK).
 */
export function parseAck(p: Parser, first: Token, nack: boolean): AckStmt {
  const topic = topicName(p);
  p.expect("GROUP");
  const group = p.nameOrString("a group name");
  const consumer = p.accept("CONSUMER") ? p.nameOrString("a consumer name") : undefined;
  p.expect("OFFSETS");
  const offsets: [number, number][] = [];
  let offsetsParam: number | undefined;
  const t = p.peek();
  if (t.kind === "param") {
    p.next();
    offsetsParam = Number(t.value);
    if (!Number.isSafeInteger(offsetsParam) || offsetsParam < 1) {
      p.fail(`Invalid parameter $${t.value}`, t);
    }
  } else {
    p.expectOp("(");
    do {
      const part = p.integer("a partition number");
      p.expectOp(":");
      offsets.push([part, p.integer("an offset")]);
    } while (p.acceptOp(","));
    p.expectOp(")");
  }
  const delaySeconds = nack && p.accept("DELAY") ? p.integer("a delay in seconds") : undefined;
  return {
    kind: "ack",
    nack,
    topic,
    group,
    ...(consumer !== undefined ? { consumer } : {}),
    offsets,
    ...(offsetsParam !== undefined ? { offsetsParam } : {}),
    ...(delaySeconds !== undefined ? { delaySeconds } : {}),
    span: p.spanFrom(first),
  };
}
