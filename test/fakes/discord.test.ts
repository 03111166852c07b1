/** The fake Discord as `townhall sandbox` uses it (contract §7), and the platform rules it must keep to be a fair test. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { REST, Routes } from 'discord.js';
import { createDiscordAdapter } from '../../adapters/discord/index.js';
import { isolatedRedis } from '../helpers/redis.js';
import { startDiscordFake } from '../../fakes/discord/index.js';
import { discordHarness, type DiscordHarness } from '../adapters/discord/harness.js';
import type { SandboxPlatform } from '../../src/core/index.js';
import { adapterDeps } from '../helpers/adapter.js';

/** Adapter stores opened by single tests, closed when the file is done. */
const closers: (() => void)[] = [];
after(() => closers.forEach((c) => c()));

describe('discord fake as a sandbox platform', () => {
  let h: DiscordHarness;
  before(async () => {
    h = await discordHarness();
  });
  after(async () => h.close());

  test('readable ids work end to end: a person asks, the bot replies, the outbox shows it', async () => {
    const sandbox: SandboxPlatform = h.fake;
    const { id } = await sandbox.injectMessage({ chat: 'general', user: { id: 'alice', name: 'Alice', admin: true }, text: '/ask What ships next?' });
    const ev = await h.recorder.next((e) => e.messageId === id);
    assert.equal(ev.chat, 'discord:general');
    assert.equal(ev.kind, 'command');
    assert.equal(ev.user.id, 'discord:user:alice');
    assert.equal(ev.user.isAdmin, true, 'admin: true makes the user a moderator of that chat');

    await h.adapter.perform({ v: 1, id: 'sb-1', type: 'send', platform: 'discord', chat: 'discord:general', text: 'Q1 noted', replyTo: id, format: 'plain', priority: 'command' });
    const out = sandbox.outbox('general');
    assert.equal(out.length, 1);
    assert.deepEqual({ type: out[0]!.type, chat: out[0]!.chat, replyTo: out[0]!.replyTo, text: out[0]!.text }, { type: 'send', chat: 'general', replyTo: id, text: 'Q1 noted' });

    await sandbox.injectReaction({ chat: 'general', message: id, user: 'bob', emoji: '👍' });
    await h.recorder.next((e) => e.kind === 'reaction' && e.messageId === id);
    await sandbox.injectJoin({ chat: 'general', user: { id: 'carol', name: 'Carol' } });
    const join = await h.recorder.next((e) => e.kind === 'join');
    assert.equal(join.chat, 'discord:general');

    const { id: inThread } = await sandbox.injectMessage({ chat: 'general', thread: 'q1-thread', user: { id: 'bob', name: 'Bob' }, text: 'in a thread' });
    assert.equal((await h.recorder.next((e) => e.messageId === inThread)).chat, 'discord:general:q1-thread');
  });

  test('guild-wide actions (bans, timeouts) show in the outbox of every chat', async () => {
    await h.adapter.perform({ v: 1, id: 'sb-2', type: 'ban', platform: 'discord', chat: 'discord:general', user: 'discord:user:bob', priority: 'moderation' });
    assert.ok(h.fake.outbox('general').some((o) => o.type === 'ban' && o.user === 'bob'));
  });
});

describe('discord gateway heartbeats', () => {
  let h: DiscordHarness;
  before(async () => {
    h = await discordHarness({ fake: { heartbeatIntervalMs: 150 } });
  });
  after(async () => h.close());

  test('the client connects with JSON and no compression, and its heartbeats are acknowledged', async () => {
    assert.deepEqual(Object.fromEntries(new URLSearchParams(h.fake.gateway.connectQueries[0])), { v: '10', encoding: 'json' });
    const start = h.fake.gateway.heartbeats;
    while (h.fake.gateway.heartbeats < start + 2) await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.adapter.status().connected, true);
  });

  test('a connection whose heartbeats go unanswered is dropped and resumed', async () => {
    const resumed = h.fake.nextResume(5000);
    h.fake.gateway.ackHeartbeats = false;
    try {
      await resumed;
    } finally {
      h.fake.gateway.ackHeartbeats = true;
    }
    const { id } = await h.fake.injectMessage({ chat: 'general', user: { id: 'dan', name: 'Dan' }, text: 'after the zombie' });
    await h.recorder.next((e) => e.messageId === id);
    assert.equal(h.fake.gateway.identifies, 1);
  });
});

describe('discord fake keeps platform rules', () => {
  test('a wrong token is refused, and the error does not echo it', async () => {
    const fake = await startDiscordFake({ token: 'the-right-token' });
    const r = await isolatedRedis();
    try {
      const deps = adapterDeps('discord', { keys: r.keys, redis: r.redis });
      closers.push(() => deps.close());
      const adapter = createDiscordAdapter({ token: 'a-wrong-token', apiBaseUrl: fake.url }, deps);
      const err = await adapter.init().then(() => null, (e: unknown) => e as Error);
      assert.ok(err);
      assert.match(err.message, /401/);
      assert.doesNotMatch(err.message, /wrong-token/);
      await adapter.stop();
    } finally {
      await fake.close();
      await r.cleanup();
    }
  });

  test('bulk delete refuses messages older than 14 days, interactions expire after the window', async () => {
    const fake = await startDiscordFake({ interactionWindowMs: 100 });
    try {
      const rest = new REST({ api: fake.url, retries: 0 }).setToken('t');
      const old = await fake.injectMessage({ chat: 'c', user: { id: 'u', name: 'U' }, text: 'old', at: Date.now() - 15 * 24 * 3600 * 1000 });
      const fresh = await fake.injectMessage({ chat: 'c', user: { id: 'u', name: 'U' }, text: 'new' });
      const err = await rest.post(Routes.channelBulkDelete('c'), { body: { messages: [old.id, fresh.id] } }).catch((e: unknown) => e as { code?: number });
      assert.equal((err as { code?: number }).code, 50034);

      const it = await fake.injectSlashCommand({ chat: 'c', user: { id: 'u', name: 'U' }, name: 'help' });
      await new Promise((r) => setTimeout(r, 150));
      const late = await rest.post(Routes.interactionCallback(it.id, it.token), { body: { type: 5 }, auth: false }).catch((e: unknown) => e as { code?: number });
      assert.equal((late as { code?: number }).code, 10062);
    } finally {
      await fake.close();
    }
  });

  test('application commands with a required option after an optional one are refused', async () => {
    const fake = await startDiscordFake();
    try {
      const rest = new REST({ api: fake.url, retries: 0 }).setToken('t');
      const bad = [{ name: 'x', description: 'x', type: 1, options: [{ type: 3, name: 'a', description: 'a' }, { type: 3, name: 'b', description: 'b', required: true }] }];
      const err = await rest.put(Routes.applicationCommands(fake.applicationId), { body: bad }).catch((e: unknown) => e as { status?: number });
      assert.equal((err as { status?: number }).status, 400);
    } finally {
      await fake.close();
    }
  });
});
