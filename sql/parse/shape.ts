// Literal SQL as fast as parameterised SQL: a statement's literals in the places where a
// parameter means exactly the same — the operands of WHERE comparisons, IN lists and BETWEEN
// bounds of SELECT / UPDATE / DELETE, and the VALUES of INSERT — become parameters that keep the
// literal's type (`ParamExpr.literal`). Texts that differ only in those literals share one parsed
// template (and with it the plan cached on it), and each run binds its own literal values, as
// SQL Server's simple parameterisation and pg_stat_statements' normalisation do.
//
// The cache key is the text with every literal's characters masked (length and line breaks
// kept), so every span of the template — error positions included — is that of the text run.
// Literals elsewhere (LIMIT, ORDER BY 1, function arguments, DDL options) stay literal; the
// template holds their source text and only a text with the same ones uses it. A literal whose
// value has another type than the template's (5 vs 5.0, an INT vs a BIGINT-sized integer)
// does not use it either.

import type { Expr, LiteralExpr, ParamExpr, ParsedStatement, Statement } from "../ast.ts";
import { type Token, tokenize } from "../_lexer.ts";
import { literalType, literalValue, type Value } from "../values.ts";
import { numberValue } from "./expr.ts";

/** A text's literal tokens and its masked text (the template cache's key). */
export interface Shape {
  readonly key: string;
  readonly literals: readonly Token[];
}

/** Statements whose slotted literals are parameters, and what a text must have to use them. */
export interface Template {
  readonly statements: readonly ParsedStatement[];
  /** Literal token ordinals that are parameters, in parameter order ($1, $2, …). */
  readonly slots: readonly number[];
  /** Each slot's literal type base and number kind (a text's literals must have the same). */
  readonly types: readonly (string | null)[];
  readonly numerics: readonly LiteralExpr["numeric"][];
  /** Literal token ordinals that stay literal, with their source text. */
  readonly fixed: ReadonlyMap<number, string>;
  /** Where each literal token starts. */
  readonly starts: readonly number[];
}

const NUMBER_MASK = "\u0001";
const STRING_MASK = "\u0002";

/**
 * The shape of `text`, or undefined when it has no literal, holds parameters (`$1`: theirs and
 * ours would mix) or does not scan.
 */
export function shapeOf(text: string): Shape | undefined {
  const tokens = tokenize(text);
  const literals: Token[] = [];
  let key = "";
  let at = 0;
  for (const t of tokens) {
    if (t.kind === "param" || t.kind === "error") return undefined;
    if (t.kind !== "number" && t.kind !== "string") continue;
    literals.push(t);
    key += text.slice(at, t.start) + mask(text, t);
    at = t.end;
  }
  if (literals.length === 0) return undefined;
  return { key: key + text.slice(at), literals };
}

function mask(text: string, t: Token): string {
  const raw = text.slice(t.start, t.end);
  const m = t.kind === "number" ? NUMBER_MASK : STRING_MASK;
  if (!raw.includes("\n")) return m.repeat(raw.length);
  return raw.replace(/[^\n]/g, m);
}

/** A literal token's literal as the parser makes it. */
function literalOf(t: Token): Pick<LiteralExpr, "value" | "numeric" | "text"> {
  return t.kind === "number" ? numberValue(t.value) : { value: t.value };
}

function typeBase(l: Pick<LiteralExpr, "value" | "numeric" | "text">): string | null {
  return literalType(l.value, literalValue(l.value, l.numeric, l.text), l.numeric)?.base ?? null;
}

/**
 * The template of parsed `statements` (from the text `shape` was taken of), or undefined when
 * none of its literals can be a parameter.
 */
export function templateOf(
  shape: Shape,
  statements: readonly ParsedStatement[],
): Template | undefined {
  const ordinal = new Map(shape.literals.map((t, i) => [t.start, i]));
  const taken: { ordinal: number; param: { index: number } }[] = [];
  /** A literal of the text, unchanged from its token, that may become a parameter. */
  const slot = (e: Expr): ParamExpr | undefined => {
    if (e.kind !== "literal") return undefined;
    const i = ordinal.get(e.span.start);
    if (i === undefined) return undefined;
    const t = shape.literals[i];
    const l = literalOf(t);
    if (t.end !== e.span.end || l.value !== e.value || l.numeric !== e.numeric) return undefined;
    const param = { kind: "param" as const, index: 0, literal: e, span: e.span };
    taken.push({ ordinal: i, param });
    return param;
  };
  const rewritten = statements.map((p) => ({ ...p, statement: slotStatement(p.statement, slot) }));
  if (taken.length === 0) return undefined;
  // Parameters are numbered in text order.
  taken.sort((a, b) => a.ordinal - b.ordinal);
  taken.forEach((x, n) => x.param.index = n + 1);
  const slots = taken.map((x) => x.ordinal);
  const slotSet = new Set(slots);
  const fixed = new Map<number, string>();
  shape.literals.forEach((t, i) => {
    if (!slotSet.has(i)) fixed.set(i, literalText(t));
  });
  const literals = slots.map((o) => literalOf(shape.literals[o]));
  return {
    statements: rewritten,
    slots,
    types: literals.map(typeBase),
    numerics: literals.map((l) => l.numeric),
    fixed,
    starts: shape.literals.map((t) => t.start),
  };
}

/** What identifies a fixed literal: its kind and value. */
function literalText(t: Token): string {
  return (t.kind === "number" ? "#" : "'") + t.value;
}

/**
 * The parameter values of `shape` (a text with the template's key) for `template`, or undefined
 * when its fixed literals or its slots' types differ from the template's.
 */
export function bindShape(template: Template, shape: Shape): Value[] | undefined {
  const { literals } = shape;
  if (literals.length !== template.starts.length) return undefined;
  for (let i = 0; i < literals.length; i++) {
    if (literals[i].start !== template.starts[i]) return undefined;
  }
  for (const [i, text] of template.fixed) {
    if (literalText(literals[i]) !== text) return undefined;
  }
  const values: Value[] = [];
  for (let s = 0; s < template.slots.length; s++) {
    const l = literalOf(literals[template.slots[s]]);
    if (l.numeric !== template.numerics[s]) return undefined;
    const value = literalValue(l.value, l.numeric, l.text);
    if ((literalType(l.value, value, l.numeric)?.base ?? null) !== template.types[s]) {
      return undefined;
    }
    values.push(value);
  }
  return values;
}

/** A literal's parameter in its place, or undefined to keep what is there. */
type Slot = (e: Expr) => Expr | undefined;

/** `stmt` with `slot` applied where a literal may be a parameter (same object when unchanged). */
function slotStatement(stmt: Statement, slot: Slot): Statement {
  switch (stmt.kind) {
    case "select":
    case "update":
    case "delete": {
      if (!stmt.where) return stmt;
      const where = slotWhere(stmt.where, slot);
      return where === stmt.where ? stmt : { ...stmt, where };
    }
    case "insert": {
      const rows = stmt.rows.map((row) => slotList(row, slot));
      return rows.every((row, i) => row === stmt.rows[i]) ? stmt : { ...stmt, rows };
    }
    case "execute_as": {
      const inner = slotStatement(stmt.statement, slot);
      return inner === stmt.statement ? stmt : { ...stmt, statement: inner };
    }
    default:
      return stmt;
  }
}

const COMPARISONS = new Set(["=", "<>", "<", "<=", ">", ">="]);

/** A WHERE with `slot` applied to comparison operands, IN-list items and BETWEEN bounds. */
function slotWhere(e: Expr, slot: Slot): Expr {
  switch (e.kind) {
    case "binary": {
      if (e.op === "AND" || e.op === "OR") {
        const left = slotWhere(e.left, slot);
        const right = slotWhere(e.right, slot);
        return left === e.left && right === e.right ? e : { ...e, left, right };
      }
      if (!COMPARISONS.has(e.op)) return e;
      const left = isValue(e.right) ? slot(e.left) : undefined;
      const right = isValue(e.left) ? slot(e.right) : undefined;
      return left || right ? { ...e, left: left ?? e.left, right: right ?? e.right } : e;
    }
    case "unary": {
      if (e.op !== "NOT") return e;
      const operand = slotWhere(e.operand, slot);
      return operand === e.operand ? e : { ...e, operand };
    }
    case "in_list": {
      if (!isValue(e.operand)) return e;
      const list = slotList(e.list, slot);
      return list === e.list ? e : { ...e, list };
    }
    case "between": {
      if (!isValue(e.operand)) return e;
      const low = slot(e.low);
      const high = slot(e.high);
      return low || high ? { ...e, low: low ?? e.low, high: high ?? e.high } : e;
    }
    default:
      return e;
  }
}

/** `list` with `slot` applied to each item (the same array when none changed). */
function slotList(list: readonly Expr[], slot: Slot): readonly Expr[] {
  let out: Expr[] | undefined;
  list.forEach((e, i) => {
    const s = slot(e);
    if (s) (out ??= [...list])[i] = s;
  });
  return out ?? list;
}

/** The other side of a slotted literal: a column or expression, not a literal itself. */
function isValue(e: Expr): boolean {
  return e.kind !== "literal" && e.kind !== "param";
}
