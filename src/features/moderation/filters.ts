/** Chat filters: words/phrases (matched after homoglyph folding) and safe regular expressions (matched in bounded windows). */
import { boundedTest, checkPatternStatic } from './safe-regex.js';
import { foldText } from './unicode.js';

/** Most filters one chat may have: every message of the chat is matched against all of them. */
export const MAX_FILTERS = 500;

/** A filter as stored (hash field = its id). */
export interface FilterRecord {
  kind: 'word' | 'regex';
  pattern: string;
  by: string;
  at: number;
  /** Set on a regex that passed validatePattern (static check and timed probe); unverified ones never run. */
  verified?: boolean;
}

/** What a moderator typed after `/filter add`, as a filter: `/pattern/` is a regular expression, anything else a word or phrase. */
export function parseFilterArg(rest: string): { kind: 'word' | 'regex'; pattern: string } | null {
  const t = rest.trim();
  const re = /^\/(.+)\/$/s.exec(t);
  if (re) return { kind: 'regex', pattern: re[1]! };
  const word = t.replace(/^["'“](.*)["'”]$/s, '$1').trim();
  if (!word || foldText(word).length < 2 || word.length > 100) return null;
  return { kind: 'word', pattern: word };
}

/** The hash field of a filter: equal filters (`Scam` and `scam`) share one. */
export function filterId(kind: 'word' | 'regex', pattern: string): string {
  return kind === 'word' ? `w:${foldText(pattern)}` : `r:${pattern}`;
}

/** Filters ready to match. */
export interface CompiledFilters {
  words: { id: string; folded: string }[];
  regexes: { id: string; re: RegExp }[];
}

/**
 * Compiles stored filters. A regex runs only if it was verified when added and still passes the static check, so a
 * pattern written into Redis around the command (which probes it) can never reach the hot path.
 */
export function compileFilters(raw: Record<string, string>): CompiledFilters {
  const out: CompiledFilters = { words: [], regexes: [] };
  for (const [id, json] of Object.entries(raw).slice(0, MAX_FILTERS)) {
    let rec: FilterRecord;
    try {
      rec = JSON.parse(json) as FilterRecord;
    } catch {
      continue;
    }
    if (rec.kind === 'word') {
      const folded = foldText(rec.pattern);
      if (folded.length >= 2) out.words.push({ id, folded });
    } else if (rec.kind === 'regex' && rec.verified === true) {
      const check = checkPatternStatic(rec.pattern);
      if (check.ok) out.regexes.push({ id, re: check.re });
    }
  }
  return out;
}

const WORDISH = /[\p{L}\p{N}]/u;

function containsWord(haystack: string, needle: string): boolean {
  const edgeStart = WORDISH.test(needle[0]!);
  const edgeEnd = WORDISH.test(needle[needle.length - 1]!);
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
    const before = i > 0 ? haystack[i - 1]! : ' ';
    const after = haystack[i + needle.length] ?? ' ';
    if ((!edgeStart || !WORDISH.test(before)) && (!edgeEnd || !WORDISH.test(after))) return true;
  }
  return false;
}

/**
 * The first filter a text trips, or null. Words are matched on the folded text (so `ѕсаm` with Cyrillic letters trips
 * `scam`), regular expressions on the text with invisible characters removed.
 */
export function matchFilters(cf: CompiledFilters, text: { folded: string; clean: string }): { id: string; label: string } | null {
  for (const w of cf.words) if (containsWord(text.folded, w.folded)) return { id: w.id, label: `word "${w.folded}"` };
  for (const r of cf.regexes) if (boundedTest(r.re, text.clean)) return { id: r.id, label: `pattern /${r.re.source}/` };
  return null;
}
