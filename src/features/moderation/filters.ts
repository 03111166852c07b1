/** Chat filters: words/phrases (matched after homoglyph folding) and regular expressions (matched in linear time, see safe-regex.ts). */
import { checkPatternStatic, matchableText, MAX_SET_SIZE, PatternSet } from './safe-regex.js';
import { foldText } from './unicode.js';

/** Most filters one chat may have: every message of the chat is matched against all of them. */
export const MAX_FILTERS = 500;

/** A filter as stored (hash field = its id). */
export interface FilterRecord {
  kind: 'word' | 'regex';
  pattern: string;
  by: string;
  at: number;
  /** Set on a regex that passed validatePattern when it was added; unverified ones never run. */
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
  /** The chat's regular expressions, in the order of `set`. */
  regexes: { id: string; pattern: string }[];
  /** All of them compiled together (null when there are none). */
  set: PatternSet | null;
}

/**
 * Compiles stored filters. A regex runs only if it was verified when added and still passes the checks, and only as
 * many as fit MAX_SET_SIZE together (oldest first), so a pattern written into Redis around the command can never
 * make matching costlier than the command allows.
 */
export function compileFilters(raw: Record<string, string>): CompiledFilters {
  const out: CompiledFilters = { words: [], regexes: [], set: null };
  const re2: string[] = [];
  let size = 0;
  const records: [string, FilterRecord][] = [];
  for (const [id, json] of Object.entries(raw).slice(0, MAX_FILTERS)) {
    try {
      records.push([id, JSON.parse(json) as FilterRecord]);
    } catch {
      continue;
    }
  }
  records.sort((a, b) => (a[1].at ?? 0) - (b[1].at ?? 0) || (a[0] < b[0] ? -1 : 1));
  for (const [id, rec] of records) {
    if (rec.kind === 'word') {
      const folded = foldText(rec.pattern);
      if (folded.length >= 2) out.words.push({ id, folded });
    } else if (rec.kind === 'regex' && rec.verified === true) {
      const check = checkPatternStatic(rec.pattern);
      if (!check.ok || size + check.size > MAX_SET_SIZE) continue;
      size += check.size;
      out.regexes.push({ id, pattern: rec.pattern });
      re2.push(check.re2);
    }
  }
  if (re2.length) out.set = new PatternSet(re2);
  return out;
}

/** The compiled size the chat's verified patterns would have with `pattern` added (what /filter add checks against MAX_SET_SIZE). */
export function regexSizeWith(raw: Record<string, string>, pattern: string): number {
  let size = 0;
  for (const json of Object.values(raw)) {
    try {
      const rec = JSON.parse(json) as FilterRecord;
      if (rec.kind !== 'regex' || rec.verified !== true || rec.pattern === pattern) continue;
      const c = checkPatternStatic(rec.pattern);
      if (c.ok) size += c.size;
    } catch {
      // corrupt entries are not compiled either
    }
  }
  const c = checkPatternStatic(pattern);
  return size + (c.ok ? c.size : 0);
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
  if (cf.set) {
    const hit = cf.regexes[cf.set.firstMatch(matchableText(text.clean))];
    if (hit) return { id: hit.id, label: `pattern /${hit.pattern}/` };
  }
  return null;
}
