// The depth check on finished syntax trees. The parser's nesting counter (Parser.nested) bounds
// its own recursion, but operator chains are parsed by loops and still build deep trees: a
// 5,000-term `1+1+…` is a left-deep tree 5,000 levels down. This walk measures every statement
// and stored expression with an explicit stack (it cannot overflow itself) and finds the first
// node deeper than MAX_EXPRESSION_DEPTH, so nothing downstream ever recurses further than that.

import { assertNever } from "../../errors.ts";
import { type Expr, type FromItem, MAX_EXPRESSION_DEPTH, type Statement } from "../ast.ts";

type Node = Statement | Expr | FromItem;

/**
 * The first node of `root`'s tree that lies deeper than MAX_EXPRESSION_DEPTH, or undefined. A
 * statement is level 0, so its top expressions are level 1 (`depth` = the level of `root`).
 *
 * @example
 * tooDeep(parseExpression("1+1"), 1); // undefined
 */
export function tooDeep(root: Node, depth = 0): Node | undefined {
  const nodes: Node[] = [root];
  const depths: number[] = [depth];
  let level = 0;
  let found: Node | undefined;
  const push = (n: Node | undefined): void => {
    if (n === undefined || found) return;
    if (level + 1 > MAX_EXPRESSION_DEPTH) found = n;
    else if (!isLeaf(n)) {
      nodes.push(n);
      depths.push(level + 1);
    }
  };
  while (nodes.length > 0 && !found) {
    const node = nodes.pop()!;
    level = depths.pop()!;
    if (level > MAX_EXPRESSION_DEPTH) return node;
    children(node, push);
  }
  return found;
}

function isLeaf(n: Node): boolean {
  return n.kind === "literal" || n.kind === "column" || n.kind === "param" || n.kind === "star" ||
    n.kind === "table_ref";
}

/** Calls `visit` on each direct child of `n`. Exhaustive: a new node kind fails to compile. */
function children(n: Node, visit: (child: Node | undefined) => void): void {
  switch (n.kind) {
    // expressions
    case "literal":
    case "param":
    case "column":
    case "star":
      return;
    case "unary":
    case "is_null":
    case "cast":
      return visit(n.operand);
    case "binary":
      visit(n.left);
      return visit(n.right);
    case "in_list":
      visit(n.operand);
      return n.list.forEach(visit);
    case "in_subquery":
      visit(n.operand);
      return visit(n.query);
    case "between":
      visit(n.operand);
      visit(n.low);
      return visit(n.high);
    case "like":
      visit(n.operand);
      visit(n.pattern);
      return visit(n.escape);
    case "func":
      return n.args.forEach(visit);
    case "case":
      visit(n.operand);
      for (const w of n.whens) {
        visit(w.when);
        visit(w.then);
      }
      return visit(n.else);
    case "subquery":
    case "exists":
      return visit(n.query);
    // FROM items
    case "table_ref":
      return;
    case "subquery_ref":
      return visit(n.query);
    case "join":
      visit(n.left);
      visit(n.right);
      return visit(n.on);
    // statements
    case "select":
      for (const item of n.items) visit(item.expr);
      visit(n.from);
      visit(n.where);
      n.groupBy.forEach(visit);
      visit(n.having);
      for (const o of n.orderBy) visit(o.expr);
      visit(n.limit);
      return visit(n.offset);
    case "insert":
      for (const row of n.rows) row.forEach(visit);
      for (const item of n.returning ?? []) visit(item.expr);
      return;
    case "update":
      for (const s of n.set) visit(s.value);
      visit(n.where);
      for (const item of n.returning ?? []) visit(item.expr);
      return;
    case "delete":
      visit(n.where);
      for (const item of n.returning ?? []) visit(item.expr);
      return;
    case "create_table":
      for (const c of n.columns) visit(c.default);
      return;
    case "alter_table":
      if (n.change.action === "add_column") visit(n.change.column.default);
      return;
    case "execute_as":
      return visit(n.statement);
    case "subscribe":
      return visit(n.query);
    case "create_namespace":
    case "drop_namespace":
    case "drop_table":
    case "create_storage":
    case "alter_storage":
    case "drop_storage":
    case "create_user":
    case "alter_user":
    case "drop_user":
    case "show":
    case "describe":
    case "flush":
    case "compact":
    case "kill":
    case "export_user_data":
      return;
    default:
      return assertNever(n, "syntax node");
  }
}
