// The storage subsystem's door: open a data directory and execute SQL against it.

export { Database, type DatabaseOptions } from "./database.ts";
export type { BatchResult, ExecuteOptions, StatementResult } from "./result.ts";
