/** `townhall sandbox`, Telegram half of contract §7: a message POSTed to the sandbox reaches the bot through the fake
 * Bot API and the real telegraf client, and the outbox lists what the bot did there. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSandbox, type Sandbox } from '../../src/cli/sandbox.js';
import type { OutboxEntry } from '../../src/core/index.js';

import { isolatedRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/core.js';
import { PLATFORM_MODULES } from '../helpers/platforms.js';

const CHAT = '-1009000000001';
let sandbox: Sandbox;
let iso: Awaited<ReturnType<typeof isolatedRedis>>;

before(async () => {
  iso = await isolatedRedis();
  sandbox = await startSandbox({ port: 0, quiet: true, prefix: iso.keys.prefix, platforms: PLATFORM_MODULES });
});
after(async () => {
  await sandbox?.close();
  await iso?.cleanup();
});

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${sandbox.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const outbox = async (chat?: string) => (await (await fetch(`${sandbox.url}/sandbox/telegram/outbox${chat ? `?chat=${chat}` : ''}`)).json()) as OutboxEntry[];

test('a message POSTed to /sandbox/telegram/messages reaches the bot, and /sandbox/telegram/outbox lists its reply', async () => {
  const sent = await post('/sandbox/telegram/messages', { chat: CHAT, user: { id: '1', name: 'Ann' }, text: '/help' });
  assert.equal(sent.status, 200);
  const id = sent.body.id as string;
  assert.match(id, /^\d+$/, "the fake's own message id");
  let reply: OutboxEntry | undefined;
  await waitFor(async () => Boolean((reply = (await outbox(CHAT)).find((e) => e.replyTo === id))), 'the bot to answer in the outbox', 20_000);
  assert.equal(reply!.type, 'send');
  assert.equal(reply!.chat, CHAT);
  assert.ok(reply!.text && reply!.text.length > 0);
  assert.ok(reply!.at > 0);
  assert.ok((await outbox()).some((e) => e.messageId === reply!.messageId), 'the unfiltered outbox lists it too');
});

test('the telegram adapter reports itself connected in /readyz', async () => {
  const ready = (await (await fetch(`${sandbox.url}/readyz`)).json()) as { adapters?: Record<string, { connected: boolean; problems: string[] }> };
  assert.equal(ready.adapters?.telegram?.connected, true);
  assert.deepEqual(ready.adapters?.telegram?.problems, []);
});
