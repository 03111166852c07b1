/**
 * The Slack adapter sending, with the real WebClient against the fake Slack, through the real outbound runner where
 * the runner's part matters (waiting out a 429, order, failures): replies in threads, ephemeral answers, /catchup by
 * DM, edits, reactions, the answers place, and the moderation a bot token allows — and what needs an admin's token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NEEDS_ADMIN_TOKEN } from '../../../adapters/slack/index.js';
import { normalizeSlashCommand } from '../../../adapters/slack/normalize.js';
import { tsToMs } from '../../../adapters/slack/ids.js';
import { MethodBudgets } from '../../../adapters/slack/tiers.js';
import type { Action, ActionInput, PlatformAction } from '../../../src/core/index.js';
import { PlatformError } from '../../../src/core/index.js';
import { quietLogger } from '../../../src/log.js';
import { DeadLetterStore } from '../../../src/queue/dead-letter.js';
import { OutboundQueue, startOutboundRunner, type OutboundRunnerHandle } from '../../../src/queue/outbound.js';
import { waitFor } from '../../helpers/core.js';
import { slackHarness, type SlackHarness } from './harness.js';

const ADMIN_TOKEN = 'xoxp-0000000000-fake-workspace-admin';
let n = 0;
const id = (tag: string) => `slack-out-${tag}-${++n}`;

describe('slack outbound through the outbound runner', { timeout: 60_000 }, () => {
  let h: SlackHarness;
  let out: OutboundQueue;
  let runner: OutboundRunnerHandle;
  const outcomes: { action: Action; outcome: string; detail?: string | undefined; at: number }[] = [];
  const chat = (c: string, thread?: string) => `slack:${h.team}:${c}${thread ? `:${thread}` : ''}`;
  const send = (c: string, text: string, extra: Partial<ActionInput> = {}): ActionInput => ({ v: 1, id: id('send'), type: 'send', platform: 'slack', chat: chat(c), text, ...extra }) as ActionInput;

  before(async () => {
    h = await slackHarness({ inbound: false, setup: (f) => ['C0RL', 'C0UNC'].forEach((c) => f.createChannel(c)) });
    out = new OutboundQueue({ url: h.url, keys: h.keys });
    runner = startOutboundRunner({ adapter: h.adapter, url: h.url, keys: h.keys, log: quietLogger(), onOutcome: (action, outcome, detail) => outcomes.push({ action, outcome, detail, at: Date.now() }) });
  });
  after(async () => {
    await runner?.close();
    await out?.close();
    await h?.close();
  });

  test('a 429 with Retry-After is waited out: the channel goes quiet as asked, then every message goes out once, in order', async () => {
    h.fake.failNext({ method: 'chat.postMessage', status: 429, retryAfterSec: 2 });
    await out.enqueue([send('C0RL', 'r1'), send('C0RL', 'r2'), send('C0RL', 'r3')]);
    await waitFor(() => h.fake.messagesIn('C0RL').length === 3, 'three messages', 20_000);
    const msgs = h.fake.messagesIn('C0RL');
    assert.deepEqual(msgs.map((m) => m.text), ['r1', 'r2', 'r3']);
    const limited = h.fake.calls.find((c) => c.forced && c.status === 429)!;
    const first = tsToMs(msgs[0]!.ts);
    assert.ok(first - limited.at >= 1900, `the first post waited ${first - limited.at} ms of the asked 2 s`);
    const early = h.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.at > limited.at && c.at < limited.at + 1900);
    assert.deepEqual(early, [], 'nothing was sent to Slack while it asked to wait');
    assert.ok(outcomes.some((o) => o.outcome === 'delayed' && /chat paused/.test(o.detail ?? '')));
  });

  test('a post whose answer was lost after it landed (a 503) is found by its metadata and not posted twice', async () => {
    h.fake.failNext({ method: 'chat.postMessage', status: 503, afterRun: true });
    const a = send('C0UNC', 'only once');
    await out.enqueue([a]);
    await waitFor(() => outcomes.some((o) => o.action.id === a.id && o.outcome === 'sent'), 'the action done', 20_000);
    assert.deepEqual(h.fake.messagesIn('C0UNC').map((m) => m.text), ['only once']);
    assert.ok(h.fake.calls.some((c) => c.method === 'conversations.history' && c.params.channel === 'C0UNC'), 'the retry looked before posting');
  });

  test('a reply goes into the message’s thread; a long text is split at 4,000 characters, every part in the thread', async () => {
    const { id: asked } = await h.fake.injectMessage({ chat: 'C0TH', user: { id: 'U0ANN', name: 'Ann' }, text: '/help' });
    const long = `${'word '.repeat(1900)}`;
    const a = send('C0TH', long, { replyTo: asked });
    await out.enqueue([a]);
    await waitFor(() => outcomes.some((o) => o.action.id === a.id && o.outcome === 'sent'), 'the reply sent', 20_000);
    const replies = h.fake.messagesIn('C0TH').filter((m) => m.threadTs === asked && m.ts !== asked);
    assert.equal(replies.length, 3);
    assert.ok(replies.every((m) => m.text.length <= 4000));
    assert.equal(h.fake.outbox('C0TH').find((o) => o.type === 'send')?.replyTo, asked, "the sandbox's outbox shows it as a reply");
  });

  test("deleting someone else's message without an admin token fails for good, and says what it needs", async () => {
    const { id: theirs } = await h.fake.injectMessage({ chat: 'C0DEL', user: { id: 'U0SPAM', name: 'Spammer' }, text: 'buy now' });
    const a: ActionInput = { v: 1, id: id('del'), type: 'delete', platform: 'slack', chat: chat('C0DEL'), messageId: theirs, priority: 'moderation' };
    await out.enqueue([a]);
    await waitFor(() => outcomes.some((o) => o.action.id === a.id && o.outcome === 'failed'), 'the refusal', 20_000);
    assert.ok(h.fake.message('C0DEL', theirs), 'still there');
    const dead = await new DeadLetterStore(h.redis, h.keys).latest(5);
    assert.ok(dead.some((d) => d.reason.includes('SLACK_USER_TOKEN')), 'the dead letter says what is missing');
    assert.ok(h.adapter.status().problems.some((p) => p === NEEDS_ADMIN_TOKEN));
    assert.equal(h.fake.calls.filter((c) => c.method === 'chat.delete').length, 1, 'not retried');
  });
});

describe('slack outbound, action by action', { timeout: 60_000 }, () => {
  let h: SlackHarness;
  const chat = (c: string, thread?: string) => `slack:${h.team}:${c}${thread ? `:${thread}` : ''}`;
  const perform = (a: Record<string, unknown>) => h.adapter.perform({ v: 1, id: id(String(a.type)), platform: 'slack', priority: 'command', format: 'plain', ...a } as PlatformAction);

  before(async () => {
    h = await slackHarness({ inbound: false, fake: { rateLimits: false }, setup: (f) => ['C0GENERAL', 'C0ED', 'C0PL'].forEach((c) => f.createChannel(c)) });
  });
  after(async () => h?.close());

  test('/catchup answers by DM (conversations.open, once per person); other in-place answers are ephemeral; a spent response_url falls back to chat.postEphemeral', async () => {
    const cmd = (command: string) => normalizeSlashCommand(h.fake.injectSlashCommand({ chat: 'C0EPH', user: { id: 'U0CAT', name: 'Cat' }, command, text: '' }).envelope!.payload as never, { botUserId: h.fake.botUserId });
    const catchup = cmd('/catchup');
    const r = await perform({ type: 'answer', chat: catchup.chat, replyHandle: catchup.replyHandle, text: 'What you missed: …' });
    const dm = h.fake.state.dms.get('U0CAT')!;
    assert.equal(r.chat, chat(dm));
    assert.deepEqual(h.fake.messagesIn(dm).map((m) => m.text), ['What you missed: …']);
    await perform({ type: 'dm', chat: catchup.chat, user: 'slack:user:U0CAT', text: 'again' });
    assert.equal(h.fake.calls.filter((c) => c.method === 'conversations.open').length, 1, 'the DM channel is remembered');

    const questions = cmd('/questions');
    for (let i = 1; i <= 6; i++) await perform({ type: 'answer', chat: questions.chat, replyHandle: questions.replyHandle, text: `answer ${i}` });
    const ephemeral = h.fake.outbox('C0EPH').filter((o) => o.user === 'U0CAT' && /^answer/.test(o.text ?? ''));
    assert.deepEqual(ephemeral.map((o) => o.text), ['answer 1', 'answer 2', 'answer 3', 'answer 4', 'answer 5', 'answer 6']);
    assert.equal(h.fake.messagesIn('C0EPH').length, 0, 'nothing public');
    assert.equal(h.fake.calls.filter((c) => c.method === 'chat.postEphemeral').length, 1, 'the sixth: the response_url is good for five');
  });

  test('an edit keeps plain text literal and the buttons; a reaction goes by its Slack name', async () => {
    const sent = await perform({ type: 'send', chat: chat('C0ED'), text: 'Q1 ▲0', buttons: [{ label: '▲ Upvote', data: 'v:a:1' }] });
    const ts = sent.messageIds![0]!;
    await perform({ type: 'edit', chat: chat('C0ED'), messageId: ts, text: 'Q1 *is* <!here> ▲1', buttons: [{ label: '▲ Upvote', data: 'v:a:1' }] });
    const msg = h.fake.message('C0ED', ts)!;
    assert.deepEqual((msg.blocks![0] as { text: unknown }).text, { type: 'plain_text', text: 'Q1 *is* <!here> ▲1' });
    assert.equal(msg.text, 'Q1 *is* &lt;!here&gt; ▲1', 'the fallback text is escaped: no mass mention');
    assert.ok(msg.blocks!.some((b) => (b as { type: string }).type === 'actions'));
    await perform({ type: 'react', chat: chat('C0ED'), messageId: ts, emoji: '✍' });
    await perform({ type: 'react', chat: chat('C0ED'), messageId: ts, emoji: '✍' }); // a retry: already there is done
    assert.deepEqual([...msg.reactions.keys()], ['writing_hand']);
  });

  test('the answers place: a pinned message by default (no thread), a titled thread, or a thread in the chosen channel (joined when needed)', async () => {
    const pinned = await perform({ type: 'thread', chat: chat('C0PL'), title: 'AMA answers · Launch' });
    assert.deepEqual(pinned, { chat: chat('C0PL'), messageIds: [] }, 'no thread: the core keeps a pinned message up to date');
    await h.restart({ answersPlace: { kind: 'thread' } });
    const th = await perform({ type: 'thread', chat: chat('C0PL'), title: 'AMA answers · Launch' });
    const root = th.messageIds![0]!;
    assert.equal(th.chat, chat('C0PL', root));
    assert.equal(h.fake.message('C0PL', root)!.text, '*AMA answers · Launch*');
    h.fake.createChannel('C0ANSWERS', { botMember: false });
    await h.restart({ answersPlace: { kind: 'channel', channel: 'C0ANSWERS' } });
    const elsewhere = await perform({ type: 'thread', chat: chat('C0PL'), title: 'AMA answers · Launch' });
    assert.match(elsewhere.chat!, new RegExp(`^slack:${h.team}:C0ANSWERS:\\d+\\.\\d+$`));
    assert.ok(h.fake.calls.some((c) => c.method === 'conversations.join' && c.params.channel === 'C0ANSWERS'));
    await h.restart({ answersPlace: { kind: 'pinned' } });
  });

  test('/ban removes from the channel (conversations.kick); Slack refuses #general, and mute and slow mode do not exist', async () => {
    await h.fake.injectMessage({ chat: 'C0MOD', user: { id: 'U0TROLL', name: 'Troll' }, text: 'hi' });
    await perform({ type: 'ban', chat: chat('C0MOD'), user: 'slack:user:U0TROLL' });
    assert.ok(!h.fake.state.channels.get('C0MOD')!.members.has('U0TROLL'));
    await perform({ type: 'ban', chat: chat('C0MOD'), user: 'slack:user:U0TROLL' }); // already out: done
    const general = [...h.fake.state.channels.values()].find((c) => c.isGeneral)!;
    await h.fake.injectMessage({ chat: general.id, user: { id: 'U0TROLL', name: 'Troll' }, text: 'hi' });
    await assert.rejects(perform({ type: 'ban', chat: chat(general.id), user: 'slack:user:U0TROLL' }), (e: unknown) => e instanceof PlatformError && e.final && /#general/.test(e.message));
    await assert.rejects(perform({ type: 'mute', chat: chat('C0MOD'), user: 'slack:user:U0TROLL', until: Date.now() + 60_000 }), (e: unknown) => e instanceof PlatformError && e.final && /no way to mute/.test(e.message));
    await assert.rejects(perform({ type: 'slowmode', chat: chat('C0MOD'), seconds: 30 }), (e: unknown) => e instanceof PlatformError && /no slow mode/.test(e.message));
  });

  test("a method's budget, once spent, makes the next call wait (a PlatformError with the wait) before Slack sees it", async () => {
    const budgets = new MethodBudgets(h.deps.store, { 1: 1, 2: 2, 3: 2, 4: 2 }, 1000);
    assert.equal(await budgets.take('reactions.remove'), 0);
    assert.equal(await budgets.take('reactions.remove'), 0);
    const wait = await budgets.take('reactions.remove');
    assert.ok(wait > 0 && wait <= 1000, `waits ${wait} ms`);
    assert.equal(await budgets.take('chat.postMessage'), 0, "chat.postMessage's limit is per channel: the runner's");
    await budgets.block('users.info', 500);
    assert.ok((await budgets.take('users.info')) > 0, 'a 429 closes the method for its Retry-After');
    await waitFor(async () => (await budgets.take('reactions.remove')) === 0, 'the window to pass', 3000);
  });
});

describe('slack moderation with a workspace admin’s user token', { timeout: 60_000 }, () => {
  let h: SlackHarness;
  const chat = (c: string) => `slack:${h.team}:${c}`;
  const perform = (a: Record<string, unknown>) => h.adapter.perform({ v: 1, id: id(String(a.type)), platform: 'slack', priority: 'moderation', ...a } as PlatformAction);

  before(async () => {
    h = await slackHarness({ inbound: false, fake: { rateLimits: false, adminUserToken: { token: ADMIN_TOKEN, scopes: ['chat:write', 'channels:history', 'channels:manage'] }, kickRestricted: true }, adapter: { adminToken: ADMIN_TOKEN } });
  });
  after(async () => h?.close());

  test("deletes anyone's message, and /purge deletes the channel's last messages (the list fixed at the first attempt)", async () => {
    const ids: string[] = [];
    for (const t of ['keep', 'spam 1', 'spam 2', 'spam 3']) ids.push((await h.fake.injectMessage({ chat: 'C0PURGE', user: { id: 'U0SPAM', name: 'S' }, text: t })).id);
    await perform({ type: 'delete', chat: chat('C0PURGE'), messageId: ids[1] });
    assert.equal(h.fake.message('C0PURGE', ids[1]!), undefined);
    const r = await perform({ type: 'purge', chat: chat('C0PURGE'), count: 2 });
    assert.deepEqual(r.messageIds, [ids[3], ids[2]]);
    assert.deepEqual(h.fake.messagesIn('C0PURGE').map((m) => m.text), ['keep']);
  });

  test('where the workspace lets only admins remove people, /ban uses the admin token', async () => {
    await h.fake.injectMessage({ chat: 'C0KICK', user: { id: 'U0TROLL', name: 'Troll' }, text: 'hi' });
    await perform({ type: 'ban', chat: chat('C0KICK'), user: 'slack:user:U0TROLL' });
    assert.ok(!h.fake.state.channels.get('C0KICK')!.members.has('U0TROLL'));
    const kicks = h.fake.calls.filter((c) => c.method === 'conversations.kick');
    assert.deepEqual(kicks.map((k) => [k.token, k.error ?? 'ok']), [['bot', 'restricted_action'], ['user', 'ok']]);
  });
});
