// The statement nodes of the syntax tree other than SELECT: DML, DDL, users, SHOW and the
// maintenance and live-query commands, and the Statement union over all of them. Split from
// ast.ts (which re-exports everything here) so each file stays readable; the shared pieces
// (spans, names, types, expressions, SELECT) live there.

import type { Expr, SelectItem, SelectStmt, Span, TableName, TypeName } from "./ast.ts";

// ---------------------------------------------------------------- DML

export interface InsertStmt {
  readonly kind: "insert";
  readonly table: TableName;
  /** Empty means all user columns in table order. */
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Expr[])[];
  readonly returning?: readonly SelectItem[];
  readonly span: Span;
}

export interface UpdateStmt {
  readonly kind: "update";
  readonly table: TableName;
  readonly set: readonly { readonly column: string; readonly value: Expr }[];
  readonly where?: Expr;
  readonly returning?: readonly SelectItem[];
  readonly span: Span;
}

export interface DeleteStmt {
  readonly kind: "delete";
  readonly table: TableName;
  readonly where?: Expr;
  readonly returning?: readonly SelectItem[];
  readonly span: Span;
}

// ---------------------------------------------------------------- DDL

export interface ColumnDef {
  readonly name: string;
  readonly type: TypeName;
  readonly notNull: boolean;
  readonly primaryKey: boolean;
  readonly default?: Expr;
  /** Written as BIGSERIAL / AUTO_INCREMENT: means DEFAULT SNOWFLAKE_ID(). */
  readonly autoIncrement: boolean;
  readonly span: Span;
}

/** `WITH (KEY = value, …)` or `OPTIONS (…)`: keys upper-cased, values as written. */
export interface OptionItem {
  readonly key: string;
  readonly value: string | number | boolean;
  readonly span: Span;
}

export type TableType = "USER" | "SHARED" | "STREAM";

export interface CreateNamespaceStmt {
  readonly kind: "create_namespace";
  readonly name: string;
  readonly ifNotExists: boolean;
  readonly span: Span;
}

export interface DropNamespaceStmt {
  readonly kind: "drop_namespace";
  readonly name: string;
  readonly ifExists: boolean;
  readonly cascade: boolean;
  readonly span: Span;
}

export interface CreateTableStmt {
  readonly kind: "create_table";
  readonly table: TableName;
  /** The `CREATE USER TABLE` prefix, if any. */
  readonly typePrefix?: TableType;
  readonly ifNotExists: boolean;
  readonly columns: readonly ColumnDef[];
  /** Table-level `PRIMARY KEY (col)`. */
  readonly primaryKey?: readonly string[];
  readonly options: readonly OptionItem[];
  readonly span: Span;
}

export interface DropTableStmt {
  readonly kind: "drop_table";
  readonly table: TableName;
  readonly ifExists: boolean;
  readonly span: Span;
}

export type AlterTableAction =
  | { readonly action: "add_column"; readonly column: ColumnDef; readonly ifNotExists: boolean }
  | { readonly action: "drop_column"; readonly column: string; readonly ifExists: boolean }
  | { readonly action: "rename_column"; readonly from: string; readonly to: string }
  | { readonly action: "set_ttl"; readonly seconds: number }
  | { readonly action: "set_storage"; readonly storageId: string }
  | { readonly action: "set_access_level"; readonly level: string }
  | { readonly action: "set_flush_policy"; readonly policy: string };

export interface AlterTableStmt {
  readonly kind: "alter_table";
  readonly table: TableName;
  readonly change: AlterTableAction;
  readonly span: Span;
}

export interface CreateStorageStmt {
  readonly kind: "create_storage";
  readonly id: string;
  readonly ifNotExists: boolean;
  /** `filesystem` or `s3`, lower-cased. */
  readonly storageType: string;
  /** PATH, BUCKET, ENDPOINT, REGION, CREDENTIALS, SHARED_TABLES_TEMPLATE, USER_TABLES_TEMPLATE… (upper-cased keys). */
  readonly settings: readonly OptionItem[];
  readonly span: Span;
}

export interface AlterStorageStmt {
  readonly kind: "alter_storage";
  readonly id: string;
  readonly settings: readonly OptionItem[];
  readonly span: Span;
}

export interface DropStorageStmt {
  readonly kind: "drop_storage";
  readonly id: string;
  readonly ifExists: boolean;
  readonly span: Span;
}

// ---------------------------------------------------------------- users

export type Role = "user" | "service" | "dba" | "system";

export interface CreateUserStmt {
  readonly kind: "create_user";
  readonly name: string;
  readonly ifNotExists: boolean;
  readonly password: string;
  readonly role: Role;
  readonly email?: string;
  readonly span: Span;
}

export interface AlterUserStmt {
  readonly kind: "alter_user";
  readonly name: string;
  readonly change:
    | { readonly set: "password"; readonly password: string }
    | { readonly set: "role"; readonly role: Role }
    | { readonly set: "email"; readonly email: string };
  readonly span: Span;
}

export interface DropUserStmt {
  readonly kind: "drop_user";
  readonly name: string;
  readonly ifExists: boolean;
  readonly span: Span;
}

export interface ExecuteAsStmt {
  readonly kind: "execute_as";
  readonly user: string;
  readonly statement: Statement;
  readonly span: Span;
}

// ---------------------------------------------------------------- SHOW / maintenance / live

export type ShowWhat =
  | { readonly what: "namespaces" }
  | { readonly what: "tables"; readonly namespace?: string }
  | { readonly what: "storages" }
  | { readonly what: "users" }
  | { readonly what: "live_queries" }
  | { readonly what: "jobs" }
  | { readonly what: "exports" }
  | { readonly what: "topics"; readonly namespace?: string }
  | { readonly what: "stats"; readonly table: TableName };

export interface ShowStmt {
  readonly kind: "show";
  readonly target: ShowWhat;
  readonly span: Span;
}

export interface DescribeStmt {
  readonly kind: "describe";
  readonly table: TableName;
  readonly span: Span;
}

export interface FlushStmt {
  readonly kind: "flush";
  /** One table, or every table in `namespace`. */
  readonly table?: TableName;
  readonly namespace?: string;
  readonly span: Span;
}

export interface CompactStmt {
  readonly kind: "compact";
  readonly table: TableName;
  readonly span: Span;
}

export interface KillStmt {
  readonly kind: "kill";
  readonly target: "job" | "live_query";
  readonly id: string;
  readonly span: Span;
}

export interface ExportStmt {
  readonly kind: "export_user_data";
  readonly span: Span;
}

export interface SubscribeStmt {
  readonly kind: "subscribe";
  /** `SUBSCRIBE TO app.t WHERE …` as the equivalent `SELECT * FROM app.t WHERE …`. */
  readonly query: SelectStmt;
  readonly options: readonly OptionItem[];
  readonly span: Span;
}

// ---------------------------------------------------------------- topics (SPEC §10)

export interface CreateTopicStmt {
  readonly kind: "create_topic";
  readonly topic: TableName;
  readonly ifNotExists: boolean;
  readonly partitions?: number;
  /** RETENTION_SECONDS, VISIBILITY_TIMEOUT_SECONDS, MAX_DELIVERIES, DEAD_LETTER. */
  readonly options: readonly OptionItem[];
  readonly span: Span;
}

export interface DropTopicStmt {
  readonly kind: "drop_topic";
  readonly topic: TableName;
  readonly ifExists: boolean;
  readonly span: Span;
}

export interface ClearTopicStmt {
  readonly kind: "clear_topic";
  readonly topic: TableName;
  readonly span: Span;
}

export type SourceOp = "insert" | "update" | "delete";

export type AlterTopicAction =
  | {
    readonly action: "add_source";
    readonly table: TableName;
    readonly ops: readonly SourceOp[];
    readonly where?: Expr;
    /** PAYLOAD = 'full' | 'key' | 'diff'. */
    readonly options: readonly OptionItem[];
  }
  | { readonly action: "drop_source"; readonly table: TableName };

export interface AlterTopicStmt {
  readonly kind: "alter_topic";
  readonly topic: TableName;
  readonly change: AlterTopicAction;
  readonly span: Span;
}

export interface PublishStmt {
  readonly kind: "publish";
  readonly topic: TableName;
  readonly key?: Expr;
  readonly messageId?: Expr;
  /** A JSON text (a string literal or a parameter). */
  readonly payload: Expr;
  readonly span: Span;
}

/** Where a group that has never consumed a partition starts. */
export type ConsumeFrom = "earliest" | "latest" | number;

export interface ConsumeStmt {
  readonly kind: "consume";
  readonly topic: TableName;
  readonly group: string;
  readonly consumer?: string;
  readonly from?: ConsumeFrom;
  readonly limit?: number;
  readonly waitMs?: number;
  readonly span: Span;
}

/** `ACK` (nack false) or `NACK … [DELAY s]` of (partition, offset) pairs. */
export interface AckStmt {
  readonly kind: "ack";
  readonly nack: boolean;
  readonly topic: TableName;
  readonly group: string;
  /** Only claims of this consumer are settled (a late ACK/NACK after a re-claim is not). */
  readonly consumer?: string;
  readonly offsets: readonly (readonly [number, number])[];
  /**
   * `OFFSETS $n`: the pairs come in parameter n as JSON (`[[partition, offset], …]`), so one
   * prepared text serves every batch; `offsets` is empty then.
   */
  readonly offsetsParam?: number;
  readonly delaySeconds?: number;
  readonly span: Span;
}

export type Statement =
  | SelectStmt
  | InsertStmt
  | UpdateStmt
  | DeleteStmt
  | CreateNamespaceStmt
  | DropNamespaceStmt
  | CreateTableStmt
  | DropTableStmt
  | AlterTableStmt
  | CreateStorageStmt
  | AlterStorageStmt
  | DropStorageStmt
  | CreateUserStmt
  | AlterUserStmt
  | DropUserStmt
  | ExecuteAsStmt
  | ShowStmt
  | DescribeStmt
  | FlushStmt
  | CompactStmt
  | KillStmt
  | ExportStmt
  | SubscribeStmt
  | CreateTopicStmt
  | DropTopicStmt
  | ClearTopicStmt
  | AlterTopicStmt
  | PublishStmt
  | ConsumeStmt
  | AckStmt;
