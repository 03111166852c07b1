import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { after, test } from 'node:test';
import { createHandleEvent, type Feature } from '../../src/pipeline/handle-event.js';
import { startInboundWorker } from '../../src/queue/inbound-worker.js';
import { DeadLetterStore } from '../../src/queue/dead-letter.js';
import { quietLogger } from '../../src/log.js';
import { messageEvent } from '../helpers/events.js';
import { ChatEventSchema } from '../../src/core/events.js';
import { testCore, waitFor } from '../helpers/core.js';

const t = await testCore();
after(t.cleanup);

/** A feature that counts each event it sees in Redis. */
const counting: Feature = {
  name: 'count',
  middleware: async (ctx, next) => {
    ctx.writes.hincrby(t.keys.k('test', 'seen'), ctx.event.id, 1);
    await next();
  },
};

test('a message enqueued twice (same platform id) is handled once', async () => {
  const handle = createHandleEvent(t.deps, [counting]);
  const w = startInboundWorker({ url: t.url, keys: t.keys, handle, log: quietLogger() });
  try {
    const e = messageEvent({ messageId: 'dup-1' });
    await t.inbound.publish([e]);
    await t.inbound.publish([e]);
    await waitFor(async () => (await t.redis.hget(t.keys.k('test', 'seen'), e.id)) !== null, 'first handling');
    // Delivered again after the first job completed and was removed: the seen mark still stops it.
    await t.inbound.publish([e]);
    const marker = messageEvent({ messageId: 'after-dup' });
    await t.inbound.publish([marker]);
    await waitFor(async () => (await t.redis.hget(t.keys.k('test', 'seen'), marker.id)) !== null, 'marker handled');
    await waitFor(async () => (await t.inbound.queue.getJobCounts('waiting', 'active')).waiting === 0, 'queue drained');
    assert.equal(await t.redis.hget(t.keys.k('test', 'seen'), e.id), '1');
  } finally {
    await w.close();
  }
});

test('a malformed event lands in the dead-letter place with its reason while the next good event is handled', async () => {
  const handle = createHandleEvent(t.deps, [counting]);
  const dl = new DeadLetterStore(t.redis, t.keys);
  const before = await dl.count();
  const w = startInboundWorker({ url: t.url, keys: t.keys, handle, log: quietLogger() });
  try {
    await t.inbound.publishRaw([{ id: 'bad-1', data: { v: 1, id: 'x', kind: 'message', platform: 'myspace', chat: 'nope' } }]);
    const good = messageEvent({ messageId: 'good-after-bad' });
    await t.inbound.publish([good]);
    await waitFor(async () => (await t.redis.hget(t.keys.k('test', 'seen'), good.id)) === '1', 'good event handled');
    await waitFor(async () => (await dl.count()) === before + 1, 'dead letter recorded');
    const [latest] = await dl.latest(1);
    assert.equal(latest?.source, 'inbound');
    assert.match(latest?.reason ?? '', /platform|chat|id/);
  } finally {
    await w.close();
  }
});

test('InboundQueue.publish refuses a malformed event into the dead-letter place and still enqueues the good ones', async () => {
  const dl = new DeadLetterStore(t.redis, t.keys);
  const before = await dl.count();
  const good = messageEvent({ messageId: 'mixed-good' });
  await t.inbound.publish([{ ...messageEvent(), text: 'x'.repeat(20_000) }, good]);
  assert.equal(await dl.count(), before + 1);
  assert.match((await dl.latest(1))[0]?.reason ?? '', /^text:/);
  assert.ok(await t.inbound.queue.getJob(good.id.replaceAll(':', '%3A')));
});

test('a worker killed with SIGKILL mid-job leaves its jobs to another worker and nothing is lost', async () => {
  const events = Array.from({ length: 20 }, (_, i) => messageEvent({ messageId: `kill-${i}` }));
  const child = fork('test/helpers/worker-child.ts', [t.url, t.keys.prefix, '60000'], { execArgv: ['--import', 'tsx'], stdio: 'ignore' });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  await t.inbound.publish(events);
  await waitFor(async () => (await t.redis.scard(t.keys.k('test', 'started'))) >= 5, 'the child to take jobs');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const handled = new Set<string>();
  const w = startInboundWorker({
    url: t.url,
    keys: t.keys,
    log: quietLogger(),
    lockDurationMs: 1000,
    handle: async (e) => {
      handled.add(e.id);
    },
  });
  try {
    await waitFor(() => events.every((e) => handled.has(e.id)), 'every event handled by the surviving worker', 20_000);
    assert.equal(await t.redis.scard(t.keys.k('test', 'done')), 0, 'the killed worker finished nothing');
  } finally {
    await w.close();
  }
});

test('two runs of one event at once (a job lock that lapsed) change state once', async () => {
  const handle = createHandleEvent(t.deps, [counting]);
  const p = (await import('../../src/core/events.js')).parseChatEvent(messageEvent({ messageId: 'twice-at-once' }));
  assert.ok(p.ok);
  const before = Number((await t.redis.get(t.keys.k('stats', 'handled'))) ?? 0);
  await Promise.all([handle(p.event), handle(p.event)]);
  assert.equal(await t.redis.hget(t.keys.k('test', 'seen'), p.event.id), '1');
  assert.equal(Number(await t.redis.get(t.keys.k('stats', 'handled'))), before + 1);
});

test('a failing step is named and counted once, not again by every step it passed back through', async () => {
  const counted: string[] = [];
  const deps = { ...t.deps, metrics: { handlerError: (step: string) => counted.push(step) } };
  const outer: Feature = { name: 'outer', middleware: async (_ctx, next) => next() };
  const inner: Feature = { name: 'inner', middleware: async () => { throw new Error('boom'); } };
  const handle = createHandleEvent(deps, [outer, counting, inner]);
  const e = messageEvent({ messageId: 'fails-once' });
  await assert.rejects(handle(ChatEventSchema.parse(e)), (err: Error) => {
    assert.equal(err.name, 'HandlerError');
    assert.equal(err.message, `handler failed for ${e.id} in inner: boom`);
    return true;
  });
  assert.deepEqual(counted, ['inner']);
  assert.equal(await t.redis.hget(t.keys.k('test', 'seen'), e.id), null, 'nothing committed');
});
