// Namespace and table DDL: CREATE/DROP NAMESPACE, CREATE/DROP/ALTER TABLE. Schemas are
// versioned: every column change stores a new version, and rows keep the version they were
// written under (see codec.ts), so ALTER never rewrites data.

import {
  type ColumnDef,
  type CreateTableStmt,
  type Expr,
  type OptionItem,
  parseExpression,
  printExpr,
  type TableType,
  type Value,
} from "../../sql/mod.ts";
import { dropTopicData } from "./topics.ts";
import { DbError } from "../../errors.ts";
import { type StoredColumn, type TableInfo, tagValue } from "../hot/mod.ts";
import type { Handler, Outcome, StatementContext } from "./context.ts";
import type { TablePlace } from "../cold/mod.ts";
import { tableFacts } from "./authorize.ts";
import { canRead } from "../../auth/mod.ts";
import { evalDefault } from "./write.ts";

const TABLE_OPTIONS = new Set([
  "TYPE",
  "STORAGE_ID",
  "FLUSH_POLICY",
  "TTL_SECONDS",
  "ACCESS_LEVEL",
]);
const ACCESS_LEVELS = new Set(["PUBLIC", "PROTECTED", "PRIVATE"]);
const RESERVED_NAMESPACES = new Set(["system", "default", "information_schema"]);

function invalid(message: string): DbError {
  return new DbError("INVALID_SQL", message);
}

/** Validates `rows:N,interval:S` (either part, any order) and returns it normalised. */
export function parseFlushPolicy(text: string): string {
  const parts = new Map<string, number>();
  for (const piece of text.split(",")) {
    const m = /^\s*(rows|interval)\s*:\s*(\d+)\s*$/i.exec(piece);
    if (!m || parts.has(m[1].toLowerCase()) || +m[2] <= 0) {
      throw invalid(`Invalid FLUSH_POLICY '${text}': expected 'rows:N,interval:SECONDS'`);
    }
    parts.set(m[1].toLowerCase(), +m[2]);
  }
  return [...parts].map(([k, v]) => `${k}:${v}`).join(",");
}

function accessLevel(v: unknown): string {
  const level = String(v).toUpperCase();
  if (!ACCESS_LEVELS.has(level)) {
    throw invalid(`Invalid ACCESS_LEVEL '${v}': expected PUBLIC, PROTECTED or PRIVATE`);
  }
  return level;
}

function ttlSeconds(v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw invalid(`TTL_SECONDS must be a positive integer`);
  return n;
}

// ------------------------------------------------------------------ namespaces

export const createNamespace: Handler<"create_namespace"> = (stmt, ctx) => {
  const { catalog, group } = ctx.engine;
  if (RESERVED_NAMESPACES.has(stmt.name.toLowerCase())) {
    throw invalid(`Namespace name "${stmt.name}" is reserved`);
  }
  return group.run(() => {
    if (catalog.hasNamespace(stmt.name)) {
      if (stmt.ifNotExists) {
        return { rowCount: 0, message: `Namespace ${stmt.name} already exists, skipped` };
      }
      throw new DbError("ALREADY_EXISTS", `Namespace "${stmt.name}" already exists`);
    }
    catalog.createNamespace(stmt.name, Date.now());
    return { rowCount: 0, message: `Namespace ${stmt.name} created` };
  });
};

export const dropNamespace: Handler<"drop_namespace"> = (stmt, ctx) => {
  const { catalog, group } = ctx.engine;
  if (RESERVED_NAMESPACES.has(stmt.name.toLowerCase())) {
    throw invalid(`Namespace "${stmt.name}" is reserved and cannot be dropped`);
  }
  return group.run(() => {
    if (!catalog.hasNamespace(stmt.name)) {
      if (stmt.ifExists) {
        const outcome = { rowCount: 0, message: `Namespace ${stmt.name} does not exist, skipped` };
        return { places: [], outcome };
      }
      throw new DbError("NAMESPACE_NOT_FOUND", `Namespace "${stmt.name}" does not exist`);
    }
    const tables = catalog.tables().filter((t) => t.namespace === stmt.name);
    const topics = ctx.engine.topics.catalog.inNamespace(stmt.name);
    if ((tables.length || topics.length) && !stmt.cascade) {
      throw invalid(
        `Namespace "${stmt.name}" is not empty (${tables.length} table(s), ${topics.length} topic(s)); ` +
          `use DROP NAMESPACE ${stmt.name} CASCADE`,
      );
    }
    for (const t of topics) {
      const feeding = ctx.engine.topics.catalog.feeding(`${t.namespace}.${t.name}`)
        .filter((f) => f.namespace !== stmt.name);
      if (feeding.length) {
        throw invalid(
          `Topic ${t.namespace}.${t.name} is the dead-letter topic of ${
            feeding.map((f) => `${f.namespace}.${f.name}`).join(", ")
          }: drop that first`,
        );
      }
    }
    for (const t of topics) dropTopicData(ctx.engine, t);
    const places = tables.map((t) => dropWithFiles(ctx, t));
    catalog.dropNamespace(stmt.name);
    return { places, outcome: { rowCount: 0, message: `Namespace ${stmt.name} dropped` } };
  }).then(({ places, outcome }) => cleanupLater(ctx, places, outcome));
};

/** Removes a table's rows and catalog entry (inside the DROP's write); returns where its files are. */
function dropWithFiles(ctx: StatementContext, t: TableInfo): DroppedTable {
  const { catalog, buffer, cold } = ctx.engine;
  const scopes = cold.scopesOf(t);
  buffer.dropTable(t.id);
  cold.dropScopes(t.id);
  ctx.engine.topics.catalog.dropTableSources(t.id);
  catalog.dropTable(t);
  const { id, namespace, name, tableType, storageId } = t;
  return { place: { id, namespace, name, tableType, storageId }, scopes };
}

interface DroppedTable {
  readonly place: TablePlace;
  readonly scopes: string[];
}

/** After the DROP committed: a cleanup job deletes the Parquet files (SPEC §3). */
async function cleanupLater(
  ctx: StatementContext,
  dropped: readonly DroppedTable[],
  outcome: Outcome,
): Promise<Outcome> {
  for (const d of dropped) {
    if (d.scopes.length === 0 || d.place.tableType === "STREAM") continue;
    await ctx.engine.jobs.submit({
      type: "cleanup",
      namespace: d.place.namespace,
      table: `${d.place.name}#${d.place.id}`,
      parameters: { ...d.place, scopes: d.scopes },
    });
  }
  return outcome;
}

// ------------------------------------------------------------------ tables

interface TableOptions {
  tableType: TableType;
  storageId: string;
  flushPolicy: string | null;
  ttlSeconds: number | null;
  accessLevel: string | null;
}

function tableOptions(stmt: CreateTableStmt, ctx: StatementContext): TableOptions {
  const opts = new Map<string, OptionItem>();
  for (const o of stmt.options) {
    if (!TABLE_OPTIONS.has(o.key)) {
      throw new DbError("INVALID_SQL", `Unknown table option ${o.key}`, o.span);
    }
    if (opts.has(o.key)) throw new DbError("INVALID_SQL", `Option ${o.key} given twice`, o.span);
    opts.set(o.key, o);
  }
  const typeOpt = opts.get("TYPE")?.value;
  const declared = typeOpt === undefined ? undefined : String(typeOpt).toUpperCase();
  if (declared !== undefined && !["USER", "SHARED", "STREAM"].includes(declared)) {
    throw invalid(`Invalid TYPE '${typeOpt}': expected USER, SHARED or STREAM`);
  }
  if (stmt.typePrefix && declared && stmt.typePrefix !== declared) {
    throw invalid(`CREATE ${stmt.typePrefix} TABLE contradicts TYPE = '${declared}'`);
  }
  const tableType = (stmt.typePrefix ?? declared ?? "SHARED") as TableType;
  const ttl = opts.get("TTL_SECONDS");
  if (tableType === "STREAM" && !ttl) throw invalid("STREAM tables require TTL_SECONDS");
  if (tableType !== "STREAM" && ttl) throw invalid("TTL_SECONDS is only valid on STREAM tables");
  const access = opts.get("ACCESS_LEVEL");
  if (tableType !== "SHARED" && access) {
    throw invalid("ACCESS_LEVEL is only valid on SHARED tables");
  }
  const flush = opts.get("FLUSH_POLICY");
  if (tableType === "STREAM" && flush) {
    throw invalid("STREAM tables are never flushed: FLUSH_POLICY is not allowed");
  }
  const storageId = String(opts.get("STORAGE_ID")?.value ?? "local");
  if (!ctx.engine.catalog.storage(storageId)) {
    throw new DbError("NOT_FOUND", `Storage "${storageId}" does not exist`);
  }
  return {
    tableType,
    storageId,
    flushPolicy: flush ? parseFlushPolicy(String(flush.value)) : null,
    ttlSeconds: ttl ? ttlSeconds(ttl.value) : null,
    accessLevel: tableType === "SHARED" ? (access ? accessLevel(access.value) : "PRIVATE") : null,
  };
}

/** Turns a column definition into a stored column; checks the default against the type. */
/** One more than any column id the table ever had, in any schema version. */
function nextColumnId(t: TableInfo): number {
  let max = 0;
  for (const cols of t.versions.values()) for (const c of cols) max = Math.max(max, c.id);
  return max + 1;
}

function storedColumn(def: ColumnDef, id: number, primaryKey: boolean, ctx: StatementContext) {
  if (def.autoIncrement && def.type.base !== "BIGINT") {
    throw invalid(`AUTO_INCREMENT column "${def.name}" must be BIGINT`);
  }
  if (primaryKey && def.type.base === "JSON") {
    throw invalid(`JSON column "${def.name}" cannot be a primary key`);
  }
  const defaultExpr: Expr | undefined = def.autoIncrement
    ? parseExpression("SNOWFLAKE_ID()")
    : def.default;
  const col: StoredColumn = {
    id,
    name: def.name,
    type: def.type,
    nullable: !(def.notNull || primaryKey),
    primaryKey,
    ...(defaultExpr ? { default: printExpr(defaultExpr) } : {}),
  };
  // The stored text, read back as every INSERT will: a DEFAULT that fails here is refused now.
  evalDefault(col, ctx);
  return col;
}

function buildColumns(stmt: CreateTableStmt, ctx: StatementContext): StoredColumn[] {
  const names = new Set<string>();
  for (const c of stmt.columns) {
    if (names.has(c.name)) {
      throw new DbError("INVALID_SQL", `Column "${c.name}" given twice`, c.span);
    }
    names.add(c.name);
  }
  const pkNames = [
    ...stmt.columns.filter((c) => c.primaryKey).map((c) => c.name),
    ...(stmt.primaryKey ?? []),
  ];
  if (pkNames.length > 1) {
    throw new DbError("UNSUPPORTED", "Composite primary keys are not supported: use one column");
  }
  let pk = pkNames[0];
  const defs = [...stmt.columns];
  if (pk !== undefined && !names.has(pk)) {
    throw new DbError("COLUMN_NOT_FOUND", `Primary key column "${pk}" is not defined`);
  }
  if (pk === undefined) {
    if (names.has("id")) {
      throw invalid(`Table has no PRIMARY KEY: declare one (column "id" exists already)`);
    }
    pk = "id";
    defs.unshift({
      name: "id",
      type: { base: "BIGINT" },
      notNull: true,
      primaryKey: true,
      default: parseExpression("SNOWFLAKE_ID()"),
      autoIncrement: false,
      span: stmt.span,
    });
  }
  return defs.map((d, i) => storedColumn(d, i + 1, d.name === pk, ctx));
}

export const createTable: Handler<"create_table"> = (stmt, ctx) => {
  const { catalog, group } = ctx.engine;
  const { namespace, name } = stmt.table;
  const options = tableOptions(stmt, ctx);
  const columns = buildColumns(stmt, ctx);
  return group.run(() => {
    if (!catalog.hasNamespace(namespace)) {
      throw new DbError("NAMESPACE_NOT_FOUND", `Namespace "${namespace}" does not exist`);
    }
    const existing = catalog.findTable(namespace, name);
    if (existing && !canRead(ctx.session.role, tableFacts(catalog, existing))) {
      // A table the caller may not read is not confirmed to exist (SPEC §5): the name is
      // refused as a permission failure, with or without IF NOT EXISTS.
      throw new DbError(
        "PERMISSION_DENIED",
        `The name ${namespace}.${name} is not available to role ${ctx.session.role}`,
      );
    }
    if (existing) {
      if (stmt.ifNotExists) {
        return { rowCount: 0, message: `Table ${namespace}.${name} already exists, skipped` };
      }
      throw new DbError("ALREADY_EXISTS", `Table "${namespace}.${name}" already exists`);
    }
    catalog.createTable({ namespace, name, ...options, createdAt: Date.now() }, columns);
    return { rowCount: 0, message: `${options.tableType} table ${namespace}.${name} created` };
  });
};

export const dropTable: Handler<"drop_table"> = (stmt, ctx) => {
  const { catalog, group } = ctx.engine;
  const { namespace, name } = stmt.table;
  return group.run(() => {
    const t = catalog.findTable(namespace, name);
    if (!t) {
      if (stmt.ifExists) {
        const message = `Table ${namespace}.${name} does not exist, skipped`;
        return { dropped: [], outcome: { rowCount: 0, message } };
      }
      catalog.table(namespace, name); // throws the precise not-found error
    }
    const dropped = [dropWithFiles(ctx, t!)];
    return { dropped, outcome: { rowCount: 0, message: `Table ${namespace}.${name} dropped` } };
  }).then((r) => cleanupLater(ctx, r.dropped, r.outcome));
};

function alterColumns(
  t: TableInfo,
  stmt: Parameters<Handler<"alter_table">>[0],
  ctx: StatementContext,
) {
  const change = stmt.change;
  const cols = [...t.columns];
  const find = (n: string) => cols.findIndex((c) => c.name === n);
  switch (change.action) {
    case "add_column": {
      const def = change.column;
      if (find(def.name) >= 0) {
        if (change.ifNotExists) return undefined;
        throw new DbError(
          "ALREADY_EXISTS",
          `Column "${def.name}" already exists in ${t.namespace}.${t.name}`,
        );
      }
      if (def.primaryKey) throw invalid("ALTER TABLE ADD COLUMN cannot add a PRIMARY KEY");
      if (def.notNull && !def.default && !def.autoIncrement) {
        throw invalid(`Column "${def.name}" is NOT NULL: give it a DEFAULT for existing rows`);
      }
      // A new id, never one a dropped column had: rows written under it must not come back.
      const id = nextColumnId(t);
      const col = storedColumn(def, id, false, ctx);
      const fill: Value = evalDefault(col, ctx);
      cols.push({ ...col, fill: tagValue(fill) });
      return cols;
    }
    case "drop_column": {
      const i = find(change.column);
      if (i < 0) {
        if (change.ifExists) return undefined;
        throw new DbError("COLUMN_NOT_FOUND", `Column "${change.column}" does not exist`);
      }
      if (cols[i].primaryKey) throw invalid(`Cannot drop primary key column "${change.column}"`);
      cols.splice(i, 1);
      return cols;
    }
    case "rename_column": {
      const i = find(change.from);
      if (i < 0) throw new DbError("COLUMN_NOT_FOUND", `Column "${change.from}" does not exist`);
      if (change.to.startsWith("_")) throw invalid(`Column names cannot start with "_"`);
      if (find(change.to) >= 0) {
        throw new DbError("ALREADY_EXISTS", `Column "${change.to}" already exists`);
      }
      cols[i] = { ...cols[i], name: change.to };
      return cols;
    }
    default:
      return null; // not a column change
  }
}

export const alterTable: Handler<"alter_table"> = (stmt, ctx) => {
  const { catalog, group } = ctx.engine;
  const { namespace, name } = stmt.table;
  const label = `${namespace}.${name}`;
  return group.run(() => {
    const t = catalog.table(namespace, name);
    const cols = alterColumns(t, stmt, ctx);
    if (cols === undefined) return { rowCount: 0, message: `Table ${label} unchanged` };
    if (cols !== null) {
      const next = catalog.alterColumns(t, cols, Date.now());
      return { rowCount: 0, message: `Table ${label} altered (schema version ${next.version})` };
    }
    const change = stmt.change;
    switch (change.action) {
      case "set_ttl":
        if (t.tableType !== "STREAM") throw invalid("SET TTL is only valid on STREAM tables");
        catalog.alterOptions(t, { ttlSeconds: ttlSeconds(change.seconds) });
        break;
      case "set_access_level":
        if (t.tableType !== "SHARED") {
          throw invalid("SET ACCESS_LEVEL is only valid on SHARED tables");
        }
        catalog.alterOptions(t, { accessLevel: accessLevel(change.level) });
        break;
      case "set_flush_policy":
        if (t.tableType === "STREAM") throw invalid("STREAM tables are never flushed");
        catalog.alterOptions(t, { flushPolicy: parseFlushPolicy(change.policy) });
        break;
      case "set_storage":
        if (!catalog.storage(change.storageId)) {
          throw new DbError("NOT_FOUND", `Storage "${change.storageId}" does not exist`);
        }
        if (t.tableType === "STREAM") throw invalid("STREAM tables keep no files to move");
        if (change.storageId === t.storageId) {
          return { rowCount: 0, message: `Table ${label} already uses ${t.storageId}` };
        }
        // The files move in a job (queued below, after this write); reads keep working.
        return { move: change.storageId, rowCount: 0, message: `Table ${label} moving` };
      default:
        throw new DbError("INTERNAL_ERROR", "Unhandled ALTER TABLE action");
    }
    return { rowCount: 0, message: `Table ${label} altered` };
  }).then(async (outcome: Outcome & { move?: string }) => {
    if (!outcome.move) return outcome;
    const id = await ctx.engine.jobs.submit({
      type: "move",
      namespace,
      table: name,
      parameters: { storage_id: outcome.move },
    });
    return {
      rowCount: 0,
      message: `Table ${label} is moving to storage ${outcome.move} (job ${id}); ` +
        "reads keep working meanwhile",
    };
  });
};
