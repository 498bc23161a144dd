// Expressions by precedence climbing, loosest first: OR < AND < NOT < comparison (= <> < <= > >=,
// IS NULL, IN, BETWEEN, LIKE) < || < + - < * / % < unary + - < ->> -> < primary (with `::type`).
// Only the words in RESERVED (see _lexer.ts) cannot be bare column names. Design decision: one
// climbing loop (parseBinary) instead of a function per level, so nesting costs few stack frames;
// every rule that recurses for nested input goes through Parser.nested (the depth limit).

import type { BinaryOp, Expr, LiteralExpr, SelectStmt, TypeName } from "../ast.ts";
import { baseTypeOf, MAX_DECIMAL_DIGITS } from "../values.ts";
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
  // skips operator parsing (the result is what parsePrimary would return).
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
  return parseBinary(p, OR);
}

/** PostgreSQL's limit for VARCHAR(n). */
const MAX_TEXT_LENGTH = 10_485_760;

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

// Binding powers, loosest first. Prefix NOT binds between AND and the comparisons, prefix - / +
// between * / % and ->>; `::type` binds tightest (parsePostfix).
const OR = 1;
const AND = 2;
const NOT = 3;
const COMPARISON = 4;
const CONCAT = 5;
const UNARY = 8;
const ARROW = 9;

const INFIX: Readonly<Record<string, number>> = {
  "=": COMPARISON,
  "<>": COMPARISON,
  "<": COMPARISON,
  "<=": COMPARISON,
  ">": COMPARISON,
  ">=": COMPARISON,
  "||": CONCAT,
  "+": 6,
  "-": 6,
  "*": 7,
  "/": 7,
  "%": 7,
  "->>": ARROW,
  "->": ARROW,
};
const NEGATABLE: ReadonlySet<string> = new Set(["IN", "BETWEEN", "LIKE", "ILIKE"]);

/** The binding power of the infix operator at the cursor, 0 when there is none. */
function infixPower(p: Parser, t: Token): number {
  if (t.kind === "op") return INFIX[t.value] ?? 0;
  if (t.kind !== "ident" || t.quoted) return 0;
  switch (t.upper) {
    case "OR":
      return OR;
    case "AND":
      return AND;
    case "IS":
    case "IN":
    case "BETWEEN":
    case "LIKE":
    case "ILIKE":
      return COMPARISON;
    case "NOT": {
      const next = p.raw(1);
      return next.kind === "ident" && !next.quoted && NEGATABLE.has(next.upper) ? COMPARISON : 0;
    }
    default:
      return 0;
  }
}

/**
 * Precedence climbing: an operand, then every infix operator that binds at least `min`, each
 * right operand parsed one power tighter (left-associative). Operator chains and prefix chains
 * are loops, so the recursion for `((…))` is a handful of frames per parenthesis and long chains
 * cost none; the tree depth they build is bounded by the parser's depth check.
 */
function parseBinary(p: Parser, min: number): Expr {
  const first = p.peek();
  let left: Expr;
  let ceiling = ARROW;
  if (min <= NOT && p.at("NOT")) {
    left = parseNot(p);
    ceiling = AND; // what follows NOT's operand can only be AND / OR
  } else if (min <= UNARY && first.kind === "op" && (first.value === "-" || first.value === "+")) {
    left = parseSigned(p);
  } else left = parsePostfix(p);
  while (true) {
    const t = p.peek();
    const power = infixPower(p, t);
    if (power === 0 || power < min || power > ceiling) return left;
    if (power === COMPARISON && t.kind === "ident") {
      left = comparisonTail(p, first, left);
      continue;
    }
    p.next();
    const op = (t.kind === "op" ? t.value : t.upper) as BinaryOp;
    left = binary(p, first, op, left, parseBinary(p, power + 1));
  }
}

/** `NOT … NOT x` (a loop): x binds at the comparisons; `NOT EXISTS (…)` is one node. */
function parseNot(p: Parser): Expr {
  const nots: Token[] = [];
  while (p.at("NOT") && !p.at("EXISTS", 1)) nots.push(p.next());
  let expr: Expr;
  const first = p.peek();
  if (p.at("NOT") && p.at("EXISTS", 1)) {
    p.next();
    p.next();
    expr = { kind: "exists", query: parenSelect(p), negated: true, span: p.spanFrom(first) };
  } else expr = parseBinary(p, COMPARISON);
  for (let i = nots.length - 1; i >= 0; i--) {
    expr = { kind: "unary", op: "NOT", operand: expr, span: p.spanFrom(nots[i]) };
  }
  return expr;
}

/** Prefix `-` / `+` chains (a loop): the operand binds at `->>`. */
function parseSigned(p: Parser): Expr {
  const signs: Token[] = [];
  for (let t = p.peek(); t.kind === "op" && (t.value === "-" || t.value === "+"); t = p.peek()) {
    signs.push(p.next());
  }
  let expr = parseBinary(p, ARROW);
  for (let i = signs.length - 1; i >= 0; i--) {
    const op = signs[i].value as "-" | "+";
    expr = { kind: "unary", op, operand: expr, span: p.spanFrom(signs[i]) };
  }
  return expr;
}

/** One keyword comparison after `left`: IS [NOT] NULL, [NOT] IN / BETWEEN / LIKE / ILIKE. */
function comparisonTail(p: Parser, first: Token, left: Expr): Expr {
  if (p.accept("IS")) {
    const negated = p.accept("NOT");
    p.expect("NULL");
    return { kind: "is_null", operand: left, negated, span: p.spanFrom(first) };
  }
  const negated = p.accept("NOT");
  const word = p.next().upper;
  if (word === "IN") {
    return p.nested(() => {
      p.expectOp("(");
      if (p.at("SELECT")) {
        const query = parseSelect(p);
        p.expectOp(")");
        return { kind: "in_subquery", operand: left, query, negated, span: p.spanFrom(first) };
      }
      const list = parseExprList(p);
      p.expectOp(")");
      return { kind: "in_list", operand: left, list, negated, span: p.spanFrom(first) };
    });
  }
  if (word === "BETWEEN") {
    const low = parseBinary(p, CONCAT);
    p.expect("AND");
    const high = parseBinary(p, CONCAT);
    return { kind: "between", operand: left, low, high, negated, span: p.spanFrom(first) };
  }
  const pattern = parseBinary(p, CONCAT);
  const escape = p.accept("ESCAPE") ? parseBinary(p, CONCAT) : undefined;
  return {
    kind: "like",
    operand: left,
    pattern,
    ...(escape ? { escape } : {}),
    caseInsensitive: word === "ILIKE",
    negated,
    span: p.spanFrom(first),
  };
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
  return p.nested(() => {
    p.expectOp("(");
    if (!p.at("SELECT")) p.failExpected("SELECT");
    const query = parseSelect(p);
    p.expectOp(")");
    return query;
  });
}

/** A number token's literal: ints exact (number or bigint), decimals with their text. */
export function numberValue(digits: string): Pick<LiteralExpr, "value" | "numeric" | "text"> {
  if (/^\d+$/.test(digits)) {
    const n = Number(digits);
    return { value: Number.isSafeInteger(n) ? n : BigInt(digits), numeric: "int" };
  }
  return { value: Number(digits), numeric: "decimal", text: digits };
}

function numberLiteral(p: Parser, t: Token): LiteralExpr {
  return { kind: "literal", ...numberValue(t.value), span: p.spanFrom(t) };
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
        p.enter();
        try {
          p.next();
          if (p.at("SELECT")) {
            const query = parseSelect(p);
            p.expectOp(")");
            return { kind: "subquery", query, span: p.spanFrom(t) };
          }
          const inner = parseExpr(p);
          p.expectOp(")");
          return inner;
        } finally {
          p.leave();
        }
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
      return p.nested(() => parseCase(p, t));
    case "CAST":
      return p.nested((): Expr => {
        p.next();
        p.expectOp("(");
        const operand = parseExpr(p);
        p.expect("AS");
        const { type } = parseTypeName(p);
        p.expectOp(")");
        return { kind: "cast", operand, type, span: p.spanFrom(t) };
      });
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

/** `NAME(args)`, `COUNT(*)`, `COUNT(DISTINCT x)`: one nesting level. */
function parseCall(p: Parser, t: Token): Expr {
  p.enter();
  try {
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
  } finally {
    p.leave();
  }
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
  if (p.atOp("(")) {
    p.next();
    const pt = p.peek();
    const precision = p.integer("a type length");
    const comma = p.acceptOp(",");
    const st = p.peek();
    const scale = comma ? p.integer("a scale") : undefined;
    p.expectOp(")");
    if (base === "DECIMAL" && (precision < 1 || precision > MAX_DECIMAL_DIGITS)) {
      p.fail(`DECIMAL precision ${precision} must be between 1 and ${MAX_DECIMAL_DIGITS}`, pt);
    }
    if (base === "DECIMAL" && scale !== undefined && scale > precision) {
      p.fail(`DECIMAL scale ${scale} must be between 0 and the precision ${precision}`, st);
    }
    if (base === "TEXT" && (precision < 1 || precision > MAX_TEXT_LENGTH)) {
      p.fail(`${t.upper} length ${precision} must be between 1 and ${MAX_TEXT_LENGTH}`, pt);
    }
    type = scale === undefined ? { base, precision } : { base, precision, scale };
  }
  return { type, autoIncrement: t.upper === "BIGSERIAL" };
}
