// A live query: one SELECT over one table, any column list and any WHERE of the expression
// language (SPEC §8). Compiled once into a row filter and a projection over the table's full
// rows; both the snapshot and every change go through the same two functions, for USER, SHARED
// and STREAM tables alike. Joins, grouping, ordering and limits answer UNSUPPORTED.

import {
  type EvalContext,
  parseSql,
  predicate,
  projectReturning,
  rangeExtractor,
  type ResultColumn,
  type Row,
  type SelectStmt,
  tableScope,
  toJsonValue,
  type TypeName,
  valueKey,
  visitExpr,
} from "../sql/mod.ts";
import { DbError } from "../errors.ts";
import type { TableInfo } from "../storage/mod.ts";

export interface LiveQuery {
  readonly stmt: SelectStmt;
  readonly namespace: string;
  readonly table: string;
}

export interface CompiledLive {
  readonly schema: readonly ResultColumn[];
  /** The output name of the table's primary key, when the column list shows it as is. */
  readonly primaryKey?: string;
  /** A `column = constant` conjunct of the WHERE (routing index), if there is one. */
  readonly equality?: { readonly column: number; readonly key: string };
  matches(row: Row): boolean;
  /** The projected row as a JSON object (names → wire values). */
  project(row: Row): Record<string, unknown>;
}

/** Parses and checks the subscription SQL; throws INVALID_SQL / UNSUPPORTED. */
export function parseLiveQuery(sql: string): LiveQuery {
  const { statements, diagnostics } = parseSql(sql);
  if (diagnostics.length) {
    const d = diagnostics[0];
    throw new DbError(d.code, d.message, d);
  }
  if (statements.length !== 1 || statements[0].statement.kind !== "select") {
    throw new DbError("INVALID_SQL", "A subscription is exactly one SELECT statement");
  }
  const stmt = statements[0].statement as SelectStmt;
  const unsupported = (what: string) =>
    new DbError("UNSUPPORTED", `Live queries do not support ${what}; subscribe to one table`);
  if (!stmt.from || stmt.from.kind !== "table_ref") {
    throw unsupported(stmt.from?.kind === "join" ? "JOIN" : "subqueries in FROM");
  }
  if (stmt.groupBy.length || stmt.having) throw unsupported("GROUP BY / HAVING");
  if (stmt.orderBy.length) throw unsupported("ORDER BY (changes arrive in _seq order)");
  if (stmt.limit || stmt.offset) throw unsupported("LIMIT / OFFSET (use options.last_rows)");
  if (stmt.distinct) throw unsupported("DISTINCT");
  for (const e of [...stmt.items.map((i) => i.expr), ...(stmt.where ? [stmt.where] : [])]) {
    visitExpr(e, (x) => {
      if (x.kind === "subquery" || x.kind === "exists" || x.kind === "in_subquery") {
        throw unsupported("subqueries");
      }
      if (x.kind === "func" && ["COUNT", "SUM", "AVG", "MIN", "MAX"].includes(x.name)) {
        throw unsupported("aggregates");
      }
    });
  }
  return { stmt, namespace: stmt.from.table.namespace, table: stmt.from.table.name };
}

/** Compiles a live query against the table's current schema for one subscriber. */
export function compileLive(q: LiveQuery, table: TableInfo, ctx: EvalContext): CompiledLive {
  const alias = q.stmt.from?.kind === "table_ref" ? q.stmt.from.alias : undefined;
  const schema = alias ? { ...table.schema, name: alias } : table.schema;
  const test = q.stmt.where ? predicate(q.stmt.where, tableScope(schema)) : () => true;
  const p = projectReturning(q.stmt.items, schema, ctx);
  const names = p.columns.map((c) => c.name);
  const types: readonly TypeName[] = p.types;
  const deletedAt = table.schema.columns.length - 1;
  const eq = rangeExtractor(q.stmt.where, schema)?.(ctx).find((r) => r.op === "=");
  return {
    schema: p.columns,
    primaryKey: primaryKeyName(q.stmt, table.schema, names),
    equality: eq && { column: eq.column, key: valueKey(eq.value) },
    // Soft-deleted versions never match: they are how deletes look in the buffer.
    matches: (row) => !row[deletedAt] && test(row, ctx),
    project(row) {
      const values = p.project(row);
      const out: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) out[names[i]] = toJsonValue(values[i], types[i]);
      return out;
    },
  };
}

/**
 * The name under which a `*` or a plain reference shows the primary-key column — only when no
 * other output column has that name (`SELECT id, v AS id` names no key).
 */
function primaryKeyName(
  stmt: SelectStmt,
  schema: TableInfo["schema"],
  names: readonly string[],
): string | undefined {
  const pk = schema.columns[schema.pkIndex]?.name;
  if (pk === undefined) return undefined;
  let found: string | undefined;
  for (const item of stmt.items) {
    if (item.expr.kind === "star") found = pk;
    else if (item.expr.kind === "column" && item.expr.name.toLowerCase() === pk.toLowerCase()) {
      found = item.alias ?? item.expr.name;
    }
    if (found !== undefined) break;
  }
  return found !== undefined && names.filter((n) => n === found).length === 1 ? found : undefined;
}
