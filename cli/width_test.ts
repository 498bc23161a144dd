// Unit tests of terminal display width: wide East Asian characters, emoji sequences, combining
// and zero-width characters, and truncation that never splits a grapheme.

import { codePointWidth, displayWidth, graphemeWidth, padWidth, truncateWidth } from "./width.ts";
import { assertEquals } from "./_test_util.ts";

Deno.test("width: ASCII 1, CJK, Hangul, kana and fullwidth forms 2", () => {
  assertEquals(displayWidth("hello"), 5);
  assertEquals(displayWidth(""), 0);
  assertEquals(displayWidth("中文"), 4);
  assertEquals(displayWidth("한국어"), 6);
  assertEquals(displayWidth("ひらがなカタカナ"), 16);
  assertEquals(displayWidth("ＡＢＣ！"), 8);
  assertEquals(displayWidth("ｶﾀｶﾅ"), 4, "halfwidth katakana stay 1");
  assertEquals(displayWidth("日本語 ok"), 9);
  assertEquals(displayWidth("𠀋"), 2, "CJK extension B (astral)");
  assertEquals(displayWidth("「」、。"), 8, "CJK punctuation");
  assertEquals(displayWidth("ÅßΩж…"), 5, "ambiguous width counts 1");
  assertEquals(codePointWidth(0x3000), 2, "ideographic space");
});

Deno.test("width: emoji 2, including ZWJ sequences, skin tones, flags, VS16 and keycaps", () => {
  assertEquals(displayWidth("👍"), 2);
  assertEquals(displayWidth("👍🏽"), 2, "skin tone");
  assertEquals(displayWidth("👨‍👩‍👧‍👦"), 2, "ZWJ family");
  assertEquals(displayWidth("🧑‍🚀"), 2);
  assertEquals(displayWidth("🏳️‍🌈"), 2);
  assertEquals(displayWidth("🇯🇵🇫🇷"), 4, "two flags");
  assertEquals(displayWidth("🏴󠁧󠁢󠁥󠁮󠁧󠁿"), 2, "tag sequence");
  assertEquals(displayWidth("❤"), 1, "text presentation by default");
  assertEquals(displayWidth("❤️"), 2, "VS16 asks for emoji presentation");
  assertEquals(displayWidth("☝🏽"), 2);
  assertEquals(displayWidth("1️⃣"), 2, "keycap");
  assertEquals(displayWidth("ok 👩‍💻!"), 6);
});

Deno.test("width: combining marks, zero-width and control characters 0", () => {
  assertEquals(displayWidth("e\u0301"), 1, "e + combining acute");
  assertEquals(displayWidth("a\u0308\u0323"), 1, "two marks on one base");
  assertEquals(displayWidth("a\u200bb"), 2, "zero-width space");
  assertEquals(displayWidth("a\u200db"), 2, "lone ZWJ");
  assertEquals(displayWidth("\ufeff"), 0, "BOM");
  assertEquals(displayWidth("\u1100\u1161\u11a8"), 2, "Hangul jamo L+V+T is one syllable");
  assertEquals(displayWidth("\u0007"), 0);
  assertEquals(graphemeWidth("\u0301"), 0, "a lone mark");
});

Deno.test("truncate: by display width with …, never inside a grapheme", () => {
  assertEquals(truncateWidth("short", 10), "short");
  assertEquals(truncateWidth("abcdef", 4), "abc…");
  // A wide char that would straddle the edge is left out: one column narrower, never split.
  assertEquals(truncateWidth("日本語テキスト", 6), "日本…");
  assertEquals(displayWidth(truncateWidth("日本語テキスト", 6)), 5);
  assertEquals(truncateWidth("日本語テキスト", 7), "日本語…");
  assertEquals(truncateWidth("ab👨‍👩‍👧‍👦cd", 5), "ab👨‍👩‍👧‍👦…");
  assertEquals(truncateWidth("ab👨‍👩‍👧‍👦cd", 4), "ab…");
  assertEquals(truncateWidth("e\u0301e\u0301e\u0301e\u0301", 3), "e\u0301e\u0301…");
  assertEquals(truncateWidth("🇯🇵🇫🇷🇩🇪", 4), "🇯🇵…");
});

Deno.test("pad: to display width, left or right", () => {
  assertEquals(padWidth("中", 4), "中  ");
  assertEquals(padWidth("中", 4, true), "  中");
  assertEquals(padWidth("中文名", 4), "中文名");
});
