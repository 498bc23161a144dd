// The statements room: one handler per statement family (select, write, ddl, admin,
// maintenance), the authorizer that runs before any of them, the system tables and the result
// shapes. Handlers are functions of (statement, context) over the StoreParts of context.ts; they
// may use hot/, cold/, jobs/ and sql/, never live/ or the server.

export {
  alterStorage,
  alterUser,
  createStorage,
  createUser,
  describe,
  dropStorage,
  dropUser,
  notYet,
  show,
  subscribeStatement,
} from "./admin.ts";
export { authorizeStatement } from "./authorize.ts";
export { exportFile, exportStatement } from "./export.ts";
export type { Handler, Outcome, Session, StatementContext, StoreParts } from "./context.ts";
export { alterTable, createNamespace, createTable, dropNamespace, dropTable } from "./ddl.ts";
export {
  compactStatement,
  flushStatement,
  killStatement,
  registerJobs,
  startAutoFlush,
} from "./maintenance.ts";
export type { BatchResult, ExecuteOptions, StatementResult } from "./result.ts";
export { deleteRows, insert, scopeOf, select, update } from "./write.ts";
export {
  ackStatement,
  alterTopic,
  clearTopic,
  consumeStatement,
  createTopic,
  dropTopic,
  MAX_CONSUME_LIMIT,
  MAX_WAIT_MS,
  publishStatement,
} from "./topics.ts";
