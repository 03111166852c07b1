/** Discord's pure pieces as table tests: formatting, splitting, permissions, command text, and normalizing recorded payloads. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PermissionFlagsBits as F } from 'discord.js';
import { TOWNHALL_COMMANDS, interactionToCommand } from '../../../adapters/discord/commands.js';
import { safeRoute } from '../../../adapters/discord/errors.js';
import { defuseMassMentions, escapeDiscordText, renderText, splitMessage } from '../../../adapters/discord/format.js';
import { decodeReplyHandle, encodeReplyHandle, normalizeDispatch, snowflakeTime, type ChannelInfo, type NormalizeContext } from '../../../adapters/discord/normalize.js';
import { computeChannelPermissions, isModerator } from '../../../adapters/discord/permissions.js';
import { ChatEventSchema } from '../../../src/core/events.js';

describe('discord text', () => {
  const cases: [string, string, 'plain' | 'markdown', string][] = [
    ['plain text is shown literally', '**not bold** _x_ `y` ~~z~~ ||s||', 'plain', '\\*\\*not bold\\*\\* \\_x\\_ \\`y\\` \\~\\~z\\~\\~ \\|\\|s\\|\\|'],
    ['block syntax at line start is escaped', '# Title\n> quote\n- item\n1. one\n-# small', 'plain', '\\# Title\n\\> quote\n\\- item\n1\\. one\n\\-# small'],
    ['URLs stay clickable', 'see https://ex.com/a_b*c now', 'plain', 'see https://ex.com/a_b*c now'],
    ['masked links in user text are defused', '[click](https://evil.example)', 'plain', '\\[click\\](https://evil.example)'],
    ['markdown subset renders', '**Q1** _by Ada_ [docs](https://ex.com) `code`', 'markdown', '**Q1** *by Ada* [docs](https://ex.com) `code`'],
    ['markdown escapes what is not in the subset', '**Q1**: what about ~~this~~ # and > that?', 'markdown', '**Q1**: what about \\~\\~this\\~\\~ # and > that?'],
    ['user text inside bold is escaped', '**a_b*c**', 'markdown', '**a\\_b\\*c**'],
    ['mass mentions are defused everywhere', '@everyone and @here', 'plain', '@\u200beveryone and @\u200bhere'],
    ['mass mentions in code are defused too', '`@everyone`', 'markdown', '`@\u200beveryone`'],
  ];
  for (const [name, input, format, expected] of cases) {
    test(name, () => assert.equal(renderText(input, format), expected));
  }

  test('escaping is idempotent in what it shows: no raw mass mention survives', () => {
    for (const s of ['@everyone', '@Everyone', 'x@here', '@everyone@here']) assert.doesNotMatch(escapeDiscordText(s), /@(everyone|here)/i);
    assert.equal(defuseMassMentions('mail me@here.com'), 'mail me@\u200bhere.com');
  });

  test('splitting prefers line then word boundaries and keeps every character', () => {
    const text = `${'a'.repeat(1500)}\n${'b '.repeat(600)}`;
    const parts = splitMessage(text);
    assert.ok(parts.every((p) => p.length <= 2000));
    assert.equal(parts[0], 'a'.repeat(1500));
    assert.equal(parts.join('\n').replace(/\s+/g, ''), text.replace(/\s+/g, ''));
  });

  test('splitting never ends a chunk on an escaping backslash or half an emoji', () => {
    const esc = splitMessage(`${'x'.repeat(1999)}\\*tail`);
    assert.ok(!esc[0]!.endsWith('\\'));
    const emoji = splitMessage(`${'x'.repeat(1999)}😀tail`);
    assert.ok(!/[\ud800-\udbff]$/.test(emoji[0]!));
    assert.equal(emoji.join(''), `${'x'.repeat(1999)}😀tail`);
  });

  test('a word longer than the limit is cut hard', () => {
    const parts = splitMessage('y'.repeat(4500));
    assert.deepEqual(parts.map((p) => p.length), [2000, 2000, 500]);
  });
});

describe('discord permissions', () => {
  const guildId = 'g';
  const base = {
    guildId,
    ownerId: 'owner',
    rolePermissions: new Map<string, bigint>([
      [guildId, F.ViewChannel | F.SendMessages],
      ['mods', F.BanMembers | F.ModerateMembers],
      ['admins', F.Administrator],
      ['muted', 0n],
    ]),
    overwrites: [] as { id: string; type: number; allow: bigint; deny: bigint }[],
  };
  const none = new Set<string>();
  const cases: [string, Partial<Parameters<typeof computeChannelPermissions>[0]>, boolean][] = [
    ['a plain member is not a moderator', { userId: 'u', memberRoles: [] }, false],
    ['the owner is', { userId: 'owner', memberRoles: [] }, true],
    ['a role with ban/timeout rights is', { userId: 'u', memberRoles: ['mods'] }, true],
    ['administrator is', { userId: 'u', memberRoles: ['admins'] }, true],
    ['manage messages granted on this channel to the member is', { userId: 'u', memberRoles: [], overwrites: [{ id: 'u', type: 1, allow: F.ManageMessages, deny: 0n }] }, true],
    ['manage messages granted to a role on this channel is', { userId: 'u', memberRoles: ['muted'], overwrites: [{ id: 'muted', type: 0, allow: F.ManageMessages, deny: 0n }] }, true],
    ['a member deny beats a role allow', { userId: 'u', memberRoles: ['muted'], overwrites: [{ id: 'muted', type: 0, allow: F.ManageMessages, deny: 0n }, { id: 'u', type: 1, allow: 0n, deny: F.ManageMessages }] }, false],
    ['a timed-out moderator is not', { userId: 'u', memberRoles: ['mods'], timedOutUntil: Date.now() + 60_000 }, false],
    ['a timeout that ended does not matter', { userId: 'u', memberRoles: ['mods'], timedOutUntil: Date.now() - 60_000 }, true],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => {
      const p = { ...base, userId: 'u', memberRoles: [] as string[], ...input };
      assert.equal(isModerator(computeChannelPermissions(p), p.memberRoles, none), expected);
    });
  }
  test('a configured moderator role counts without permissions', () => {
    assert.equal(isModerator(0n, ['helpers'], new Set(['helpers'])), true);
  });
});

describe('discord commands', () => {
  test('definitions follow Discord rules: names, descriptions, required options first', () => {
    for (const c of TOWNHALL_COMMANDS) {
      assert.match(c.name, /^[-_a-z0-9]{1,32}$/);
      assert.ok(c.description.length >= 1 && c.description.length <= 100, c.name);
      const check = (opts: typeof c.options) => {
        let optional = false;
        for (const o of opts ?? []) {
          if (o.type === 1 || o.type === 2) check(o.options);
          else if (o.required) assert.ok(!optional, `${c.name}.${o.name} required after optional`);
          else optional = true;
        }
      };
      check(c.options);
    }
  });

  const cases: [string, Parameters<typeof interactionToCommand>[0], string | null][] = [
    ['no options', { name: 'questions' }, '/questions'],
    ['string and integer', { name: 'answer', options: [{ name: 'n', type: 4, value: 3 }, { name: 'text', type: 3, value: 'Yes, in May.' }] }, '/answer 3 Yes, in May.'],
    ['multi-word value in the middle is quoted', { name: 'ama', options: [{ name: 'schedule', type: 1, options: [{ name: 'when', type: 3, value: '2026-12-01 14:00 UTC' }, { name: 'duration', type: 3, value: '1h' }, { name: 'title', type: 3, value: 'Big AMA' }] }] }, '/ama schedule "2026-12-01 14:00 UTC" 1h Big AMA'],
    ['ama info is bare /ama', { name: 'ama', options: [{ name: 'info', type: 1 }] }, '/ama'],
    ['user option is a mention', { name: 'mute', options: [{ name: 'user', type: 6, value: '42' }, { name: 'duration', type: 3, value: '10m' }] }, '/mute <@42> 10m'],
    ['a hostile name is refused', { name: 'ask; rm -rf' }, null],
  ];
  for (const [name, data, expected] of cases) {
    test(`interaction text: ${name}`, () => assert.equal(interactionToCommand(data)?.text ?? null, expected));
  }

  test('rate-limit routes never carry interaction or webhook tokens', () => {
    assert.equal(safeRoute('/interactions/:id/aW50ZXJhY3Rpb24secret/callback'), '/interactions/:id/:token/callback');
    assert.equal(safeRoute('/webhooks/123/secret/messages/:id'), '/webhooks/123/:token/messages/:id');
  });

  test('reply handles round-trip and refuse junk', () => {
    const h = encodeReplyHandle('111', '222', 'aW50.ZXJ-_x');
    assert.deepEqual(decodeReplyHandle(h), { applicationId: '111', interactionId: '222', token: 'aW50.ZXJ-_x' });
    assert.equal(decodeReplyHandle('nonsense'), null);
    assert.equal(decodeReplyHandle('1:2:tok en'), null);
  });
});

describe('discord normalizer on recorded payloads', () => {
  const channels = new Map<string, ChannelInfo>([
    ['100', { id: '100', type: 0, guildId: 'g', parentId: null }],
    ['200', { id: '200', type: 11, guildId: 'g', parentId: '100', parentType: 0, name: 'a thread' }],
    ['300', { id: '300', type: 15, guildId: 'g', parentId: null }],
    ['301', { id: '301', type: 11, guildId: 'g', parentId: '300', parentType: 15, name: 'Post title' }],
  ]);
  const ctx: NormalizeContext = {
    botUserId: 'bot',
    botUsername: 'townhall_bot',
    sessionId: 'sess',
    ephemeralCommands: new Set(['catchup']),
    channel: (id) => channels.get(id),
    isAdmin: (_g, _c, userId) => userId === 'moduser',
    cachedAuthor: (_c, m) => (m === '555' ? { id: 'ada', name: 'Ada' } : undefined),
    cachedUser: () => undefined,
    systemChannel: () => '100',
    now: () => 1_700_000_000_000,
  };
  const author = { id: 'ada', username: 'ada', global_name: 'Ada L', discriminator: '0', avatar: null };
  const msg = (over: Record<string, unknown> = {}) => ({
    id: '1234567890123456789', type: 0, channel_id: '100', guild_id: 'g', author, content: 'hello', timestamp: '2024-05-01T10:00:00.000Z',
    edited_timestamp: null, mentions: [], attachments: [], member: { roles: [], nick: null }, ...over,
  });

  test('every produced event passes the border schema', () => {
    const all = [
      normalizeDispatch('MESSAGE_CREATE', msg(), 3, ctx),
      normalizeDispatch('MESSAGE_CREATE', msg({ channel_id: '200' }), 4, ctx),
      normalizeDispatch('MESSAGE_UPDATE', msg({ edited_timestamp: '2024-05-01T10:01:00.000Z' }), 5, ctx),
      normalizeDispatch('MESSAGE_DELETE', { id: '555', channel_id: '100', guild_id: 'g' }, 6, ctx),
      normalizeDispatch('MESSAGE_REACTION_ADD', { user_id: 'bob', channel_id: '100', message_id: '555', guild_id: 'g', emoji: { id: null, name: '👍' } }, 7, ctx),
      normalizeDispatch('GUILD_MEMBER_ADD', { guild_id: 'g', user: author, joined_at: '2024-05-01T10:00:00.000Z', roles: [] }, 8, ctx),
    ].flatMap((n) => n.events);
    assert.equal(all.length, 6);
    for (const e of all) assert.ok(ChatEventSchema.safeParse(e).success, JSON.stringify(e));
  });

  test('a message in a thread is <channel>:<thread>; a forum post start gets its title', () => {
    assert.equal(normalizeDispatch('MESSAGE_CREATE', msg({ channel_id: '200' }), 1, ctx).events[0]!.chat, 'discord:100:200');
    const post = normalizeDispatch('MESSAGE_CREATE', msg({ id: '301', channel_id: '301', content: 'body' }), 1, ctx).events[0]!;
    assert.equal(post.chat, 'discord:300:301');
    assert.equal(post.text, 'Post title\n\nbody');
  });

  test('a message in an unknown guild channel asks for the channel first', () => {
    assert.equal(normalizeDispatch('MESSAGE_CREATE', msg({ channel_id: '999' }), 1, ctx).needsChannel, '999');
  });

  test('a reaction id is stable across a replay of the same dispatch, distinct for a later one', () => {
    const d = { user_id: 'bob', channel_id: '100', message_id: '555', guild_id: 'g', emoji: { id: '77', name: 'party' } };
    const a = normalizeDispatch('MESSAGE_REACTION_ADD', d, 9, ctx).events[0]!;
    const b = normalizeDispatch('MESSAGE_REACTION_ADD', d, 9, ctx).events[0]!;
    const c = normalizeDispatch('MESSAGE_REACTION_ADD', d, 12, ctx).events[0]!;
    assert.equal(a.id, b.id);
    assert.notEqual(a.id, c.id);
    assert.equal(a.reaction?.emoji, 'party:77');
  });

  const skips: [string, string, unknown, string][] = [
    ['own message', 'MESSAGE_CREATE', msg({ author: { ...author, id: 'bot' } }), 'own'],
    ['system message (pin notice)', 'MESSAGE_CREATE', msg({ type: 6 }), 'system'],
    ['no author', 'MESSAGE_CREATE', msg({ author: undefined }), 'malformed'],
    ['null payload', 'MESSAGE_CREATE', null, 'malformed'],
    ['array payload', 'MESSAGE_CREATE', [1, 2], 'malformed'],
    ['embed update', 'MESSAGE_UPDATE', { id: '1', channel_id: '100', guild_id: 'g', embeds: [] }, 'partial-update'],
    ['empty content', 'MESSAGE_CREATE', msg({ content: '' }), 'empty'],
    ['unknown type', 'SOMETHING_NEW', {}, 'unknown:SOMETHING_NEW'],
    ['state only', 'GUILD_ROLE_UPDATE', {}, 'state'],
    ['ids with separators', 'MESSAGE_CREATE', msg({ id: 'a/b:c' }), 'malformed'],
    ['interaction without token', 'INTERACTION_CREATE', { id: '5', type: 2, application_id: 'app', channel_id: '100', data: { name: 'ask' } }, 'malformed'],
  ];
  for (const [name, t, d, reason] of skips) {
    test(`skipped: ${name}`, () => {
      const n = normalizeDispatch(t, d, 1, ctx);
      assert.equal(n.events.length, 0);
      assert.equal(n.skipped, reason);
    });
  }

  test('a moderator slash command carries the reply handle and admin flag; /catchup defers privately', () => {
    const d = {
      id: '1234567890123456789', application_id: 'app', type: 2, token: 'tok', channel_id: '100', guild_id: 'g',
      member: { user: { id: 'moduser', username: 'mo' }, roles: [], permissions: '0' }, data: { name: 'catchup', type: 1, options: [{ name: 'window', type: 3, value: '2h' }] },
    };
    const n = normalizeDispatch('INTERACTION_CREATE', d, 1, ctx);
    assert.equal(n.events[0]!.text, '/catchup 2h');
    assert.equal(n.events[0]!.user.isAdmin, true);
    assert.equal(n.events[0]!.replyHandle, 'app:1234567890123456789:tok');
    assert.deepEqual(n.interaction && { type: n.interaction.callbackType, ephemeral: n.interaction.ephemeral }, { type: 5, ephemeral: true });
    assert.equal(n.events[0]!.at, snowflakeTime('1234567890123456789'));
  });

  test('member permissions sent with an interaction make a moderator', () => {
    const d = {
      id: '5', application_id: 'app', type: 2, token: 'tok', channel_id: '100', guild_id: 'g',
      member: { user: { id: 'someone', username: 's' }, roles: [], permissions: String(F.ManageMessages) }, data: { name: 'purge', options: [{ name: 'count', type: 4, value: 5 }] },
    };
    assert.equal(normalizeDispatch('INTERACTION_CREATE', d, 1, ctx).events[0]!.user.isAdmin, true);
  });
});
