// Counters of the write buffer: buffered versions per table and scope (live rows and deletion
// markers), counted once — a scope when first read, all of a table when first listed — and then
// kept by every write, so an empty scope's reads and the flush policy's look cost no query.
// Changes of the open write group are journaled so that a rolled-back statement or group takes
// its counts back with it. The counting queries belong to the buffer, which passes them in.

/** One scope's buffered versions: live rows and deletion markers. */
export interface ScopeRows {
  rows: number;
  deleted: number;
}

/** The buffer's counting queries: every scope of a table, or one scope. */
export interface Counting {
  table(tableId: number): [user: string, rows: number, deleted: number][];
  scope(tableId: number, userId: string): ScopeRows;
}

/** A table's counters: every scope (`complete`), or the scopes asked for so far. */
interface TableCounts {
  complete: boolean;
  users: Map<string, ScopeRows>;
}

const NONE: Readonly<ScopeRows> = { rows: 0, deleted: 0 };

export class ScopeCounts {
  #counting: Counting;
  #scopes = new Map<number, TableCounts>();
  #journal: { table: number; user: string; rows: number; deleted: number }[] = [];
  #mark = 0;
  /** Tables counted during the open group (their count may include what rolls back). */
  #countedInGroup = new Set<number>();
  #pending = new Map<number, number>();

  constructor(counting: Counting) {
    this.#counting = counting;
  }

  /**
   * The buffered versions of each scope of a table (users for USER/STREAM tables, "" for SHARED),
   * kept as counters: no scan after the first call. Only scopes with versions are listed.
   */
  of(tableId: number): ReadonlyMap<string, Readonly<ScopeRows>> {
    let t = this.#scopes.get(tableId);
    if (!t?.complete) {
      t = { complete: true, users: new Map() };
      for (const [user, rows, deleted] of this.#counting.table(tableId)) {
        t.users.set(user, { rows, deleted });
      }
      this.#scopes.set(tableId, t);
      this.#countedInGroup.add(tableId);
    }
    return t.users;
  }

  /** True when the scope has no buffered version (so a read can skip the buffer). */
  isEmpty(tableId: number, userId: string): boolean {
    const c = this.#scope(tableId, userId);
    return c.rows === 0 && c.deleted === 0;
  }

  /** One scope's counters (counted by an index range the first time it is asked for). */
  #scope(tableId: number, userId: string): Readonly<ScopeRows> {
    let t = this.#scopes.get(tableId);
    let c = t?.users.get(userId);
    if (c) return c;
    if (t?.complete) return NONE;
    if (!t) this.#scopes.set(tableId, t = { complete: false, users: new Map() });
    c = this.#counting.scope(tableId, userId);
    t.users.set(userId, c);
    this.#countedInGroup.add(tableId);
    return c;
  }

  /** The counters of a scope that is counted (a partly counted table tracks only some). */
  tracked(table: number, user: string): ScopeRows | undefined {
    const t = this.#scopes.get(table);
    return t?.users.get(user) ?? (t?.complete ? { rows: 0, deleted: 0 } : undefined);
  }

  /** Counts `rows` live versions and `deleted` markers more (or fewer) in a scope. */
  count(table: number, user: string, rows: number, deleted: number): void {
    if (rows === 0 && deleted === 0) return;
    const c = this.tracked(table, user);
    if (!c) return;
    this.#adjust(table, user, c, rows, deleted);
    this.#journal.push({ table, user, rows, deleted });
  }

  #adjust(table: number, user: string, c: ScopeRows, rows: number, deleted: number): void {
    const t = this.#scopes.get(table)!;
    c.rows += rows;
    c.deleted += deleted;
    // A complete table lists only scopes with versions; a partial one remembers zeros too.
    if (t.complete && c.rows <= 0 && c.deleted <= 0) t.users.delete(user);
    else t.users.set(user, c);
  }

  /**
   * A flush deleted `n` of a scope's versions, having read `rows` live ones and `deleted`
   * markers there; when a write replaced some in between (n differs), the table is counted again
   * on next use.
   */
  removed(tableId: number, userId: string, n: number, rows: number, deleted: number): void {
    if (n === rows + deleted) this.count(tableId, userId, -rows, -deleted);
    else this.#scopes.delete(tableId);
  }

  /** Forgets a table's scope counters (counted again on next use). */
  forget(tableId: number): void {
    this.#scopes.delete(tableId);
  }

  /** Forgets everything of a dropped table. */
  dropTable(tableId: number): void {
    this.#pending.delete(tableId);
    this.#scopes.delete(tableId);
  }

  /** Group-commit hooks: a statement starts, rolls back (or its whole group), a group commits. */
  statementStarted(): void {
    this.#mark = this.#journal.length;
  }

  rolledBack(whole: boolean): void {
    const from = whole ? 0 : this.#mark;
    for (let i = this.#journal.length - 1; i >= from; i--) {
      const j = this.#journal[i];
      const c = this.tracked(j.table, j.user);
      if (c) this.#adjust(j.table, j.user, c, -j.rows, -j.deleted);
    }
    this.#journal.length = from;
    for (const t of this.#countedInGroup) this.#scopes.delete(t);
    this.#countedInGroup.clear();
  }

  committed(): void {
    this.#journal.length = 0;
    this.#mark = 0;
    this.#countedInGroup.clear();
  }

  /**
   * Row versions written to a table's buffer since it was last counted: a counter kept in
   * memory, so the flush policy's once-a-second look costs nothing. It starts from a real count
   * (the first time, and after each flush via `recount`) and only grows with writes; a rolled
   * back write makes it overcount a little, which only brings a flush forward.
   */
  pendingWrites(tableId: number): number {
    let n = this.#pending.get(tableId);
    if (n === undefined) n = this.recount(tableId);
    return n;
  }

  /** Counts a table's buffered versions exactly (after a flush, or the first time). */
  recount(tableId: number): number {
    let n = 0;
    for (const c of this.of(tableId).values()) n += c.rows + c.deleted;
    this.#pending.set(tableId, n);
    return n;
  }

  /** `n` more versions were written to a table. */
  wrote(tableId: number, n: number): void {
    const cur = this.#pending.get(tableId);
    if (cur !== undefined) this.#pending.set(tableId, cur + n);
  }
}
