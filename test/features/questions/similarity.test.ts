import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DUPLICATE_THRESHOLD, isSameQuestion, prepareText, similarity } from '../../../src/features/questions/similarity.js';

const SAME: [string, string][] = [
  ['When is the token launch?', 'When will the token launch happen?'],
  ['When is the token launching?', 'when token launch'],
  ['What is the total supply of $ZORB?', "What's ZORB's total supply?"],
  ['Will there be an airdrop for early users?', 'Is there going to be an airdrop for early users?'],
  ['How do I stake my tokens?', 'How can I stake tokens?'],
  ['Which exchanges will list the token?', 'What exchanges are going to list the token?'],
  ['Is the smart contract audited?', 'Has the smart contract been audited?'],
  ['What is the launch date?', 'When is the launch?'],
  ['What is the price of BTC?', 'what is the $BTC price'],
  ['Is the bridge to Arbitrum live?', 'is the arbitrum bridge live yet?'],
  ['代币什么时候上线？', '代币何时上线'],
  ['Когда будет листинг токена?', 'Когда листинг токена?'],
  ['¿Cuándo es el lanzamiento del token?', 'Cuándo será el lanzamiento del token'],
  ['Token ne zaman listelenecek?', 'Token ne zaman listelenecek acaba?'],
  ['Khi nào token được niêm yết?', 'Bao giờ token được niêm yết?'],
  ['متى سيتم إطلاق العملة؟', 'متى إطلاق العملة؟'],
];

const DIFFERENT: [string, string][] = [
  ['When is the launch?', 'Where is the launch?'],
  ['When is the token launch?', 'Why was the token launch delayed?'],
  ['Will the token be listed on Binance?', 'Will the token be listed on Coinbase?'],
  ['When will V2 launch?', 'When will V3 launch?'],
  ['What is the price of $ETH?', 'What is the price of $SOL?'],
  ['Will staking rewards be paid in Q3?', 'Will staking rewards be paid in Q4?'],
  ['Is there a mobile app?', 'Is there a desktop app?'],
  ['What is the total supply?', 'What is the circulating supply?'],
  ['Who is the CEO?', 'Who audited the contract?'],
  ['How much is the presale price?', 'When does the presale end?'],
  ['When will staking rewards be distributed on Solana?', 'When will staking rewards be distributed on Arbitrum?'],
  ['代币什么时候上线？', '代币为什么下跌？'],
  ['Когда будет листинг токена?', 'Почему упала цена токена?'],
];

test('paraphrased questions score at or above the threshold', () => {
  const missed = SAME.map(([a, b]) => [a, b, similarity(a, b)] as const).filter(([, , s]) => s < DEFAULT_DUPLICATE_THRESHOLD);
  assert.deepEqual(missed, []);
});

test('different questions score below the threshold', () => {
  const merged = DIFFERENT.map(([a, b]) => [a, b, similarity(a, b)] as const).filter(([, , s]) => s >= DEFAULT_DUPLICATE_THRESHOLD);
  assert.deepEqual(merged, []);
});

test('the two reference pairs of the spec', () => {
  assert.equal(isSameQuestion('When is the token launch?', 'When will the token launch happen?'), true);
  assert.equal(isSameQuestion('When is the launch?', 'Where is the launch?'), false);
});

test('score is a symmetric value in [0, 1], 1 for the same text and 0 for nothing shared', () => {
  for (const [a, b] of [...SAME, ...DIFFERENT]) {
    const s = similarity(a, b);
    assert.ok(s >= 0 && s <= 1, `${s}`);
    assert.equal(s, similarity(b, a));
  }
  assert.equal(similarity('When is the launch?', 'when is the LAUNCH'), 1);
  assert.equal(similarity('Is staking live?', 'Pizza recipes from Naples'), 0);
  assert.equal(similarity('', ''), 0);
  // Prepared features give the same score as raw text.
  assert.equal(similarity(prepareText('When is the token launch?'), prepareText('When will the token launch happen?')), similarity('When is the token launch?', 'When will the token launch happen?'));
});
