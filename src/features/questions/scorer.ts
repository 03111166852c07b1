/**
 * The pair scorer: logistic models over generic similarity signals, fitted by scripts/fit-duplicates.ts
 * (deterministic; the weights are in scorer-weights.json). Two models, because a pair of short chat questions and a
 * pair of news sentences overlap on very different scales: `statement` is fitted on MRPC train, `question` (used
 * when both texts are questions, with the question types as inputs too) on the AMA dev questions, whose figures are
 * reported topic-grouped cross-validated. Each has a words-only weight vector and one with the cosine of the
 * offline sentence embeddings, used when both texts have one.
 */
import fitted from './scorer-weights.json' with { type: 'json' };

/** The signals the scorer reads for a pair, each in [0, 1] (cosine in [-1, 1], null when either text has no embedding). */
export interface PairFeatures {
  /** Weighted Jaccard of the content terms. */
  jaccard: number;
  /** The smaller of the two coverages (share of one side's term weight found in the other, WordNet synonyms counting). */
  coverMin: number;
  /** The larger of the two coverages. */
  coverMax: number;
  /** Jaccard of character trigrams. */
  char: number;
  /** Fewer terms / more terms. */
  lengthRatio: number;
  /** Terms the two share, up to 3, divided by 3: one shared word is weak evidence, three are strong. */
  shared: number;
  /** How the two question types relate: the same, two different wh-types, yes/no against wh, or unknown. */
  qtype: 'same' | 'wh' | 'yesno' | 'none';
  /** Cosine of the sentence embeddings, or null. */
  cosine: number | null;
  /** The cosine comes from the offline model the weights were fitted for (else from an endpoint's model). */
  cosineFitted?: boolean;
}

/** Names of the statement model's inputs, in order (bias first); its embedding vector adds `cosine`. */
export const INPUTS = ['bias', 'jaccard', 'coverMin', 'coverMax', 'char', 'lengthRatio', 'shared'] as const;

/** One model: words-only weights, and weights with the cosine appended (null: the cosine is not used). */
export interface ModelWeights {
  lexical: number[];
  embedding: number[] | null;
}

/** The question model's weights (QUESTION_INPUTS). */
export type QuestionWeights = ModelWeights;

/** Fitted weights of both models and the one decision threshold. */
export interface ScorerWeights {
  threshold: number;
  statement: ModelWeights;
  question: QuestionWeights;
  /**
   * For embeddings no weights were fitted for (an endpoint's model): a cosine at or above this merges on its own
   * (vetoes still apply); below it the words decide. Set from `ama.embeddings.sameAbove`.
   */
  cosineSameAbove?: number;
}

/** The fitted scorer (see README.md for how and on what). */
export const SCORER: ScorerWeights = fitted as ScorerWeights;

/** Input vector of a pair for the statement model (bias first; the cosine last when present). */
export function inputVector(f: PairFeatures): number[] {
  const x = [1, f.jaccard, f.coverMin, f.coverMax, f.char, f.lengthRatio, f.shared];
  if (f.cosine !== null) x.push(f.cosine);
  return x;
}

/** Names of the question model's inputs: the statement model's, how the two question types relate, then the cosine. */
export const QUESTION_INPUTS = [...INPUTS, 'sameType', 'whMismatch', 'yesnoMismatch'] as const;

/** Input vector of a pair of questions (bias first; the cosine last when present). */
export function questionVector(f: PairFeatures): number[] {
  const x = [1, f.jaccard, f.coverMin, f.coverMax, f.char, f.lengthRatio, f.shared, f.qtype === 'same' ? 1 : 0, f.qtype === 'wh' ? 1 : 0, f.qtype === 'yesno' ? 1 : 0];
  if (f.cosine !== null) x.push(f.cosine);
  return x;
}

/** Logistic score of an input vector under a weight vector. */
export function logistic(x: readonly number[], w: readonly number[]): number {
  let z = 0;
  for (let i = 0; i < x.length; i++) z += (w[i] ?? 0) * x[i]!;
  return 1 / (1 + Math.exp(-z));
}

/** Score in [0, 1] that the pair says the same thing; 0 when the two share no evidence at all. */
export function pairScore(f: PairFeatures, questions: boolean, w: ScorerWeights = SCORER): number {
  if (f.jaccard === 0 && f.coverMax === 0 && (f.cosine === null || w.cosineSameAbove === undefined || f.cosine < w.cosineSameAbove)) return 0;
  const st = w.statement;
  if (f.cosine !== null && f.cosineFitted !== false && st.embedding && (!questions || w.question.embedding)) {
    return questions ? logistic(questionVector(f), w.question.embedding!) : logistic(inputVector(f), st.embedding);
  }
  const lexical = { ...f, cosine: null };
  const words = questions ? logistic(questionVector(lexical), w.question.lexical) : logistic(inputVector(lexical), st.lexical);
  if (f.cosine !== null && f.cosineFitted === false && w.cosineSameAbove !== undefined && f.cosine >= w.cosineSameAbove) return Math.max(words, w.threshold, f.cosine);
  return words;
}
