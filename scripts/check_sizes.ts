// Reports source files over 500 lines and functions over 80 lines (issue 11's size rule), so a
// newcomer never meets a wall of code. Exempt: a function whose body is one `switch` over node
// kinds (it grows one case per kind), and test callbacks (a test reads top to bottom).
//
// Usage: deno run -A scripts/check_sizes.ts [folder…]   (exit 1 when anything is over)

import { join } from "node:path";
import ts from "typescript";

const MAX_FILE = 500;
const MAX_FUNCTION = 80;
const skip = new Set(["node_modules", ".git", ".scratch", "data"]);

function* sources(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const path = dir === "." ? e.name : join(dir, e.name);
    if (e.isDirectory && !skip.has(e.name) && !e.name.startsWith(".")) yield* sources(path);
    else if (e.isFile && e.name.endsWith(".ts")) yield path;
  }
}

function isTestFile(path: string): boolean {
  return path.endsWith("_test.ts") || path.startsWith("tests/") || path.includes("test_util");
}

/** A body that is one `switch` after at most 5 statements of setup (a dispatch over kinds). */
function isKindSwitch(body: ts.Node | undefined): boolean {
  if (!body || !ts.isBlock(body)) return false;
  const switches = body.statements.filter(ts.isSwitchStatement);
  return switches.length === 1 && body.statements.length <= 6;
}

/** Functions longer than MAX_FUNCTION lines in `text`: name, first line, length. */
export function longFunctions(path: string, text: string) {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const out: { name: string; line: number; length: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const end = file.getLineAndCharacterOfPosition(node.getEnd()).line;
      const length = end - start + 1;
      if (length > MAX_FUNCTION && !isKindSwitch(node.body as ts.Node)) {
        const name = node.name ? node.name.getText(file) : "(anonymous)";
        out.push({ name, line: start + 1, length });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

if (import.meta.main) {
  const roots = Deno.args.length > 0 ? Deno.args : ["."];
  let problems = 0;
  for (const root of roots) {
    for (const path of sources(root)) {
      const text = Deno.readTextFileSync(path);
      const n = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
      if (n > MAX_FILE) {
        console.log(`${path}: ${n} lines (max ${MAX_FILE})`);
        problems++;
      }
      if (isTestFile(path)) continue;
      for (const f of longFunctions(path, text)) {
        console.log(`${path}:${f.line}: ${f.name} is ${f.length} lines (max ${MAX_FUNCTION})`);
        problems++;
      }
    }
  }
  if (problems > 0) {
    console.log(`check_sizes: ${problems} file(s) or function(s) over the limit`);
    Deno.exit(1);
  }
  console.log("check_sizes: every file and function is within the limits");
}
