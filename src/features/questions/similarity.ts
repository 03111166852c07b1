/**
 * Similarity of two questions in [0, 1]: a blend of weighted term overlap (what is asked about)
 * and character-trigram overlap (catches spelling and inflection variants the light stemmers
 * miss, and matters most for short texts), damped when the two ask for different kinds of
 * answer ("when" vs "where"). One threshold, `DEFAULT_DUPLICATE_THRESHOLD`, decides "same question".
 */
import { isQuestion } from './detect.js';
import { features, termWeight, type QuestionType } from './text.js';

/**
 * Score at or above which two questions are merged. Chosen by two-fold cross-validation on the
 * MRPC train file maximising F0.5 (precision counts double: a wrong merge hides a question,
 * a missed merge only splits its votes); see README.md for the figures and the trade-off.
 */
export const DEFAULT_DUPLICATE_THRESHOLD = 0.49;

// Blend of the two signals; 0.7/0.3 was the best of the simple mixes tried on half of MRPC train
// (term overlap alone and trigrams alone were each slightly worse, see README).
const TERM_WEIGHT = 0.7;
const CHAR_WEIGHT = 1 - TERM_WEIGHT;
// Different wh-types ask different things ("when" vs "where"); yes/no vs wh is a softer mismatch
// ("Is there a date for the launch?" is close to "When is the launch?").
const WH_MISMATCH = 0.4;
const YESNO_MISMATCH = 0.6;
// Two questions that each name a number, version or ticker the other lacks ("… in Q3?" vs "… in Q4?",
// "$SOL" vs "$ETH") ask about different things however much else they share. Applied to questions
// only: in news-style statements (MRPC) numbers are restated freely and this rule did not help.
const SPECIFIC_MISMATCH = 0.6;
// Trigrams of very long messages add cost, not evidence.
const MAX_CHARS = 400;

/** Everything similarity needs from one text, computed once (`prepare`) and reused for every comparison. */
export interface PreparedText {
  /** Normalised text (capped), source of the character trigrams. */
  norm: string;
  /** Distinct content terms. */
  terms: string[];
  /** Weight of each term, same order as `terms`. */
  weights: number[];
  /** Sum of `weights`. */
  weightSum: number;
  /** Kind of answer asked for, if recognised. */
  qtype: QuestionType | null;
  /** Numbers, versions and tickers among `terms`. */
  specific: string[];
  /** Distinct character trigrams of `norm` (padded with spaces) packed as numbers, sorted; built lazily because most candidates are rejected on terms alone. */
  trigrams: Float64Array | null;
}

/** Features of one text for `similarity`: normalised text, weighted terms and question type (pure). */
export function prepareText(text: string): PreparedText {
  const f = features(text);
  // Statements keep no type: "which"/"who" there are relative pronouns, not what is asked.
  return fromParts(f.norm.slice(0, MAX_CHARS), f.terms, isQuestion(text) ? f.qtype : null, f.specific);
}

/** Rebuilds prepared features from stored parts (the index keeps terms, type and text in Redis). */
export function fromParts(norm: string, terms: string[], qtype: QuestionType | null, specific: string[]): PreparedText {
  const weights = terms.map(termWeight);
  let weightSum = 0;
  for (const w of weights) weightSum += w;
  return { norm, terms, weights, weightSum, qtype, specific, trigrams: null };
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

/** Multiplier for two prepared texts: 1 unless they ask for different kinds of answer or about different numbers/tickers. */
export function mismatchPenalty(a: PreparedText, b: PreparedText): number {
  if (a.qtype === null || b.qtype === null) return 1;
  let f = 1;
  if (a.qtype !== b.qtype) f = a.qtype === 'yesno' || b.qtype === 'yesno' ? YESNO_MISMATCH : WH_MISMATCH;
  if (a.specific.length && b.specific.length && a.specific.some((t) => !b.terms.includes(t)) && b.specific.some((t) => !a.terms.includes(t))) {
    f *= SPECIFIC_MISMATCH;
  }
  return f;
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

/** Upper bound of `similarity` from terms and types only, so callers can skip the trigram work. */
export function similarityUpperBound(a: PreparedText, b: PreparedText): number {
  return (TERM_WEIGHT * termSimilarity(a, b) + CHAR_WEIGHT) * mismatchPenalty(a, b);
}

/** Similarity of two questions in [0, 1]; at or above the threshold they are the same question. */
export function similarity(a: string | PreparedText, b: string | PreparedText): number {
  const pa = typeof a === 'string' ? prepareText(a) : a;
  const pb = typeof b === 'string' ? prepareText(b) : b;
  if (pa.norm === pb.norm && pa.norm !== '') return 1;
  const s = TERM_WEIGHT * termSimilarity(pa, pb) + CHAR_WEIGHT * charSimilarity(pa, pb);
  return s * mismatchPenalty(pa, pb);
}

/** True when two texts score at or above the threshold (default `DEFAULT_DUPLICATE_THRESHOLD`). */
export function isSameQuestion(a: string | PreparedText, b: string | PreparedText, threshold = DEFAULT_DUPLICATE_THRESHOLD): boolean {
  return similarity(a, b) >= threshold;
}
