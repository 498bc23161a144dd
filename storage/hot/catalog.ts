// The catalog: namespaces, tables with versioned schemas, storages and users, persisted in
// SQLite and mirrored in memory so that name resolution never touches disk. Mutations write
// through the writer connection inside the caller's transaction; the in-memory mirror is
// reloaded from disk if a transaction rolls back.

import type { ColumnSchema, Role, TableSchema, TableType } from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import { makeDecoder, type RowDecoder, type StoredColumn } from "./row_codec.ts";
import type { SqliteStore } from "./sqlite.ts";

export interface TableInfo {
  readonly id: number;
  readonly namespace: string;
  readonly name: string;
  readonly tableType: TableType;
  readonly storageId: string;
  readonly accessLevel: string | null;
  readonly flushPolicy: string | null;
  readonly ttlSeconds: number | null;
  readonly version: number;
  readonly createdAt: number;
  /** Current user columns. */
  readonly columns: readonly StoredColumn[];
  /** Current columns plus `_seq`, `_deleted`: what the executor sees. */
  readonly schema: TableSchema;
  /** Decoder from each stored schema version to the current columns. */
  readonly decoders: ReadonlyMap<number, RowDecoder>;
  /** The stored columns of every schema version (what a flush worker needs to decode rows). */
  readonly versions: ReadonlyMap<number, readonly StoredColumn[]>;
}

export interface UserInfo {
  readonly name: string;
  readonly role: Role;
  readonly passwordHash: string | null;
  readonly email: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface StorageInfo {
  readonly id: string;
  readonly type: string;
  readonly config: Readonly<Record<string, string>>;
  readonly hasCredentials: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export const SYSTEM_COLUMNS: readonly ColumnSchema[] = [
  {
    id: -1,
    name: "_seq",
    type: { base: "BIGINT" },
    nullable: false,
    primaryKey: false,
    system: true,
  },
  {
    id: -2,
    name: "_deleted",
    type: { base: "BOOLEAN" },
    nullable: false,
    primaryKey: false,
    system: true,
  },
];

type Rec = Record<string, unknown>;
const num = (v: unknown): number => Number(v);
const optNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const optStr = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Catalog versions are unique across every catalog in the process (see `Catalog.version`). */
let generations = 0;

export class Catalog {
  #store: SqliteStore;
  #namespaces = new Map<string, number>();
  #tables = new Map<string, TableInfo>();
  #users = new Map<string, UserInfo>();
  #storages = new Map<string, StorageInfo>();
  /** Set by every mutation; a rolled-back statement reloads only when something changed. */
  #dirty = false;
  #version = ++generations;

  constructor(store: SqliteStore) {
    this.#store = store;
    this.reload();
  }

  /**
   * Resyncs with disk after a rollback: a whole rolled-back group always reloads; a single
   * rolled-back statement reloads only if the catalog was mutated since the last reload (a failed
   * INSERT does not pay for it).
   */
  resync(whole: boolean): void {
    if (whole || this.#dirty) this.reload();
  }

  /**
   * Changes whenever the catalog may have changed (every mutation and reload), and is never the
   * same in two catalogs: what was compiled against one version (a cached SELECT plan) is valid
   * while it lasts.
   */
  get version(): number {
    return this.#version;
  }

  /** Marks a mutation: resync must reload, cached plans are stale. */
  #touch(): void {
    this.#dirty = true;
    this.#version = ++generations;
  }

  /** Re-reads everything from disk (after open, and after a rolled-back transaction). */
  reload(): void {
    this.#dirty = false;
    this.#version = ++generations;
    const s = this.#store;
    this.#namespaces.clear();
    for (const r of s.records("SELECT name, created_at FROM namespaces").all() as Rec[]) {
      this.#namespaces.set(String(r.name), num(r.created_at));
    }
    this.#tables.clear();
    for (const r of s.records("SELECT * FROM tables").all() as Rec[]) this.#loadTable(r);
    this.#users.clear();
    for (const r of s.records("SELECT * FROM users").all() as Rec[]) {
      this.#users.set(String(r.name), {
        name: String(r.name),
        role: String(r.role) as Role,
        passwordHash: optStr(r.password_hash),
        email: optStr(r.email),
        createdAt: num(r.created_at),
        updatedAt: num(r.updated_at),
      });
    }
    this.#storages.clear();
    for (const r of s.records("SELECT * FROM storages").all() as Rec[]) {
      this.#storages.set(String(r.storage_id), {
        id: String(r.storage_id),
        type: String(r.storage_type),
        config: JSON.parse(String(r.config)),
        hasCredentials: r.credentials !== null,
        createdAt: num(r.created_at),
        updatedAt: num(r.updated_at),
      });
    }
  }

  #loadTable(r: Rec): TableInfo {
    const id = num(r.table_id);
    const versions = new Map<number, StoredColumn[]>();
    for (
      const v of this.#store.records(
        "SELECT version, columns FROM table_schemas WHERE table_id = ?",
      )
        .all(id) as Rec[]
    ) {
      versions.set(num(v.version), JSON.parse(String(v.columns)));
    }
    const version = num(r.schema_version);
    const columns = versions.get(version) ?? [];
    const decoders = new Map<number, RowDecoder>();
    for (const [v, cols] of versions) decoders.set(v, makeDecoder(cols, columns));
    const namespace = String(r.namespace);
    const name = String(r.name);
    const tableType = String(r.table_type) as TableType;
    const all = [...columns, ...SYSTEM_COLUMNS];
    const info: TableInfo = {
      id,
      namespace,
      name,
      tableType,
      storageId: String(r.storage_id),
      accessLevel: optStr(r.access_level),
      flushPolicy: optStr(r.flush_policy),
      ttlSeconds: optNum(r.ttl_seconds),
      version,
      createdAt: num(r.created_at),
      columns,
      schema: {
        namespace,
        name,
        tableType,
        version,
        columns: all,
        pkIndex: all.findIndex((c) => c.primaryKey),
      },
      decoders,
      versions,
    };
    this.#tables.set(`${namespace}.${name}`, info);
    return info;
  }

  // ------------------------------------------------------------ namespaces

  hasNamespace(name: string): boolean {
    return this.#namespaces.has(name);
  }

  namespaces(): [string, number][] {
    return [...this.#namespaces].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }

  createNamespace(name: string, now: number): void {
    this.#touch();
    this.#store.writer("INSERT INTO namespaces (name, created_at) VALUES (?, ?)").run(name, now);
    this.#namespaces.set(name, now);
  }

  dropNamespace(name: string): void {
    this.#touch();
    this.#store.writer("DELETE FROM namespaces WHERE name = ?").run(name);
    this.#namespaces.delete(name);
  }

  // ------------------------------------------------------------ tables

  /** Resolves `ns.name` or throws NAMESPACE_NOT_FOUND / TABLE_NOT_FOUND. */
  table(namespace: string, name: string): TableInfo {
    const t = this.#tables.get(`${namespace}.${name}`);
    if (t) return t;
    if (!this.#namespaces.has(namespace)) {
      throw new DbError("NAMESPACE_NOT_FOUND", `Namespace "${namespace}" does not exist`);
    }
    throw new DbError("TABLE_NOT_FOUND", `Table "${namespace}.${name}" does not exist`);
  }

  findTable(namespace: string, name: string): TableInfo | undefined {
    return this.#tables.get(`${namespace}.${name}`);
  }

  tables(): TableInfo[] {
    return [...this.#tables.values()].sort((a, b) =>
      a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : a.namespace < b.namespace ? -1 : 1
    );
  }

  createTable(
    t: Omit<TableInfo, "id" | "version" | "schema" | "decoders" | "versions" | "columns">,
    columns: readonly StoredColumn[],
  ): TableInfo {
    this.#touch();
    const res = this.#store.writer(
      `INSERT INTO tables (namespace, name, table_type, storage_id, access_level, flush_policy,
        ttl_seconds, schema_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)`,
    ).run(
      t.namespace,
      t.name,
      t.tableType,
      t.storageId,
      t.accessLevel,
      t.flushPolicy,
      t.ttlSeconds,
      t.createdAt,
    );
    const id = Number(res.lastInsertRowid);
    this.#store.writer(
      "INSERT INTO table_schemas (table_id, version, columns, created_at) VALUES (?, 1, ?, ?)",
    ).run(id, JSON.stringify(columns), t.createdAt);
    return this.#reloadTable(id);
  }

  /** Stores a new schema version with `columns` as the current columns. */
  alterColumns(table: TableInfo, columns: readonly StoredColumn[], now: number): TableInfo {
    this.#touch();
    const version = table.version + 1;
    this.#store.writer(
      "INSERT INTO table_schemas (table_id, version, columns, created_at) VALUES (?, ?, ?, ?)",
    ).run(table.id, version, JSON.stringify(columns), now);
    this.#store.writer("UPDATE tables SET schema_version = ? WHERE table_id = ?").run(
      version,
      table.id,
    );
    return this.#reloadTable(table.id);
  }

  /** Updates table options (ttl, access level, flush policy, storage). */
  alterOptions(
    table: TableInfo,
    change: Partial<Pick<TableInfo, "ttlSeconds" | "accessLevel" | "flushPolicy" | "storageId">>,
  ): TableInfo {
    this.#touch();
    const next = { ...table, ...change };
    this.#store.writer(
      `UPDATE tables SET ttl_seconds = ?, access_level = ?, flush_policy = ?, storage_id = ?
        WHERE table_id = ?`,
    ).run(next.ttlSeconds, next.accessLevel, next.flushPolicy, next.storageId, table.id);
    return this.#reloadTable(table.id);
  }

  dropTable(table: TableInfo): void {
    this.#touch();
    const s = this.#store;
    s.writer("DELETE FROM tables WHERE table_id = ?").run(table.id);
    s.writer("DELETE FROM table_schemas WHERE table_id = ?").run(table.id);
    this.#tables.delete(`${table.namespace}.${table.name}`);
  }

  #reloadTable(id: number): TableInfo {
    const r = this.#store.records("SELECT * FROM tables WHERE table_id = ?").get(id) as Rec;
    const old = [...this.#tables.values()].find((t) => t.id === id);
    if (old) this.#tables.delete(`${old.namespace}.${old.name}`);
    return this.#loadTable(r);
  }

  // ------------------------------------------------------------ users

  user(name: string): UserInfo | undefined {
    return this.#users.get(name);
  }

  users(): UserInfo[] {
    return [...this.#users.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  putUser(u: UserInfo): void {
    this.#touch();
    this.#store.writer(
      `INSERT INTO users (name, role, password_hash, email, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET role = excluded.role,
        password_hash = excluded.password_hash, email = excluded.email,
        updated_at = excluded.updated_at`,
    ).run(u.name, u.role, u.passwordHash, u.email, u.createdAt, u.updatedAt);
    this.#users.set(u.name, u);
  }

  dropUser(name: string): void {
    this.#touch();
    this.#store.writer("DELETE FROM users WHERE name = ?").run(name);
    this.#users.delete(name);
  }

  // ------------------------------------------------------------ storages

  storage(id: string): StorageInfo | undefined {
    return this.#storages.get(id);
  }

  storages(): StorageInfo[] {
    return [...this.#storages.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** A storage's credentials JSON (never shown back to users), or null. */
  storageSecret(id: string): string | null {
    const v = this.#store.writer("SELECT credentials FROM storages WHERE storage_id = ?")
      .get(id)?.[0];
    return typeof v === "string" ? v : null;
  }

  putStorage(
    s: Omit<StorageInfo, "hasCredentials">,
    credentials: string | null | undefined,
  ): void {
    this.#touch();
    this.#store.writer(
      `INSERT INTO storages (storage_id, storage_type, config, credentials, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (storage_id) DO UPDATE SET
        storage_type = excluded.storage_type, config = excluded.config,
        credentials = COALESCE(excluded.credentials, storages.credentials),
        updated_at = excluded.updated_at`,
    ).run(s.id, s.type, JSON.stringify(s.config), credentials ?? null, s.createdAt, s.updatedAt);
    const had = this.#storages.get(s.id)?.hasCredentials ?? false;
    this.#storages.set(s.id, { ...s, hasCredentials: had || !!credentials });
  }

  dropStorage(id: string): void {
    this.#touch();
    this.#store.writer("DELETE FROM storages WHERE storage_id = ?").run(id);
    this.#storages.delete(id);
  }
}
