// X outbound: adapter.perform with the real twitter-api-v2 client against the fake X API, state in a real Redis.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { XAdapterOptions } from '../../../adapters/x/index.js';
import { X_ENDPOINTS } from '../../../adapters/x/index.js';
import { PlatformError } from '../../../src/core/errors.js';
import { parseAction, type ActionFields, type AnyAction } from '../../helpers/core.js';
import type { XFakeOptions } from '../../../fakes/x/index.js';
import { xRig } from './harness.js';

const twitterText = createRequire(import.meta.url)('twitter-text') as {
  parseTweet(t: string): { weightedLength: number; valid: boolean };
  extractMentions(t: string): string[];
};

const POST = X_ENDPOINTS.post;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(extra: Partial<XAdapterOptions> = {}, fakeOpts: XFakeOptions = {}) {
  const r = await xRig({ fakeOpts });
  cleanups.push(r.close);
  const { fake } = r;
  const adapter = r.make(extra);
  await adapter.init();
  const question = await fake.injectMessage({ chat: 'conv', user: { id: '501', name: 'Alice' }, text: '/ask what is the roadmap?' });
  // The conversation root is the question itself here: conversation ids are post ids on X.
  fake.post(question.id)!.conversation_id = question.id;
  let n = 0;
  const action = (a: ActionFields): AnyAction => parseAction({ v: 1, id: `act-${++n}-${Date.now()}`, platform: 'x', chat: `x:${question.id}`, priority: 'answer', ...a });
  const posts = () => fake.requests.filter((q) => q.endpoint === POST);
  return { fake, adapter, question, action, posts, redis: r.redis, keys: r.keys };
}

/** A 1,200-character answer of ordinary sentences. */
function longAnswer(): string {
  let s = '';
  for (let i = 1; s.length < 1200; i++) s += `Point ${i}: the roadmap covers budgets, threads and digests in this order. `;
  return s.trim().slice(0, 1200).replace(/\s+\S*$/, '.');
}

describe('x outbound', () => {
  test('a short answer is one reply to the asked post', async () => {
    const { fake, adapter, question, action } = await setup();
    const res = await adapter.perform(action({ type: 'send', text: 'Q1 answered: soon.', replyTo: question.id }));
    assert.equal(res.messageIds!.length, 1);
    assert.equal(res.chat, `x:${question.id}`);
    const out = fake.outbox();
    assert.deepEqual(out.map((e) => ({ type: e.type, chat: e.chat, replyTo: e.replyTo, text: e.text })), [
      { type: 'send', chat: question.id, replyTo: question.id, text: 'Q1 answered: soon.' },
    ]);
  });

  test('a 1,200-character answer becomes a numbered reply thread, every post within 280 weighted characters, each replying to the previous', async () => {
    const { fake, adapter, question, action } = await setup();
    const text = longAnswer();
    assert.ok(text.length >= 1150 && text.length <= 1200);
    const res = await adapter.perform(action({ type: 'send', text, replyTo: question.id }));
    const ids = res.messageIds!;
    assert.ok(ids.length >= 5, `${ids.length} posts`);
    let prev = question.id;
    ids.forEach((id, i) => {
      const p = fake.post(id)!;
      const typed = fake.outbox().find((e) => e.messageId === id)!.text!;
      const parsed = twitterText.parseTweet(typed);
      assert.ok(parsed.valid && parsed.weightedLength <= 280, `post ${i + 1} weighs ${parsed.weightedLength}`);
      assert.ok(typed.endsWith(` ${i + 1}/${ids.length}`), `post ${i + 1} numbered`);
      assert.deepEqual(p.referenced_tweets, [{ type: 'replied_to', id: prev }], `post ${i + 1} replies to the previous one`);
      assert.equal(p.conversation_id, question.id, 'the whole thread stays in the conversation');
      prev = id;
    });
    const rejoined = ids.map((id) => fake.outbox().find((e) => e.messageId === id)!.text!.replace(/ \d+\/\d+$/, '')).join(' ');
    assert.equal(rejoined, text);
  });

  test('without replyTo the answer replies to the conversation root', async () => {
    const { fake, adapter, question, action } = await setup();
    await adapter.perform(action({ type: 'send', text: 'To everyone here.' }));
    assert.equal(fake.outbox()[0]!.replyTo, question.id);
  });

  test('markdown becomes plain text and echoed mentions notify nobody', async () => {
    const { fake, adapter, question, action } = await setup();
    const res = await adapter.perform(action({ type: 'send', format: 'markdown', text: '**Q2** from @alice: see [docs](https://example.com/d)', replyTo: question.id }));
    const post = fake.post(res.messageIds![0]!)!;
    assert.equal(post.entities.mentions, undefined, 'no one is mentioned');
    const typed = fake.outbox()[0]!.text!;
    assert.equal(typed.replace('\u2060', ''), 'Q2 from @alice: see docs https://example.com/d');
  });

  /** A conversation whose author limited replies to people they mention (not the bot), with a question in it. */
  function restricted(fake: Awaited<ReturnType<typeof setup>>['fake']) {
    const root = fake.addPost({ author: { id: '502', name: 'Bob' }, text: 'Announcement, replies limited', replySettings: 'mentionedUsers' });
    const q = fake.addPost({ author: '501', text: '@townhall_bot can you answer here?', replyTo: root.id });
    return { root, q };
  }

  test('a 403 reply-restricted post is permanent: one attempt, skipped', async () => {
    const { fake, adapter, action, posts } = await setup();
    const { root, q } = restricted(fake);
    await assert.rejects(adapter.perform(action({ type: 'send', chat: `x:${root.id}`, text: 'answer', replyTo: q.id })), (e: unknown) => {
      assert.ok(e instanceof PlatformError && e.final);
      assert.equal(e.scope, 'per-chat', 'replies there are closed to the bot: the conversation gets nothing more');
      return true;
    });
    assert.equal(posts().length, 1);
    assert.equal(fake.outbox().length, 0);
  });

  test('with the quote policy a reply-restricted post is answered by a quote post, and the thread continues under it', async () => {
    const { fake, adapter, action } = await setup({ onReplyRestricted: 'quote' });
    const { root, q } = restricted(fake);
    const res = await adapter.perform(action({ type: 'send', chat: `x:${root.id}`, text: longAnswer(), replyTo: q.id }));
    const [first, second] = res.messageIds!;
    assert.deepEqual(fake.post(first!)!.referenced_tweets, [{ type: 'quoted', id: q.id }]);
    assert.deepEqual(fake.post(second!)!.referenced_tweets, [{ type: 'replied_to', id: first }]);
    assert.equal(res.chat, `x:${first}`);
  });

  test('a 429 on posting asks the runner to wait until the reset; the next call waits without touching X', async () => {
    const { fake, adapter, question, action, posts } = await setup();
    fake.failNext(429, { endpoint: POST, resetInMs: 2000 });
    await assert.rejects(adapter.perform(action({ type: 'send', text: 'a', replyTo: question.id })), (e: unknown) => {
      assert.ok(e instanceof PlatformError && e.rateLimited);
      assert.ok(e.retryAfterMs! > 500 && e.retryAfterMs! <= 3100, `retryAfterMs ${e.retryAfterMs}`);
      assert.equal(e.scope, 'global');
      return true;
    });
    await assert.rejects(adapter.perform(action({ type: 'send', text: 'b', replyTo: question.id })), (e: unknown) => e instanceof PlatformError && e.rateLimited);
    assert.equal(posts().length, 1, 'paused, not hammering');
  });

  test('x-rate-limit-remaining: 0 on a post pauses the next post until the reset', async () => {
    const { fake, adapter, question, action, posts } = await setup();
    const resetAt = Math.ceil((Date.now() + 1200) / 1000) * 1000;
    fake.setRateLimit(POST, { remaining: 1, resetAt });
    await adapter.perform(action({ type: 'send', text: 'first', replyTo: question.id }));
    await assert.rejects(adapter.perform(action({ type: 'send', text: 'second', replyTo: question.id })), (e: unknown) => e instanceof PlatformError && (e.retryAfterMs ?? 0) > 0);
    assert.equal(posts().length, 1);
    await sleep(resetAt - Date.now() + 50);
    await adapter.perform(action({ type: 'send', text: 'second', replyTo: question.id }));
    assert.equal(posts().length, 2);
    assert.ok(posts()[1]!.at >= resetAt);
  });

  test('a thread interrupted halfway resumes at the first unsent post when retried, posting nothing twice', async () => {
    const { fake, adapter, question, action, posts } = await setup();
    const a = action({ type: 'send', text: longAnswer(), replyTo: question.id });
    fake.failNext(500, { endpoint: POST, after: 2 });
    await assert.rejects(adapter.perform(a), (e: unknown) => e instanceof Error && !(e instanceof PlatformError));
    assert.equal(fake.botPosts().length, 2);
    const res = await adapter.perform(a);
    const bot = fake.botPosts();
    assert.deepEqual(res.messageIds, bot.map((p) => p.id));
    assert.equal(posts().filter((p) => p.status === 201).length, bot.length);
    let prev = question.id;
    for (const p of bot) {
      assert.equal(p.referenced_tweets?.[0]?.id, prev);
      prev = p.id;
    }
  });

  test('the monthly post budget: when spent, posting waits without calling X, and status shows what is left', async () => {
    const { adapter, question, action, posts } = await setup({ budgets: { monthlyPosts: 2 } });
    await adapter.perform(action({ type: 'send', text: 'one', replyTo: question.id }));
    assert.equal((adapter.status().details!.posts as { left: number }).left, 1);
    await adapter.perform(action({ type: 'send', text: 'two', replyTo: question.id }));
    await assert.rejects(adapter.perform(action({ type: 'send', text: 'three', replyTo: question.id })), (e: unknown) => e instanceof PlatformError && e.rateLimited && e.scope === 'global');
    assert.equal(posts().length, 2);
    const s = adapter.status();
    assert.equal((s.details!.posts as { left: number }).left, 0);
    assert.ok(s.problems.some((p) => /post budget/.test(p)));
  });

  test('the same words to a second asker: X refuses them as duplicate content, the adapter sends them marked as another post', async () => {
    const { fake, adapter, question, action, posts } = await setup();
    const other = await fake.injectMessage({ chat: 'conv2', user: { id: '502', name: 'Bob' }, text: '/ask what is the roadmap?' });
    const text = 'Q1 answered: the roadmap ships in March.';
    await adapter.perform(action({ type: 'send', text, replyTo: question.id }));
    const second = await adapter.perform(action({ type: 'send', text, replyTo: other.id }));
    assert.equal(second.messageIds!.length, 1);
    const out = fake.outbox().filter((o) => o.type === 'send');
    assert.deepEqual(out.map((o) => o.replyTo), [question.id, other.id], 'each asker got a reply');
    assert.equal(out[0]!.text, text);
    assert.match(out[1]!.text!, /^Q1 answered: the roadmap ships in March\. \[[0-9a-f]{4}\]$/);
    assert.equal(posts().length, 3, 'one refused attempt, then the variant');
  });

  test('a variant refused again fails for good (a duplicate of this very action), without a third attempt', async () => {
    const { fake, adapter, question, action, posts } = await setup();
    fake.failNext(403, { endpoint: POST, detail: 'You are not allowed to create a Tweet with duplicate content.' });
    fake.failNext(403, { endpoint: POST, detail: 'You are not allowed to create a Tweet with duplicate content.' });
    await assert.rejects(adapter.perform(action({ type: 'send', text: 'hello again', replyTo: question.id })), (e: unknown) => e instanceof PlatformError && e.final);
    assert.equal(posts().length, 2);
  });

  test('a post X refuses gives its budget back', async () => {
    const { fake, adapter, question, action } = await setup({ budgets: { monthlyPosts: 5 } });
    fake.failNext(400, { endpoint: POST, detail: 'invalid' });
    await assert.rejects(adapter.perform(action({ type: 'send', text: 'x', replyTo: question.id })), (e: unknown) => e instanceof PlatformError && e.final);
    assert.equal((adapter.status().details!.posts as { used: number }).used, 0);
  });

  test('dm, delete, like, block and mute reach the platform', async () => {
    const { fake, adapter, question, action } = await setup();
    const sent = await adapter.perform(action({ type: 'send', text: 'to delete', replyTo: question.id }));
    const dm = await adapter.perform(action({ type: 'dm', user: 'x:user:501', text: 'your catch-up' }));
    assert.equal(dm.chat, 'x:501-1000');
    await adapter.perform(action({ type: 'delete', messageId: sent.messageIds![0]! }));
    await adapter.perform(action({ type: 'react', messageId: question.id, emoji: '👍' }));
    await adapter.perform(action({ type: 'ban', user: 'x:user:666' }));
    await adapter.perform(action({ type: 'mute', user: 'x:user:667', until: Date.now() + 60_000 }));
    await adapter.perform(action({ type: 'unmute', user: 'x:user:667' }));
    assert.deepEqual(
      fake.outbox().map((e) => [e.type, e.user ?? e.messageId]),
      [
        ['send', sent.messageIds![0]],
        ['send', '501'],
        ['delete', sent.messageIds![0]],
        ['react', question.id],
        ['ban', '666'],
        ['mute', '667'],
        ['unmute', '667'],
      ],
    );
  });

  test('a thread action starts a new conversation whose root is the new post', async () => {
    const { fake, adapter, action } = await setup();
    const res = await adapter.perform(action({ type: 'thread', title: 'AMA: ask us anything #ama2025' }));
    const id = res.messageIds![0]!;
    assert.equal(res.chat, `x:${id}`);
    assert.equal(fake.post(id)!.conversation_id, id);
  });

  test('what X cannot do fails permanently without a call and without a status that would disable the conversation', async () => {
    const { fake, adapter, question, action } = await setup();
    const n = fake.requests.length;
    for (const type of ['edit', 'pin', 'slowmode'] as const) {
      await assert.rejects(adapter.perform(action({ type, messageId: question.id, text: 'x', seconds: 10 })), (e: unknown) => e instanceof PlatformError && e.scope === 'permanent');
    }
    await assert.rejects(adapter.perform(action({ type: 'send', chat: 'telegram:1', text: 'x' })), (e: unknown) => e instanceof PlatformError && e.final);
    assert.equal(fake.requests.length, n);
  });
});
