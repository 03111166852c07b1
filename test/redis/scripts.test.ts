/**
 * Coalescing (src/redis/scripts.ts): the calls concurrent events make in one turn of the event loop go to Redis as
 * ONE command, and each caller still gets exactly its own result — or its own error.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { WriteBatch } from '../../src/pipeline/writes.js';
import { spawnRedis } from '../../src/redis/connect.js';
import { evalCoalesced, mgetCoalesced } from '../../src/redis/scripts.js';

// A Redis of its own: the test counts the server's commands, which other test files would add to.
const server = await spawnRedis();
const redis = new Redis(server.url, { enableAutoPipelining: true });
after(async () => {
  redis.disconnect();
  await server.stop();
});

async function calls(cmd: string): Promise<number> {
  return Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(await redis.info('commandstats'))?.[1] ?? 0);
}

const INCR_BY = `return redis.call('INCRBY', KEYS[1], ARGV[1])`;

test('script calls made together run once each, in one EVALSHA, and each caller gets its own result', async () => {
  await redis.eval('return 1', 0); // connection up before counting
  const before = (await calls('evalsha')) + (await calls('eval'));
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => evalCoalesced(redis, INCR_BY, [`c:${i % 3}`], [i + 1])));
  const after1 = (await calls('evalsha')) + (await calls('eval'));
  assert.ok(after1 - before <= 2, `one EVALSHA, plus one EVAL the first time (saw ${after1 - before})`);
  // Each key got the sum of its callers' increments, and each caller saw the running total after its own call.
  const sums = [0, 1, 2].map((k) => Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 === k).reduce((a, i) => a + i + 1, 0));
  assert.deepEqual(await redis.mget('c:0', 'c:1', 'c:2'), sums.map(String));
  for (let k = 0; k < 3; k++) {
    let running = 0;
    for (let i = k; i < 30; i += 3) {
      running += i + 1;
      assert.equal(results[i], running, `call ${i}`);
    }
  }
});

test("one call's error is that call's alone: the others in the same batch succeed", async () => {
  await redis.set('str', 'text');
  const out = await Promise.allSettled([evalCoalesced(redis, INCR_BY, ['ok:1'], [1]), evalCoalesced(redis, INCR_BY, ['str'], [1]), evalCoalesced(redis, INCR_BY, ['ok:2'], [2])]);
  assert.equal(out[0].status, 'fulfilled');
  assert.equal(out[2].status, 'fulfilled');
  assert.equal(out[1].status, 'rejected');
  assert.match(String((out[1] as PromiseRejectedResult).reason), /not an integer/);
  assert.deepEqual(await redis.mget('ok:1', 'ok:2'), ['1', '2']);
});

test('a script Redis has forgotten (SCRIPT FLUSH, a restart) is loaded again without failing the callers', async () => {
  await redis.script('FLUSH');
  const r = await Promise.all([evalCoalesced(redis, INCR_BY, ['f:1'], [5]), evalCoalesced(redis, INCR_BY, ['f:1'], [5])]);
  assert.deepEqual((r as number[]).sort((a, b) => a - b), [5, 10]);
});

test('MGETs made together are one MGET, and each caller gets its own keys back in order', async () => {
  await redis.mset('m:a', 'A', 'm:b', 'B', 'm:c', 'C');
  const before = await calls('mget');
  const [x, y, z] = await Promise.all([mgetCoalesced(redis, ['m:a', 'm:none']), mgetCoalesced(redis, ['m:c', 'm:b', 'm:a']), mgetCoalesced(redis, [])]);
  assert.equal((await calls('mget')) - before, 1);
  assert.deepEqual(x, ['A', null]);
  assert.deepEqual(y, ['C', 'B', 'A']);
  assert.deepEqual(z, []);
});

test('commits of many events made together are one script call, and a duplicate is told apart per event', async () => {
  await new WriteBatch(redis).commit('seen:ev3', 60); // event 3 was already handled
  const before = await calls('evalsha');
  const outcomes = await Promise.all(
    Array.from({ length: 8 }, (_, i) => {
      const b = new WriteBatch(redis);
      b.tx.rpush('events', `ev${i}`).incr('handled');
      return b.commit(`seen:ev${i}`, 60);
    }),
  );
  assert.equal((await calls('evalsha')) - before, 1);
  assert.deepEqual(outcomes, outcomes.map((_, i) => (i === 3 ? 'duplicate' : 'applied')));
  assert.equal(await redis.get('handled'), '7');
  assert.deepEqual((await redis.lrange('events', 0, -1)).sort(), ['ev0', 'ev1', 'ev2', 'ev4', 'ev5', 'ev6', 'ev7']);
});

test('a call whose text holds a lone surrogate (hostile user text) still runs, beside the packed ones', async () => {
  const SET = `return redis.call('SET', KEYS[1], ARGV[1])`;
  const odd = `name \ud800 end`;
  const out = await Promise.all([evalCoalesced(redis, SET, ['s:1'], ['plain']), evalCoalesced(redis, SET, ['s:2'], [odd]), evalCoalesced(redis, SET, ['s:3'], ['ünïcode ✓'])]);
  assert.deepEqual(out, ['OK', 'OK', 'OK']);
  assert.equal(await redis.get('s:1'), 'plain');
  assert.equal(await redis.get('s:3'), 'ünïcode ✓');
  assert.ok((await redis.getBuffer('s:2'))!.length > 0);
});
