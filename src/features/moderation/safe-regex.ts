/**
 * Moderator-written regular expressions that cannot hang a worker, however they are written: they are matched by
 * RE2 (re2js, a pure-JavaScript port), whose time is linear in the text — no backtracking, so `(a|a)*$` costs what
 * `a*$` costs — and whose cost per character is bounded by the compiled program's size. A chat's patterns run as one
 * set (one pass over the text for all of them) and each message gets a fixed budget of characters × instructions:
 * the biggest set a chat may have still scans the first MIN_SCAN_CHARS characters, a typical one the whole message.
 * Worst case (an adversarial text that defeats the DFA cache on the largest set) is one budget: ~15 ms on this
 * project's 2-core machines (`npx tsx bench/filters.ts`); typical sets cost microseconds.
 *
 * Patterns are written in JavaScript syntax (what moderators know) and translated; what RE2 cannot do in linear time
 * (back-references, look-around) is refused with the reason, as is a pattern that matches an empty message.
 */
import { RE2JS, RE2Set } from 're2js';

/** Longest pattern a moderator may add. */
export const MAX_PATTERN_CHARS = 200;
/** Most compiled instructions one pattern may have (`x{100}` is 100; counted repetition is what makes them big). */
export const MAX_PATTERN_SIZE = 400;
/** Most compiled instructions one chat's patterns may have together. */
export const MAX_SET_SIZE = 2_000;
/** Characters × instructions one message may cost the chat's pattern set. */
export const STEP_BUDGET = 1_000_000;
/** What the largest allowed set still scans of every message. */
export const MIN_SCAN_CHARS = Math.floor(STEP_BUDGET / MAX_SET_SIZE);
/** Longest text matched at all (the pipeline's own limit, MAX_TEXT_CHARS, is lower; this guards other callers). */
export const MAX_MATCH_TEXT = 20_000;
/** Memory one chat's set may use for its DFA states; past it RE2 drops them or falls back to its NFA (still linear). */
const DFA_MEMORY_BYTES = 128 * 1024;
/** Flags every filter pattern is compiled with: case-insensitive (Unicode case folding, as JavaScript's `iu`). */
const RE2_FLAGS = RE2JS.CASE_INSENSITIVE;

/** Why a pattern is refused, or its RE2 form and compiled size. */
export type PatternCheck = { ok: true; re2: string; size: number } | { ok: false; reason: string };

/** A JavaScript pattern in RE2 syntax (`\u0100` → `\x{0100}`, `(?<n>` → `(?P<n>`, `\p{Script=Greek}` → `\p{Greek}`). */
export function toRe2(pattern: string): string {
  return RE2JS.translateRegExp(pattern.replace(/\\([pP])\{(?:Script|sc|Script_Extensions|scx)=([A-Za-z_]+)\}/g, '\\$1{$2}'));
}

/** The checks a pattern must pass, run when it is added and again whenever it is loaded from Redis. */
export function checkPatternStatic(pattern: string): PatternCheck {
  if (!pattern.trim()) return { ok: false, reason: 'the pattern is empty' };
  if (pattern.length > MAX_PATTERN_CHARS) return { ok: false, reason: `patterns are limited to ${MAX_PATTERN_CHARS} characters` };
  try {
    new RegExp(pattern, 'iu');
  } catch (err) {
    return { ok: false, reason: `not a valid pattern (${(err as Error).message.replace(/^Invalid regular expression: /, '').slice(0, 80)})` };
  }
  // The translator would turn `\k<n>` into the letters "k<n>": refuse before it can change what the pattern means.
  if (/\\[1-9]|\\k</.test(pattern)) return { ok: false, reason: 'back-references are not allowed (no linear-time engine can match them)' };
  if (/\(\?<?[=!]/.test(pattern)) return { ok: false, reason: 'look-ahead and look-behind are not allowed (no linear-time engine can match them)' };
  let re: RE2JS;
  try {
    re = RE2JS.compile(toRe2(pattern), RE2_FLAGS);
  } catch (err) {
    return { ok: false, reason: `not supported by the linear-time matcher (${(err as Error).message.replace(/^error parsing regexp: /, '').slice(0, 80)})` };
  }
  const size = re.re2().prog.numInst();
  if (size > MAX_PATTERN_SIZE) return { ok: false, reason: `too large once its repetitions are expanded (${size} steps; the limit is ${MAX_PATTERN_SIZE}): use smaller counts` };
  if (re.test('')) return { ok: false, reason: 'it matches an empty message, so it would remove every message' };
  return { ok: true, re2: re.pattern(), size };
}

/** Everything a pattern must pass before it is stored (kept async: callers await it). */
export async function validatePattern(pattern: string): Promise<PatternCheck> {
  return checkPatternStatic(pattern);
}

/** Text as the patterns see it: every kind of space as a plain space, so `\s` means what it means in JavaScript. */
export function matchableText(text: string): string {
  const t = text.length > MAX_MATCH_TEXT ? `${text.slice(0, MAX_MATCH_TEXT)}\u0000` : text;
  return /[^\x20-\x7e\t\n]/.test(t) ? t.replace(/[\p{Z}\v\u0085\ufeff]/gu, ' ') : t;
}

/** One chat's patterns compiled together: one linear pass over (the budgeted part of) a message finds the first that matches. */
export class PatternSet {
  private readonly set: RE2Set;
  /** Compiled instructions of the whole set. */
  readonly size: number;
  /** How much of a message this set may scan within STEP_BUDGET. */
  readonly scanChars: number;

  /** Compiles checked patterns (their `re2` form); throws when RE2 refuses the set. */
  constructor(re2Patterns: string[]) {
    this.set = new RE2Set(RE2Set.UNANCHORED, RE2_FLAGS, DFA_MEMORY_BYTES);
    for (const p of re2Patterns) this.set.add(p);
    this.set.compile();
    this.size = Math.max(1, this.set.prog?.numInst() ?? 1);
    this.scanChars = Math.min(MAX_MATCH_TEXT, Math.floor(STEP_BUDGET / this.size));
  }

  /** The index of the first pattern (in the order given) that matches the text's budgeted part, or -1. */
  firstMatch(text: string): number {
    // A cut text ends in NUL (which cleaned text never holds), so `$` cannot match where the cut is.
    const t = text.length > this.scanChars ? `${text.slice(0, this.scanChars)}\u0000` : text;
    const hits = this.set.match(t);
    return hits.length ? Math.min(...hits) : -1;
  }
}
