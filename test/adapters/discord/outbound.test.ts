/** Discord outbound: Actions performed by the real discord.js REST manager against the fake Discord API. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/errors.js';
import { discordHarness, type DiscordHarness } from './harness.js';
import { parseAction, type ActionFields, type AnyAction } from '../../helpers/core.js';

const GENERAL = '910000000000000001';
const RANDOM = '910000000000000002';
const FORUM = '910000000000000003';
const ada = { id: '810000000000000001', name: 'Ada' };
const bob = { id: '810000000000000002', name: 'Bob' };

let seq = 0;
/** An action with the defaults the queue would apply. */
function act(a: ActionFields & { chat: string }): AnyAction {
  return parseAction({ v: 1, id: `t-${++seq}`, platform: 'discord', priority: 'command', ...a });
}

describe('discord outbound', () => {
  let h: DiscordHarness;
  before(async () => {
    h = await discordHarness({
      inbound: false,
      setup: (fake) => {
        fake.createChannel(GENERAL, { name: 'general' });
        fake.createChannel(RANDOM, { name: 'random' });
        fake.createChannel(FORUM, { type: 'forum', name: 'questions' });
      },
    });
  });
  after(async () => h.close());

  test('a reply action appears in the fake as a reply to the question', async () => {
    const q = await h.fake.injectMessage({ chat: GENERAL, user: ada, text: 'Is there an API?' });
    const r = await h.adapter.perform(act({ type: 'send', chat: `discord:${GENERAL}`, text: 'Yes, see the docs.', replyTo: q.id }));
    const msg = h.fake.message(r.messageIds![0]!)!;
    assert.equal(msg.type, 19);
    assert.equal(msg.message_reference?.message_id, q.id);
    assert.equal(msg.content, 'Yes, see the docs.');
    assert.equal(r.chat, `discord:${GENERAL}`);
    const entry = h.fake.outbox(GENERAL).at(-1)!;
    assert.deepEqual({ type: entry.type, chat: entry.chat, replyTo: entry.replyTo }, { type: 'send', chat: GENERAL, replyTo: q.id });
  });

  test('a thread is started on a question message and the answer is posted in it', async () => {
    const q = await h.fake.injectMessage({ chat: GENERAL, user: bob, text: 'How do refunds work?' });
    const th = await h.adapter.perform(act({ type: 'thread', chat: `discord:${GENERAL}`, messageId: q.id, title: 'Q3: How do refunds work?' }));
    assert.equal(th.chat, `discord:${GENERAL}:${q.id}`, 'a thread on a message has the message id');
    assert.equal(h.fake.channel(q.id)?.parent_id, GENERAL);
    assert.equal(h.fake.channel(q.id)?.name, 'Q3: How do refunds work?');

    const ans = await h.adapter.perform(act({ type: 'send', chat: th.chat!, text: 'Within 14 days, no questions asked.' }));
    assert.equal(h.fake.message(ans.messageIds![0]!)?.channel_id, q.id);
    const out = h.fake.outbox(GENERAL).slice(-2);
    assert.deepEqual(out.map((o) => [o.type, o.chat, o.thread]), [['thread', GENERAL, q.id], ['send', GENERAL, q.id]]);

    // Retried after a crash: the same thread is found, not an error.
    const again = await h.adapter.perform(act({ type: 'thread', chat: `discord:${GENERAL}`, messageId: q.id, title: 'again' }));
    assert.equal(again.chat, th.chat);
  });

  test('a send to the chat id of a thread made earlier posts inside that thread', async () => {
    const q = await h.fake.injectMessage({ chat: GENERAL, user: bob, text: 'Another question?' });
    const th = await h.adapter.perform(act({ type: 'thread', chat: `discord:${GENERAL}`, messageId: q.id, title: 'Q4' }));
    // The outbound runner resolves an action's inRef into this chat id before the adapter sees it.
    const r = await h.adapter.perform(act({ type: 'send', chat: th.chat!, text: 'Answer in the thread' }));
    assert.equal(r.chat, th.chat);
    assert.equal(h.fake.message(r.messageIds![0]!)?.channel_id, q.id);
  });

  test('a thread action on a forum channel opens a forum post with the text', async () => {
    const r = await h.adapter.perform(act({ type: 'thread', chat: `discord:${FORUM}`, title: 'AMA recap', text: 'Here is what was answered.' }));
    const threadId = r.chat!.split(':')[2]!;
    assert.equal(h.fake.channel(threadId)?.parent_id, FORUM);
    assert.equal(h.fake.message(threadId)?.content, 'Here is what was answered.');
    assert.deepEqual(r.messageIds, [threadId]);
  });

  test('text above 2000 characters is split into several messages', async () => {
    const para = 'word '.repeat(300).trim();
    const text = [para, para, para].join('\n');
    const r = await h.adapter.perform(act({ type: 'send', chat: `discord:${RANDOM}`, text }));
    assert.equal(r.messageIds!.length, 3);
    const parts = r.messageIds!.map((id) => h.fake.message(id)!.content);
    for (const p of parts) assert.ok(p.length <= 2000);
    assert.equal(parts.join('\n'), text);
  });

  test('@everyone, @here and role pings in echoed user text never ping', async () => {
    const role = h.fake.createRole('Everyone-ish');
    const userText = `@everyone look! @here <@&${role}> <@${ada.id}>`;
    const plain = await h.adapter.perform(act({ type: 'send', chat: `discord:${GENERAL}`, text: userText }));
    const md = await h.adapter.perform(act({ type: 'send', chat: `discord:${GENERAL}`, text: `**Q1** by Bob: _${userText}_`, format: 'markdown' }));
    for (const id of [...plain.messageIds!, ...md.messageIds!]) {
      const m = h.fake.message(id)!;
      assert.equal(m.mention_everyone, false, m.content);
      assert.deepEqual(m.mention_roles, []);
      assert.deepEqual(m.mentions, []);
      assert.doesNotMatch(m.content, /@(everyone|here)/);
    }
    const call = h.fake.calls.filter((c) => c.method === 'POST' && c.path === `/channels/${GENERAL}/messages`).at(-1)!;
    assert.deepEqual((call.body as { allowed_mentions: unknown }).allowed_mentions, { parse: [], replied_user: false });
    assert.match(h.fake.message(md.messageIds![0]!)!.content, /^\*\*Q1\*\* by Bob: \*/);
  });

  test('edit, delete, pin and react reach the fake', async () => {
    const sent = await h.adapter.perform(act({ type: 'send', chat: `discord:${GENERAL}`, text: 'draft' }));
    const id = sent.messageIds![0]!;
    await h.adapter.perform(act({ type: 'edit', chat: `discord:${GENERAL}`, messageId: id, text: 'final' }));
    assert.equal(h.fake.message(id)?.content, 'final');
    await h.adapter.perform(act({ type: 'pin', chat: `discord:${GENERAL}`, messageId: id }));
    assert.equal(h.fake.message(id)?.pinned, true);
    await h.adapter.perform(act({ type: 'react', chat: `discord:${GENERAL}`, messageId: id, emoji: '✅' }));
    assert.ok(h.fake.message(id)?.reactionUsers?.get('✅')?.has(h.fake.botUser.id));
    await h.adapter.perform(act({ type: 'delete', chat: `discord:${GENERAL}`, messageId: id }));
    assert.equal(h.fake.message(id), undefined);
    // Deleting again (a retried job) is not an error.
    await h.adapter.perform(act({ type: 'delete', chat: `discord:${GENERAL}`, messageId: id }));
    const types = h.fake.outbox(GENERAL).filter((o) => o.messageId === id).map((o) => o.type);
    assert.deepEqual(types, ['send', 'edit', 'pin', 'react', 'delete']);
  });

  test('purge bulk-deletes recent messages and deletes ones older than 14 days one by one', async () => {
    const PURGE = '910000000000000009';
    h.fake.createChannel(PURGE);
    const old: string[] = [];
    for (let i = 0; i < 2; i++) old.push((await h.fake.injectMessage({ chat: PURGE, user: ada, text: `old ${i}`, at: Date.now() - 20 * 24 * 3600 * 1000 + i })).id);
    const recent: string[] = [];
    for (let i = 0; i < 4; i++) recent.push((await h.fake.injectMessage({ chat: PURGE, user: bob, text: `spam ${i}` })).id);
    const before = h.fake.calls.length;
    const r = await h.adapter.perform(act({ type: 'purge', chat: `discord:${PURGE}`, count: 6 }));
    assert.equal(r.messageIds!.length, 6);
    assert.equal(h.fake.messagesIn(PURGE).length, 0);
    const calls = h.fake.calls.slice(before);
    const bulk = calls.filter((c) => c.path.endsWith('/bulk-delete'));
    assert.equal(bulk.length, 1);
    assert.deepEqual(new Set((bulk[0]!.body as { messages: string[] }).messages), new Set(recent));
    const single = calls.filter((c) => c.method === 'DELETE').map((c) => c.path.split('/').pop());
    assert.deepEqual(new Set(single), new Set(old));
    assert.ok(calls.every((c) => c.status < 400), 'no call refused');
  });

  test('ban and unban, timeout and lifting it, and slow mode', async () => {
    await h.fake.injectMessage({ chat: GENERAL, user: bob, text: 'spam' });
    await h.adapter.perform(act({ type: 'ban', chat: `discord:${GENERAL}`, user: `discord:user:${bob.id}`, reason: 'spam links' }));
    assert.equal(h.fake.state.bans.get(bob.id)?.reason, 'spam links');
    await h.adapter.perform(act({ type: 'unban', chat: `discord:${GENERAL}`, user: `discord:user:${bob.id}` }));
    assert.equal(h.fake.state.bans.has(bob.id), false);
    await h.adapter.perform(act({ type: 'unban', chat: `discord:${GENERAL}`, user: `discord:user:${bob.id}` }));

    await h.fake.injectMessage({ chat: GENERAL, user: ada, text: 'loud' });
    const until = Date.now() + 10 * 60 * 1000;
    await h.adapter.perform(act({ type: 'mute', chat: `discord:${GENERAL}`, user: `discord:user:${ada.id}`, until }));
    assert.equal(Date.parse(h.fake.state.members.get(ada.id)!.communication_disabled_until!), until);
    await h.adapter.perform(act({ type: 'unmute', chat: `discord:${GENERAL}`, user: `discord:user:${ada.id}` }));
    assert.equal(h.fake.state.members.get(ada.id)!.communication_disabled_until, null);

    await h.adapter.perform(act({ type: 'slowmode', chat: `discord:${GENERAL}`, seconds: 30 }));
    assert.equal(h.fake.channel(GENERAL)?.rate_limit_per_user, 30);
    await h.adapter.perform(act({ type: 'slowmode', chat: `discord:${GENERAL}`, seconds: 0 }));
    assert.equal(h.fake.channel(GENERAL)?.rate_limit_per_user, 0);

    const types = h.fake.outbox(GENERAL).filter((o) => ['ban', 'unban', 'mute', 'unmute'].includes(o.type));
    assert.deepEqual(types.map((o) => o.type), ['ban', 'unban', 'mute', 'unmute']);
    assert.equal(types[2]!.until, until);
  });

  test('a DM opens a private channel once and sends into it', async () => {
    await h.fake.injectMessage({ chat: GENERAL, user: ada, text: 'hi' });
    const a = await h.adapter.perform(act({ type: 'dm', chat: `discord:${GENERAL}`, user: `discord:user:${ada.id}`, text: 'Your catch-up: …' }));
    const b = await h.adapter.perform(act({ type: 'dm', chat: `discord:${GENERAL}`, user: `discord:user:${ada.id}`, text: 'Another' }));
    assert.equal(a.chat, b.chat);
    assert.equal(h.fake.channel(a.chat!.split(':')[1]!)?.type, 1);
    assert.equal(h.fake.calls.filter((c) => c.path === '/users/@me/channels').length, 1, 'DM channel id cached in Redis');
  });

  test('the same send performed twice (a retried job) posts once', async () => {
    const a = act({ type: 'send', chat: `discord:${RANDOM}`, text: 'exactly once' });
    const r1 = await h.adapter.perform(a);
    const r2 = await h.adapter.perform(a);
    assert.deepEqual(r1.messageIds, r2.messageIds);
    assert.equal(h.fake.messagesIn(RANDOM).filter((m) => m.content === 'exactly once').length, 1);
  });

  test('a 429 on one channel delays that channel only', async () => {
    h.fake.failNext({ method: 'POST', path: `/channels/${GENERAL}/messages`, status: 429, retryAfterMs: 3000 });
    const t0 = Date.now();
    const err = await h.adapter.perform(act({ type: 'send', chat: `discord:${GENERAL}`, text: 'limited' })).catch((e: unknown) => e);
    assert.ok(err instanceof PlatformError && err.rateLimited, String(err));
    assert.ok(err.retryAfterMs! > 0 && err.retryAfterMs! <= 3200, `retry after ${err.retryAfterMs}`);
    assert.equal(err.scope, 'per-chat');

    // Another channel goes through: its bucket is open.
    const other = await h.adapter.perform(act({ type: 'send', chat: `discord:${RANDOM}`, text: 'not limited' }));
    assert.equal(other.messageIds!.length, 1);

    // The limited channel's bucket is still closed (so the other channel did not wait for it): refused without even calling Discord.
    const callsBefore = h.fake.calls.length;
    const again = await h.adapter.perform(act({ type: 'send', chat: `discord:${GENERAL}`, text: 'too soon' })).catch((e: unknown) => e);
    assert.ok(again instanceof PlatformError && again.rateLimited);
    assert.equal(h.fake.calls.length, callsBefore);

    await new Promise((r) => setTimeout(r, Math.max(0, 3100 - (Date.now() - t0))));
    const later = await h.adapter.perform(act({ type: 'send', chat: `discord:${GENERAL}`, text: 'later' }));
    assert.equal(later.messageIds!.length, 1);
  });

  test('a global 429 is reported as global', async () => {
    h.fake.failNext({ method: 'POST', path: `/channels/${RANDOM}/messages`, status: 429, retryAfterMs: 300, global: true });
    const err = await h.adapter.perform(act({ type: 'send', chat: `discord:${RANDOM}`, text: 'global' })).catch((e: unknown) => e);
    assert.ok(err instanceof PlatformError && err.rateLimited);
    assert.equal(err.scope, 'global');
    await new Promise((r) => setTimeout(r, 400));
  });

  test('403 refuses the channel and 404 the action, logged, and not retried', async () => {
    const before = h.fake.calls.length;
    h.fake.failNext({ path: `/channels/${RANDOM}/messages`, status: 403 });
    const e403 = await h.adapter.perform(act({ type: 'send', chat: `discord:${RANDOM}`, text: 'forbidden' })).catch((e: unknown) => e);
    assert.ok(e403 instanceof PlatformError);
    assert.equal(e403.scope, 'per-chat');
    assert.equal(h.fake.calls.length - before, 1, 'one call, no retry');
    assert.ok(h.adapter.status().problems.some((p) => p.includes('missing permissions')));

    const e404 = await h.adapter.perform(act({ type: 'pin', chat: `discord:${RANDOM}`, messageId: '123456789012345678' })).catch((e: unknown) => e);
    assert.ok(e404 instanceof PlatformError);
    assert.equal(e404.scope, 'permanent');
    // A token never appears in what is thrown.
    assert.doesNotMatch(String((e404 as Error).message), /test-bot-token/);
  });

  test('a 500 is retried by discord.js and the action succeeds', async () => {
    h.fake.failNext({ path: `/channels/${RANDOM}/messages`, status: 500 });
    const r = await h.adapter.perform(act({ type: 'send', chat: `discord:${RANDOM}`, text: 'after a hiccup' }));
    assert.equal(r.messageIds!.length, 1);
    const tries = h.fake.calls.filter((c) => c.method === 'POST' && c.path === `/channels/${RANDOM}/messages` && (c.body as { content?: string }).content === 'after a hiccup');
    assert.deepEqual(tries.map((c) => c.status), [500, 200]);
  });

  test('an answer whose interaction expired is posted in the chat instead', async () => {
    const r = await h.adapter.perform(act({ type: 'answer', chat: `discord:${GENERAL}`, replyHandle: `${h.fake.applicationId}:1:expired-token`, text: 'late answer' }));
    assert.equal(h.fake.message(r.messageIds![0]!)?.channel_id, GENERAL);
  });

  test('actions for other platforms or malformed ids are refused as permanent', async () => {
    for (const a of [act({ type: 'send', chat: 'telegram:1', text: 'x' }), act({ type: 'ban', chat: `discord:${GENERAL}`, user: 'x:user:1' }), act({ type: 'send', chat: `discord:${GENERAL}`, text: '   ' })]) {
      const err = await h.adapter.perform(a).catch((e: unknown) => e);
      assert.ok(err instanceof PlatformError && err.scope === 'permanent', `${a.type} ${a.chat}: ${String(err)}`);
    }
  });
});
