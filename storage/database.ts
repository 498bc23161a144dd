// The Database facade: owns the SQLite store of one data directory and executes statements.
// (Work in progress: the real implementation replaces this stub.)

import type { BatchResult, ExecuteOptions } from "./result.ts";

export interface DatabaseOptions {
  /** Data directory; created when missing. */
  readonly dataDir: string;
  /** Snowflake node id, 0–1023. */
  readonly nodeId?: number;
}

export class Database {
  static open(_options: DatabaseOptions): Promise<Database> {
    throw new Error("not implemented yet");
  }
  execute(_sql: string, _options: ExecuteOptions = {}): Promise<BatchResult> {
    throw new Error("not implemented yet");
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
