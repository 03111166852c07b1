/**
 * The pipeline's state writes (src/pipeline/writes.ts) commit in one script call instead of a MULTI: they must keep
 * MULTI's semantics — all or nothing visible to others, one failing command neither hides the others nor passes
 * silently — and anything the script cannot replay must still work, through a real MULTI.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { WriteBatch } from '../../src/pipeline/writes.js';
import { spawnRedis } from '../../src/redis/connect.js';
import { Keys } from '../../src/redis/keys.js';

// A Redis of its own: the test counts the server's script calls, which other test files would add to.
const server = await spawnRedis();
const iso = { redis: new Redis(server.url), keys: new Keys('{townhall-wb}') };
after(async () => {
  iso.redis.disconnect();
  await server.stop();
});
const k = (...p: string[]) => iso.keys.k('wb', ...p);

async function evalshaCalls(): Promise<number> {
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(await iso.redis.info('commandstats'))?.[1] ?? 0);
}

test('queued writes land together, in one script call, with numbers and arrays sent as Redis expects', async () => {
  const b = new WriteBatch(iso.redis);
  b.tx.rpush(k('list'), 'a', 'b').ltrim(k('list'), -1, -1).hset(k('h'), 'f', 7).sadd(k('s'), ['x', 'y']).set(k('seen'), '1', 'EX', 60).incr(k('n'));
  assert.equal(b.length, 6);
  assert.equal(await iso.redis.exists(k('list'), k('h'), k('s'), k('seen'), k('n')), 0, 'nothing reaches Redis before commit');
  const before = await evalshaCalls();
  await b.commit(k('seen'));
  assert.deepEqual(await iso.redis.lrange(k('list'), 0, -1), ['b']);
  assert.equal(await iso.redis.hget(k('h'), 'f'), '7');
  assert.deepEqual((await iso.redis.smembers(k('s'))).sort(), ['x', 'y']);
  assert.ok((await iso.redis.ttl(k('seen'))) > 0);
  assert.equal(await iso.redis.get(k('n')), '1');
  assert.ok((await evalshaCalls()) - before <= 1, 'one EVALSHA (EVAL the very first time)');
});

test('a failing command fails the commit but, as in MULTI, the other commands still apply', async () => {
  await iso.redis.set(k('str'), 'not a list');
  const b = new WriteBatch(iso.redis);
  b.tx.set(k('before'), '1').rpush(k('str'), 'x').set(k('after'), '1');
  await assert.rejects(b.commit(k('before')), /WRONGTYPE/);
  assert.equal(await iso.redis.get(k('before')), '1');
  assert.equal(await iso.redis.get(k('after')), '1');
});

test('a batch with an object argument or a custom script command goes through a real MULTI and works the same', async () => {
  iso.redis.defineCommand('wbTouch', { numberOfKeys: 1, lua: "return redis.call('SET', KEYS[1], ARGV[1])" });
  const b = new WriteBatch(iso.redis);
  (b.tx as unknown as { wbTouch(key: string, v: string): unknown }).wbTouch(k('custom'), 'v');
  b.tx.hset(k('obj'), { a: '1', b: '2' });
  await b.commit(k('custom'));
  assert.equal(await iso.redis.get(k('custom')), 'v');
  assert.deepEqual(await iso.redis.hgetall(k('obj')), { a: '1', b: '2' });
});

test('the recorder is not a thenable: awaiting ctx.writes by mistake does not hang or send anything', async () => {
  const b = new WriteBatch(iso.redis);
  assert.equal(await b.tx, b.tx);
  assert.equal(b.length, 0);
});

test('with a guard, a second commit for the same mark applies nothing and says duplicate', async () => {
  const first = new WriteBatch(iso.redis);
  first.tx.incr(k('guarded'));
  assert.equal(await first.commit(k('mark'), 60), 'applied');
  const second = new WriteBatch(iso.redis);
  second.tx.incr(k('guarded'));
  assert.equal(await second.commit(k('mark'), 60), 'duplicate');
  assert.equal(await iso.redis.get(k('guarded')), '1');
  assert.ok((await iso.redis.ttl(k('mark'))) > 0);
});
