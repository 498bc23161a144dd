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
export type { Engine, Handler, Outcome, Session, StatementContext } from "./context.ts";
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
