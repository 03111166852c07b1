/**
 * Telegram end to end through the real queues: actions enqueued on the outbound queue are performed by the lead's
 * outbound runner through this adapter (real telegraf) against the fake Bot API, with scaled-down limits.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTelegramAdapter, type TelegramAdapter } from '../../../adapters/telegram/index.js';
import type { Action } from '../../../src/core/actions.js';
import { quietLogger } from '../../../src/log.js';
import { InboundQueue } from '../../../src/queue/inbound.js';
import { OutboundQueue, startOutboundRunner, type OutboundRunnerHandle } from '../../../src/queue/outbound.js';
import { toJobId } from '../../../src/redis/keys.js';
import { startTelegramFake, type TelegramFake } from '../../../fakes/telegram/index.js';

import { isolatedRedis } from '../../helpers/redis.js';
import { waitFor } from '../../helpers/core.js';
import { adapterDeps } from '../../helpers/adapter.js';

const G = '-1005000000001';
const OTHER = '-1005000000002';

describe('telegram through the inbound queue and the outbound runner', () => {
  let fake: TelegramFake;
  let iso: Awaited<ReturnType<typeof isolatedRedis>>;
  let adapter: TelegramAdapter;
  let runner: OutboundRunnerHandle;
  let outbound: OutboundQueue;
  let inbound: InboundQueue;
  let deps: ReturnType<typeof adapterDeps> | undefined;
  const outcomes: { action: Action; outcome: string; detail?: string; at: number }[] = [];

  before(async () => {
    fake = await startTelegramFake({ floodControl: false });
    iso = await isolatedRedis();
    inbound = new InboundQueue({ url: iso.url, keys: iso.keys });
    adapter = createTelegramAdapter(
      { token: fake.token, apiRoot: fake.url, pollTimeoutSeconds: 1, retryDelayMs: 50, limits: { perChat: [{ points: 50, durationMs: 1000 }], global: [{ points: 500, durationMs: 1000 }] } },
      (deps = adapterDeps('telegram', { keys: iso.keys, redis: iso.redis, sink: inbound })),
    );
    await adapter.init();
    await adapter.startInbound();
    runner = startOutboundRunner({ adapter, url: iso.url, keys: iso.keys, log: quietLogger(), onOutcome: (action, outcome, detail) => void outcomes.push({ action, outcome, at: Date.now(), ...(detail ? { detail } : {}) }) });
    outbound = new OutboundQueue({ url: iso.url, keys: iso.keys });
  });
  after(async () => {
    await runner?.close();
    await outbound?.close();
    await adapter?.stop();
    deps?.close();
    await inbound?.close();
    await fake?.close();
    await iso?.cleanup();
  });

  test('a question asked in a topic comes in with its ids, and the reply action goes back as a reply in that topic', async () => {
    const topic = fake.createTopic(G, 'AMA', { id: '10', name: 'Host', admin: true });
    const { id } = await fake.injectMessage({ chat: G, user: { id: '11', name: 'Asker' }, text: '/ask will there be a mobile app?', thread: topic });
    const eventId = `telegram/message/${G}/${id}`;
    await waitFor(async () => Boolean(await inbound.queue.getJob(toJobId(eventId))), 'the event in the inbound queue');
    const event = (await inbound.queue.getJob(toJobId(eventId)))!.data as { chat: string; messageId: string; kind: string };
    assert.deepEqual({ chat: event.chat, messageId: event.messageId, kind: event.kind }, { chat: `telegram:${G}:${topic}`, messageId: id, kind: 'command' });

    // What the core would answer with: a reply to that message, in that chat (topic included).
    await outbound.enqueue([{ v: 1, id: `reply-${id}`, type: 'send', platform: 'telegram', chat: event.chat, replyTo: event.messageId, text: 'Yes, in spring.' }]);
    await waitFor(() => fake.outbox(G).some((e) => e.text === 'Yes, in spring.'), 'the reply in the fake');
    const sent = fake.outbox(G).find((e) => e.text === 'Yes, in spring.')!;
    assert.equal(sent.thread, topic);
    assert.equal(sent.replyTo, id);
  });

  test("a 429 with retry_after 3 delays that chat's next send by about 3 s, other chats go on, and nothing is lost", async () => {
    await fake.injectMessage({ chat: OTHER, user: { id: '20', name: 'Other' }, text: 'hi' });
    fake.failNext('sendMessage', { code: 429, retryAfter: 3, chat: G });
    const start = outcomes.length;
    await outbound.enqueue([1, 2, 3].map((i) => ({ v: 1, id: `burst-${i}`, type: 'send' as const, platform: 'telegram' as const, chat: `telegram:${G}`, text: `burst ${i}` })));
    const refused = await fake.waitForCall('sendMessage', (c) => c.status === 429, 10_000);
    await outbound.enqueue([{ v: 1, id: 'other-1', type: 'send', platform: 'telegram', chat: `telegram:${OTHER}`, text: 'meanwhile elsewhere' }]);
    await waitFor(() => fake.outbox(G).filter((e) => e.text?.startsWith('burst')).length === 3, 'all three sends', 15_000);

    const burst = fake.outbox(G).filter((e) => e.text?.startsWith('burst'));
    assert.deepEqual(burst.map((e) => e.text), ['burst 1', 'burst 2', 'burst 3'], 'in order, none lost, none twice');
    const waited = burst[0]!.at - refused.at;
    assert.ok(waited >= 2900, `the chat waited ${waited} ms after the 429`);
    const elsewhere = fake.outbox(OTHER).find((e) => e.text === 'meanwhile elsewhere')!;
    assert.ok(elsewhere.at < burst[0]!.at, 'another chat was not held up by this chat\'s 429');
    assert.ok(outcomes.slice(start).some((o) => o.outcome === 'delayed' && o.detail?.includes('3000')), 'the runner paused the chat for retry_after');
  });
});
