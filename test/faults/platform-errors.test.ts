/**
 * Telegram answering 500s and 429s (retry_after) for 30 seconds while people keep writing: the runner and the
 * adapter's long poll back off instead of hammering the API, nothing is lost, and once the API recovers every
 * command is answered exactly once.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DeadLetterStore } from '../../src/queue/dead-letter.js';
import { waitFor } from '../helpers/core.js';
import { isolatedRedis } from '../helpers/redis.js';
import { startTelegramFake } from '../../fakes/telegram/index.js';
import { startFaultProxy, type InjectedAnswer } from './fault-proxy.js';
import { groups, historyCount, InProcessStack, repliesTo, writeTraffic } from './harness.js';

const OUTAGE_MS = 30_000;
const iso = await isolatedRedis();
const fake = await startTelegramFake({ floodControl: false });
const proxy = await startFaultProxy(fake.url);
const stack = new InProcessStack(iso.url, iso.keys);

after(async () => {
  await stack.close();
  await proxy.close();
  await fake.close();
  await iso.cleanup();
});

const serverError: InjectedAnswer = { status: 500, body: { ok: false, error_code: 500, description: 'Internal Server Error' } };
const tooMany = (s: number): InjectedAnswer => ({ status: 429, body: { ok: false, error_code: 429, description: `Too Many Requests: retry after ${s}`, parameters: { retry_after: s } } });

test('500s and 429s for 30 s: backoff (no tight retry loop), no loss, every command answered exactly once afterwards', async (t) => {
  const chats = groups(6);
  stack.startCore();
  await stack.startTelegram(fake, proxy.url);
  const method = (p: string) => /\/bot[^/]+\/(\w+)/.exec(p)?.[1] ?? '';

  // Every call fails: sends with 500 or 429 (retry_after 1-3 s); one long poll in three too.
  const outageStart = Date.now();
  proxy.failFor(OUTAGE_MS, (req, n) => {
    if (method(req.path) === 'getUpdates' && n % 3 !== 0) return undefined;
    return n % 2 === 0 ? serverError : tooMany(1 + (n % 3));
  });
  // People keep writing for 20 s of the outage: 300 messages, 60 of them commands the bot must answer.
  const sent = await writeTraffic(fake, { n: 300, chats, users: 300, rate: 15, commandEvery: 5 });
  const commands = sent.filter((s) => s.command).map((s) => `${fake.chatId(s.chat)}/${s.id}`);
  await waitFor(() => Date.now() - outageStart > OUTAGE_MS, 'the end of the outage', OUTAGE_MS + 5000, 200);

  const during = proxy.requests.filter((r) => r.at >= outageStart && r.at < outageStart + OUTAGE_MS);
  const sends = during.filter((r) => method(r.path) === 'sendMessage');
  const polls = during.filter((r) => method(r.path) === 'getUpdates');
  const perSecond = new Map<number, number>();
  for (const r of sends) perSecond.set(Math.floor((r.at - outageStart) / 1000), (perSecond.get(Math.floor((r.at - outageStart) / 1000)) ?? 0) + 1);
  const peak = Math.max(0, ...perSecond.values());
  assert.ok(sends.length > 0 && sends.every((r) => r.injected), 'sends were tried during the outage, and all failed');
  // Each command's reply is tried a handful of times (backoff 1, 2, 4, 8, 16 s; a 429 waits its retry_after), not hundreds.
  assert.ok(sends.length <= commands.length * 6, `${sends.length} sendMessage calls for ${commands.length} replies in 30 s`);
  assert.ok(peak <= 20, `at most 20 sendMessage calls in any second (peak ${peak})`);
  assert.ok(polls.length <= 90, `the long poll backs off too (${polls.length} getUpdates in 30 s)`);

  await waitFor(async () => (await stack.handled()) >= sent.length && (await stack.backlog('inbound')) === 0, 'every message handled', 30_000, 100);
  await waitFor(async () => commands.every((k) => repliesTo(fake).has(k)) && (await stack.backlog('outbound')) === 0, 'every command answered after the outage', 40_000, 100);
  assert.equal(await stack.handled(), sent.length, 'every message handled once');
  assert.equal(await historyCount(stack.redis, stack.keys, chats), sent.length - commands.length, 'every chat message is in the history');
  const replies = repliesTo(fake);
  assert.deepEqual(commands.filter((k) => replies.get(k) !== 1), [], 'every command answered exactly once');
  assert.equal(await new DeadLetterStore(stack.redis, stack.keys).count(), 0, 'nothing dead-lettered');
  t.diagnostic(`outage: ${sends.length} sendMessage calls (peak ${peak}/s) and ${polls.length} getUpdates for ${commands.length} replies; all answered ${((Date.now() - outageStart - OUTAGE_MS) / 1000).toFixed(1)} s after it ended`);
});
