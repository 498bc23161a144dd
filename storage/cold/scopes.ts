// Which scopes have segments: the `cold_scopes` table (the owner of every statement on it; its
// DDL is in hot/sqlite.ts's one SCHEMA) and its copy in memory. A scope that is not listed has no cold data, so its reads cost nothing extra; SHOW
// STATS reads the figures without opening a manifest.

import type { SqliteStore } from "../hot/mod.ts";
import type { Manifest } from "./manifest.ts";

/** What `cold_scopes` records per scope (SHOW STATS, read fast path). */
export interface ScopeStats {
  readonly rows: number;
  readonly segments: number;
  readonly bytes: number;
  readonly lastFlushMs: number;
}

const NO_SCOPES: ReadonlyMap<string, ScopeStats> = new Map();

export class ColdScopes {
  #store: SqliteStore;
  #tables = new Map<number, Map<string, ScopeStats>>();

  constructor(store: SqliteStore) {
    this.#store = store;
    for (const r of store.writer("SELECT * FROM cold_scopes").all()) {
      this.#scopes(Number(r[0])).set(String(r[1]), {
        rows: Number(r[2]),
        segments: Number(r[3]),
        bytes: Number(r[4]),
        lastFlushMs: Number(r[5]),
      });
    }
  }

  /** Per-scope stats of a table (empty when nothing was flushed). */
  of(tableId: number): ReadonlyMap<string, ScopeStats> {
    return this.#tables.get(tableId) ?? NO_SCOPES;
  }

  has(tableId: number, userId: string): boolean {
    return this.#tables.get(tableId)?.has(userId) ?? false;
  }

  /** Readers merge the scope from now on (memory only; `record` persists). */
  show(tableId: number, userId: string, m: Manifest): void {
    if (m.segments.length) this.#scopes(tableId).set(userId, scopeStats(m));
    else this.#scopes(tableId).delete(userId);
  }

  /** Persists the scope's figures, or its removal when `m` has no segment (inside a write). */
  record(tableId: number, userId: string, m: Manifest): void {
    if (m.segments.length === 0) {
      this.#store.writer("DELETE FROM cold_scopes WHERE table_id = ? AND user_id = ?")
        .run(tableId, userId);
      return;
    }
    const s = scopeStats(m);
    this.#store.writer(
      `INSERT INTO cold_scopes (table_id, user_id, rows, segments, bytes, last_flush_ms)
        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (table_id, user_id) DO UPDATE SET
        rows = excluded.rows, segments = excluded.segments, bytes = excluded.bytes,
        last_flush_ms = excluded.last_flush_ms`,
    ).run(tableId, userId, s.rows, s.segments, s.bytes, s.lastFlushMs);
  }

  /** Forgets one scope's row (inside a write); `unlist` it once that committed. */
  forgetScope(tableId: number, userId: string): void {
    this.#store.writer("DELETE FROM cold_scopes WHERE table_id = ? AND user_id = ?")
      .run(tableId, userId);
  }

  /** Readers see no segment of the scope from now on (after `forgetScope` committed). */
  unlist(tableId: number, userId: string): void {
    this.#tables.get(tableId)?.delete(userId);
  }

  /** Forgets a dropped table's scopes (inside the DROP's write). */
  dropTable(tableId: number): void {
    this.#store.writer("DELETE FROM cold_scopes WHERE table_id = ?").run(tableId);
    this.#tables.delete(tableId);
  }

  #scopes(tableId: number): Map<string, ScopeStats> {
    let m = this.#tables.get(tableId);
    if (!m) this.#tables.set(tableId, m = new Map());
    return m;
  }
}

function scopeStats(m: Manifest): ScopeStats {
  return {
    rows: m.segments.reduce((n, s) => n + s.rows, 0),
    segments: m.segments.length,
    bytes: m.segments.reduce((n, s) => n + s.bytes, 0),
    lastFlushMs: m.lastFlushMs,
  };
}
