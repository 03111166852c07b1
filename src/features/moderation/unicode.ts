/** Unicode folding for moderation: invisible characters, homoglyphs (Unicode's confusables via `unhomoglyph`), mixed scripts, safe echoes. */
import { createRequire } from 'node:module';

// The package's own function runs one giant alternation; its data (Unicode confusables.txt, one code point each) is all we need.
const CONFUSABLES = new Map(Object.entries(createRequire(import.meta.url)('unhomoglyph/data.json') as Record<string, string>));

/** Characters that render as nothing or reorder text: zero-width, bidi controls, fillers, tag characters, variation selectors. */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/gu;
/** Control characters except tab and newline. */
const CONTROL = /(?![\t\n])\p{Cc}/gu;
/** A lone high or low surrogate (what a broken client or a truncated UTF-16 string leaves). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const MARKS = /\p{M}/gu;
const ASCII_ONLY = /^[\u0020-\u007E\t\n]*$/;

/** Replaces lone surrogates with U+FFFD so the string is valid UTF-16 (JSON, Redis and platforms all expect that). */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/** Removes what a reader cannot see (zero-width, bidi overrides, controls); keeps line breaks. */
export function stripInvisible(s: string): string {
  return wellFormed(s).replace(INVISIBLE, '').replace(CONTROL, '');
}

function mapConfusables(s: string, asciiToo: boolean): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    out += (asciiToo || code > 0x7e ? CONFUSABLES.get(ch) : undefined) ?? ch;
  }
  return out;
}

/**
 * Text as a filter or scam rule should read it: invisible characters gone, compatibility forms and accents folded,
 * non-ASCII look-alikes (Cyrillic а, Cherokee Ꮯ, fullwidth letters) mapped to ASCII, lower case, single spaces.
 * ASCII itself is kept (so "dm me" stays "dm me"; the full skeleton would read it as "drn rne").
 */
export function foldText(s: string): string {
  if (ASCII_ONLY.test(s)) return s.toLowerCase().replace(/\s+/g, ' ').trim();
  const base = stripInvisible(s).normalize('NFKD').replace(MARKS, '');
  return mapConfusables(base, false).normalize('NFKD').replace(MARKS, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * The confusable skeleton (Unicode TR39 style, case-folded): two strings with the same skeleton look alike.
 * ASCII look-alikes count too (`rn`≈`m`, `l`≈`I`≈`1`, `0`≈`O`), and spaces and punctuation are dropped.
 */
export function skeleton(s: string): string {
  const base = stripInvisible(s).normalize('NFKD').replace(MARKS, '');
  let out = mapConfusables(base, true).normalize('NFKD').replace(MARKS, '');
  // Case folding can produce letters that are themselves confusable (L -> l); map once more.
  out = mapConfusables(out.toLowerCase(), true).toLowerCase();
  return out.replace(/[^\p{L}\p{N}]/gu, '');
}

const SCRIPTS = ['Latin', 'Cyrillic', 'Greek', 'Cherokee', 'Armenian', 'Georgian', 'Coptic', 'Arabic', 'Hebrew', 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Thai', 'Devanagari', 'Ethiopic', 'Canadian_Aboriginal', 'Runic', 'Lisu', 'Vai', 'Tifinagh', 'Ogham'] as const;
const SCRIPT_RES = SCRIPTS.map((name) => [name, new RegExp(`\\p{Script=${name}}`, 'u')] as const);

/** The scripts of the letters in `s` (Common and Inherited characters such as digits and marks belong to none). */
export function scriptsOf(s: string): Set<string> {
  const found = new Set<string>();
  for (const ch of s) {
    if (!/\p{L}/u.test(ch)) continue;
    found.add(SCRIPT_RES.find(([, re]) => re.test(ch))?.[0] ?? 'Other');
  }
  return found;
}

/** True when one word mixes letters of several scripts (`Ꮯhangpeng`, `pаypal` with a Cyrillic а): a homoglyph tell. */
export function hasMixedScriptWord(s: string): boolean {
  return stripInvisible(s)
    .split(/[^\p{L}\p{M}\p{N}]+/u)
    .some((w) => scriptsOf(w).size > 1);
}

/** Truncates to at most `max` code points (never splits a surrogate pair). */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const cps = Array.from(s.slice(0, max * 2));
  return cps.length <= max ? cps.join('') : cps.slice(0, max - 1).join('') + '…';
}

/**
 * Makes user-supplied text safe to echo in one line of a bot message: valid UTF-16, no controls, no bidi or
 * zero-width characters, no line breaks, no `@` pings (everyone/here/users), bounded length.
 * The adapter still escapes markup for `format: 'plain'`; this removes what escaping cannot.
 */
export function safeEcho(s: string, max = 120): string {
  const clean = stripInvisible(s).normalize('NFC').replace(/\s+/g, ' ').trim().replaceAll('@', '＠');
  return truncate(clean, max);
}
