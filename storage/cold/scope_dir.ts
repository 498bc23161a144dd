// Where a scope's files live in its storage: the storage's path template with the namespace,
// the table (name and id, so a dropped and re-created table never shares a directory) and the
// user filled in, checked to stay inside the storage's root.

import { checkObjectPath } from "../object_store/mod.ts";
import type { TablePlace } from "./segment_cache.ts";

/** A scope's directory from the storage's path template (validated: no escaping the root). */
export function buildScopeDir(
  config: Readonly<Record<string, string>>,
  table: TablePlace,
  userId: string,
): string {
  const template = table.tableType === "SHARED"
    ? config.SHARED_TABLES_TEMPLATE ?? "{namespace}/{table}"
    : config.USER_TABLES_TEMPLATE ?? "{namespace}/{table}/{user_id}";
  const dir = template
    .replaceAll("{namespace}", table.namespace)
    .replaceAll("{table}", `${table.name}-${table.id}`)
    .replaceAll("{user_id}", userId);
  return checkObjectPath(dir.replace(/\/+$/, ""));
}
