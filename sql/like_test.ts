// LIKE / ILIKE (issue 10, item 9): patterns over all of ASCII, checked against a reference
// matcher written from the definition (no regular expressions), both through `likeRegExp` and
// through SQL with parameters; `ESCAPE` as PostgreSQL and SQLite have it.

import { likeRegExp } from "./functions/mod.ts";
import { assertEquals, execError, withDatabase } from "../tests/_util.ts";

/** LIKE by definition, over code points: `%` any run, `_` one, `esc` quotes the next one. */
function likeRef(text: string, pattern: string, ci: boolean, esc: string): boolean | "error" {
  const t = Array.from(ci ? text.toLowerCase() : text);
  const p: { kind: "any" | "one" | "lit"; c?: string }[] = [];
  const chars = Array.from(ci ? pattern.toLowerCase() : pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (esc !== "" && c === (ci ? esc.toLowerCase() : esc)) {
      if (i + 1 === chars.length) return "error"; // PostgreSQL: must not end with the escape
      p.push({ kind: "lit", c: chars[++i] });
    } else if (c === "%") p.push({ kind: "any" });
    else if (c === "_") p.push({ kind: "one" });
    else p.push({ kind: "lit", c });
  }
  // ok[j]: the first i characters of the text match the first j pattern items.
  let ok = new Array<boolean>(p.length + 1).fill(false);
  ok[0] = true;
  for (let j = 1; j <= p.length; j++) ok[j] = ok[j - 1] && p[j - 1].kind === "any";
  for (const ch of t) {
    const next = new Array<boolean>(p.length + 1).fill(false);
    for (let j = 1; j <= p.length; j++) {
      const item = p[j - 1];
      if (item.kind === "any") next[j] = next[j - 1] || ok[j];
      else next[j] = ok[j - 1] && (item.kind === "one" || item.c === ch);
    }
    ok = next;
  }
  return ok[p.length];
}

/** likeRegExp's answer, or "error" when it refuses the pattern (INVALID_PARAMETER). */
function likeOf(text: string, pattern: string, ci: boolean, esc = "\\"): boolean | "error" {
  try {
    return likeRegExp(pattern, ci, esc).test(text);
  } catch (err) {
    if ((err as { code?: string }).code === "INVALID_PARAMETER") return "error";
    throw err;
  }
}

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const ASCII = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));

function randomCase(rand: () => number): { text: string; pattern: string } {
  const special = ["%", "_", "\\", "-", "a", "A"];
  const pick = () =>
    rand() < 0.4 ? special[Math.floor(rand() * special.length)] : ASCII[Math.floor(rand() * 128)];
  const pattern = Array.from({ length: Math.floor(rand() * 7) }, pick).join("");
  // Half the texts are built from the pattern, so that matches are common.
  const text = rand() < 0.5
    ? Array.from(pattern).map((c) => (c === "%" || c === "_" ? pick() : c)).join("")
    : Array.from({ length: Math.floor(rand() * 7) }, pick).join("");
  return { text, pattern };
}

Deno.test("LIKE: every ASCII pattern compiles and matches as the definition says", () => {
  // Each single ASCII character as a whole pattern, and between two literals.
  for (const c of ASCII) {
    for (const pattern of [c, `a${c}b`, `%${c}%`]) {
      for (const text of [c, `a${c}b`, "ab", `x${c}y`]) {
        for (const ci of [false, true]) {
          assertEquals(
            likeOf(text, pattern, ci),
            likeRef(text, pattern, ci, "\\"),
            `${JSON.stringify(text)} ${ci ? "ILIKE" : "LIKE"} ${JSON.stringify(pattern)}`,
          );
        }
      }
    }
  }
  const rand = rng(10);
  for (let n = 0; n < 20_000; n++) {
    const { text, pattern } = randomCase(rand);
    const ci = n % 2 === 1;
    const esc = ["\\", "", "#", "%"][n % 4];
    assertEquals(
      likeOf(text, pattern, ci, esc),
      likeRef(text, pattern, ci, esc),
      `${JSON.stringify(text)} ${ci ? "ILIKE" : "LIKE"} ${JSON.stringify(pattern)} ESCAPE ${
        JSON.stringify(esc)
      }`,
    );
  }
});

Deno.test("LIKE through SQL: '-' and every ASCII character, ESCAPE, bad escapes", async () => {
  await withDatabase(async (db) => {
    const one = async (sql: string, params: unknown[] = []) => {
      const r = await db.execute(sql, { params: params as never });
      if (r.error?.code === "INVALID_PARAMETER") return "error";
      if (r.error) throw r.error;
      return r.results[0].rows![0][0];
    };
    assertEquals(await one("SELECT 'a-b' LIKE 'a-b'"), true);
    assertEquals(await one("SELECT '2024-05-01' LIKE '2024-%'"), true);
    assertEquals(await one("SELECT '2024_05' LIKE '2024\\_%'"), true);
    assertEquals(await one("SELECT '2024-05' LIKE '2024\\_%'"), false);
    assertEquals(await one("SELECT '50%' LIKE '50#%' ESCAPE '#'"), true);
    assertEquals(await one("SELECT '50x' LIKE '50#%' ESCAPE '#'"), false);
    assertEquals(await one("SELECT 'a\\b' LIKE 'a\\b' ESCAPE ''"), true);
    assertEquals(await one("SELECT 'ABC' ILIKE 'a_c' ESCAPE '!'"), true);
    assertEquals(await one("SELECT 'abc' NOT LIKE 'a%' ESCAPE '!'"), false);
    await execError(db, "SELECT 'a' LIKE 'a' ESCAPE 'ab'", "INVALID_PARAMETER");
    await execError(db, "SELECT 'a' LIKE 'a\\'", "INVALID_PARAMETER"); // ends with the escape
    await execError(db, "SELECT 'ab' LIKE 'a_' ESCAPE '_'", "INVALID_PARAMETER");
    const rand = rng(11);
    for (let n = 0; n < 400; n++) {
      const { text, pattern } = randomCase(rand);
      const ci = n % 2 === 1;
      const sql = `SELECT $1 ${ci ? "ILIKE" : "LIKE"} $2`;
      assertEquals(
        await one(sql, [text, pattern]),
        likeRef(text, pattern, ci, "\\"),
        `${JSON.stringify(text)} ${ci ? "ILIKE" : "LIKE"} ${JSON.stringify(pattern)}`,
      );
    }
  });
});

Deno.test("LIKE: the compiled-pattern cache never confuses one (escape, pattern) pair with another", () => {
  // Same characters split differently between the escape and the pattern.
  assertEquals(likeRegExp("\0a", false, "").test("\0a"), true);
  assertEquals(likeRegExp("a", false, "\0").test("a"), true);
  assertEquals(likeRegExp("#%", false, "").test("#x"), true);
  assertEquals(likeRegExp("%", false, "#").test("#x"), true);
});
