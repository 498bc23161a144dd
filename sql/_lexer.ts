// The SQL scanner: turns a whole batch into tokens over char codes, tracking 1-based line and
// column for every token. It never throws: a malformed piece of input (unterminated string,
// stray character) becomes an `error` token carrying its message, which the parser reports when
// it reaches it — so diagnostics land in the right statement of a batch.

/** What a token is; keywords are plain identifiers, recognised by the parser where they matter. */
export type TokenKind = "ident" | "string" | "number" | "param" | "op" | "error" | "eof";

/** One token with its absolute position in the scanned text. */
export interface Token {
  readonly kind: TokenKind;
  /**
   * ident: the name (lower-cased unless quoted); string: the unescaped text; number: the source
   * digits; param: the digits after `$`; op: the operator; error: the message.
   */
  readonly value: string;
  /** Upper-cased word for unquoted identifiers (keyword tests), "" otherwise. */
  readonly upper: string;
  readonly quoted: boolean;
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
}

/**
 * Words that cannot be used as bare column names or aliases because they would be ambiguous
 * where an expression or table reference may end. Quote them ("from") to use them as names.
 */
export const RESERVED: ReadonlySet<string> = new Set([
  "ALL",
  "AND",
  "AS",
  "ASC",
  "BETWEEN",
  "BY",
  "CASE",
  "CAST",
  "CROSS",
  "CURRENT_TIMESTAMP",
  "CURRENT_USER",
  "DESC",
  "DISTINCT",
  "ELSE",
  "END",
  "EXISTS",
  "FALSE",
  "FROM",
  "FULL",
  "GROUP",
  "HAVING",
  "ILIKE",
  "IN",
  "INNER",
  "INTO",
  "IS",
  "JOIN",
  "LEFT",
  "LIKE",
  "LIMIT",
  "NOT",
  "NULL",
  "OFFSET",
  "ON",
  "OR",
  "ORDER",
  "OUTER",
  "RETURNING",
  "RIGHT",
  "SELECT",
  "THEN",
  "TRUE",
  "UNION",
  "USING",
  "VALUES",
  "WHEN",
  "WHERE",
]); // deno-fmt-ignore

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const BANG = 33; // !
const DQUOTE = 34; // "
const DOLLAR = 36; // $
const PERCENT = 37; // %
const QUOTE = 39; // '
const LPAREN = 40;
const RPAREN = 41;
const STAR = 42;
const PLUS = 43;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const SLASH = 47;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const COLON = 58;
const SEMICOLON = 59;
const LT = 60;
const EQ = 61;
const GT = 62;
const UPPER_A = 65;
const UPPER_E = 69;
const UPPER_Z = 90;
const UNDERSCORE = 95;
const LOWER_A = 97;
const LOWER_E = 101;
const LOWER_Z = 122;
const PIPE = 124;
const FIRST_NON_ASCII = 128;

function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

function isIdentStart(c: number): boolean {
  return (c >= LOWER_A && c <= LOWER_Z) || (c >= UPPER_A && c <= UPPER_Z) || c === UNDERSCORE ||
    c >= FIRST_NON_ASCII;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === DOLLAR;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR || c === 11 || c === 12;
}

/** Single-character operators and punctuation. */
const SINGLE_OPS = new Map<number, string>([
  [LPAREN, "("],
  [RPAREN, ")"],
  [COMMA, ","],
  [DOT, "."],
  [SEMICOLON, ";"],
  [COLON, ":"],
  [PLUS, "+"],
  [MINUS, "-"],
  [STAR, "*"],
  [SLASH, "/"],
  [PERCENT, "%"],
  [EQ, "="],
  [LT, "<"],
  [GT, ">"],
]);

/** Multi-character operators, longest first. */
const MULTI_OPS = ["->>", "->", "<>", "!=", "<=", ">=", "||", "::"];
/** First characters of MULTI_OPS. */
const MULTI_FIRST: ReadonlySet<number> = new Set(MULTI_OPS.map((op) => op.charCodeAt(0)));

/** The scanner's state, shared by the per-token scanners below (one object per tokenize call). */
interface Scan {
  readonly text: string;
  readonly tokens: Token[];
  /** The next character to read, the line it is on and that line's first offset. */
  pos: number;
  line: number;
  lineStart: number;
  /** The current token's start, line and column (set before each token is scanned). */
  start: number;
  tokLine: number;
  column: number;
}

/**
 * Scans `text` into tokens; the last token is always `eof`. Comments and whitespace are skipped.
 *
 * @example
 * tokenize("SELECT 1").map((t) => t.kind); // ["ident", "number", "eof"]
 */
export function tokenize(text: string): Token[] {
  const s: Scan = {
    text,
    tokens: [],
    pos: 0,
    line: 1,
    lineStart: 0,
    start: 0,
    tokLine: 1,
    column: 1,
  };
  const n = text.length;
  while (true) {
    skipTrivia(s);
    const pos = s.pos;
    s.start = pos;
    s.tokLine = s.line;
    s.column = pos - s.lineStart + 1;
    if (pos >= n) {
      push(s, "eof", "");
      return s.tokens;
    }
    const c = text.charCodeAt(pos);
    const c1 = text.charCodeAt(pos + 1);
    if (c === SLASH && c1 === STAR) {
      s.pos = n;
      advanceLines(s, pos, n);
      push(s, "error", "Unterminated block comment");
    } else if (isIdentStart(c)) {
      s.pos = identEnd(text, pos);
      const word = text.slice(pos, s.pos);
      push(s, "ident", word.toLowerCase(), false, word.toUpperCase());
    } else if (c === DQUOTE || c === QUOTE) {
      const value = scanQuoted(s, c);
      const what = c === QUOTE ? "string literal" : "quoted identifier";
      if (value === undefined) push(s, "error", `Unterminated ${what}`);
      else if (c === DQUOTE && value === "") push(s, "error", "Empty quoted identifier");
      else push(s, c === QUOTE ? "string" : "ident", value, c === DQUOTE);
    } else if (isDigit(c) || (c === DOT && isDigit(c1))) {
      s.pos = numberEnd(text, pos);
      push(s, "number", text.slice(pos, s.pos));
    } else if (c === DOLLAR && isDigit(c1)) {
      s.pos = digitsEnd(text, pos + 1);
      push(s, "param", text.slice(pos + 1, s.pos));
    } else scanOperator(s, c);
  }
}

/** Appends the current token, which ends at `s.pos`. */
function push(s: Scan, kind: TokenKind, value: string, quoted = false, upper = ""): void {
  s.tokens.push({
    kind,
    value,
    upper,
    quoted,
    start: s.start,
    end: s.pos,
    line: s.tokLine,
    column: s.column,
  });
}

/** Counts the line breaks in `text[from, to)` into the line counters. */
function advanceLines(s: Scan, from: number, to: number): void {
  const text = s.text;
  for (let i = from; i < to; i++) {
    if (text.charCodeAt(i) === LF) {
      s.line++;
      s.lineStart = i + 1;
    }
  }
}

/** Skips whitespace and comments; stops at an unterminated block comment (an error token). */
function skipTrivia(s: Scan): void {
  const text = s.text;
  const n = text.length;
  let pos = s.pos;
  while (pos < n) {
    const c = text.charCodeAt(pos);
    if (isSpace(c)) {
      if (c === LF) {
        s.line++;
        s.lineStart = pos + 1;
      }
      pos++;
    } else if (c === MINUS && text.charCodeAt(pos + 1) === MINUS) {
      while (pos < n && text.charCodeAt(pos) !== LF) pos++;
    } else if (c === SLASH && text.charCodeAt(pos + 1) === STAR) {
      const close = text.indexOf("*/", pos + 2);
      if (close < 0) break; // reported by tokenize as an error token
      advanceLines(s, pos, close + 2);
      pos = close + 2;
    } else break;
  }
  s.pos = pos;
}

/** The end of the identifier starting at `pos`. */
function identEnd(text: string, pos: number): number {
  const n = text.length;
  while (pos < n && isIdentPart(text.charCodeAt(pos))) pos++;
  return pos;
}

/** The end of the run of digits starting at `pos` (`pos` itself when there is none). */
function digitsEnd(text: string, pos: number): number {
  const n = text.length;
  while (pos < n && isDigit(text.charCodeAt(pos))) pos++;
  return pos;
}

/** The end of the number at `pos`: digits, an optional fraction and an optional exponent. */
function numberEnd(text: string, pos: number): number {
  pos = digitsEnd(text, pos);
  if (text.charCodeAt(pos) === DOT) pos = digitsEnd(text, pos + 1);
  const e = text.charCodeAt(pos);
  if (e === LOWER_E || e === UPPER_E) {
    let p = pos + 1;
    const sign = text.charCodeAt(p);
    if (sign === PLUS || sign === MINUS) p++;
    if (isDigit(text.charCodeAt(p))) pos = digitsEnd(text, p);
  }
  return pos;
}

/**
 * Scans '…' or "…" at `s.pos` with doubled-quote escapes, counting line breaks inside; returns
 * the unescaped text, or undefined when the input ends before the closing quote.
 */
function scanQuoted(s: Scan, quote: number): string | undefined {
  const text = s.text;
  const n = text.length;
  let value = "";
  let pos = s.pos + 1;
  let chunk = pos;
  while (pos < n) {
    const c = text.charCodeAt(pos);
    if (c === quote) {
      value += text.slice(chunk, pos);
      if (text.charCodeAt(pos + 1) === quote) {
        value += text[pos];
        pos += 2;
        chunk = pos;
        continue;
      }
      s.pos = pos + 1;
      return value;
    }
    if (c === LF) {
      s.line++;
      s.lineStart = pos + 1;
    }
    pos++;
  }
  s.pos = pos;
  return undefined;
}

/** Scans an operator or punctuation at `s.pos`, or an error token for a stray character. */
function scanOperator(s: Scan, c: number): void {
  const text = s.text;
  const pos = s.pos;
  const multi = MULTI_FIRST.has(c) ? MULTI_OPS.find((op) => text.startsWith(op, pos)) : undefined;
  if (multi) {
    s.pos = pos + multi.length;
    push(s, "op", multi === "!=" ? "<>" : multi);
  } else if (SINGLE_OPS.has(c)) {
    s.pos = pos + 1;
    push(s, "op", SINGLE_OPS.get(c)!);
  } else {
    const ch = String.fromCodePoint(text.codePointAt(pos)!);
    s.pos = pos + ch.length;
    const shown = c === BANG || c === COLON || c === PIPE ? ch : JSON.stringify(ch).slice(1, -1);
    push(s, "error", `Unexpected character '${shown}'`);
  }
}
