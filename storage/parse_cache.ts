// The parsed-statement caches of Database.execute: by exact text (a repeated statement is parsed
// once), and by shape for literal SQL (sql/parse/shape.ts): `… WHERE id = 42` and `… WHERE id =
// 43` share one template whose literals are parameters, so they also share the plan cached on
// it. Both are bounded and start over when full (a workload of unique texts never grows them).

import { DbError } from "../errors.ts";
import {
  bindShape,
  type ParsedStatement,
  parseSql,
  shapeOf,
  type Template,
  templateOf,
  type Value,
} from "../sql/mod.ts";

const MAX_ENTRIES = 512;
/** Longer texts (multi-row INSERTs, scripts) are rarely repeated: caching them costs GC time. */
const MAX_CACHED_TEXT = 4096;

export interface Parsed {
  readonly statements: readonly ParsedStatement[];
  readonly error?: DbError;
  /** The literals a shaped text's template takes as parameters ($1…), when it has one. */
  readonly params?: readonly Value[];
}

export class ParseCache {
  readonly #exact = new Map<string, Parsed>();
  /** Template by shape key; null: that shape has no literal that can be a parameter. */
  readonly #shapes = new Map<string, Template | null>();
  readonly #shaping: boolean;

  /** `shaping` false: literal texts are cached by exact text only (the old behaviour). */
  constructor(shaping = true) {
    this.#shaping = shaping;
  }

  /** `sql` parsed; `withParams`: the caller binds its own `$n` (no shaping then). */
  get(sql: string, withParams: boolean): Parsed {
    const hit = this.#exact.get(sql);
    if (hit) return hit;
    const shape = this.#shaping && !withParams && sql.length <= MAX_CACHED_TEXT
      ? shapeOf(sql)
      : undefined;
    const known = shape && this.#shapes.get(shape.key);
    if (known) {
      const params = bindShape(known, shape);
      if (params) return { statements: known.statements, params };
    }
    const parsed = parseSql(sql);
    if (shape && known === undefined && parsed.diagnostics.length === 0) {
      // A shape seen first: its template (or that it has none) is kept for the next texts.
      const template = templateOf(shape, parsed.statements) ?? null;
      if (this.#shapes.size >= MAX_ENTRIES) this.#shapes.clear();
      this.#shapes.set(shape.key, template);
      if (template) return { statements: template.statements, params: bindShape(template, shape) };
    }
    return this.#remember(sql, parsed);
  }

  /** A text parsed as written, cached by its text when it parsed cleanly and is short. */
  #remember(sql: string, { statements, diagnostics }: ReturnType<typeof parseSql>): Parsed {
    let result: Parsed = { statements };
    if (diagnostics.length) {
      const d = diagnostics[0];
      result = {
        // Statements before the first bad one still run, as psql does.
        statements: statements.filter((_, i) => i + 1 < d.statement),
        error: new DbError(d.code, d.message, d),
      };
    }
    if (this.#exact.size >= MAX_ENTRIES) this.#exact.clear();
    if (!result.error && sql.length <= MAX_CACHED_TEXT) this.#exact.set(sql, result);
    return result;
  }
}
