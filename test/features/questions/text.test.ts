import { test } from 'node:test';
import assert from 'node:assert/strict';
import { features, normalize, stem, terms, tokenize, STOP_WORDS } from '../../../src/features/questions/text.js';

test('normalize: NFKC, case, zero-width and control characters, URLs, mentions, punctuation', () => {
  assert.equal(normalize('ＷＨＥＮ　ｌａｕｎｃｈ？'), 'when launch');
  assert.equal(normalize('la\u200bunch\u200d da\u0007te'), 'launch da te');
  assert.equal(normalize('@admin see https://x.com/a?b=1 and <@123> www.site.io!!'), 'see and');
  assert.equal(normalize("What's the plan? Don't know."), 'what is the plan do not know');
  assert.equal(normalize('İstanbul'), 'istanbul');
  assert.equal(normalize('Ёлка'), 'елка');
});

test('normalize: numbers and tickers', () => {
  assert.equal(normalize('$BTC at $1,000,000 or 2.5%'), 'btc at 1000000 or 2.5');
  assert.deepEqual(terms('Will $BTC hit 100k?'), terms('will bitcoin hit 100,000'));
  assert.deepEqual(terms('#ETH'), ['eth']);
  assert.deepEqual(terms('2.5 billion'), ['2500000000']);
  assert.deepEqual(terms('v2 in Q3'), ['v2', 'q3']);
  assert.deepEqual(terms('constructor toString'), ['constructor', 'tostr']);
});

test('tokenize: words for spaced scripts, character bigrams for CJK and Thai', () => {
  assert.deepEqual(tokenize('Token 上线时间'), ['token', '上线', '线时', '时间']);
  assert.deepEqual(tokenize('币'), ['币']);
  // Thai tone marks stay on their letter.
  assert.deepEqual(tokenize('ราคา'), ['รา', 'าค', 'คา']);
  assert.deepEqual(tokenize('btc价格'), ['btc', '价格']);
});

test('stem: light English, Spanish and Russian suffix stripping', () => {
  assert.equal(stem('launching'), stem('launch'));
  assert.equal(stem('launched'), stem('launches'));
  assert.equal(stem('staking'), stem('stake'));
  assert.equal(stem('planned'), stem('plan'));
  assert.equal(stem('rewards'), stem('reward'));
  assert.equal(stem('tokens'), stem('token'));
  assert.equal(stem('news'), 'news');
  assert.equal(stem('токена'), stem('токен'));
  assert.equal(stem('листинга'), stem('листинг'));
  assert.equal(stem('lanzamientos'), stem('lanzamiento'));
  assert.equal(stem('canciones'), stem('canción'));
});

test('stop words span languages but keep question words out', () => {
  for (const w of ['the', 'el', 'и', 've', 'của', 'في']) assert.ok(STOP_WORDS.has(w), w);
  for (const w of ['when', 'where', 'cuándo', 'когда', 'متى']) assert.ok(!STOP_WORDS.has(w), w);
});

test('features: terms and question type across languages', () => {
  assert.deepEqual(features('When is the token launch?'), { norm: 'when is the token launch', terms: ['token', 'launch'], qtype: 'when', specific: [], words: ['token', 'launch'] });
  assert.equal(features('Where is the launch?').qtype, 'where');
  assert.equal(features('Is staking live?').qtype, 'yesno');
  assert.equal(features('Can you tell me when the launch is?').qtype, 'when');
  assert.equal(features('What is the launch date?').qtype, 'when');
  assert.equal(features('How many tokens are burned?').qtype, 'quantity');
  assert.equal(features('代币什么时候上线？').qtype, 'when');
  assert.deepEqual(features('代币什么时候上线？').terms, ['代币', '上线']);
  assert.equal(features('Почему упала цена?').qtype, 'why');
  assert.equal(features('Token ne zaman listelenecek?').qtype, 'when');
  assert.equal(features('Khi nào token được niêm yết?').qtype, 'when');
  assert.equal(features('¿Dónde comprar?').qtype, 'where');
  assert.equal(features('هل يوجد إيردروب؟').qtype, 'yesno');
  assert.deepEqual(features('Will it list on Binance or Coinbase in Q3?').specific, ['binanc', 'coinbas', 'q3']);
  assert.deepEqual(features('Is the Arbitrum bridge live?').specific, ['arbitrum']);
});
