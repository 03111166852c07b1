import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crossValidateThreshold, evalDuplicates, fitThreshold, metricsAt } from '../../../src/features/questions/eval.js';
import { DEFAULT_DUPLICATE_THRESHOLD } from '../../../src/features/questions/similarity.js';

const PAIRS = [
  { label: 1, sentence1: 'When is the token launch?', sentence2: 'When will the token launch happen?' },
  { label: 0, sentence1: 'When is the launch?', sentence2: 'Where is the launch?' },
  { label: 1, sentence1: 'How do I stake my tokens?', sentence2: 'How can I stake tokens?' },
  { label: 0, sentence1: 'Who is the CEO?', sentence2: 'Who audited the contract?' },
  { label: 1, sentence1: 'Is the contract audited?', sentence2: 'Who is the CEO of the company?' }, // a miss on purpose
];

test('evalDuplicates: metrics in percent and one prediction line per pair, in order', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'th-eval-'));
  try {
    const data = path.join(dir, 'pairs.jsonl');
    const predictions = path.join(dir, 'pred.jsonl');
    writeFileSync(data, `${PAIRS.map((p) => JSON.stringify({ id: 'x', ...p })).join('\n')}\n`);
    let progressed = 0;
    const m = await evalDuplicates({ data, threshold: DEFAULT_DUPLICATE_THRESHOLD, predictions, onProgress: (d, t) => (progressed = d / t) });
    assert.equal(progressed, 1);
    const lines = readFileSync(predictions, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { label: number; score: number });
    // The label is the project's decision at the threshold, not the file's: the last pair is labelled 1 in the file
    // and predicted 0.
    assert.deepEqual(lines.map((l) => l.label), lines.map((l) => (l.score >= DEFAULT_DUPLICATE_THRESHOLD ? 1 : 0)));
    assert.deepEqual(lines.map((l) => l.label), [1, 0, 1, 0, 0]);
    assert.deepEqual(m, { accuracy: 80, precision: 100, recall: 66.67, f1: 80, threshold: DEFAULT_DUPLICATE_THRESHOLD, n: 5 });
    for (const l of lines) assert.ok(l.score >= 0 && l.score <= 1 && Object.keys(l).join() === 'label,score');
    const cv = await crossValidateThreshold({ data });
    assert.equal(cv.folds.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('metricsAt and fitThreshold', () => {
  const scores = [0.9, 0.8, 0.6, 0.4, 0.2];
  const labels = [1, 1, 0, 1, 0];
  assert.deepEqual(metricsAt(scores, labels, 0.5), { accuracy: 60, precision: 66.67, recall: 66.67, f1: 66.67, threshold: 0.5, n: 5 });
  // F0.5 prefers the precise cut at 0.8 over the one at 0.4 that catches every positive.
  assert.equal(fitThreshold(scores, labels), 0.8);
  assert.equal(fitThreshold(scores, labels, 1), 0.4);
});
