// X end to end through the real queues: mentions into the BullMQ inbound queue, actions out through the
// outbound runner, which enforces the adapter's (scaled-down) limits and reacts to its errors.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createXAdapter, X_ENDPOINTS, type XAdapter, type XAdapterOptions } from '../../../adapters/x/index.js';
import type { OutboundLimits } from '../../../src/core/index.js';
import type { Action, ActionInput } from '../../../src/core/actions.js';
import type { ChatEvent } from '../../../src/core/events.js';
import { quietLogger } from '../../../src/log.js';
import { InboundQueue } from '../../../src/queue/inbound.js';
import { OutboundQueue, startOutboundRunner, type OutboundRunnerHandle } from '../../../src/queue/outbound.js';
import { startXFake, type XFake } from '../../../fakes/x/index.js';
import { FAKE_X_CREDENTIALS } from './harness.js';
import { isolatedRedis } from '../../helpers/redis.js';
import { adapterDeps } from '../../helpers/adapter.js';
import { waitFor } from '../../helpers/core.js';

const log = quietLogger();
/** Limits scaled down so the runner's pacing shows in seconds, not minutes. */
const FAST: OutboundLimits = { perChat: [{ points: 50, durationMs: 1000 }], global: [{ points: 500, durationMs: 1000 }] };

// Each test gets its own Redis prefix, so a test's leftover jobs can never reach another test's runner.
let iso: Awaited<ReturnType<typeof isolatedRedis>>;
let inbound: InboundQueue;
let outbound: OutboundQueue;
const stops: (() => Promise<void>)[] = [];
beforeEach(async () => {
  iso = await isolatedRedis();
  inbound = new InboundQueue({ url: iso.url, keys: iso.keys });
  outbound = new OutboundQueue({ url: iso.url, keys: iso.keys });
});
afterEach(async () => {
  while (stops.length) await stops.pop()!();
  await inbound.close();
  await outbound.close();
  await iso.cleanup();
});

async function world(extra: Partial<XAdapterOptions> = {}) {
  const fake = await startXFake({ defaultRateLimit: { limit: 100_000, windowMs: 60_000 } });
  const make = async (more: Partial<XAdapterOptions> = {}) => {
    const deps = adapterDeps('x', { keys: iso.keys, redis: iso.redis, sink: inbound, log });
    stops.push(async () => deps.close());
    const adapter = createXAdapter(
      {
        credentials: { ...FAKE_X_CREDENTIALS },
        apiBaseUrl: fake.url,
        pollIntervalMs: 30,
        minPollIntervalMs: 10,
        errorBackoffMs: 20,
        rateLimitMarginMs: 10,
        limits: FAST,
        ...extra,
        ...more,
      },
      deps,
    );
    await adapter.init();
    stops.push(() => adapter.stop());
    return adapter;
  };
  stops.push(() => fake.close());
  return { fake, make };
}

function run(adapter: XAdapter): { runner: OutboundRunnerHandle; outcomes: { id: string; outcome: string; at: number }[] } {
  const outcomes: { id: string; outcome: string; at: number }[] = [];
  const runner = startOutboundRunner({ adapter, url: iso.url, keys: iso.keys, log, onOutcome: (a: Action, outcome) => outcomes.push({ id: a.id, outcome, at: Date.now() }) });
  stops.push(() => runner.close());
  return { runner, outcomes };
}

async function inboundEvents(): Promise<ChatEvent[]> {
  const jobs = await inbound.queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'prioritized']);
  return jobs.map((j) => j.data as ChatEvent);
}

let seq = 0;
const send = (fake: XFake, chat: string, extra: { text: string; replyTo?: string; ref?: string }): ActionInput & { text: string } => ({ v: 1, id: `e2e-${++seq}-${Date.now()}`, type: 'send', platform: 'x', chat: `x:${chat}`, priority: 'answer', ...extra });

describe('x end to end', () => {
  test('mentions land on the inbound queue once each, across a restart', async () => {
    const { fake, make } = await world();
    const chat = `conv-${Date.now()}`;
    await fake.injectMessage({ chat, user: { id: '701', name: 'Ann' }, text: 'first?' });
    const a = await make();
    await a.startInbound();
    await waitFor(async () => (await inboundEvents()).filter((e) => e.chat === `x:${chat}`).length === 1, 'first event');
    await a.stop();
    await fake.injectMessage({ chat, user: { id: '702', name: 'Ben' }, text: 'second?' });
    const b = await make();
    await b.startInbound();
    await waitFor(async () => (await inboundEvents()).filter((e) => e.chat === `x:${chat}`).length === 2, 'second event');
    await sleep(150);
    const mine = (await inboundEvents()).filter((e) => e.chat === `x:${chat}`);
    assert.deepEqual(mine.map((e) => e.text).sort(), ['@townhall_bot first?', '@townhall_bot second?']);
    assert.ok(mine.every((e) => e.platform === 'x' && e.user.id.startsWith('x:user:')));
  });

  test("the runner spreads a conversation's replies within the adapter's per-chat budget", async () => {
    const { fake, make } = await world({ limits: { perChat: [{ points: 2, durationMs: 1000 }], global: [{ points: 100, durationMs: 1000 }] } });
    const a = await make();
    const q = await fake.injectMessage({ chat: 'spread', user: { id: '703', name: 'Cy' }, text: 'many questions' });
    const { outcomes } = run(a);
    const actions = Array.from({ length: 5 }, (_, i) => send(fake, 'spread', { text: `answer ${i}`, replyTo: q.id }));
    await outbound.enqueue(actions);
    await waitFor(() => outcomes.filter((o) => o.outcome === 'sent').length === 5, 'five sends', 10_000);
    const posts = fake.requests.filter((r) => r.endpoint === X_ENDPOINTS.post && r.status === 201);
    assert.deepEqual(fake.outbox('spread').map((e) => e.text), actions.map((x) => x.text), 'in order');
    const span = posts.at(-1)!.at - posts[0]!.at;
    assert.ok(span >= 1500, `5 posts at 2 per second took ${span} ms`);
    for (let i = 2; i < posts.length; i++) assert.ok(posts[i]!.at - posts[i - 2]!.at >= 900, 'no more than 2 in any second');
  });

  test("a 429 from X delays the next send until X's reset, without hammering", async () => {
    const { fake, make } = await world();
    const a = await make();
    const q = await fake.injectMessage({ chat: 'limited', user: { id: '704', name: 'Di' }, text: 'q' });
    fake.failNext(429, { endpoint: X_ENDPOINTS.post, resetInMs: 1500 });
    const { outcomes } = run(a);
    await outbound.enqueue([send(fake, 'limited', { text: 'one', replyTo: q.id }), send(fake, 'limited', { text: 'two', replyTo: q.id })]);
    await waitFor(() => outcomes.filter((o) => o.outcome === 'sent').length === 2, 'both sent after the pause', 10_000);
    const posts = fake.requests.filter((r) => r.endpoint === X_ENDPOINTS.post);
    assert.equal(posts[0]!.status, 429);
    const reset = Math.ceil((posts[0]!.at + 1500) / 1000) * 1000;
    assert.equal(posts.filter((p) => p.status === 429).length, 1, 'one 429, then waited');
    assert.ok(posts[1]!.at >= reset - 50, `resumed ${reset - posts[1]!.at} ms before the reset`);
    assert.deepEqual(fake.outbox('limited').map((e) => e.text), ['one', 'two']);
  });

  test('a 403 reply-restricted post fails once and is not retried', async () => {
    const { fake, make } = await world();
    const a = await make();
    const root = fake.addPost({ author: { id: '705', name: 'Ed' }, text: 'limited replies', replySettings: 'mentionedUsers' });
    const q = fake.addPost({ author: '706', text: '@townhall_bot hello?', replyTo: root.id });
    const { outcomes } = run(a);
    const action = send(fake, root.id, { text: 'answer', replyTo: q.id });
    await outbound.enqueue([action]);
    await waitFor(() => outcomes.some((o) => o.outcome === 'failed'), 'the failure');
    await sleep(500);
    const job = await outbound.queue('x').getJob(action.id);
    assert.equal(await job?.getState(), 'failed');
    assert.equal(job?.attemptsMade, 1);
    assert.equal(fake.requests.filter((r) => r.endpoint === X_ENDPOINTS.post).length, 1, 'one attempt only');
  });

  test('a long answer through the runner arrives as one numbered thread', async () => {
    const { fake, make } = await world();
    const a = await make();
    const q = await fake.injectMessage({ chat: 'thread', user: { id: '707', name: 'Fay' }, text: 'explain it all' });
    const { outcomes } = run(a);
    const text = Array.from({ length: 20 }, (_, i) => `Part ${i} of the answer explains one more thing in detail.`).join(' ');
    await outbound.enqueue([send(fake, 'thread', { text, replyTo: q.id, ref: `ans-${Date.now()}` })]);
    await waitFor(() => outcomes.some((o) => o.outcome === 'sent'), 'thread sent');
    const out = fake.outbox('thread');
    assert.ok(out.length >= 4);
    assert.equal(out[0]!.replyTo, q.id);
    for (let i = 1; i < out.length; i++) assert.equal(out[i]!.replyTo, out[i - 1]!.messageId);
    assert.ok(out.every((e, i) => e.text!.endsWith(` ${i + 1}/${out.length}`)));
  });
});
