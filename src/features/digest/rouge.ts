/**
 * ROUGE-1/2/L exactly as Google's `rouge-score` package computes them (rouge/rouge_scorer.py, rouge/tokenize.py),
 * with `use_stemmer=True` (NLTK's PorterStemmer in its default NLTK_EXTENSIONS mode, applied to tokens longer
 * than 3 characters). Reimplemented here so evaluation needs no Python and figures are comparable with papers.
 */

/** Precision, recall and F1 of one ROUGE variant, each in [0, 1]. */
export interface RougeScore {
  precision: number;
  recall: number;
  f1: number;
}

/** The three variants the project reports. */
export interface RougeScores {
  rouge1: RougeScore;
  rouge2: RougeScore;
  rougeL: RougeScore;
}

/** Tokenizer options. */
export interface RougeOptions {
  /** Porter-stem tokens longer than 3 chars, as `RougeScorer(..., use_stemmer=True)`; default true. */
  useStemmer?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// NLTK PorterStemmer, mode NLTK_EXTENSIONS (nltk/stem/porter.py). Rule order and the "first matching suffix wins,
// even when its condition fails" behaviour of _apply_rule_list matter for exact parity, so they are kept literally.

type Cond = ((stem: string) => boolean) | null;
type Rule = readonly [suffix: string, replacement: string, cond: Cond];

const VOWELS = new Set(['a', 'e', 'i', 'o', 'u']);

// NLTK's irregular-forms pool: these words bypass the algorithm.
const POOL = new Map<string, string>([
  ['sky', 'sky'], ['skies', 'sky'], ['dying', 'die'], ['lying', 'lie'], ['tying', 'tie'], ['news', 'news'],
  ['innings', 'inning'], ['inning', 'inning'], ['outings', 'outing'], ['outing', 'outing'],
  ['cannings', 'canning'], ['canning', 'canning'], ['howe', 'howe'],
  ['proceed', 'proceed'], ['exceed', 'exceed'], ['succeed', 'succeed'],
]);

function isCons(w: string, i: number): boolean {
  // Iterative form of NLTK's recursive definition: 'y' is a consonant at 0 or after a vowel.
  const ch = w[i] as string;
  if (VOWELS.has(ch)) return false;
  if (ch === 'y') return i === 0 ? true : !isCons(w, i - 1);
  return true;
}

function measure(stem: string): number {
  // NLTK counts occurrences of "vc" in the c/v pattern string.
  let m = 0;
  let prevVowel = false;
  for (let i = 0; i < stem.length; i++) {
    const c = isCons(stem, i);
    if (c && prevVowel) m++;
    prevVowel = !c;
  }
  return m;
}

const positive = (s: string): boolean => measure(s) > 0;
const gt1 = (s: string): boolean => measure(s) > 1;

function containsVowel(stem: string): boolean {
  for (let i = 0; i < stem.length; i++) if (!isCons(stem, i)) return true;
  return false;
}

function endsDoubleCons(w: string): boolean {
  return w.length >= 2 && w[w.length - 1] === w[w.length - 2] && isCons(w, w.length - 1);
}

function endsCvc(w: string): boolean {
  const n = w.length;
  return (
    (n >= 3 && isCons(w, n - 3) && !isCons(w, n - 2) && isCons(w, n - 1) && !'wxy'.includes(w[n - 1] as string)) ||
    (n === 2 && !isCons(w, 0) && isCons(w, 1))
  );
}

function applyRules(word: string, rules: readonly Rule[]): string {
  for (const [suffix, replacement, cond] of rules) {
    if (suffix === '*d' && endsDoubleCons(word)) {
      const stem = word.slice(0, -2);
      return cond === null || cond(stem) ? stem + replacement : word;
    }
    if (word.endsWith(suffix)) {
      const stem = suffix === '' ? word : word.slice(0, -suffix.length);
      return cond === null || cond(stem) ? stem + replacement : word;
    }
  }
  return word;
}

function step1a(w: string): string {
  if (w.endsWith('ies') && w.length === 4) return w.slice(0, -3) + 'ie';
  return applyRules(w, [['sses', 'ss', null], ['ies', 'i', null], ['ss', 'ss', null], ['s', '', null]]);
}

function step1b(w: string): string {
  if (w.endsWith('ied')) return w.slice(0, -3) + (w.length === 4 ? 'ie' : 'i');
  if (w.endsWith('eed')) {
    const stem = w.slice(0, -3);
    return measure(stem) > 0 ? stem + 'ee' : w;
  }
  let inter: string | null = null;
  for (const suffix of ['ed', 'ing']) {
    if (w.endsWith(suffix)) {
      const s = w.slice(0, -suffix.length);
      if (containsVowel(s)) {
        inter = s;
        break;
      }
    }
  }
  if (inter === null) return w;
  const last = inter[inter.length - 1] ?? '';
  return applyRules(inter, [
    ['at', 'ate', null],
    ['bl', 'ble', null],
    ['iz', 'ize', null],
    ['*d', last, () => !'lsz'.includes(last)],
    ['', 'e', (s) => measure(s) === 1 && endsCvc(s)],
  ]);
}

function step1c(w: string): string {
  return applyRules(w, [['y', 'i', (s) => s.length > 1 && isCons(s, s.length - 1)]]);
}

function step2(w: string): string {
  if (w.endsWith('alli') && positive(w.slice(0, -4))) return step2(w.slice(0, -4) + 'al');
  return applyRules(w, [
    ['ational', 'ate', positive],
    ['tional', 'tion', positive],
    ['enci', 'ence', positive],
    ['anci', 'ance', positive],
    ['izer', 'ize', positive],
    ['bli', 'ble', positive],
    ['alli', 'al', positive],
    ['entli', 'ent', positive],
    ['eli', 'e', positive],
    ['ousli', 'ous', positive],
    ['ization', 'ize', positive],
    ['ation', 'ate', positive],
    ['ator', 'ate', positive],
    ['alism', 'al', positive],
    ['iveness', 'ive', positive],
    ['fulness', 'ful', positive],
    ['ousness', 'ous', positive],
    ['aliti', 'al', positive],
    ['iviti', 'ive', positive],
    ['biliti', 'ble', positive],
    ['fulli', 'ful', positive],
    // NLTK keeps the 'l' with the stem so 'geo', 'theo' behave like 'archaeo'.
    ['logi', 'log', () => positive(w.slice(0, -3))],
  ]);
}

function step3(w: string): string {
  return applyRules(w, [
    ['icate', 'ic', positive],
    ['ative', '', positive],
    ['alize', 'al', positive],
    ['iciti', 'ic', positive],
    ['ical', 'ic', positive],
    ['ful', '', positive],
    ['ness', '', positive],
  ]);
}

function step4(w: string): string {
  return applyRules(w, [
    ['al', '', gt1],
    ['ance', '', gt1],
    ['ence', '', gt1],
    ['er', '', gt1],
    ['ic', '', gt1],
    ['able', '', gt1],
    ['ible', '', gt1],
    ['ant', '', gt1],
    ['ement', '', gt1],
    ['ment', '', gt1],
    ['ent', '', gt1],
    ['ion', '', (s) => measure(s) > 1 && (s.endsWith('s') || s.endsWith('t'))],
    ['ou', '', gt1],
    ['ism', '', gt1],
    ['ate', '', gt1],
    ['iti', '', gt1],
    ['ous', '', gt1],
    ['ive', '', gt1],
    ['ize', '', gt1],
  ]);
}

function step5a(w: string): string {
  if (w.endsWith('e')) {
    const stem = w.slice(0, -1);
    const m = measure(stem);
    if (m > 1) return stem;
    if (m === 1 && !endsCvc(stem)) return stem;
  }
  return w;
}

function step5b(w: string): string {
  return applyRules(w, [['ll', 'l', () => measure(w.slice(0, -1)) > 1]]);
}

/** NLTK `PorterStemmer().stem(word)` (default NLTK_EXTENSIONS mode) for a lowercase word. */
export function porterStem(word: string): string {
  const w = word.toLowerCase();
  const irregular = POOL.get(w);
  if (irregular !== undefined) return irregular;
  if (w.length <= 2) return w;
  return step5b(step5a(step4(step3(step2(step1c(step1b(step1a(w))))))));
}

// Chat text repeats words constantly; memoising keeps a full-dataset evaluation well under a second of stemming.
const stemCache = new Map<string, string>();
function cachedStem(tok: string): string {
  let s = stemCache.get(tok);
  if (s === undefined) {
    s = porterStem(tok);
    if (stemCache.size > 200_000) stemCache.clear();
    stemCache.set(tok, s);
  }
  return s;
}

/** rouge-score's tokenizer: lowercase, non-[a-z0-9] runs become spaces, split, stem tokens longer than 3 chars. */
export function rougeTokenize(text: string, opts: RougeOptions = {}): string[] {
  const useStemmer = opts.useStemmer ?? true;
  const parts = text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').split(/\s+/);
  const out: string[] = [];
  for (const p of parts) {
    if (p === '') continue;
    // Stemming only ever yields [a-z0-9]+ from [a-z0-9]+ input, so the package's final regex filter is a no-op here.
    out.push(useStemmer && p.length > 3 ? cachedStem(p) : p);
  }
  return out;
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    // U+0001 cannot occur in a token, so joined keys are unambiguous.
    const key = n === 1 ? (tokens[i] as string) : tokens.slice(i, i + n).join('\u0001');
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

/** ROUGE-N between already-tokenized target and prediction (rouge-score `_score_ngrams`). */
export function rougeN(target: readonly string[], prediction: readonly string[], n: number): RougeScore {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`rougeN requires positive integer n, got ${n}`);
  const t = ngramCounts(target, n);
  const p = ngramCounts(prediction, n);
  let overlap = 0;
  let tCount = 0;
  let pCount = 0;
  for (const [g, c] of t) {
    overlap += Math.min(c, p.get(g) ?? 0);
    tCount += c;
  }
  for (const c of p.values()) pCount += c;
  const precision = overlap / Math.max(pCount, 1);
  const recall = overlap / Math.max(tCount, 1);
  return { precision, recall, f1: fmeasure(precision, recall) };
}

/** Length of the longest common subsequence; O(n·m) time, O(m) memory. */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let prev = new Uint32Array(b.length + 1);
  let cur = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = ai === b[j - 1] ? (prev[j - 1] as number) + 1 : Math.max(prev[j] as number, cur[j - 1] as number);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length] as number;
}

/** ROUGE-L (sentence-level LCS, rouge-score `_score_lcs`) between tokenized target and prediction. */
export function rougeL(target: readonly string[], prediction: readonly string[]): RougeScore {
  if (target.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, f1: 0 };
  const l = lcsLength(target, prediction);
  const precision = l / prediction.length;
  const recall = l / target.length;
  return { precision, recall, f1: fmeasure(precision, recall) };
}

/** ROUGE-1/2/L of one prediction against one reference (argument order follows rouge-score: target first). */
export function scoreRouge(reference: string, prediction: string, opts: RougeOptions = {}): RougeScores {
  const t = rougeTokenize(reference, opts);
  const p = rougeTokenize(prediction, opts);
  return { rouge1: rougeN(t, p, 1), rouge2: rougeN(t, p, 2), rougeL: rougeL(t, p) };
}

/** Mean of each score over several references (the project's multi-reference contract; rouge-score's score_multi takes the max instead). */
export function scoreRougeMulti(references: readonly string[], prediction: string, opts: RougeOptions = {}): RougeScores {
  if (references.length === 0) throw new RangeError('scoreRougeMulti needs at least one reference');
  const all = references.map((r) => scoreRouge(r, prediction, opts));
  const mean = (pick: (s: RougeScores) => RougeScore): RougeScore => {
    let precision = 0;
    let recall = 0;
    let f1 = 0;
    for (const s of all) {
      const x = pick(s);
      precision += x.precision;
      recall += x.recall;
      f1 += x.f1;
    }
    const n = all.length;
    return { precision: precision / n, recall: recall / n, f1: f1 / n };
  };
  return { rouge1: mean((s) => s.rouge1), rouge2: mean((s) => s.rouge2), rougeL: mean((s) => s.rougeL) };
}
