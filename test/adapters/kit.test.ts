/** The adapter kit: backoff, abortable sleep, the cursor store and the resumable multi-part send, on a real Redis. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { backoffMs, CursorStore, partsKey, scopeOfStatus, sendParts, sleep } from '../../adapters/kit/index.js';
import { adapterDeps, adapterKey } from '../helpers/adapter.js';
import { isolatedRedis } from '../helpers/redis.js';

const iso = await isolatedRedis();
const deps = adapterDeps('telegram', { keys: iso.keys, redis: iso.redis });
after(async () => {
  deps.close();
  await iso.cleanup();
});

test('backoff doubles up to its cap, and half of each wait is random', { timeout: 5000 }, () => {
  const b = { baseMs: 100, maxMs: 1000 };
  assert.deepEqual([1, 2, 3, 4, 5, 10].map((n) => backoffMs(n, b, () => 1)), [100, 200, 400, 800, 1000, 1000]);
  assert.deepEqual([1, 2, 3].map((n) => backoffMs(n, b, () => 0)), [50, 100, 200]);
  assert.deepEqual([1, 2].map((n) => backoffMs(n, { ...b, jitter: 0 }, () => 0)), [100, 200]);
});

test('sleep ends at once when its signal aborts, and says it did not sleep the whole time', { timeout: 5000 }, async () => {
  const ctl = new AbortController();
  const slept = sleep(60_000, ctl.signal);
  ctl.abort();
  assert.equal(await slept, false);
  assert.equal(await sleep(5), true);
  assert.equal(await sleep(60_000, ctl.signal), false, 'an aborted signal does not wait at all');
});

test('an HTTP status alone says what a refusal reaches: the bot, the chat, the action, or nothing (retry)', { timeout: 5000 }, () => {
  assert.deepEqual([401, 403, 400, 404, 413, 408, 429, 500, 502].map(scopeOfStatus), ['global', 'per-chat', 'permanent', 'permanent', 'permanent', null, null, null, null]);
});

test('a cursor only moves forward (ids of any length), carries data after "|", and lands with the caller\'s writes', { timeout: 5000 }, async () => {
  const cursors = new CursorStore(deps.store, 'cursor-test');
  await cursors.advance({ a: '1000|g1', b: '99' });
  await cursors.advance({ a: '999|g2', b: '100' });
  assert.deepEqual(await cursors.all(), { a: '1000|g1', b: '100' });
  await cursors.advance({ a: '12345678901234567890|g3' });
  assert.equal(await cursors.get('a'), '12345678901234567890|g3', 'longer is newer: snowflakes beyond 2^53 compare as text');
  const tx = deps.store.multi().set('other-write', '1');
  cursors.advanceOn(tx, { c: '5' });
  await tx.exec();
  assert.equal(await cursors.get('c'), '5');
  await cursors.forget(['a', 'b']);
  assert.deepEqual(Object.keys(await cursors.all()), ['c']);
  // In the adapter's own keys, under the hash-tagged prefix.
  assert.equal(await iso.redis.hget(adapterKey(iso.keys, 'telegram', 'cursor-test'), 'c'), '5');
});

test('a multi-part send retried after a failure half way sends only the parts not yet sent', { timeout: 5000 }, async () => {
  const sent: string[] = [];
  let failAt = 2;
  const send = async (part: string, i: number, before: readonly string[]) => {
    if (i === failAt) throw new Error('platform refused part 3');
    sent.push(part);
    return `m${i}:${before.length}`;
  };
  await assert.rejects(sendParts(deps.store, 'action-1', ['p0', 'p1', 'p2', 'p3'], send), /part 3/);
  assert.deepEqual(sent, ['p0', 'p1']);
  failAt = -1;
  const ids = await sendParts(deps.store, 'action-1', ['p0', 'p1', 'p2', 'p3'], send);
  assert.deepEqual(sent, ['p0', 'p1', 'p2', 'p3'], 'p0 and p1 not sent again');
  assert.deepEqual(ids, ['m0:0', 'm1:1', 'm2:2', 'm3:3'], 'each part saw the ids sent before it');
  assert.ok((await deps.store.ttl(partsKey('action-1'))) > 0, 'progress expires');
});
