// Who may do what (SPEC §5): pure policy over roles and actions, no I/O. The storage side turns
// a statement into actions (with the facts it found about each table, or none when the table
// does not exist) and asks `authorize`. The one design decision: a caller who may not read every
// table gets the same PERMISSION_DENIED text for a table that exists and one that does not, so
// answers never reveal which tables exist.

import { DbError } from "../errors.ts";

/** Roles, weakest first. `anonymous` is a request without credentials. */
export type Role = "anonymous" | "user" | "service" | "dba" | "system";
/** The roles a stored user may have. */
export type UserRole = Exclude<Role, "anonymous">;

export const USER_ROLES: readonly UserRole[] = ["user", "service", "dba", "system"];

const RANK: Record<Role, number> = { anonymous: 0, user: 1, service: 2, dba: 3, system: 4 };

export type TableKind = "USER" | "SHARED" | "STREAM" | "SYSTEM";
export type AccessLevel = "PUBLIC" | "PROTECTED" | "PRIVATE";

/** What policy needs to know about an existing table. */
export interface TableFacts {
  readonly type: TableKind;
  /** Shared tables only; PRIVATE when absent. */
  readonly accessLevel?: AccessLevel;
}

/** One thing a statement wants to do. `facts` is undefined when the table does not exist. */
export type Action =
  | { readonly op: "read" | "write"; readonly table: string; readonly facts?: TableFacts }
  | { readonly op: "create_table"; readonly table: string; readonly tableType: TableKind }
  | { readonly op: "alter_table" | "drop_table"; readonly table: string; readonly system: boolean }
  | { readonly op: "manage_namespaces" | "manage_storages" | "administer" }
  | { readonly op: "maintain" | "list" }
  | { readonly op: "create_user"; readonly role: UserRole }
  | { readonly op: "drop_user"; readonly target: string; readonly targetRole?: UserRole }
  | {
    readonly op: "set_role";
    readonly target: string;
    readonly targetRole?: UserRole;
    readonly role: UserRole;
  }
  | { readonly op: "set_profile"; readonly target: string; readonly targetRole?: UserRole }
  | { readonly op: "execute_as"; readonly target: string; readonly targetRole?: UserRole }
  /** Topics: `manage` (create, drop, clear, sources, SHOW) or use (publish, consume, ack);
   * `impersonated` when the statement runs inside EXECUTE AS USER. */
  | { readonly op: "topic"; readonly manage: boolean; readonly impersonated: boolean };

/** The caller: effective user name and role. */
export interface Principal {
  readonly user: string;
  readonly role: Role;
}

/** True when `role` is `min` or stronger. */
export function atLeast(role: Role, min: Role): boolean {
  return RANK[role] >= RANK[min];
}

/**
 * May `role` read a table with these facts? Undefined facts (no such table) answer true only
 * for roles that may read every non-system table, so the handler reports TABLE_NOT_FOUND to
 * them and PERMISSION_DENIED to everyone else.
 *
 * @example
 * canRead("user", { type: "SHARED", accessLevel: "PROTECTED" }); // true
 */
export function canRead(role: Role, facts: TableFacts | undefined): boolean {
  if (!facts) return atLeast(role, "service");
  switch (facts.type) {
    case "SYSTEM":
      return atLeast(role, "dba");
    case "USER":
    case "STREAM":
      return atLeast(role, "user");
    case "SHARED": {
      const level = facts.accessLevel ?? "PRIVATE";
      if (level === "PUBLIC") return true;
      return atLeast(role, level === "PROTECTED" ? "user" : "service");
    }
  }
}

function canWrite(role: Role, facts: TableFacts | undefined): boolean {
  if (!facts) return atLeast(role, "service");
  switch (facts.type) {
    case "SYSTEM":
      return false;
    case "USER":
    case "STREAM":
      return atLeast(role, "user");
    case "SHARED":
      return atLeast(role, "service");
  }
}

/** Throws PERMISSION_DENIED unless `who` may perform `action`. */
export function authorize(who: Principal, action: Action): void {
  const reason = denial(who, action);
  if (reason) {
    const hint = who.role === "anonymous"
      ? " (anonymous requests may only read PUBLIC shared tables; authenticate first)"
      : "";
    throw new DbError("PERMISSION_DENIED", `Permission denied: role ${who.role} ${reason}${hint}`);
  }
}

/** Why `action` is refused, or undefined when it is allowed. */
function denial(who: Principal, a: Action): string | undefined {
  const { role } = who;
  const need = (min: Role, what: string) => atLeast(role, min) ? undefined : `may not ${what}`;
  switch (a.op) {
    case "read":
      // Same words whether or not the table exists (see the file comment).
      return canRead(role, a.facts) ? undefined : `may not read ${a.table}`;
    case "write":
      return canWrite(role, a.facts) ? undefined : `may not write ${a.table}`;
    case "create_table":
      if (a.tableType === "SYSTEM") return `may not create tables in system`;
      return need(a.tableType === "SHARED" ? "service" : "user", `create ${a.tableType} tables`);
    case "alter_table":
    case "drop_table":
      if (a.system) return `may not ${a.op === "alter_table" ? "alter" : "drop"} ${a.table}`;
      return need("service", `${a.op === "alter_table" ? "alter" : "drop"} tables`);
    case "manage_namespaces":
      return need("dba", "create or drop namespaces");
    case "manage_storages":
      return need("dba", "manage storages");
    case "administer":
      return need("dba", "run this administrative statement");
    case "maintain":
      return need("service", "flush, compact or inspect table storage");
    case "list":
      return need("user", "list or describe the catalog");
    case "create_user":
      return need("dba", "create users") ??
        (a.role === "system" ? need("system", "create a system user") : undefined);
    case "drop_user":
      return need("dba", "drop users") ?? guardSystemUser(role, a.targetRole);
    case "set_role":
      if (a.target === who.user) return "may not change its own role";
      return need("dba", "change roles") ?? guardSystemUser(role, a.targetRole) ??
        (a.role === "system" ? need("system", "grant the system role") : undefined);
    case "set_profile":
      if (a.target === who.user) return need("user", "change a password");
      return need("dba", "change another user") ?? guardSystemUser(role, a.targetRole);
    case "execute_as":
      return executeAs(role, a.targetRole);
    case "topic":
      // A user reaches topics only through a service's EXECUTE AS USER (SPEC §10).
      if (!a.manage && a.impersonated && role === "user") return undefined;
      return need("service", a.manage ? "manage topics" : "publish to or consume topics");
  }
}

function guardSystemUser(role: Role, target: UserRole | undefined): string | undefined {
  return target === "system" && role !== "system" ? "may not manage a system user" : undefined;
}

/** service → users; dba → users and services; system → anyone (SPEC §5). */
function executeAs(role: Role, target: UserRole | undefined): string | undefined {
  if (!atLeast(role, "service")) return "may not use EXECUTE AS USER";
  if (target === undefined || role === "system") return undefined;
  const allowed = role === "dba" ? target === "user" || target === "service" : target === "user";
  return allowed ? undefined : `may not execute as a ${target}`;
}
