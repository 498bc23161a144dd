// SELECT: items with aliases, FROM with joins (INNER/LEFT/CROSS, comma = CROSS) and subqueries,
// WHERE, GROUP BY, HAVING, ORDER BY … NULLS FIRST|LAST, LIMIT/OFFSET (either order).

import type { Expr, FromItem, OrderItem, SelectItem, SelectStmt } from "../ast.ts";
import { RESERVED } from "../_lexer.ts";
import type { Parser } from "./_parser.ts";
import { parseExpr, parseExprList } from "./expr.ts";

/**
 * Parses `SELECT …` starting at the SELECT keyword.
 *
 * @example
 * parseSelect(p); // SELECT a, COUNT(*) AS n FROM app.t GROUP BY a ORDER BY n DESC LIMIT 10
 */
export function parseSelect(p: Parser): SelectStmt {
  const first = p.expect("SELECT");
  const distinct = p.accept("DISTINCT");
  if (!distinct) p.accept("ALL");
  const items = parseSelectItems(p);
  const from = p.accept("FROM") ? parseFrom(p) : undefined;
  const where = p.accept("WHERE") ? parseExpr(p) : undefined;
  let groupBy: Expr[] = [];
  if (p.at("GROUP")) {
    p.next();
    p.expect("BY");
    groupBy = parseExprList(p);
  }
  const having = p.accept("HAVING") ? parseExpr(p) : undefined;
  let orderBy: OrderItem[] = [];
  if (p.at("ORDER")) {
    p.next();
    p.expect("BY");
    orderBy = parseOrderItems(p);
  }
  let limit: Expr | undefined;
  let offset: Expr | undefined;
  while (true) {
    if (limit === undefined && p.accept("LIMIT")) limit = parseExpr(p);
    else if (offset === undefined && p.accept("OFFSET")) {
      offset = parseExpr(p);
      if (!p.accept("ROWS")) p.accept("ROW");
    } else break;
  }
  if (p.at("UNION")) p.fail("UNION is not supported", p.peek(), "UNSUPPORTED");
  return {
    kind: "select",
    distinct,
    items,
    ...(from ? { from } : {}),
    ...(where ? { where } : {}),
    groupBy,
    ...(having ? { having } : {}),
    orderBy,
    ...(limit ? { limit } : {}),
    ...(offset ? { offset } : {}),
    span: p.spanFrom(first),
  };
}

/** An optional `AS alias` or bare alias (any non-reserved word). */
export function parseAlias(p: Parser): string | undefined {
  if (p.accept("AS")) return p.name("an alias");
  const t = p.peek();
  if (t.kind === "ident" && (t.quoted || !RESERVED.has(t.upper))) {
    p.next();
    return t.value;
  }
  return undefined;
}

/** `expr [AS alias]`, `*`, `t.*`, comma-separated (also used by RETURNING). */
export function parseSelectItems(p: Parser): SelectItem[] {
  const items: SelectItem[] = [];
  do {
    const expr = parseExpr(p);
    const alias = expr.kind === "star" ? undefined : parseAlias(p);
    items.push(alias === undefined ? { expr } : { expr, alias });
  } while (p.acceptOp(","));
  return items;
}

function parseOrderItems(p: Parser): OrderItem[] {
  const items: OrderItem[] = [];
  do {
    const expr = parseExpr(p);
    const desc = p.accept("DESC");
    if (!desc) p.accept("ASC");
    let nulls: "FIRST" | "LAST" | undefined;
    if (p.accept("NULLS")) {
      if (p.accept("FIRST")) nulls = "FIRST";
      else if (p.accept("LAST")) nulls = "LAST";
      else p.failExpected("FIRST or LAST");
    }
    items.push(nulls ? { expr, desc, nulls } : { expr, desc });
  } while (p.acceptOp(","));
  return items;
}

/** A FROM clause: one item followed by any joins, left-associative. */
function parseFrom(p: Parser): FromItem {
  const first = p.peek();
  let left = parseFromPrimary(p);
  while (true) {
    let joinType: "INNER" | "LEFT" | "CROSS";
    if (p.acceptOp(",")) joinType = "CROSS";
    else if (p.acceptAll("CROSS", "JOIN")) joinType = "CROSS";
    else if (p.acceptAll("INNER", "JOIN") || p.accept("JOIN")) joinType = "INNER";
    else if (p.acceptAll("LEFT", "JOIN") || p.acceptAll("LEFT", "OUTER", "JOIN")) {
      joinType = "LEFT";
    } else if (p.at("RIGHT") || p.at("FULL") || p.at("NATURAL")) {
      return p.fail(`${p.peek().upper} JOIN is not supported`, p.peek(), "UNSUPPORTED");
    } else return left;
    const right = parseFromPrimary(p);
    let on: Expr | undefined;
    if (joinType !== "CROSS") {
      p.expect("ON");
      on = parseExpr(p);
    }
    left = {
      kind: "join",
      joinType,
      left,
      right,
      ...(on ? { on } : {}),
      span: p.spanFrom(first),
    };
  }
}

function parseFromPrimary(p: Parser): FromItem {
  const first = p.peek();
  if (p.atOp("(")) {
    const query = p.nested(() => {
      p.next();
      if (!p.at("SELECT")) p.failExpected("SELECT");
      const query = parseSelect(p);
      p.expectOp(")");
      return query;
    });
    const alias = parseAlias(p);
    if (alias === undefined) p.fail("A subquery in FROM needs an alias: (SELECT …) AS name");
    return { kind: "subquery_ref", query, alias, span: p.spanFrom(first) };
  }
  const table = p.tableName();
  const alias = parseAlias(p);
  return {
    kind: "table_ref",
    table,
    ...(alias !== undefined ? { alias } : {}),
    span: p.spanFrom(first),
  };
}
