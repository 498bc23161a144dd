// Administrative statements: users, EXECUTE AS USER, SHOW, DESCRIBE, FLUSH, COMPACT, KILL,
// EXPORT USER DATA and SUBSCRIBE TO. Each parser starts after its leading keyword, whose token it
// gets for the span.

import type {
  AlterUserStmt,
  CompactStmt,
  CreateUserStmt,
  DescribeStmt,
  DropUserStmt,
  ExecuteAsStmt,
  ExportStmt,
  FlushStmt,
  KillStmt,
  Role,
  SelectStmt,
  ShowStmt,
  ShowWhat,
  Statement,
  SubscribeStmt,
} from "../ast.ts";
import type { Token } from "../_lexer.ts";
import type { Parser } from "./_parser.ts";
import { parseOptionList } from "./ddl.ts";
import { parseExpr } from "./expr.ts";

const ROLES: readonly Role[] = ["user", "service", "dba", "system"];

function parseRole(p: Parser): Role {
  const t = p.peek();
  const role = p.nameOrString("a role").toLowerCase();
  if (!(ROLES as readonly string[]).includes(role)) {
    p.fail(`Unknown role "${role}": use user, service, dba or system`, t);
  }
  return role as Role;
}

/** `CREATE USER [IF NOT EXISTS] name WITH PASSWORD '…' ROLE r [EMAIL '…']` (after CREATE). */
export function parseCreateUser(p: Parser, first: Token): CreateUserStmt {
  p.expect("USER");
  const ifNotExists = p.acceptAll("IF", "NOT", "EXISTS");
  const name = p.nameOrString("a user name");
  p.expect("WITH");
  let password: string | undefined;
  let role: Role | undefined;
  let email: string | undefined;
  while (true) {
    const t = p.peek();
    if (password === undefined && p.accept("PASSWORD")) password = p.string("a password string");
    else if (role === undefined && p.accept("ROLE")) role = parseRole(p);
    else if (email === undefined && p.accept("EMAIL")) email = p.string("an email string");
    else if (t.kind === "ident" && ["PASSWORD", "ROLE", "EMAIL"].includes(t.upper)) {
      p.fail(`${t.upper} given twice`, t);
    } else break;
  }
  if (password === undefined) p.failExpected("PASSWORD '…'");
  return {
    kind: "create_user",
    name,
    ifNotExists,
    password,
    role: role ?? "user",
    ...(email !== undefined ? { email } : {}),
    span: p.spanFrom(first),
  };
}

/** `ALTER USER name SET PASSWORD '…' | SET ROLE r | SET EMAIL '…'` (after ALTER). */
export function parseAlterUser(p: Parser, first: Token): AlterUserStmt {
  p.expect("USER");
  const name = p.nameOrString("a user name");
  if (!p.accept("SET")) p.expect("WITH");
  let change: AlterUserStmt["change"];
  if (p.accept("PASSWORD")) change = { set: "password", password: p.string("a password string") };
  else if (p.accept("ROLE")) change = { set: "role", role: parseRole(p) };
  else if (p.accept("EMAIL")) change = { set: "email", email: p.string("an email string") };
  else return p.failExpected("PASSWORD, ROLE or EMAIL");
  return { kind: "alter_user", name, change, span: p.spanFrom(first) };
}

/** `DROP USER [IF EXISTS] name` (after DROP). */
export function parseDropUser(p: Parser, first: Token): DropUserStmt {
  p.expect("USER");
  const ifExists = p.acceptAll("IF", "EXISTS");
  const name = p.nameOrString("a user name");
  return { kind: "drop_user", name, ifExists, span: p.spanFrom(first) };
}

/** `EXECUTE AS USER 'alice' (statement)` (after EXECUTE); parentheses may be omitted. */
export function parseExecuteAs(
  p: Parser,
  first: Token,
  parseStatement: (p: Parser) => Statement,
): ExecuteAsStmt {
  p.expect("AS");
  p.expect("USER");
  const user = p.nameOrString("a user name");
  const statement = p.nested(() => {
    const paren = p.acceptOp("(");
    if (p.atOp(")")) p.failExpected("a statement");
    const statement = parseStatement(p);
    if (paren) p.expectOp(")");
    return statement;
  });
  return { kind: "execute_as", user, statement, span: p.spanFrom(first) };
}

/** `SHOW NAMESPACES | TABLES [IN ns] | STORAGES | USERS | LIVE QUERIES | JOBS | EXPORTS | TOPICS [IN ns] | STATS FOR TABLE ns.t`. */
export function parseShow(p: Parser, first: Token): ShowStmt {
  let target: ShowWhat;
  if (p.accept("NAMESPACES")) target = { what: "namespaces" };
  else if (p.accept("TABLES")) {
    target = p.accept("IN") || p.accept("FROM")
      ? { what: "tables", namespace: p.namespace() }
      : { what: "tables" };
  } else if (p.accept("STORAGES")) target = { what: "storages" };
  else if (p.accept("USERS")) target = { what: "users" };
  else if (p.acceptAll("LIVE", "QUERIES")) target = { what: "live_queries" };
  else if (p.accept("JOBS")) target = { what: "jobs" };
  else if (p.accept("EXPORTS")) target = { what: "exports" };
  else if (p.accept("TOPICS")) {
    target = p.accept("IN") || p.accept("FROM")
      ? { what: "topics", namespace: p.namespace() }
      : { what: "topics" };
  } else if (p.accept("STATS")) {
    p.expect("FOR");
    p.accept("TABLE");
    target = { what: "stats", table: p.tableName() };
  } else {
    return p.failExpected(
      "NAMESPACES, TABLES, STORAGES, USERS, LIVE QUERIES, JOBS, EXPORTS, TOPICS or STATS",
    );
  }
  return { kind: "show", target, span: p.spanFrom(first) };
}

/** `DESCRIBE [TABLE] ns.t` / `DESC [TABLE] ns.t` (after DESCRIBE/DESC). */
export function parseDescribe(p: Parser, first: Token): DescribeStmt {
  p.accept("TABLE");
  return { kind: "describe", table: p.tableName(), span: p.spanFrom(first) };
}

/**
 * `FLUSH TABLE ns.t` / `FLUSH ALL TABLES IN ns` (after FLUSH; also after STORAGE FLUSH, where
 * `ALL IN ns` is KalamDB's spelling).
 */
export function parseFlush(p: Parser, first: Token): FlushStmt {
  if (p.accept("TABLE")) return { kind: "flush", table: p.tableName(), span: p.spanFrom(first) };
  if (p.accept("ALL")) {
    p.accept("TABLES");
    p.expect("IN");
    return { kind: "flush", namespace: p.namespace(), span: p.spanFrom(first) };
  }
  return p.failExpected("TABLE or ALL TABLES IN");
}

/** `COMPACT TABLE ns.t` (after COMPACT). */
export function parseCompact(p: Parser, first: Token): CompactStmt {
  p.expect("TABLE");
  return { kind: "compact", table: p.tableName(), span: p.spanFrom(first) };
}

/** `KILL JOB 'id'` / `KILL LIVE QUERY 'id'` (after KILL). */
export function parseKill(p: Parser, first: Token): KillStmt {
  let target: KillStmt["target"];
  if (p.accept("JOB")) target = "job";
  else if (p.acceptAll("LIVE", "QUERY")) target = "live_query";
  else return p.failExpected("JOB or LIVE QUERY");
  const id = p.nameOrString(target === "job" ? "a job id" : "a live query id");
  return { kind: "kill", target, id, span: p.spanFrom(first) };
}

/** `EXPORT USER DATA` (after EXPORT). */
export function parseExport(p: Parser, first: Token): ExportStmt {
  p.expect("USER");
  p.expect("DATA");
  return { kind: "export_user_data", span: p.spanFrom(first) };
}

/** `SUBSCRIBE TO ns.t [WHERE …] [OPTIONS (last_rows = N, …)]` (after SUBSCRIBE). */
export function parseSubscribe(p: Parser, first: Token): SubscribeStmt {
  p.expect("TO");
  const tableTok = p.peek();
  const table = p.tableName();
  const where = p.accept("WHERE") ? parseExpr(p) : undefined;
  const querySpan = p.spanFrom(tableTok);
  const options = p.accept("OPTIONS") ? parseOptionList(p) : [];
  const query: SelectStmt = {
    kind: "select",
    distinct: false,
    items: [{ expr: { kind: "star", span: table.span } }],
    from: { kind: "table_ref", table, span: table.span },
    ...(where ? { where } : {}),
    groupBy: [],
    orderBy: [],
    span: querySpan,
  };
  return { kind: "subscribe", query, options, span: p.spanFrom(first) };
}
