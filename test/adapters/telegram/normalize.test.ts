/** Pure functions of the Telegram adapter: update normalization on recorded payloads, markdown to entities, splitting. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeUpdate, reactionCountEvents, type NormalizeContext } from '../../../adapters/telegram/normalize.js';
import { escapeHtml, escapeMarkdownV2, renderMarkdown, splitFormatted, truncateFormatted } from '../../../adapters/telegram/format.js';
import { ChatEventSchema } from '../../../src/core/events.js';

const ctx: NormalizeContext = { botId: 7000000001, botUsername: 'townhall_bot', adminsOf: (c) => (c === -1001500000000 ? new Set([111]) : undefined), now: 1_700_000_000_000 };
const chat = { id: -1001500000000, title: 'Townhall Community', username: 'townhall_community', type: 'supergroup', is_forum: true };
const ada = { id: 111, is_bot: false, first_name: 'Ada', last_name: 'L', username: 'ada', language_code: 'en' };
const bob = { id: 222, is_bot: false, first_name: 'Bob', language_code: 'pt-br' };

type Row = { name: string; update: Record<string, unknown>; expect: Record<string, unknown> | null; skipped?: string };

// Payloads as Telegram sends them (shapes from the Bot API docs and real bots' logs).
const rows: Row[] = [
  {
    name: 'group text message from an admin, with a command entity',
    update: { update_id: 1, message: { message_id: 10, from: ada, chat, date: 1_700_000_000, text: '/ask What ships next?', entities: [{ offset: 0, length: 4, type: 'bot_command' }] } },
    expect: { id: 'telegram/message/-1001500000000/10', kind: 'command', chat: 'telegram:-1001500000000', user: { id: 'telegram:user:111', name: 'Ada L', username: 'ada', isAdmin: true, lang: 'en' }, at: 1_700_000_000_000, url: 'https://t.me/townhall_community/10' },
  },
  {
    name: 'forum topic message: topic in the chat id, the implicit reply to the topic root dropped',
    update: {
      update_id: 2,
      message: { message_id: 31, message_thread_id: 30, is_topic_message: true, from: bob, chat, date: 1_700_000_001, text: 'hi', reply_to_message: { message_id: 30, message_thread_id: 30, is_topic_message: true, from: ada, chat, date: 1, forum_topic_created: { name: 'AMA', icon_color: 1 } } },
    },
    expect: { chat: 'telegram:-1001500000000:30', replyTo: undefined, replyToUser: undefined, user: { id: 'telegram:user:222', name: 'Bob', isAdmin: false, lang: 'pt-br' }, url: 'https://t.me/townhall_community/30/31' },
  },
  {
    name: 'a real reply inside a topic keeps its replyTo',
    update: { update_id: 3, message: { message_id: 33, message_thread_id: 30, is_topic_message: true, from: bob, chat, date: 1, text: 'agreed', reply_to_message: { message_id: 31, message_thread_id: 30, is_topic_message: true, from: ada, chat, date: 1, text: 'hi' } } },
    expect: { chat: 'telegram:-1001500000000:30', replyTo: '31', replyToUser: 'telegram:user:111' },
  },
  {
    name: 'reply thread in a non-forum supergroup: message_thread_id without is_topic_message is not a topic',
    update: { update_id: 4, message: { message_id: 41, message_thread_id: 40, from: bob, chat: { ...chat, is_forum: undefined }, date: 1, text: 'reply', reply_to_message: { message_id: 40, from: ada, chat, date: 1, text: 'root' } } },
    expect: { chat: 'telegram:-1001500000000', replyTo: '40' },
  },
  {
    name: 'anonymous administrator posting as the group',
    update: { update_id: 5, message: { message_id: 50, from: { id: 1087968824, is_bot: true, first_name: 'Group', username: 'GroupAnonymousBot' }, sender_chat: chat, chat, date: 1, text: '/ama start', entities: [{ offset: 0, length: 4, type: 'bot_command' }] } },
    expect: { kind: 'command', user: { id: 'telegram:user:-1001500000000', name: 'Townhall Community', username: 'townhall_community', isAdmin: true } },
  },
  {
    name: 'channel post: chatType channel, the channel as author',
    update: { update_id: 6, channel_post: { message_id: 60, sender_chat: { id: -1001999, title: 'News', type: 'channel' }, chat: { id: -1001999, title: 'News', type: 'channel' }, date: 1, text: 'Release day' } },
    expect: { chat: 'telegram:-1001999', chatType: 'channel', user: { id: 'telegram:user:-1001999', name: 'News', isAdmin: true } },
  },
  {
    name: 'photo caption with caption entities; UTF-16 offsets after an emoji',
    update: {
      update_id: 7,
      message: {
        message_id: 70, from: bob, chat, date: 1, photo: [{ file_id: 'x', file_unique_id: 'y', width: 1, height: 1 }],
        caption: '🎉 @ada see https://ex.am/p', caption_entities: [{ offset: 3, length: 4, type: 'mention' }, { offset: 12, length: 15, type: 'url' }],
      },
    },
    expect: { kind: 'message', text: '🎉 @ada see https://ex.am/p', mentions: ['ada'], links: ['https://ex.am/p'] },
  },
  {
    name: 'text_link and text_mention entities; an entity past the end is ignored',
    update: {
      update_id: 8,
      message: { message_id: 80, from: bob, chat, date: 1, text: 'docs and Ada', entities: [{ offset: 0, length: 4, type: 'text_link', url: 'https://docs.ex' }, { offset: 9, length: 3, type: 'text_mention', user: ada }, { offset: 50, length: 5, type: 'url' }] },
    },
    expect: { links: ['https://docs.ex'], mentions: ['telegram:user:111'] },
  },
  {
    name: 'a sticker (no text) is still a message, without text',
    update: { update_id: 9, message: { message_id: 90, from: bob, chat, date: 1, sticker: { file_id: 's' } } },
    expect: { kind: 'message', text: undefined },
  },
  {
    name: 'edited message: kind edit, time of the edit, id carries the edit date',
    update: { update_id: 10, edited_message: { message_id: 10, from: ada, chat, date: 1_700_000_000, edit_date: 1_700_000_100, text: 'fixed' } },
    expect: { kind: 'edit', id: 'telegram/edit/-1001500000000/10/1700000100', at: 1_700_000_100_000, text: 'fixed' },
  },
  {
    name: 'private /start: chatType private, never admin',
    update: { update_id: 11, message: { message_id: 1, from: bob, chat: { id: 222, first_name: 'Bob', type: 'private' }, date: 1, text: '/start', entities: [{ offset: 0, length: 6, type: 'bot_command' }] } },
    expect: { chat: 'telegram:222', chatType: 'private', kind: 'command', user: { id: 'telegram:user:222', name: 'Bob', isAdmin: false, lang: 'pt-br' }, url: undefined },
  },
  {
    name: 'a basic group (not supergroup) has no t.me link',
    update: { update_id: 12, message: { message_id: 5, from: bob, chat: { id: -4012345, title: 'Small', type: 'group' }, date: 1, text: 'hey' } },
    expect: { chat: 'telegram:-4012345', chatType: 'group', url: undefined },
  },
  { name: 'pinned-message service message is skipped', update: { update_id: 13, message: { message_id: 99, from: ada, chat, date: 1, pinned_message: { message_id: 10, chat, date: 1 } } }, expect: null, skipped: 'service' },
  { name: 'the bot itself joining is not a join event', update: { update_id: 14, message: { message_id: 98, from: ada, chat, date: 1, new_chat_members: [{ id: 7000000001, is_bot: true, first_name: 'Townhall' }] } }, expect: null, skipped: 'service' },
  { name: 'callback query without data (a game button) is ignored', update: { update_id: 15, callback_query: { id: '77', from: bob, chat_instance: '1', game_short_name: 'g', message: { message_id: 1, chat, date: 1 } } }, expect: null, skipped: 'ignored' },
  { name: 'poll updates are ignored', update: { update_id: 16, poll: { id: 'p', question: 'q', options: [] } }, expect: null, skipped: 'ignored' },
  { name: 'an unknown update type is reported as unknown', update: { update_id: 17, quantum_entanglement: { spooky: true } }, expect: null, skipped: 'unknown' },
  { name: 'a message without a chat is malformed', update: { update_id: 18, message: { message_id: 1, from: bob, date: 1, text: 'x' } }, expect: null, skipped: 'malformed' },
  { name: 'an update without update_id is malformed', update: { message: { message_id: 1, from: bob, chat, date: 1, text: 'x' } }, expect: null, skipped: 'malformed' },
];

describe('normalizeUpdate on recorded payloads', () => {
  for (const row of rows) {
    test(row.name, () => {
      const n = normalizeUpdate(row.update, ctx);
      if (row.expect === null) {
        assert.equal(n.events.length, 0);
        assert.equal(n.skipped, row.skipped);
        return;
      }
      assert.equal(n.events.length, 1);
      const e = n.events[0]!;
      assert.ok(ChatEventSchema.safeParse(e).success, 'a valid ChatEvent');
      for (const [k, v] of Object.entries(row.expect)) assert.deepEqual((e as Record<string, unknown>)[k], v, k);
    });
  }

  test('joins: one event per new member, each with a stable id', () => {
    const n = normalizeUpdate({ update_id: 20, message: { message_id: 200, from: ada, chat, date: 1, new_chat_members: [bob, { id: 333, is_bot: false, first_name: 'Cy' }] } }, ctx);
    assert.deepEqual(n.events.map((e) => [e.kind, e.id, e.user.id]), [
      ['join', 'telegram/join/-1001500000000/200/222', 'telegram:user:222'],
      ['join', 'telegram/join/-1001500000000/200/333', 'telegram:user:333'],
    ]);
  });

  test('message_reaction: the difference between old and new, custom emoji and variation selectors normalized', () => {
    const n = normalizeUpdate(
      {
        update_id: 21,
        message_reaction: { chat, message_id: 10, user: bob, date: 5, old_reaction: [{ type: 'emoji', emoji: '❤️' }], new_reaction: [{ type: 'emoji', emoji: '👍' }, { type: 'custom_emoji', custom_emoji_id: '5368324170671202286' }] },
      },
      { ...ctx, topicOf: () => 30 },
    );
    assert.deepEqual(n.events.map((e) => [e.reaction!.emoji, e.reaction!.added]), [['👍', true], ['custom:5368324170671202286', true], ['❤', false]]);
    assert.equal(n.events[0]!.chat, 'telegram:-1001500000000:30', 'topic from what the bot remembered');
    assert.equal(new Set(n.events.map((e) => e.id)).size, 3);
  });

  test('callback query: a vote with the button data and a handle to answer it', () => {
    const n = normalizeUpdate({ update_id: 22, callback_query: { id: '4382bfdwdsb323b2d9', from: bob, chat_instance: '42', data: 'up:q7', message: { message_id: 12, message_thread_id: 30, is_topic_message: true, chat, date: 1, text: 'Q7' } } }, ctx);
    const e = n.events[0]!;
    assert.deepEqual([e.kind, e.chat, e.messageId, e.vote, e.replyHandle, e.at], ['vote', 'telegram:-1001500000000:30', '12', { target: 'up:q7', added: true }, 'cb:4382bfdwdsb323b2d9', 1_700_000_000_000]);
  });

  test('chat_member changes of admin status ask for the admin list to be dropped; my_chat_member reports the bot', () => {
    const promoted = normalizeUpdate({ update_id: 23, chat_member: { chat, from: ada, date: 1, old_chat_member: { status: 'member', user: bob }, new_chat_member: { status: 'administrator', user: bob } } }, ctx);
    assert.equal(promoted.adminsChanged, chat.id);
    const joined = normalizeUpdate({ update_id: 24, chat_member: { chat, from: bob, date: 1, old_chat_member: { status: 'left', user: bob }, new_chat_member: { status: 'member', user: bob } } }, ctx);
    assert.equal(joined.adminsChanged, undefined);
    const kicked = normalizeUpdate({ update_id: 25, my_chat_member: { chat, from: ada, date: 1, old_chat_member: { status: 'administrator', user: { id: 7000000001 } }, new_chat_member: { status: 'kicked', user: { id: 7000000001 } } } }, ctx);
    assert.deepEqual(kicked.botMembership, { chatId: chat.id, chatType: 'supergroup', status: 'kicked' });
  });

  test('anonymous reaction totals: one event per unit of change, bounded', () => {
    const ev = reactionCountEvents({ chatId: -100, chatType: 'channel', messageId: 1, counts: { '👍': 3, '🔥': 0 }, date: 1 }, { '👍': 1, '🔥': 2 }, 99);
    assert.deepEqual(ev.map((e) => `${e.reaction!.added ? '+' : '-'}${e.reaction!.emoji}`).sort(), ['+👍', '+👍', '-🔥', '-🔥'].sort());
    assert.equal(reactionCountEvents({ chatId: -100, chatType: 'channel', messageId: 1, counts: { '👍': 1_000_000 }, date: 1 }, {}, 100).length, 100);
  });

  test('hostile input never throws', () => {
    const junk: unknown[] = [{}, { update_id: 'x' }, { update_id: 1, message: null }, { update_id: 1, message: [] }, { update_id: 1, message_reaction: { chat: 5 } }, { update_id: 1, callback_query: { id: 5 } }, { update_id: 1, message: { chat: { id: 1 }, message_id: 1, entities: 'no', text: 5 } }];
    for (const j of junk) assert.doesNotThrow(() => normalizeUpdate(j as Record<string, unknown>, ctx));
  });
});

describe('markdown subset to entities', () => {
  const cases: [string, string, [string, string][]][] = [
    ['**bold** and _italic_', 'bold and italic', [['bold', 'bold'], ['italic', 'italic']]],
    ['a [link](https://ex.am) here', 'a link here', [['text_link', 'link']]],
    ['run `npm test` now', 'run npm test now', [['code', 'npm test']]],
    ['**bold with _italic_ inside**', 'bold with italic inside', [['bold', 'bold with italic inside'], ['italic', 'italic']]],
    ['snake_case_name stays', 'snake_case_name stays', []],
    ['2 * 3 ** 4 and a_b', '2 * 3 ** 4 and a_b', []],
    ['[evil](javascript:alert(1))', '[evil](javascript:alert(1))', []],
    ['\\*\\*not bold\\*\\* and \\_x\\_', '**not bold** and _x_', []],
    ['unclosed **bold and `code', 'unclosed **bold and `code', []],
    ['😀 **b**', '😀 b', [['bold', 'b']]],
    ['**** stays', '**** stays', []],
    ['_a **b_ c**', 'a **b c**', [['italic', 'a **b']]],
  ];
  for (const [src, text, ents] of cases) {
    test(JSON.stringify(src), () => {
      const f = renderMarkdown(src);
      assert.equal(f.text, text);
      assert.deepEqual(f.entities.map((e) => [e.type, f.text.slice(e.offset, e.offset + e.length)]), ents);
    });
  }

  test('a pathological input is rendered (in linear time: a backtracking parser would hold the test past its timeout)', () => {
    assert.ok(renderMarkdown('**_['.repeat(5000) + 'x').text.length > 0);
    assert.ok(renderMarkdown('_a '.repeat(20_000)).text.length > 0);
  });

  test('escapes for callers that must use parse modes', () => {
    assert.equal(escapeHtml('<b>&"'), '&lt;b&gt;&amp;&quot;');
    assert.equal(escapeMarkdownV2('a_b*c.d!'), 'a\\_b\\*c\\.d\\!');
  });
});

describe('splitting long messages', () => {
  test('prefers paragraph, then sentence, then word borders, and never exceeds the limit', () => {
    const para = 'First sentence here. Second one is here too.';
    const parts = splitFormatted({ text: `${para}\n\n${para}\n\n${para}`, entities: [] }, 100);
    assert.deepEqual(parts.map((p) => p.text), [`${para}\n\n${para}`, para]);
    const sentences = splitFormatted({ text: 'One two three. Four five six. Seven eight nine.', entities: [] }, 32);
    assert.deepEqual(sentences.map((p) => p.text), ['One two three. Four five six.', 'Seven eight nine.']);
    const words = splitFormatted({ text: 'alpha beta gamma delta epsilon', entities: [] }, 12);
    for (const p of words) assert.ok(p.text.length <= 12);
    assert.equal(words.map((p) => p.text).join(' '), 'alpha beta gamma delta epsilon');
  });

  test('an entity across a border is cut into both parts; a surrogate pair is never split', () => {
    const text = `${'a'.repeat(8)} ${'b'.repeat(8)}`;
    const parts = splitFormatted({ text, entities: [{ type: 'bold', offset: 4, length: 10 }] }, 10);
    assert.deepEqual(parts.map((p) => [p.text, p.entities.map((e) => p.text.slice(e.offset, e.offset + e.length))]), [
      ['aaaaaaaa', ['aaaa']],
      ['bbbbbbbb', ['bbbbb']],
    ]);
    const emoji = splitFormatted({ text: '😀'.repeat(10), entities: [] }, 5);
    for (const p of emoji) assert.ok(!/[\uD800-\uDBFF]$/.test(p.text) && !/^[\uDC00-\uDFFF]/.test(p.text));
    assert.equal(emoji.map((p) => p.text).join(''), '😀'.repeat(10));
  });

  test('edits cannot be split: they are cut with an ellipsis', () => {
    const t = truncateFormatted({ text: 'x'.repeat(5000), entities: [{ type: 'bold', offset: 4000, length: 1000 }] });
    assert.equal(t.text.length, 4096);
    assert.ok(t.text.endsWith('…'));
    assert.equal(t.entities[0]!.offset + t.entities[0]!.length, 4095);
  });
});
