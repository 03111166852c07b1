/**
 * The Slack adapter receiving, with the real SocketModeClient against the fake Slack: events, slash commands and
 * clicks become ChatEvents; an envelope is acknowledged only once the sink has its event; Slack's redeliveries count
 * once; what was said while no adapter listened is read back after a restart, and nothing is published twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChatEventInput } from '../../../src/core/index.js';
import { waitFor } from '../../helpers/core.js';
import { slackHarness, type SlackHarness } from './harness.js';

const alice = { id: 'U0ALICE', name: 'Alice', admin: true };
const bob = { id: 'U0BOB', name: 'Bob' };

describe('slack inbound over Socket Mode', { timeout: 60_000 }, () => {
  let h: SlackHarness;
  before(async () => {
    // Slack's ack window and retries, shortened: an envelope not acknowledged within 300 ms comes again.
    h = await slackHarness({ fake: { rateLimits: false, socketMode: { ackTimeoutMs: 300, retryDelaysMs: [0, 0, 0] } } });
  });
  after(async () => h?.close());

  const ofText = (text: string) => (e: ChatEventInput) => e.text === text;

  test('a message becomes one event with the author from users.info; its envelope is acknowledged only after the sink has it', async () => {
    const acks: { ts: string; stored: boolean }[] = [];
    h.fake.socket.onAcknowledged((env) => {
      const ts = (env.payload.event as { ts?: string } | undefined)?.ts;
      if (ts) acks.push({ ts, stored: h.recorder.events.some((e) => e.messageId === ts) });
    });
    h.recorder.failures = 3; // Redis away for the first three publishes
    const { id } = await h.fake.injectMessage({ chat: 'C0AMA', user: alice, text: `When is the listing, <@${h.fake.botUserId}>?` });
    const e = await h.recorder.next(ofText('When is the listing, @townhall_bot?'));
    assert.deepEqual(
      { chat: e.chat, messageId: e.messageId, user: e.user, mentions: e.mentions },
      { chat: `slack:${h.team}:C0AMA`, messageId: id, user: { id: 'slack:user:U0ALICE', name: 'Alice', username: 'alice', isAdmin: true, lang: 'en' }, mentions: [`slack:user:${h.fake.botUserId}`] },
    );
    await waitFor(() => acks.some((a) => a.ts === id), 'the acknowledgement');
    assert.ok(acks.filter((a) => a.ts === id).every((a) => a.stored), 'never acknowledged before the sink had it');
    assert.equal(h.recorder.events.filter((x) => x.messageId === id).length, 1, 'the message and app_mention copies, and any redelivery, are one event');
  });

  test('an envelope Slack sends again while the first is still being stored is published once', async () => {
    h.recorder.delayMs = 700; // slower than the fake's 300 ms ack window: Slack retries meanwhile
    try {
      const { id } = await h.fake.injectMessage({ chat: 'C0AMA', user: bob, text: 'slow redis' });
      await h.recorder.next(ofText('slow redis'));
      const env = h.fake.socket.envelopes.find((x) => (x.payload.event as { ts?: string } | undefined)?.ts === id && (x.payload.event as { type?: string }).type === 'message')!;
      await waitFor(() => !!env.ackedAt, 'the acknowledgement');
      assert.ok(env.retryAttempt >= 1, 'Slack sent it again while it waited');
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(h.recorder.events.filter((x) => x.messageId === id).length, 1);
    } finally {
      h.recorder.delayMs = 0;
    }
  });

  test('a thread reply names its thread in the chat id and replies to the root', async () => {
    const { id: root } = await h.fake.injectMessage({ chat: 'C0AMA', user: alice, text: 'root' });
    const { id } = await h.fake.injectMessage({ chat: 'C0AMA', user: bob, text: 'in the thread', thread: root });
    const e = await h.recorder.next(ofText('in the thread'));
    assert.deepEqual({ chat: e.chat, replyTo: e.replyTo, replyToUser: e.replyToUser, messageId: e.messageId }, { chat: `slack:${h.team}:C0AMA:${root}`, replyTo: root, replyToUser: 'slack:user:U0ALICE', messageId: id });
  });

  test('a slash command is a command event with a reply handle, acknowledged after it is stored; an upvote click is a vote', async () => {
    const cmd = h.fake.injectSlashCommand({ chat: 'C0AMA', user: bob, command: '/ask', text: 'Is there a roadmap?' });
    const e = await h.recorder.next(ofText('/ask Is there a roadmap?'));
    assert.equal(e.kind, 'command');
    assert.ok(e.replyHandle);
    await waitFor(() => !!cmd.envelope?.ackedAt, 'the slash command acknowledged');

    const posted = await h.adapter.perform({ v: 1, id: 'card-1', type: 'send', platform: 'slack', chat: `slack:${h.team}:C0AMA`, text: 'Q1 Is there a roadmap?', format: 'plain', priority: 'answer', buttons: [{ label: '▲ Upvote', data: 'v:ama1:1' }] });
    const click = h.fake.injectButton({ chat: 'C0AMA', message: posted.messageIds![0]!, user: alice, actionId: 'townhall_upvote' });
    const vote = await h.recorder.next((x) => x.kind === 'vote');
    assert.deepEqual({ vote: vote.vote, messageId: vote.messageId, user: vote.user.id }, { vote: { target: 'v:ama1:1', added: true }, messageId: posted.messageIds![0], user: 'slack:user:U0ALICE' });
    await waitFor(() => !!click.envelope?.ackedAt, 'the click acknowledged');
  });

  test("the bot added back to a channel lets the outbound runner send there again", async () => {
    const disabled = h.keys.k('out', 'disabled', 'slack');
    await h.redis.sadd(disabled, `slack:${h.team}:C0BACK`);
    h.fake.createChannel('C0BACK', { botMember: false });
    await h.adapter.perform({ v: 1, id: 'join-1', type: 'send', platform: 'slack', chat: `slack:${h.team}:C0BACK`, text: 'x', format: 'plain', priority: 'command' }).catch(() => undefined);
    h.fake.state.channels.get('C0BACK')!.members.add(h.fake.botUserId);
    h.fake.dispatch({ type: 'member_joined_channel', user: h.fake.botUserId, channel: 'C0BACK', channel_type: 'C', team: h.team, event_ts: h.fake.state.nextTs() });
    await waitFor(async () => (await h.redis.sismember(disabled, `slack:${h.team}:C0BACK`)) === 0, 'the chat resumed');
  });
});

describe('slack restart: nothing lost, nothing repeated', { timeout: 60_000 }, () => {
  let h: SlackHarness;
  before(async () => {
    // Slack gives up on an event nobody acknowledged (no retries here): only the catch-up can bring it back.
    h = await slackHarness({ fake: { rateLimits: false, socketMode: { retryDelaysMs: [] } } });
  });
  after(async () => h?.close());

  test('messages and thread replies sent while the adapter was stopped are read back once; those published before are not published again', async () => {
    const { id: root } = await h.fake.injectMessage({ chat: 'C0RST', user: alice, text: 'before 1' });
    await h.fake.injectMessage({ chat: 'C0RST', user: bob, text: 'before 2', thread: root });
    await h.fake.injectMessage({ chat: 'C0OLD', user: bob, text: 'before 3' });
    await h.recorder.count(3);

    await h.adapter.stop();
    const during = [
      await h.fake.injectMessage({ chat: 'C0RST', user: alice, text: 'during 1' }),
      await h.fake.injectMessage({ chat: 'C0RST', user: bob, text: 'during 2 (in the old thread)', thread: root }),
      await h.fake.injectMessage({ chat: 'C0OLD', user: alice, text: 'during 3' }),
    ];
    const { id: newRoot } = await h.fake.injectMessage({ chat: 'C0RST', user: bob, text: 'during 4 (a new thread)' });
    during.push({ id: newRoot }, await h.fake.injectMessage({ chat: 'C0RST', user: alice, text: 'during 5 (its reply)', thread: newRoot }));
    assert.equal(h.recorder.events.length, 3, 'nothing reached the sink while stopped');
    assert.ok(h.fake.socket.envelopes.filter((e) => e.timedOut).length >= during.length, 'Slack gave up on every event of the downtime');

    await h.restart();
    const after = await h.fake.injectMessage({ chat: 'C0RST', user: bob, text: 'after 1' });
    await waitFor(() => [...during, after].every((m) => h.recorder.events.some((e) => e.messageId === m.id)), 'every message of the downtime and after', 20_000);
    await new Promise((r) => setTimeout(r, 300));
    const ids = h.recorder.events.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, `nothing published twice: ${ids.join(' ')}`);
    assert.equal(ids.length, 3 + during.length + 1);
    const reply = h.recorder.events.find((e) => e.text === 'during 2 (in the old thread)')!;
    assert.equal(reply.chat, `slack:${h.team}:C0RST:${root}`, 'a reply read back lands in its thread, as live');
  });
});

describe('slack inbound over the Events API (HTTP)', { timeout: 60_000 }, () => {
  let h: SlackHarness;
  before(async () => {
    h = await slackHarness({
      fake: { rateLimits: false, http: { timeoutMs: 3000, retryDelaysMs: [0, 0, 0] } },
      adapter: { appToken: undefined, events: { signingSecret: 'fake-signing-secret-0123456789abcdef', port: 0, host: '127.0.0.1', path: '/slack/events' }, ackDeadlineMs: 400 },
    });
    h.fake.setRequestUrl(`http://127.0.0.1:${h.adapter.eventsPort}/slack/events`);
  });
  after(async () => h?.close());

  test('the Request URL answers url_verification, and a signed event is answered 200 once it is stored', async () => {
    assert.equal(await h.fake.eventsHttp!.verifyUrl(h.fake.tokens.verification), true);
    await h.fake.injectMessage({ chat: 'C0WEB', user: alice, text: 'over http' });
    await h.recorder.next((e) => e.text === 'over http');
    await waitFor(() => h.fake.eventsHttp!.deliveries.some((d) => d.body.includes('over http') && d.status === 200), 'the 200');
  });

  test('a forged request is refused with 401 and publishes nothing', async () => {
    const body = JSON.stringify({ type: 'event_callback', team_id: h.team, event: { type: 'message', channel: 'C0WEB', user: 'U0EVIL', text: 'forged', ts: '1700000000.000100' } });
    const res = await h.fake.eventsHttp!.post(body, 'application/json', { signature: 'v0=0000' });
    assert.equal(res.status, 401);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!h.recorder.events.some((e) => e.text === 'forged'));
  });

  test('an event not stored by the deadline is answered 503; Slack sends it again and it is published once', async () => {
    h.recorder.failures = 8; // Redis away for about the first half second
    await h.fake.injectMessage({ chat: 'C0WEB', user: bob, text: 'late' });
    await h.recorder.next((e) => e.text === 'late');
    await waitFor(() => h.fake.eventsHttp!.deliveries.filter((d) => d.body.includes('"late"')).some((d) => d.status === 200), 'a 200 for a retry');
    const statuses = h.fake.eventsHttp!.deliveries.filter((d) => d.body.includes('"late"')).map((d) => d.status);
    assert.equal(statuses[0], 503);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(h.recorder.events.filter((e) => e.text === 'late').length, 1);
  });

  test('a slash command over HTTP is a command event; the answer to Slack is empty (the reply comes later)', async () => {
    const cmd = h.fake.injectSlashCommand({ chat: 'C0WEB', user: bob, command: '/help', text: '' });
    const e = await h.recorder.next((x) => x.text === '/help');
    assert.equal(e.kind, 'command');
    const d = await cmd.http!;
    assert.deepEqual([d.status, d.response ?? ''], [200, '']);
  });
});
