/**
 * The platforms hang up on the bot: Telegram's long poll is cut mid-request, the Discord gateway connection drops
 * without a close frame, X's filtered stream is cut. Each adapter reconnects and carries on, and what people wrote
 * while it was away still reaches the core and gets answered, once.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Redis } from 'ioredis';
import { createDiscordAdapter } from '../../adapters/discord/index.js';
import type { PlatformAdapter } from '../../src/core/index.js';
import { startOutboundRunner, type OutboundRunnerHandle } from '../../src/queue/outbound.js';
import type { Keys } from '../../src/redis/keys.js';
import { waitFor } from '../helpers/core.js';
import { isolatedRedis } from '../helpers/redis.js';
import { startDiscordFake } from '../../fakes/discord/index.js';
import { FAST } from '../adapters/discord/harness.js';
import { startTelegramFake } from '../../fakes/telegram/index.js';
import type { SandboxPlatform } from '../../src/core/index.js';
import { startXFake } from '../../fakes/x/index.js';
import { FAKE_X_CREDENTIALS, fakeXAdapter } from '../adapters/x/harness.js';
import { startFaultProxy } from './fault-proxy.js';
import { InProcessStack, WIDE_LIMITS } from './harness.js';

const TG_CHAT = '-1003000000001';
const DC_CHANNEL = '900000000000000777';
const X_CONVERSATION = '1900000000000000001';

const iso = await isolatedRedis();
const tg = await startTelegramFake({ floodControl: false });
const tgProxy = await startFaultProxy(tg.url);
const dc = await startDiscordFake({ token: 'test-bot-token' });
dc.createChannel(DC_CHANNEL, { name: 'general' });
const x = await startXFake({ defaultRateLimit: { limit: 100_000, windowMs: 60_000 }, streamKeepAliveMs: 100, credentials: { appKey: FAKE_X_CREDENTIALS.appKey, accessToken: FAKE_X_CREDENTIALS.accessToken } });
const stack = new InProcessStack(iso.url, iso.keys);
const extra: { adapters: PlatformAdapter[]; runners: OutboundRunnerHandle[]; closers: (() => void)[] } = { adapters: [], runners: [], closers: [] };

after(async () => {
  for (const a of extra.adapters) await a.stop().catch(() => undefined);
  for (const r of extra.runners) await r.close().catch(() => undefined);
  for (const c of extra.closers) c();
  await stack.close();
  await Promise.allSettled([tgProxy.close(), tg.close(), dc.close(), x.close()]);
  await iso.cleanup();
});

/** Native ids of the messages kept in a chat's history. */
async function kept(redis: Redis, keys: Keys, chat: string): Promise<Set<string>> {
  return new Set((await redis.lrange(keys.k('hist', chat), 0, -1)).map((l) => (JSON.parse(l) as { i: string }).i));
}

interface Platform {
  name: string;
  fake: SandboxPlatform;
  chat: string;
  prefixed: string;
  /** The command that gets a reply on this platform. */
  command: string;
}

test('long poll, gateway and stream cut twice: each adapter reconnects, every message written meanwhile is handled and every command answered once', async (t) => {
  stack.startCore();
  await stack.startTelegram(tg, tgProxy.url);
  const discord = createDiscordAdapter({ token: 'test-bot-token', apiBaseUrl: dc.url, registerCommands: 'off', ...FAST, limits: WIDE_LIMITS }, stack.adapterDeps('discord'));
  const xa = fakeXAdapter(x.url, { sink: stack.inbound, redis: stack.redis, keys: stack.keys, log: stack.deps.log }, { credentials: { ...FAKE_X_CREDENTIALS, bearerToken: 'fake-app-bearer' }, inbound: 'stream', maxPollIntervalMs: 60_000, streamKeepAliveMs: 1000, limits: WIDE_LIMITS });
  extra.closers.push(() => xa.closeStore());
  for (const a of [discord, xa]) {
    await a.init();
    extra.adapters.push(a);
    extra.runners.push(startOutboundRunner({ adapter: a, url: stack.url, keys: stack.keys, log: stack.deps.log }));
    await a.startInbound();
  }
  await waitFor(() => x.streamConnections() === 1, 'the X stream connected');

  const platforms: Platform[] = [
    { name: 'telegram', fake: tg, chat: TG_CHAT, prefixed: `telegram:${TG_CHAT}`, command: '/help' },
    { name: 'discord', fake: dc, chat: DC_CHANNEL, prefixed: `discord:${DC_CHANNEL}`, command: '/help' },
    // X refuses a post identical to an earlier one: the digest differs each time, a help text would not.
    { name: 'x', fake: x, chat: X_CONVERSATION, prefixed: `x:${X_CONVERSATION}`, command: '@townhall_bot summary' },
  ];
  const written = new Map<string, { chat: string; ids: string[]; commands: string[] }>(platforms.map((p) => [p.name, { chat: p.prefixed, ids: [], commands: [] }]));
  let seq = 0;
  const write = async (count: number) => {
    for (let i = 0; i < count; i++) {
      for (const p of platforms) {
        const n = seq++;
        const command = i === count - 1;
        const { id } = await p.fake.injectMessage({ chat: p.chat, user: { id: p.name === 'discord' ? `81000000000000${String(n % 40).padStart(4, '0')}` : String(80_000 + (n % 40)), name: `Person ${n % 40}` }, text: command ? p.command : `message ${n} about the bridge and the staking rewards` });
        const w = written.get(p.name)!;
        (command ? w.commands : w.ids).push(id);
      }
    }
  };
  const replies = (p: Platform) => {
    const m = new Map<string, number>();
    for (const e of p.fake.outbox()) if (e.type === 'send' && e.replyTo) m.set(e.replyTo, (m.get(e.replyTo) ?? 0) + 1);
    return m;
  };
  let missing = '';
  const allThrough = async () => {
    const gaps: string[] = [];
    for (const p of platforms) {
      const w = written.get(p.name)!;
      const ids = await kept(stack.redis, stack.keys, w.chat);
      const lost = w.ids.filter((id) => !ids.has(id)).length;
      const r = replies(p);
      const unanswered = w.commands.filter((id) => !r.has(id)).length;
      if (lost || unanswered) gaps.push(`${p.name}: ${lost} messages not handled, ${unanswered} commands not answered`);
    }
    missing = gaps.join('; ');
    if (missing && process.env.DEBUG_FAULTS) console.error(missing);
    return !missing;
  };

  await write(10);
  await waitFor(allThrough, 'the first messages handled and answered on every platform', 30_000, 100);

  for (let round = 1; round <= 2; round++) {
    const polls = tgProxy.requests.filter((r) => r.path.endsWith('/getUpdates')).length;
    const resumed = Promise.race([dc.nextResume(20_000), dc.nextIdentify(20_000)]);
    // All three hang up at once, and people keep writing while the bot is away.
    assert.ok(tgProxy.cut() > 0, 'a Telegram long poll was open and is cut');
    dc.dropConnection();
    x.dropStreams();
    await write(10);
    await resumed;
    await waitFor(() => x.streamConnections() === 1, `round ${round}: the X stream is back`, 20_000, 50);
    await waitFor(() => tgProxy.requests.filter((r) => r.path.endsWith('/getUpdates')).length > polls + 1, `round ${round}: Telegram polls again`, 20_000, 50);
    await waitFor(allThrough, `round ${round}: every message written during the outage handled and answered`, 30_000, 100);
  }

  for (const p of platforms) {
    const r = replies(p);
    const w = written.get(p.name)!;
    assert.deepEqual(w.commands.filter((id) => r.get(id) !== 1), [], `${p.name}: every command answered exactly once`);
  }
  t.diagnostic(`per platform: ${[...written.values()].map((w) => `${w.chat} ${w.ids.length} messages + ${w.commands.length} commands`).join('; ')}`);
});
