// The change log: every committed write's entry (`changelog` table, the owner of all its SQL),
// kept for resuming live queries from a `_seq`, trimmed by age and count. The floors in `meta`
// say below which `_seq` a resume cannot replay and which ids were handed out without an entry.

import type { Change } from "./change_feed.ts";
import type { TableInfo } from "./catalog.ts";
import type { SqliteStore, SqlParam, SqlStatement } from "./sqlite.ts";

/** Change-log operation codes. */
export const OP = { insert: 1, update: 2, delete: 3 } as const;
export type ChangeOp = keyof typeof OP;

const OPS = ["", "insert", "update", "delete"] as const;

const APPEND_SQL = `INSERT INTO changelog (seq, table_id, user_id, op, version, row, old_row)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;

export class ChangeLog {
  #store: SqliteStore;
  #inserts = new Map<number, SqlStatement>();

  constructor(store: SqliteStore) {
    this.#store = store;
  }

  /** Appends one entry (inside the write that made the change). */
  append(
    seq: bigint,
    table: TableInfo,
    userId: string,
    op: ChangeOp,
    row: Uint8Array | null,
    old: Uint8Array | null,
  ): void {
    this.#store.writer(APPEND_SQL).run(seq, table.id, userId, OP[op], table.version, row, old);
  }

  /**
   * The statement appending `k` insert entries: ?1 table, ?2 user, ?3 version are bound once;
   * entry j binds its seq (?4+2j) and row (?5+2j). `OR FAIL` spares SQLite the statement journal
   * (the caller's savepoint undoes a failed statement anyway).
   */
  inserts(k: number): SqlStatement {
    let st = this.#inserts.get(k);
    if (st) return st;
    const logs: string[] = [];
    for (let j = 0; j < k; j++) {
      const q = 4 + 2 * j;
      logs.push(`(?${q}, ?1, ?2, ${OP.insert}, ?3, ?${q + 1}, NULL)`);
    }
    st = this.#store.writer(
      `INSERT OR FAIL INTO changelog (seq, table_id, user_id, op, version, row, old_row)
        VALUES ${logs.join(", ")}`,
    );
    this.#inserts.set(k, st);
    return st;
  }

  /**
   * Committed changes of a table after `fromSeq`, in `_seq` order (resume of live queries).
   * `userId` narrows to one partition; null means every user.
   */
  since(table: TableInfo, userId: string | null, fromSeq: bigint): Change[] {
    const sql = `SELECT seq, user_id, op, version, row, old_row FROM changelog
      WHERE table_id = ? AND seq > ?${userId === null ? "" : " AND user_id = ?"} ORDER BY seq`;
    const args: SqlParam[] = [table.id, fromSeq];
    if (userId !== null) args.push(userId);
    const out: Change[] = [];
    for (const r of this.#store.reader(sql).all(...args)) {
      const decode = table.decoders.get(Number(r[3]));
      if (!decode) continue; // written under a schema version that no longer decodes
      const seq = BigInt(r[0] as bigint);
      const op = OPS[Number(r[2])] as ChangeOp;
      const row = r[4] ? [...decode(r[4] as Uint8Array), seq, false] : undefined;
      // The old version's own `_seq` is not logged; the change's seq stands in for ordering.
      const old = r[5] ? [...decode(r[5] as Uint8Array), seq, false] : undefined;
      out.push({ table, user: String(r[1]), op, seq, row, old });
    }
    return out;
  }

  /** Removes a dropped table's entries (inside the DROP's write). */
  dropTable(tableId: number): void {
    this.#store.writer("DELETE FROM changelog WHERE table_id = ?").run(tableId);
  }

  /** Removes one user's entries of a table (DROP USER, inside its write). */
  eraseUser(tableId: number, userId: string): void {
    this.#store.writer("DELETE FROM changelog WHERE table_id = ? AND user_id = ?")
      .run(tableId, userId);
  }

  /**
   * Trims the log (inside a write): entries with `_seq` below `beforeSeq`, and beyond the newest
   * `maxEntries`. Records the new floor, below which a resume cannot replay. Returns how many
   * entries went.
   */
  prune(beforeSeq: bigint, maxEntries: number): number {
    let floor = beforeSeq;
    const nth = this.#store.writer("SELECT seq FROM changelog ORDER BY seq DESC LIMIT 1 OFFSET ?")
      .get(maxEntries);
    if (nth && BigInt(nth[0] as bigint) >= floor) floor = BigInt(nth[0] as bigint) + 1n;
    const r = this.#store.writer("DELETE FROM changelog WHERE seq < ?").run(floor);
    if (Number(r.changes) > 0 || floor > this.floor()) {
      this.#store.setMeta("changelog_floor", String(floor));
    }
    return Number(r.changes);
  }

  /** The oldest `_seq` the log can still replay from (0 when never trimmed). */
  floor(): bigint {
    const v = this.#store.meta("changelog_floor");
    return v === undefined ? 0n : BigInt(v);
  }

  /** Entries kept, and the largest `_seq` among them (0 when empty): SHOW STATS. */
  size(): { entries: number; lastSeq: bigint } {
    const r = this.#store.reader("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM changelog").get();
    return { entries: Number(r?.[0] ?? 0), lastSeq: BigInt((r?.[1] ?? 0) as bigint) };
  }

  /** Largest `_seq` ever handed out (the Snowflake floor after a restart). */
  maxSeq(): bigint {
    const r = this.#store.writer("SELECT MAX(seq) FROM changelog").get();
    let max = (r?.[0] ?? 0n) as bigint;
    const seqFloor = this.#store.meta("seq_floor");
    for (const v of [seqFloor === undefined ? 0n : BigInt(seqFloor), this.floor() - 1n]) {
      if (v > max) max = v;
    }
    return max;
  }

  /**
   * Records a `_seq` handed out without an entry (a flush snapshot, inside its write) so that
   * ids after a restart stay above it even if the clock went back.
   */
  recordSeqFloor(seq: bigint): void {
    this.#store.setMeta("seq_floor", String(seq));
  }
}
