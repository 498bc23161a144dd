// An in-memory Catalog / TableSource for executor tests. Design decision: it behaves like the
// storage contract (pk order, key seeks, soft-deleted rows hidden unless asked, batches) and
// records every scan's options so tests can assert that a query used a key seek.

import type { TableName, TypeName } from "../ast.ts";
import { DbError } from "../../errors.ts";
import type { Catalog, ScanOptions, TableSchema, TableSource } from "../source.ts";
import { compareValues, valueKey } from "../values.ts";
import type { ColumnSchema, Row } from "../values.ts";

/** One recorded call to `scan`. */
export interface ScanCall {
  readonly table: string;
  readonly options: ScanOptions;
}

/** Column spec for `memoryTable`: `[name, base type, pk?]`. */
export type ColumnSpec = readonly [string, TypeName["base"] | TypeName, boolean?];

/** A table held in memory; rows are full rows including `_seq` and `_deleted` at the end. */
export class MemoryTable implements TableSource {
  readonly schema: TableSchema;
  rows: Row[];
  batchSize = 2;
  /** Called between batches (tests use it to abort mid-scan). */
  onBatch?: () => void;
  readonly calls: ScanCall[];

  constructor(schema: TableSchema, rows: Row[], calls: ScanCall[]) {
    this.schema = schema;
    this.calls = calls;
    const pk = schema.pkIndex;
    this.rows = [...rows].sort((a, b) => compareValues(a[pk]!, b[pk]!));
  }

  async *scan(options: ScanOptions): AsyncIterable<Row[]> {
    this.calls.push({ table: this.schema.name, options });
    const pk = this.schema.pkIndex;
    const deleted = this.schema.columns.length - 1;
    let rows = this.rows.filter((r) => options.includeDeleted || r[deleted] !== true);
    if (options.keys) {
      const wanted = new Set(options.keys.map(valueKey));
      rows = rows.filter((r) => wanted.has(valueKey(r[pk])));
    }
    for (let i = 0; i < rows.length; i += this.batchSize) {
      await Promise.resolve();
      yield rows.slice(i, i + this.batchSize);
      this.onBatch?.();
    }
  }
}

/** A catalog over MemoryTables keyed by `namespace.name`. */
export class MemoryCatalog implements Catalog {
  readonly tables = new Map<string, MemoryTable>();
  readonly calls: ScanCall[] = [];

  /** Adds a table; system columns `_seq BIGINT`, `_deleted BOOLEAN` are appended. */
  add(name: string, columns: readonly ColumnSpec[], rows: Row[]): MemoryTable {
    const [namespace, table] = name.split(".");
    const cols: ColumnSchema[] = columns.map(([n, t, pk], id) => ({
      id,
      name: n,
      type: typeof t === "string" ? { base: t } : t,
      nullable: !pk,
      primaryKey: !!pk,
    }));
    cols.push(
      {
        id: cols.length,
        name: "_seq",
        type: { base: "BIGINT" },
        nullable: false,
        primaryKey: false,
        system: true,
      },
      {
        id: cols.length + 1,
        name: "_deleted",
        type: { base: "BOOLEAN" },
        nullable: false,
        primaryKey: false,
        system: true,
      },
    );
    const schema: TableSchema = {
      namespace,
      name: table,
      tableType: "SHARED",
      version: 1,
      columns: cols,
      pkIndex: columns.findIndex((c) => c[2]),
    };
    let seq = 1n;
    const full = rows.map((r) => r.length === columns.length ? [...r, seq++, false] : r);
    const t = new MemoryTable(schema, full, this.calls);
    this.tables.set(name, t);
    return t;
  }

  table(name: TableName): TableSource {
    const t = this.tables.get(`${name.namespace}.${name.name}`);
    if (!t) {
      throw new DbError("TABLE_NOT_FOUND", `Table "${name.namespace}.${name.name}" does not exist`);
    }
    return t;
  }
}
