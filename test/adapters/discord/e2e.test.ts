/** Discord end to end: the gateway into the real inbound queue, and the outbound runner driving the adapter within its limits. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Action, ActionInput } from '../../../src/core/actions.js';
import type { ChatEvent } from '../../../src/core/events.js';
import { quietLogger } from '../../../src/log.js';
import { InboundQueue } from '../../../src/queue/inbound.js';
import { OutboundQueue, startOutboundRunner, type OutboundRunnerHandle } from '../../../src/queue/outbound.js';
import { toJobId } from '../../../src/redis/keys.js';
import { discordHarness, type DiscordHarness } from './harness.js';

const A = '920000000000000001';
const B = '920000000000000002';
const C = '920000000000000003';
const ada = { id: '820000000000000001', name: 'Ada' };

const waitUntil = async (cond: () => boolean | Promise<boolean>, timeoutMs = 8000, what = 'condition') => {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('discord inbound through the inbound queue', () => {
  let h: DiscordHarness;
  let queue: InboundQueue;
  before(async () => {
    h = await discordHarness({
      setup: (f) => void f.createChannel(A),
      sink: ({ url, keys }) => (queue = new InboundQueue({ url, keys })),
    });
  });
  after(async () => {
    await h?.close();
    await queue?.close();
  });

  test('gateway events become inbound jobs once each, even when a RESUME replays them', async () => {
    const ids: string[] = [];
    ids.push((await h.fake.injectMessage({ chat: A, user: ada, text: 'one' })).id);
    ids.push((await h.fake.injectMessage({ chat: A, user: ada, text: 'two' })).id);
    const jobId = (m: string) => toJobId(`discord/message/${A}/${m}`);
    await waitUntil(async () => (await queue.queue.getJob(jobId(ids[1]!))) !== undefined, 5000, 'first jobs');
    h.fake.redeliverOnResume(2);
    const resumed = h.fake.nextResume();
    h.fake.forceReconnect();
    ids.push((await h.fake.injectMessage({ chat: A, user: ada, text: 'three' })).id);
    await resumed;
    await waitUntil(async () => (await queue.queue.getJob(jobId(ids[2]!))) !== undefined, 5000, 'third job');
    const jobs = await queue.queue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed']);
    const mine = jobs.filter((j) => (j.data as ChatEvent).chat === `discord:${A}`);
    assert.deepEqual(mine.map((j) => (j.data as ChatEvent).text).sort(), ['one', 'three', 'two']);
    assert.equal((mine[0]!.data as ChatEvent).user.id, `discord:user:${ada.id}`);
  });

  test('a slash command reaches the queue with a reply handle and is deferred in time', async () => {
    const it = await h.fake.injectSlashCommand({ chat: A, user: ada, name: 'questions' });
    const job = toJobId(`discord/interaction/${it.id}`);
    await waitUntil(async () => (await queue.queue.getJob(job)) !== undefined, 5000, 'command job');
    const ev = (await queue.queue.getJob(job))!.data as ChatEvent;
    assert.equal(ev.kind, 'command');
    assert.equal(ev.text, '/questions');
    await h.fake.awaitCall((c) => c.path.startsWith(`/interactions/${it.id}/`));
    const rec = h.fake.interactionById(it.id)!;
    assert.ok(rec.respondedAt, 'acknowledged (the fake refuses an acknowledgement after Discord\'s 3 s window)');
  });
});

describe('discord outbound through the outbound runner', () => {
  let h: DiscordHarness;
  let out: OutboundQueue;
  let runner: OutboundRunnerHandle;
  const outcomes: { action: Action; outcome: string; detail?: string | undefined; at: number }[] = [];
  let n = 0;
  const send = (chat: string, text: string): ActionInput => ({ v: 1, id: `e2e-${++n}`, type: 'send', platform: 'discord', chat: `discord:${chat}`, text });

  before(async () => {
    h = await discordHarness({
      inbound: false,
      // Discord-like enforcement in the fake (5 per second per channel), and the adapter's declared budget under it,
      // scaled down from "5 per 5 s" so the test takes seconds.
      fake: { limits: [{ method: 'POST', path: /^\/channels\/([^/]+)\/messages$/, points: 5, windowMs: 1000 }] },
      adapter: { limits: { perChat: [{ points: 2, durationMs: 1000 }], global: [{ points: 100, durationMs: 1000 }] } },
      setup: (f) => {
        f.createChannel(A);
        f.createChannel(B);
        f.createChannel(C);
      },
    });
    out = new OutboundQueue({ url: h.url, keys: h.keys });
    runner = startOutboundRunner({
      adapter: h.adapter,
      url: h.url,
      keys: h.keys,
      log: quietLogger(),
      onOutcome: (action, outcome, detail) => outcomes.push({ action, outcome, detail, at: Date.now() }),
    });
  });
  after(async () => {
    await runner?.close();
    await out?.close();
    await h?.close();
  });

  test("sends to one chat are spread out by the adapter's limits and keep their order", async () => {
    const texts = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
    const t0 = Date.now();
    await out.enqueue(texts.map((t) => send(A, t)));
    await waitUntil(() => h.fake.messagesIn(A).length === 6, 10_000, 'six messages');
    const msgs = h.fake.messagesIn(A);
    assert.deepEqual(msgs.map((m) => m.content), texts);
    const times = msgs.map((m) => Date.parse(m.timestamp));
    // Two per second: six messages span at least two more windows.
    assert.ok(times[5]! - t0 >= 1800, `spread over ${times[5]! - t0} ms`);
    for (let i = 0; i < times.length; i++) {
      const inWindow = times.filter((t) => t >= times[i]! && t < times[i]! + 1000).length;
      assert.ok(inWindow <= 4, `at most 4 in any second, saw ${inWindow}`);
    }
    assert.equal(h.fake.rest.limited, 0, 'the platform never had to refuse');
  });

  test("a 429 delays that chat's next send while other chats keep flowing", async () => {
    h.fake.failNext({ method: 'POST', path: `/channels/${B}/messages`, status: 429, retryAfterMs: 1500 });
    await out.enqueue([send(B, 'b1'), send(B, 'b2'), send(C, 'c1'), send(C, 'c2')]);
    await waitUntil(() => h.fake.messagesIn(B).length === 2 && h.fake.messagesIn(C).length === 2, 10_000, 'all four');
    const limitedAt = h.fake.calls.find((c) => c.forced && c.path === `/channels/${B}/messages`)!.at;
    const [b1, b2] = h.fake.messagesIn(B).map((m) => ({ text: m.content, at: Date.parse(m.timestamp) }));
    const cs = h.fake.messagesIn(C).map((m) => Date.parse(m.timestamp));
    assert.deepEqual([b1!.text, b2!.text], ['b1', 'b2'], 'order kept in the limited chat');
    assert.ok(b1!.at - limitedAt >= 1400, `b1 waited ${b1!.at - limitedAt} ms`);
    assert.ok(cs.every((t) => t < b1!.at), 'the other chat was not held up');
    assert.ok(outcomes.some((o) => o.outcome === 'delayed' && o.action.chat === `discord:${B}` && /chat paused/.test(o.detail ?? '')));
  });

  test('a 403 fails the action for good without retrying', async () => {
    h.fake.failNext({ path: `/channels/${C}/messages`, status: 403, times: 5 });
    const before = h.fake.calls.filter((c) => c.path === `/channels/${C}/messages`).length;
    await out.enqueue([send(C, 'forbidden')]);
    await waitUntil(() => outcomes.some((o) => o.outcome === 'failed' && o.action.chat === `discord:${C}`), 5000, 'failure');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(h.fake.calls.filter((c) => c.path === `/channels/${C}/messages`).length - before, 1);
  });
});
