// Parser of the SQL conformance case files (tests/sql/cases/*.sql). A case file is plain SQL;
// expectations and directives live in `--` comments right after the statement they check, so
// the files stay readable (and runnable) as SQL. Grammar, one directive per comment line:
//
//   -- setup / -- end setup      statements between them form the setup (must all succeed);
//                                the runner calls its afterSetup hook right after them
//   -- as: alice                 run the following statements as `alice` (default root)
//   -- skip modes: flushed mixed file-level: modes this file does not apply to (say why)
//   -- expect:                   the statement returns exactly these rows, in this order;
//   -- id | title                the next `--` lines are the header and then one line per row,
//   -- 1  | Buy milk             cells separated by `|` and compared after trimming; the block
//                                ends at the first line that is not a `--` comment or is a bare
//                                `--`. A cell `<any>` matches anything; `<re:…>` must match the
//                                whole rendered value
//   -- expect unordered:         the same rows in any order
//   -- expect within 4s:         re-runs the statement until the rows match (for TTL expiry)
//   -- error: CODE [| CODE]      the statement fails with that code (alternatives with `|`)
//   -- error or ok: CODE [| …]   either succeeds or fails with one of the codes (later issues)
//   -- rowcount: N               rowCount of the statement's result
//   -- includes: VALUE           some cell of the result renders as VALUE
//   -- excludes: VALUE           no cell of the result renders as VALUE
//   -- columns exclude: REGEX    no result column name matches REGEX (case-insensitive)
//
// A statement with no expectation must succeed. Other `--` lines are plain comments.

export type Expectation =
  | {
    readonly kind: "rows";
    readonly header: readonly string[];
    readonly rows: readonly (readonly string[])[];
    readonly ordered: boolean;
    readonly withinMs?: number;
  }
  | { readonly kind: "error"; readonly codes: readonly string[]; readonly orOk: boolean }
  | { readonly kind: "rowcount"; readonly count: number }
  | { readonly kind: "includes"; readonly value: string; readonly negate: boolean }
  | { readonly kind: "columnsExclude"; readonly pattern: RegExp };

export interface CaseStep {
  readonly sql: string;
  readonly user: string;
  /** 1-based line of the statement's first line in the case file. */
  readonly line: number;
  readonly setup: boolean;
  readonly expects: Expectation[];
}

export interface CaseFile {
  readonly name: string;
  readonly steps: CaseStep[];
  readonly skipModes: readonly string[];
}

/** True when `sql` ends with a `;` outside strings, quoted identifiers and comments. */
export function statementComplete(sql: string): boolean {
  let last = "";
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      if (end < 0) return false;
      i = end; // a doubled quote just re-enters the string on the next iteration
      last = c;
    } else if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      if (nl < 0) break;
      i = nl;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      if (end < 0) return false;
      i = end + 1;
    } else if (!/\s/.test(c)) {
      last = c;
    }
  }
  return last === ";";
}

const ROWS_RE = /^expect(?:\s+(unordered|within\s+(\d+(?:\.\d+)?)s))?:$/i;
const DIRECTIVE_RE =
  /^(setup|end setup|as:|skip modes:|expect\b|error:|error or ok:|rowcount:|includes:|excludes:|columns exclude:)/i;

function splitCells(text: string): string[] {
  return text.split("|").map((c) => c.trim());
}

function splitCodes(text: string): string[] {
  return text.split("|").map((c) => c.trim()).filter((c) => c !== "");
}

/** Parses one case file; throws with the file and line on a malformed directive. */
export function parseCaseFile(name: string, text: string): CaseFile {
  const steps: CaseStep[] = [];
  const skipModes: string[] = [];
  const lines = text.split("\n");
  let user = "root";
  let setup = false;
  let sql: string[] = [];
  let sqlLine = 0;
  let block: { header?: string[]; rows: string[][]; exp: Expectation[] } | undefined;
  let blockSpec: { ordered: boolean; withinMs?: number } | undefined;
  let last: CaseStep | undefined;

  const fail = (i: number, msg: string): never => {
    throw new Error(`${name}:${i + 1}: ${msg}`);
  };
  const closeBlock = (i: number) => {
    if (!block || !blockSpec || !last) return;
    if (!block.header) fail(i, "expect block without a header line");
    for (const row of block.rows) {
      if (row.length !== block.header!.length) {
        fail(
          i,
          `row [${row.join(" | ")}] has ${row.length} cells, header ${block.header!.length}` +
            " (separate a comment from an expect block with a blank line)",
        );
      }
    }
    last.expects.push({
      kind: "rows",
      header: block.header!,
      rows: block.rows,
      ordered: blockSpec.ordered,
      withinMs: blockSpec.withinMs,
    });
    block = undefined;
    blockSpec = undefined;
  };
  const needStep = (i: number): CaseStep => {
    if (sql.length > 0) fail(i, "directive inside an unfinished statement (missing ';'?)");
    if (!last) fail(i, "expectation before any statement");
    return last!;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const trimmed = raw.trim();
    const isComment = trimmed.startsWith("--");
    const body = isComment ? trimmed.slice(2).trim() : "";

    if (block) {
      if (isComment && body !== "" && !DIRECTIVE_RE.test(body)) {
        if (!block.header) block.header = splitCells(body);
        else block.rows.push(splitCells(body));
        continue;
      }
      closeBlock(i);
    }

    if (isComment) {
      if (!DIRECTIVE_RE.test(body)) continue; // a plain comment
      const lower = body.toLowerCase();
      if (lower === "setup") {
        if (sql.length > 0) fail(i, "setup inside a statement");
        setup = true;
      } else if (lower === "end setup") {
        if (sql.length > 0) fail(i, "end setup inside a statement");
        setup = false;
      } else if (lower.startsWith("as:")) {
        if (sql.length > 0) fail(i, "as: inside a statement");
        user = body.slice(3).trim();
      } else if (lower.startsWith("skip modes:")) {
        skipModes.push(...body.slice("skip modes:".length).trim().split(/[\s,]+/));
      } else if (lower.startsWith("expect")) {
        const m = ROWS_RE.exec(body);
        if (!m) fail(i, `bad expect directive: ${body}`);
        needStep(i);
        blockSpec = {
          ordered: m![1]?.toLowerCase() !== "unordered",
          withinMs: m![2] ? Number(m![2]) * 1000 : undefined,
        };
        block = { rows: [], exp: [] };
      } else if (lower.startsWith("error or ok:")) {
        needStep(i).expects.push({
          kind: "error",
          codes: splitCodes(body.slice("error or ok:".length)),
          orOk: true,
        });
      } else if (lower.startsWith("error:")) {
        needStep(i).expects.push({
          kind: "error",
          codes: splitCodes(body.slice("error:".length)),
          orOk: false,
        });
      } else if (lower.startsWith("rowcount:")) {
        const n = Number(body.slice("rowcount:".length).trim());
        if (!Number.isInteger(n)) fail(i, `bad rowcount: ${body}`);
        needStep(i).expects.push({ kind: "rowcount", count: n });
      } else if (lower.startsWith("includes:") || lower.startsWith("excludes:")) {
        needStep(i).expects.push({
          kind: "includes",
          value: body.slice("includes:".length).trim(),
          negate: lower.startsWith("excludes:"),
        });
      } else if (lower.startsWith("columns exclude:")) {
        needStep(i).expects.push({
          kind: "columnsExclude",
          pattern: new RegExp(body.slice("columns exclude:".length).trim(), "i"),
        });
      }
      continue;
    }

    if (trimmed === "" && sql.length === 0) continue;
    if (sql.length === 0) sqlLine = i + 1;
    sql.push(raw);
    const text = sql.join("\n");
    if (statementComplete(text)) {
      last = { sql: text.trim(), user, line: sqlLine, setup, expects: [] };
      steps.push(last);
      sql = [];
    }
  }
  closeBlock(lines.length);
  if (sql.length > 0) fail(sqlLine - 1, "statement without a terminating ';'");
  for (const s of steps) {
    const kinds = s.expects.map((e) => e.kind);
    if (kinds.includes("error") && kinds.length > 1) {
      fail(s.line - 1, "an error expectation cannot be combined with others");
    }
  }
  return { name, steps, skipModes };
}
