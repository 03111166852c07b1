import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/core.js';
import { PLATFORMS } from '../../src/platform/index.js';

const stack = await startStack();
after(() => stack.close());

type Outbox = { type: string; chat: string; replyTo?: string; text?: string }[];

for (const [platform, chat] of [['telegram', '-1009'], ['discord', '7001'], ['x', '88001'], ['slack', 'C0SANDBOX']] as const) {
  test(`sandbox (${platform}): a message POSTed to /sandbox/${platform}/messages reaches the bot and the outbox lists its answer`, async () => {
    const text = platform === 'x' ? '@townhall_bot /help' : '/help';
    const posted = await stack.post(`/sandbox/${platform}/messages`, { chat, user: { id: '501', name: 'Ann' }, text });
    assert.equal(posted.status, 200);
    const id = (posted.body as { id: string }).id;
    assert.ok(id, 'the fake returns the message id');
    let outbox: Outbox = [];
    await waitFor(async () => {
      outbox = (await stack.get(`/sandbox/${platform}/outbox?chat=${chat}`)).body as Outbox;
      return outbox.some((o) => o.type === 'send' && o.replyTo === id);
    }, `${platform} answer`, 15_000, 100);
    const answer = outbox.find((o) => o.type === 'send' && o.replyTo === id)!;
    assert.match(answer.text ?? '', /\/summary/);
  });
}

test('sandbox control routes refuse malformed bodies and unknown platforms with one-line errors', async () => {
  const bad = await stack.post('/sandbox/telegram/messages', { chat: '-1', text: 'hi' });
  assert.equal(bad.status, 400);
  assert.match((bad.body as { error: string }).error, /^user:/);
  const unknown = await stack.post('/sandbox/myspace/messages', { chat: '1', user: { id: '1', name: 'a' }, text: 'hi' });
  assert.equal(unknown.status, 404);
});

test('/readyz reports Redis and every adapter connected; /healthz and /metrics answer', async () => {
  const ready = await stack.get('/readyz');
  assert.equal(ready.status, 200);
  const r = ready.body as { ready: boolean; adapters: Record<string, { connected: boolean }> };
  assert.equal(r.ready, true);
  assert.deepEqual(Object.keys(r.adapters).sort(), [...PLATFORMS].sort());
  assert.equal((await stack.get('/healthz')).status, 200);
  const metrics = await stack.get('/metrics');
  assert.match(String(metrics.body), /townhall_events_handled_total/);
  assert.match(String(metrics.body), /townhall_queue_depth\{queue="inbound"/);
});

test('the API refuses a request without the bearer token and accepts the admin token', async () => {
  assert.equal((await stack.get('/api/chats')).status, 401);
  assert.equal((await stack.get('/api/chats', 'wrong-token-wrong-token')).status, 401);
  const ok = await stack.get('/api/chats', stack.adminToken);
  assert.equal(ok.status, 200);
});

test("the chat API serves a chat's digest and threads over a window, and refuses a malformed one", async () => {
  const chat = '-1010';
  for (const [i, text] of ['Is the bridge open again?', 'yes, since 10:00 UTC', 'thanks!'].entries()) {
    await stack.post('/sandbox/telegram/messages', { chat, user: { id: String(600 + i), name: `U${i}` }, text });
  }
  let digest: { totals: { messages: number } } | undefined;
  await waitFor(async () => {
    const r = await stack.get(`/api/chats/telegram:${chat}/digest?window=2h`, stack.adminToken);
    digest = (r.body as { digest?: { totals: { messages: number } } }).digest;
    return r.status === 200 && (digest?.totals.messages ?? 0) >= 3;
  }, 'the digest to cover the messages', 15_000, 200);
  const threads = await stack.get(`/api/chats/telegram:${chat}/threads?window=2h`, stack.adminToken);
  assert.equal(threads.status, 200);
  const list = (threads.body as { threads: { messages: { text: string }[] }[] }).threads;
  assert.equal(list.flatMap((t) => t.messages).length, 3);
  assert.equal((await stack.get(`/api/chats/telegram:${chat}/digest?window=forever`, stack.adminToken)).status, 400);
  assert.equal((await stack.get(`/api/chats/not-a-chat/digest`, stack.adminToken)).status, 400);
  assert.equal((await stack.get(`/api/chats/telegram:${chat}/digest`)).status, 401);
});

test('GET /api/platforms lists every registered platform with its name, colours, limits and capabilities', async () => {
  assert.equal((await stack.get('/api/platforms')).status, 401);
  const res = await stack.get('/api/platforms', stack.adminToken);
  assert.equal(res.status, 200);
  const { platforms } = res.body as { platforms: { id: string; name: string; colour: { light: string; dark: string }; maxChars: number | null; capabilities: { moderation: string[] } }[] };
  assert.deepEqual(platforms.map((p) => p.id), [...PLATFORMS]);
  const byId = Object.fromEntries(platforms.map((p) => [p.id, p]));
  assert.equal(byId.telegram?.name, 'Telegram');
  assert.match(byId.discord?.colour.dark ?? '', /^#[0-9a-f]{6}$/);
  assert.equal(byId.discord?.maxChars, 2000);
  assert.equal(byId.x?.maxChars, null, 'X splits long texts itself');
  assert.deepEqual(byId.x?.capabilities.moderation, []);
});
