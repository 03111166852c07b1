/**
 * Evaluation of duplicate detection on paraphrase pairs (MRPC-style JSONL `{label, sentence1, sentence2}`).
 * The threshold is always supplied from outside: nothing here fits it on the file being scored,
 * except `crossValidateThreshold`, which fits on one half and scores the other.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { loadSimilarityResources } from './resources.js';
import { prepareText, similarity } from './similarity.js';

/** Metrics of one evaluation, in percent except `threshold` and `n`. */
export interface DuplicateEval {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  threshold: number;
  n: number;
}

/** One labelled pair as read from the JSONL file. */
export interface LabelledPair {
  label: 0 | 1;
  sentence1: string;
  sentence2: string;
}

/** Reads a JSONL file of `{label, sentence1, sentence2}` pairs (other fields ignored). */
export async function readPairs(path: string): Promise<LabelledPair[]> {
  const text = await readFile(path, 'utf8');
  const out: LabelledPair[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { label?: unknown; sentence1?: unknown; sentence2?: unknown };
    if (typeof r.sentence1 !== 'string' || typeof r.sentence2 !== 'string' || (r.label !== 0 && r.label !== 1 && r.label !== '0' && r.label !== '1')) {
      throw new Error(`${path}:${i + 1}: expected {label: 0|1, sentence1, sentence2}`);
    }
    out.push({ label: Number(r.label) as 0 | 1, sentence1: r.sentence1, sentence2: r.sentence2 });
  }
  return out;
}

/** Similarity score of every pair, in order. */
export function scorePairs(pairs: readonly LabelledPair[], onProgress?: (done: number, total: number) => void): number[] {
  const scores: number[] = [];
  const step = Math.max(1, Math.floor(pairs.length / 100));
  for (const [i, p] of pairs.entries()) {
    scores.push(similarity(prepareText(p.sentence1), prepareText(p.sentence2)));
    if (onProgress && ((i + 1) % step === 0 || i + 1 === pairs.length)) onProgress(i + 1, pairs.length);
  }
  return scores;
}

/** Accuracy, precision, recall and F1 (percent) of `score >= threshold` against the labels. */
export function metricsAt(scores: readonly number[], labels: readonly number[], threshold: number): DuplicateEval {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const [i, s] of scores.entries()) {
    const pred = s >= threshold;
    const gold = labels[i] === 1;
    if (pred && gold) tp++;
    else if (pred) fp++;
    else if (gold) fn++;
    else tn++;
  }
  const n = scores.length;
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  const pct = (x: number): number => Math.round(x * 10000) / 100;
  return { accuracy: pct(n ? (tp + tn) / n : 0), precision: pct(precision), recall: pct(recall), f1: pct(f1), threshold, n };
}

/** Scores a JSONL pair file at a given threshold; optionally writes `{"label","score"}` per pair, in order. */
export async function evalDuplicates(opts: {
  data: string;
  threshold: number;
  predictions?: string;
  onProgress?: (d: number, t: number) => void;
}): Promise<DuplicateEval> {
  const pairs = await readPairs(opts.data);
  await loadSimilarityResources();
  const scores = scorePairs(pairs, opts.onProgress);
  if (opts.predictions) {
    const out = createWriteStream(opts.predictions, 'utf8');
    // The project's own decision at the configured threshold, never the file's label (contract §8).
    for (const s of scores) {
      if (!out.write(`${JSON.stringify({ label: s >= opts.threshold ? 1 : 0, score: Math.round(s * 1e6) / 1e6 })}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  }
  return metricsAt(
    scores,
    pairs.map((p) => p.label),
    opts.threshold,
  );
}

/** F-beta (beta=0.5 weighs precision twice as much as recall) from percent precision/recall. */
export function fBeta(precision: number, recall: number, beta = 0.5): number {
  const b2 = beta * beta;
  return precision + recall ? ((1 + b2) * precision * recall) / (b2 * precision + recall) : 0;
}

/** The threshold (0.01 grid) maximising F-beta on the given scores; ties go to the higher threshold (fewer merges). */
export function fitThreshold(scores: readonly number[], labels: readonly number[], beta = 0.5): number {
  let best = 1;
  let bestF = -1;
  for (let k = 100; k >= 0; k--) {
    const t = k / 100;
    const m = metricsAt(scores, labels, t);
    const f = fBeta(m.precision, m.recall, beta);
    if (f > bestF + 1e-9) {
      bestF = f;
      best = t;
    }
  }
  return best;
}

/** Two-fold cross-validation: fit the threshold on each half, score the other; `suggested` is the mean of the two fits. */
export async function crossValidateThreshold(opts: { data: string; beta?: number }): Promise<{
  folds: { fittedOn: string; threshold: number; heldOut: DuplicateEval }[];
  suggested: number;
}> {
  const pairs = await readPairs(opts.data);
  await loadSimilarityResources();
  const scores = scorePairs(pairs);
  const labels = pairs.map((p) => p.label);
  const mid = Math.floor(pairs.length / 2);
  const halves = [
    { name: 'first half', lo: 0, hi: mid },
    { name: 'second half', lo: mid, hi: pairs.length },
  ];
  const folds = halves.map((fit, i) => {
    const other = halves[1 - i]!;
    const t = fitThreshold(scores.slice(fit.lo, fit.hi), labels.slice(fit.lo, fit.hi), opts.beta ?? 0.5);
    return { fittedOn: fit.name, threshold: t, heldOut: metricsAt(scores.slice(other.lo, other.hi), labels.slice(other.lo, other.hi), t) };
  });
  const suggested = Math.round(((folds[0]!.threshold + folds[1]!.threshold) / 2) * 100) / 100;
  return { folds, suggested };
}
