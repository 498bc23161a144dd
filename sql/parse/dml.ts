// INSERT … VALUES (multi-row), UPDATE … SET … WHERE, DELETE FROM … WHERE; RETURNING on all three.

import type { DeleteStmt, Expr, InsertStmt, SelectItem, UpdateStmt } from "../ast.ts";
import type { Parser } from "./_parser.ts";
import { parseExpr, parseExprList } from "./expr.ts";
import { parseSelectItems } from "./select.ts";

function parseReturning(p: Parser): { returning?: SelectItem[] } {
  return p.accept("RETURNING") ? { returning: parseSelectItems(p) } : {};
}

/**
 * `INSERT INTO ns.t [(cols)] VALUES (…), (…) [RETURNING …]`.
 *
 * @example
 * parseInsert(p); // INSERT INTO app.t (id, name) VALUES (1, 'a'), (2, 'b') RETURNING id
 */
export function parseInsert(p: Parser): InsertStmt {
  const first = p.expect("INSERT");
  p.expect("INTO");
  const table = p.tableName();
  const columns: string[] = [];
  if (p.acceptOp("(")) {
    do columns.push(p.name("a column name")); while (p.acceptOp(","));
    p.expectOp(")");
  }
  p.expect("VALUES");
  const rows: Expr[][] = [];
  do {
    const rowStart = p.peek();
    p.expectOp("(");
    const row = parseExprList(p);
    p.expectOp(")");
    if (columns.length > 0 && row.length !== columns.length) {
      p.fail(
        `VALUES row has ${row.length} value(s) but ${columns.length} column(s) are listed`,
        rowStart,
      );
    }
    rows.push(row);
  } while (p.acceptOp(","));
  const returning = parseReturning(p);
  return { kind: "insert", table, columns, rows, ...returning, span: p.spanFrom(first) };
}

/** `UPDATE ns.t SET c = expr, … [WHERE …] [RETURNING …]`. */
export function parseUpdate(p: Parser): UpdateStmt {
  const first = p.expect("UPDATE");
  const table = p.tableName();
  p.expect("SET");
  const set: { column: string; value: Expr }[] = [];
  do {
    const column = p.name("a column name");
    p.expectOp("=");
    set.push({ column, value: parseExpr(p) });
  } while (p.acceptOp(","));
  const where = p.accept("WHERE") ? parseExpr(p) : undefined;
  const returning = parseReturning(p);
  return {
    kind: "update",
    table,
    set,
    ...(where ? { where } : {}),
    ...returning,
    span: p.spanFrom(first),
  };
}

/** `DELETE FROM ns.t [WHERE …] [RETURNING …]`. */
export function parseDelete(p: Parser): DeleteStmt {
  const first = p.expect("DELETE");
  p.expect("FROM");
  const table = p.tableName();
  const where = p.accept("WHERE") ? parseExpr(p) : undefined;
  const returning = parseReturning(p);
  return {
    kind: "delete",
    table,
    ...(where ? { where } : {}),
    ...returning,
    span: p.spanFrom(first),
  };
}
