// A small grammar-based generator of near-valid SQL for the fuzz suites (fast-check arbitraries).
// It speaks the dialect of SPEC §3 over the fixture tables of `FIXTURE` (so most statements reach
// the executor, not only the parser), with weird literals, unicode, NUL, long and quoted
// identifiers and deep nesting mixed in; `mutatedSql` then damages some of them (a cut, a
// doubled or dropped span, an inserted token) so the parser's recovery paths run too.

import { fc } from "./_fuzz.ts";

import { BINARY, COLUMNS, FUNCS, ODD, TABLES, TYPES } from "./_sql_words.ts";

export { FIXTURE } from "./_sql_words.ts";

const oddChar = fc.constantFrom(...ODD);
/** Text with odd characters mixed into ordinary ones (and any code unit now and then). */
export const oddText: fc.Arbitrary<string> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 6 }) },
    { weight: 3, arbitrary: oddChar },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 4 }) },
  ),
  { maxLength: 8 },
).map((parts) => parts.join(""));

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

const numberLiteral = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(1n << 130n), max: 1n << 130n }).map(String),
  fc.double().map(String),
  fc.constantFrom(
    "0",
    "-0",
    "00",
    "1e308",
    "1e309",
    "-1e309",
    "1e-400",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "0.0000000000000000000001",
    "1.",
    ".5",
    "1e",
    "0x1F",
    "1_000",
    "NaN",
    "Infinity",
    "123456789012345678901234567890.123456789",
  ),
);

const literal = fc.oneof(
  numberLiteral,
  oddText.map(quote),
  fc.constantFrom(
    "NULL",
    "TRUE",
    "FALSE",
    "''",
    '\'{"a":{"b":[1,2]}}\'',
    "'2026-02-30'",
    "'2026-01-01T00:00:00.123456789Z'",
    "'not a date'",
    "TIMESTAMP '2026-01-01'",
    "$1",
    "$2",
    "$0",
    "$99999999999",
    "'\\x00'",
    "E'x'",
    "X'00'",
    "'0190b3c4-7f2a-7000-8000-000000000000'",
  ),
);

/** Identifiers: known names, quoted odd ones, long ones, keywords. */
export const identifier: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...COLUMNS) },
  { weight: 1, arbitrary: oddText.map((s) => `"${s.replaceAll('"', '""')}"`) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 70 }).map((n) => "x".repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom("select", "FROM", '""', '"a/b"', '"../x"', "a-1") },
);

const table = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...TABLES) },
  { weight: 1, arbitrary: fc.tuple(identifier, identifier).map(([a, b]) => `${a}.${b}`) },
  { weight: 1, arbitrary: identifier },
);

/** `n` levels of `open` … `close` around `inner`. */
const nest = (n: number, open: string, inner: string, close: string) =>
  open.repeat(n) + inner + close.repeat(n);

/** Expressions far deeper than the parser's limit, or just around it. */
const deepExpr = fc.tuple(
  fc.oneof(fc.integer({ min: 90, max: 140 }), fc.integer({ min: 1, max: 3000 })),
  fc.constantFrom("paren", "chain", "neg", "not", "abs", "case", "cast", "sub", "in"),
).map(([n, how]) => {
  switch (how) {
    case "paren":
      return nest(n, "(", "1", ")");
    case "chain":
      return "1" + "+1".repeat(n);
    case "neg":
      return "- ".repeat(n) + "1";
    case "not":
      return "NOT ".repeat(n) + "TRUE";
    case "abs":
      return nest(n, "ABS(", "1", ")");
    case "case":
      return nest(n, "CASE WHEN TRUE THEN ", "1", " END");
    case "cast":
      return nest(n, "CAST(", "1", " AS INT)");
    case "sub":
      return nest(n, "(SELECT ", "1", ")");
    default:
      return nest(n, "1 IN (", "1", ")");
  }
});

const { expr } = fc.letrec<{ expr: string }>((tie) => {
  const e = tie("expr");
  return {
    expr: fc.oneof(
      { depthSize: "small", withCrossShrink: true, maxDepth: 6 },
      { weight: 5, arbitrary: literal },
      { weight: 5, arbitrary: identifier },
      { weight: 1, arbitrary: deepExpr },
      fc.tuple(e, fc.constantFrom(...BINARY), e).map(([a, op, b]) => `${a} ${op} ${b}`),
      fc.tuple(fc.constantFrom("-", "+", "NOT "), e).map(([op, a]) => `${op}${a}`),
      e.map((a) => `(${a})`),
      fc.tuple(e, fc.constantFrom("IS NULL", "IS NOT NULL")).map(([a, s]) => `${a} ${s}`),
      fc.tuple(e, fc.array(e, { maxLength: 4 })).map(([a, l]) => `${a} IN (${l.join(", ")})`),
      fc.tuple(e, e, e).map(([a, b, c]) => `${a} BETWEEN ${b} AND ${c}`),
      fc.tuple(e, fc.constantFrom("LIKE", "ILIKE", "NOT LIKE"), oddText).map(([a, op, p]) =>
        `${a} ${op} ${quote(p)}`
      ),
      fc.tuple(fc.constantFrom(...FUNCS), fc.array(e, { maxLength: 3 })).map(([f, args]) =>
        `${f}(${args.join(", ")})`
      ),
      fc.constantFrom("COUNT(*)", "COUNT(DISTINCT id)", "CURRENT_TIMESTAMP", "doc->>'a'"),
      fc.tuple(e, fc.constantFrom(...TYPES)).map(([a, t]) => `CAST(${a} AS ${t})`),
      fc.tuple(e, fc.constantFrom(...TYPES)).map(([a, t]) => `${a}::${t}`),
      fc.tuple(e, e, e).map(([a, b, c]) => `CASE WHEN ${a} THEN ${b} ELSE ${c} END`),
      fc.tuple(identifier, table).map(([c, t]) => `(SELECT ${c} FROM ${t} LIMIT 1)`),
      fc.tuple(e, identifier, table).map(([a, c, t]) => `${a} IN (SELECT ${c} FROM ${t})`),
    ),
  };
});

/** One expression of the dialect (possibly invalid in type or name, seldom in syntax). */
export const sqlExpr: fc.Arbitrary<string> = expr;

const where = fc.option(expr.map((e) => ` WHERE ${e}`), { nil: "" });
const columns = fc.array(fc.oneof(expr, fc.constant("*")), { minLength: 1, maxLength: 4 });
const aliased = fc.tuple(expr, fc.option(identifier)).map(([e, a]) => a ? `${e} AS ${a}` : e);

const select = fc.record({
  distinct: fc.constantFrom("", "DISTINCT "),
  cols: fc.array(fc.oneof(aliased, fc.constant("*")), { minLength: 1, maxLength: 4 }),
  from: fc.option(
    fc.oneof(
      table,
      fc.tuple(table, table, fc.constantFrom("JOIN", "LEFT JOIN", "INNER JOIN"), expr).map(
        ([a, b, j, on]) => `${a} AS l ${j} ${b} AS r ON ${on}`,
      ),
      fc.tuple(expr, table).map(([e, t]) => `(SELECT ${e} AS x FROM ${t}) AS q`),
    ),
  ),
  where,
  group: fc.option(fc.array(expr, { minLength: 1, maxLength: 2 })),
  having: fc.option(expr),
  order: fc.option(
    fc.tuple(expr, fc.constantFrom("", " ASC", " DESC NULLS FIRST", " NULLS LAST")),
  ),
  limit: fc.option(fc.oneof(numberLiteral, fc.constantFrom("$1", "-1", "ALL"))),
  offset: fc.option(numberLiteral),
}).map((s) =>
  `SELECT ${s.distinct}${s.cols.join(", ")}` + (s.from ? ` FROM ${s.from}` : "") + s.where +
  (s.group ? ` GROUP BY ${s.group.join(", ")}` : "") + (s.having ? ` HAVING ${s.having}` : "") +
  (s.order ? ` ORDER BY ${s.order.join("")}` : "") + (s.limit ? ` LIMIT ${s.limit}` : "") +
  (s.offset ? ` OFFSET ${s.offset}` : "")
);

const returning = fc.option(columns.map((c) => ` RETURNING ${c.join(", ")}`), { nil: "" });

const insert = fc.tuple(
  table,
  fc.array(identifier, { minLength: 1, maxLength: 4 }),
  fc.array(fc.array(expr, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
  returning,
).map(([t, cols, rows, ret]) =>
  `INSERT INTO ${t} (${cols.join(", ")}) VALUES ${
    rows.map((r) => `(${r.join(", ")})`).join(", ")
  }${ret}`
);

const update = fc.tuple(
  table,
  fc.array(fc.tuple(identifier, expr), { minLength: 1, maxLength: 3 }),
  where,
  returning,
)
  .map(([t, sets, w, ret]) =>
    `UPDATE ${t} SET ${sets.map(([c, e]) => `${c} = ${e}`).join(", ")}${w}${ret}`
  );

const del = fc.tuple(table, where, returning).map(([t, w, ret]) => `DELETE FROM ${t}${w}${ret}`);

const columnDef = fc.tuple(
  identifier,
  fc.constantFrom(...TYPES),
  fc.constantFrom(
    "",
    " PRIMARY KEY",
    " NOT NULL",
    " DEFAULT NOW()",
    " DEFAULT 1",
    " NOT NULL DEFAULT ''",
  ),
).map(([c, t, x]) => `${c} ${t}${x}`);

const ddl = fc.oneof(
  fc.tuple(identifier, fc.constantFrom("", "IF NOT EXISTS ")).map(([n, x]) =>
    `CREATE NAMESPACE ${x}${n}`
  ),
  fc.tuple(identifier, fc.constantFrom("", " CASCADE")).map(([n, x]) =>
    `DROP NAMESPACE IF EXISTS ${n}${x}`
  ),
  fc.tuple(
    fc.constantFrom("", "USER ", "SHARED ", "STREAM "),
    table,
    fc.array(columnDef, { minLength: 1, maxLength: 4 }),
    fc.option(fc.tuple(
      fc.constantFrom("TYPE", "TTL_SECONDS", "ACCESS_LEVEL", "FLUSH_POLICY", "STORAGE_ID", "NOPE"),
      literal,
    )),
  ).map(([k, t, cols, w]) =>
    `CREATE ${k}TABLE ${t} (${cols.join(", ")})` + (w ? ` WITH (${w[0]} = ${w[1]})` : "")
  ),
  fc.tuple(
    table,
    fc.oneof(
      columnDef.map((c) => `ADD COLUMN ${c}`),
      identifier.map((c) => `DROP COLUMN ${c}`),
      fc.tuple(identifier, identifier).map(([a, b]) => `RENAME COLUMN ${a} TO ${b}`),
      numberLiteral.map((n) => `SET TTL ${n}`),
      fc.constantFrom("PUBLIC", "PROTECTED", "PRIVATE", "NOPE").map((l) => `SET ACCESS_LEVEL ${l}`),
      oddText.map((p) => `SET FLUSH_POLICY ${quote(p)}`),
      fc.constantFrom(
        "SET FLUSH_POLICY 'rows:1,interval:1'",
        "SET FLUSH_POLICY 'rows:0'",
        "SET STORAGE nope",
      ),
    ),
  ).map(([t, a]) => `ALTER TABLE ${t} ${a}`),
  table.map((t) => `DROP TABLE IF EXISTS ${t}`),
);

const admin = fc.oneof(
  fc.constantFrom(
    "SHOW NAMESPACES",
    "SHOW TABLES",
    "SHOW TABLES IN app",
    "SHOW STORAGES",
    "SHOW JOBS",
    "SHOW LIVE QUERIES",
    "SHOW EXPORTS",
    "SHOW STATS FOR TABLE app.s",
    "FLUSH TABLE app.s",
    "FLUSH ALL TABLES IN app",
    "STORAGE FLUSH TABLE app.u",
    "COMPACT TABLE app.s",
    "EXPORT USER DATA",
    "DESCRIBE TABLE app.s",
    "SUBSCRIBE TO app.u",
    "SHOW TABLES IN nope",
  ),
  table.map((t) => `DESCRIBE TABLE ${t}`),
  fc.tuple(table, where, fc.option(numberLiteral)).map(([t, w, n]) =>
    `SUBSCRIBE TO ${t}${w}` + (n ? ` OPTIONS (last_rows = ${n})` : "")
  ),
  oddText.map((s) => `KILL JOB ${quote(s)}`),
  oddText.map((s) => `KILL LIVE QUERY ${quote(s)}`),
  fc.tuple(identifier, oddText, fc.constantFrom("user", "service", "dba", "system", "nope")).map(
    ([u, p, r]) => `CREATE USER ${u} WITH PASSWORD ${quote(p)} ROLE ${r}`,
  ),
  fc.tuple(identifier, fc.constantFrom("SET ROLE dba", "SET PASSWORD 'x'", "SET ROLE nope"))
    .map(([u, a]) => `ALTER USER ${u} ${a}`),
  identifier.map((u) => `DROP USER IF EXISTS ${u}`),
);

const { statement } = fc.letrec<{ statement: string }>((tie) => ({
  statement: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    { weight: 6, arbitrary: select },
    { weight: 2, arbitrary: insert },
    { weight: 2, arbitrary: update },
    { weight: 1, arbitrary: del },
    { weight: 2, arbitrary: ddl },
    { weight: 2, arbitrary: admin },
    fc.tuple(fc.oneof(fc.constantFrom("alice", "root", "nobody"), oddText), tie("statement"))
      .map(([u, s]) => `EXECUTE AS USER ${quote(u)} (${s})`),
  ),
}));

/** One statement of the dialect, as near valid as the grammar makes it. */
export const sqlStatement: fc.Arbitrary<string> = statement;

/** A batch of one to three statements, with comments and odd separators now and then. */
export const sqlBatch: fc.Arbitrary<string> = fc.array(
  fc.tuple(statement, fc.constantFrom(";", ";\n", "; -- c\n", " /* ; */ ;", "\n;", "")),
  { minLength: 1, maxLength: 3 },
).map((parts) => parts.map(([s, sep]) => s + sep).join(" "));

/** Damage to a text: cut at, drop a span, double a span, insert a token or odd character. */
const mutation = fc.tuple(
  fc.constantFrom("cut", "drop", "double", "insert", "swap"),
  fc.nat(),
  fc.nat({ max: 40 }),
  fc.oneof(
    oddChar,
    fc.constantFrom(
      "(",
      ")",
      "'",
      '"',
      ",",
      "SELECT",
      "FROM",
      "WHERE",
      "$1",
      "/*",
      "--",
      "*",
      ".",
      "..",
    ),
  ),
);

function mutate(text: string, [how, at, len, token]: [string, number, number, string]): string {
  const i = text.length === 0 ? 0 : at % (text.length + 1);
  switch (how) {
    case "cut":
      return text.slice(0, i);
    case "drop":
      return text.slice(0, i) + text.slice(i + len);
    case "double":
      return text.slice(0, i + len) + text.slice(i, i + len) + text.slice(i + len);
    case "swap":
      return text.slice(i) + text.slice(0, i);
    default:
      return text.slice(0, i) + token + text.slice(i);
  }
}

/** A generated batch with zero to three mutations applied. */
export const mutatedSql: fc.Arbitrary<string> = fc.tuple(
  sqlBatch,
  fc.array(mutation, { maxLength: 3 }),
).map(([sql, ms]) => ms.reduce(mutate, sql));

/** Anything: generated, damaged, or random text (random code units, NUL and all). */
export const hostileSql: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: mutatedSql },
  { weight: 3, arbitrary: sqlBatch },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
  { weight: 1, arbitrary: oddText },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 200 }) },
);
