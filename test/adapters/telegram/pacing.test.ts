/**
 * 200 messages for one group go out no faster than the group budget allows, all of them, in order. Time is scaled:
 * Telegram's "20 a minute per group" becomes 20 per 2 s (the fake enforces the same budget as Telegram would, sliding).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTelegramAdapter, type TelegramAdapter } from '../../../adapters/telegram/index.js';
import { quietLogger } from '../../../src/log.js';
import { OutboundQueue, startOutboundRunner, type OutboundRunnerHandle } from '../../../src/queue/outbound.js';
import { startTelegramFake, type TelegramFake } from '../../../fakes/telegram/index.js';
import { isolatedRedis } from '../../helpers/redis.js';
import { waitFor } from '../../helpers/core.js';
import { adapterDeps } from '../../helpers/adapter.js';

const G = '-1006000000001';
const WINDOW_MS = 2000;
const PER_WINDOW = 20;
const COUNT = 200;

let fake: TelegramFake;
let iso: Awaited<ReturnType<typeof isolatedRedis>>;
let adapter: TelegramAdapter;
let runner: OutboundRunnerHandle;
let outbound: OutboundQueue;
let budgetDelays = 0;
let deps: ReturnType<typeof adapterDeps> | undefined;

before(async () => {
  fake = await startTelegramFake({ floodControl: { perGroup: { points: PER_WINDOW, windowMs: WINDOW_MS }, global: null } });
  iso = await isolatedRedis();
  adapter = createTelegramAdapter(
    { token: fake.token, apiRoot: fake.url, registerCommands: false, limits: { perChat: [{ points: PER_WINDOW, durationMs: WINDOW_MS }], global: [{ points: 1000, durationMs: 1000 }] } },
    (deps = adapterDeps('telegram', { keys: iso.keys, redis: iso.redis })),
  );
  await adapter.init();
  await fake.injectMessage({ chat: G, user: { id: '1', name: 'Founder' }, text: 'welcome' });
  runner = startOutboundRunner({ adapter, url: iso.url, keys: iso.keys, log: quietLogger(), onOutcome: (_a, outcome, detail) => void (outcome === 'delayed' && detail?.startsWith('budget') && budgetDelays++) });
  outbound = new OutboundQueue({ url: iso.url, keys: iso.keys });
});
after(async () => {
  await runner?.close();
  await outbound?.close();
  deps?.close();
  await fake?.close();
  await iso?.cleanup();
});

test('200 messages to one group are spread out within the group budget, and all arrive, in order', { timeout: 55_000 }, async () => {
  const started = Date.now();
  await outbound.enqueue(Array.from({ length: COUNT }, (_, i) => ({ v: 1, id: `pace-${i}`, type: 'send' as const, platform: 'telegram' as const, chat: `telegram:${G}`, text: `message ${i}` })));
  await waitFor(() => fake.outbox(G).length >= COUNT, 'all 200 messages', 50_000);
  const sent = fake.outbox(G);
  assert.equal(sent.length, COUNT, 'none twice');
  assert.deepEqual(sent.map((e) => e.text), Array.from({ length: COUNT }, (_, i) => `message ${i}`), 'in order');
  let busiest = 0;
  for (let i = 0, j = 0; i < sent.length; i++) {
    while (j < sent.length && sent[j]!.at - sent[i]!.at < WINDOW_MS) j++;
    busiest = Math.max(busiest, j - i);
  }
  assert.ok(busiest <= PER_WINDOW, `at most ${PER_WINDOW} in any ${WINDOW_MS} ms, saw ${busiest}`);
  assert.equal(fake.floodRefusals(), 0, 'Telegram never had to refuse one');
  const elapsed = sent.at(-1)!.at - started;
  assert.ok(elapsed >= (COUNT / PER_WINDOW - 1) * WINDOW_MS, `took ${elapsed} ms: no faster than the budget`);
  assert.ok(budgetDelays > 0, 'the budget, not luck, held messages back');
});
