// Statement dispatch: picks the grammar by the leading keyword(s). Unknown leading words are
// INVALID_SQL pointing at the word.

import type { Statement } from "../ast.ts";
import { describeToken, type Parser } from "./_parser.ts";
import {
  parseAlterUser,
  parseCompact,
  parseCreateUser,
  parseDescribe,
  parseDropUser,
  parseExecuteAs,
  parseExport,
  parseFlush,
  parseKill,
  parseShow,
  parseSubscribe,
} from "./admin.ts";
import {
  parseAlterStorage,
  parseAlterTable,
  parseCreateNamespace,
  parseCreateStorage,
  parseCreateTable,
  parseDropNamespace,
  parseDropStorage,
  parseDropTable,
} from "./ddl.ts";
import { parseDelete, parseInsert, parseUpdate } from "./dml.ts";
import { parseSelect } from "./select.ts";
import {
  parseAck,
  parseAlterTopic,
  parseClearTopic,
  parseConsume,
  parseCreateTopic,
  parseDropTopic,
  parsePublish,
} from "./topics.ts";

/**
 * Parses one statement at the cursor (without its terminating `;`).
 *
 * @example
 * parseStatement(p); // CREATE NAMESPACE app
 */
export function parseStatement(p: Parser): Statement {
  const t = p.peek();
  if (t.kind !== "ident" || t.quoted) {
    return p.fail(`Expected a statement but found ${describeToken(t)}`, t);
  }
  switch (t.upper) {
    case "SELECT":
      return parseSelect(p);
    case "INSERT":
      return parseInsert(p);
    case "UPDATE":
      return parseUpdate(p);
    case "DELETE":
      return parseDelete(p);
    case "CREATE":
      p.next();
      if (p.at("NAMESPACE")) return parseCreateNamespace(p, t);
      if (p.at("STORAGE")) return parseCreateStorage(p, t);
      if (p.at("TOPIC")) return parseCreateTopic(p, t);
      if (p.at("USER") && !(p.at("TABLE", 1) && !p.at("WITH", 2))) return parseCreateUser(p, t);
      return parseCreateTable(p, t);
    case "DROP":
      p.next();
      if (p.at("NAMESPACE")) return parseDropNamespace(p, t);
      if (p.at("STORAGE")) return parseDropStorage(p, t);
      if (p.at("USER")) return parseDropUser(p, t);
      if (p.at("TABLE")) return parseDropTable(p, t);
      if (p.at("TOPIC")) return parseDropTopic(p, t);
      return p.failExpected("NAMESPACE, TABLE, TOPIC, USER or STORAGE");
    case "ALTER":
      p.next();
      if (p.at("TABLE")) return parseAlterTable(p, t);
      if (p.at("STORAGE")) return parseAlterStorage(p, t);
      if (p.at("USER")) return parseAlterUser(p, t);
      if (p.at("TOPIC")) return parseAlterTopic(p, t);
      return p.failExpected("TABLE, TOPIC, USER or STORAGE");
    case "EXECUTE":
      p.next();
      return parseExecuteAs(p, t, parseStatement);
    case "SHOW":
      p.next();
      return parseShow(p, t);
    case "DESCRIBE":
    case "DESC":
      p.next();
      return parseDescribe(p, t);
    case "FLUSH":
      p.next();
      return parseFlush(p, t);
    case "STORAGE":
      p.next();
      p.expect("FLUSH");
      return parseFlush(p, t);
    case "COMPACT":
      p.next();
      return parseCompact(p, t);
    case "KILL":
      p.next();
      return parseKill(p, t);
    case "EXPORT":
      p.next();
      return parseExport(p, t);
    case "SUBSCRIBE":
      p.next();
      return parseSubscribe(p, t);
    case "CLEAR":
      p.next();
      return parseClearTopic(p, t);
    case "PUBLISH":
      p.next();
      return parsePublish(p, t);
    case "CONSUME":
      p.next();
      return parseConsume(p, t);
    case "ACK":
    case "NACK":
      p.next();
      return parseAck(p, t, t.upper === "NACK");
  }
  return p.fail(`Unknown statement '${t.upper}'`, t);
}
