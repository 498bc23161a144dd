// The `buffer` table's SQL that runs on another connection than the write buffer's: what a
// flush reads in its worker. It lives here, beside write_buffer.ts (which holds the rest of the
// table's SQL), so that every statement touching `buffer` stays in a file named for it.

const FLUSH_COLUMNS = "row_id, seq, CAST(version * 2 + deleted AS REAL), data";
const FLUSH_WHERE = "table_id = ? AND user_id = ? AND seq <= ?";

/**
 * What a flush reads (through its own connection, in a worker): a scope's versions with
 * `_seq` ≤ snapshot in pages of `PAGE`, in key order. `deleted` and `version` travel in one REAL:
 * it reads as a plain number, where integer columns read as bigints (an allocation each) on a
 * connection that must read `_seq` and row ids exactly.
 */
export function flushReadSql(page: number): { first: string; next: string } {
  return {
    first: `SELECT ${FLUSH_COLUMNS} FROM buffer WHERE ${FLUSH_WHERE} ORDER BY row_id LIMIT ${page}`,
    next: `SELECT ${FLUSH_COLUMNS} FROM buffer WHERE ${FLUSH_WHERE} AND row_id > ?
      ORDER BY row_id LIMIT ${page}`,
  };
}
