/** Telegram outbound: adapter.perform through the real telegraf client against the fake Bot API. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PlatformError } from '../../../src/core/errors.js';
import { createTelegramAdapter, MAX_MESSAGE_CHARS } from '../../../adapters/telegram/index.js';
import { freePort } from '../../../src/redis/connect.js';
import { rig, type Rig } from './harness.js';
import type { TestSink } from '../../helpers/adapter.js';
import { parseAction, type ActionFields, type AnyAction } from '../../helpers/core.js';

const G = '-1002000000001';
let n = 0;
const act = (a: ActionFields): AnyAction => parseAction({ v: 1, id: `t-${++n}`, platform: 'telegram', chat: `telegram:${G}`, ...a });

describe('telegram outbound', () => {
  let r: Rig;
  before(async () => {
    r = await rig({ start: false, fake: { floodControl: false } });
  });
  after(() => r.close());

  test('a reply action arrives in the fake as a reply in the right topic', async () => {
    const topic = r.fake.createTopic(G, 'AMA', { id: '11', name: 'Host' });
    const q = await r.fake.injectMessage({ chat: G, user: { id: '12', name: 'Asker' }, text: 'What about pricing?', thread: topic });
    const res = await r.adapter.perform(act({ type: 'send', chat: `telegram:${G}:${topic}`, replyTo: q.id, text: 'Answered: it stays free.' }));
    const entry = r.fake.outbox(G).find((e) => e.messageId === res.messageIds![0])!;
    assert.deepEqual({ type: entry.type, thread: entry.thread, replyTo: entry.replyTo, text: entry.text }, { type: 'send', thread: topic, replyTo: q.id, text: 'Answered: it stays free.' });
    assert.equal(res.chat, `telegram:${G}:${topic}`);
    const msg = r.fake.message(G, res.messageIds![0]!)!;
    assert.equal(msg.is_topic_message, true);
    assert.equal((msg.reply_to_message as { message_id: number }).message_id, Number(q.id));
  });

  test('the General topic is never sent a thread id', async () => {
    r.fake.setForum(G, true);
    await r.adapter.perform(act({ type: 'send', chat: `telegram:${G}:1`, text: 'to General via :1' }));
    await r.adapter.perform(act({ type: 'send', chat: `telegram:${G}`, text: 'to General' }));
    const calls = r.fake.calls('sendMessage').filter((c) => String(c.params.text).startsWith('to General'));
    assert.equal(calls.length, 2);
    for (const c of calls) {
      assert.equal(c.status, 200);
      assert.ok(!('message_thread_id' in c.params), 'no message_thread_id for General');
    }
  });

  test('a message over 4096 characters is split on paragraph borders and sent in order', async () => {
    const paragraphs = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}. ${'word '.repeat(150).trim()}.`);
    const text = paragraphs.join('\n\n');
    assert.ok(text.length > 2 * MAX_MESSAGE_CHARS);
    const res = await r.adapter.perform(act({ type: 'send', text }));
    assert.equal(res.messageIds!.length, 3);
    const sent = res.messageIds!.map((id) => r.fake.message(G, id)!.text as string);
    for (const s of sent) {
      assert.ok(s.length <= MAX_MESSAGE_CHARS);
      assert.match(s, /^Paragraph \d+\./, 'each part starts with a paragraph');
      assert.match(s, /word\.$/, 'and ends with one');
    }
    assert.equal(sent.join('\n\n'), text, 'nothing lost, nothing reordered');
  });

  test('a long paragraph is split on sentence borders, and formatting follows its text', async () => {
    const sentence = 'This sentence is **important** and long enough to matter. ';
    const text = sentence.repeat(120).trim();
    const res = await r.adapter.perform(act({ type: 'send', text, format: 'markdown' }));
    assert.equal(res.messageIds!.length, 2);
    for (const id of res.messageIds!) {
      const m = r.fake.message(G, id)!;
      const t = m.text as string;
      assert.match(t, /^This sentence/);
      assert.match(t, /matter\.$/);
      const bold = (m.entities as { type: string; offset: number; length: number }[]).filter((e) => e.type === 'bold');
      assert.ok(bold.length > 0);
      for (const e of bold) assert.equal(t.slice(e.offset, e.offset + e.length), 'important');
    }
  });

  test('user text with markup characters arrives verbatim: nothing to escape, no broken entities', async () => {
    const hostile = 'a <b>tag</b> & *stars* _under_ [x](javascript:alert(1)) `tick \\ back` ]] ** __ **';
    const plain = await r.adapter.perform(act({ type: 'send', text: hostile }));
    assert.equal(r.fake.message(G, plain.messageIds![0]!)!.text, hostile);
    const md = await r.adapter.perform(act({ type: 'send', format: 'markdown', text: `**Question 3** by _ann_: ${hostile}` }));
    const m = r.fake.message(G, md.messageIds![0]!)!;
    assert.ok((m.text as string).startsWith('Question 3 by ann: a <b>tag</b> & '));
    assert.ok(!(m.entities as { type: string; url?: string }[]).some((e) => e.type === 'text_link' && e.url?.startsWith('javascript')), 'no javascript: links');
  });

  test("a 429 is a wait for that chat carrying retry_after, decided on error_code; a 500 stays retryable", async () => {
    r.fake.failNext('sendMessage', { code: 429, retryAfter: 3 });
    await assert.rejects(r.adapter.perform(act({ type: 'send', text: 'limited' })), (e: unknown) => e instanceof PlatformError && e.retryAfterMs === 3000 && e.scope === 'per-chat' && e.code === 429 && e.method === 'sendMessage');
    r.fake.failNext('sendMessage', { code: 500 });
    await assert.rejects(r.adapter.perform(act({ type: 'send', text: 'server error' })), (e: unknown) => e instanceof Error && !(e instanceof PlatformError));
  });

  test('a split message retried after a 429 half way does not send the first part twice', async () => {
    const text = `${'a'.repeat(4000)}\n\n${'b'.repeat(4000)}`;
    const action = act({ type: 'send', text });
    // The first part goes out, then Telegram refuses the second.
    r.fake.failNext('sendMessage', { code: 429, retryAfter: 1, skip: 1 });
    const before = r.fake.outbox(G).length;
    const firstPart = r.adapter.perform(action);
    await assert.rejects(firstPart, (e: unknown) => e instanceof PlatformError && e.rateLimited);
    const res = await r.adapter.perform(action);
    const sent = r.fake.outbox(G).slice(before);
    assert.equal(sent.length, 2, 'two parts in all');
    assert.deepEqual(res.messageIds, sent.map((e) => e.messageId));
  });

  test('a 403 refuses the chat (scope per-chat), logged once however often it happens', async () => {
    const gone = '-1002000000009';
    await r.fake.injectMessage({ chat: gone, user: { id: '21', name: 'X' }, text: 'hello' });
    r.fake.setBotStatus(gone, 'kicked');
    for (let i = 0; i < 2; i++) {
      await assert.rejects(r.adapter.perform(act({ type: 'send', chat: `telegram:${gone}`, text: 'anyone?' })), (e: unknown) => e instanceof PlatformError && e.code === 403 && e.scope === 'per-chat');
    }
    assert.equal(r.lines.filter((l) => String(l.msg).includes('forbidden') && l.chat === `telegram:${gone}`).length, 1);
  });

  test('a DM to a user who never started the bot fails for good, and the next one is not even tried', async () => {
    await r.fake.injectMessage({ chat: G, user: { id: '31', name: 'Quiet' }, text: 'hi all' });
    const dm = () => r.adapter.perform(act({ type: 'dm', user: 'telegram:user:31', text: 'your catch-up' }));
    await assert.rejects(dm(), (e: unknown) => e instanceof PlatformError && e.code === 403);
    const calls = r.fake.calls('sendMessage').length;
    await assert.rejects(dm(), (e: unknown) => e instanceof PlatformError && e.final);
    assert.equal(r.fake.calls('sendMessage').length, calls, 'not retried against Telegram');
    // Writing to the bot lets it answer again (the adapter sees that message when it polls).
    await r.fake.injectMessage({ chat: '31', user: { id: '31', name: 'Quiet' }, text: '/start' });
    await r.adapter.startInbound();
    await r.fake.waitForCall('getUpdates', (c) => Array.isArray(c.result) && (c.result as { message?: { text?: string } }[]).some((u) => u.message?.text === '/start'));
    const deadline = Date.now() + 5000;
    let res;
    while (!res) {
      res = await dm().catch((e: unknown) => {
        if (Date.now() > deadline) throw e;
        return undefined;
      });
      if (!res) await new Promise((x) => setTimeout(x, 50));
    }
    assert.equal(r.fake.outbox('31').at(-1)?.text, 'your catch-up');
  });

  test('edit, delete, pin and react map to the Bot API and tolerate repeats', async () => {
    const sent = await r.adapter.perform(act({ type: 'send', text: 'v1', buttons: [{ label: 'Upvote', data: 'up:7' }] }));
    const id = sent.messageIds![0]!;
    assert.deepEqual(r.fake.message(G, id)!.reply_markup, { inline_keyboard: [[{ text: 'Upvote', callback_data: 'up:7' }]] });
    await r.adapter.perform(act({ type: 'edit', messageId: id, text: 'v2', buttons: [{ label: 'Upvote', data: 'up:7' }] }));
    await r.adapter.perform(act({ type: 'edit', messageId: id, text: 'v2', buttons: [{ label: 'Upvote', data: 'up:7' }] }));
    assert.equal(r.fake.message(G, id)!.text, 'v2');
    await r.adapter.perform(act({ type: 'pin', messageId: id }));
    await r.adapter.perform(act({ type: 'react', messageId: id, emoji: '❤️' }));
    await r.adapter.perform(act({ type: 'delete', messageId: id }));
    await r.adapter.perform(act({ type: 'delete', messageId: id }));
    const kinds = r.fake.outbox(G).filter((e) => e.messageId === id).map((e) => `${e.type}${e.text ? `:${e.text}` : ''}`);
    assert.deepEqual(kinds, ['send:v1', 'edit:v2', 'pin', 'react:❤', 'delete']);
  });

  test('ban, unban, mute with an end, and unmute change the member as Telegram would', async () => {
    const u = { id: '41', name: 'Spammer' };
    await r.fake.injectMessage({ chat: G, user: u, text: 'buy coins' });
    const until = Date.now() + 10 * 60_000;
    await r.adapter.perform(act({ type: 'mute', user: 'telegram:user:41', until, priority: 'moderation' }));
    assert.equal(r.fake.memberStatus(G, '41')!.status, 'restricted');
    assert.equal(r.fake.memberStatus(G, '41')!.until, Math.ceil(until / 1000));
    await r.adapter.perform(act({ type: 'unmute', user: 'telegram:user:41' }));
    assert.equal(r.fake.memberStatus(G, '41')!.status, 'member');
    // A 10-second mute would be read by Telegram as "forever": it is lengthened to just over 30 s instead.
    await r.adapter.perform(act({ type: 'mute', user: 'telegram:user:41', until: Date.now() + 10_000 }));
    assert.ok(r.fake.memberStatus(G, '41')!.until! > 0, 'not forever');
    await r.adapter.perform(act({ type: 'unmute', user: 'telegram:user:41' }));
    // Unbanning someone who is not banned must not remove them.
    await r.adapter.perform(act({ type: 'unban', user: 'telegram:user:41' }));
    assert.equal(r.fake.memberStatus(G, '41')!.status, 'member');
    await r.adapter.perform(act({ type: 'ban', user: 'telegram:user:41', reason: 'spam' }));
    assert.equal(r.fake.memberStatus(G, '41')!.status, 'kicked');
    await r.adapter.perform(act({ type: 'unban', user: 'telegram:user:41' }));
    assert.equal(r.fake.memberStatus(G, '41')!.status, 'left');
    const types = r.fake.outbox(G).filter((e) => e.user === '41').map((e) => e.type);
    assert.deepEqual(types, ['mute', 'unmute', 'mute', 'unmute', 'ban', 'unban']);
    r.fake.setAdmin(G, { id: '11', name: 'Host' });
    await assert.rejects(r.adapter.perform(act({ type: 'ban', user: 'telegram:user:11' })), (e: unknown) => e instanceof PlatformError && e.final, 'banning an admin is refused for good');
  });

  test('thread creates a forum topic (or, in a group without topics, is the group itself), and a send to it lands in the topic', async () => {
    const res = await r.adapter.perform(act({ type: 'thread', title: 'AMA with the team' }));
    assert.match(res.chat!, new RegExp(`^telegram:${G}:\\d+$`));
    const topic = res.chat!.split(':')[2]!;
    assert.deepEqual(r.fake.outbox(G).at(-1), { ...r.fake.outbox(G).at(-1)!, type: 'thread', thread: topic, text: 'AMA with the team' });
    await r.adapter.perform(act({ type: 'send', chat: res.chat!, text: 'first question' }));
    assert.equal(r.fake.outbox(G).at(-1)!.thread, topic);
    const plain = '-1002000000002';
    await r.fake.injectMessage({ chat: plain, user: { id: '51', name: 'P' }, text: 'not a forum' });
    assert.deepEqual(await r.adapter.perform(act({ type: 'thread', chat: `telegram:${plain}`, title: 'x' })), { chat: `telegram:${plain}` });
  });

  test('purge deletes the last messages the adapter saw in the group', async () => {
    const chat = '-1002000000003';
    const sink = r.deps.sink as TestSink;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await r.fake.injectMessage({ chat, user: { id: '61', name: 'Flood' }, text: `spam ${i}` })).id);
    const deadline = Date.now() + 5000;
    while (sink.events.filter((e) => e.chat === `telegram:${chat}`).length < 5 && Date.now() < deadline) await new Promise((x) => setTimeout(x, 20));
    await new Promise((x) => setTimeout(x, 100));
    const res = await r.adapter.perform(act({ type: 'purge', chat: `telegram:${chat}`, count: 3 }));
    assert.deepEqual([...res.messageIds!].sort(), ids.slice(2).sort());
    assert.equal(r.fake.message(chat, ids[1]!)?.text, 'spam 1', 'older ones stay');
    assert.equal(r.fake.message(chat, ids[4]!), undefined);
  });

  test('slow mode is refused for good: the Bot API cannot set it', async () => {
    await assert.rejects(r.adapter.perform(act({ type: 'slowmode', seconds: 30 })), (e: unknown) => e instanceof PlatformError && e.scope === 'permanent');
  });

  test('a network failure is a plain (retryable) error whose message never carries the bot token', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const offline = createTelegramAdapter({ token: r.fake.token, apiRoot: closed }, r.deps);
    await assert.rejects(offline.init(), (e: unknown) => e instanceof Error && !(e instanceof PlatformError && e.final) && !e.message.includes(r.fake.token.split(':')[1]!));
    assert.ok(!JSON.stringify(r.lines).includes(r.fake.token.split(':')[1]!), 'no log line carries the token');
  });
});
