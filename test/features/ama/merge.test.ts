/**
 * Question merging through the real AMA intake (ingestQuestion: language resources, the scorer, the per-ask index
 * entries, the create/add-ask scripts) on a real Redis: near-misses stay apart, paraphrases in Chinese and Spanish
 * join the English question, and a moderator's split survives later asks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { amaSchedule, amaStart } from '../../../src/features/ama/index.js';
import { ingestQuestion, splitQuestion } from '../../../src/features/ama/questions.js';
import { amaEnv, getAma, rootQuestion, type AmaEnv } from '../../../src/features/ama/store.js';
import type { Ama } from '../../../src/features/ama/model.js';
import { amaHarness, T0, type AmaHarness } from './harness.js';

let h: AmaHarness;
let env: AmaEnv;
let seq = 0;

before(async () => {
  h = await amaHarness();
  env = amaEnv(h.deps);
});
after(() => h?.cleanup());

async function freshAma(): Promise<Ama> {
  const view = await amaSchedule(h.deps, { title: `Merge ${++seq}`, startsAt: T0 + 3_600_000, durationMinutes: 60, chats: ['telegram:-1001', 'discord:555', 'x:77'], hosts: [] });
  await amaStart(h.deps, view.id);
  return (await getAma(env, view.id))!;
}

async function ask(ama: Ama, text: string, platform: 'telegram' | 'discord' | 'x' = 'telegram'): Promise<number> {
  const i = ++seq;
  const chat = platform === 'telegram' ? 'telegram:-1001' : platform === 'discord' ? 'discord:555' : 'x:77';
  const r = await ingestQuestion(env, ama, { platform, chat, user: `${platform}:user:${i}`, userName: `u${i}`, text, at: T0 + i, via: 'ask', messageId: String(9000 + i), opId: `merge-test/${i}` });
  return r.n;
}

// Ten hand-picked pairs that share most of their words but ask different things, one per rule that keeps them apart.
const NEAR_MISSES: [string, string][] = [
  ['Will you list BONK on spot?', 'Will you delist BONK from spot?'], // opposite by prefix
  ['Will the exchange launch in Brazil this year?', 'Will the exchange launch in Europe this year?'], // places
  ['Can I trade with 20x leverage on futures?', 'Can I trade with 50x leverage on futures?'], // numbers
  ['When will BTC withdrawals reopen?', 'When will ETH withdrawals reopen?'], // tickers
  ['Will the token be listed on Binance?', 'Will the token be listed on Coinbase?'], // venues
  ['Will staking rewards be paid in March?', 'Will staking rewards be paid in April?'], // months
  ['Is the bridge to Arbitrum working?', 'Is the bridge to Arbitrum not working?'], // negation
  ['Should I buy BNB before the halving?', 'Should I sell BNB before the halving?'], // WordNet antonyms
  ['When is the mainnet launch?', 'Where is the mainnet launch?'], // kind of answer
  ['Is there a mobile app for the wallet?', 'Is there a desktop app for the wallet?'], // contrast: one word each
];

describe('question merging through AMA intake', { timeout: 120_000 }, () => {
  test('ten near-miss pairs never merge, in either order', async () => {
    const ama = await freshAma();
    for (const [a, b] of NEAR_MISSES) {
      const na = await ask(ama, a);
      const nb = await ask(ama, b, 'discord');
      assert.notEqual(na, nb, `"${a}" and "${b}" were merged`);
    }
    const reversed = await freshAma();
    for (const [a, b] of NEAR_MISSES) {
      const nb = await ask(reversed, b, 'discord');
      const na = await ask(reversed, a);
      assert.notEqual(na, nb, `"${b}" and "${a}" were merged`);
    }
  });

  test('a Chinese and a Spanish paraphrase of an English question merge with it', async () => {
    const ama = await freshAma();
    const en = await ask(ama, 'When will the token be listed on Binance?');
    await ask(ama, 'How do I reset my password?', 'discord');
    const es = await ask(ama, '¿Cuándo se lista el token en Binance?', 'x');
    const zh = await ask(ama, '代币什么时候在Binance上线？', 'discord');
    assert.equal(es, en, 'the Spanish paraphrase opened a question of its own');
    assert.equal(zh, en, 'the Chinese paraphrase opened a question of its own');
    // …and a different question in Spanish does not join it.
    assert.notEqual(await ask(ama, '¿Por qué la comisión de retiro es tan alta?'), en);
  });

  test('a split pair stays split after more asks arrive', async () => {
    const ama = await freshAma();
    const q = await ask(ama, 'When will the new wallet app launch?');
    assert.equal(await ask(ama, 'When is the new wallet app launching?', 'discord'), q);
    // A moderator decides the second ask is a question of its own.
    const split = await splitQuestion(env, ama, q, 2);
    assert.notEqual(split.n, q);
    // The same words again go to the split-off question, never back into the first one…
    assert.equal(await ask(ama, 'When is the new wallet app launching?', 'x'), split.n);
    // …the first question keeps drawing its own wording…
    assert.equal(await ask(ama, 'When will the new wallet app launch?', 'discord'), q);
    // …and neither was merged into the other.
    assert.equal((await rootQuestion(env, ama.id, split.n))?.n, split.n);
    assert.equal((await rootQuestion(env, ama.id, q))?.n, q);
  });
});
