/**
 * SIGKILL in the middle of a 10,000-message replay: one of two core worker processes and the outbound worker process
 * die with jobs in hand. Every message is still handled exactly once, and every reply is sent exactly once — except
 * a send the killed runner had in flight at the instant of the kill, which Telegram may or may not have received
 * (its Bot API has no idempotency key); such a send is retried, so it is never lost, and at most duplicated once.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { waitFor } from '../helpers/core.js';
import { isolatedRedis } from '../helpers/redis.js';
import { startTelegramFake } from '../../fakes/telegram/index.js';
import { groups, historyCount, InProcessStack, repliesTo, sigkill, startRoleChild, writeConfig, writeTraffic, type Sent } from './harness.js';

const N = 10_000;
const COMMAND_EVERY = 20;

const iso = await isolatedRedis();
const fake = await startTelegramFake({ floodControl: false });
const configFile = writeConfig(iso.keys.prefix, fake.url);
const env = { REDIS_URL: iso.url, TOWNHALL_CONFIG: configFile, TELEGRAM_BOT_TOKEN: fake.token, LOG_LEVEL: 'silent' };
const stack = new InProcessStack(iso.url, iso.keys);
const children: ChildProcess[] = [];

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await stack.close();
  await fake.close();
  await iso.cleanup();
  rmSync(configFile, { force: true });
});

test('core and outbound workers SIGKILLed mid-replay: all 10,000 messages handled once, every reply sent (once unless in flight at the kill)', async (t) => {
  const chats = groups(10);
  // Two core workers and one outbound worker, each its own process, as `townhall worker --role …` runs them.
  const [coreA, coreB, runnerA] = await Promise.all([startRoleChild('core', env), startRoleChild('core', env), startRoleChild('outbound', env)]);
  children.push(coreA, coreB, runnerA);
  // The replay comes in the way live chat does: written into the fake, received by the adapter's long poll.
  await stack.startTelegram(fake, fake.url, { runner: false });

  const started = Date.now();
  if (process.env.DEBUG_FAULTS) {
    const timer = setInterval(() => {
      void (async () => {
        const oc = await stack.outbound.queue('telegram').getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
        const ic = await stack.inbound.queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
        console.error(((Date.now() - started) / 1000).toFixed(1), 'handled', await stack.handled(), 'in', JSON.stringify(ic), 'out', JSON.stringify(oc), 'replies', repliesTo(fake).size);
      })().catch(() => undefined);
    }, 2000);
    t.after(() => clearInterval(timer));
  }
  const replay = writeTraffic(fake, { n: N, chats, users: 3000, rate: 1000, commandEvery: COMMAND_EVERY });

  await waitFor(async () => (await stack.handled()) >= N * 0.3, '30% of the replay handled', 60_000, 20);
  await sigkill(coreA);
  const handledAtCoreKill = await stack.handled();

  await waitFor(() => [...repliesTo(fake).values()].length >= 100, '100 replies sent', 60_000, 20);
  await sigkill(runnerA);
  // Whatever the dead runner held is still 'active' until its lock runs out: those sends are in doubt.
  const inDoubt = new Set((await stack.outbound.queue('telegram').getJobs(['active'])).map((j) => `${String(j.data.chat).replace(/^telegram:/, '')}/${j.data.replyTo}`));
  const repliesAtRunnerKill = [...repliesTo(fake).values()].length;
  const runnerB = await startRoleChild('outbound', env);
  children.push(runnerB);

  const sent: Sent[] = await replay;
  assert.ok(handledAtCoreKill < N, 'the core worker died mid-replay');
  assert.ok(repliesAtRunnerKill < N / COMMAND_EVERY, 'the outbound worker died mid-replay');

  await waitFor(async () => (await stack.handled()) >= N && (await stack.backlog('inbound')) === 0, 'every message handled', 90_000, 100);
  const commands = sent.filter((s) => s.command).map((s) => `${fake.chatId(s.chat)}/${s.id}`);
  await waitFor(async () => commands.every((k) => repliesTo(fake).has(k)) && (await stack.backlog('outbound')) === 0, 'every command answered', 60_000, 100);

  assert.equal(await stack.handled(), N, 'each message handled exactly once (the count commits with its seen mark)');
  assert.equal(await historyCount(stack.redis, stack.keys, chats), N - commands.length, 'every chat message is in the history');
  const replies = repliesTo(fake);
  const twice = commands.filter((k) => replies.get(k)! > 1);
  for (const k of twice) assert.ok(inDoubt.has(k), `reply to ${k} sent ${replies.get(k)} times though it was not in flight at the kill`);
  for (const k of commands) assert.ok(replies.get(k)! <= 2, `reply to ${k} sent ${replies.get(k)} times`);
  assert.equal([...replies.keys()].filter((k) => !commands.includes(k)).length, 0, 'no reply to anything but the commands');
  t.diagnostic(`${N} messages in ${((Date.now() - started) / 1000).toFixed(1)} s; core killed at ${handledAtCoreKill} handled, runner killed at ${repliesAtRunnerKill} replies with ${inDoubt.size} in flight; duplicated: ${twice.length}`);
});
