/**
 * Similarity of two questions in [0, 1], in any pair of languages.
 *
 * Each text is prepared once (`prepareText`): its language is detected, a text in another language is rendered
 * into English through a bilingual dictionary (src/features/language/pivot.ts) so both sides share one space,
 * and it keeps its content terms, the surface words they came from (for WordNet), its question type, its
 * "specific" terms (numbers, tickers, venues, names, places, months) and whether it is negated.
 *
 * A pair is scored by a logistic model (scorer.ts, fitted by scripts/fit-duplicates.ts) over generic signals:
 * weighted term overlap, WordNet-aware coverage of each side by the other, character trigrams, term counts, how
 * the question types relate and, when both texts have one, the cosine of their sentence embeddings. Between two
 * questions, generic rules veto first (`veto`): a different kind of answer ("when" vs "where"), a named thing that
 * differs (tickers, numbers, places, months, products), opposite polarity, opposite words (WordNet antonyms,
 * "list" / "delist"), or one differing word each. One threshold, `DEFAULT_DUPLICATE_THRESHOLD`, decides.
 */
import { detectLanguage } from '../language/detect.js';
import { pivotToEnglish } from '../language/pivot.js';
import { placesAndMonths } from '../language/places.js';
import { isQuestion } from './detect.js';
import { pairScore, SCORER, type PairFeatures, type ScorerWeights } from './scorer.js';
import { features, termWeight, type QuestionType } from './text.js';
import { areAntonyms, synonymSenses } from './wordnet.js';

/** Score at or above which two questions are merged (fitted with the scorer; see README.md). */
export const DEFAULT_DUPLICATE_THRESHOLD = SCORER.threshold;

// Trigrams of very long messages add cost, not evidence.
const MAX_CHARS = 400;
// Weight of a place or month code among the terms: like a number, it pins the question to one thing.
const CODE_WEIGHT = 1.5;

/** The stored parts of a prepared text (what the index keeps in Redis). */
export interface TextParts {
  /** Normalised text (capped; the English rendering for other languages), source of the character trigrams. */
  norm: string;
  /** Distinct content terms, in the shared (English) space. */
  terms: string[];
  /** Kind of answer asked for, if recognised. */
  qtype: QuestionType | null;
  /** Numbers, versions, tickers, venues, names, places and months among `terms`. */
  specific: string[];
  /** Detected language (ISO 639-1, 'und' when unsure). */
  lang: string;
  /** The text negates what it asks about ("not", "no", "不"…). */
  neg: boolean;
  /** Surface word of each term (same order as `terms`). */
  words: string[];
  /** Sentence embedding (unit length) when one was computed, else null. */
  vec: Float32Array | null;
  /** Which model made `vec`: 'use' (the offline model the scorer is fitted for), 'api' (an endpoint), '' (none). */
  vecKind: string;
}

/** Everything similarity needs from one text, computed once (`prepareText`) and reused for every comparison. */
export interface PreparedText extends TextParts {
  /** Weight of each term, same order as `terms`. */
  weights: number[];
  /** Sum of `weights`. */
  weightSum: number;
  /** WordNet senses of each word, built lazily (most pairs are decided without them). */
  senses: number[][] | null;
  /** Distinct character trigrams of `norm` (padded with spaces) packed as numbers, sorted; built lazily because most candidates are rejected on terms alone. */
  trigrams: Float64Array | null;
}

// Words that negate, in the languages questions arrive in (function words, not a topic list).
const NEGATIONS = new Set(
  ('not no never none nothing nobody cannot without ' +
    'nunca jamás ningún ninguna nada não nenhum jamais pas aucun rien nicht kein keine nie ' +
    'не нет никогда değil yok لا لم لن ليس ليست').split(' '),
);
const HAN_NEGATION = /[不没沒未别別]/u;
// "是不是", "有没有": A-not-A asks yes or no, it negates nothing.
const HAN_A_NOT_A = /(\p{Script=Han})[不没沒]\1/gu;

function isNegated(text: string, words: string[]): boolean {
  if (words.some((w) => NEGATIONS.has(w))) return true;
  return HAN_NEGATION.test(text.replace(HAN_A_NOT_A, ''));
}

/** Features of one text for `similarity` (pure once the language resources are loaded; see resources.ts). */
export function prepareText(text: string, opts: { lang?: string; vec?: Float32Array | null; vecKind?: string } = {}): PreparedText {
  const f = features(text);
  const lang = opts.lang ?? detectLanguage(text);
  const pivot = pivotToEnglish(lang, text);
  let terms = f.terms;
  let words = f.words;
  let norm = f.norm;
  const specific = [...f.specific];
  if (pivot !== null) {
    const p = features(pivot);
    // The English rendering carries the content; numbers, tickers and names of the original stay as they were.
    terms = [...p.terms];
    words = [...p.words];
    for (const t of f.specific) {
      if (!terms.includes(t)) {
        terms.push(t);
        words.push(t);
      }
    }
    for (const t of p.specific) if (!specific.includes(t)) specific.push(t);
    norm = p.norm;
  }
  for (const code of placesAndMonths(text)) {
    if (!terms.includes(code)) {
      terms = [...terms, code];
      words = [...words, code];
    }
    if (!specific.includes(code)) specific.push(code);
  }
  const neg = isNegated(text, f.norm.split(' '));
  // Statements keep no type: "which"/"who" there are relative pronouns, not what is asked.
  const vec = opts.vec ?? null;
  return fromParts({ norm: norm.slice(0, MAX_CHARS), terms, qtype: isQuestion(text) ? f.qtype : null, specific, lang, neg, words, vec, vecKind: vec ? (opts.vecKind ?? 'use') : '' });
}

/** Rebuilds prepared features from stored parts. */
export function fromParts(p: TextParts): PreparedText {
  const weights = p.terms.map((t) => (t.startsWith('@') || t.startsWith('#m') ? CODE_WEIGHT : termWeight(t)));
  let weightSum = 0;
  for (const w of weights) weightSum += w;
  const words = p.words.length === p.terms.length ? p.words : p.terms;
  return { ...p, words, weights, weightSum, senses: null, trigrams: null };
}

// Three UTF-16 units packed into one exact double (48 bits), sorted and deduplicated: a merge
// walk over two such arrays is several times faster than Set<string> of sliced substrings.
function trigramsOf(p: PreparedText): Float64Array {
  if (p.trigrams) return p.trigrams;
  const s = ` ${p.norm} `;
  const n = Math.max(0, s.length - 2);
  const arr = new Float64Array(n);
  for (let i = 0; i < n; i++) arr[i] = s.charCodeAt(i) * 4294967296 + s.charCodeAt(i + 1) * 65536 + s.charCodeAt(i + 2);
  arr.sort();
  let m = 0;
  for (let i = 0; i < n; i++) if (i === 0 || arr[i] !== arr[m - 1]) arr[m++] = arr[i]!;
  p.trigrams = arr.subarray(0, m);
  return p.trigrams;
}

function sensesOf(p: PreparedText): number[][] {
  p.senses ??= p.words.map((w) => (/^[a-z]{3,}$/u.test(w) ? synonymSenses(w) : []));
  return p.senses;
}

// Prefixes that turn a word into its opposite ("list" / "delist", "lock" / "unlock", "able" / "unable").
const OPPOSITE_PREFIXES = ['de', 'dis', 'un', 'non', 'anti'];

function isOppositeByPrefix(x: string, y: string): boolean {
  for (const pre of OPPOSITE_PREFIXES) if (x.length > pre.length + 2 && x.startsWith(pre) && x.slice(pre.length).replace(/^-/u, '') === y) return true;
  return false;
}

// Question types that name one kind of answer: two of them that differ ask different things ("when" vs "where").
// "what" and "how" are left out: chat uses them for nearly anything ("what's going on?" asks why, "how do I
// qualify?" asks what the requirements are); the scorer weighs those mismatches instead.
const SHARP_TYPES = new Set<QuestionType>(['when', 'where', 'why', 'who', 'quantity', 'duration']);

/** Why two questions can never be the same one. */
export type Veto = 'type' | 'specific' | 'negation' | 'opposite' | 'contrast';

/**
 * Why two questions can never be the same one, or null. Applies to questions only: news-style statements
 * (MRPC) restate numbers and names freely. Every rule is generic (no topic word list):
 *  - type: they ask for different kinds of answer ("when" vs "where", "why" vs "how many");
 *  - specific: each names a number, ticker, venue, product name, place or month that the other lacks;
 *  - negation: one negates what the other asks, the rest being the same;
 *  - opposite: a word of one is the opposite of a word of the other (WordNet antonyms, de-/dis-/un-/non-/anti-);
 *  - contrast: the two are the same question but for one word each, and those words are not synonyms
 *    ("mobile app" / "desktop app", "total supply" / "circulating supply"): that word is what is asked about; or
 *    they share only frequent words ("how will staking change next year" / "how will bridging expand next year").
 */
export function veto(a: PreparedText, b: PreparedText): Veto | null {
  return quickVeto(a, b) ?? wordVeto(a, b);
}

// The vetoes that need no word look-ups: kind of answer, named things, negation.
function quickVeto(a: PreparedText, b: PreparedText): Veto | null {
  if (a.qtype === null || b.qtype === null) return null;
  if (a.qtype !== b.qtype && SHARP_TYPES.has(a.qtype) && SHARP_TYPES.has(b.qtype)) return 'type';
  const aOwn = a.specific.filter((t) => !b.terms.includes(t));
  const bOwn = b.specific.filter((t) => !a.terms.includes(t));
  if (aOwn.length && bOwn.length) return 'specific';
  // One side names something (a product, place, people; numbers aside, they are often just restated) that the other
  // lacks, while the other has a word of its own: "early users" vs "Russian and Korean users".
  if (namesApart(aOwn, a, b) || namesApart(bOwn, b, a)) return 'specific';
  if (a.neg !== b.neg && termSimilarity(a, b) >= 0.5) return 'negation';
  return null;
}

// The vetoes that look words up (antonyms, opposite prefixes, synonyms): run only for pairs that would merge.
function wordVeto(a: PreparedText, b: PreparedText): Veto | null {
  if (a.qtype === null || b.qtype === null) return null;
  const onlyA: number[] = [];
  const onlyB: number[] = [];
  for (const [i, t] of a.terms.entries()) if (!b.terms.includes(t)) onlyA.push(i);
  for (const [i, t] of b.terms.entries()) if (!a.terms.includes(t)) onlyB.push(i);
  for (const i of onlyA) {
    for (const j of onlyB) {
      const [x, y, wx, wy] = [a.terms[i]!, b.terms[j]!, a.words[i]!, b.words[j]!];
      if (isOppositeByPrefix(x, y) || isOppositeByPrefix(y, x) || isOppositeByPrefix(wx, wy) || isOppositeByPrefix(wy, wx) || areAntonyms(wx, wy)) return 'opposite';
    }
  }
  const shared = a.terms.length - onlyA.length;
  if (shared >= 1 && onlyA.length === 1 && onlyB.length === 1 && !sharesSense(a, onlyA[0]!, b, onlyB[0]!)) return 'contrast';
  // They share only frequent words (a frame such as "how will … next year") and each has a topic word of its own.
  const topical = (p: PreparedText, i: number) => p.weights[i]! >= 1;
  if (shared >= 1 && a.terms.every((t, i) => !b.terms.includes(t) || !topical(a, i)) && onlyA.some((i) => topical(a, i)) && onlyB.some((i) => topical(b, i))) {
    return 'contrast';
  }
  return null;
}

function namesApart(own: string[], named: PreparedText, other: PreparedText): boolean {
  if (!own.some((t) => !/^\d/u.test(t))) return false;
  return other.terms.some((t) => !named.terms.includes(t) && !other.specific.includes(t));
}

function sharesSense(a: PreparedText, i: number, b: PreparedText, j: number): boolean {
  const sa = sensesOf(a)[i]!;
  return sa.length > 0 && sensesOf(b)[j]!.some((s) => sa.includes(s));
}

/** Weighted Jaccard of the term sets of two prepared texts. */
export function termSimilarity(a: PreparedText, b: PreparedText): number {
  if (a.terms.length === 0 || b.terms.length === 0) return 0;
  const [small, large] = a.terms.length <= b.terms.length ? [a, b] : [b, a];
  let inter = 0;
  // Term lists are tiny (a question has ~3-10), so a linear scan beats building a Set.
  for (let i = 0; i < small.terms.length; i++) if (large.terms.includes(small.terms[i]!)) inter += small.weights[i]!;
  const union = a.weightSum + b.weightSum - inter;
  return union > 0 ? inter / union : 0;
}

/** Share of `a`'s term weight found in `b`: the same term, or a word sharing a frequent WordNet sense. */
export function coverage(a: PreparedText, b: PreparedText): number {
  if (a.weightSum === 0 || b.terms.length === 0) return 0;
  let found = 0;
  let sa: number[][] | null = null;
  let sb: number[][] | null = null;
  for (let i = 0; i < a.terms.length; i++) {
    if (b.terms.includes(a.terms[i]!)) {
      found += a.weights[i]!;
      continue;
    }
    sa ??= sensesOf(a);
    const mine = sa[i]!;
    if (!mine.length) continue;
    sb ??= sensesOf(b);
    if (sb.some((theirs) => theirs.some((s) => mine.includes(s)))) found += a.weights[i]!;
  }
  return found / a.weightSum;
}

/** Jaccard of the character trigrams of two prepared texts. */
export function charSimilarity(a: PreparedText, b: PreparedText): number {
  const ta = trigramsOf(a);
  const tb = trigramsOf(b);
  if (ta.length === 0 || tb.length === 0) return 0;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < ta.length && j < tb.length) {
    const x = ta[i]!;
    const y = tb[j]!;
    if (x === y) {
      inter++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return inter / (ta.length + tb.length - inter);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** The scorer's inputs for a pair (exported for fitting and inspection). */
export function pairFeatures(a: PreparedText, b: PreparedText, char?: number): PairFeatures {
  const ca = coverage(a, b);
  const cb = coverage(b, a);
  const na = a.terms.length;
  const nb = b.terms.length;
  return {
    jaccard: termSimilarity(a, b),
    coverMin: Math.min(ca, cb),
    coverMax: Math.max(ca, cb),
    char: char ?? charSimilarity(a, b),
    lengthRatio: na && nb ? Math.min(na, nb) / Math.max(na, nb) : 0,
    shared: Math.min(3, a.terms.filter((t) => b.terms.includes(t)).length) / 3,
    qtype: a.qtype === null || b.qtype === null ? 'none' : a.qtype === b.qtype ? 'same' : a.qtype === 'yesno' || b.qtype === 'yesno' ? 'yesno' : 'wh',
    cosine: a.vec && b.vec && a.vecKind === b.vecKind && a.vec.length === b.vec.length ? cosine(a.vec, b.vec) : null,
    cosineFitted: a.vecKind === 'use',
  };
}

/**
 * `similarity` for a caller that only wants a score that could win (≥ `floor`): null when it cannot reach it.
 * The character trigrams and the vetoes that look words up are computed only for pairs whose bound reaches it.
 */
export function similarityAtLeast(a: PreparedText, b: PreparedText, floor: number, w: ScorerWeights = SCORER): number | null {
  if (a.norm === b.norm && a.norm !== '') return 1 >= floor ? 1 : null;
  if (quickVeto(a, b) || (!a.terms.length && !b.terms.length)) return null;
  const questions = a.qtype !== null || b.qtype !== null;
  const f = pairFeatures(a, b, 0);
  // The trigram weight may be negative in a fitted model: then 0 is the bound.
  const charWeight = (questions ? w.question.lexical[4] : w.statement.lexical[4]) ?? 0;
  if (pairScore({ ...f, char: charWeight >= 0 ? 1 : 0 }, questions, w) < floor) return null;
  f.char = charSimilarity(a, b);
  const score = pairScore(f, questions, w);
  return score >= floor && score > 0 && !wordVeto(a, b) ? score : null;
}

/** Similarity of two questions in [0, 1]; at or above the threshold they are the same question. */
export function similarity(a: string | PreparedText, b: string | PreparedText, w: ScorerWeights = SCORER): number {
  const pa = typeof a === 'string' ? prepareText(a) : a;
  const pb = typeof b === 'string' ? prepareText(b) : b;
  if (pa.norm === pb.norm && pa.norm !== '') return 1;
  if (quickVeto(pa, pb)) return 0;
  if (!pa.terms.length && !pb.terms.length) return 0;
  // A chat question compared with a chat line is scored like two questions: both are short and share few words.
  const s = pairScore(pairFeatures(pa, pb), pa.qtype !== null || pb.qtype !== null, w);
  return s > 0 && wordVeto(pa, pb) ? 0 : s;
}

/** True when two texts score at or above the threshold (default `DEFAULT_DUPLICATE_THRESHOLD`). */
export function isSameQuestion(a: string | PreparedText, b: string | PreparedText, threshold = DEFAULT_DUPLICATE_THRESHOLD): boolean {
  return similarity(a, b) >= threshold;
}
