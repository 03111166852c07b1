/** Discord inbound: the real discord.js client on the fake gateway, events into a durable sink on a real Redis. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChatEventInput } from '../../../src/core/events.js';
import { channelsToCatchUp, CURSOR_KEY } from '../../../adapters/discord/catch-up.js';
import { createDiscordAdapter } from '../../../adapters/discord/index.js';
import { CursorStore } from '../../../adapters/kit/index.js';
import type { Keys } from '../../../src/redis/keys.js';
import { adapterDeps, adapterKey } from '../../helpers/adapter.js';
import { snowflake } from '../../../fakes/discord/model.js';
import { FAST, discordHarness, type DiscordHarness } from './harness.js';

const GENERAL = '900000000000000001';
const RANDOM = '900000000000000002';
const FORUM = '900000000000000003';
const ada = { id: '800000000000000001', name: 'Ada Lovelace' };
const bob = { id: '800000000000000002', name: 'Bob' };
const mod = { id: '800000000000000003', name: 'Mo Derator', admin: true };

const byMessage = (id: string) => (e: ChatEventInput) => e.messageId === id;

/** Deps for a second adapter on a harness's prefix (a restarted process); closed when the file is done. */
const stores: ReturnType<typeof adapterDeps>[] = [];
after(() => stores.forEach((s) => s.close()));
const depsOf = (h: DiscordHarness) => {
  const d = adapterDeps('discord', { keys: h.keys, redis: h.redis, sink: h.recorder });
  stores.push(d);
  return d;
};
/** The catch-up cursor hash, as the core's connection names it. */
const cursorKey = (keys: Keys) => adapterKey(keys, 'discord', CURSOR_KEY);

describe('discord inbound', () => {
  let h: DiscordHarness;
  let helpersRole = '';

  before(async () => {
    h = await discordHarness({
      adapter: { moderatorRoles: ['Helpers'] },
      setup: (fake) => {
        fake.createChannel(GENERAL, { name: 'general' });
        fake.createChannel(RANDOM, { name: 'random' });
        fake.createChannel(FORUM, { type: 'forum', name: 'ama-questions' });
        helpersRole = fake.createRole('Helpers');
      },
    });
  });
  after(async () => h.close());

  test('connects with the intents Townhall needs and registers its slash commands', async () => {
    const identify = h.fake.gateway.received.find((r) => r.op === 2);
    const intents = (identify?.d as { intents: number }).intents;
    // guilds, members, messages, reactions, message content, DMs, DM reactions
    for (const bit of [0, 1, 9, 10, 15, 12, 13]) assert.ok(intents & (1 << bit), `intent bit ${bit}`);
    const names = (h.fake.commands().global as { name: string }[]).map((c) => c.name);
    for (const n of ['ask', 'upvote', 'questions', 'ama', 'answer', 'ban', 'mute', 'purge', 'slowmode', 'filter', 'quiet', 'modlog']) assert.ok(names.includes(n), n);
    assert.equal(h.adapter.status().connected, true);
  });

  test('a guild message becomes a ChatEvent with reply, mentions and attachments as links', async () => {
    const q = await h.fake.injectMessage({ chat: GENERAL, user: ada, text: 'What is the roadmap? https://example.com/plan' });
    const first = await h.recorder.next(byMessage(q.id));
    assert.equal(first.kind, 'message');
    assert.equal(first.chat, `discord:${GENERAL}`);
    assert.equal(first.chatType, 'group');
    assert.equal(first.user.id, `discord:user:${ada.id}`);
    assert.equal(first.user.name, 'Ada Lovelace');
    assert.equal(first.user.isAdmin, false);
    assert.deepEqual(first.links, ['https://example.com/plan']);
    assert.equal(first.url, `https://discord.com/channels/${h.fake.guildId}/${GENERAL}/${q.id}`);

    const r = await h.fake.injectMessage({
      chat: GENERAL,
      user: bob,
      text: `<@${ada.id}> see the doc`,
      replyTo: q.id,
      attachments: [{ filename: 'plan.pdf', url: 'https://cdn.example.com/plan.pdf' }],
    });
    const reply = await h.recorder.next(byMessage(r.id));
    assert.equal(reply.replyTo, q.id);
    assert.equal(reply.replyToUser, `discord:user:${ada.id}`);
    assert.deepEqual(reply.mentions, [`discord:user:${ada.id}`]);
    assert.deepEqual(reply.links, ['https://cdn.example.com/plan.pdf']);
    assert.equal(reply.id, `discord/message/${GENERAL}/${r.id}`);
    // Durable before anything else: the sink wrote it to Redis.
    assert.ok((await h.recorder.stored()).some((e) => e.messageId === r.id));
  });

  test('moderator rights come from the member permissions in that channel and from configured roles', async () => {
    const inGeneral = await h.fake.injectMessage({ chat: GENERAL, user: mod, text: 'mod here' });
    assert.equal((await h.recorder.next(byMessage(inGeneral.id))).user.isAdmin, true);
    // The overwrite is on #general only: in #random the same person is not a moderator.
    const inRandom = await h.fake.injectMessage({ chat: RANDOM, user: { id: mod.id, name: mod.name }, text: 'elsewhere' });
    assert.equal((await h.recorder.next(byMessage(inRandom.id))).user.isAdmin, false);
    // A guild role with ban/timeout rights makes someone a moderator everywhere.
    const carol = { id: '800000000000000004', name: 'Carol' };
    h.fake.addModerator(carol);
    const c = await h.fake.injectMessage({ chat: RANDOM, user: carol, text: 'hi' });
    assert.equal((await h.recorder.next(byMessage(c.id))).user.isAdmin, true);
    // A configured moderator role (by name) counts even without any permission.
    const dave = { id: '800000000000000005', name: 'Dave' };
    h.fake.assignRole(dave, helpersRole);
    const d = await h.fake.injectMessage({ chat: RANDOM, user: dave, text: 'helper' });
    assert.equal((await h.recorder.next(byMessage(d.id))).user.isAdmin, true);
  });

  test('messages in threads and forum posts carry the thread in the chat id', async () => {
    const inThread = await h.fake.injectMessage({ chat: GENERAL, thread: '900000000000000010', user: ada, text: 'in a thread' });
    const e = await h.recorder.next(byMessage(inThread.id));
    assert.equal(e.chat, `discord:${GENERAL}:900000000000000010`);

    const post = await h.fake.injectForumPost({ forum: FORUM, user: bob, title: 'Will there be a mobile app?', text: 'Asking for my team.' });
    const p = await h.recorder.next(byMessage(post.id));
    assert.equal(p.chat, `discord:${FORUM}:${post.thread}`);
    assert.equal(p.text, 'Will there be a mobile app?\n\nAsking for my team.');
    const more = await h.fake.injectMessage({ chat: FORUM, thread: post.thread, user: ada, text: '+1' });
    assert.equal((await h.recorder.next(byMessage(more.id))).chat, `discord:${FORUM}:${post.thread}`);
  });

  test('edits, deletes, reactions, joins, leaves and DMs are normalized', async () => {
    const m = await h.fake.injectMessage({ chat: GENERAL, user: ada, text: 'typo' });
    await h.recorder.next(byMessage(m.id));
    await h.fake.injectEdit({ message: m.id, text: 'fixed' });
    const edit = await h.recorder.next((e) => e.kind === 'edit' && e.messageId === m.id);
    assert.equal(edit.text, 'fixed');

    await h.fake.injectReaction({ chat: GENERAL, message: m.id, user: bob, emoji: '👍' });
    const add = await h.recorder.next((e) => e.kind === 'reaction' && e.messageId === m.id && e.reaction?.added === true);
    assert.deepEqual(add.reaction, { emoji: '👍', added: true });
    assert.equal(add.user.id, `discord:user:${bob.id}`);
    await h.fake.injectReactionRemove({ chat: GENERAL, message: m.id, user: bob.id, emoji: '👍' });
    const removed = await h.recorder.next((e) => e.kind === 'reaction' && e.messageId === m.id && e.reaction?.added === false);
    assert.equal(removed.user.id, `discord:user:${bob.id}`);

    await h.fake.injectDelete({ message: m.id });
    const del = await h.recorder.next((e) => e.kind === 'delete' && e.messageId === m.id);
    assert.equal(del.user.id, `discord:user:${ada.id}`, 'author known from the cache');

    const erin = { id: '800000000000000006', name: 'Erin' };
    await h.fake.injectJoin({ chat: GENERAL, user: erin });
    const join = await h.recorder.next((e) => e.kind === 'join' && e.user.id === `discord:user:${erin.id}`);
    assert.equal(join.chat, `discord:${GENERAL}`, 'joins are reported in the system channel');
    await h.fake.injectLeave({ user: erin.id });
    await h.recorder.next((e) => e.kind === 'leave' && e.user.id === `discord:user:${erin.id}`);

    const dm = await h.fake.injectDirectMessage({ user: ada, text: '/catchup 2h' });
    const d = await h.recorder.next(byMessage(dm.id));
    assert.equal(d.chatType, 'private');
    assert.equal(d.chat, `discord:${dm.channel}`);
    assert.equal(d.kind, 'command');
  });

  test('an embed filling in (an update without edit time) is not an edit', async () => {
    const m = await h.fake.injectMessage({ chat: GENERAL, user: ada, text: 'https://example.com' });
    await h.recorder.next(byMessage(m.id));
    h.fake.dispatch('MESSAGE_UPDATE', { id: m.id, channel_id: GENERAL, guild_id: h.fake.guildId, embeds: [{ url: 'https://example.com' }] });
    const marker = await h.fake.injectMessage({ chat: GENERAL, user: ada, text: 'marker' });
    await h.recorder.next(byMessage(marker.id));
    assert.equal(h.recorder.events.filter((e) => e.kind === 'edit' && e.messageId === m.id).length, 0);
  });

  test('a prefix command typed as text is a command; one addressed to another bot is not', async () => {
    const a = await h.fake.injectMessage({ chat: GENERAL, user: ada, text: '/ask What about pricing?' });
    assert.equal((await h.recorder.next(byMessage(a.id))).kind, 'command');
    const b = await h.fake.injectMessage({ chat: GENERAL, user: ada, text: '/ask@townhall_bot And support?' });
    assert.equal((await h.recorder.next(byMessage(b.id))).kind, 'command');
    const c = await h.fake.injectMessage({ chat: GENERAL, user: ada, text: '/ask@other_bot hi' });
    assert.equal((await h.recorder.next(byMessage(c.id))).kind, 'message');
  });

  test('a slash command is deferred within 3 s, after it is queued, and answered by follow-up', async () => {
    const it = await h.fake.injectSlashCommand({ chat: GENERAL, user: ada, name: 'ask', options: [{ name: 'question', type: 3, value: 'When is v2 shipping?' }] });
    const ev = await h.recorder.next((e) => e.kind === 'command' && e.text === '/ask When is v2 shipping?');
    assert.equal(ev.chat, `discord:${GENERAL}`);
    assert.equal(ev.user.id, `discord:user:${ada.id}`);
    assert.ok(ev.replyHandle, 'carries a reply handle');
    await h.fake.awaitCall((c) => c.path === `/interactions/${it.id}/${it.token}/callback`);
    const rec = h.fake.interactionById(it.id)!;
    assert.equal(rec.responseType, 5, 'deferred (thinking…)');
    assert.ok(rec.respondedAt, 'acknowledged (the fake refuses an acknowledgement after Discord\'s 3 s window)');

    const result = await h.adapter.perform({ v: 1, id: 'answer-1', type: 'answer', platform: 'discord', chat: ev.chat, replyHandle: ev.replyHandle!, text: 'Noted as **Q1**', format: 'markdown', priority: 'command' });
    assert.equal(rec.followups.length, 1);
    assert.equal(rec.followups[0]!.content, 'Noted as **Q1**');
    assert.deepEqual(result.messageIds, [rec.followups[0]!.id]);
    assert.ok(h.fake.outbox(GENERAL).some((o) => o.type === 'send' && o.text === 'Noted as **Q1**'));
  });

  test('slash command options become command text: subcommands, users, quoted multi-word values', async () => {
    await h.fake.injectSlashCommand({
      chat: GENERAL,
      user: mod,
      name: 'ama',
      options: [{ name: 'schedule', type: 1, options: [{ name: 'when', type: 3, value: 'in 2h' }, { name: 'duration', type: 3, value: '1h' }, { name: 'title', type: 3, value: 'Core team AMA' }] }],
    });
    const sched = await h.recorder.next((e) => e.kind === 'command' && e.text?.startsWith('/ama schedule') === true);
    assert.equal(sched.text, '/ama schedule "in 2h" 1h Core team AMA');
    assert.equal(sched.user.isAdmin, true);

    await h.fake.injectSlashCommand({ chat: GENERAL, user: ada, name: 'ama', options: [{ name: 'info', type: 1 }] });
    await h.recorder.next((e) => e.kind === 'command' && e.text === '/ama');

    await h.fake.injectSlashCommand({ chat: GENERAL, user: mod, name: 'ban', options: [{ name: 'user', type: 6, value: bob.id }, { name: 'reason', type: 3, value: 'spam' }] });
    const ban = await h.recorder.next((e) => e.kind === 'command' && e.text?.startsWith('/ban') === true);
    assert.equal(ban.text, `/ban <@${bob.id}> spam`);
    assert.deepEqual(ban.mentions, [`discord:user:${bob.id}`]);
  });

  test('/catchup is answered privately: the deferral is ephemeral', async () => {
    const it = await h.fake.injectSlashCommand({ chat: GENERAL, user: ada, name: 'catchup' });
    await h.fake.awaitCall((c) => c.path === `/interactions/${it.id}/${it.token}/callback`);
    assert.equal(h.fake.interactionById(it.id)!.ephemeral, true);
  });

  test('a slow queue still gets the interaction acknowledged inside the 3-second window', async () => {
    h.recorder.delayMs = 2600;
    try {
      const it = await h.fake.injectSlashCommand({ chat: GENERAL, user: bob, name: 'questions' });
      await h.fake.awaitCall((c) => c.path === `/interactions/${it.id}/${it.token}/callback`, 5000);
      const rec = h.fake.interactionById(it.id)!;
      assert.ok(rec.respondedAt, 'acknowledged (the fake refuses an acknowledgement after Discord\'s 3 s window)');
      await h.recorder.next((e) => e.kind === 'command' && e.text === '/questions' && e.user.id === `discord:user:${bob.id}`, 5000);
    } finally {
      h.recorder.delayMs = 0;
    }
  });

  test('a vote button click becomes a vote event and is acknowledged as an update', async () => {
    const sent = await h.adapter.perform({ v: 1, id: 'card-1', type: 'send', platform: 'discord', chat: `discord:${GENERAL}`, text: 'Q7: When is v2?', format: 'plain', buttons: [{ label: '👍 Upvote', data: 'Q7' }], priority: 'command' });
    const cardId = sent.messageIds![0]!;
    const components = h.fake.message(cardId)!.components as { components: { custom_id: string; label: string }[] }[];
    assert.equal(components[0]!.components[0]!.custom_id, 'th:v:Q7');
    const it = await h.fake.injectButton({ message: cardId, user: bob, customId: 'th:v:Q7' });
    const vote = await h.recorder.next((e) => e.kind === 'vote');
    assert.deepEqual(vote.vote, { target: 'Q7', added: true });
    assert.equal(vote.messageId, cardId);
    await h.fake.awaitCall((c) => c.path === `/interactions/${it.id}/${it.token}/callback`);
    assert.equal(h.fake.interactionById(it.id)!.responseType, 6);
  });

  test("the bot's own messages and reactions are not reported back", async () => {
    const sent = await h.adapter.perform({ v: 1, id: 'own-1', type: 'send', platform: 'discord', chat: `discord:${GENERAL}`, text: 'bot says hi', format: 'plain', priority: 'command' });
    await h.adapter.perform({ v: 1, id: 'own-2', type: 'react', platform: 'discord', chat: `discord:${GENERAL}`, messageId: sent.messageIds![0]!, emoji: '✅', priority: 'command' });
    const marker = await h.fake.injectMessage({ chat: GENERAL, user: ada, text: 'after the bot' });
    await h.recorder.next(byMessage(marker.id));
    const botId = `discord:user:${h.fake.botUser.id}`;
    assert.equal(h.recorder.events.filter((e) => e.user.id === botId).length, 0);
  });

  test('hostile input never crashes the adapter: unknown types counted, malformed and huge payloads rejected', async () => {
    const rejectedBefore = Number(h.adapter.status().details?.rejected ?? 0);
    h.fake.dispatch('BRAND_NEW_EVENT', { whatever: true });
    h.fake.dispatch('MESSAGE_CREATE', { id: '1', channel_id: GENERAL, guild_id: h.fake.guildId });
    h.fake.dispatch('MESSAGE_CREATE', 'not an object');
    h.fake.dispatch('MESSAGE_REACTION_ADD', { user_id: ada.id, channel_id: GENERAL });
    h.fake.dispatch('INTERACTION_CREATE', { id: '5', type: 2 });
    h.fake.sendFrame('{not json');
    h.fake.sendFrame({ op: 0, t: 'MESSAGE_CREATE', s: null, d: null });
    const huge = await h.fake.injectMessage({ chat: GENERAL, user: ada, text: 'x'.repeat(20_000) });
    const ok = await h.fake.injectMessage({ chat: GENERAL, user: ada, text: 'still alive' });
    await h.recorder.next(byMessage(ok.id));
    assert.equal(h.recorder.events.some((e) => e.messageId === huge.id), false, 'oversized text rejected');
    const st = h.adapter.status();
    assert.equal((st.details?.unknownDispatches as Record<string, number>).BRAND_NEW_EVENT, 1);
    assert.ok(Number(st.details?.malformed) >= 3);
    assert.equal(Number(st.details?.rejected), rejectedBefore + 1);
    assert.equal(st.connected, true);
  });

  test('publishing waits out a Redis outage without losing or reordering events', async () => {
    h.recorder.failures = 3;
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three']) ids.push((await h.fake.injectMessage({ chat: RANDOM, user: bob, text })).id);
    await h.recorder.next(byMessage(ids[2]!), 5000);
    const order = h.recorder.events.filter((e) => ids.includes(e.messageId ?? '')).map((e) => e.text);
    assert.deepEqual(order, ['one', 'two', 'three']);
  });
});

describe('discord gateway reconnects', () => {
  let h: DiscordHarness;
  before(async () => {
    h = await discordHarness({ setup: (fake) => void fake.createChannel(GENERAL) });
  });
  after(async () => h.close());

  const send = async (text: string) => (await h.fake.injectMessage({ chat: GENERAL, user: ada, text })).id;
  const countOf = (id: string) => h.recorder.events.filter((e) => e.messageId === id).length;

  test('a forced RECONNECT resumes the session and messages dispatched around it are each handled once', async () => {
    const m1 = await send('before 1');
    const m2 = await send('before 2');
    await h.recorder.next(byMessage(m2));
    // Discord may replay events the client already had; they must still count once.
    h.fake.redeliverOnResume(2);
    const resumed = h.fake.nextResume();
    h.fake.forceReconnect();
    const m3 = await send('during 1');
    const m4 = await send('during 2');
    await resumed;
    const m5 = await send('after');
    await h.recorder.next(byMessage(m5));
    for (const id of [m1, m2, m3, m4, m5]) assert.equal(countOf(id), 1, `message ${id} handled once`);
    const stored = (await h.recorder.stored()).filter((e) => [m1, m2, m3, m4, m5].includes(e.messageId ?? ''));
    assert.deepEqual(stored.map((e) => e.text), ['before 1', 'before 2', 'during 1', 'during 2', 'after']);
    assert.equal(h.fake.gateway.identifies, 1, 'resumed, not re-identified');
    const resume = h.fake.gateway.received.find((r) => r.op === 6)!.d as { session_id: string; seq: number };
    assert.match(resume.session_id, /^[0-9a-f]{32}$/);
    assert.ok(resume.seq >= 4);
    assert.ok(Number(h.adapter.status().details?.duplicates) >= 1, 'the replayed events were recognized');
  });

  test('a dropped connection (no close frame) resumes too', async () => {
    const resumes = h.fake.gateway.resumes;
    const resumed = h.fake.nextResume();
    h.fake.dropConnection();
    const m = await send('while dropped');
    await resumed;
    await h.recorder.next(byMessage(m));
    assert.equal(h.fake.gateway.resumes, resumes + 1);
    assert.equal(countOf(m), 1);
  });

  test('INVALID_SESSION makes the client identify again, events keep flowing, and what was written in between is read back', async () => {
    const identified = h.fake.nextIdentify();
    h.fake.invalidateSession(false);
    // No session exists until the client identifies again: Discord delivers this to nobody.
    const gap = await send('between the two sessions');
    await identified;
    const m = await send('after a new session');
    await h.recorder.next(byMessage(m), 5000);
    await h.recorder.next(byMessage(gap), 5000);
    assert.equal(countOf(gap), 1);
    assert.equal(h.fake.gateway.identifies, 2);
  });
});

describe('discord catch-up after a restart', () => {
  let h: DiscordHarness;
  before(async () => {
    h = await discordHarness({
      setup: (fake) => {
        fake.createChannel(GENERAL);
        fake.createChannel(RANDOM);
      },
    });
  });
  after(async () => h.close());

  const countOf = (id: string) => h.recorder.events.filter((e) => e.messageId === id).length;

  test('messages written while the adapter was down are read back through REST after the new session, each once, in order', async () => {
    const m1 = (await h.fake.injectMessage({ chat: GENERAL, user: ada, text: 'before the restart' })).id;
    const r1 = (await h.fake.injectMessage({ chat: RANDOM, user: bob, text: 'random before' })).id;
    await h.recorder.next(byMessage(m1));
    await h.recorder.next(byMessage(r1));
    await h.adapter.stop(); // the process is gone: no session listens, Discord keeps nothing for a new one

    const missed: string[] = [];
    for (let i = 0; i < 130; i++) missed.push((await h.fake.injectMessage({ chat: GENERAL, user: ada, text: `while down ${i}` })).id); // more than a page
    const r2 = (await h.fake.injectMessage({ chat: RANDOM, user: mod, text: 'random while down' })).id;

    const second = createDiscordAdapter({ token: 'test-bot-token', apiBaseUrl: h.fake.url, registerCommands: 'off', ...FAST }, depsOf(h));
    await second.init();
    await second.startInbound();
    try {
      await h.recorder.next(byMessage(missed[missed.length - 1]!), 10_000);
      await h.recorder.next(byMessage(r2), 10_000);
      const live = (await h.fake.injectMessage({ chat: GENERAL, user: bob, text: 'after the restart' })).id;
      await h.recorder.next(byMessage(live));

      assert.equal(h.fake.gateway.identifies, 2, 'a new session, not a RESUME');
      for (const id of [m1, r1, ...missed, r2, live]) assert.equal(countOf(id), 1, `message ${id} published once`);
      const general = h.recorder.events.filter((e) => e.chat === `discord:${GENERAL}` && e.kind === 'message').map((e) => e.messageId);
      assert.deepEqual(general, [m1, ...missed, live], 'in the order they were written');
      const caught = h.recorder.events.find((e) => e.messageId === r2)!;
      assert.equal(caught.chatType, 'group', 'the guild is known although REST messages carry none');
      assert.equal(caught.user.isAdmin, true, "the moderator's rights are computed as for a gateway message");
      assert.equal(caught.url, `https://discord.com/channels/${h.fake.guildId}/${RANDOM}/${r2}`);
      assert.equal(second.status().details?.caughtUp, 131);
    } finally {
      await second.stop();
    }
  });

  test('a forum post, a thread and a channel opened while the adapter was down are read back from their start', async () => {
    const h2 = await discordHarness({
      setup: (fake) => {
        fake.createChannel(GENERAL);
        fake.createChannel(FORUM, { type: 'forum', name: 'ama-questions' });
      },
    });
    try {
      const m1 = (await h2.fake.injectMessage({ chat: GENERAL, user: ada, text: 'before' })).id;
      await h2.recorder.next(byMessage(m1));
      await h2.adapter.stop();

      const post = await h2.fake.injectForumPost({ forum: FORUM, user: bob, title: 'Listing date?', text: 'When is the listing?' });
      const reply = (await h2.fake.injectMessage({ chat: FORUM, thread: post.thread, user: ada, text: 'following' })).id;
      const thread = snowflake();
      const inThread = (await h2.fake.injectMessage({ chat: GENERAL, thread, user: bob, text: 'a new thread while down' })).id;
      const channel = snowflake();
      h2.fake.createChannel(channel, { name: 'new-channel' });
      const inChannel = (await h2.fake.injectMessage({ chat: channel, user: ada, text: 'a new channel while down' })).id;

      const again = createDiscordAdapter({ token: 'test-bot-token', apiBaseUrl: h2.fake.url, registerCommands: 'off', ...FAST }, depsOf(h2));
      await again.init();
      await again.startInbound();
      try {
        for (const id of [post.id, reply, inThread, inChannel]) await h2.recorder.next(byMessage(id), 10_000);
        for (const id of [m1, post.id, reply, inThread, inChannel]) assert.equal(h2.recorder.events.filter((e) => e.messageId === id).length, 1, `message ${id} once`);
        const first = h2.recorder.events.find((e) => e.messageId === post.id)!;
        assert.match(first.text ?? '', /^Listing date\?\n\nWhen is the listing\?/, "the post's first message, titled as live");
        assert.equal(first.chat, `discord:${FORUM}:${post.thread}`);
      } finally {
        await again.stop();
      }
    } finally {
      await h2.close();
    }
  });

  test('a rate limit during catch-up is waited out and the channel read, not left for the next session', async () => {
    const h3 = await discordHarness({ setup: (fake) => void fake.createChannel(GENERAL) });
    try {
      const m1 = (await h3.fake.injectMessage({ chat: GENERAL, user: ada, text: 'before' })).id;
      await h3.recorder.next(byMessage(m1));
      await h3.adapter.stop();
      const missed = (await h3.fake.injectMessage({ chat: GENERAL, user: bob, text: 'while down' })).id;
      // Longer than the adapter waits inside discord.js (FAST: 100 ms): the read fails with a rate limit twice.
      h3.fake.failNext({ method: 'GET', path: new RegExp(`/channels/${GENERAL}/messages$`), status: 429, retryAfterMs: 400, times: 2 });
      const again = createDiscordAdapter({ token: 'test-bot-token', apiBaseUrl: h3.fake.url, registerCommands: 'off', ...FAST }, depsOf(h3));
      await again.init();
      await again.startInbound();
      try {
        await h3.recorder.next(byMessage(missed), 10_000);
        assert.equal(h3.recorder.events.filter((e) => e.messageId === missed).length, 1);
        const reads = h3.fake.rest.calls.filter((c) => c.method === 'GET' && c.path === `/channels/${GENERAL}/messages`);
        assert.ok(reads.length >= 3, `read again after each rate limit (${reads.length} reads)`);
      } finally {
        await again.stop();
      }
    } finally {
      await h3.close();
    }
  });

  test('a channel that is gone (404) is no longer tracked: its cursor is dropped at the next session', async () => {
    const gone = snowflake();
    await h.redis.hset(cursorKey(h.keys), gone, `${snowflake()}|${h.fake.guildId}`);
    const again = createDiscordAdapter({ token: 'test-bot-token', apiBaseUrl: h.fake.url, registerCommands: 'off', ...FAST }, depsOf(h));
    await again.init();
    await again.startInbound();
    try {
      for (let i = 0; i < 200 && (await h.redis.hexists(cursorKey(h.keys), gone)); i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(await h.redis.hexists(cursorKey(h.keys), gone), 0);
    } finally {
      await again.stop();
    }
  });

  test('cursors of channels quiet for longer than the limit are dropped instead of read', async () => {
    const key = cursorKey(h.keys);
    await h.redis.hset(key, 'c-old', `${snowflake(Date.now() - 3 * 86_400_000)}|g`, 'c-new', `${snowflake(Date.now() - 60_000)}|g`, 'c-bad', 'x|g');
    const got = await channelsToCatchUp(new CursorStore(depsOf(h).store, CURSOR_KEY), { maxAgeMs: 86_400_000, maxPages: 1 });
    assert.deepEqual(got.map((c) => c.channelId).filter((c) => c.startsWith('c-')), ['c-new']);
    assert.deepEqual(await h.redis.hmget(key, 'c-old', 'c-new', 'c-bad'), [null, (await h.redis.hget(key, 'c-new'))!, null]);
  });
});
