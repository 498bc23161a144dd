// The SELECT executor's door: planning, execution, and the helpers storage reuses for DML
// (key seeks, table scopes, RETURNING). Operators themselves stay internal.

export { executeSelect, planSelect } from "./select.ts";
export type { Plan, SelectResult } from "./select.ts";
export {
  compileAssignment,
  compileDefault,
  extractKeys,
  keyExtractor,
  projectReturning,
  rangeExtractor,
  tableScope,
} from "./keys.ts";
export type { TargetColumn } from "./keys.ts";
