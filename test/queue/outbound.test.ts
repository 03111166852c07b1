import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { ActionInput } from '../../src/core/actions.js';
import { PlatformError } from '../../src/core/errors.js';
import { outboundControl, startOutboundRunner } from '../../src/queue/outbound.js';
import { quietLogger } from '../../src/log.js';
import { RecordingAdapter } from '../helpers/recording-adapter.js';
import { testCore, waitFor } from '../helpers/core.js';

const t = await testCore();
after(t.cleanup);
const log = quietLogger();
const send = (id: string, platform: 'telegram' | 'discord', chat: string, extra: { priority?: 'moderation' | 'answer' | 'command' | 'digest' | 'ack' } = {}): ActionInput => ({ v: 1, id, type: 'send', platform, chat: `${platform}:${chat}`, text: id, ...extra });
/** What a platform says: a 429 for the whole bot or one chat, or a refusal of one chat (a 403). */
const refusal = (o: { scope: 'global' | 'per-chat'; code: number; retryAfterMs?: number; message: string }) => new PlatformError({ platform: 'telegram', method: 'sendMessage', ...o });

test("a 429 with retry-after pauses only that platform's outbound queue, for about that long", async () => {
  const tg = new RecordingAdapter('telegram');
  const dc = new RecordingAdapter('discord');
  tg.failNext.push(refusal({ scope: 'global', code: 429, retryAfterMs: 1500, message: 'Too Many Requests: retry after 1.5' }));
  const runners = [startOutboundRunner({ adapter: tg, url: t.url, keys: t.keys, log }), startOutboundRunner({ adapter: dc, url: t.url, keys: t.keys, log })];
  try {
    await t.outbound.enqueue([send('rl-tg-1', 'telegram', '1')]);
    await waitFor(() => tg.failNext.length === 0, 'the 429 to happen', 5000);
    const started = Date.now();
    await t.outbound.enqueue([send('rl-tg-2', 'telegram', '2'), send('rl-dc-1', 'discord', '1'), send('rl-dc-2', 'discord', '2')]);
    await waitFor(() => dc.performed.length === 2, 'discord actions', 5000);
    assert.equal(tg.performed.length, 0, 'telegram is paused');
    await waitFor(() => tg.performed.length === 2, 'telegram actions after the pause', 8000);
    const firstTg = Math.min(...tg.performed.map((p) => p.at));
    assert.ok(firstTg - started >= 1300, `telegram resumed after ${firstTg - started} ms`);
  } finally {
    await Promise.all(runners.map((r) => r.close()));
  }
});

test('a per-chat 429 delays that chat only; other chats keep flowing', async () => {
  const tg = new RecordingAdapter('telegram');
  tg.failNext.push(refusal({ scope: 'per-chat', code: 429, retryAfterMs: 2000, message: 'retry after 2' }));
  const r = startOutboundRunner({ adapter: tg, url: t.url, keys: t.keys, log });
  try {
    const started = Date.now();
    await t.outbound.enqueue([send('pc-a1', 'telegram', 'A'), send('pc-a2', 'telegram', 'A')]);
    await new Promise((res) => setTimeout(res, 200));
    await t.outbound.enqueue([send('pc-b1', 'telegram', 'B')]);
    await waitFor(() => tg.performed.some((p) => p.action.id === 'pc-b1'), 'chat B', 3000);
    assert.ok(!tg.performed.some((p) => p.action.chat === 'telegram:A'), 'chat A still waits');
    await waitFor(() => tg.performed.filter((p) => p.action.chat === 'telegram:A').length === 2, 'chat A after its pause', 8000);
    const a = tg.performed.filter((p) => p.action.chat === 'telegram:A');
    assert.ok(a[0]!.at - started >= 1900);
    assert.deepEqual(a.map((p) => p.action.id), ['pc-a1', 'pc-a2'], 'order kept');
  } finally {
    await r.close();
  }
});

test("a chat's actions go out in order, evenly spread within its budget", async () => {
  const tg = new RecordingAdapter('telegram', { perChat: [{ points: 5, durationMs: 1000 }], global: [{ points: 100, durationMs: 1000 }] });
  const r = startOutboundRunner({ adapter: tg, url: t.url, keys: t.keys, log, concurrency: 8 });
  try {
    const ids = Array.from({ length: 15 }, (_, i) => `ord-${String(i).padStart(2, '0')}`);
    await t.outbound.enqueue(ids.map((id) => send(id, 'telegram', 'ORD', { priority: 'digest' })));
    await waitFor(() => tg.performed.length === 15, 'all sent', 15_000);
    assert.deepEqual(tg.performed.map((p) => p.action.id), ids);
    const times = tg.performed.map((p) => p.at);
    for (let i = 5; i < times.length; i++) assert.ok(times[i]! - times[i - 5]! >= 900, `no more than 5 per second (gap ${times[i]! - times[i - 5]!} ms)`);
  } finally {
    await r.close();
  }
});

test('an action performed once is never performed again, even when enqueued again', async () => {
  const tg = new RecordingAdapter('telegram');
  const r = startOutboundRunner({ adapter: tg, url: t.url, keys: t.keys, log });
  try {
    await t.outbound.enqueue([send('once-1', 'telegram', 'ONCE')]);
    await waitFor(() => tg.performed.length === 1, 'first send');
    await new Promise((res) => setTimeout(res, 100));
    await t.outbound.enqueue([send('once-1', 'telegram', 'ONCE'), send('once-2', 'telegram', 'ONCE')]);
    await waitFor(() => tg.performed.some((p) => p.action.id === 'once-2'), 'second action');
    assert.equal(tg.performed.filter((p) => p.action.id === 'once-1').length, 1);
  } finally {
    await r.close();
  }
});

test('a 403 fails without retry, disables the chat and is dead-lettered', async () => {
  const tg = new RecordingAdapter('telegram');
  tg.failNext.push(refusal({ scope: 'per-chat', code: 403, message: 'Forbidden: bot was kicked' }));
  const r = startOutboundRunner({ adapter: tg, url: t.url, keys: t.keys, log });
  try {
    await t.outbound.enqueue([send('perm-1', 'telegram', 'GONE')]);
    await waitFor(async () => (await t.redis.sismember(t.keys.k('out', 'disabled', 'telegram'), 'telegram:GONE')) === 1, 'chat disabled');
    await t.outbound.enqueue([send('perm-2', 'telegram', 'GONE')]);
    await waitFor(async () => (await t.outbound.queue('telegram').getJobState('perm-2')) === 'failed', 'second action refused');
    assert.equal(tg.performed.length, 0);
    const failed = await t.outbound.queue('telegram').getJob('perm-1');
    assert.equal(failed?.attemptsMade, 1, 'not retried');
  } finally {
    await r.close();
  }
});

test("a chat the adapter says the bot is back in (resumeChat) gets actions again; a refusal of one action only does not stop the chat", async () => {
  const tg = new RecordingAdapter('telegram');
  tg.failNext.push(refusal({ scope: 'per-chat', code: 403, message: 'Forbidden: bot was kicked' }));
  const r = startOutboundRunner({ adapter: tg, url: t.url, keys: t.keys, log });
  try {
    await t.outbound.enqueue([send('back-1', 'telegram', 'BACK')]);
    await waitFor(async () => (await t.redis.sismember(t.keys.k('out', 'disabled', 'telegram'), 'telegram:BACK')) === 1, 'chat disabled');
    // The adapter saw the bot added back (a my_chat_member update): it tells the runner, never touching the runner's keys.
    await outboundControl(t.redis, t.keys, 'telegram').resumeChat('telegram:BACK:7');
    await t.outbound.enqueue([send('back-2', 'telegram', 'BACK')]);
    await waitFor(() => tg.performed.some((p) => p.action.id === 'back-2'), 'the action after the bot came back');

    tg.failNext.push(new PlatformError({ platform: 'telegram', method: 'pinChatMessage', code: 400, scope: 'permanent', message: 'message to pin not found' }));
    await t.outbound.enqueue([send('back-3', 'telegram', 'BACK'), send('back-4', 'telegram', 'BACK')]);
    await waitFor(() => tg.performed.some((p) => p.action.id === 'back-4'), 'the next action after a permanent refusal');
    assert.equal(await t.redis.sismember(t.keys.k('out', 'disabled', 'telegram'), 'telegram:BACK'), 0);
  } finally {
    await r.close();
  }
});

test('the runner resolves inRef into the chat an earlier action stored; the adapter gets a plain chat and no inRef', async () => {
  const tg = new RecordingAdapter('telegram');
  const r = startOutboundRunner({ adapter: tg, url: t.url, keys: t.keys, log });
  try {
    // What the runner stores for an action with `ref` (a thread it created): its chat.
    await t.redis.hset(t.keys.k('ref', 'ama-9-place'), 'platform', 'telegram', 'chat', 'telegram:-100:55', 'messageIds', '[]');
    await t.outbound.enqueue([{ v: 1, id: 'inref-1', type: 'send', platform: 'telegram', chat: 'telegram:-100', inRef: 'ama-9-place', text: 'into the topic' }]);
    await waitFor(() => tg.performed.some((p) => p.action.id === 'inref-1'), 'the action');
    const done = tg.performed.find((p) => p.action.id === 'inref-1')!.action;
    assert.equal(done.chat, 'telegram:-100:55');
    assert.ok(!('inRef' in done), 'adapters never see inRef');
  } finally {
    await r.close();
  }
});
