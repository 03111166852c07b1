/** Telegram webhook mode: the fake pushes updates with the secret header; the adapter stores them before answering 200. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../../src/redis/connect.js';
import { rig, type Rig } from './harness.js';
import { waitFor } from '../../helpers/core.js';
import { TestSink } from '../../helpers/adapter.js';

const G = '-1007000000001';
const SECRET = 'hook-secret_123';

describe('telegram webhook', () => {
  let r: Rig;
  let hookUrl: string;
  const sink = new TestSink();

  before(async () => {
    const port = await freePort();
    hookUrl = `http://127.0.0.1:${port}/telegram/hook`;
    r = await rig({
      sink,
      fake: { webhookRetryMs: 100 },
      adapter: { webhook: { url: hookUrl, secret: SECRET, listen: { port, host: '127.0.0.1' } }, webhookPublishTimeoutMs: 300, maxUpdateBytes: 64 * 1024 },
    });
  });
  after(() => r.close());

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(hookUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const update = (id: number, text: string) =>
    JSON.stringify({ update_id: id, message: { message_id: id, date: 1_700_000_000, chat: { id: Number(G), type: 'supergroup', title: 'G' }, from: { id: 9, is_bot: false, first_name: 'Forger' }, text } });

  test('setWebhook carries the secret and asks for reactions and chat_member updates', async () => {
    const call = await r.fake.waitForCall('setWebhook');
    assert.equal(call.params.url, hookUrl);
    assert.equal(call.params.secret_token, SECRET);
    assert.ok((call.params.allowed_updates as string[]).includes('message_reaction'));
    assert.ok((call.params.allowed_updates as string[]).includes('chat_member'));
    assert.equal(r.adapter.status().connected, true);
  });

  test('a webhook POST without the secret, or with a wrong one, is refused with 403 and stores nothing', async () => {
    const none = await post(update(1, 'forged without secret'));
    const wrong = await post(update(2, 'forged with a wrong secret'), { 'x-telegram-bot-api-secret-token': 'guess' });
    const longer = await post(update(3, 'forged with a longer secret'), { 'x-telegram-bot-api-secret-token': `${SECRET}x` });
    assert.deepEqual([none.status, wrong.status, longer.status], [403, 403, 403]);
    await new Promise((x) => setTimeout(x, 100));
    assert.ok(!sink.events.some((e) => e.text?.startsWith('forged')));
    assert.equal((r.adapter.status().details as { refusedWebhooks: number }).refusedWebhooks, 3);
    assert.equal(r.lines.filter((l) => String(l.msg).includes('refused a webhook call')).length, 1, 'one log line, the rest counted');
    assert.ok(!JSON.stringify(r.lines).includes(SECRET), 'the secret is never logged');
  });

  test("the fake's push with the secret is stored, answered 200, and leaves Telegram's queue", async () => {
    const { id } = await r.fake.injectMessage({ chat: G, user: { id: '21', name: 'Real' }, text: 'pushed to the webhook' });
    await waitFor(() => sink.events.some((e) => e.messageId === id), 'the pushed event');
    await waitFor(() => r.fake.pendingUpdates().length === 0, 'the push to be acknowledged');
    assert.equal(r.fake.webhook()!.lastError, undefined);
  });

  test('a push that cannot be stored is answered 503, and Telegram pushes it again until it is', async () => {
    sink.failures = 1_000_000;
    const { id } = await r.fake.injectMessage({ chat: G, user: { id: '22', name: 'Real' }, text: 'stored only later' });
    await waitFor(() => (r.fake.webhook()?.lastError ?? '').includes('503'), 'a 503 to the fake');
    assert.equal(r.fake.pendingUpdates().length, 1, 'not acknowledged');
    sink.failures = 0;
    await waitFor(() => sink.events.some((e) => e.messageId === id), 'the redelivered event');
    await waitFor(() => r.fake.pendingUpdates().length === 0, 'the acknowledgement');
    assert.equal(sink.events.filter((e) => e.messageId === id).length, 1);
  });

  test('oversized and malformed bodies are refused with one log line each, and the adapter keeps working', async () => {
    const auth = { 'x-telegram-bot-api-secret-token': SECRET };
    const before = r.lines.length;
    const huge = await post(JSON.stringify({ update_id: 5, message: { text: 'x'.repeat(100_000) } }), auth);
    const notJson = await post('{"update_id": 6, "message": ', auth);
    const notUpdate = await post('[1,2,3]', auth);
    assert.deepEqual([huge.status, notJson.status, notUpdate.status], [413, 400, 400]);
    const refusals = r.lines.slice(before).filter((l) => String(l.msg).startsWith('telegram: refused'));
    assert.equal(refusals.length, 3);
    const { id } = await r.fake.injectMessage({ chat: G, user: { id: '23', name: 'Real' }, text: 'still works' });
    await waitFor(() => sink.events.some((e) => e.messageId === id), 'the next event');
  });

  test('stop() leaves the webhook set, so Telegram keeps updates until the bot is back', async () => {
    await r.adapter.stop();
    assert.equal(r.fake.calls('deleteWebhook').length, 0);
    assert.ok(r.fake.webhook());
    await r.fake.injectMessage({ chat: G, user: { id: '24', name: 'Late' }, text: 'while down' });
    await waitFor(() => (r.fake.webhook()?.lastError ?? '') !== '', 'a failed push while down');
    assert.equal(r.fake.pendingUpdates().length, 1, 'kept for later');
  });
});
