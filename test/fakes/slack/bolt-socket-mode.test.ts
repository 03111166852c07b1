/** The fake Slack proven with the real Bolt App in Socket Mode: it connects, receives, acknowledges and acts through the real WebClient. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { App, type BlockAction, type ButtonAction } from '@slack/bolt';
import { startSlackFake, type SlackFake } from '../../../fakes/slack/index.js';
import { waitFor } from '../../helpers/core.js';
import { silentLogger } from './harness.js';

const UPVOTE = 'townhall_upvote';

describe('fake Slack with a real Bolt App in Socket Mode', { timeout: 30_000 }, () => {
  let fake: SlackFake | undefined;
  let app: App | undefined;
  const seen: { text: string; thread?: string; retry?: number }[] = [];

  before(async () => {
    // Slack's retries of an undelivered event, shortened (it waits a minute, then five); Bolt reconnects after 5 s.
    fake = await startSlackFake({ socketMode: { retryDelaysMs: [0, 2000, 2000, 2000, 2000] } });
    app = new App({ token: fake.tokens.bot, appToken: fake.tokens.app, socketMode: true, logger: silentLogger(), clientOptions: { slackApiUrl: fake.url } });
    app.message(async ({ message, say, context }) => {
      if (message.subtype !== undefined) return;
      seen.push({ text: message.text ?? '', ...(message.thread_ts ? { thread: message.thread_ts } : {}), ...(context.retryNum ? { retry: context.retryNum } : {}) });
      if (message.text === 'hello bot') await say({ text: 'hello *you*', thread_ts: message.ts });
    });
    app.command('/ask', async ({ ack, command, client }) => {
      await ack();
      await client.chat.postMessage({
        channel: command.channel_id,
        text: `Q1: ${command.text}`,
        blocks: [
          { type: 'section', block_id: 'q1', text: { type: 'mrkdwn', text: `*Q1* ${command.text}` } },
          { type: 'actions', block_id: 'q1-actions', elements: [{ type: 'button', action_id: UPVOTE, text: { type: 'plain_text', text: '👍 Upvote' }, value: 'q1' }] },
        ],
      });
    });
    app.command('/help', async ({ ack }) => {
      await ack({ text: 'Commands: /ask, /questions', response_type: 'ephemeral' });
    });
    app.action<BlockAction<ButtonAction>>(UPVOTE, async ({ ack, body, action, client }) => {
      await ack();
      const channel = body.channel!.id;
      const ts = body.message!.ts;
      await client.chat.update({ channel, ts, text: `Q1 (${action.value}): 1 vote` });
      await client.reactions.add({ channel, timestamp: ts, name: '+1' });
    });
    await app.start();
  });

  after(async () => {
    await app?.stop().catch(() => {});
    // Bolt's stop() does not wait for the close handshake; closing the fake under it would leave its 30 s timer running.
    if (fake) await waitFor(() => fake!.socket.connections === 0, 'the app to close its link').catch(() => {});
    await fake?.close();
  });

  test('Bolt connects through apps.connections.open to the fake ws:// URL and checks its token with auth.test', async () => {
    const f = fake!;
    assert.ok(f.calls.some((c) => c.method === 'auth.test' && c.token === 'bot' && !c.error));
    assert.ok(f.calls.some((c) => c.method === 'apps.connections.open' && c.token === 'app' && !c.error));
    assert.equal(f.socket.connections, 1);
  });

  test('a message arrives as an acknowledged envelope and say() answers in its thread', async () => {
    const f = fake!;
    const { id } = await f.injectMessage({ chat: 'C0GENERAL', user: { id: 'U0ALICE', name: 'Alice' }, text: 'hello bot' });
    await waitFor(() => f.outbox('C0GENERAL').some((o) => o.type === 'send' && o.thread === id), 'the threaded answer');
    const answer = f.outbox('C0GENERAL').find((o) => o.type === 'send')!;
    assert.equal(answer.text, 'hello *you*');
    const env = f.socket.envelopes.find((e) => (e.payload.event as { ts?: string } | undefined)?.ts === id);
    assert.ok(env?.ackedAt, 'the events_api envelope was acknowledged');
    assert.equal(env.retryAttempt, 0);
    assert.deepEqual(seen[0], { text: 'hello bot' });
    // The bot's own message comes back as an event (Bolt's ignoreSelf drops it), as on Slack.
    await waitFor(() => f.eventsSent.some((b) => (b.event as { user?: string }).user === f.botUserId), 'the bot message event');
    assert.equal(seen.length, 1);
  });

  test('a slash command is acknowledged, posts a card with a button; the click updates the card and reacts', async () => {
    const f = fake!;
    const cmd = f.injectSlashCommand({ chat: 'C0GENERAL', user: { id: 'U0BOB', name: 'Bob' }, command: '/ask', text: 'When is the listing?' });
    await waitFor(() => !!cmd.envelope?.ackedAt, 'the slash command ack');
    await waitFor(() => f.outbox('C0GENERAL').some((o) => o.text === 'Q1: When is the listing?'), 'the card');
    const card = f.outbox('C0GENERAL').find((o) => o.text === 'Q1: When is the listing?')!;
    assert.ok(f.message('C0GENERAL', card.messageId!)?.blocks, 'the card carries its blocks');

    const click = f.injectButton({ chat: 'C0GENERAL', message: card.messageId!, user: { id: 'U0CAROL', name: 'Carol' }, actionId: UPVOTE });
    await waitFor(() => f.outbox('C0GENERAL').some((o) => o.type === 'react'), 'the reaction');
    assert.ok(click.envelope?.ackedAt, 'block_actions was acknowledged');
    const kinds = f.outbox('C0GENERAL').filter((o) => o.messageId === card.messageId).map((o) => [o.type, o.text]);
    assert.deepEqual(kinds, [
      ['send', 'Q1: When is the listing?'],
      ['edit', 'Q1 (q1): 1 vote'],
      ['react', '+1'],
    ]);
  });

  test('a slash command answered in its ack becomes an ephemeral reply to that person only', async () => {
    const f = fake!;
    const cmd = f.injectSlashCommand({ chat: 'C0GENERAL', user: { id: 'U0DAN', name: 'Dan' }, command: '/help', text: '' });
    await waitFor(() => !!cmd.envelope?.ackedAt, 'the ack');
    const reply = f.outbox('C0GENERAL').find((o) => o.user === 'U0DAN');
    assert.deepEqual({ type: reply?.type, text: reply?.text }, { type: 'send', text: 'Commands: /ask, /questions' });
  });

  test('after a refresh_requested disconnect Bolt reconnects with a new URL, and an event sent meanwhile arrives with a retry', async () => {
    const f = fake!;
    const opened = f.calls.filter((c) => c.method === 'apps.connections.open').length;
    f.disconnectSockets('refresh_requested', 200);
    await waitFor(() => f.socket.connections === 0, 'the old link to close');
    const { id } = await f.injectMessage({ chat: 'C0GENERAL', user: { id: 'U0ALICE', name: 'Alice' }, text: 'while reconnecting' });
    await waitFor(() => seen.some((s) => s.text === 'while reconnecting'), 'the message sent during the reconnect', 20_000);
    assert.ok(f.calls.filter((c) => c.method === 'apps.connections.open').length > opened, 'a fresh URL was asked for');
    const env = f.socket.envelopes.find((e) => (e.payload.event as { ts?: string } | undefined)?.ts === id)!;
    await waitFor(() => !!env.ackedAt, 'the acknowledgement to reach the fake');
    assert.ok(env.retryAttempt >= 1, 'no connection was open when it was first due: Slack retried it');
  });
});
