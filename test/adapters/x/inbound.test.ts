// X inbound: the real twitter-api-v2 client polls the fake X API; cursors and events live in a real Redis.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import type { XAdapter, XAdapterOptions } from '../../../adapters/x/index.js';
import { X_ENDPOINTS, trackXHashtags } from '../../../adapters/x/index.js';
import type { Redis } from 'ioredis';
import type { Keys } from '../../../src/redis/keys.js';
import { ChatEventSchema } from '../../../src/core/events.js';
import type { XFake, XFakeOptions } from '../../../fakes/x/index.js';
import { FAKE_X_CREDENTIALS, xRig } from './harness.js';
import { adapterDeps, type TestSink } from '../../helpers/adapter.js';
import { PlatformError } from '../../../src/core/errors.js';
import { waitFor } from '../../helpers/core.js';

const MENTIONS = X_ENDPOINTS.mentions;
/** Generous windows so rate-limit spreading does not slow the tests; tests that need limits set them. */
const FAST_LIMITS: XFakeOptions = { defaultRateLimit: { limit: 100_000, windowMs: 60_000 } };

interface Env {
  fake: XFake;
  sink: TestSink;
  redis: Redis;
  keys: Keys;
  make: (more?: Partial<XAdapterOptions>) => XAdapter;
  mentionRequests: () => XFake['requests'];
  close: () => Promise<void>;
}
const open: Env[] = [];

async function setup(extra: Partial<XAdapterOptions> = {}, fakeOpts: XFakeOptions = {}, logLines?: string[]): Promise<Env> {
  const log = logLines ? pino({ level: 'debug' }, { write: (s: string) => void logLines.push(s) }) : undefined;
  const rig = await xRig({ extra: (fake) => ({ isAdmin: (id, _n, chat) => fake.isAdmin(id, chat), ...extra }), fakeOpts: { ...FAST_LIMITS, ...fakeOpts }, ...(log ? { log } : {}) });
  const env: Env = { ...rig, mentionRequests: () => rig.fake.requests.filter((q) => q.endpoint === MENTIONS) };
  open.push(env);
  return env;
}

afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const alice = { id: '501', name: 'Alice' };
const bob = { id: '502', name: 'Bob' };

/** Waits until `cond` holds, polling every 10 ms. */
describe('x inbound', () => {
  test('mentions become ChatEvents: conversation as chat, author, replied-to post, admin flag', async () => {
    const env = await setup();
    const root = await env.fake.injectMessage({ chat: 'conv1', user: { ...bob, admin: true }, text: 'AMA starts now' });
    const q = await env.fake.injectMessage({ chat: 'conv1', user: alice, text: '/ask how do budgets work? https://example.com/faq', replyTo: root.id });
    const a = env.make();
    await a.init();
    await a.pollOnce();
    assert.equal(env.sink.events.length, 2);
    for (const e of env.sink.events) assert.ok(ChatEventSchema.safeParse(e).success);
    const [first, second] = env.sink.events;
    assert.equal(first!.messageId, root.id, 'oldest first');
    assert.equal(first!.user.isAdmin, true);
    assert.equal(second!.id, `x/message/${q.id}`);
    assert.equal(second!.platform, 'x');
    assert.equal(second!.chat, 'x:conv1');
    assert.equal(second!.replyTo, root.id);
    assert.equal(second!.replyToUser, 'x:user:502');
    assert.equal(second!.user.id, 'x:user:501');
    assert.equal(second!.user.name, 'Alice');
    assert.equal(second!.user.isAdmin, false);
    assert.equal(second!.user.lang, 'en');
    assert.equal(second!.text, '@townhall_bot /ask how do budgets work? https://example.com/faq', 't.co link expanded back');
    assert.deepEqual(second!.links, ['https://example.com/faq']);
    // The adapter asked for what it normalizes.
    const req = env.mentionRequests()[0]!;
    assert.match(req.query.expansions!, /author_id/);
    assert.match(req.query.expansions!, /referenced_tweets\.id/);
    assert.match(req.query['tweet.fields']!, /conversation_id/);
  });

  test('more mentions than a page are all delivered, oldest first, by paging with pagination_token', async () => {
    const env = await setup({ pageSize: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await env.fake.injectMessage({ chat: 'c', user: alice, text: `question ${i}` })).id);
    const a = env.make();
    await a.init();
    await a.pollOnce();
    assert.deepEqual(
      env.sink.events.map((e) => e.messageId).sort(),
      [...ids].sort(),
    );
    const reqs = env.mentionRequests();
    assert.equal(reqs.length, 3);
    assert.equal(reqs[0]!.query.pagination_token, undefined);
    assert.ok(reqs[1]!.query.pagination_token && reqs[2]!.query.pagination_token);
    // The next poll starts after the newest one.
    await sleep(50);
    await a.pollOnce();
    assert.equal(env.mentionRequests().at(-1)!.query.since_id, ids.at(-1));
    assert.equal(env.sink.events.length, 25);
  });

  test('a restart between two polls neither skips nor repeats a mention', async () => {
    const env = await setup();
    await env.fake.injectMessage({ chat: 'c', user: alice, text: 'one' });
    await env.fake.injectMessage({ chat: 'c', user: bob, text: 'two' });
    const first = env.make();
    await first.init();
    await first.startInbound();
    await env.sink.count(2);
    await sleep(80); // a few empty polls
    await first.stop();
    const stoppedAt = env.fake.requests.length;

    // While the bot is down, people keep writing.
    const three = await env.fake.injectMessage({ chat: 'c', user: alice, text: 'three' });
    const second = env.make();
    await second.init();
    await second.startInbound();
    await env.fake.injectMessage({ chat: 'c', user: bob, text: 'four' });
    await env.sink.count(4);
    await sleep(100);
    await second.stop();

    assert.deepEqual(env.sink.events.map((e) => e.text?.replace('@townhall_bot ', '')), ['one', 'two', 'three', 'four'], 'each mention exactly once');
    const stored = await env.sink.storedById();
    assert.equal(stored.size, 4);
    // The restarted adapter continued from the stored cursor, not from scratch.
    const resumed = env.fake.requests.slice(stoppedAt).find((r) => r.endpoint === MENTIONS)!;
    assert.ok(resumed.query.since_id, 'resumed with since_id');
    assert.ok(BigInt(resumed.query.since_id!) < BigInt(three.id));
  });

  test('a failed publish does not move the cursor: the mention comes again and is stored once', async () => {
    const env = await setup();
    const m = await env.fake.injectMessage({ chat: 'c', user: alice, text: 'hello' });
    const a = env.make();
    await a.init();
    env.sink.failures = 1;
    await a.pollOnce();
    assert.equal(a.counters.pollErrors, 1);
    assert.equal(env.sink.events.length, 0);
    await sleep(40); // past the error backoff
    await a.pollOnce();
    assert.deepEqual(env.sink.events.map((e) => e.messageId), [m.id]);
    assert.equal(env.mentionRequests().at(-1)!.query.since_id, undefined, 'the cursor had not moved');
  });

  test('a sweep cut short by maxPagesPerPoll resumes where it stopped, skipping nothing', async () => {
    const env = await setup({ pageSize: 10, maxPagesPerPoll: 1, minPollIntervalMs: 5 });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await env.fake.injectMessage({ chat: 'c', user: alice, text: `q${i}` })).id);
    const a = env.make();
    await a.init();
    await a.pollOnce();
    assert.equal(env.sink.events.length, 10);
    const late = await env.fake.injectMessage({ chat: 'c', user: bob, text: 'arrived mid-sweep' });
    for (let i = 0; i < 6; i++) {
      await sleep(40);
      await a.pollOnce();
    }
    const got = env.sink.events.map((e) => e.messageId!);
    assert.equal(new Set(got).size, got.length, 'no repeats');
    assert.deepEqual([...got].sort(), [...ids, late.id].sort(), 'nothing skipped');
  });

  test('on first start only recent mentions are taken (firstPollLookbackMs)', async () => {
    const env = await setup({ firstPollLookbackMs: 60_000 });
    env.fake.addPost({ author: alice, text: '@townhall_bot from last week', createdAt: Date.now() - 7 * 24 * 3600_000 });
    const recent = env.fake.addPost({ author: alice, text: '@townhall_bot just now' });
    const a = env.make();
    await a.init();
    await a.pollOnce();
    assert.deepEqual(env.sink.events.map((e) => e.messageId), [recent.id]);
    assert.ok(env.mentionRequests()[0]!.query.start_time);
  });

  test('reposts and the bot’s own posts are skipped and counted', async () => {
    const env = await setup({ hashtags: ['townhall'] });
    const orig = await env.fake.injectMessage({ chat: 'c', user: alice, text: 'original #townhall' });
    env.fake.addPost({ author: bob, text: `RT @alice: @townhall_bot original`, retweetOf: orig.id });
    env.fake.addPost({ author: env.fake.botUser.id, text: 'The bot says #townhall' });
    const a = env.make();
    await a.init();
    await a.pollOnce();
    const stored = await env.sink.storedById();
    assert.deepEqual([...stored.values()].map((e) => e.messageId), [orig.id]);
    assert.equal(a.counters.reposts, 1);
    assert.equal(a.counters.ownPosts, 1);
  });

  test('during an AMA its hashtag is searched; a post found both ways is one event', async () => {
    const env = await setup();
    const a = env.make();
    await a.init();
    await a.pollOnce();
    assert.equal(env.fake.requests.filter((r) => r.endpoint === X_ENDPOINTS.search).length, 0, 'no search without an AMA');

    const tagged = env.fake.addPost({ author: alice, text: 'What about pricing? #AMA2025' });
    const both = env.fake.addPost({ author: bob, text: '@townhall_bot and refunds? #ama2025' });
    env.fake.addPost({ author: bob, text: 'unrelated #other' });
    await a.trackHashtags(['#AMA2025']);
    await sleep(40);
    await a.pollOnce();
    const search = env.fake.requests.filter((r) => r.endpoint === X_ENDPOINTS.search);
    assert.equal(search[0]!.query.query, '#ama2025 -is:retweet');
    const stored = await env.sink.storedById();
    assert.deepEqual([...stored.values()].map((e) => e.messageId).sort(), [tagged.id, both.id].sort());
    const fromSearch = [...stored.values()].find((e) => e.messageId === tagged.id)!;
    assert.equal(fromSearch.chat, `x:${tagged.id}`);

    await a.untrackHashtags(['ama2025']);
    const before = env.fake.requests.filter((r) => r.endpoint === X_ENDPOINTS.search).length;
    await sleep(40);
    await a.pollOnce();
    assert.equal(env.fake.requests.filter((r) => r.endpoint === X_ENDPOINTS.search).length, before, 'no search after the AMA');
  });

  test("an AMA hashtag followed by another process's adapter (its 'listen' action) is searched, with no call on this one", async () => {
    const env = await setup();
    const a = env.make();
    await a.init();
    await a.startInbound();
    await sleep(60);
    const tagged = env.fake.addPost({ author: alice, text: 'When is v2? #launchama' });
    const other = adapterDeps('x', { keys: env.keys, redis: env.redis });
    await trackXHashtags(other.store, ['#LaunchAMA']);
    other.close();
    await waitFor(async () => (await env.sink.storedById()).has(`x/message/${tagged.id}`), 'the tagged post', 3000);
  });

  test('x-rate-limit-remaining: 0 pauses polling until the reset time', async () => {
    const env = await setup({ pollIntervalMs: 20, minPollIntervalMs: 5 });
    await env.fake.injectMessage({ chat: 'c', user: alice, text: 'before the pause' });
    const resetAt = Math.ceil((Date.now() + 1500) / 1000) * 1000;
    env.fake.setRateLimit(MENTIONS, { remaining: 1, resetAt });
    const a = env.make();
    await a.init();
    await a.startInbound();
    await env.sink.count(1);
    await sleep(100);
    assert.equal(env.mentionRequests().length, 1, 'no second call while the window is spent');
    assert.ok((a.status().details!.mentionsPausedForMs as number) > 0, 'status shows the pause');
    const after = await env.fake.injectMessage({ chat: 'c', user: bob, text: 'after the reset' });
    await env.sink.count(2, resetAt - Date.now() + 2000);
    const reqs = env.mentionRequests();
    assert.ok(reqs[1]!.at >= resetAt, `second call ${resetAt - reqs[1]!.at} ms before the reset`);
    assert.ok(reqs.every((r) => r.status === 200), 'never hammered into a 429');
    assert.equal(env.sink.events[1]!.messageId, after.id);
  });

  test('a 429 while polling waits for the reported reset instead of retrying at once', async () => {
    const env = await setup({ pollIntervalMs: 20, minPollIntervalMs: 5 });
    await env.fake.injectMessage({ chat: 'c', user: alice, text: 'hi' });
    env.fake.failNext(429, { endpoint: MENTIONS, resetInMs: 1000 });
    const a = env.make();
    await a.init();
    await a.startInbound();
    await env.sink.count(1, 4000);
    const reqs = env.mentionRequests();
    assert.equal(reqs[0]!.status, 429);
    const reset = Math.ceil((reqs[0]!.at + 1000) / 1000) * 1000;
    assert.ok(reqs[1]!.at >= reset, 'waited for the reset');
    assert.equal(reqs.filter((r) => r.status === 429).length, 1);
  });

  test('server errors back off and recover without losing a mention', async () => {
    const env = await setup({ errorBackoffMs: 100, maxErrorBackoffMs: 1000 });
    const m = await env.fake.injectMessage({ chat: 'c', user: alice, text: 'still there?' });
    env.fake.failNext(500, { endpoint: MENTIONS, times: 2 });
    const a = env.make();
    await a.init();
    await a.startInbound();
    await env.sink.count(1);
    assert.equal(a.counters.pollErrors, 2);
    assert.equal(env.sink.events[0]!.messageId, m.id);
    const [r1, r2, r3] = env.mentionRequests();
    // The kit's backoff: base·2^(n-1), half of it random (jitter), so the n-th wait is at least half of its full length.
    assert.ok(r2!.at - r1!.at >= 45, `first backoff ${r2!.at - r1!.at} ms`);
    assert.ok(r3!.at - r2!.at >= 95, `the second is at least half of twice the first: ${r3!.at - r2!.at} ms`);
  });

  test('X failing repeatedly marks the adapter not connected with a reason; it recovers by itself', async () => {
    const env = await setup();
    env.fake.failNext(503, { endpoint: MENTIONS, times: 3 });
    const a = env.make();
    await a.init();
    await a.startInbound();
    await waitFor(() => a.status().connected === false, 'not connected', 2000);
    assert.ok(a.status().problems.some((p) => /failing \(3x\)/.test(p)));
    await waitFor(() => a.status().connected === true, 'connected again', 3000);
    assert.deepEqual(a.status().problems, []);
  });

  test('hostile payloads: malformed posts are counted and skipped with one log line each; the rest is delivered', async () => {
    const lines: string[] = [];
    const env = await setup({}, {}, lines);
    env.fake.addPost({ author: alice, text: '@townhall_bot bad author', override: { author_id: 12345 } });
    env.fake.addPost({ author: alice, text: '@townhall_bot huge', override: { text: 'x'.repeat(50_000) } });
    env.fake.addPost({ author: alice, text: '@townhall_bot weird id', override: { id: '../../etc' } });
    const good = env.fake.addPost({ author: bob, text: '@townhall_bot fine' });
    const a = env.make();
    await a.init();
    await a.pollOnce();
    assert.deepEqual(env.sink.events.map((e) => e.messageId), [good.id]);
    assert.equal(a.counters.malformed, 3);
    const skipped = lines.filter((l) => l.includes('x post skipped'));
    assert.equal(skipped.length, 3);
    assert.ok(skipped.every((l) => l.length < 400), 'short log lines, no payload dumps');
  });

  test('a page that is not a v2 page is an error the loop survives', async () => {
    const env = await setup();
    const m = await env.fake.injectMessage({ chat: 'c', user: alice, text: 'after garbage' });
    env.fake.replyNext(MENTIONS, { data: 'not a list' });
    env.fake.replyNext(MENTIONS, 'plain text body');
    const a = env.make();
    await a.init();
    await a.startInbound();
    await env.sink.count(1);
    assert.equal(a.counters.pollErrors, 2);
    assert.equal(env.sink.events[0]!.messageId, m.id);
  });

  test('the monthly read budget stops polling when spent, and status says what is left', async () => {
    const env = await setup({ budgets: { monthlyReads: 3 }, maxPollIntervalMs: 10_000 });
    for (let i = 0; i < 4; i++) await env.fake.injectMessage({ chat: 'c', user: alice, text: `m${i}` });
    const a = env.make();
    await a.init();
    await a.pollOnce();
    assert.equal(env.sink.events.length, 4);
    const s = a.status();
    assert.deepEqual((s.details!.reads as { left: number }).left, 0);
    assert.ok(s.problems.some((p) => /read budget/.test(p)));
    assert.equal(s.details!.pollIntervalMs, 10_000, 'the interval stretched to the maximum');
    await a.trackHashtags(['x']);
    const count = env.fake.requests.length;
    await a.pollOnce();
    assert.equal(env.fake.requests.length, count, 'no further reads');
  });

  test('likes on question posts count as votes: added, removed, added again', async () => {
    const env = await setup({ likesAsVotes: true });
    const q = await env.fake.injectMessage({ chat: 'c', user: alice, text: '/ask why?' });
    const a = env.make();
    await a.init();
    const sent = await a.perform({ v: 1, id: 'card-1', type: 'send', platform: 'x', chat: 'x:c', replyTo: q.id, text: 'Q7: why?', format: 'plain', priority: 'command', buttons: [{ label: 'Upvote', data: 'q7' }] });
    const card = sent.messageIds![0]!;
    await env.fake.injectReaction({ chat: 'c', message: card, user: bob, emoji: '❤️' });
    await a.pollOnce();
    let votes = env.sink.events.filter((e) => e.kind === 'vote');
    assert.equal(votes.length, 1);
    assert.deepEqual(votes[0]!.vote, { target: 'q7', added: true });
    assert.equal(votes[0]!.user.id, 'x:user:502');
    assert.equal(votes[0]!.messageId, card);

    env.fake.unlike(card, bob.id);
    await sleep(40);
    await a.pollOnce();
    await env.fake.injectReaction({ chat: 'c', message: card, user: bob, emoji: '❤️' });
    await sleep(40);
    await a.pollOnce();
    votes = env.sink.events.filter((e) => e.kind === 'vote');
    assert.deepEqual(votes.map((v) => v.vote!.added), [true, false, true]);
    assert.equal(new Set(votes.map((v) => v.id)).size, 3, 'a re-like is a new event, not a duplicate');
    await sleep(40);
    await a.pollOnce();
    assert.equal(env.sink.events.filter((e) => e.kind === 'vote').length, 3, 'no change, no event');
  });

  test('likes as votes switch off with a reason when the access level cannot list likers', async () => {
    const env = await setup({ likesAsVotes: true });
    const q = await env.fake.injectMessage({ chat: 'c', user: alice, text: '/ask likes?' });
    const a = env.make();
    await a.init();
    await a.perform({ v: 1, id: 'card-403', type: 'send', platform: 'x', chat: 'x:c', replyTo: q.id, text: 'Q1', format: 'plain', priority: 'command', buttons: [{ label: 'Upvote', data: 'q1' }] });
    env.fake.failNext(403, { endpoint: X_ENDPOINTS.likingUsers, detail: 'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.' });
    await a.pollOnce();
    assert.ok(a.status().problems.some((p) => /likes no longer count as votes/.test(p)));
    const n = env.fake.requests.filter((r) => r.endpoint === X_ENDPOINTS.likingUsers).length;
    for (let i = 0; i < 3; i++) {
      await sleep(40);
      await a.pollOnce();
    }
    assert.equal(env.fake.requests.filter((r) => r.endpoint === X_ENDPOINTS.likingUsers).length, n, 'not asked again');
  });

  test('wrong credentials: init fails saying so; no secret reaches the log', async () => {
    const lines: string[] = [];
    const env = await setup({}, {}, lines);
    const a = env.make({ credentials: { ...FAKE_X_CREDENTIALS, accessToken: 'wrong-token' } });
    await assert.rejects(a.init(), /401/);
    assert.ok(a.status().problems.some((p) => /credentials/.test(p)));
    const all = lines.join('\n');
    assert.ok(all.length > 0);
    for (const secret of [FAKE_X_CREDENTIALS.appSecret, FAKE_X_CREDENTIALS.accessSecret, 'wrong-token', 'oauth_signature']) {
      assert.ok(!all.includes(secret), `log contains ${secret}`);
    }
  });

  test('no secret reaches the log through a busy run with errors', async () => {
    const lines: string[] = [];
    const env = await setup({}, {}, lines);
    const q = await env.fake.injectMessage({ chat: 'c', user: alice, text: 'hi' });
    env.fake.failNext(500, { endpoint: MENTIONS });
    env.fake.failNext(429, { endpoint: X_ENDPOINTS.post, resetInMs: 100 });
    const a = env.make();
    await a.init();
    await a.startInbound();
    await env.sink.count(1);
    await a.perform({ v: 1, id: 's1', type: 'send', platform: 'x', chat: 'x:c', replyTo: q.id, text: 'x', format: 'plain', priority: 'command' }).catch(() => undefined);
    const all = lines.join('\n');
    for (const secret of [FAKE_X_CREDENTIALS.appSecret, FAKE_X_CREDENTIALS.accessSecret, FAKE_X_CREDENTIALS.accessToken, 'oauth_signature', 'Authorization']) {
      assert.ok(!all.includes(secret), `log contains ${secret}`);
    }
  });

  test('a bearer token reads with the named account and reports that replies need user keys', async () => {
    const env = await setup({}, { credentials: { bearerToken: 'app-only' } });
    await env.fake.injectMessage({ chat: 'c', user: alice, text: 'read me' });
    const a = env.make({ credentials: { bearerToken: 'app-only' }, botUsername: 'townhall_bot' });
    await a.init();
    await a.pollOnce();
    assert.equal(env.sink.events.length, 1);
    assert.equal(env.fake.requests[0]!.auth, 'bearer');
    assert.ok(a.status().problems.some((p) => /read-only/.test(p)));
    await assert.rejects(
      a.perform({ v: 1, id: 'r1', type: 'send', platform: 'x', chat: 'x:c', text: 'hi', format: 'plain', priority: 'command' }),
      (e: Error) => e instanceof PlatformError && e.scope === 'permanent',
    );
  });

  test('stop() ends the loop and a stopped adapter makes no more calls', async () => {
    const env = await setup();
    const a = env.make();
    await a.init();
    await a.startInbound();
    await waitFor(() => env.mentionRequests().length >= 2, 'two polls', 2000);
    await a.stop();
    const n = env.fake.requests.length;
    await sleep(100);
    assert.equal(env.fake.requests.length, n);
  });
});

