/** The Slack adapter's platform-independent parts: ids, normalizing payloads into ChatEvents, mrkdwn, splitting, the question card. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { messageBlocks } from '../../../adapters/slack/blocks.js';
import { emojiOfName, nameOfEmoji } from '../../../adapters/slack/emoji.js';
import { escapeMrkdwn, markdownToMrkdwn, renderText, splitMrkdwn } from '../../../adapters/slack/format.js';
import { parseSlackChat, slackChat, tsToMs } from '../../../adapters/slack/ids.js';
import { decodeReplyHandle, normalizeBlockActions, normalizeEvent, normalizeSlashCommand, textParts, type SlackChatEvent, type SlackContext, type SlackEventCallback } from '../../../adapters/slack/normalize.js';
import { ChatEventSchema } from '../../../src/core/events.js';
import { baseChat, parseChatKey } from '../../../src/core/ids.js';
import { isChatId, isUserId, nativeMention } from '../../../src/platform/index.js';
import { blockErrors } from '../../../fakes/slack/blocks.js';
import { startSlackFake, type SlackFake } from '../../../fakes/slack/index.js';

function valid(e: SlackChatEvent | undefined): SlackChatEvent {
  assert.ok(e, 'an event');
  const r = ChatEventSchema.safeParse(e);
  assert.ok(r.success, r.success ? '' : JSON.stringify(r.error.issues[0]));
  return e;
}

describe('slack ids', { timeout: 10_000 }, () => {
  test('a thread chat id carries the root ts (with its dot) and parses back', () => {
    const id = slackChat('T0TEAM', 'C0GEN', '1700000000.000100');
    assert.equal(id, 'slack:T0TEAM:C0GEN:1700000000.000100');
    assert.deepEqual(parseSlackChat(id), { team: 'T0TEAM', channel: 'C0GEN', threadTs: '1700000000.000100' });
    assert.deepEqual(parseSlackChat('slack:T0TEAM:C0GEN'), { team: 'T0TEAM', channel: 'C0GEN' });
    for (const bad of ['slack:user:U1', 'slack:T0TEAM', 'slack:T:C:notats', 'discord:1:2', 'slack:T:C:1.2:3']) assert.equal(parseSlackChat(bad), undefined, bad);
    assert.equal(tsToMs('1700000000.123456'), 1_700_000_000_123);
  });

  test("the registry's Slack entry gives the core the same split: team and channel are the chat, the root's ts the thread", () => {
    assert.deepEqual(parseChatKey('slack:T0TEAM:C0GEN:1700000000.000100'), { platform: 'slack', chatId: 'T0TEAM:C0GEN', threadId: '1700000000.000100' });
    assert.equal(baseChat('slack:T0TEAM:C0GEN:1700000000.000100'), 'slack:T0TEAM:C0GEN');
    for (const ok of ['slack:T0TEAM:C0GEN', 'slack:T0TEAM:D0DM:1700000000.000100']) assert.ok(isChatId(ok), ok);
    for (const bad of ['slack:T0TEAM', 'slack:user:U1', 'slack:T:C:notats', 'slack:T:C:1.2:3']) assert.ok(!isChatId(bad), bad);
    assert.ok(isUserId('slack:user:U0ALICE'));
    assert.equal(nativeMention('<@U0ALICE>'), 'slack:user:U0ALICE');
    assert.equal(nativeMention('<@U0ALICE|alice>'), 'slack:user:U0ALICE');
  });
});

describe('normalizing what the fake Slack sends', { timeout: 20_000 }, () => {
  let fake: SlackFake | undefined;
  let ctx: SlackContext;
  const last = () => fake!.eventsSent[fake!.eventsSent.length - 1] as unknown as SlackEventCallback;
  before(async () => {
    fake = await startSlackFake({ rateLimits: false });
    // What users.info says of them, as the adapter's people cache would hold it.
    ctx = {
      botUserId: fake.botUserId,
      person: (id) => {
        const u = fake!.state.users.get(id);
        return u ? { name: u.realName, handle: u.name, isAdmin: fake!.isAdmin(id), isBot: u.isBot } : undefined;
      },
    };
  });
  after(async () => fake?.close());

  test('a message, a thread reply, an edit and a delete', async () => {
    const f = fake!;
    const { id: root } = await f.injectMessage({ chat: 'C0AMA', user: { id: 'U0ALICE', name: 'Alice', admin: true }, text: 'When is the <listing> & launch?' });
    const msg = valid(normalizeEvent(last(), ctx));
    assert.deepEqual(
      { kind: msg.kind, chat: msg.chat, messageId: msg.messageId, user: msg.user, text: msg.text, chatType: msg.chatType },
      { kind: 'message', chat: `slack:${f.teamId}:C0AMA`, messageId: root, user: { id: 'slack:user:U0ALICE', name: 'Alice', username: 'alice', isAdmin: true }, text: 'When is the <listing> & launch?', chatType: 'group' },
    );
    const { id: reply } = await f.injectMessage({ chat: 'C0AMA', user: { id: 'U0BOB', name: 'Bob' }, text: '+1', thread: root });
    const r = valid(normalizeEvent(last(), ctx));
    assert.deepEqual({ chat: r.chat, replyTo: r.replyTo, replyToUser: r.replyToUser, id: r.id }, { chat: `slack:${f.teamId}:C0AMA:${root}`, replyTo: root, replyToUser: 'slack:user:U0ALICE', id: `slack/message/${f.teamId}/C0AMA/${reply}` });
    await f.injectEdit({ chat: 'C0AMA', message: reply, text: '+1 me too' });
    const edit = valid(normalizeEvent(last(), ctx));
    assert.deepEqual({ kind: edit.kind, messageId: edit.messageId, text: edit.text, chat: edit.chat }, { kind: 'edit', messageId: reply, text: '+1 me too', chat: `slack:${f.teamId}:C0AMA:${root}` });
    await f.injectDelete({ chat: 'C0AMA', message: reply });
    const del = valid(normalizeEvent(last(), ctx));
    assert.deepEqual({ kind: del.kind, messageId: del.messageId, user: del.user.id }, { kind: 'delete', messageId: reply, user: 'slack:user:U0BOB' });
  });

  test('a mention of the bot comes twice (message and app_mention) under one event id', async () => {
    const f = fake!;
    const before = f.eventsSent.length;
    await f.injectMessage({ chat: 'C0AMA', user: { id: 'U0ALICE', name: 'Alice' }, text: `<@${f.botUserId}> questions please` });
    const bodies = f.eventsSent.slice(before) as unknown as SlackEventCallback[];
    assert.deepEqual(bodies.map((b) => b.event.type), ['message', 'app_mention']);
    const [a, b] = bodies.map((x) => valid(normalizeEvent(x, ctx)));
    assert.equal(a!.id, b!.id);
    assert.equal(a!.text, '@townhall_bot questions please');
    assert.deepEqual(a!.mentions, [`slack:user:${f.botUserId}`]);
  });

  test("reactions by Slack name become the core's emoji; the bot's own messages, joins and reactions are dropped", async () => {
    const f = fake!;
    const { id } = await f.injectMessage({ chat: 'C0AMA', user: { id: 'U0ALICE', name: 'Alice' }, text: 'Q?' });
    await f.injectReaction({ chat: 'C0AMA', message: id, user: 'U0BOB', emoji: '👍' });
    const added = valid(normalizeEvent(last(), ctx));
    assert.deepEqual({ kind: added.kind, reaction: added.reaction, messageId: added.messageId }, { kind: 'reaction', reaction: { emoji: '👍', added: true }, messageId: id });
    await f.injectReactionRemove({ chat: 'C0AMA', message: id, user: 'U0BOB', emoji: '👍' });
    assert.deepEqual(valid(normalizeEvent(last(), ctx)).reaction, { emoji: '👍', added: false });
    await f.injectJoin({ chat: 'C0AMA', user: { id: 'U0CAROL', name: 'Carol' } });
    const bodies = f.eventsSent.slice(-2) as unknown as SlackEventCallback[];
    assert.deepEqual(bodies.map((b) => normalizeEvent(b, ctx)?.kind), ['join', undefined], 'member_joined_channel is the join; the channel_join message is not a message');
    const botMsg = { type: 'event_callback', team_id: f.teamId, event: { type: 'message', user: f.botUserId, bot_id: 'B0TOWNBOT', text: 'Q1 noted', ts: '1700000000.000200', channel: 'C0AMA' } };
    assert.equal(normalizeEvent(botMsg, ctx), undefined);
  });

  test('a DM is a private chat; an unfurl (same text) is not an edit', async () => {
    const f = fake!;
    const { channel } = await f.injectDirectMessage({ user: { id: 'U0DAN', name: 'Dan' }, text: 'catch me up' });
    const dm = valid(normalizeEvent(last(), ctx));
    assert.deepEqual({ chatType: dm.chatType, chat: dm.chat }, { chatType: 'private', chat: `slack:${f.teamId}:${channel}` });
    const unfurl = { type: 'event_callback', team_id: f.teamId, event: { type: 'message', subtype: 'message_changed', channel: 'C0AMA', ts: '1700000001.000001', message: { type: 'message', user: 'U0A', text: 'see https://x.io', ts: '1700000000.000001', attachments: [{}] }, previous_message: { type: 'message', user: 'U0A', text: 'see https://x.io', ts: '1700000000.000001' } } };
    assert.equal(normalizeEvent(unfurl, ctx), undefined);
  });

  test('a slash command and an upvote click as the fake delivers them', async () => {
    const f = fake!;
    const cmd = f.injectSlashCommand({ chat: 'C0AMA', user: { id: 'U0EVE', name: 'Eve' }, command: '/ask', text: 'Is there a roadmap?' });
    const c = valid(normalizeSlashCommand(cmd.envelope!.payload as never, ctx, 1_700_000_000_000));
    assert.deepEqual({ kind: c.kind, text: c.text, chat: c.chat, user: c.user.id }, { kind: 'command', text: '/ask Is there a roadmap?', chat: `slack:${f.teamId}:C0AMA`, user: 'slack:user:U0EVE' });
    assert.deepEqual(decodeReplyHandle(c.replyHandle!), { url: (cmd.envelope!.payload as { response_url: string }).response_url, user: 'U0EVE', command: 'ask' });

    const umbrella = f.injectSlashCommand({ chat: 'C0AMA', user: { id: 'U0EVE', name: 'Eve' }, command: '/townhall', text: `ban <@U0FRED|fred> spam` });
    const u = valid(normalizeSlashCommand(umbrella.envelope!.payload as never, ctx));
    assert.deepEqual({ text: u.text, mentions: u.mentions, command: decodeReplyHandle(u.replyHandle!)?.command }, { text: '/ban @fred spam', mentions: ['slack:user:U0FRED'], command: 'ban' });

    const blocks = messageBlocks({ rendered: 'Q1 Is there a roadmap?', mrkdwn: false, plain: 'Q1 Is there a roadmap?', buttons: [{ label: '▲ Upvote', data: 'q:abc' }] });
    const posted = await fetch(`${f.url}chat.postMessage`, { method: 'POST', headers: { authorization: `Bearer ${f.tokens.bot}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'C0AMA', text: 'Q1 Is there a roadmap?', blocks }) }).then((r) => r.json() as Promise<{ ok: boolean; ts: string }>);
    assert.equal(posted.ok, true);
    const click = f.injectButton({ chat: 'C0AMA', message: posted.ts, user: { id: 'U0FRED', name: 'Fred' }, actionId: 'townhall_upvote' });
    const v = valid(normalizeBlockActions(click.envelope!.payload as never, ctx));
    assert.deepEqual({ kind: v.kind, vote: v.vote, messageId: v.messageId, user: v.user.id }, { kind: 'vote', vote: { target: 'q:abc', added: true }, messageId: posted.ts, user: 'slack:user:U0FRED' });
    assert.equal(normalizeBlockActions({ type: 'block_actions', user: { id: 'U1' }, team: { id: 'T1' }, container: { channel_id: 'C1' }, actions: [{ action_id: 'someone_elses', value: 'x' }] }, ctx), undefined);
  });
});

describe('slack text in and out', { timeout: 10_000 }, () => {
  const ctx: SlackContext = { botUserId: 'U0BOT', person: (id) => (id === 'U0ANN' ? { name: 'Ann Lee', handle: 'ann', isAdmin: false, isBot: false } : undefined) };

  test('incoming markup becomes what the person typed; mentions and links are listed', () => {
    const table: [string, string, string[] | undefined, string[] | undefined][] = [
      ['a &amp; b &lt;c&gt;', 'a & b <c>', undefined, undefined],
      ['&amp;lt; stays literal', '&lt; stays literal', undefined, undefined],
      ['hi <@U0ANN> and <@U0ZED|zed>', 'hi @ann and @zed', ['slack:user:U0ANN', 'slack:user:U0ZED'], undefined],
      ['see <https://x.io/a?b=1&amp;c=2|the docs> and <https://y.io>', 'see the docs (https://x.io/a?b=1&c=2) and https://y.io', undefined, ['https://x.io/a?b=1&c=2', 'https://y.io']],
      ['in <#C0GEN|general> <!here>', 'in #general @here', undefined, undefined],
    ];
    for (const [raw, text, mentions, links] of table) {
      const out = textParts(raw, ctx);
      assert.equal(out.text, text, raw);
      assert.deepEqual(out.mentions, mentions, raw);
      assert.deepEqual(out.links, links, raw);
    }
  });

  test('user text is escaped (&, <, >) so it can never ping, link or mention; the markdown subset becomes mrkdwn', () => {
    assert.equal(escapeMrkdwn('<!channel> & <@U1> <https://evil|bank>'), '&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://evil|bank&gt;');
    const table: [string, string][] = [
      ['**Q3** answered', '*Q3* answered'],
      ['_soon_ & **now**', '_soon_ &amp; *now*'],
      ['[docs](https://x.io/a?b=1&c=2)', '<https://x.io/a?b=1&amp;c=2|docs>'],
      ['[a|b](https://x.io)', '<https://x.io|a¦b>'],
      ['`<@U1>` code', '`&lt;@U1&gt;` code'],
      ['**<!here>**', '*&lt;!here&gt;*'],
      ['2*3*4 snake_case_name', '2*3*4 snake_case_name'],
    ];
    for (const [md, want] of table) assert.equal(markdownToMrkdwn(md), want, md);
    assert.deepEqual(renderText('*not bold* <x>', 'plain'), { text: '*not bold* &lt;x&gt;', mrkdwn: false });
  });

  test('long text splits at 4,000 at line or word boundaries and never inside an escape or a link', () => {
    const para = `${'word '.repeat(700)}\n\n`;
    const text = markdownToMrkdwn(`${para}${para}[link](https://x.io/${'p'.repeat(50)}) & more ${'<b> '.repeat(800)}`);
    const parts = splitMrkdwn(text);
    assert.ok(parts.length >= 3);
    for (const p of parts) {
      assert.ok(p.length <= 4000, `part of ${p.length}`);
      assert.equal((p.match(/</g) ?? []).length, (p.match(/>/g) ?? []).length, 'no link cut in two');
      assert.doesNotMatch(p, /&(a|am|amp|l|lt|g|gt)?$/, 'no escape cut in two');
      assert.doesNotMatch(p, /^(mp|p|t);/, 'no escape cut in two');
    }
    assert.equal(parts.join(' ').replace(/\s+/g, ' ').trim(), text.replace(/\s+/g, ' ').trim(), 'nothing lost or doubled');
    assert.deepEqual(splitMrkdwn('short'), ['short']);
  });

  test("a message with buttons passes the Block Kit checks: text in sections (plain_text stays literal), the buttons' data as their values", () => {
    const plain = messageBlocks({ rendered: 'Is &lt;!channel&gt; *safe*?', mrkdwn: false, plain: 'Is <!channel> *safe*?', buttons: [{ label: '▲ Upvote', data: 'v:a1:7' }, { label: 'x'.repeat(90), data: 'v:a1:8' }] });
    assert.deepEqual(blockErrors(plain), []);
    assert.deepEqual(plain[0]!.text, { type: 'plain_text', text: 'Is <!channel> *safe*?' });
    const buttons = plain[1]!.elements as { action_id: string; value: string; text: { text: string } }[];
    assert.deepEqual(buttons.map((b) => [b.action_id, b.value]), [['townhall_upvote', 'v:a1:7'], ['townhall_upvote_1', 'v:a1:8']]);
    assert.ok(buttons[1]!.text.text.length <= 75);
    const long = messageBlocks({ rendered: `${'word '.repeat(1000)}`, mrkdwn: true, plain: '', buttons: [] });
    assert.deepEqual(blockErrors(long), []);
    assert.equal(long.length, 2, 'a 5,000-character text is two sections of at most 3,000');
  });

  test("emoji names both ways: 👍 is +1 (and thumbsup), skin tones fold, unknown names stay :name:", () => {
    assert.equal(emojiOfName('+1'), '👍');
    assert.equal(emojiOfName('thumbsup::skin-tone-3'), '👍');
    assert.equal(emojiOfName('partyparrot'), ':partyparrot:');
    assert.equal(nameOfEmoji('👍'), '+1');
    assert.equal(nameOfEmoji('❤️'), 'heart');
    assert.equal(nameOfEmoji(':tada:'), 'tada');
    assert.equal(nameOfEmoji('🦄'), undefined);
  });
});
