// Fails when a file reaches into another folder instead of going through its door (DESIGN.md,
// Layout): each folder's `mod.ts` is its only public entry.
//
// An import of `target` from `source` is allowed when
// - `target` sits in the folder of `source` or in one of its ancestors (a room's subfolders share
//   its vocabulary — `sql/exec/` uses `sql/ast.ts` — and project-root files such as `errors.ts`
//   are everyone's), or
// - `target` is the `mod.ts` of a folder whose parent contains `source` (a sibling folder's door,
//   a child folder's door, or a top-level folder's door — never a grandchild's: the child's door
//   decides what of its own children it shows).
// Test kits — everything under `tests/` (the shared kit and the cross-folder suites) and any
// `_test_*.ts` / `*test_util*.ts` helper — are open to test code from anywhere and closed to
// everything else.
//
// Usage: deno run --allow-read scripts/check_doors.ts   (exit 1 and one line per violation)

import { dirname, join, relative, resolve, sep } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const skip = new Set(["node_modules", ".git", ".scratch", "data", ".ci"]);

/** Every .ts file under `dir`, as a path relative to the project root. */
function* sources(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(join(root, dir))) {
    if (e.name.startsWith(".") && e.name !== ".") continue;
    const rel = dir === "" ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory && !skip.has(e.name)) yield* sources(rel);
    else if (e.isFile && e.name.endsWith(".ts")) yield rel;
  }
}

const specifier = /(?:^|[\s;])(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\("([^"]+)"\)/gs;

/** Test code: `*_test.ts` files, `*test_util*` helpers, and everything under `tests/`. */
function isTestCode(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return path.startsWith("tests/") || name.endsWith("_test.ts") || name.includes("test_util");
}

/** A helper that exists for tests: anything under tests/, `_test_*.ts`, `*test_util*`. */
function isTestKit(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return path.startsWith("tests/") || name.startsWith("_test_") || name.includes("test_util");
}

function folderOf(path: string): string {
  const d = dirname(path);
  return d === "." ? "" : d;
}

function contains(folder: string, path: string): boolean {
  return folder === "" || path.startsWith(folder + "/");
}

export function violation(source: string, target: string): string | undefined {
  const to = folderOf(target);
  if (isTestKit(target)) {
    return isTestCode(source) ? undefined : "only test code may import a test kit";
  }
  if (contains(to, source)) return undefined;
  const isDoor = target.endsWith("/mod.ts");
  if (isDoor && contains(folderOf(to), source)) return undefined;
  return isDoor ? `import ${folderOf(to)}/mod.ts instead` : `import ${to}/mod.ts instead`;
}

if (import.meta.main) {
  const problems: string[] = [];
  for (const source of sources("")) {
    const text = Deno.readTextFileSync(join(root, source));
    for (const m of text.matchAll(specifier)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith(".")) continue;
      const target = relative(root, resolve(root, dirname(source), spec)).split(sep).join("/");
      const why = violation(source, target);
      if (why) problems.push(`${source}: imports ${spec} — ${why}`);
    }
  }
  for (const p of problems) console.log(p);
  if (problems.length > 0) {
    console.log(`check_doors: ${problems.length} import(s) reach past a folder's door`);
    Deno.exit(1);
  }
  console.log("check_doors: every import goes through a door");
}
