// The parser's token cursor shared by every grammar file (expr, select, dml, ddl, admin). Grammar
// functions take the cursor as their first argument. A problem inside a statement throws a
// ParseError, which the batch loop in mod.ts turns into a diagnostic before skipping to the next
// `;` — so one bad statement never hides the diagnostics of the ones after it.

import type { ErrorCode } from "../../errors.ts";
import { MAX_EXPRESSION_DEPTH, type Span, type TableName } from "../ast.ts";
import type { Token } from "../_lexer.ts";

/** Thrown inside a statement; carries the offending token for the diagnostic's position. */
export class ParseError extends Error {
  readonly code: ErrorCode;
  readonly token: Token;

  constructor(code: ErrorCode, message: string, token: Token) {
    super(message);
    this.name = "ParseError";
    this.code = code;
    this.token = token;
  }
}

/**
 * SPEC §2's rule for every name that is created (namespaces, tables, columns, topics), quoted or
 * not. Names become storage path segments, so none may hold "/", "." or "-" (a table's directory
 * is `<name>-<id>`: with no "-" in names that mapping is injective).
 */
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Human description of a token for "found …" messages. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "end of input";
    case "string":
      return `string '${t.value.length > 20 ? t.value.slice(0, 20) + "…" : t.value}'`;
    case "param":
      return `$${t.value}`;
    case "ident":
      return t.quoted ? `"${t.value}"` : `"${t.upper}"`;
    default:
      return `"${t.value}"`;
  }
}

/** The message of every depth-limit diagnostic. */
export const TOO_DEEP = `Expression is nested too deeply (limit ${MAX_EXPRESSION_DEPTH})`;

/** A cursor over the tokens of one batch with keyword/operator helpers. */
export class Parser {
  readonly text: string;
  readonly tokens: readonly Token[];
  #pos = 0;
  #prevEnd = 0;
  /** Open nesting constructs (parentheses, calls, CASE, EXECUTE AS) around the cursor. */
  #depth = 0;

  constructor(text: string, tokens: readonly Token[]) {
    this.text = text;
    this.tokens = tokens;
  }

  /** Current index (for the batch loop). */
  get pos(): number {
    return this.#pos;
  }

  /** End offset of the last consumed token. */
  get prevEnd(): number {
    return this.#prevEnd;
  }

  /** The token `offset` ahead without failing on error tokens (never past eof). */
  raw(offset = 0): Token {
    return this.tokens[Math.min(this.#pos + offset, this.tokens.length - 1)];
  }

  /** The current token; a scanner error token becomes a ParseError here. */
  peek(): Token {
    const t = this.raw();
    if (t.kind === "error") throw new ParseError("INVALID_SQL", t.value, t);
    return t;
  }

  /** Consumes and returns the current token. */
  next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") {
      this.#pos++;
      this.#prevEnd = t.end;
    }
    return t;
  }

  /** Skips raw tokens (error recovery); stops at eof. */
  skip(): void {
    const t = this.raw();
    if (t.kind !== "eof") {
      this.#pos++;
      this.#prevEnd = t.end;
    }
  }

  /** True when the token `offset` ahead is the unquoted keyword `kw` (upper case). */
  at(kw: string, offset = 0): boolean {
    const t = offset === 0 ? this.peek() : this.raw(offset);
    return t.kind === "ident" && !t.quoted && t.upper === kw;
  }

  /** True when the token `offset` ahead is operator `op`. */
  atOp(op: string, offset = 0): boolean {
    const t = offset === 0 ? this.peek() : this.raw(offset);
    return t.kind === "op" && t.value === op;
  }

  /** Consumes keyword `kw` when present. */
  accept(kw: string): boolean {
    if (!this.at(kw)) return false;
    this.next();
    return true;
  }

  /** Consumes every keyword of `kws` in order when all are present; otherwise consumes nothing. */
  acceptAll(...kws: string[]): boolean {
    for (let i = 0; i < kws.length; i++) if (!this.at(kws[i], i)) return false;
    for (const _ of kws) this.next();
    return true;
  }

  /** Consumes operator `op` when present. */
  acceptOp(op: string): boolean {
    if (!this.atOp(op)) return false;
    this.next();
    return true;
  }

  /** Consumes keyword `kw` or fails with `Expected KW but found …`. */
  expect(kw: string): Token {
    if (!this.at(kw)) this.failExpected(kw);
    return this.next();
  }

  /** Consumes operator `op` or fails with `Expected "op" but found …`. */
  expectOp(op: string): Token {
    if (!this.atOp(op)) this.failExpected(`"${op}"`);
    return this.next();
  }

  /** Fails at the current token with `Expected <what> but found <token>`. */
  failExpected(what: string): never {
    const t = this.peek();
    this.fail(`Expected ${what} but found ${describeToken(t)}`, t);
  }

  /** Throws a ParseError at `token` (default: the current one). */
  fail(message: string, token: Token = this.peek(), code: ErrorCode = "INVALID_SQL"): never {
    throw new ParseError(code, message, token);
  }

  /** Span from `first` to the end of the last consumed token. */
  spanFrom(first: Token): Span {
    return {
      start: first.start,
      end: Math.max(first.start, this.#prevEnd),
      line: first.line,
      column: first.column,
    };
  }

  /**
   * Runs `fn` one nesting level deeper: every grammar rule that recurses for nested input (a
   * parenthesis, call, CAST, CASE, IN list, subquery, EXECUTE AS) goes through here, so no input
   * can drive the parser's recursion past MAX_EXPRESSION_DEPTH. Fails at the current token.
   */
  nested<T>(fn: () => T): T {
    this.enter();
    try {
      return fn();
    } finally {
      this.leave();
    }
  }

  /** `nested` without a closure, for the hottest recursion (parentheses): pair with `leave` in a `finally`. */
  enter(): void {
    if (this.#depth >= MAX_EXPRESSION_DEPTH) this.fail(TOO_DEEP);
    this.#depth++;
  }

  /** Closes the level `enter` opened. */
  leave(): void {
    this.#depth--;
  }

  /** Runs `fn` and restores the cursor afterwards, whatever happened. */
  lookAhead<T>(fn: () => T): T {
    const pos = this.#pos;
    const prevEnd = this.#prevEnd;
    try {
      return fn();
    } finally {
      this.#pos = pos;
      this.#prevEnd = prevEnd;
    }
  }

  /** Runs `fn`; when it fails (ParseError) or returns undefined, restores the cursor. */
  tryParse<T>(fn: () => T | undefined): T | undefined {
    const pos = this.#pos;
    const prevEnd = this.#prevEnd;
    try {
      const result = fn();
      if (result !== undefined) return result;
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
    }
    this.#pos = pos;
    this.#prevEnd = prevEnd;
    return undefined;
  }

  /** Any identifier (quoted or not, keywords allowed): a name in a position that is unambiguous. */
  name(what: string): string {
    const t = this.peek();
    if (t.kind !== "ident") this.failExpected(what);
    this.next();
    return t.value;
  }

  /** An identifier or a string literal (user names, storage ids, levels). */
  nameOrString(what: string): string {
    const t = this.peek();
    if (t.kind === "string") {
      this.next();
      return t.value;
    }
    return this.name(what);
  }

  /** A string literal. */
  string(what: string): string {
    const t = this.peek();
    if (t.kind !== "string") this.failExpected(what);
    this.next();
    return t.value;
  }

  /** A name that is being created (`what` = "namespace", "table", "column"…), checked by NAME_RE. */
  objectName(what: string): string {
    const t = this.peek();
    const name = this.name(`a ${what} name`);
    if (!NAME_RE.test(name)) {
      const shown = name.length > 70 ? `${name.slice(0, 70)}…` : name;
      this.fail(
        `Invalid ${what} name "${shown}": use letters, digits and _ (at most 64, not starting with a digit)`,
        t,
      );
    }
    return name;
  }

  /** A namespace name, checked against `[A-Za-z_][A-Za-z0-9_]{0,63}`. */
  namespace(): string {
    return this.objectName("namespace");
  }

  /** `ns.table`; an unqualified name is rejected with a hint. `creating` checks the table name too. */
  tableName(creating = false, what = "table"): TableName {
    const first = this.peek();
    if (first.kind !== "ident") this.failExpected(`a ${what} name (namespace.${what})`);
    if (!this.atOp(".", 1)) {
      this.next();
      this.fail(
        `${what[0].toUpperCase()}${
          what.slice(1)
        } name "${first.value}" must be qualified: write namespace.${what}, e.g. app.${first.value}`,
        first,
      );
    }
    const namespace = this.namespace();
    this.expectOp(".");
    const name = creating ? this.objectName(what) : this.name(`a ${what} name`);
    return { namespace, name, span: this.spanFrom(first) };
  }

  /** A non-negative integer literal as a number. */
  integer(what: string): number {
    const t = this.peek();
    if (t.kind !== "number" || !/^\d+$/.test(t.value)) this.failExpected(what);
    this.next();
    const n = Number(t.value);
    if (!Number.isSafeInteger(n)) this.fail(`Number ${t.value} is too large`, t);
    return n;
  }
}
