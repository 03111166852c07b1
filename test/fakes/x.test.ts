// The fake X API itself: what `townhall sandbox` relies on (contract §7) and the v2 behaviour the adapter
// tests trust (paging, rate-limit headers, error bodies), exercised with the real twitter-api-v2 client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import type http from 'node:http';
import { createXClient } from '../../adapters/x/client.js';
import { startXFake, type XFake } from '../../fakes/x/index.js';
import { FAKE_X_CREDENTIALS } from '../adapters/x/harness.js';

let fake: XFake;
let client: TwitterApi;
let agent: http.Agent;
before(async () => {
  fake = await startXFake({ credentials: { appKey: FAKE_X_CREDENTIALS.appKey, accessToken: FAKE_X_CREDENTIALS.accessToken } });
  ({ client, agent } = createXClient({ credentials: { ...FAKE_X_CREDENTIALS }, apiBaseUrl: fake.url, requestTimeoutMs: 3000, onRateLimit: () => undefined }));
});
after(async () => {
  agent.destroy();
  await fake?.close();
});

describe('x fake: sandbox surface', () => {
  test('an injected message is a post mentioning the bot in the given conversation, replying to replyTo', async () => {
    const first = await fake.injectMessage({ chat: 'sbx', user: { id: 'u1', name: 'Mod', admin: true }, text: 'welcome' });
    const second = await fake.injectMessage({ chat: 'sbx', user: { id: 'u2', name: 'Guest' }, text: 'hi @townhall_bot', replyTo: first.id });
    const p1 = fake.post(first.id)!;
    const p2 = fake.post(second.id)!;
    assert.equal(p1.text, '@townhall_bot welcome');
    assert.equal(p2.text, 'hi @townhall_bot', 'not mentioned twice');
    assert.equal(p1.conversation_id, 'sbx');
    assert.deepEqual(p2.referenced_tweets, [{ type: 'replied_to', id: first.id }]);
    assert.equal(fake.isAdmin('u1', 'sbx'), true);
    assert.equal(fake.isAdmin('u2', 'sbx'), false);
    const page = await client.v2.userMentionTimeline(fake.botUser.id, { 'tweet.fields': ['conversation_id'], expansions: ['author_id'] });
    assert.ok(page.tweets.some((t) => t.id === second.id && t.conversation_id === 'sbx'));
  });

  test("the outbox lists the bot's calls in order with platform ids, filterable by chat", async () => {
    const q = await fake.injectMessage({ chat: 'out', user: { id: 'u3', name: 'Asker' }, text: 'question' });
    const t0 = Date.now();
    const r = await client.v2.reply('an answer', q.id);
    await client.v2.like(fake.botUser.id, q.id);
    const out = fake.outbox('out');
    assert.equal(out.length, 2);
    assert.deepEqual({ ...out[0], at: 0 }, { type: 'send', chat: 'out', replyTo: q.id, messageId: r.data.id, text: 'an answer', at: 0 });
    assert.deepEqual({ ...out[1], at: 0 }, { type: 'react', chat: 'out', messageId: q.id, at: 0 });
    assert.ok(out[0]!.at >= t0);
    assert.ok(fake.outbox().length >= 2);
  });

  test('a reaction is a like; a join creates the person', async () => {
    const q = await fake.injectMessage({ chat: 'likes', user: { id: 'u4', name: 'Poster' }, text: 'vote me' });
    await fake.injectReaction({ chat: 'likes', message: q.id, user: { id: 'u5', name: 'Fan' }, emoji: '👍' });
    await fake.injectJoin({ chat: 'likes', user: { id: 'u6', name: 'Newcomer' } });
    assert.deepEqual(fake.likesOf(q.id), ['u5']);
    const liked = await client.v2.get(`tweets/${q.id}/liking_users`);
    assert.deepEqual((liked as { data: { id: string }[] }).data.map((u) => u.id), ['u5']);
    assert.equal((await client.v2.user('u6')).data.name, 'Newcomer');
  });
});

describe('x fake: v2 behaviour', () => {
  test('errors are v2 problem bodies the client parses', async () => {
    await assert.rejects(client.v2.get('nothing/here'), (e: unknown) => {
      assert.ok(e instanceof ApiResponseError);
      assert.equal(e.code, 404);
      assert.deepEqual(Object.keys(e.data).sort(), ['detail', 'status', 'title', 'type']);
      return true;
    });
    for (const status of [403, 500, 429]) {
      fake.failNext(status, { endpoint: 'GET /2/users/me', resetInMs: 100 });
      await assert.rejects(client.v2.me(), (e: unknown) => e instanceof ApiResponseError && e.code === status && (e.data as { status?: number }).status === status);
    }
  });

  test('every response carries x-rate-limit headers; a spent window answers 429 until its reset', async () => {
    const me = await client.v2.get('users/by/username/townhall_bot', undefined, { fullResponse: true });
    assert.ok(me.rateLimit && me.rateLimit.limit > 0 && me.rateLimit.reset * 1000 > Date.now());
    fake.setRateLimit('GET /2/users/:id', { remaining: 0, resetAt: Date.now() + 60_000 });
    await assert.rejects(client.v2.user('u1'), (e: unknown) => e instanceof ApiResponseError && e.code === 429 && e.rateLimit?.remaining === 0);
  });

  test('mentions page newest first with pagination_token, and since_id excludes what was seen', async () => {
    const author = { id: 'pager', name: 'Pager' };
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await fake.injectMessage({ chat: 'pg', user: author, text: `n${i}` })).id);
    const since = ids[4]!;
    const p1 = (await client.v2.get(`users/${fake.botUser.id}/mentions`, { since_id: since, max_results: 5 })) as { data: { id: string }[]; meta: { next_token?: string; newest_id: string } };
    assert.deepEqual(p1.data.map((t) => t.id), ids.slice(-5).reverse());
    assert.equal(p1.meta.newest_id, ids.at(-1));
    const p2 = (await client.v2.get(`users/${fake.botUser.id}/mentions`, { since_id: since, max_results: 5, pagination_token: p1.meta.next_token! })) as { data: { id: string }[]; meta: { next_token?: string } };
    assert.deepEqual(p2.data.map((t) => t.id), ids.slice(5, 7).reverse());
    assert.equal(p2.meta.next_token, undefined);
    await assert.rejects(client.v2.get(`users/${fake.botUser.id}/mentions`, { max_results: 500 }), (e: unknown) => e instanceof ApiResponseError && e.code === 400);
  });

  test('posting: too long, duplicate and app-only requests are refused as X refuses them', async () => {
    await assert.rejects(client.v2.tweet('x'.repeat(281)), (e: unknown) => e instanceof ApiResponseError && e.code === 400);
    await client.v2.tweet('unique words 1');
    await assert.rejects(client.v2.tweet('unique words 1'), (e: unknown) => e instanceof ApiResponseError && e.code === 403 && /duplicate/.test(String(e.data.detail)));
    const appOnly = createXClient({ credentials: { bearerToken: 'anything' }, apiBaseUrl: fake.url, requestTimeoutMs: 3000, onRateLimit: () => undefined });
    try {
      await assert.rejects(appOnly.client.v2.tweet('hello'), (e: unknown) => e instanceof ApiResponseError && e.code === 403 && e.data.title === 'Unsupported Authentication');
    } finally {
      appOnly.agent.destroy();
    }
  });
});
