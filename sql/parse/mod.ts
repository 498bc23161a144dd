// The SQL front end: batch text → statements (with their exact source text) and diagnostics.
// Line/column in diagnostics and spans are absolute in the batch (1-based); span offsets index
// the batch text. After an error the parser skips to the next `;`, so every statement of a batch
// gets its diagnostics; parseBatch throws the first one.

import { DbError, type ErrorCode } from "../../errors.ts";
import type { Expr, ParsedStatement, Span } from "../ast.ts";
import { type Token, tokenize } from "../_lexer.ts";
import { describeToken, ParseError, Parser, TOO_DEEP } from "./_parser.ts";
import { tooDeep } from "./_depth.ts";
import { parseStatement } from "./_statement.ts";
import { parseExpr } from "./expr.ts";

export { printExpr, printStatement, printString } from "../print.ts";
export { bindShape, type Shape, shapeOf, type Template, templateOf } from "./shape.ts";

/** One problem found while parsing, positioned in the batch text. */
export interface Diagnostic {
  code: ErrorCode;
  message: string;
  line: number;
  column: number;
  /** 1-based index of the statement within the batch. */
  statement: number;
}

/**
 * Parses a batch of `;`-separated statements, collecting a diagnostic per bad statement.
 *
 * @example
 * const { statements, diagnostics } = parseSql("SELECT 1; SELECT * FROM app.t");
 */
export function parseSql(
  text: string,
): { statements: ParsedStatement[]; diagnostics: Diagnostic[] } {
  const p = new Parser(text, tokenize(text));
  const statements: ParsedStatement[] = [];
  const diagnostics: Diagnostic[] = [];
  let index = 0;
  while (true) {
    while (p.raw().kind === "op" && p.raw().value === ";") p.skip();
    const first = p.raw();
    if (first.kind === "eof") break;
    index++;
    try {
      const statement = parseStatement(p);
      const t = p.peek();
      if (t.kind !== "eof" && !(t.kind === "op" && t.value === ";")) {
        p.fail(`Unexpected ${describeToken(t)} after the end of the statement (missing ";"?)`, t);
      }
      const deep = tooDeep(statement);
      if (deep) throw new ParseError("INVALID_SQL", TOO_DEEP, at(deep.span));
      const span = { start: first.start, end: p.prevEnd, line: first.line, column: first.column };
      statements.push({ statement, text: text.slice(span.start, span.end), span });
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      const { line, column } = err.token;
      diagnostics.push({ code: err.code, message: err.message, line, column, statement: index });
      while (p.raw().kind !== "eof" && !(p.raw().kind === "op" && p.raw().value === ";")) p.skip();
    }
  }
  return { statements, diagnostics };
}

/** A stand-in token at a node's position, for a diagnostic about the node. */
function at(span: Span): Token {
  return { kind: "op", value: "", upper: "", quoted: false, ...span };
}

/**
 * Parses a batch and throws its first diagnostic as a DbError with line, column and statement.
 * A batch with no statement at all (only whitespace or comments) is EMPTY_SQL.
 *
 * @example
 * parseBatch("CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY)").length; // 2
 */
export function parseBatch(text: string): ParsedStatement[] {
  const { statements, diagnostics } = parseSql(text);
  if (diagnostics.length > 0) {
    const d = diagnostics[0];
    throw new DbError(d.code, d.message, {
      line: d.line,
      column: d.column,
      statement: d.statement,
    });
  }
  if (statements.length === 0) throw new DbError("EMPTY_SQL", "No SQL statement to run");
  return statements;
}

/**
 * Parses one expression (e.g. a stored DEFAULT text). Throws DbError INVALID_SQL.
 *
 * @example
 * parseExpression("NOW()"); // { kind: "func", name: "NOW", … }
 */
export function parseExpression(text: string): Expr {
  const p = new Parser(text, tokenize(text));
  try {
    const expr = parseExpr(p);
    const t = p.peek();
    if (t.kind !== "eof") p.fail(`Unexpected ${describeToken(t)} after the expression`, t);
    const deep = tooDeep(expr, 1);
    if (deep) throw new ParseError("INVALID_SQL", TOO_DEEP, at(deep.span));
    return expr;
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    const { line, column } = err.token;
    throw new DbError("INVALID_SQL", err.message, { line, column });
  }
}
