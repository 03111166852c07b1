import { test } from 'node:test';
import assert from 'node:assert/strict';
import { porterStem, rougeTokenize, scoreRouge, scoreRougeMulti } from '../../../src/features/digest/rouge.js';

const close = (a: number, b: number, msg?: string): void => assert.ok(Math.abs(a - b) < 1e-9, msg ?? `${a} != ${b}`);

test('identical texts score 100 on every variant', () => {
  const s = scoreRouge('Amanda baked cookies and will bring Jerry some tomorrow.', 'Amanda baked cookies and will bring Jerry some tomorrow.');
  for (const v of [s.rouge1, s.rouge2, s.rougeL]) {
    close(v.precision, 1);
    close(v.recall, 1);
    close(v.f1, 1);
  }
});

test('hand-computed case: one dropped word', () => {
  // ref 7 tokens, pred 6, all pred tokens match: R1 P=1 R=6/7 F=12/13; bigrams 4 of 5 / 4 of 6 -> F=8/11; LCS 6 -> 12/13.
  const s = scoreRouge('The cat was found under the bed.', 'the cat was under the bed');
  close(s.rouge1.precision, 1);
  close(s.rouge1.recall, 6 / 7);
  close(s.rouge1.f1, 12 / 13);
  close(s.rouge2.precision, 4 / 5);
  close(s.rouge2.recall, 4 / 6);
  close(s.rouge2.f1, 8 / 11);
  close(s.rougeL.f1, 12 / 13);
});

test('stemming: kids/running match kid/runs; tokens of 3 chars or fewer are never stemmed', () => {
  // ref: the kid are run; pred: a kid run -> overlap 2, P=2/3, R=2/4, F=4/7.
  const s = scoreRouge('The kids are running', 'a kid runs');
  close(s.rouge1.f1, 4 / 7);
  assert.equal(scoreRouge('The kids are running', 'a kid runs', { useStemmer: false }).rouge1.f1, 0);
  // porter('was') would be 'wa'; rouge-score leaves 3-char tokens alone, so only "it" matches.
  close(scoreRouge('it was', 'it wa').rouge1.f1, 0.5);
  assert.deepEqual(rougeTokenize("Don't STOP-me now!! 3pm"), ['don', 't', 'stop', 'me', 'now', '3pm']);
});

test('rouge-score README example (use_stemmer=True)', () => {
  const s = scoreRouge('The quick brown fox jumps over the lazy dog', 'The quick brown dog jumps on the log.');
  close(s.rouge1.precision, 0.75);
  close(s.rouge1.recall, 2 / 3);
  close(s.rougeL.precision, 0.625);
  close(s.rougeL.recall, 5 / 9);
});

test('NLTK PorterStemmer outputs', () => {
  const words = ['caresses', 'flies', 'dies', 'mules', 'denied', 'died', 'agreed', 'owned', 'humbled', 'sized', 'meeting', 'stating',
    'siezing', 'itemization', 'sensational', 'traditional', 'reference', 'colonizer', 'plotted'];
  assert.equal(words.map(porterStem).join(' '),
    'caress fli die mule deni die agre own humbl size meet state siez item sensat tradit refer colon plot');
  assert.equal(porterStem('agre'), 'agr');
  assert.equal(porterStem('oed'), 'o');
  assert.equal(porterStem('dying'), 'die');
  assert.equal(porterStem('generously'), 'gener');
});

test('empty prediction scores 0; multiple references are averaged', () => {
  assert.equal(scoreRouge('something here', '').rouge1.f1, 0);
  assert.equal(scoreRouge('something here', '').rougeL.f1, 0);
  close(scoreRougeMulti(['a b', 'c d'], 'a b').rouge1.f1, 0.5);
});
