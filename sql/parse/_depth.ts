// The depth check on finished syntax trees. The parser's nesting counter (Parser.nested) bounds
// its own recursion, but operator chains are parsed by loops and still build deep trees: a
// 5,000-term `1+1+…` is a left-deep tree 5,000 levels down. This walk measures every statement
// and stored expression with an explicit stack (it cannot overflow itself) and finds the first
// node deeper than MAX_EXPRESSION_DEPTH, so nothing downstream ever recurses further than that.

import { forEachChild, MAX_EXPRESSION_DEPTH, type SyntaxNode as Node } from "../ast.ts";

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
    forEachChild(node, push);
  }
  return found;
}

function isLeaf(n: Node): boolean {
  return n.kind === "literal" || n.kind === "column" || n.kind === "param" || n.kind === "star" ||
    n.kind === "table_ref";
}
