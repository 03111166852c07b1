/**
 * Inbound jobs that carry batches (what an adapter received together): each event is still handled on its own —
 * once, with its own dead letter when it is malformed or keeps failing — and the queue's cost is paid per batch.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { quietLogger } from '../../src/log.js';
import { createHandleEvent, type Feature } from '../../src/pipeline/handle-event.js';
import { DeadLetterStore } from '../../src/queue/dead-letter.js';
import { INBOUND_BATCH_JOB, INBOUND_JOB_OPTIONS, inboundBacklog, MAX_EVENTS_PER_JOB } from '../../src/queue/inbound.js';
import { startInboundWorker } from '../../src/queue/inbound-worker.js';
import { testCore, waitFor } from '../helpers/core.js';
import { messageEvent } from '../helpers/events.js';

const t = await testCore();
after(t.cleanup);

const seenKey = t.keys.k('test', 'batch-seen');
/** Counts each handled event; fails on texts that say so (`fail-always`, or `fail-once` the first time). */
const counting: Feature = {
  name: 'count',
  middleware: async (ctx, next) => {
    const text = ctx.event.text ?? '';
    if (text === 'fail-always') throw new Error('this event always fails');
    if (text === 'fail-once' && (await t.redis.incr(t.keys.k('test', 'tries', ctx.event.id))) === 1) throw new Error('first try fails');
    ctx.writes.hincrby(seenKey, ctx.event.id, 1);
    await next();
  },
};
const counts = async (ids: string[]) => (ids.length ? (await t.redis.hmget(seenKey, ...ids)).map((v) => Number(v ?? 0)) : []);
const drained = () => waitFor(async () => Object.values(await t.inbound.queue.getJobCounts('waiting', 'active', 'delayed')).every((n) => n === 0), 'the inbound queue drained', 20_000);

test('a publish of 120 events is three jobs of 40; published again, every event is still handled once', async () => {
  const events = Array.from({ length: 120 }, (_, i) => messageEvent({ messageId: `b120-${i}` }));
  await t.inbound.queue.pause();
  await t.inbound.publish(events);
  const jobs = await t.inbound.queue.getJobs(['waiting']);
  const mine = jobs.filter((j) => j.name === INBOUND_BATCH_JOB && JSON.stringify(j.data).includes('b120-'));
  assert.deepEqual(mine.map((j) => (j.data as { events: unknown[] }).events.length), [40, 40, 40]);
  assert.ok(MAX_EVENTS_PER_JOB >= 40);
  assert.equal((await inboundBacklog(t.inbound.queue)).messages, 120, 'the backlog counts messages, not jobs');
  await t.inbound.publish(events); // the same receive again: the same job ids, nothing added
  assert.equal((await t.inbound.queue.getJobs(['waiting'])).length, jobs.length);
  await t.inbound.queue.resume();
  const w = startInboundWorker({ url: t.url, keys: t.keys, handle: createHandleEvent(t.deps, [counting]), log: quietLogger() });
  try {
    await drained();
    await t.inbound.publish(events.slice(0, 60)); // a different batch of events already handled
    await drained();
    assert.deepEqual(await counts(events.map((e) => e.id)), events.map(() => 1));
  } finally {
    await w.close();
  }
});

test("in a batch, a malformed event is dead-lettered alone, a failing one is retried alone, and one that keeps failing is the only dead letter", async () => {
  const dl = new DeadLetterStore(t.redis, t.keys);
  const before = await dl.count();
  const good = Array.from({ length: 5 }, (_, i) => messageEvent({ messageId: `mix-${i}` }));
  const once = messageEvent({ messageId: 'mix-once', text: 'fail-once' });
  const always = messageEvent({ messageId: 'mix-always', text: 'fail-always' });
  const malformed = { v: 1, id: 'mix-bad', kind: 'message', platform: 'myspace', chat: 'nope' };
  // Added as a producer outside InboundQueue.publish might: publish itself refuses malformed events before the queue.
  await t.inbound.queue.add(INBOUND_BATCH_JOB, { v: 1, events: [...good, malformed, once, always] }, { ...INBOUND_JOB_OPTIONS, attempts: 3, backoff: { type: 'fixed', delay: 50 }, jobId: 'mixed-batch' });
  const w = startInboundWorker({ url: t.url, keys: t.keys, handle: createHandleEvent(t.deps, [counting]), log: quietLogger() });
  try {
    await waitFor(async () => (await dl.count()) === before + 2, 'two dead letters: the malformed event and the one that kept failing', 20_000);
    await drained();
    assert.deepEqual(await counts([...good, once, always].map((e) => e.id)), [1, 1, 1, 1, 1, 1, 0], 'each good event once, the flaky one once after its retry');
    const letters = await dl.latest(2);
    assert.ok(letters.some((d) => /handler failed 3x: .*always fails/.test(d.reason) && d.payload.includes('mix-always') && !d.payload.includes('mix-0')));
    assert.ok(letters.some((d) => d.payload.includes('myspace')));
  } finally {
    await w.close();
  }
});
