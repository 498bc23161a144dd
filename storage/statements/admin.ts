// Users, storages, SHOW / DESCRIBE, and the maintenance statements whose execution arrives in
// later issues (they answer UNSUPPORTED with a clear message until then).

import { TOPIC_COLUMNS, topicRows } from "./topics.ts";
import {
  type OptionItem,
  printStatement,
  type Role,
  type Statement,
  typeToString,
} from "../../sql/mod.ts";
import { type Catalog, checkSubscribeOptions } from "../hot/mod.ts";
import { atLeast, canRead, hashPassword } from "../../auth/mod.ts";
import { resolve } from "node:path";
import { DbError } from "../../errors.ts";
import type { SegmentRef } from "../topics/mod.ts";
import { type Handler, T, table } from "./context.ts";
import { systemRows } from "./system_tables.ts";
import { DEFAULT_FLUSH_POLICY } from "./maintenance.ts";
import { tableFacts } from "./authorize.ts";
import { showExports } from "./export.ts";

/** A (namespace, table_name, …) system row as a table name for policy lookups. */
function tableName(r: readonly unknown[]) {
  return { namespace: String(r[0]), name: String(r[1]) };
}

/** Names usable as user ids and storage ids: they appear in paths, so nothing that escapes one. */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/;

export function checkSafeName(kind: string, name: string): void {
  if (!SAFE_NAME.test(name) || name.includes("..")) {
    throw new DbError(
      "INVALID_PARAMETER",
      `Invalid ${kind} name "${name}": use letters, digits, _ . @ - (at most 64, no "..")`,
    );
  }
}

// ------------------------------------------------------------------ users

export const createUser: Handler<"create_user"> = async (stmt, ctx) => {
  const { catalog, group } = ctx.engine;
  checkSafeName("user", stmt.name);
  if (stmt.name.toLowerCase() === "anonymous") {
    throw new DbError(
      "INVALID_PARAMETER",
      '"anonymous" is reserved for requests without credentials',
    );
  }
  const hash = await hashPassword(stmt.password);
  return group.run(() => {
    // Unique regardless of case: user names are directory names, and macOS folds case.
    const lower = stmt.name.toLowerCase();
    const existing = catalog.users().find((u) => u.name.toLowerCase() === lower);
    if (existing) {
      if (stmt.ifNotExists) {
        return { rowCount: 0, message: `User ${stmt.name} already exists, skipped` };
      }
      const also = existing.name === stmt.name ? "" : ` (as "${existing.name}": case is ignored)`;
      throw new DbError("ALREADY_EXISTS", `User "${stmt.name}" already exists${also}`);
    }
    const now = Date.now();
    catalog.putUser({
      name: stmt.name,
      role: stmt.role,
      passwordHash: hash,
      email: stmt.email ?? null,
      createdAt: now,
      updatedAt: now,
    });
    return { rowCount: 0, message: `User ${stmt.name} created with role ${stmt.role}` };
  });
};

export const alterUser: Handler<"alter_user"> = async (stmt, ctx) => {
  const { catalog, group } = ctx.engine;
  const change = stmt.change;
  const hash = change.set === "password" ? await hashPassword(change.password) : undefined;
  let demoted = false;
  const result = await group.run(() => {
    const u = catalog.user(stmt.name);
    if (!u) throw new DbError("NOT_FOUND", `User "${stmt.name}" does not exist`);
    const next = { ...u, updatedAt: Date.now() };
    if (change.set === "password") next.passwordHash = hash!;
    else if (change.set === "role") {
      next.role = change.role as Role;
      demoted = !atLeast(next.role, u.role as Role);
    } else next.email = change.email;
    catalog.putUser(next);
    return { rowCount: 0, message: `User ${stmt.name} altered` };
  });
  // What the old role allowed (all-users subscriptions, other tables) ends with it.
  if (demoted) killLiveQueriesOf(ctx, stmt.name);
  return result;
};

/** Ends every live query of `user` (a dropped or demoted user keeps no open subscription). */
function killLiveQueriesOf(ctx: Parameters<Handler<"drop_user">>[1], user: string): void {
  const queries = ctx.engine.live.queries;
  for (const q of queries?.list() ?? []) if (q.user === user) queries!.kill(q.liveId);
}

/**
 * DROP USER erases the user's data with the account (a decision, README): their rows in every
 * USER and STREAM table (buffer and segment files), their logged changes (no resume replays
 * them) and their exports, so a new user of the same name starts empty. The scopes are held,
 * so no flush writes them meanwhile; files go first, and a storage failure leaves the user in
 * place (STORAGE_ERROR) for DROP USER to be run again. The rest is one write with the drop.
 */
export const dropUser: Handler<"drop_user"> = async (stmt, ctx) => {
  const { catalog, group, cold, buffer, exports, dataDir } = ctx.engine;
  const name = stmt.name;
  if (name === "root") {
    throw new DbError("PERMISSION_DENIED", "The root user cannot be dropped");
  }
  const missing = () => {
    if (stmt.ifExists) return { rowCount: 0, message: `User ${name} does not exist, skipped` };
    throw new DbError("NOT_FOUND", `User "${name}" does not exist`);
  };
  if (!catalog.user(name)) return missing();
  const tables = catalog.tables().filter((t) => t.tableType === "USER" || t.tableType === "STREAM");
  const ids = tables.map((t) => t.id);
  let late: string[] = [];
  return await cold.holdScopes(ids, name, async () => {
    let files = 0;
    for (const t of tables) {
      if (cold.hasColdData(t.id, name)) files += await cold.deleteFiles(t, [name]);
    }
    const zips = exports.list(name).filter((x) => x.path);
    for (const x of zips) {
      await Deno.remove(`${dataDir}/${x.path}`).catch((err) => {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      });
    }
    // Topic segments holding the user's messages are rewritten without them (new files first).
    const topics = ctx.engine.topics;
    const rewrites: { ref: SegmentRef; next: SegmentRef | null }[] = [];
    for (const ref of topics.segments.withUser(name)) {
      rewrites.push({ ref, next: await topics.segments.without(ref, name) });
    }
    const result = await group.run(() => {
      if (!catalog.user(name)) return missing();
      for (const r of rewrites) topics.segments.replace(r.ref, r.next);
      topics.deleteAfterCommit(rewrites.map((r) => r.ref.path));
      if (topics.segments.withUserNow(name)) {
        // An offload listed a new segment of theirs meanwhile: nothing happened; try again.
        throw new DbError("STORAGE_ERROR", `Topic segments of ${name} changed meanwhile: retry`);
      }
      catalog.dropUser(name);
      const versions = buffer.eraseUser(ids, name);
      for (const t of tables) cold.dropScopes(t.id, name);
      // An export that finished since the files went is in this list too: its zip goes after.
      late = exports.list(name).map((x) => x.path).filter((p) => p !== null);
      exports.eraseUser(name);
      // Messages a source table published from the user's rows are the user's data too.
      const messages = ctx.engine.topics.log.eraseUser(name);
      killLiveQueriesOf(ctx, name);
      // Only once the drop is committed (a rolled-back group keeps it all): readers and
      // flushes forget the scopes and every manifest or segment they cached meanwhile.
      group.afterCommit(() => cold.forgetUser(ids, name));
      return {
        rowCount: 0,
        message: `User ${name} dropped with their data: ${versions} buffered row version(s), ` +
          `${files} segment file(s), ${zips.length} export(s), ${messages} topic message(s)`,
      };
    });
    for (const path of late) await Deno.remove(`${dataDir}/${path}`).catch(() => {});
    return result;
  });
};

// ------------------------------------------------------------------ storages

const STORAGE_KEYS = new Set([
  "PATH",
  "BUCKET",
  "ENDPOINT",
  "REGION",
  "CREDENTIALS",
  "SHARED_TABLES_TEMPLATE",
  "USER_TABLES_TEMPLATE",
]);

function storageSettings(type: string, items: readonly OptionItem[]) {
  const config: Record<string, string> = {};
  let credentials: string | undefined;
  for (const o of items) {
    if (!STORAGE_KEYS.has(o.key)) {
      throw new DbError("INVALID_SQL", `Unknown storage setting ${o.key}`, o.span);
    }
    const v = String(o.value);
    if (o.key === "CREDENTIALS") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch { /* reported below */ }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new DbError("INVALID_PARAMETER", "CREDENTIALS must be a JSON object");
      }
      credentials = v;
    } else config[o.key] = v;
  }
  if (type !== "filesystem" && type !== "s3") {
    throw new DbError("INVALID_SQL", `Unknown storage type '${type}': expected filesystem or s3`);
  }
  checkTemplate(config.SHARED_TABLES_TEMPLATE, ["{namespace}", "{table}"]);
  checkTemplate(config.USER_TABLES_TEMPLATE, ["{namespace}", "{table}", "{user_id}"]);
  return { config, credentials };
}

/**
 * A path template must name every placeholder its scope needs exactly once, each as a whole path
 * segment, with `{user_id}` after `{table}`; other segments are plain words (letters, digits, _).
 * With table segments `<name>-<id>` (ids are unique, names hold no "-") and namespace and literal
 * segments free of "-", the first segment holding a "-" names the table, and what follows it is
 * fixed by that table: two scopes can never share a directory, whatever their names.
 */
function checkTemplate(template: string | undefined, needed: readonly string[]): void {
  if (template === undefined) return;
  const bad = (why: string) =>
    new DbError("INVALID_PARAMETER", `Invalid path template '${template}': ${why}`);
  const segments = template.split("/");
  for (const p of needed) {
    const n = segments.filter((s) => s === p).length;
    if (n !== 1) throw bad(`it must contain ${p} exactly once, as a whole path segment`);
  }
  for (const s of segments) {
    if (needed.includes(s)) continue;
    if (/[{}]/.test(s)) {
      throw bad(`placeholders are whole segments: ${needed.join(", ")}`);
    }
    if (!/^[A-Za-z0-9_]+$/.test(s)) {
      throw bad("other segments are plain words (letters, digits, _): no '..', no leading '/'");
    }
  }
  if (needed.includes("{user_id}") && segments.indexOf("{user_id}") < segments.indexOf("{table}")) {
    throw bad("{user_id} must come after {table}");
  }
}

function requireSettings(
  type: string,
  config: Record<string, string>,
  credentials: string | null | undefined,
) {
  if (type === "filesystem" && !config.PATH) {
    throw new DbError("INVALID_SQL", "A filesystem storage needs PATH '<dir>'");
  }
  if (type !== "s3") return;
  if (!config.BUCKET) throw new DbError("INVALID_SQL", "An s3 storage needs BUCKET '<bucket>'");
  const c = JSON.parse(credentials ?? "{}");
  const has = (a: string, b: string) => typeof (c[a] ?? c[b]) === "string" && (c[a] ?? c[b]) !== "";
  if (!has("access_key_id", "accessKeyId") || !has("secret_access_key", "secretAccessKey")) {
    throw new DbError(
      "INVALID_PARAMETER",
      `An s3 storage needs CREDENTIALS '{"access_key_id": "…", "secret_access_key": "…"}'`,
    );
  }
}

/** Where a storage's objects live, as one comparable string; nested places overlap. */
function storagePlace(type: string, config: Readonly<Record<string, string>>): string {
  if (type === "filesystem") return `file:${resolve(config.PATH)}/`;
  const endpoint = (config.ENDPOINT ?? `s3:${config.REGION ?? "us-east-1"}`).replace(/\/+$/, "");
  return `s3:${endpoint}/${config.BUCKET}/`;
}

/**
 * Two storages may not share or nest their roots: their path templates could then put two
 * tables' files in one directory (and one table's cleanup would see the other's files).
 */
function checkOwnPlace(
  catalog: Catalog,
  id: string,
  type: string,
  config: Readonly<Record<string, string>>,
): void {
  const mine = storagePlace(type, config);
  for (const other of catalog.storages()) {
    if (other.id === id) continue;
    const theirs = storagePlace(other.type, other.config);
    if (mine.startsWith(theirs) || theirs.startsWith(mine)) {
      throw new DbError(
        "INVALID_PARAMETER",
        `Storage "${id}" would share its ${
          type === "s3" ? "bucket" : "directory"
        } with storage "${other.id}": each storage needs a place of its own`,
      );
    }
  }
}

export const createStorage: Handler<"create_storage"> = (stmt, ctx) => {
  const { catalog, group } = ctx.engine;
  checkSafeName("storage", stmt.id);
  const { config, credentials } = storageSettings(stmt.storageType, stmt.settings);
  requireSettings(stmt.storageType, config, credentials);
  return group.run(() => {
    checkOwnPlace(catalog, stmt.id, stmt.storageType, config);
    if (catalog.storage(stmt.id)) {
      if (stmt.ifNotExists) {
        return { rowCount: 0, message: `Storage ${stmt.id} already exists, skipped` };
      }
      throw new DbError("ALREADY_EXISTS", `Storage "${stmt.id}" already exists`);
    }
    const now = Date.now();
    catalog.putStorage({
      id: stmt.id,
      type: stmt.storageType,
      config,
      createdAt: now,
      updatedAt: now,
    }, credentials);
    return { rowCount: 0, message: `Storage ${stmt.id} created` };
  });
};

export const alterStorage: Handler<"alter_storage"> = (stmt, ctx) => {
  const { catalog, group } = ctx.engine;
  return group.run(() => {
    const s = catalog.storage(stmt.id);
    if (!s) throw new DbError("NOT_FOUND", `Storage "${stmt.id}" does not exist`);
    if (s.id === "local") {
      throw new DbError("PERMISSION_DENIED", "The local storage cannot be altered");
    }
    const { config, credentials } = storageSettings(s.type, stmt.settings);
    const merged = { ...s.config, ...config };
    requireSettings(s.type, merged, credentials ?? catalog.storageSecret(s.id));
    checkOwnPlace(catalog, s.id, s.type, merged);
    catalog.putStorage({ ...s, config: merged, updatedAt: Date.now() }, credentials);
    return { rowCount: 0, message: `Storage ${stmt.id} altered` };
  });
};

export const dropStorage: Handler<"drop_storage"> = (stmt, ctx) => {
  const { catalog, group } = ctx.engine;
  return group.run(() => {
    const s = catalog.storage(stmt.id);
    if (!s) {
      if (stmt.ifExists) {
        return { rowCount: 0, message: `Storage ${stmt.id} does not exist, skipped` };
      }
      throw new DbError("NOT_FOUND", `Storage "${stmt.id}" does not exist`);
    }
    if (s.id === "local") {
      throw new DbError("PERMISSION_DENIED", "The local storage cannot be dropped");
    }
    const users = catalog.tables().filter((t) => t.storageId === s.id);
    if (users.length) {
      throw new DbError(
        "INVALID_SQL",
        `Storage "${s.id}" is used by ${users.map((t) => `${t.namespace}.${t.name}`).join(", ")}`,
      );
    }
    catalog.dropStorage(s.id);
    return { rowCount: 0, message: `Storage ${stmt.id} dropped` };
  });
};

// ------------------------------------------------------------------ SHOW / DESCRIBE

// deno-lint-ignore require-await
export const show: Handler<"show"> = async (stmt, ctx) => {
  const target = stmt.target;
  const e = ctx.engine;
  switch (target.what) {
    case "namespaces": {
      // table_count counts only the tables the caller may read (as SHOW TABLES lists them).
      const { columns, rows } = systemRows(e, "namespaces");
      const counts = new Map<string, number>();
      for (const t of e.catalog.tables()) {
        if (!canRead(ctx.session.role, tableFacts(e.catalog, t))) continue;
        counts.set(t.namespace, (counts.get(t.namespace) ?? 0) + 1);
      }
      return table(columns, rows.map((r) => [r[0], counts.get(String(r[0])) ?? 0, r[2]]));
    }
    case "storages":
    case "users":
    case "jobs": {
      const { columns, rows } = systemRows(e, target.what);
      return table(columns, rows);
    }
    case "live_queries": {
      // Everyone sees their own; dba and system see all (SPEC §3).
      const { columns, rows } = systemRows(e, target.what);
      const all = atLeast(ctx.session.role, "dba");
      return table(columns, all ? rows : rows.filter((r) => r[2] === ctx.session.user));
    }
    case "tables": {
      const { columns, rows } = systemRows(e, "tables");
      if (target.namespace && !e.catalog.hasNamespace(target.namespace)) {
        throw new DbError("NAMESPACE_NOT_FOUND", `Namespace "${target.namespace}" does not exist`);
      }
      // Lists only what the caller may read, so SHOW TABLES reveals nothing SELECT would not.
      const visible = (r: readonly unknown[]) =>
        (!target.namespace || r[0] === target.namespace) &&
        canRead(ctx.session.role, tableFacts(e.catalog, tableName(r)));
      return table(columns, rows.filter(visible));
    }
    case "stats": {
      const t = e.catalog.table(target.table.namespace, target.table.name);
      // The buffer's per-scope counters (no scan).
      const counts = [...e.buffer.scopeRows(t.id)].map(([user, c]) => ({ user, ...c }))
        .sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
      const buffered = counts.reduce((n, c) => n + c.rows, 0);
      const perUser = Object.fromEntries(counts.map((c) => [c.user || "(shared)", c.rows]));
      const cold = [...e.cold.stats(t.id).values()];
      const sum = (f: (s: (typeof cold)[number]) => number) => cold.reduce((n, s) => n + f(s), 0);
      const last = Math.max(0, ...cold.map((s) => s.lastFlushMs));
      return table(
        [["metric", T.text], ["value", T.text]],
        [
          ["table", `${t.namespace}.${t.name}`],
          ["table_type", t.tableType],
          ["storage_id", t.storageId],
          ["flush_policy", t.flushPolicy ?? `${DEFAULT_FLUSH_POLICY} (default)`],
          ["buffered_rows", String(buffered)],
          ["buffered_deleted_rows", String(counts.reduce((n, c) => n + c.deleted, 0))],
          ["flushed_rows", String(sum((s) => s.rows))],
          ["segments", String(sum((s) => s.segments))],
          ["bytes_on_storage", String(sum((s) => s.bytes))],
          ["users_with_rows", String(counts.filter((c) => c.rows > 0 && c.user !== "").length)],
          ["rows_per_user", JSON.stringify(perUser)],
          ["last_flush", last ? new Date(last).toISOString() : "never"],
          ["schema_version", String(t.version)],
        ],
      );
    }
    case "exports":
      return Promise.resolve(showExports(e, ctx.session.user, ctx.session.role));
    case "topics":
      return Promise.resolve(table(TOPIC_COLUMNS, topicRows(e, target.namespace)));
  }
};

export const describe: Handler<"describe"> = (stmt, ctx) => {
  const t = ctx.engine.catalog.table(stmt.table.namespace, stmt.table.name);
  return Promise.resolve(table(
    [
      ["column_name", T.text],
      ["data_type", T.text],
      ["is_nullable", T.bool],
      ["is_primary_key", T.bool],
      ["column_default", T.text],
      ["ordinal_position", T.int],
    ],
    t.schema.columns.map((c, i) => [
      c.name,
      typeToString(c.type),
      c.nullable,
      c.primaryKey,
      c.default ?? null,
      i + 1,
    ]),
  ));
};

function unsupported(what: string, later: string): DbError {
  return new DbError(
    "UNSUPPORTED",
    `${what} is not available yet in this build (arrives with ${later})`,
  );
}

/**
 * `SUBSCRIBE TO ns.t [WHERE …] [OPTIONS (…)]` outside the shell: one row saying how to subscribe —
 * the WebSocket URL (NULL when no server runs the statement), the subscription SQL and its
 * options — after the same checks a WebSocket subscribe makes first (permission, the table, the
 * options). The shell streams instead.
 */
export const subscribeStatement: Handler<"subscribe"> = (stmt, ctx) => {
  const from = stmt.query.from;
  if (from?.kind === "table_ref") ctx.engine.catalog.table(from.table.namespace, from.table.name);
  const raw: Record<string, unknown> = {};
  for (const o of stmt.options) raw[o.key.toLowerCase()] = o.value;
  const options = checkSubscribeOptions(raw);
  const sql = printStatement(stmt.query);
  const url = ctx.wsUrl?.();
  return Promise.resolve({
    ...table(
      [["ws_url", T.text], ["sql", T.text], ["options", T.json]],
      [[url ?? null, sql, JSON.stringify(options)]],
    ),
    message: url
      ? `Subscribe over ${url}: {"type":"subscribe","id":"…","sql":…,"options":…}`
      : "Live queries stream over a server's WebSocket (kalamdb serve); the shell subscribes for you",
  });
};

/** Statements parsed today whose execution arrives in a later issue. */
export function notYet(stmt: Statement): Promise<never> {
  const what: Partial<Record<Statement["kind"], [string, string]>> = {
    flush: ["FLUSH", "the Parquet cold tier"],
    compact: ["COMPACT TABLE", "the Parquet cold tier"],
    kill: ["KILL", "jobs and live queries"],
  };
  const [name, later] = what[stmt.kind] ?? [stmt.kind, "a later issue"];
  return Promise.reject(unsupported(name, later));
}
