// Pure parts of the X adapter, table-tested: thread splitting as X counts length, markdown, mention safety,
// normalizing recorded v2 payloads, error mapping and the adaptive poll interval.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { ApiResponseError } from 'twitter-api-v2';
import { adaptivePollInterval, budgetPeriod, msUntilNextPeriod } from '../../../adapters/x/budget.js';
import { endpointFamily } from '../../../adapters/x/client.js';
import { summarizeXError, toPerformError } from '../../../adapters/x/errors.js';
import { XPostSchema, normalizePost, unescapeXText, type XUser } from '../../../adapters/x/normalize.js';
import { resolveXOptions } from '../../../adapters/x/options.js';
import { distinctVariant, markdownToPlain, neutralizeMentions, splitThread, weightedLength } from '../../../adapters/x/text.js';
import { ChatEventSchema } from '../../../src/core/events.js';
import { PlatformError } from '../../../src/core/errors.js';
import { REPLY_RESTRICTED_DETAIL } from '../../../fakes/x/index.js';

// The check is done with twitter-text itself, not with the adapter's wrapper around it.
const twitterText = createRequire(import.meta.url)('twitter-text') as {
  parseTweet(t: string): { weightedLength: number; valid: boolean };
  extractMentions(t: string): string[];
};

const sentence = (i: number) => `Sentence number ${i} explains one more detail of the answer, with care.`;

describe('splitThread', () => {
  test('a text that fits stays one post, unnumbered', () => {
    assert.deepEqual(splitThread('Short answer.'), ['Short answer.']);
  });

  test('a 1,200-character answer becomes numbered posts of at most 280 weighted characters, split on sentence borders', () => {
    let text = '';
    for (let i = 1; text.length < 1200; i++) text += `${sentence(i)} `;
    text = text.trim();
    assert.ok(text.length >= 1200);
    const posts = splitThread(text);
    assert.ok(posts.length >= 5, `expected several posts, got ${posts.length}`);
    posts.forEach((p, i) => {
      const parsed = twitterText.parseTweet(p);
      assert.ok(parsed.valid && parsed.weightedLength <= 280, `post ${i + 1} weighs ${parsed.weightedLength}`);
      assert.ok(p.endsWith(` ${i + 1}/${posts.length}`), `post ${i + 1} is numbered: ${p.slice(-8)}`);
      // Every post ends a sentence: the split fell on a border, not mid-sentence.
      assert.match(p.replace(/ \d+\/\d+$/, ''), /\.$/);
    });
    // Nothing lost, nothing added besides the numbers.
    assert.equal(posts.map((p) => p.replace(/ \d+\/\d+$/, '')).join(' '), text);
  });

  const heavy: [string, string][] = [
    ['emoji count double', '🙂'.repeat(400)],
    ['CJK counts double', '日本語の文章です。'.repeat(60)],
    ['URLs count 23 however long', Array.from({ length: 30 }, (_, i) => `See https://example.com/${'a'.repeat(100)}/${i} now.`).join(' ')],
    ['one unbroken word longer than a post', 'x'.repeat(1000)],
    ['mixed scripts', 'Hello 世界! 🎉 Ça va? Привет. '.repeat(40)],
  ];
  for (const [name, text] of heavy) {
    test(`every post fits X's limit: ${name}`, () => {
      const posts = splitThread(text);
      assert.ok(posts.length > 1);
      for (const p of posts) {
        const parsed = twitterText.parseTweet(p);
        assert.ok(parsed.valid && parsed.weightedLength <= 280, `weighs ${parsed.weightedLength}: ${p.slice(0, 40)}`);
      }
    });
  }

  test('a URL is never cut in half', () => {
    const url = `https://example.com/${'p'.repeat(300)}`;
    const text = `${'Words before the link. '.repeat(11)}${url} ${'And words after it. '.repeat(10)}`;
    const posts = splitThread(text);
    assert.equal(posts.filter((p) => p.includes(url)).length, 1);
  });

  test('the same text always splits the same way (a retried thread resumes where it stopped)', () => {
    const text = Array.from({ length: 40 }, (_, i) => sentence(i)).join(' ');
    assert.deepEqual(splitThread(text), splitThread(text));
  });

  test('ten or more posts keep the numbers within the limit', () => {
    const posts = splitThread(Array.from({ length: 80 }, (_, i) => sentence(i)).join(' '));
    assert.ok(posts.length >= 10);
    for (const p of posts) assert.ok(weightedLength(p) <= 280);
    assert.ok(posts.at(-1)!.endsWith(` ${posts.length}/${posts.length}`));
  });
});

describe('outgoing text', () => {
  const md: [string, string][] = [
    ['**Bold** and _italic_ and `code`', 'Bold and italic and code'],
    ['[the docs](https://example.com/docs)', 'the docs https://example.com/docs'],
    ['snake_case_name stays', 'snake_case_name stays'],
    ['2 * 3 * 4', '2 * 3 * 4'],
  ];
  for (const [input, want] of md) {
    test(`markdown to plain: ${input}`, () => assert.equal(markdownToPlain(input), want));
  }

  test('mentions echoed from user text notify nobody', () => {
    const out = neutralizeMentions('Q from @alice: should @elonmusk and ＠jack answer? mail me at a@b.com');
    assert.deepEqual(twitterText.extractMentions(out), []);
    assert.match(out, /a@b\.com/);
    const url = 'https://mastodon.social/@alice';
    assert.ok(neutralizeMentions(`follow ${url} too`).includes(url), 'a URL with an @ stays a working link');
    assert.ok(twitterText.parseTweet(out).valid);
  });
});

describe('normalizePost on recorded v2 payloads', () => {
  // Shape from X's documentation of GET /2/users/:id/mentions (fields as requested by the adapter).
  const recorded = {
    data: [
      {
        author_id: '2244994945',
        conversation_id: '1293593516040269825',
        created_at: '2020-08-12T17:01:42.000Z',
        edit_history_tweet_ids: ['1293595870563381249'],
        id: '1293595870563381249',
        lang: 'en',
        in_reply_to_user_id: '783214',
        referenced_tweets: [{ type: 'replied_to', id: '1293593516040269825' }],
        text: '@townhall_bot Here’s an article &amp; more https://t.co/oeF3ZHeKQQ',
        entities: {
          urls: [
            {
              start: 43,
              end: 66,
              url: 'https://t.co/oeF3ZHeKQQ',
              expanded_url: 'https://dev.to/twitterdev/understanding-the-new-tweet-payload-in-the-twitter-api-v2-1fg5',
              display_url: 'dev.to/twitterdev/und…',
            },
          ],
          mentions: [{ start: 0, end: 13, username: 'townhall_bot', id: '1000' }],
        },
      },
    ],
    includes: { users: [{ id: '2244994945', name: 'Twitter Dev', username: 'TwitterDev' }] },
  };
  const users = new Map<string, XUser>(recorded.includes.users.map((u) => [u.id, u]));
  const ctx = { users, botUserId: '1000', isAdmin: (_id: string, name?: string) => name === 'TwitterDev', source: 'mentions' as const, now: 5 };

  test('a reply mention: conversation as chat, expanded URL, replied-to post, author, language', () => {
    const post = XPostSchema.parse(recorded.data[0]);
    const e = normalizePost(post, ctx);
    assert.ok(ChatEventSchema.safeParse(e).success);
    assert.equal(e.id, 'x/message/1293595870563381249');
    assert.equal(e.chat, 'x:1293593516040269825');
    assert.equal(e.messageId, '1293595870563381249');
    assert.equal(e.text, '@townhall_bot Here’s an article & more https://dev.to/twitterdev/understanding-the-new-tweet-payload-in-the-twitter-api-v2-1fg5');
    assert.deepEqual(e.links, ['https://dev.to/twitterdev/understanding-the-new-tweet-payload-in-the-twitter-api-v2-1fg5']);
    assert.equal(e.replyTo, '1293593516040269825');
    assert.equal(e.replyToUser, 'x:user:783214');
    assert.deepEqual(e.user, { id: 'x:user:2244994945', name: 'Twitter Dev', username: 'TwitterDev', isBot: false, isAdmin: true, lang: 'en' });
    assert.equal(e.at, Date.parse('2020-08-12T17:01:42.000Z'));
    assert.equal(e.url, 'https://x.com/TwitterDev/status/1293595870563381249');
    assert.deepEqual(e.mentions, ['townhall_bot']);
  });

  const cases: { name: string; post: Record<string, unknown>; check: (e: ReturnType<typeof normalizePost>) => void }[] = [
    {
      name: 'a root post is its own conversation and replies to nothing',
      post: { id: '11', text: 'hi', author_id: '2244994945', conversation_id: '11' },
      check: (e) => {
        assert.equal(e.chat, 'x:11');
        assert.equal(e.replyTo, undefined);
      },
    },
    {
      name: 'a long post takes its full text from note_tweet',
      post: { id: '12', text: 'short…', author_id: '1', note_tweet: { text: 'the whole long text' } },
      check: (e) => assert.equal(e.text, 'the whole long text'),
    },
    {
      name: 'an author missing from includes still gets an id and a link',
      post: { id: '13', text: 'x', author_id: '77' },
      check: (e) => {
        assert.equal(e.user.name, '77');
        assert.equal(e.url, 'https://x.com/i/web/status/13');
      },
    },
    {
      name: "language 'und' is no language",
      post: { id: '14', text: '👍', author_id: '1', lang: 'und' },
      check: (e) => assert.equal(e.user.lang, undefined),
    },
    {
      name: 'a missing created_at falls back to receive time',
      post: { id: '15', text: 'x', author_id: '1', created_at: 'garbage' },
      check: (e) => assert.equal(e.at, 5),
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const e = normalizePost(XPostSchema.parse(c.post), ctx);
      assert.ok(ChatEventSchema.safeParse(e).success);
      c.check(e);
    });
  }

  test('hostile posts fail validation instead of reaching the queue', () => {
    for (const bad of [
      { id: 1, text: 'x', author_id: '1' },
      { id: '1', text: 'x'.repeat(20_000), author_id: '1' },
      { id: '1:2', text: 'x', author_id: '1' },
      { id: '1', author_id: '1' },
      null,
      'string',
    ]) {
      assert.equal(XPostSchema.safeParse(bad).success, false, JSON.stringify(bad)?.slice(0, 40));
    }
  });

  test('HTML entities X adds are undone', () => assert.equal(unescapeXText('a &lt;b&gt; &amp;amp;'), 'a <b> &amp;'));
});

describe('errors and budgets', () => {
  const apiError = (code: number, data: Record<string, unknown>, reset?: number) =>
    new ApiResponseError(`Request failed with code ${code}`, {
      code,
      data,
      headers: {},
      request: {} as never,
      response: {} as never,
      ...(reset ? { rateLimit: { limit: 1, remaining: 0, reset } } : {}),
    });

  test('429 waits until the reported reset, for the whole account', () => {
    const now = 1_000_000;
    const e = toPerformError(apiError(429, { title: 'Too Many Requests' }, 1_005), 'POST /2/tweets', now);
    assert.ok(e instanceof PlatformError);
    assert.equal(e.retryAfterMs, 5_000);
    assert.equal(e.scope, 'global');
  });

  test('decided on status and problem type, never the wording: 403 is the conversation, 400 the action, 401 the bot; 500 is retried', () => {
    const forbidden = toPerformError(apiError(403, { title: 'Forbidden', detail: REPLY_RESTRICTED_DETAIL, type: 'about:blank', status: 403 }));
    assert.ok(forbidden instanceof PlatformError && forbidden.scope === 'per-chat' && forbidden.code === 403);
    const sameWordsOtherStatus = toPerformError(apiError(400, { title: 'Invalid Request', detail: REPLY_RESTRICTED_DETAIL, type: 'https://api.x.com/2/problems/invalid-request' }));
    assert.ok(sameWordsOtherStatus instanceof PlatformError && sameWordsOtherStatus.scope === 'permanent' && sameWordsOtherStatus.code === 'https://api.x.com/2/problems/invalid-request');
    const unauthorized = toPerformError(apiError(401, { title: 'Unauthorized' }));
    assert.ok(unauthorized instanceof PlatformError && unauthorized.scope === 'global' && !unauthorized.rateLimited);
    const e500 = toPerformError(apiError(500, { title: 'Internal Server Error' }));
    assert.ok(!(e500 instanceof PlatformError));
  });

  test('error summaries carry no request object (it holds the Authorization header)', () => {
    const s = summarizeXError(apiError(401, { title: 'Unauthorized', detail: 'Unauthorized' }));
    assert.deepEqual(Object.keys(s).sort(), ['detail', 'message', 'status', 'title']);
  });

  test('endpoint families group ids', () => {
    assert.equal(endpointFamily('get', '/2/users/1000/mentions'), 'GET /2/users/:id/mentions');
    assert.equal(endpointFamily('GET', '/2/tweets/search/recent'), 'GET /2/tweets/search/recent');
    assert.equal(endpointFamily('DELETE', '/2/users/1/muting/2'), 'DELETE /2/users/:id/muting/:id');
    assert.equal(endpointFamily('GET', '/2/users/me'), 'GET /2/users/me');
  });

  const now = Date.UTC(2025, 5, 16); // 15 days before the month ends
  const base = { baseMs: 60_000, minMs: 15_000, maxMs: 15 * 60_000, now, readsPerPoll: 1 };
  const intervals: [string, Parameters<typeof adaptivePollInterval>[0], (ms: number) => boolean][] = [
    ['no budget: the base interval', { ...base }, (ms) => ms === 60_000],
    ['plenty of reads: the base interval', { ...base, readsLeft: 1_000_000 }, (ms) => ms === 60_000],
    ['reads for 15 days at 1 per poll with 10,800 left: every 2 minutes', { ...base, readsLeft: 10_800 }, (ms) => Math.abs(ms - 120_000) < 1000],
    ['busier polls cost more: longer interval', { ...base, readsLeft: 10_800, readsPerPoll: 4 }, (ms) => Math.abs(ms - 480_000) < 2000],
    ['budget gone: the maximum', { ...base, readsLeft: 0 }, (ms) => ms === 15 * 60_000],
    ['window nearly spent: spread what is left until its reset', { ...base, window: { limit: 180, remaining: 2, resetAt: now + 400_000 } }, (ms) => ms === 200_000],
    ['never below the minimum', { ...base, baseMs: 1 }, (ms) => ms === 15_000],
  ];
  for (const [name, input, ok] of intervals) {
    test(`adaptive poll interval: ${name}`, () => {
      const ms = adaptivePollInterval(input);
      assert.ok(ok(ms), `got ${ms}`);
    });
  }

  test('budgets are monthly in UTC', () => {
    assert.equal(budgetPeriod(Date.UTC(2025, 0, 31, 23, 59)), '2025-01');
    assert.equal(msUntilNextPeriod(Date.UTC(2025, 0, 31, 23, 59)), 60_000);
  });

  test('options fail fast naming the missing setting, without echoing secrets', () => {
    assert.throws(() => resolveXOptions({ credentials: { appKey: 'k', appSecret: '', accessToken: 't', accessSecret: 's3cr3t' } } as never), (e: Error) => {
      assert.match(e.message, /credentials/);
      assert.match(e.message, /X_APP_KEY/);
      assert.doesNotMatch(e.message, /s3cr3t/);
      return true;
    });
    assert.throws(() => resolveXOptions({ credentials: { bearerToken: 'b' }, pageSize: 1000 }), /pageSize/);
  });
});

describe('distinctVariant (X duplicate-content refusals)', () => {
  test('a short text gets a tag from the seed: the same seed the same variant, another seed another', () => {
    const a = distinctVariant('Q1 answered: soon.', 'act-1#0');
    assert.match(a, /^Q1 answered: soon\. \[[0-9a-f]{4}\]$/);
    assert.equal(distinctVariant('Q1 answered: soon.', 'act-1#0'), a);
    assert.notEqual(distinctVariant('Q1 answered: soon.', 'act-2#0'), a);
  });

  test('a full-length post is shortened on a word border so text and tag fit in 280 weighted characters', () => {
    const full = 'word '.repeat(54).trim() + ' 🚀🚀🚀🚀';
    assert.ok(twitterText.parseTweet(full).weightedLength <= 280 && twitterText.parseTweet(full).weightedLength > 270);
    const v = distinctVariant(full, 'seed');
    const p = twitterText.parseTweet(v);
    assert.ok(p.valid && p.weightedLength <= 280, `weighted ${p.weightedLength}`);
    assert.match(v, /^word word .*word… \[[0-9a-f]{4}\]$/);
  });
});
