/**
 * How the fake delivers: Socket Mode redelivers what the app did not acknowledge (the real SocketModeClient acks only
 * after its "sink" has the event), and the Events API over HTTP is signed, retried, and refused by Bolt's HTTPReceiver
 * when the signature is wrong.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { App } from '@slack/bolt';
import { SocketModeClient } from '@slack/socket-mode';
import { slackSignature, startSlackFake, type SlackFake } from '../../../fakes/slack/index.js';
import { waitFor } from '../../helpers/core.js';
import { silentLogger } from './harness.js';

describe('fake Slack Socket Mode with the real SocketModeClient', { timeout: 30_000 }, () => {
  let fake: SlackFake | undefined;
  let client: SocketModeClient | undefined;
  const stored: string[] = [];
  let sinkDown = 1;

  before(async () => {
    fake = await startSlackFake({ socketMode: { ackTimeoutMs: 300, retryDelaysMs: [0, 0, 0] } });
    client = new SocketModeClient({ appToken: fake.tokens.app, logger: silentLogger(), clientOptions: { slackApiUrl: fake.url } });
    client.on('slack_event', async ({ ack, body, retry_num }: { ack: () => Promise<void>; body: { event_id: string }; retry_num?: number }) => {
      // The adapter's rule: acknowledge only once the event is stored; a failed store leaves it to Slack's retry.
      if (sinkDown > 0) {
        sinkDown--;
        return;
      }
      stored.push(`${body.event_id}#${retry_num ?? 0}`);
      await ack();
    });
    await client.start();
  });

  after(async () => {
    await client?.disconnect().catch(() => {});
    await fake?.close();
  });

  test('an envelope left unacknowledged comes again with retry_attempt and retry_reason "timeout"', async () => {
    const f = fake!;
    const { id } = await f.injectMessage({ chat: 'C0ONE', user: { id: 'U0A', name: 'A' }, text: 'first' });
    await waitFor(() => stored.length === 1, 'the redelivered event to be stored');
    const env = f.socket.envelopes.find((e) => (e.payload.event as { ts?: string }).ts === id)!;
    assert.equal(env.retryAttempt, 1);
    assert.ok(env.ackedAt);
    assert.equal(env.sentAt.length, 2);
    assert.equal(stored[0], `${(env.payload as { event_id: string }).event_id}#1`, 'the same event_id, marked as the first retry');
  });

  test('a warning disconnect is followed by the app reconnecting; hello arrives again', async () => {
    const f = fake!;
    const before = f.socket.connectionsOpened;
    f.disconnectSockets('warning', 100);
    await waitFor(() => f.socket.connectionsOpened > before && f.socket.connections === 1, 'a new connection', 20_000);
    await f.injectMessage({ chat: 'C0ONE', user: { id: 'U0A', name: 'A' }, text: 'second' });
    await waitFor(() => stored.length === 2, 'the event after the reconnect');
  });
});

describe('fake Slack Events API over HTTP with Bolt’s HTTPReceiver', { timeout: 30_000 }, () => {
  let fake: SlackFake | undefined;
  let app: App | undefined;
  const handled: { text: string; retryNum?: number }[] = [];
  let failFirst = true;

  before(async () => {
    fake = await startSlackFake({ rateLimits: false, http: { retryDelaysMs: [0, 0, 0] } });
    // processBeforeResponse: the HTTP 200 goes out only after the listener finished (stored the event), as Townhall needs.
    app = new App({ token: fake.tokens.bot, signingSecret: fake.tokens.signingSecret, processBeforeResponse: true, logger: silentLogger(), clientOptions: { slackApiUrl: fake.url } });
    app.message(async ({ message, context }) => {
      if (message.subtype !== undefined) return;
      if (message.text === 'flaky' && failFirst) {
        failFirst = false;
        throw new Error('sink unavailable');
      }
      handled.push({ text: message.text ?? '', ...(context.retryNum ? { retryNum: context.retryNum } : {}) });
    });
    const server = (await app.start(0)) as Server;
    fake.setRequestUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
  });

  after(async () => {
    await app?.stop().catch(() => {});
    await fake?.close();
  });

  test('the Request URL passes url_verification and receives signed events', async () => {
    const f = fake!;
    assert.equal(await f.eventsHttp!.verifyUrl(f.tokens.verification), true);
    await f.injectMessage({ chat: 'C0HTTP', user: { id: 'U0A', name: 'A' }, text: 'over http' });
    await waitFor(() => handled.some((h) => h.text === 'over http'), 'the event');
    const d = f.eventsHttp!.deliveries.find((x) => x.kind === 'event' && x.body.includes('over http'));
    assert.equal(d?.status, 200);
  });

  test('a request with a bad or stale signature is refused with 401 and never reaches the listener', async () => {
    const f = fake!;
    const body = JSON.stringify({ ...f.eventsSent[f.eventsSent.length - 1], event_id: 'Ev0FORGED', event: { type: 'message', channel: 'C0HTTP', user: 'U0A', text: 'forged', ts: '1700000000.000100' } });
    const forged = await f.eventsHttp!.post(body, 'application/json', { signature: slackSignature('not-the-secret', Math.floor(Date.now() / 1000), body) });
    assert.equal(forged.status, 401);
    const stale = await f.eventsHttp!.post(body, 'application/json', { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    assert.equal(stale.status, 401, 'older than five minutes is a replay');
    assert.ok(!handled.some((h) => h.text === 'forged'));
  });

  test('an event the app failed to store (HTTP 500) is retried with X-Slack-Retry-Num and then handled once', async () => {
    const f = fake!;
    await f.injectMessage({ chat: 'C0HTTP', user: { id: 'U0A', name: 'A' }, text: 'flaky' });
    await waitFor(() => handled.some((h) => h.text === 'flaky'), 'the retried event');
    const attempts = f.eventsHttp!.deliveries.filter((x) => x.body.includes('"flaky"'));
    assert.deepEqual(attempts.map((a) => [a.retryNum, a.status]), [
      [0, 500],
      [1, 200],
    ]);
    assert.deepEqual(handled.filter((h) => h.text === 'flaky'), [{ text: 'flaky', retryNum: 1 }]);
  });

  test('a slash command over HTTP is form-encoded and its response body is the reply', async () => {
    const f = fake!;
    app!.command('/help', async ({ ack }) => ack({ text: 'Commands: /ask' }));
    const cmd = f.injectSlashCommand({ chat: 'C0HTTP', user: { id: 'U0B', name: 'B' }, command: '/help', text: '' });
    const d = await cmd.http!;
    assert.equal(d.status, 200);
    assert.deepEqual(f.outbox('C0HTTP').map((o) => [o.type, o.user, o.text]), [['send', 'U0B', 'Commands: /ask']]);
  });
});
