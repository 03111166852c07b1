/** The fake Slack Web API as the real @slack/web-api WebClient sees it: Slack's errors, token types, scopes, threads and rate limits. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WebAPIRateLimitedError} from '@slack/web-api';
import { ErrorCode, WebClientEvent } from '@slack/web-api';
import { startSlackFake, type SlackFake } from '../../../fakes/slack/index.js';
import { slackError, webClient } from './harness.js';

const ADMIN_TOKEN = 'xoxp-0000000000-fake-admin-user';

describe('fake Slack Web API with the real WebClient', { timeout: 30_000 }, () => {
  let fake: SlackFake | undefined;
  before(async () => {
    fake = await startSlackFake({ adminUserToken: { token: ADMIN_TOKEN, userId: 'U0ADMIN', scopes: ['chat:write', 'admin.users:write', 'channels:manage'] } });
  });
  after(async () => fake?.close());

  test('messages get ts ids; a reply by thread_ts joins the thread; history lists top level, replies the thread', async () => {
    const f = fake!;
    const client = webClient(f);
    const { id: parent } = await f.injectMessage({ chat: 'C0AMA', user: { id: 'U0ALICE', name: 'Alice' }, text: 'When moon?' });
    assert.match(parent, /^\d{10}\.\d{6}$/);
    const r = await client.chat.postMessage({ channel: 'C0AMA', text: 'Answer: *soon* &lt;3', thread_ts: parent });
    assert.equal(r.message?.thread_ts, parent);
    const { id: later } = await f.injectMessage({ chat: 'C0AMA', user: { id: 'U0BOB', name: 'Bob' }, text: 'me too', replyTo: r.ts! });
    const history = await client.conversations.history({ channel: 'C0AMA' });
    assert.deepEqual(history.messages?.map((m) => m.ts), [parent], 'thread replies stay out of the channel history');
    assert.equal(history.messages?.[0]?.reply_count, 2);
    const replies = await client.conversations.replies({ channel: 'C0AMA', ts: parent });
    assert.deepEqual(replies.messages?.map((m) => m.ts), [parent, r.ts, later]);
    assert.equal(await slackError(client.conversations.replies({ channel: 'C0AMA', ts: '1.000001' })), 'thread_not_found');
  });

  test('history pages with a cursor and honours oldest (the catch-up read)', async () => {
    const f = fake!;
    const client = webClient(f);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await f.injectMessage({ chat: 'C0PAGE', user: { id: 'U0ALICE', name: 'Alice' }, text: `m${i}` })).id);
    const first = await client.conversations.history({ channel: 'C0PAGE', limit: 2, oldest: ids[0]! });
    assert.deepEqual(first.messages?.map((m) => m.text), ['m4', 'm3']);
    assert.equal(first.has_more, true);
    const second = await client.conversations.history({ channel: 'C0PAGE', limit: 2, oldest: ids[0]!, cursor: first.response_metadata!.next_cursor! });
    assert.deepEqual(second.messages?.map((m) => m.text), ['m2', 'm1'], 'oldest is exclusive unless inclusive is set');
    assert.equal(second.response_metadata?.next_cursor, '');
    assert.equal(await slackError(client.conversations.history({ channel: 'C0PAGE', cursor: 'bm9wZQ==' })), 'invalid_cursor');
  });

  test("Slack's error strings: unknown, foreign and archived channels, others' messages, Unicode reaction names, double reactions", async () => {
    const f = fake!;
    const client = webClient(f);
    f.createChannel('C0OUTSIDE', { botMember: false });
    f.createChannel('G0SECRET', { botMember: false });
    f.createChannel('C0OLD');
    f.archiveChannel('C0OLD');
    const { id } = await f.injectMessage({ chat: 'C0ERR', user: { id: 'U0ALICE', name: 'Alice' }, text: 'delete me' });
    assert.equal(await slackError(client.chat.postMessage({ channel: 'C0NOPE', text: 'x' })), 'channel_not_found');
    assert.equal(await slackError(client.chat.postMessage({ channel: 'C0OUTSIDE', text: 'x' })), 'not_in_channel');
    assert.equal(await slackError(client.chat.postMessage({ channel: 'G0SECRET', text: 'x' })), 'channel_not_found', 'a private channel the bot is not in does not exist for it');
    assert.equal(await slackError(client.chat.postMessage({ channel: 'C0OLD', text: 'x' })), 'is_archived');
    assert.equal(await slackError(client.chat.postMessage({ channel: 'C0ERR', text: '' })), 'no_text');
    assert.equal(await slackError(client.chat.delete({ channel: 'C0ERR', ts: id })), 'cant_delete_message', 'a bot token deletes only its own messages');
    assert.equal(await slackError(client.chat.update({ channel: 'C0ERR', ts: id, text: 'x' })), 'cant_update_message');
    assert.equal(await slackError(client.reactions.add({ channel: 'C0ERR', timestamp: id, name: '👍' })), 'invalid_name');
    await client.reactions.add({ channel: 'C0ERR', timestamp: id, name: 'thumbsup' });
    assert.equal(await slackError(client.reactions.add({ channel: 'C0ERR', timestamp: id, name: '+1' })), 'already_reacted', 'thumbsup and +1 are one reaction');
    assert.equal(await slackError(client.reactions.remove({ channel: 'C0ERR', timestamp: id, name: 'tada' })), 'no_reaction');
    assert.equal(await slackError(client.chat.postEphemeral({ channel: 'C0ERR', user: 'U0NOBODY', text: 'x' })), 'user_not_in_channel');
    assert.equal(await slackError(client.pins.add({ channel: 'C0ERR', timestamp: '1.5' })), 'message_not_found');
  });

  test('text over 40,000 characters is cut with a message_truncated warning; Block Kit limits answer invalid_blocks', async () => {
    const f = fake!;
    const client = webClient(f);
    const long = await client.chat.postMessage({ channel: 'C0ERR', text: 'a'.repeat(40_010) });
    assert.equal(long.message?.text?.length, 40_000);
    assert.deepEqual(long.response_metadata?.warnings, ['message_truncated']);
    assert.equal(await slackError(client.chat.update({ channel: 'C0ERR', ts: long.ts!, text: 'b'.repeat(40_001) })), 'msg_too_long');
    const bad = client.chat.postMessage({ channel: 'C0ERR', text: 'card', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }] });
    assert.equal(await slackError(bad), 'invalid_blocks');
    const tooMany = client.chat.postMessage({ channel: 'C0ERR', text: 'card', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) });
    assert.equal(await slackError(tooMany), 'invalid_blocks');
  });

  test('tokens: a bad one is invalid_auth, the app token only opens sockets, admin methods refuse bot tokens, scopes are checked', async () => {
    const f = fake!;
    assert.equal(await slackError(webClient(f, 'xoxb-wrong').auth.test()), 'invalid_auth');
    assert.equal(await slackError(webClient(f).apps.connections.open()), 'not_allowed_token_type');
    assert.equal(await slackError(webClient(f, f.tokens.app).chat.postMessage({ channel: 'C0ERR', text: 'x' })), 'not_allowed_token_type');
    const url = (await webClient(f, f.tokens.app).apps.connections.open()).url!;
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);
    assert.equal(await slackError(webClient(f).admin.users.remove({ team_id: f.teamId, user_id: 'U0ALICE' })), 'not_allowed_token_type', 'removing someone from the workspace needs an admin user token');
    await webClient(f, ADMIN_TOKEN).admin.users.remove({ team_id: f.teamId, user_id: 'U0ALICE' });
    assert.ok(f.outbox('C0AMA').some((o) => o.type === 'ban' && o.user === 'U0ALICE'), 'a workspace removal shows in every chat');

    const narrow = await startSlackFake({ botScopes: ['chat:write'] });
    try {
      await narrow.injectMessage({ chat: 'C0X', user: { id: 'U0A', name: 'A' }, text: 'pin me' });
      const ts = narrow.messagesIn('C0X')[0]!.ts;
      const err = await webClient(narrow).pins.add({ channel: 'C0X', timestamp: ts }).catch((e: { data: { error: string; needed: string } }) => e.data);
      assert.deepEqual({ error: (err as { error: string }).error, needed: (err as { needed: string }).needed }, { error: 'missing_scope', needed: 'pins:write' });
    } finally {
      await narrow.close();
    }
  });

  test('an admin user token deletes anyone’s message; a bot can kick from a channel but never from #general', async () => {
    const f = fake!;
    const { id } = await f.injectMessage({ chat: 'C0MOD', user: { id: 'U0SPAM', name: 'Spammer' }, text: 'buy now' });
    await webClient(f, ADMIN_TOKEN).chat.delete({ channel: 'C0MOD', ts: id });
    assert.equal(f.message('C0MOD', id), undefined);
    await webClient(f).conversations.kick({ channel: 'C0MOD', user: 'U0SPAM' });
    assert.ok(f.outbox('C0MOD').some((o) => o.type === 'ban' && o.user === 'U0SPAM'));
    const general = [...f.state.channels.values()].find((c) => c.isGeneral)!;
    await f.injectJoin({ chat: general.id, user: { id: 'U0SPAM', name: 'Spammer' } });
    assert.equal(await slackError(webClient(f).conversations.kick({ channel: general.id, user: 'U0SPAM' })), 'cant_kick_from_general');
  });
});

describe('fake Slack rate limits with the real WebClient', { timeout: 30_000 }, () => {
  let fake: SlackFake | undefined;
  before(async () => {
    fake = await startSlackFake({ rateLimits: { post: { burst: 1, perSecond: 1 }, perMinute: { 2: 2 } } });
  });
  after(async () => fake?.close());

  test('a forced 429 with Retry-After is waited out and retried by WebClient, and the message is posted once', async () => {
    const f = fake!;
    f.createChannel('C0RL');
    const client = webClient(f);
    const limited: number[] = [];
    client.on(WebClientEvent.RATE_LIMITED, (secs: number) => limited.push(secs));
    f.failNext({ method: 'chat.postMessage', status: 429, retryAfterSec: 1 });
    const started = Date.now();
    const r = await client.chat.postMessage({ channel: 'C0RL', text: 'after the wait' });
    assert.ok(Date.now() - started >= 1000, 'Retry-After was honoured');
    assert.deepEqual(limited, [1]);
    const posts = f.calls.filter((c) => c.method === 'chat.postMessage');
    assert.deepEqual(posts.map((c) => c.status), [429, 200]);
    assert.deepEqual(f.outbox('C0RL').map((o) => o.messageId), [r.ts]);
  });

  test('with rejectRateLimitedCalls the 429 surfaces as WebAPIRateLimitedError carrying retryAfter (for the outbound runner)', async () => {
    const f = fake!;
    f.createChannel('C0BURST');
    f.createChannel('C0OTHER');
    const client = webClient(f, f.tokens.bot, { rejectRateLimitedCalls: true });
    await client.chat.postMessage({ channel: 'C0BURST', text: 'one' });
    const err = await client.chat.postMessage({ channel: 'C0BURST', text: 'two' }).catch((e: unknown) => e);
    assert.ok(err instanceof Error);
    assert.equal((err as WebAPIRateLimitedError).code, ErrorCode.RateLimitedError);
    assert.equal((err as WebAPIRateLimitedError).retryAfter, 1, 'one message per second per channel');
    await client.chat.postMessage({ channel: 'C0OTHER', text: 'another channel has its own budget' });
    assert.equal(f.web.limiter.limited, 1);
  });

  test('a tier budget per method runs out and answers ratelimited with the seconds left in the window', async () => {
    const f = fake!;
    const { id } = await f.injectMessage({ chat: 'C0PIN', user: { id: 'U0A', name: 'A' }, text: 'x' });
    const client = webClient(f, f.tokens.bot, { rejectRateLimitedCalls: true });
    await client.reactions.remove({ channel: 'C0PIN', timestamp: id, name: 'eyes' }).catch(() => {});
    await client.reactions.remove({ channel: 'C0PIN', timestamp: id, name: 'eyes' }).catch(() => {});
    const err = (await client.reactions.remove({ channel: 'C0PIN', timestamp: id, name: 'eyes' }).catch((e: unknown) => e)) as WebAPIRateLimitedError;
    assert.equal(err.code, ErrorCode.RateLimitedError);
    assert.ok(err.retryAfter >= 1 && err.retryAfter <= 60);
  });

  test('a 503 is retried by WebClient; an ok:false platform error is not', async () => {
    const f = fake!;
    const client = webClient(f);
    f.failNext({ method: 'users.info', status: 503 });
    await f.injectMessage({ chat: 'C0U', user: { id: 'U0EVE', name: 'Eve', admin: true }, text: 'hi' });
    const u = await client.users.info({ user: 'U0EVE' });
    assert.equal(u.user?.is_admin, true);
    assert.deepEqual(f.calls.filter((c) => c.method === 'users.info').map((c) => c.status), [503, 200]);
    f.failNext({ method: 'users.info', error: 'fatal_error' });
    assert.equal(await slackError(client.users.info({ user: 'U0EVE' })), 'fatal_error');
    assert.equal(f.calls.filter((c) => c.method === 'users.info').length, 3);
  });
});
