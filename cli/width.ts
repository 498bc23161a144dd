// Terminal display width: how many columns a string takes in a monospace terminal, per grapheme
// (what the user sees as one character, found with `Intl.Segmenter`). East Asian wide and
// fullwidth characters (CJK, Hangul, kana, fullwidth forms) and emoji take 2 columns, combining
// marks, format characters (ZWJ, ZWSP, variation selectors) and controls take 0, the rest 1.
// Ambiguous-width characters (Greek, Cyrillic, box drawing, `…`) count 1, as in non-CJK locales.

/**
 * Code point ranges (inclusive pairs) whose East_Asian_Width is W or F and that are not emoji
 * (emoji are found with `\p{Emoji_Presentation}`, which follows V8's Unicode version). Generated
 * from UnicodeData 14 and widened over unassigned gaps inside each block; planes 2 and 3 are wide
 * as a whole, as the standard says even for unassigned code points.
 */
const WIDE: readonly number[] = [
  0x1100,
  0x115f, // Hangul Jamo initial consonants
  0x2329,
  0x232a, // angle brackets
  0x2e80,
  0x303e, // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
  0x3041,
  0x3247, // Hiragana, Katakana, Bopomofo, Hangul compatibility jamo, Kanbun, CJK strokes
  0x3250,
  0x4dbf, // enclosed CJK, CJK compatibility, CJK extension A
  0x4e00,
  0xa4c6, // CJK unified ideographs, Yi
  0xa960,
  0xa97c, // Hangul Jamo extended A
  0xac00,
  0xd7a3, // Hangul syllables
  0xf900,
  0xfad9, // CJK compatibility ideographs
  0xfe10,
  0xfe6b, // vertical forms, CJK compatibility forms, small form variants
  0xff01,
  0xff60, // fullwidth ASCII forms
  0xffe0,
  0xffe6, // fullwidth signs
  0x16fe0,
  0x1b2ff, // ideographic symbols, Tangut, Khitan, kana supplement and extended, Nushu
  0x1f200,
  0x1f2ff, // enclosed ideographic supplement
  0x20000,
  0x3fffd, // CJK extensions B–I and compatibility supplement
];

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}\u1160-\u11ff\ud7b0-\ud7ff]$/u;
const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}$/u;
const EMOJI = /^\p{Emoji}/u;
/** Printable ASCII only: the common case, measured without segmenting. */
const ASCII = /^[\x20-\x7e]*$/;
/**
 * Code points that can join the one before them into a grapheme (marks, ZWJ, variation
 * selectors, tags, Hangul jamo, halfwidth kana voicing marks, regional indicators, skin tones).
 * Text without them is measured code point by code point: much faster than segmenting it.
 */
const JOINS =
  /[\p{M}\p{Cf}\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff\uff9e\uff9f\u{1f1e6}-\u{1f1ff}\u{1f3fb}-\u{1f3ff}]/u;

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
/** Widths of code points from U+0300 up, computed once each (the regexes are the slow part). */
const cache = new Map<number, number>();

/** The grapheme clusters of `s`, each with its UTF-16 offset. */
export function graphemes(s: string): { segment: string; index: number }[] {
  return Array.from(segmenter.segment(s), ({ segment, index }) => ({ segment, index }));
}

/**
 * The user-perceived characters of `s`: code points up to the first joining code point, then
 * graphemes from the code point before it on (one `Intl.Segmenter` pass per string).
 */
function* pieces(s: string): Generator<string> {
  const m = JOINS.exec(s);
  if (m === null) {
    yield* s;
    return;
  }
  let start = m.index;
  if (start > 0) start -= start >= 2 && isLowSurrogate(s.charCodeAt(start - 1)) ? 2 : 1;
  yield* s.slice(0, start);
  for (const { segment } of segmenter.segment(s.slice(start))) yield segment;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

function isWide(cp: number): boolean {
  if (cp < WIDE[0]) return false;
  let lo = 0;
  let hi = WIDE.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < WIDE[2 * mid]) hi = mid - 1;
    else if (cp > WIDE[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/**
 * Columns one code point takes on its own: 0, 1 or 2.
 *
 * @example
 * codePointWidth(0x4e2d); // 2 (中)
 */
export function codePointWidth(cp: number): number {
  if (cp < 0x300) return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp === 0xad ? 0 : 1;
  let width = cache.get(cp);
  if (width === undefined) {
    const ch = String.fromCodePoint(cp);
    width = ZERO_WIDTH.test(ch) ? 0 : EMOJI_PRESENTATION.test(ch) || isWide(cp) ? 2 : 1;
    cache.set(cp, width);
  }
  return width;
}

/**
 * Columns one grapheme cluster takes: its widest code point (a base with its combining marks, a
 * Hangul jamo syllable, a ZWJ emoji sequence, a skin-toned emoji, a flag), and 2 for a
 * text-default emoji asked to show as emoji (VS16, `❤️`) or a keycap (`1️⃣`).
 *
 * @example
 * graphemeWidth("👩‍💻"); // 2
 * graphemeWidth("é"); // 1 (e + U+0301)
 */
export function graphemeWidth(g: string): number {
  if (g.length === 1) return codePointWidth(g.charCodeAt(0));
  let width = 0;
  for (const ch of g) {
    const w = codePointWidth(ch.codePointAt(0)!);
    if (w > width) width = w;
  }
  if (width < 2 && EMOJI.test(g) && /[\ufe0f\u20e3]/.test(g)) return 2;
  return width;
}

/**
 * Columns `s` takes in a terminal (no tabs or line breaks expected: count those yourself).
 *
 * @example
 * displayWidth("日本語 ok"); // 9
 */
export function displayWidth(s: string): number {
  if (ASCII.test(s)) return s.length;
  let width = 0;
  for (const piece of pieces(s)) width += graphemeWidth(piece);
  return width;
}

/**
 * `s` cut to at most `width` columns, ending with `…` when cut; never splits a grapheme, so the
 * result can be one column narrower than `width` when a wide character would straddle the edge.
 *
 * @example
 * truncateWidth("日本語テキスト", 6); // "日本…" (5 columns: a third wide char would need 7)
 */
export function truncateWidth(s: string, width: number, ellipsis = "…"): string {
  const room = width - displayWidth(ellipsis);
  if (ASCII.test(s)) return s.length <= width ? s : s.slice(0, Math.max(room, 0)) + ellipsis;
  let used = 0;
  let out = "";
  for (const piece of pieces(s)) {
    const w = graphemeWidth(piece);
    if (used + w > room) {
      // Cut only when the rest does not fit either (it may fit in room + the ellipsis's width).
      return fits(s.slice(out.length), width - used) ? s : out + ellipsis;
    }
    used += w;
    out += piece;
  }
  return s;
}

/** Whether `s` takes at most `width` columns; stops measuring as soon as it does not. */
function fits(s: string, width: number): boolean {
  let used = 0;
  for (const piece of pieces(s)) {
    used += graphemeWidth(piece);
    if (used > width) return false;
  }
  return true;
}

/**
 * `s` padded with spaces to `width` columns, on the right (left-aligned) or, with `alignRight`,
 * on the left. Strings already as wide are returned as they are.
 */
export function padWidth(s: string, width: number, alignRight = false): string {
  const gap = " ".repeat(Math.max(width - displayWidth(s), 0));
  return alignRight ? gap + s : s + gap;
}
