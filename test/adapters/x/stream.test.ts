// X inbound over the filtered stream: the real client's TweetStream against the fake's streaming endpoint,
// with catch-up polling after every (re)connect so a drop loses nothing.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { X_ENDPOINTS, trackXHashtags, type XAdapter, type XAdapterOptions } from '../../../adapters/x/index.js';
import type { Keys } from '../../../src/redis/keys.js';
import type { XFake } from '../../../fakes/x/index.js';
import { FAKE_X_CREDENTIALS, xRig } from './harness.js';
import { adapterDeps, type TestSink } from '../../helpers/adapter.js';
import { waitFor } from '../../helpers/core.js';

const BEARER = 'fake-app-bearer';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(extra: Partial<XAdapterOptions> = {}): Promise<{ fake: XFake; sink: TestSink; adapter: XAdapter; redis: Redis; keys: Keys }> {
  const r = await xRig({ fakeOpts: { streamKeepAliveMs: 100 } });
  cleanups.push(r.close);
  const { fake, sink } = r;
  const adapter = r.make({
    credentials: { ...FAKE_X_CREDENTIALS, bearerToken: BEARER },
    inbound: 'stream',
    // While the stream is up, polling is a safety net only: far apart, so a test sees the stream at work.
    maxPollIntervalMs: 60_000,
    streamKeepAliveMs: 1_000,
    ...extra,
  });
  await adapter.init();
  return { fake, sink, adapter, redis: r.redis, keys: r.keys };
}

const alice = { id: '801', name: 'Alice' };
const mentionPolls = (fake: XFake) => fake.requests.filter((r) => r.endpoint === X_ENDPOINTS.mentions).length;

describe('x filtered stream', () => {
  test('mentions and the AMA hashtag arrive over the stream, not by polling; rules follow the tracked hashtags', async () => {
    const { fake, sink, adapter, redis, keys } = await setup();
    await adapter.startInbound();
    await waitFor(() => fake.streamConnections() === 1 && mentionPolls(fake) === 1, 'connected and caught up');
    assert.deepEqual(fake.streamRules().map((r) => [r.value, r.tag]), [['@townhall_bot -is:retweet', 'townhall:mentions']]);
    assert.equal(fake.requests.find((r) => r.path === '/2/tweets/search/stream')!.auth, 'bearer', 'the stream uses app-only auth');
    await sleep(50);

    const polls = mentionPolls(fake);
    const m = await fake.injectMessage({ chat: 'c', user: alice, text: 'live question' });
    await sink.count(1);
    assert.equal(sink.events[0]!.messageId, m.id);
    assert.equal((sink.events[0]!.raw as { source: string }).source, 'stream');
    assert.equal(mentionPolls(fake), polls, 'no polling while the stream is up');

    // Someone else's rule on the same app is left alone.
    fake.requests.length = 0;
    await adapter.trackHashtags(['AMA2025']);
    assert.ok(fake.streamRules().some((r) => r.value === '#ama2025 -is:retweet' && r.tag === 'townhall:tag:ama2025'));
    const tagged = fake.addPost({ author: alice, text: 'about #AMA2025: when?' });
    await waitFor(async () => (await sink.storedById()).has(`x/message/${tagged.id}`), 'hashtag post');
    await adapter.untrackHashtags(['ama2025']);
    assert.deepEqual(fake.streamRules().map((r) => r.tag), ['townhall:mentions']);

    // Another process's adapter follows an AMA's hashtag (its 'listen' action); the rules follow within a search interval.
    const other = adapterDeps('x', { keys, redis });
    await trackXHashtags(other.store, ['nextama']);
    other.close();
    await waitFor(() => fake.streamRules().some((r) => r.tag === 'townhall:tag:nextama'), 'rule from Redis');
  });

  test('a stream drop loses nothing: posts made while disconnected come from the catch-up poll', async () => {
    const { fake, sink, adapter } = await setup();
    await adapter.startInbound();
    await waitFor(() => fake.streamConnections() === 1 && mentionPolls(fake) >= 1, 'connected');
    const first = await fake.injectMessage({ chat: 'c', user: alice, text: 'before the drop' });
    await sink.count(1);
    const polls = mentionPolls(fake);
    fake.dropStreams();
    const missed = await fake.injectMessage({ chat: 'c', user: alice, text: 'while disconnected' });
    await waitFor(() => fake.streamConnections() === 1, 'reconnected');
    await waitFor(async () => (await sink.storedById()).has(`x/message/${missed.id}`), 'the missed post', 5000);
    assert.ok(mentionPolls(fake) > polls, 'caught up by polling');
    const after = await fake.injectMessage({ chat: 'c', user: alice, text: 'after the reconnect' });
    await waitFor(async () => (await sink.storedById()).has(`x/message/${after.id}`), 'the next live post');
    const stored = await sink.storedById();
    assert.deepEqual([...stored.keys()].sort(), [first.id, missed.id, after.id].map((id) => `x/message/${id}`).sort());
  });

  test('hostile stream payloads are counted and skipped; the stream keeps delivering', async () => {
    const { fake, sink, adapter } = await setup();
    await adapter.startInbound();
    await waitFor(() => fake.streamConnections() === 1, 'connected');
    fake.streamRaw('{not json');
    fake.streamRaw(JSON.stringify({ errors: [{ title: 'operational-disconnect', detail: 'x' }] }));
    fake.streamRaw(JSON.stringify({ data: { id: 5, text: 12 } }));
    fake.streamRaw(JSON.stringify({ something: 'else' }));
    const m = await fake.injectMessage({ chat: 'c', user: alice, text: 'still fine' });
    await waitFor(async () => (await sink.storedById()).has(`x/message/${m.id}`), 'the good post');
    assert.ok(adapter.counters.streamErrors >= 3, `streamErrors ${adapter.counters.streamErrors}`);
    assert.ok(adapter.counters.malformed >= 1);
    assert.equal(adapter.status().connected, true);
  });

  test('without stream access the adapter polls instead and says why', async () => {
    const { fake, sink, adapter } = await setup({ maxPollIntervalMs: 5_000 });
    fake.failNext(403, { endpoint: 'GET /2/tweets/search/stream/rules', title: 'Client Forbidden', detail: 'This request must be made using an approved developer account that is enrolled in the requested endpoint.' });
    await adapter.startInbound();
    const m = await fake.injectMessage({ chat: 'c', user: alice, text: 'polled instead' });
    await sink.count(1);
    assert.equal(sink.events[0]!.messageId, m.id);
    const s = adapter.status();
    assert.ok(s.problems.some((p) => /filtered stream unavailable/.test(p)), s.problems.join('; '));
    assert.equal(s.details!.inbound, 'poll');
    assert.equal(fake.streamConnections(), 0);
  });
});
