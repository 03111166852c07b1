/**
 * Fit the duplicate-question scorer (src/features/questions/scorer.ts) and write scorer-weights.json.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx scripts/fit-duplicates.ts [--folds 5] [--dry-run]
 *
 * Deterministic (Newton steps, fixed grids, folds by sorted topic name), ~1 min. Two logistic models:
 *  - `statement`, fitted on ../shared/data/mrpc/mrpc.train.jsonl (news sentence pairs). Held-out figures: fitted on
 *    one half of the file, scored on the other. The one decision threshold is chosen on MRPC train (the threshold
 *    maximising accuracy + F1), never on the questions.
 *  - `question` (both texts are questions), fitted on the pairs of ../shared/data/ama/questions.dev.jsonl, because
 *    short chat questions share far fewer words than MRPC's paraphrases. Its intercept is then shifted so that, at
 *    the MRPC threshold, pairwise precision on the fitting pairs stays ≥ 0.90 with the most recall. Because this
 *    fits on the dev set, the script also reports topic-grouped cross-validation: the topics are cut into folds;
 *    for each fold the model is fitted on the other topics only, the whole file is asked through the real AMA
 *    intake with those weights, and only pairs involving a held-out question are scored.
 * No word list is derived from either file: the inputs are generic similarity signals (similarity.ts).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openRuntime } from '../src/app/runtime.js';
import { quietLogger } from '../src/log.js';
import { countPairs, evalMerge, pairFigures, readMergeLines, type MergeLine, type PairCounts } from '../src/features/ama/eval-merge.js';
import { readPairs, metricsAt } from '../src/features/questions/eval.js';
import { loadSimilarityResources } from '../src/features/questions/resources.js';
import { pairFeatures, prepareText, veto, type PreparedText } from '../src/features/questions/similarity.js';
import { inputVector, logistic, questionVector, type ScorerWeights } from '../src/features/questions/scorer.js';
import { stripAddressing } from '../src/features/ama/intake.js';
import { offlineEmbeddings } from '../src/features/ama/embeddings.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MRPC = `${ROOT}../shared/data/mrpc/mrpc.train.jsonl`;
const DEV = `${ROOT}../shared/data/ama/questions.dev.jsonl`;
const OUT = `${ROOT}src/features/questions/scorer-weights.json`;
const FOLDS = Number(process.argv[process.argv.indexOf('--folds') + 1]) || 5;
const DRY = process.argv.includes('--dry-run');
/** Precision the question model must keep on its fitting pairs at the threshold. */
const MIN_PRECISION = 0.9;

// ---------------------------------------------------------------------------------------------
// Logistic regression: Newton's method with an L2 penalty (not on the bias); deterministic.
// ---------------------------------------------------------------------------------------------

function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const piv = m[c]![c]! || 1e-12;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / piv;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / (row[i]! || 1e-12));
}

function fitLogistic(xs: number[][], ys: number[], l2: number, iterations = 30): number[] {
  const d = xs[0]!.length;
  let w = new Array<number>(d).fill(0);
  for (let it = 0; it < iterations; it++) {
    const g = new Array<number>(d).fill(0);
    const h = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (const [i, x] of xs.entries()) {
      const p = logistic(x, w);
      const r = p * (1 - p);
      for (let a = 0; a < d; a++) {
        g[a]! += (p - ys[i]!) * x[a]!;
        for (let b = 0; b < d; b++) h[a]![b]! += r * x[a]! * x[b]!;
      }
    }
    for (let a = 1; a < d; a++) {
      g[a]! += l2 * w[a]!;
      h[a]![a]! += l2;
    }
    h[0]![0]! += 1e-9;
    const step = solve(h, g);
    w = w.map((v, a) => v - step[a]!);
  }
  return w.map((v) => Math.round(v * 1e4) / 1e4);
}

// ---------------------------------------------------------------------------------------------
// MRPC: the statement model and the threshold
// ---------------------------------------------------------------------------------------------

function pickThreshold(scores: number[], labels: number[]): number {
  let best = 0.5;
  let bestV = -1;
  for (let k = 5; k <= 95; k++) {
    const m = metricsAt(scores, labels, k / 100);
    const v = m.accuracy + m.f1;
    if (v > bestV + 1e-9) {
      bestV = v;
      best = k / 100;
    }
  }
  return best;
}

// Offline sentence embeddings of many texts, in batches (the model's own batching: all texts of one turn in one call).
async function embedAll(texts: string[]): Promise<(Float32Array | null)[]> {
  const model = offlineEmbeddings();
  const out: (Float32Array | null)[] = [];
  for (let i = 0; i < texts.length; i += 64) out.push(...(await Promise.all(texts.slice(i, i + 64).map((t) => model.embed(t)))));
  return out;
}

async function fitStatements(withEmbeddings: boolean): Promise<{ weights: number[]; threshold: number; report: object }> {
  const pairs = await readPairs(MRPC);
  const v1 = withEmbeddings ? await embedAll(pairs.map((p) => p.sentence1)) : [];
  const v2 = withEmbeddings ? await embedAll(pairs.map((p) => p.sentence2)) : [];
  const xs = pairs.map((p, i) => inputVector(pairFeatures(prepareText(p.sentence1, { vec: v1[i] ?? null }), prepareText(p.sentence2, { vec: v2[i] ?? null }))));
  const ys = pairs.map((p) => p.label);
  const mid = Math.floor(pairs.length / 2);
  const halves = [
    [0, mid],
    [mid, pairs.length],
  ] as const;
  const heldOut = halves.map(([lo, hi], i) => {
    const [olo, ohi] = halves[1 - i]!;
    const w = fitLogistic(xs.slice(lo, hi), ys.slice(lo, hi), 0.01);
    const t = pickThreshold(xs.slice(lo, hi).map((x) => logistic(x, w)), ys.slice(lo, hi));
    return { fittedOn: i === 0 ? 'first half' : 'second half', threshold: t, heldOut: metricsAt(xs.slice(olo, ohi).map((x) => logistic(x, w)), ys.slice(olo, ohi), t) };
  });
  const weights = fitLogistic(xs, ys, 0.01);
  const scores = xs.map((x) => logistic(x, weights));
  const threshold = pickThreshold(scores, ys);
  return { weights, threshold, report: { heldOut, inSample: metricsAt(scores, ys, threshold) } };
}

// ---------------------------------------------------------------------------------------------
// AMA questions: the question model, with topic-grouped cross-validation through the real intake
// ---------------------------------------------------------------------------------------------

interface QPair {
  i: number;
  j: number;
  x: number[];
  y: number;
  vetoed: boolean;
}

function questionPairs(lines: MergeLine[], prepared: PreparedText[]): QPair[] {
  const out: QPair[] = [];
  for (let i = 0; i < lines.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = prepared[i]!;
      const b = prepared[j]!;
      if (a.qtype === null && b.qtype === null) continue;
      out.push({ i, j, x: questionVector(pairFeatures(a, b)), y: lines[i]!.group === lines[j]!.group ? 1 : 0, vetoed: veto(a, b) !== null });
    }
  }
  return out;
}

// The intercept shift that keeps precision ≥ MIN_PRECISION at the threshold with the most true merges.
function shiftIntercept(w: number[], pairs: QPair[], threshold: number): number[] {
  let best = w;
  let bestTp = -1;
  for (let k = -60; k <= 60; k++) {
    const shifted = [w[0]! + k / 20, ...w.slice(1)];
    let tp = 0;
    let fp = 0;
    for (const p of pairs) {
      if (p.vetoed || logistic(p.x, shifted) < threshold) continue;
      if (p.y) tp++;
      else fp++;
    }
    if (tp + fp > 0 && tp / (tp + fp) >= MIN_PRECISION && tp > bestTp) {
      bestTp = tp;
      best = shifted;
    }
  }
  return best.map((v) => Math.round(v * 1e4) / 1e4);
}

function fitQuestions(pairs: QPair[], threshold: number): number[] {
  return shiftIntercept(
    fitLogistic(
      pairs.map((p) => p.x),
      pairs.map((p) => p.y),
      1,
    ),
    pairs,
    threshold,
  );
}

async function main(): Promise<void> {
  const load = await loadSimilarityResources();
  console.error(`resources loaded in ${load.ms} ms (pivots: ${load.pivots.join(', ')})`);
  const st = await fitStatements(false);
  console.error(`statement model ${JSON.stringify(st.weights)}, threshold ${st.threshold}`);
  const ste = await fitStatements(true);
  console.error(`statement model with the offline embedding ${JSON.stringify(ste.weights)} (threshold ${ste.threshold}; the words-only one is used)`);
  const lines = await readMergeLines(DEV);
  const texts = lines.map((l) => stripAddressing(l.text));
  const prepared = texts.map((t) => prepareText(t));
  const english = prepared.map((p, i) => (p.lang === 'en' || p.lang === 'und' ? texts[i]! : p.norm));
  const vecs = await embedAll(english);
  const preparedE = texts.map((t, i) => prepareText(t, { vec: vecs[i] ?? null }));
  const pairs = questionPairs(lines, prepared);
  const pairsE = questionPairs(lines, preparedE);
  const weights: ScorerWeights = {
    threshold: st.threshold,
    statement: { lexical: st.weights, embedding: ste.weights },
    question: { lexical: fitQuestions(pairs, st.threshold), embedding: fitQuestions(pairsE, st.threshold) },
  };

  const rt = await openRuntime({ spawn: 'throwaway', log: quietLogger() });
  try {
    const topics = [...new Set(lines.map((l) => l.group))].sort();
    const foldOf = new Map(topics.map((t, k) => [t, k % FOLDS]));
    const total: PairCounts = { tp: 0, fp: 0, fn: 0, xl: 0, xlFound: 0 };
    for (let k = 0; k < FOLDS; k++) {
      const inTrain = (p: QPair) => foldOf.get(lines[p.i]!.group) !== k && foldOf.get(lines[p.j]!.group) !== k;
      const foldWeights: ScorerWeights = {
        ...weights,
        question: { lexical: fitQuestions(pairs.filter(inTrain), st.threshold), embedding: fitQuestions(pairsE.filter(inTrain), st.threshold) },
      };
      const predicted: number[] = [];
      await evalMerge(rt.deps, { data: lines, scorer: foldWeights, onQuestion: (n) => predicted.push(n) });
      const c = countPairs(lines, predicted, (i) => foldOf.get(lines[i]!.group) === k);
      for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += c[key];
      console.error(`fold ${k + 1}/${FOLDS}: ${JSON.stringify({ ...pairFigures(c), pairs: c })}`);
    }
    const inSample = await evalMerge(rt.deps, { data: lines, scorer: weights });
    const report = { mrpc: st.report, mrpcWithEmbedding: ste.report, ama: { inSample, topicGroupedCv: { folds: FOLDS, ...pairFigures(total), pairs: total } }, weights };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await rt.close();
  }
  if (!DRY) writeFileSync(OUT, `${JSON.stringify(weights)}\n`);
}

await main();
