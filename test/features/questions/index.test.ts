import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { QuestionIndex, prepare, isQuestion, DEFAULT_DUPLICATE_THRESHOLD } from '../../../src/features/questions/index.js';
import { questionGenerator, benchDedup } from '../../../src/features/questions/bench.js';

const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TAG = `townhall-test-${randomUUID()}`;
const PREFIX = `{${TAG}}:`;
let redis: Redis;

before(() => {
  redis = new Redis(URL, { maxRetriesPerRequest: null });
});

after(async () => {
  // Nothing may outlive the run, and nothing may have been written outside the prefix.
  let cursor = '0';
  const left: string[] = [];
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${TAG}*`, 'COUNT', 1000);
    cursor = next;
    left.push(...keys);
  } while (cursor !== '0');
  if (left.length) await redis.unlink(...left);
  redis.disconnect();
  assert.deepEqual(left, []);
});

async function keysOf(prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${TAG}*`, 'COUNT', 10000);
    cursor = next;
    out.push(...keys.filter((k) => k.includes(prefix.slice(1, -2))));
  } while (cursor !== '0');
  return out;
}

test('finds a paraphrase among 1,000 stored questions, and nothing for an unrelated one', async () => {
  const index = new QuestionIndex(redis, `${PREFIX}ama:1:dedup:`);
  const next = questionGenerator(1, 'g');
  await index.addMany([...Array.from({ length: 999 }, next), { id: 'target', text: 'What is the team plan for the marketing budget in Vietnam?' }]);
  assert.equal(await index.size(), 1000);

  const hit = await index.findDuplicate("What's the team planning for the Vietnam marketing budget?");
  assert.ok(hit, 'paraphrase not found');
  assert.equal(hit.id, 'target');
  assert.ok(hit.score >= DEFAULT_DUPLICATE_THRESHOLD && hit.score <= 1);

  assert.equal(await index.findDuplicate('Is pineapple on pizza acceptable in Naples?'), null);
  // Same topic, different kind of question: not a duplicate either.
  assert.equal(await index.findDuplicate('Why is the marketing budget in Vietnam so small?'), null);

  // Every key lives under the caller's prefix (Redis Cluster hash tag included).
  const keys = await keysOf(PREFIX);
  assert.ok(keys.length > 1000);
  assert.ok(keys.every((k) => k.startsWith(`${PREFIX}ama:1:dedup:`)));
  assert.ok((await index.clear()) === keys.length);
  assert.equal(await index.size(), 0);
});

test('remove takes a question out of every bucket, with or without its text', async () => {
  const index = new QuestionIndex(redis, `${PREFIX}ama:2:dedup:`);
  await index.add('a', 'When will staking rewards be distributed?');
  await index.add('b', 'How do I bridge USDC to Arbitrum?');
  assert.equal((await index.findDuplicate('when are staking rewards distributed'))?.id, 'a');
  assert.equal(await index.remove('a', 'When will staking rewards be distributed?'), true);
  assert.equal(await index.findDuplicate('when are staking rewards distributed'), null);
  // Without the text the stored terms give the buckets; a wrong text is detected and corrected.
  assert.equal(await index.remove('b', 'something else entirely'), true);
  assert.equal(await index.findDuplicate('How can I bridge USDC to Arbitrum?'), null);
  assert.equal(await index.remove('b'), false);
  assert.equal(await index.size(), 0);
  await index.add('c', '代币什么时候上线？');
  assert.equal((await index.findDuplicate('代币何时上线'))?.id, 'c');
  assert.equal(await index.remove('c'), true);
  // Only the sequence counter may remain.
  assert.deepEqual(await keysOf(`${PREFIX}ama:2:dedup:`), [`${PREFIX}ama:2:dedup:seq`]);
  await index.clear();
});

test('concurrent find-or-add of the same question from several connections yields one entry', async () => {
  const conns = [redis, new Redis(URL), new Redis(URL), new Redis(URL)];
  try {
    // The race is what is tested here: a high threshold keeps the generated background questions (which share
    // words such as "launch" and "airdrop" with the raced ones) from being the duplicate found.
    const indexes = conns.map((c) => new QuestionIndex(c, `${PREFIX}ama:3:dedup:`, { threshold: 0.8 }));
    await indexes[0]!.addMany(Array.from({ length: 300 }, questionGenerator(3, 'bg')));
    const rounds = [
      ['When is the token launch?', 'When will the token launch happen?', 'when is the token launch', 'When is the token launching?'],
      ['Will there be an airdrop for early users?', 'Is there going to be an airdrop for early users?', 'will there be an airdrop for early users', 'Will early users get an airdrop?'],
      ['Когда будет листинг токена?', 'Когда листинг токена?', 'когда будет листинг токена', 'Когда будет листинг токена'],
    ];
    for (const [r, texts] of rounds.entries()) {
      for (let rep = 0; rep < 5; rep++) {
        const prepared = texts.map((t) => prepare(t));
        const results = await Promise.all(indexes.map((ix, i) => ix.findOrAdd(`r${r}-${rep}-${i}`, prepared[i]!)));
        const added = results.filter((x) => x.added);
        assert.equal(added.length, 1, `round ${r}.${rep}: ${JSON.stringify(results)}`);
        for (const x of results) assert.equal(x.id, added[0]!.id);
        // Next repetition starts from scratch so the race happens again.
        await indexes[0]!.remove(added[0]!.id);
      }
    }
    assert.equal(await indexes[0]!.size(), 300);
    // Re-submitting an id that is already indexed returns it.
    const again = await indexes[1]!.findOrAdd('bg0', 'totally different text about pizza');
    assert.deepEqual(again, { added: false, id: 'bg0', score: 1 });
    await indexes[0]!.clear();
  } finally {
    for (const c of conns.slice(1)) c.disconnect();
  }
});

test('the config constructor form builds the documented prefix', () => {
  const keys = { k: (...parts: (string | number)[]) => `{${TAG}}:${parts.join(':')}` };
  const index = new QuestionIndex({ redis, keys, namespace: 'ama:9', threshold: 0.6 });
  assert.equal(index.prefix, `{${TAG}}:ama:9:dedup:`);
  assert.equal(index.threshold, 0.6);
  assert.equal(isQuestion('wen token'), true);
});

test('benchDedup measures each size and cleans up after itself', async () => {
  const prefix = `${PREFIX}bench:`;
  const res = await benchDedup(redis, prefix, [2000, 500], { samples: 100 });
  assert.deepEqual(Object.keys(res).sort(), ['2000', '500']);
  for (const v of Object.values(res)) assert.ok(v > 0 && Number.isFinite(v));
  assert.deepEqual(await keysOf(prefix), []);
});
