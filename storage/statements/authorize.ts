// Turns a statement into the actions auth/policy.ts judges, and checks them before the handler
// resolves any name. Table facts are looked up here only to be handed to the policy, which
// answers the same way for a missing table and a forbidden one (SPEC §5 "permission before
// existence"). EXECUTE AS is checked by the facade: first the right to switch, then the inner
// statement with the target's role.

import {
  type Expr,
  type FromItem,
  type SelectStmt,
  type Statement,
  type TableName,
  visitExpr,
} from "../../sql/mod.ts";
import {
  type AccessLevel,
  type Action,
  authorize,
  type Principal,
  type TableFacts,
  type UserRole,
} from "../../auth/mod.ts";
import { assertNever } from "../../errors.ts";
import type { Catalog } from "../hot/mod.ts";

/** Throws PERMISSION_DENIED unless `who` may run `stmt` (EXECUTE AS: only the switch itself). */
export function authorizeStatement(
  catalog: Catalog,
  who: Principal & { readonly impersonated?: boolean },
  stmt: Statement,
): void {
  // system may do everything but change its own role; skip the lookups for the rest.
  if (who.role === "system" && stmt.kind !== "alter_user") return;
  for (const action of actionsOf(catalog, stmt, who.impersonated ?? false)) {
    authorize(who, action);
  }
}

/** What policy knows about `ns.name`; undefined when it does not exist. */
export function tableFacts(
  catalog: Catalog,
  t: Pick<TableName, "namespace" | "name">,
): TableFacts | undefined {
  if (t.namespace === "system") return { type: "SYSTEM" };
  const info = catalog.findTable(t.namespace, t.name);
  if (!info) return undefined;
  return { type: info.tableType, accessLevel: (info.accessLevel ?? undefined) as AccessLevel };
}

function actionsOf(catalog: Catalog, stmt: Statement, impersonated: boolean): Action[] {
  const name = (t: TableName) => `${t.namespace}.${t.name}`;
  const on = (op: "read" | "write", t: TableName): Action => ({
    op,
    table: name(t),
    facts: tableFacts(catalog, t),
  });
  const roleOf = (user: string) => catalog.user(user)?.role as UserRole | undefined;
  switch (stmt.kind) {
    case "select":
      return tablesRead(stmt).map((t) => on("read", t));
    case "subscribe":
      return tablesRead(stmt.query).map((t) => on("read", t));
    case "insert":
    case "update":
    case "delete": {
      // Subqueries in WHERE / VALUES / RETURNING read other tables.
      const reads: TableName[] = [];
      const exprs: Expr[] = stmt.kind === "insert"
        ? stmt.rows.flat()
        : stmt.kind === "update"
        ? [...stmt.set.map((s) => s.value), ...(stmt.where ? [stmt.where] : [])]
        : stmt.where
        ? [stmt.where]
        : [];
      for (const e of exprs) collectFromExpr(e, reads);
      return [on("write", stmt.table), ...reads.map((t) => on("read", t))];
    }
    case "describe":
      return [{ op: "list" }, on("read", stmt.table)];
    case "create_table":
      return [{
        op: "create_table",
        table: name(stmt.table),
        tableType: stmt.table.namespace === "system" ? "SYSTEM" : declaredType(stmt),
      }];
    case "drop_table":
    case "alter_table":
      return [{
        op: stmt.kind,
        table: name(stmt.table),
        system: stmt.table.namespace === "system",
      }];
    case "create_namespace":
    case "drop_namespace":
      return [{ op: "manage_namespaces" }];
    case "create_storage":
    case "alter_storage":
    case "drop_storage":
      return [{ op: "manage_storages" }];
    case "create_user":
      return [{ op: "create_user", role: stmt.role }];
    case "drop_user":
      return [{ op: "drop_user", target: stmt.name, targetRole: roleOf(stmt.name) }];
    case "alter_user":
      return stmt.change.set === "role"
        ? [{
          op: "set_role",
          target: stmt.name,
          targetRole: roleOf(stmt.name),
          role: stmt.change.role,
        }]
        : [{ op: "set_profile", target: stmt.name, targetRole: roleOf(stmt.name) }];
    case "execute_as":
      return [{ op: "execute_as", target: stmt.user, targetRole: roleOf(stmt.user) }];
    case "show":
      return [showAction(stmt.target)];
    case "flush":
    case "compact":
      return [{ op: "maintain" }];
    case "kill":
      return [{ op: "administer" }];
    case "export_user_data":
      return [{ op: "list" }];
    case "create_topic":
    case "drop_topic":
    case "clear_topic":
    case "alter_topic":
      return [{ op: "topic", manage: true, impersonated }];
    case "publish":
    case "consume":
    case "ack":
      return [{ op: "topic", manage: false, impersonated }];
    default:
      return assertNever(stmt, "statement");
  }
}

/** SHOW NAMESPACES/TABLES/LIVE QUERIES/EXPORTS list; STATS maintains; the rest administers. */
function showAction(target: Extract<Statement, { kind: "show" }>["target"]): Action {
  switch (target.what) {
    case "namespaces":
    case "tables":
    case "live_queries":
    case "exports":
      return { op: "list" };
    case "stats":
      return { op: "maintain" };
    case "topics":
      return { op: "topic", manage: true, impersonated: false };
    case "storages":
    case "users":
    case "jobs":
      return { op: "administer" };
    default:
      return assertNever(target, "SHOW target");
  }
}

/** The table type a CREATE TABLE asks for: prefix, else `WITH (TYPE = …)`, else SHARED. */
function declaredType(stmt: Extract<Statement, { kind: "create_table" }>) {
  if (stmt.typePrefix) return stmt.typePrefix;
  const opt = stmt.options.find((o) => o.key === "TYPE");
  const t = String(opt?.value ?? "SHARED").toUpperCase();
  return t === "USER" || t === "STREAM" ? t : "SHARED";
}

/** Every table a SELECT reads: FROM items, joins, and subqueries anywhere in it. */
export function tablesRead(q: SelectStmt): TableName[] {
  const out: TableName[] = [];
  collectFromSelect(q, out);
  return out;
}

function collectFromSelect(q: SelectStmt, out: TableName[]): void {
  if (q.from) collectFromItem(q.from, out);
  const exprs: (Expr | undefined)[] = [
    ...q.items.map((i) => i.expr),
    q.where,
    ...q.groupBy,
    q.having,
    ...q.orderBy.map((o) => o.expr),
  ];
  for (const e of exprs) if (e) collectFromExpr(e, out);
}

function collectFromItem(item: FromItem, out: TableName[]): void {
  switch (item.kind) {
    case "table_ref":
      out.push(item.table);
      return;
    case "subquery_ref":
      return collectFromSelect(item.query, out);
    case "join":
      collectFromItem(item.left, out);
      collectFromItem(item.right, out);
      if (item.on) collectFromExpr(item.on, out);
      return;
    default:
      assertNever(item, "FROM item");
  }
}

function collectFromExpr(expr: Expr, out: TableName[]): void {
  visitExpr(expr, (e) => {
    if (e.kind === "subquery" || e.kind === "exists" || e.kind === "in_subquery") {
      collectFromSelect(e.query, out);
    }
  });
}
