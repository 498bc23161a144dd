// What statement handlers share: the open store's parts, the caller's session and the
// statement's inputs. Handlers are plain functions of (statement, context) → outcome.

import {
  type Cancel,
  msToNs as msToTimestamp,
  type ResultColumn,
  type Row,
  type Statement,
  type TypeName,
  type Value,
} from "../../sql/mod.ts";
import { DbError } from "../../errors.ts";
import type { Role } from "../../auth/mod.ts";
import type {
  Catalog,
  ChangeFeed,
  ChangeLog,
  GroupCommit,
  LiveBridge,
  Snowflake,
  SqliteStore,
  WriteBuffer,
} from "../hot/mod.ts";
import type { ColdTier } from "../cold/mod.ts";
import type { JobRunner } from "../jobs/mod.ts";
import type { ExportsTable } from "../export/mod.ts";
import type { Topics } from "../topics/mod.ts";

/** The parts of one open data directory that statement handlers, jobs and hooks work with. */
export interface StoreParts {
  readonly dataDir: string;
  readonly store: SqliteStore;
  readonly catalog: Catalog;
  readonly buffer: WriteBuffer;
  readonly ids: Snowflake;
  readonly group: GroupCommit;
  /** Parquet segments: flush and merged reads. */
  readonly cold: ColdTier;
  /** Background jobs (flush, compaction, cleanup). */
  readonly jobs: JobRunner;
  /** Per-user exports (SPEC §9). */
  readonly exports: ExportsTable;
  /** Every committed write's entry, for resume. */
  readonly changeLog: ChangeLog;
  /** Topics, their log and consumer groups (SPEC §10). */
  readonly topics: Topics;
  /** Committed changes for live queries. */
  readonly changes: ChangeFeed;
  /** The live-query registry, when a server runs one. */
  readonly live: LiveBridge;
  /**
   * The committed position: every write with a `_seq` up to it is committed (readable), every
   * later write is not yet (its change is still to come). Ids of the open group are above it.
   */
  readonly committedSeq: () => bigint;
  /** How long (and how many) change-log entries are kept for resume. */
  /** How long a written export is kept before the expiry job deletes it. */
  readonly exportRetentionMs: number;
  /** Row versions a table's buffer may hold waiting for a flush (0 = no bound). */
  readonly maxBufferedRows: number;
  readonly changeRetention: { readonly retentionMs: number; readonly maxEntries: number };
}

/** Who runs a statement: the effective user (EXECUTE AS changes it) and that user's role
 * (`anonymous` for a request without credentials). */
export interface Session {
  readonly user: string;
  readonly role: Role;
  /** Inside EXECUTE AS USER: the statement runs on another caller's authority. */
  readonly impersonated?: boolean;
}

export interface StatementContext {
  readonly engine: StoreParts;
  readonly session: Session;
  readonly params: readonly Value[];
  readonly signal?: Cancel;
  /** Statement time, ns. */
  readonly now: bigint;
  /** The server's WebSocket URL when a server runs the statement (see ExecuteOptions). */
  readonly wsUrl?: () => string;
}

/** What a handler returns; the facade adds timing and the statement index. */
export interface Outcome {
  readonly schema?: readonly ResultColumn[];
  readonly types?: readonly TypeName[];
  readonly rows?: readonly Row[];
  readonly rowCount: number;
  readonly message?: string;
}

export type Handler<K extends Statement["kind"]> = (
  stmt: Extract<Statement, { kind: K }>,
  ctx: StatementContext,
) => Promise<Outcome>;

/** Builds a row-returning outcome from column (name, type) pairs. */
export function table(
  columns: readonly (readonly [string, TypeName])[],
  rows: readonly Row[],
): Outcome {
  return {
    schema: columns.map(([name, t]) => ({ name, type: t.base })),
    types: columns.map(([, t]) => t),
    rows,
    rowCount: rows.length,
  };
}

export const T = {
  text: { base: "TEXT" },
  int: { base: "INT" },
  bigint: { base: "BIGINT" },
  bool: { base: "BOOLEAN" },
  double: { base: "DOUBLE" },
  ts: { base: "TIMESTAMP" },
  json: { base: "JSON" },
} as const satisfies Record<string, TypeName>;

/** Milliseconds (catalog timestamps) → the ns TIMESTAMP representation. */
export function msToNs(ms: number | null): bigint | null {
  return ms === null ? null : msToTimestamp(Math.round(ms));
}

/**
 * A storage that fails (down, full, read-only, fsync refused) does not use up the retries of
 * the jobs that write to it: they stay `retrying`, at most 30 s apart, until it is back. Other
 * STORAGE_ERRORs (a missing or corrupt segment) are the data's: 3 retries, then `failed`.
 */
export function storageOutage(err: unknown): boolean {
  return err instanceof DbError && err.code === "STORAGE_ERROR" && err.transient === true;
}
