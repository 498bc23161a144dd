// SELECT, INSERT, UPDATE and DELETE. SELECT runs the pure executor over the reader connection
// (committed data only), with plans cached per parsed statement and catalog version (the plan
// rebinds its tables to each execution's user). Writes evaluate their values first, then run as
// one group-commit statement on the writer: checks (primary-key uniqueness, NOT NULL, types) and
// writes commit together or not at all, and the caller is answered after the commit.

import {
  assignLiteral,
  assignLiteralValue,
  type Catalog as SqlCatalog,
  type ColumnSchema,
  compileAssignment,
  compileDefault,
  type EvalContext,
  type ExecContext,
  type Expr,
  extractKeys,
  type Plan,
  planSelect,
  predicate,
  projectReturning,
  rangeExtractor,
  type Row,
  type SelectItem,
  type SelectStmt,
  type TableName,
  tableScope,
  type Value,
} from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import { type Change, type ChangeKind, keyOf, type TableInfo } from "../hot/mod.ts";
import type { Handler, Outcome, StatementContext, StoreParts } from "./context.ts";
import { systemTable } from "./system_tables.ts";

/** The partition a session's rows of `t` live in: the user for USER/STREAM, "" for SHARED. */
export function scopeOf(t: TableInfo, user: string): string {
  return t.tableType === "SHARED" ? "" : user;
}

function evalContext(ctx: StatementContext): EvalContext {
  const ids = ctx.engine.ids;
  return { params: ctx.params, user: ctx.session.user, now: ctx.now, nextId: () => ids.next() };
}

/** The executor's view of tables for this session; `writer` reads inside the write transaction. */
export function sqlCatalog(ctx: StatementContext, writer = false): SqlCatalog {
  const { catalog, buffer } = ctx.engine;
  return {
    table(name: TableName) {
      if (name.namespace === "system") return systemTable(ctx.engine, name.name);
      const t = catalog.table(name.namespace, name.name);
      const scope = scopeOf(t, ctx.session.user);
      const buffered = buffer.source(t, scope, writer);
      // Reads merge the Parquet segments; inside a write only the buffer is synchronous, and
      // the statement's own target table is read by `matching`, which merges too.
      return writer ? buffered : ctx.engine.cold.source(t, scope, buffered);
    },
  };
}

function execContext(ctx: StatementContext, writer = false): ExecContext {
  const ids = ctx.engine.ids;
  return {
    params: ctx.params,
    user: ctx.session.user,
    now: ctx.now,
    nextId: () => ids.next(),
    catalog: sqlCatalog(ctx, writer),
    signal: ctx.signal,
  };
}

/** A column's DEFAULT text evaluated as INSERT does (CREATE / ADD COLUMN check and fill it). */
export function evalDefault(column: ColumnSchema, ctx: StatementContext): Value {
  return column.default ? compileDefault(column.default, column)(evalContext(ctx)) : null;
}

function writable(ctx: StatementContext, name: TableName): TableInfo {
  if (name.namespace === "system") {
    throw new DbError("PERMISSION_DENIED", "System tables are read-only");
  }
  const t = ctx.engine.catalog.table(name.namespace, name.name);
  checkBufferRoom(ctx.engine, t);
  return t;
}

/**
 * Refuses a write to a table whose buffer already holds `maxBufferedRows` versions waiting for
 * a flush (its storage down or full for long): the buffer is bounded, and the client is told why.
 * The cheap counter overcounts a little (rolled-back writes), so the bound is checked against an
 * exact count before refusing. STREAM tables are bounded by their TTL instead.
 */
function checkBufferRoom(e: StoreParts, t: TableInfo): void {
  const max = e.maxBufferedRows;
  if (max <= 0 || t.tableType === "STREAM" || e.buffer.counts.pendingWrites(t.id) < max) return;
  const n = e.buffer.counts.recount(t.id);
  if (n < max) return;
  const failure = e.jobs.lastFailure("flush", t.namespace, t.name);
  throw new DbError(
    "STORAGE_ERROR",
    `${t.namespace}.${t.name} has ${n} buffered row versions waiting for a flush to storage ` +
      `'${t.storageId}', the limit (max_buffered_rows); writes resume once a flush succeeds` +
      (failure ? `. Last flush attempt: ${failure}` : ""),
  );
}

function returning(
  t: TableInfo,
  items: readonly SelectItem[] | undefined,
  rows: Row[],
  verb: string,
  ctx: StatementContext,
): Outcome {
  if (!items) return { rowCount: rows.length, message: `${verb} ${rows.length} row(s)` };
  const p = projectReturning(items, t.schema, execContext(ctx));
  return {
    schema: p.columns,
    types: p.types,
    rows: rows.map((r) => p.project(r)),
    rowCount: rows.length,
  };
}

function checkNotNull(t: TableInfo, values: readonly Value[]): void {
  const columns = t.columns;
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    if (values[i] === null && !c.nullable) {
      throw new DbError(
        "NOT_NULL_VIOLATION",
        `Column "${c.name}" of ${t.namespace}.${t.name} cannot be NULL`,
      );
    }
  }
}

// ------------------------------------------------------------------ SELECT

/**
 * Compiled plans per parsed statement (the facade caches parses by SQL text, so this is per
 * text), valid for one catalog version: any DDL replans. A plan holds schemas, not sources, so it
 * is shared by all users; authorization runs per execution before the handler.
 */
const plans = new WeakMap<SelectStmt, { version: number; plan: Plan }>();

export const select: Handler<"select"> = async (stmt, ctx) => {
  const ectx = execContext(ctx);
  const version = ctx.engine.catalog.version;
  let cached = plans.get(stmt);
  if (!cached || cached.version !== version) {
    cached = { version, plan: planSelect(stmt, ectx) };
    plans.set(stmt, cached);
  }
  // Same synchronous step as the version check: the plan's tables are bound to this catalog.
  const r = await cached.plan.execute(ectx);
  return { schema: r.columns, types: r.types, rows: r.rows, rowCount: r.rows.length };
};

// ------------------------------------------------------------------ INSERT

/** Compiled default expressions per table version (defaults are re-parsed from stored text). */
const defaultsCache = new WeakMap<TableInfo, ((ctx: EvalContext) => Value)[]>();

function defaultsOf(t: TableInfo): ((ctx: EvalContext) => Value)[] {
  let d = defaultsCache.get(t);
  if (!d) {
    d = t.columns.map((c) => c.default ? compileDefault(c.default, c) : () => null);
    defaultsCache.set(t, d);
  }
  return d;
}

export const insert: Handler<"insert"> = (stmt, ctx) => {
  const { catalog, buffer, group, ids } = ctx.engine;
  const t0 = writable(ctx, stmt.table);
  const scope = scopeOf(t0, ctx.session.user);
  const targets = stmt.columns.length ? stmt.columns : t0.columns.map((c) => c.name);
  const index = targets.map((name) => {
    const i = t0.columns.findIndex((c) => c.name === name);
    if (i < 0) {
      if (name.startsWith("_")) {
        throw new DbError("INVALID_SQL", `System column "${name}" cannot be written`);
      }
      throw new DbError(
        "COLUMN_NOT_FOUND",
        `Column "${name}" does not exist in ${t0.namespace}.${t0.name}`,
      );
    }
    return i;
  });
  if (new Set(index).size !== index.length) {
    throw new DbError("INVALID_SQL", "A column is listed twice in INSERT");
  }
  const ectx = evalContext(ctx);
  const defaults = defaultsOf(t0);
  const columns = t0.columns;
  const targetCols = index.map((i) => columns[i]);
  const width = columns.length;
  const rows: Value[][] = new Array(stmt.rows.length);
  for (let r = 0; r < stmt.rows.length; r++) {
    const exprs = stmt.rows[r];
    if (exprs.length !== index.length) {
      throw new DbError(
        "INVALID_SQL",
        `INSERT has ${exprs.length} value(s) for ${index.length} column(s)`,
      );
    }
    const values = new Array<Value>(width).fill(undefined as unknown as Value);
    for (let k = 0; k < exprs.length; k++) {
      const col = targetCols[k];
      values[index[k]] = valueOf(exprs[k], col, ectx);
    }
    for (let i = 0; i < width; i++) {
      if (values[i] === undefined) values[i] = defaults[i](ectx);
    }
    checkNotNull(t0, values);
    rows[r] = values;
  }
  return group.run(() => {
    const t = catalog.table(t0.namespace, t0.name);
    if (t.id !== t0.id || t.version !== t0.version) {
      throw new DbError("INVALID_SQL", "Table changed during INSERT; retry");
    }
    // Keys already live among flushed rows are duplicates too (SPEC §3).
    const cold = ctx.engine.cold.hasColdData(t.id, scope)
      ? flushedDuplicate(ctx, t, scope, rows)
      : -1;
    return andThen(cold, (coldDup) => {
      if (coldDup >= 0) throw duplicate(t, rows[coldDup]);
      return insertBuffered(t);
    });
  });

  function insertBuffered(t: TableInfo): Outcome {
    const seqs: bigint[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) seqs[i] = ids.next();
    const dup = buffer.insert(t, scope, rows, seqs);
    if (dup >= 0) throw duplicate(t, rows[dup]);
    publish(ctx, t, scope, "insert", seqs, (i) => [...rows[i], seqs[i], false]);
    if (!stmt.returning) {
      return { rowCount: rows.length, message: `Inserted ${rows.length} row(s)` };
    }
    const written = rows.map((values, i): Row => [...values, seqs[i], false]);
    return returning(t, stmt.returning, written, "Inserted", ctx);
  }
};

/**
 * Offers a statement's changes to live queries after its commit. Whether anyone listens is
 * asked then, not now (a subscription may register between this write and its deferred
 * commit and must still get it), and the change objects are only built if someone does.
 */
function publish(
  ctx: StatementContext,
  t: TableInfo,
  user: string,
  op: ChangeKind,
  seqs: readonly bigint[],
  row?: (i: number) => Row,
  olds?: readonly Row[],
): void {
  const { changes, group, topics } = ctx.engine;
  // The outbox: a source's messages are written in this statement's transaction.
  topics.capture({
    table: t,
    user,
    op,
    count: seqs.length,
    row,
    olds,
    ctx: () => evalContext(ctx),
  }, Date.now());
  group.afterCommit(() => {
    if (!changes.wants(t.id)) return;
    changes.emit(seqs.map((seq, i): Change => ({
      table: t,
      user,
      op,
      seq,
      row: row?.(i),
      old: olds?.[i],
    })));
  });
}

function duplicate(t: TableInfo, row: readonly Value[]): DbError {
  const pk = t.schema.pkIndex;
  return new DbError(
    "UNIQUE_VIOLATION",
    `Duplicate primary key ${t.columns[pk].name} = ${String(row[pk])} in ${t.namespace}.${t.name}`,
  );
}

const NO_COLUMNS = { columns: [] };
const NO_ROW: Row = [];

/** An INSERT value for `col`: literals (most of a multi-row INSERT) skip compilation. */
function valueOf(e: Expr, col: ColumnSchema, ctx: EvalContext): Value {
  if (e.kind === "literal") return assignLiteral(e, col.type, col.name);
  // A literal the engine made a parameter: converted as that literal would be.
  if (e.kind === "param" && e.literal) {
    return assignLiteralValue(ctx.params[e.index - 1], e.literal.numeric, col.type, col.name);
  }
  return compileAssignment(e, NO_COLUMNS, col)(NO_ROW, ctx);
}

// ------------------------------------------------------------------ UPDATE / DELETE

/** Reads the rows a WHERE matches, inside the write transaction (pk seek when possible). */
function matching(
  t: TableInfo,
  where: Expr | undefined,
  ctx: StatementContext,
): Row[] | Promise<Row[]> {
  const ectx = execContext(ctx, true);
  const scope = tableScope(t.schema);
  const test = where ? predicate(where, scope) : () => true;
  const keys = extractKeys(where, t.schema, undefined, ectx);
  // Segments whose statistics rule the WHERE out are not read, as for SELECT: an UPDATE of new
  // rows needs neither the old segments nor the storage that holds them.
  const ranges = rangeExtractor(where, t.schema)?.(ectx);
  const user = scopeOf(t, ctx.session.user);
  const source = ctx.engine.buffer.source(t, user, true);
  const out: Row[] = [];
  if (ctx.engine.cold.hasColdData(t.id, user)) {
    const cached = ctx.engine.cold.scanCachedSync(t, user, source, { keys, ranges });
    if (cached) return cached.filter((row) => test(row, ectx));
    // Flushed rows too: segment reads wait, the write's transaction stays open meanwhile.
    return (async () => {
      const merged = ctx.engine.cold.source(t, user, source);
      for await (const batch of merged.scan({ keys, ranges, signal: ctx.signal })) {
        for (const row of batch) if (test(row, ectx)) out.push(row);
      }
      return out;
    })();
  }
  // Synchronous: the writer's own transaction, and no other statement runs meanwhile.
  for (const batch of source.scanSync!({ keys, signal: ctx.signal })) {
    for (const row of batch) if (test(row, ectx)) out.push(row);
  }
  return out;
}

/** `f(v)`, synchronously when `v` is a value, chained when it is a promise. */
function andThen<T, U>(v: T | Promise<T>, f: (v: T) => U): U | Promise<Awaited<U>> {
  return v instanceof Promise ? v.then(f) as Promise<Awaited<U>> : f(v);
}

/**
 * Index of the first row whose primary key is live among the scope's flushed rows, or -1.
 * Synchronous when the segments that may hold the keys are cached, or when none may (new keys
 * above every segment's range: the usual case), so the write does not wait inside its group.
 */
function flushedDuplicate(
  ctx: StatementContext,
  t: TableInfo,
  user: string,
  rows: readonly Value[][],
): number | Promise<number> {
  const pk = t.schema.pkIndex;
  const keys = rows.map((r) => r[pk]);
  const { cold, buffer } = ctx.engine;
  const buffered = buffer.source(t, user, true);
  const firstLive = (found: Iterable<Row>) => {
    const live = new Set<unknown>();
    for (const r of found) live.add(keyOf(r[pk]));
    return rows.findIndex((r) => live.has(keyOf(r[pk])));
  };
  if (cold.keysAbsentSync(t, user, keys)) return -1;
  const cached = cold.scanCachedSync(t, user, buffered, { keys });
  if (cached) return firstLive(cached);
  return (async () => {
    const found: Row[] = [];
    for await (const batch of cold.source(t, user, buffered).scan({ keys })) found.push(...batch);
    return firstLive(found);
  })();
}

export const update: Handler<"update"> = (stmt, ctx) => {
  const { catalog, buffer, group, ids } = ctx.engine;
  const t0 = writable(ctx, stmt.table);
  const scope = tableScope(t0.schema);
  const sets = stmt.set.map((s) => {
    const i = t0.columns.findIndex((c) => c.name === s.column);
    if (i < 0) {
      if (s.column.startsWith("_")) {
        throw new DbError("INVALID_SQL", `System column "${s.column}" cannot be written`);
      }
      throw new DbError("COLUMN_NOT_FOUND", `Column "${s.column}" does not exist`);
    }
    if (t0.columns[i].primaryKey) {
      throw new DbError(
        "UNSUPPORTED",
        `The primary key "${s.column}" cannot be updated: delete and insert the row instead`,
      );
    }
    return { i, value: compileAssignment(s.value, scope, t0.columns[i]) };
  });
  return group.run(() => {
    const t = catalog.table(t0.namespace, t0.name);
    if (t.id !== t0.id || t.version !== t0.version) {
      throw new DbError("INVALID_SQL", "Table changed during UPDATE; retry");
    }
    const ectx = evalContext(ctx);
    return andThen(matching(t, stmt.where, ctx), (rows) => {
      const written: Row[] = [];
      const n = t.columns.length;
      const user = scopeOf(t, ctx.session.user);
      const seqs: bigint[] = [];
      for (const old of rows) {
        const values = old.slice(0, n);
        for (const s of sets) {
          values[s.i] = s.value(old, ectx);
        }
        checkNotNull(t, values);
        const seq = ids.next();
        buffer.put(t, user, "update", seq, values, old);
        written.push([...values, seq, false]);
        seqs.push(seq);
      }
      publish(ctx, t, user, "update", seqs, (i) => written[i], rows);
      return returning(t, stmt.returning, written, "Updated", ctx);
    });
  });
};

export const deleteRows: Handler<"delete"> = (stmt, ctx) => {
  const { catalog, buffer, group, ids } = ctx.engine;
  const t0 = writable(ctx, stmt.table);
  return group.run(() => {
    const t = catalog.table(t0.namespace, t0.name);
    return andThen(matching(t, stmt.where, ctx), (rows) => {
      const n = t.columns.length;
      const user = scopeOf(t, ctx.session.user);
      const seqs = rows.map((old) => {
        const seq = ids.next();
        buffer.put(t, user, "delete", seq, old.slice(0, n), old);
        return seq;
      });
      publish(ctx, t, user, "delete", seqs, undefined, rows);
      return returning(t, stmt.returning, rows, "Deleted", ctx);
    });
  });
};
