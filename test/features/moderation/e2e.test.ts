/**
 * Moderation end to end: platform fakes, the real adapters (telegraf, discord.js), the inbound queue and worker, the
 * core pipeline with moderation first, and the outbound runners, all on a real Redis.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { createTelegramAdapter } from '../../../adapters/telegram/index.js';
import type { PlatformAdapter } from '../../../src/core/index.js';
import { ConfigSchema } from '../../../config/schema.js';
import { CommandRegistry, helpCommand } from '../../../src/commands/router.js';
import { createModeration } from '../../../src/features/moderation/index.js';
import { quietLogger } from '../../../src/log.js';
import { readAudit } from '../../../src/pipeline/audit.js';
import type { CoreDeps } from '../../../src/pipeline/context.js';
import { createHandleEvent, type Feature } from '../../../src/pipeline/handle-event.js';
import { InboundQueue } from '../../../src/queue/inbound.js';
import { startInboundWorker } from '../../../src/queue/inbound-worker.js';
import { OutboundQueue, startOutboundRunner } from '../../../src/queue/outbound.js';
import type { Keys } from '../../../src/redis/keys.js';
import { discordHarness, type DiscordHarness } from '../../adapters/discord/harness.js';
import { startTelegramFake, type TelegramFake } from '../../../fakes/telegram/index.js';
import { waitFor } from '../../helpers/core.js';
import { isolatedRedis } from '../../helpers/redis.js';
import { adapterDeps } from '../../helpers/adapter.js';

const FAST_LIMITS = { perChat: [{ points: 10_000, durationMs: 1000 }], global: [{ points: 10_000, durationMs: 1000 }] };

/** The core (moderation + router + a recorder) behind an inbound worker, and an outbound runner for one adapter. */
function startCore(opts: { redis: Redis; keys: Keys; url: string; adapter: PlatformAdapter }) {
  const outbound = new OutboundQueue({ url: opts.url, keys: opts.keys });
  const deps: CoreDeps = { redis: opts.redis, keys: opts.keys, config: ConfigSchema.parse({}), outbound, log: quietLogger(), now: Date.now };
  const registry = new CommandRegistry();
  const mod = createModeration(deps);
  registry.register(...mod.commands, helpCommand(registry));
  const passed: string[] = [];
  const recorder: Feature = { name: 'recorder', middleware: async (ctx, next) => (passed.push(ctx.event.text ?? ctx.event.kind), next()) };
  const handle = createHandleEvent(deps, [mod.feature, registry.feature(), recorder]);
  const worker = startInboundWorker({ url: opts.url, keys: opts.keys, handle, log: quietLogger(), concurrency: 8 });
  const runner = startOutboundRunner({ adapter: opts.adapter, url: opts.url, keys: opts.keys, log: quietLogger() });
  return {
    deps,
    passed,
    close: async () => {
      await worker.close();
      await runner.close();
      await outbound.close();
    },
  };
}

describe('moderation on Telegram (telegraf against the fake Bot API)', () => {
  const CHAT = '-1001000000777';
  let fake: TelegramFake;
  let iso: Awaited<ReturnType<typeof isolatedRedis>>;
  let inbound: InboundQueue;
  let adapter: PlatformAdapter;
  let core: ReturnType<typeof startCore>;
  let tgDeps: ReturnType<typeof adapterDeps> | undefined;
  const admin = { id: '501', name: 'Changpeng Zhao', username: 'cz_admin', admin: true };
  const shortAdmin = { id: '502', name: 'CZ', admin: true };
  const bob = { id: '601', name: 'Bob', username: 'bob_tg' };
  const carol = { id: '602', name: 'Carol', username: 'carol_tg' };
  const sends = (re: RegExp) => fake.calls('sendMessage').filter((c) => re.test(String(c.params.text ?? '')));

  before(async () => {
    fake = await startTelegramFake({ floodControl: false });
    iso = await isolatedRedis();
    inbound = new InboundQueue({ url: iso.url, keys: iso.keys });
    adapter = createTelegramAdapter(
      { token: fake.token, apiRoot: fake.url, pollTimeoutSeconds: 1, retryDelayMs: 50, adminCacheMs: 60_000, registerCommands: false, limits: FAST_LIMITS },
      (tgDeps = adapterDeps('telegram', { keys: iso.keys, redis: iso.redis, sink: inbound })),
    );
    await adapter.init();
    core = startCore({ redis: iso.redis, keys: iso.keys, url: iso.url, adapter });
    await adapter.startInbound();
    for (const u of [admin, shortAdmin, bob, carol]) await fake.injectMessage({ chat: CHAT, user: u, text: `hi, I am ${u.name}` });
    await waitFor(() => core.passed.filter((p) => p.startsWith('hi, I am')).length === 4, 'the introductions');
  });
  after(async () => {
    await adapter?.stop();
    tgDeps?.close();
    await core?.close();
    await inbound?.close();
    await fake?.close();
    await iso?.cleanup();
  });

  test("a non-moderator's /ban is refused in one line and logged, and the fake shows no ban", async () => {
    await fake.injectMessage({ chat: CHAT, user: bob, text: '/ban @carol_tg' });
    await fake.waitForCall('sendMessage', (c) => c.params.text === 'Only moderators can use /ban.');
    assert.equal(fake.calls('banChatMember').length, 0);
    assert.ok(!fake.outbox().some((o) => o.type === 'ban'));
    const refused = (await readAudit(iso.redis, iso.keys, `telegram:${CHAT}`)).find((x) => x.action === 'refused');
    assert.equal(refused?.by, 'telegram:user:601');
  });

  test("a moderator's /mute @user 10m calls restrictChatMember with until_date 10 minutes ahead", async () => {
    const before = Math.floor(Date.now() / 1000);
    await fake.injectMessage({ chat: CHAT, user: admin, text: '/mute @carol_tg 10m' });
    const call = await fake.waitForCall('restrictChatMember', (c) => String(c.params.user_id) === '602');
    const until = Number(call.params.until_date);
    assert.ok(until >= before + 600 && until <= Math.ceil(Date.now() / 1000) + 601, `until_date ${until} is now + 600 s`);
    const perms = (typeof call.params.permissions === 'string' ? JSON.parse(call.params.permissions) : call.params.permissions) as Record<string, boolean>;
    assert.equal(perms.can_send_messages, false);
    await fake.waitForCall('sendMessage', (c) => c.params.text === 'Muted @carol_tg for 10m.');
  });

  test('impersonators of Changpeng Zhao (Cherokee Ꮯ) and CZ (zero-width space) are flagged', async () => {
    await fake.injectMessage({ chat: CHAT, user: { id: '701', name: 'Ꮯhangpeng Zhao' }, text: 'official announcement soon' });
    await fake.injectJoin({ chat: CHAT, user: { id: '702', name: 'C\u200BZ' } });
    await waitFor(async () => (await readAudit(iso.redis, iso.keys, `telegram:${CHAT}`)).filter((x) => x.action === 'flag').length === 2, 'two flags');
    const flags = (await readAudit(iso.redis, iso.keys, `telegram:${CHAT}`)).filter((x) => x.action === 'flag');
    assert.deepEqual(new Set(flags.map((f) => f.target)), new Set(['telegram:user:701', 'telegram:user:702']));
  });

  test('a "DM me for support" message and a seed-phrase request are deleted on the platform and reach nothing else', async () => {
    const lure = await fake.injectMessage({ chat: CHAT, user: { id: '711', name: 'Support Desk' }, text: 'Problems with withdrawals? DM me for support' });
    const seed = await fake.injectMessage({ chat: CHAT, user: { id: '712', name: 'Wallet Sync' }, text: 'Validate your wallet: send your 12 word seed phrase to the admin bot' });
    for (const id of [lure.id, seed.id]) {
      await waitFor(() => fake.outbox(CHAT).some((o) => o.type === 'delete' && o.messageId === id), `deletion of ${id}`);
    }
    assert.ok(!core.passed.some((p) => /DM me for support|seed phrase/.test(p)));
    assert.ok(fake.message(CHAT, lure.id) === undefined);
  });

  test('30 joins in 10 seconds turn quiet mode on: every joiner is restricted and the bot posts one notice', async () => {
    const users = Array.from({ length: 40 }, (_, i) => ({ id: String(9000 + i), name: `Raider ${i}` }));
    for (const u of users) await fake.injectJoin({ chat: CHAT, user: u });
    await waitFor(() => new Set(fake.calls('restrictChatMember').map((c) => String(c.params.user_id)).filter((id) => id.startsWith('90'))).size === 40, 'all raiders restricted', 20_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sends(/^Raid detected/).length, 1);
    assert.ok(await iso.redis.exists(iso.keys.k('mod', 'quiet', `telegram:${CHAT}`)));
  });

  test('markup in echoed text reaches Telegram literally: no parse error, no formatting, no mass mention', async () => {
    await fake.injectMessage({ chat: CHAT, user: shortAdmin, text: '/ban @bob_tg <b>x</b> *y* [z](http://evil.example) `c` \u202Eabc @everyone' });
    const call = await fake.waitForCall('sendMessage', (c) => String(c.params.text ?? '').includes('Banned'));
    assert.equal(call.status, 200);
    const result = call.result as { message_id: number; text: string; entities?: { type: string }[] };
    assert.equal(result.text, 'Banned @bob_tg: <b>x</b> *y* [z](http://evil.example) `c` abc ＠everyone.');
    assert.ok(!(result.entities ?? []).some((e) => ['bold', 'italic', 'code', 'text_link'].includes(e.type)));
    await fake.waitForCall('banChatMember', (c) => String(c.params.user_id) === '601');
  });
});

describe('moderation on Discord (discord.js against the fake gateway and REST)', () => {
  const CHANNEL = '910000000000000001';
  let h: DiscordHarness;
  let core: ReturnType<typeof startCore>;
  let inbound: InboundQueue | undefined;
  const mod = { id: '810000000000000001', name: 'Mo Derator', admin: true };
  const eve = { id: '810000000000000002', name: 'Eve' };

  before(async () => {
    h = await discordHarness({
      adapter: { limits: FAST_LIMITS },
      sink: (x) => (inbound = new InboundQueue({ url: x.url, keys: x.keys })),
      setup: (fake) => {
        fake.createChannel(CHANNEL, { name: 'general' });
        fake.addModerator(mod);
      },
    });
    core = startCore({ redis: h.redis, keys: h.keys, url: h.url, adapter: h.adapter });
  });
  after(async () => {
    await core?.close();
    await h?.close();
    await inbound?.close();
  });

  test("a moderator's /mute <@user> 10m times the member out for 10 minutes", async () => {
    await h.fake.injectMessage({ chat: CHANNEL, user: eve, text: 'hello' });
    const before = Date.now();
    await h.fake.injectMessage({ chat: CHANNEL, user: mod, text: `/mute <@${eve.id}> 10m` });
    const call = await h.fake.awaitCall((c) => c.method === 'PATCH' && c.path.endsWith(`/members/${eve.id}`), 15_000);
    const until = Date.parse((call.body as { communication_disabled_until: string }).communication_disabled_until);
    assert.ok(until >= before + 600_000 - 1000 && until <= Date.now() + 600_000 + 1000, 'a 10-minute timeout');
  });

  test("a non-moderator's /ban is refused and Discord sees no ban", async () => {
    await h.fake.injectMessage({ chat: CHANNEL, user: eve, text: `/ban <@${mod.id}>` });
    await h.fake.awaitCall((c) => c.method === 'POST' && c.path === `/channels/${CHANNEL}/messages` && JSON.stringify(c.body).includes('Only moderators can use /ban.'), 15_000);
    assert.ok(!h.fake.calls.some((c) => c.method === 'PUT' && c.path.includes('/bans/')));
  });
});
