/** Telegram inbound: the real telegraf client polls the fake Bot API; events land in the real inbound queue on a real Redis. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InboundQueue } from '../../../src/queue/inbound.js';
import { toJobId } from '../../../src/redis/keys.js';
import type { ChatEvent, ChatEventInput } from '../../../src/core/events.js';
import { rig, type Rig } from './harness.js';
import { isolatedRedis } from '../../helpers/redis.js';
import { waitFor } from '../../helpers/core.js';
import { TestSink } from '../../helpers/adapter.js';

const GROUP = '-1001000000001';

describe('telegram inbound into the real inbound queue', () => {
  let r: Rig;
  let queue: InboundQueue;
  let iso: Awaited<ReturnType<typeof isolatedRedis>>;

  before(async () => {
    iso = await isolatedRedis();
    queue = new InboundQueue({ url: iso.url, keys: iso.keys });
    r = await rig({ sink: queue });
  });
  after(async () => {
    await r?.close();
    await queue?.close();
    await iso?.cleanup();
  });

  test('a user message in a group becomes a ChatEvent in the inbound queue with prefixed chat, user and message ids', async () => {
    const { id } = await r.fake.injectMessage({ chat: GROUP, user: { id: '501', name: 'Ada', username: 'ada_l', lang: 'de' } as never, text: 'When is the next release?' });
    const eventId = `telegram/message/${GROUP}/${id}`;
    let job = await queue.queue.getJob(toJobId(eventId));
    await waitFor(async () => Boolean((job = await queue.queue.getJob(toJobId(eventId)))), 'the job in the inbound queue');
    const e = job!.data as ChatEvent;
    assert.equal(e.kind, 'message');
    assert.equal(e.platform, 'telegram');
    assert.equal(e.chat, `telegram:${GROUP}`);
    assert.equal(e.chatType, 'group');
    assert.equal(e.messageId, id);
    assert.deepEqual(e.user, { id: 'telegram:user:501', name: 'Ada', username: 'ada_l', isAdmin: false, lang: 'de' });
    assert.equal(e.text, 'When is the next release?');
    assert.equal(e.source, 'live');
    assert.ok(Math.abs(e.at - Date.now()) < 5000, 'platform time in ms');
    assert.equal(e.url, `https://t.me/c/${GROUP.slice(4)}/${id}`);
  });

  test('the update is confirmed to Telegram only after the event is in Redis', async () => {
    const { id } = await r.fake.injectMessage({ chat: GROUP, user: { id: '502', name: 'Bo' }, text: 'hi' });
    await waitFor(async () => Boolean(await queue.queue.getJob(toJobId(`telegram/message/${GROUP}/${id}`))), 'the job');
    await waitFor(() => r.fake.pendingUpdates().length === 0, 'the offset confirmation');
  });
});

describe('telegram normalization through the real client', () => {
  let r: Rig;
  const sink = new TestSink();
  const find = (pred: (e: ChatEventInput) => boolean, what: string) => waitFor(() => sink.events.some(pred), what).then(() => sink.events.find(pred)!);

  before(async () => {
    r = await rig({ sink });
  });
  after(() => r.close());

  test('forum topics: a topic message carries the topic in its chat id, General none, and the topic root is not a reply', async () => {
    const topic = r.fake.createTopic(GROUP, 'AMA questions', { id: '601', name: 'Mod', admin: true });
    const inTopic = await r.fake.injectMessage({ chat: GROUP, user: { id: '602', name: 'Cy' }, text: 'in the topic', thread: topic });
    const inGeneral = await r.fake.injectMessage({ chat: GROUP, user: { id: '602', name: 'Cy' }, text: 'in general', thread: '1' });
    const a = await find((e) => e.messageId === inTopic.id, 'topic message');
    const b = await find((e) => e.messageId === inGeneral.id, 'general message');
    assert.equal(a.chat, `telegram:${GROUP}:${topic}`);
    assert.equal(a.replyTo, undefined, 'the implicit reply to the topic root is not a reply');
    assert.equal(b.chat, `telegram:${GROUP}`);
    assert.equal(a.url, `https://t.me/c/${GROUP.slice(4)}/${topic}/${inTopic.id}`);
  });

  test('replies, mentions, links and bot commands are read from entities; commands for another bot stay messages', async () => {
    const first = await r.fake.injectMessage({ chat: GROUP, user: { id: '611', name: 'Di' }, text: 'original' });
    const reply = await r.fake.injectMessage({ chat: GROUP, user: { id: '612', name: 'Ed' }, text: '/ask@townhall_bot ask @di_user about https://example.org/x?y=1', replyTo: first.id });
    const other = await r.fake.injectMessage({ chat: GROUP, user: { id: '612', name: 'Ed' }, text: '/ask@other_bot hello' });
    const e = await find((x) => x.messageId === reply.id, 'the reply');
    assert.equal(e.kind, 'command');
    assert.equal(e.replyTo, first.id);
    assert.equal(e.replyToUser, 'telegram:user:611');
    assert.deepEqual(e.mentions, ['di_user']);
    assert.deepEqual(e.links, ['https://example.org/x?y=1']);
    assert.equal((await find((x) => x.messageId === other.id, 'other bot command')).kind, 'message');
  });

  test('edits, reactions, joins, leaves and inline-button votes become events with stable ids', async () => {
    const m = await r.fake.injectMessage({ chat: GROUP, user: { id: '621', name: 'Fa' }, text: 'typo' });
    await r.fake.injectEdit({ chat: GROUP, message: m.id, text: 'fixed' });
    const edit = await find((e) => e.kind === 'edit' && e.messageId === m.id, 'the edit');
    assert.equal(edit.text, 'fixed');
    assert.match(edit.id, new RegExp(`^telegram/edit/${GROUP}/${m.id}/\\d+$`));

    await r.fake.injectReaction({ chat: GROUP, message: m.id, user: { id: '622', name: 'Gu' }, emoji: '👍' });
    await r.fake.injectReaction({ chat: GROUP, message: m.id, user: { id: '622', name: 'Gu' }, emoji: '🔥' });
    await waitFor(() => sink.events.filter((e) => e.kind === 'reaction' && e.messageId === m.id).length === 3, 'three reaction events');
    const reactions = sink.events.filter((e) => e.kind === 'reaction' && e.messageId === m.id).map((e) => `${e.reaction!.added ? '+' : '-'}${e.reaction!.emoji}`);
    assert.deepEqual(reactions, ['+👍', '+🔥', '-👍'], 'a new reaction replaces the old one');

    await r.fake.injectJoin({ chat: GROUP, user: { id: '623', name: 'Ha' } });
    await r.fake.injectLeave({ chat: GROUP, user: { id: '623', name: 'Ha' } });
    await find((e) => e.kind === 'join' && e.user.id === 'telegram:user:623', 'join');
    await find((e) => e.kind === 'leave' && e.user.id === 'telegram:user:623', 'leave');

    const card = await r.adapter.perform({ v: 1, id: 'card-1', type: 'send', platform: 'telegram', chat: `telegram:${GROUP}`, text: 'Q1', format: 'plain', priority: 'command', buttons: [{ label: '👍 1', data: 'up:q1' }] });
    const cb = await r.fake.injectCallbackQuery({ chat: GROUP, message: card.messageIds![0]!, user: { id: '624', name: 'Io' }, data: 'up:q1' });
    const vote = await find((e) => e.kind === 'vote', 'the vote');
    assert.deepEqual(vote.vote, { target: 'up:q1', added: true });
    assert.equal(vote.replyHandle, `cb:${cb.id}`);
    assert.equal(vote.id, `telegram/vote/${cb.id}`);
    await r.adapter.perform({ v: 1, id: 'ans-1', type: 'answer', platform: 'telegram', chat: `telegram:${GROUP}`, replyHandle: vote.replyHandle!, text: 'Counted', format: 'plain', priority: 'ack' });
    assert.equal((await r.fake.waitForCall('answerCallbackQuery')).status, 200);
  });

  test('a reaction to a bot message in a topic is reported in that topic', async () => {
    const topic = r.fake.createTopic(GROUP, 'Reactions', { id: '601', name: 'Mod' });
    const sent = await r.adapter.perform({ v: 1, id: 'topic-card', type: 'send', platform: 'telegram', chat: `telegram:${GROUP}:${topic}`, text: 'vote here', format: 'plain', priority: 'command' });
    await r.fake.injectReaction({ chat: GROUP, message: sent.messageIds![0]!, user: { id: '631', name: 'Jo' }, emoji: '👍' });
    const e = await find((x) => x.kind === 'reaction' && x.messageId === sent.messageIds![0], 'reaction');
    assert.equal(e.chat, `telegram:${GROUP}:${topic}`);
  });

  test('private chats: chatType private, for /ask and /catchup in private', async () => {
    const m = await r.fake.injectMessage({ chat: '641', user: { id: '641', name: 'Kim' }, text: '/catchup 2h' });
    const e = await find((x) => x.messageId === m.id && x.chat === 'telegram:641', 'the private command');
    assert.equal(e.chatType, 'private');
    assert.equal(e.kind, 'command');
    assert.equal(e.user.isAdmin, false);
  });

  test('anonymous reaction totals become one event per unit of change', async () => {
    const m = await r.fake.injectMessage({ chat: GROUP, user: { id: '651', name: 'Lu' }, text: 'count me' });
    await r.fake.injectReactionCount({ chat: GROUP, message: m.id, counts: { '👍': 2 } });
    await r.fake.injectReactionCount({ chat: GROUP, message: m.id, counts: { '👍': 1, '🔥': 1 } });
    await waitFor(() => sink.events.filter((e) => e.kind === 'reaction' && e.messageId === m.id).length === 4, 'four reaction events');
    const seen = sink.events.filter((e) => e.kind === 'reaction' && e.messageId === m.id).map((e) => `${e.reaction!.added ? '+' : '-'}${e.reaction!.emoji}`);
    assert.deepEqual(seen.sort(), ['+👍', '+👍', '+🔥', '-👍'].sort());
  });

  test('unknown update types are counted and skipped, and the next update still arrives', async () => {
    r.fake.injectUpdate({ business_galaxy_update: { warp: 9 } }, { force: true });
    r.fake.injectUpdate({ message: 'not an object' }, { force: true });
    r.fake.injectUpdate({ message: { message_id: 1, chat: { id: 5, type: 'private' }, date: 1, text: 'x'.repeat(20_000), from: { id: 5, first_name: 'Huge' } } }, { force: true });
    const m = await r.fake.injectMessage({ chat: GROUP, user: { id: '661', name: 'Mo' }, text: 'still alive' });
    await find((e) => e.messageId === m.id && e.text === 'still alive', 'the next message');
    const details = r.adapter.status().details as { unknownTypes: Record<string, number>; skipped: Record<string, number>; rejected: number };
    assert.equal(details.unknownTypes.business_galaxy_update, 1);
    assert.equal(details.skipped.malformed, 1);
    assert.equal(details.rejected, 1, 'the oversized text is rejected');
    assert.equal(r.lines.filter((l) => String(l.msg).includes('does not make a valid event')).length, 1, 'one log line for it');
    await waitFor(() => r.fake.pendingUpdates().length === 0, 'all of them confirmed');
  });
});

describe('telegram admin rights', () => {
  test('user.isAdmin comes from getChatAdministrators, cached, and refreshed on chat_member updates', async () => {
    const sink = new TestSink();
    const r = await rig({ sink });
    try {
      const chat = '-1001000000002';
      await r.fake.injectMessage({ chat, user: { id: '701', name: 'Owner', admin: true }, text: 'I run this' });
      await r.fake.injectMessage({ chat, user: { id: '702', name: 'Member' }, text: 'hello' });
      await r.fake.injectMessage({ chat, user: { id: '702', name: 'Member' }, text: 'hello again' });
      await waitFor(() => sink.events.filter((e) => e.chat === `telegram:${chat}`).length === 3, 'three messages');
      const [a, b] = sink.events.filter((e) => e.chat === `telegram:${chat}`);
      assert.equal(a!.user.isAdmin, true);
      assert.equal(b!.user.isAdmin, false);
      const callsBefore = r.fake.calls('getChatAdministrators').length;
      assert.ok(callsBefore <= 2, `cached: ${callsBefore} lookups for three messages`);

      r.fake.setAdmin(chat, { id: '702', name: 'Member' }, true);
      await r.fake.injectMessage({ chat, user: { id: '702', name: 'Member' }, text: 'promoted now' });
      const promoted = await waitFor(() => sink.events.some((e) => e.text === 'promoted now'), 'message after promotion').then(() => sink.events.find((e) => e.text === 'promoted now')!);
      assert.equal(promoted.user.isAdmin, true, 'the chat_member update dropped the cached list');
    } finally {
      await r.close();
    }
  });

  test("the bot's missing rights and privacy mode are reported once in status and in the log", async () => {
    const r = await rig({ fake: { privacyMode: true, botIsAdmin: false } });
    try {
      const chat = '-1001000000003';
      assert.ok(r.adapter.status().problems.some((p) => p.includes('privacy mode is on')));
      await r.fake.injectMessage({ chat, user: { id: '711', name: 'Ann' }, text: '/help' });
      await r.fake.injectMessage({ chat, user: { id: '711', name: 'Ann' }, text: '/help' });
      await waitFor(() => r.adapter.status().problems.some((p) => p.includes(`telegram:${chat}`)), 'the rights problem');
      const p = r.adapter.status().problems.find((x) => x.includes(`telegram:${chat}`))!;
      assert.match(p, /not an administrator/);
      assert.equal(r.lines.filter((l) => String(l.msg).includes(`telegram:${chat}: the bot is not an administrator`)).length, 1, 'logged once');
      assert.equal(r.lines.filter((l) => String(l.msg).includes('privacy mode')).length, 1, 'logged once');
      // Promoting the bot clears it.
      r.fake.setBotStatus(chat, 'administrator');
      await waitFor(() => !r.adapter.status().problems.some((x) => x.includes(`telegram:${chat}`)), 'the problem to clear');
      // Privacy mode hides ordinary talk from a non-admin bot: that is what the problem warns about.
      const hidden = '-1001000000004';
      r.fake.setBotStatus(hidden, 'member');
      await r.fake.injectMessage({ chat: hidden, user: { id: '712', name: 'Ben' }, text: 'just chatting' });
      await r.fake.injectMessage({ chat: hidden, user: { id: '712', name: 'Ben' }, text: '/questions' });
      const sink = r.deps.sink as TestSink;
      await waitFor(() => sink.events.some((e) => e.text === '/questions'), 'the command');
      assert.ok(!sink.events.some((e) => e.text === 'just chatting'));
    } finally {
      await r.close();
    }
  });
});

describe('telegram no loss while polling', () => {
  test('when Redis cannot take an event, the update stays unconfirmed and arrives once it can', async () => {
    const sink = new TestSink();
    sink.failures = 3;
    const r = await rig({ sink });
    try {
      const m = await r.fake.injectMessage({ chat: GROUP, user: { id: '801', name: 'Nia' }, text: 'do not lose me' });
      await r.fake.waitForCall('getUpdates', (c) => Array.isArray(c.result) && (c.result as unknown[]).length > 0);
      assert.equal(r.fake.pendingUpdates().length, 1, 'not confirmed while publishing fails');
      await waitFor(() => sink.events.some((e) => e.messageId === m.id), 'the event after recovery');
      assert.equal(sink.events.filter((e) => e.messageId === m.id).length, 1);
      await waitFor(() => r.fake.pendingUpdates().length === 0, 'confirmation after the event is stored');
    } finally {
      await r.close();
    }
  });

  test('stop() while the sink hangs leaves the update unconfirmed for the next run', async () => {
    const sink = new TestSink();
    sink.hang = true;
    const r = await rig({ sink, adapter: { stopTimeoutMs: 300 } });
    try {
      await r.fake.injectMessage({ chat: GROUP, user: { id: '802', name: 'Oz' }, text: 'in flight' });
      await r.fake.waitForCall('getUpdates', (c) => Array.isArray(c.result) && (c.result as unknown[]).length > 0);
      // stop() must not wait forever on a hung publish; it gives up without confirming.
      // A stop() that waited for the hung publish would never return (the test's timeout would fail it).
      await r.adapter.stop();
      assert.equal(r.fake.pendingUpdates().length, 1, 'and did not confirm the update');
    } finally {
      sink.hang = false;
      await r.close();
    }
  });
});
