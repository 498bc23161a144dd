// Expressions by precedence climbing, loosest first: OR < AND < NOT < comparison (= <> < <= > >=,
// IS NULL, IN, BETWEEN, LIKE) < || < + - < * / % < unary + - < ->> -> < primary (with `::type`).
// Only the words in RESERVED (see _lexer.ts) cannot be bare column names.

import type { BinaryOp, Expr, LiteralExpr, SelectStmt, TypeName } from "../ast.ts";
import { baseTypeOf } from "../values.ts";
import { RESERVED, type Token } from "../_lexer.ts";
import type { Parser } from "./_parser.ts";
import { parseSelect } from "./select.ts";

/**
 * Parses one expression at the loosest precedence.
 *
 * @example
 * parseExpr(p); // `a + 1 > 2 AND b IS NULL`
 */
export function parseExpr(p: Parser): Expr {
  // Fast path: a lone number or string followed by `,` or `)` — the bulk of a multi-row VALUES —
  // skips the ten precedence levels (the result is what parsePrimary would return).
  const t = p.raw();
  if (t.kind === "number" || t.kind === "string") {
    const after = p.raw(1);
    if (after.kind === "op" && (after.value === "," || after.value === ")")) {
      p.next();
      return t.kind === "number"
        ? numberLiteral(p, t)
        : { kind: "literal", value: t.value, span: p.spanFrom(t) };
    }
  } else if (t.kind === "ident" && !t.quoted && WORD_LITERALS.has(t.upper)) {
    const after = p.raw(1);
    if (after.kind === "op" && (after.value === "," || after.value === ")")) return parseWord(p, t);
  }
  return parseOr(p);
}

const WORD_LITERALS: ReadonlySet<string> = new Set(["TRUE", "FALSE", "NULL"]);

/** A comma-separated list of expressions (at least one). */
export function parseExprList(p: Parser): Expr[] {
  const list = [parseExpr(p)];
  while (p.acceptOp(",")) list.push(parseExpr(p));
  return list;
}

function binary(p: Parser, first: Token, op: BinaryOp, left: Expr, right: Expr): Expr {
  return { kind: "binary", op, left, right, span: p.spanFrom(first) };
}

function parseOr(p: Parser): Expr {
  const first = p.peek();
  let left = parseAnd(p);
  while (p.accept("OR")) left = binary(p, first, "OR", left, parseAnd(p));
  return left;
}

function parseAnd(p: Parser): Expr {
  const first = p.peek();
  let left = parseNot(p);
  while (p.accept("AND")) left = binary(p, first, "AND", left, parseNot(p));
  return left;
}

function parseNot(p: Parser): Expr {
  const first = p.peek();
  if (p.at("NOT") && p.at("EXISTS", 1)) {
    p.next();
    p.next();
    return { kind: "exists", query: parenSelect(p), negated: true, span: p.spanFrom(first) };
  }
  if (p.accept("NOT")) {
    return { kind: "unary", op: "NOT", operand: parseNot(p), span: p.spanFrom(first) };
  }
  return parseComparison(p);
}

const COMPARISONS: ReadonlySet<string> = new Set(["=", "<>", "<", "<=", ">", ">="]);
const NEGATABLE: ReadonlySet<string> = new Set(["IN", "BETWEEN", "LIKE", "ILIKE"]);

function parseComparison(p: Parser): Expr {
  const first = p.peek();
  let left = parseConcat(p);
  while (true) {
    const t = p.peek();
    if (t.kind === "op" && COMPARISONS.has(t.value)) {
      p.next();
      left = binary(p, first, t.value as BinaryOp, left, parseConcat(p));
      continue;
    }
    if (p.accept("IS")) {
      const negated = p.accept("NOT");
      p.expect("NULL");
      left = { kind: "is_null", operand: left, negated, span: p.spanFrom(first) };
      continue;
    }
    const neg = p.at("NOT") && NEGATABLE.has(p.raw(1).upper) && !p.raw(1).quoted;
    if (!neg && !(t.kind === "ident" && !t.quoted && NEGATABLE.has(t.upper))) return left;
    if (neg) p.next();
    const negated = neg;
    const word = p.next().upper;
    if (word === "IN") {
      p.expectOp("(");
      if (p.at("SELECT")) {
        const query = parseSelect(p);
        p.expectOp(")");
        left = { kind: "in_subquery", operand: left, query, negated, span: p.spanFrom(first) };
      } else {
        const list = parseExprList(p);
        p.expectOp(")");
        left = { kind: "in_list", operand: left, list, negated, span: p.spanFrom(first) };
      }
    } else if (word === "BETWEEN") {
      const low = parseConcat(p);
      p.expect("AND");
      const high = parseConcat(p);
      left = { kind: "between", operand: left, low, high, negated, span: p.spanFrom(first) };
    } else {
      const pattern = parseConcat(p);
      const escape = p.accept("ESCAPE") ? parseConcat(p) : undefined;
      const caseInsensitive = word === "ILIKE";
      left = {
        kind: "like",
        operand: left,
        pattern,
        ...(escape ? { escape } : {}),
        caseInsensitive,
        negated,
        span: p.spanFrom(first),
      };
    }
  }
}

/** Left-associative binary level over `ops` with `next` as the tighter level. */
function level(p: Parser, ops: readonly string[], next: (p: Parser) => Expr): Expr {
  const first = p.peek();
  let left = next(p);
  while (true) {
    const t = p.peek();
    if (t.kind !== "op" || !ops.includes(t.value)) return left;
    p.next();
    left = binary(p, first, t.value as BinaryOp, left, next(p));
  }
}

function parseConcat(p: Parser): Expr {
  return level(p, ["||"], parseAdditive);
}

function parseAdditive(p: Parser): Expr {
  return level(p, ["+", "-"], parseMultiplicative);
}

function parseMultiplicative(p: Parser): Expr {
  return level(p, ["*", "/", "%"], parseUnary);
}

function parseUnary(p: Parser): Expr {
  const first = p.peek();
  if (first.kind === "op" && (first.value === "-" || first.value === "+")) {
    p.next();
    const operand = parseUnary(p);
    return { kind: "unary", op: first.value, operand, span: p.spanFrom(first) };
  }
  return level(p, ["->>", "->"], parsePostfix);
}

/** A primary followed by any number of `::type` casts. */
function parsePostfix(p: Parser): Expr {
  const first = p.peek();
  let expr = parsePrimary(p);
  while (p.acceptOp("::")) {
    expr = { kind: "cast", operand: expr, type: parseTypeName(p).type, span: p.spanFrom(first) };
  }
  return expr;
}

/** `(SELECT …)` — the parentheses included. */
function parenSelect(p: Parser): SelectStmt {
  p.expectOp("(");
  if (!p.at("SELECT")) p.failExpected("SELECT");
  const query = parseSelect(p);
  p.expectOp(")");
  return query;
}

/** A number token as a literal: ints exact (number or bigint), decimals with their text. */
function numberLiteral(p: Parser, t: Token): LiteralExpr {
  if (/^\d+$/.test(t.value)) {
    const n = Number(t.value);
    const value = Number.isSafeInteger(n) ? n : BigInt(t.value);
    return { kind: "literal", value, numeric: "int", span: p.spanFrom(t) };
  }
  return {
    kind: "literal",
    value: Number(t.value),
    numeric: "decimal",
    text: t.value,
    span: p.spanFrom(t),
  };
}

function parsePrimary(p: Parser): Expr {
  const t = p.peek();
  switch (t.kind) {
    case "number":
      p.next();
      return numberLiteral(p, t);
    case "string":
      p.next();
      return { kind: "literal", value: t.value, span: p.spanFrom(t) };
    case "param": {
      p.next();
      const index = Number(t.value);
      if (!Number.isSafeInteger(index) || index < 1) p.fail(`Invalid parameter $${t.value}`, t);
      return { kind: "param", index, span: p.spanFrom(t) };
    }
    case "op":
      if (t.value === "(") {
        p.next();
        if (p.at("SELECT")) {
          const query = parseSelect(p);
          p.expectOp(")");
          return { kind: "subquery", query, span: p.spanFrom(t) };
        }
        const inner = parseExpr(p);
        p.expectOp(")");
        return inner;
      }
      if (t.value === "*") {
        p.next();
        return { kind: "star", span: p.spanFrom(t) };
      }
      break;
    case "ident":
      return t.quoted ? parseName(p, t) : parseWord(p, t);
    default:
      break;
  }
  return p.failExpected("an expression");
}

/** Keyword-led primaries, function calls, and bare column names. */
function parseWord(p: Parser, t: Token): Expr {
  switch (t.upper) {
    case "NULL":
    case "TRUE":
    case "FALSE":
      p.next();
      return {
        kind: "literal",
        value: t.upper === "NULL" ? null : t.upper === "TRUE",
        span: p.spanFrom(t),
      };
    case "CASE":
      return parseCase(p, t);
    case "CAST": {
      p.next();
      p.expectOp("(");
      const operand = parseExpr(p);
      p.expect("AS");
      const { type } = parseTypeName(p);
      p.expectOp(")");
      return { kind: "cast", operand, type, span: p.spanFrom(t) };
    }
    case "EXISTS":
      p.next();
      return { kind: "exists", query: parenSelect(p), negated: false, span: p.spanFrom(t) };
    case "CURRENT_TIMESTAMP":
    case "CURRENT_USER":
      p.next();
      if (p.acceptOp("(")) p.expectOp(")");
      return { kind: "func", name: t.upper, args: [], distinct: false, span: p.spanFrom(t) };
  }
  if (p.atOp("(", 1) && (!RESERVED.has(t.upper) || t.upper === "LEFT" || t.upper === "RIGHT")) {
    return parseCall(p, t);
  }
  if (RESERVED.has(t.upper)) p.failExpected("an expression");
  return parseName(p, t);
}

/** `col`, `t.col` or `t.*`. */
function parseName(p: Parser, t: Token): Expr {
  if (t.quoted && p.atOp("(", 1)) return parseCall(p, t);
  p.next();
  if (!p.acceptOp(".")) return { kind: "column", name: t.value, span: p.spanFrom(t) };
  if (p.acceptOp("*")) return { kind: "star", table: t.value, span: p.spanFrom(t) };
  const name = p.name("a column name");
  if (p.atOp(".")) {
    p.fail("A column reference takes one qualifier: write alias.column (give the table an alias)");
  }
  return { kind: "column", table: t.value, name, span: p.spanFrom(t) };
}

/** `NAME(args)`, `COUNT(*)`, `COUNT(DISTINCT x)`. */
function parseCall(p: Parser, t: Token): Expr {
  p.next();
  p.expectOp("(");
  const name = t.quoted ? t.value.toUpperCase() : t.upper;
  const distinct = p.accept("DISTINCT");
  let args: Expr[] = [];
  if (!distinct && p.atOp("*") && p.atOp(")", 1)) {
    const star = p.next();
    args = [{ kind: "star", span: p.spanFrom(star) }];
  } else if (distinct || !p.atOp(")")) {
    args = parseExprList(p);
  }
  p.expectOp(")");
  return { kind: "func", name, args, distinct, span: p.spanFrom(t) };
}

function parseCase(p: Parser, t: Token): Expr {
  p.next();
  const operand = p.at("WHEN") ? undefined : parseExpr(p);
  const whens: { when: Expr; then: Expr }[] = [];
  while (p.accept("WHEN")) {
    const when = parseExpr(p);
    p.expect("THEN");
    whens.push({ when, then: parseExpr(p) });
  }
  if (whens.length === 0) p.failExpected("WHEN");
  const elseExpr = p.accept("ELSE") ? parseExpr(p) : undefined;
  p.expect("END");
  return {
    kind: "case",
    ...(operand ? { operand } : {}),
    whens,
    ...(elseExpr ? { else: elseExpr } : {}),
    span: p.spanFrom(t),
  };
}

/**
 * A type name with optional `(n)` / `(p,s)`, resolved through baseTypeOf. BIGSERIAL reports
 * `autoIncrement`. `DOUBLE PRECISION` is accepted.
 */
export function parseTypeName(p: Parser): { type: TypeName; autoIncrement: boolean } {
  const t = p.peek();
  if (t.kind !== "ident" || t.quoted) p.failExpected("a type name");
  const base = baseTypeOf(t.upper);
  if (!base) {
    p.fail(
      `Unknown type "${t.upper}": use BOOLEAN, SMALLINT, INT, BIGINT, REAL, DOUBLE, DECIMAL(p,s), ` +
        "TEXT, VARCHAR(n), BYTES, JSON, UUID, DATE or TIMESTAMP",
      t,
    );
  }
  p.next();
  if (base === "DOUBLE") p.accept("PRECISION");
  let type: TypeName = { base };
  if (p.acceptOp("(")) {
    const precision = p.integer("a type length");
    const scale = p.acceptOp(",") ? p.integer("a scale") : undefined;
    p.expectOp(")");
    type = scale === undefined ? { base, precision } : { base, precision, scale };
  }
  return { type, autoIncrement: t.upper === "BIGSERIAL" };
}
