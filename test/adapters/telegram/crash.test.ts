/**
 * No loss, no double handling: the adapter runs in a child process that is SIGKILLed between receiving an update
 * and acknowledging it; on restart Telegram (the fake) delivers it again and the core handles it exactly once.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createHandleEvent } from '../../../src/pipeline/handle-event.js';
import { startInboundWorker, type InboundWorkerHandle } from '../../../src/queue/inbound-worker.js';
import { quietLogger } from '../../../src/log.js';
import { startTelegramFake, type TelegramFake } from '../../../fakes/telegram/index.js';

import { testCore } from '../../helpers/core.js';
import { waitFor } from '../../helpers/core.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, './adapter-process.ts');
const G = '-1004000000001';

type Msg = 'ready' | 'booted' | { received?: string[]; stored?: string[] };

describe('telegram: killed between receipt and acknowledgement', () => {
  let fake: TelegramFake;
  let core: Awaited<ReturnType<typeof testCore>>;
  let worker: InboundWorkerHandle;
  const handled = new Map<string, number>();

  before(async () => {
    fake = await startTelegramFake();
    core = await testCore();
    const countKey = core.keys.k('test', 'handled');
    const handle = createHandleEvent(core.deps, [
      {
        name: 'count',
        middleware: async (ctx, next) => {
          // Counted in the same transaction as the core's "seen" mark, as a real feature's state would be.
          ctx.writes.hincrby(countKey, ctx.event.id, 1);
          await next();
        },
      },
    ]);
    worker = startInboundWorker({ url: core.url, keys: core.keys, log: quietLogger(), handle });
    handled.clear();
  });
  after(async () => {
    await worker?.close();
    await fake?.close();
    await core?.cleanup();
  });

  const timesHandled = async (id: string) => Number((await core.redis.hget(core.keys.k('test', 'handled'), id)) ?? 0);

  /** Forks the adapter process; with `wait`, it boots but polls only after `go()`. */
  async function startChild(hang: '' | 'before' | 'after', wait = false): Promise<{ child: ChildProcess; msgs: Msg[]; go: () => Promise<void> }> {
    const child = fork(CHILD, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, TG_PREFIX: core.keys.prefix, REDIS_URL: core.url, TG_TOKEN: fake.token, TG_API_ROOT: fake.url, TG_HANG: hang, TG_WAIT: wait ? '1' : '' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const msgs: Msg[] = [];
    child.on('message', (m) => msgs.push(m as Msg));
    const go = async () => {
      await waitFor(() => msgs.includes('booted'), 'the adapter process to boot', 20_000);
      child.send('start');
      await waitFor(() => msgs.includes('ready'), 'the adapter process to poll', 20_000);
    };
    if (!wait) await waitFor(() => msgs.includes('ready'), 'the adapter process to start', 20_000);
    return { child, msgs, go };
  }

  async function kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  test('killed before the event is stored: after a restart the message is handled exactly once', async () => {
    const [first, second] = await Promise.all([startChild('before'), startChild('', true)]);
    const { id } = await fake.injectMessage({ chat: G, user: { id: '1', name: 'Ann' }, text: 'first question' });
    const eventId = `telegram/message/${G}/${id}`;
    await waitFor(() => first.msgs.some((m) => typeof m === 'object' && m.received?.includes(eventId)), 'receipt in the child');
    await kill(first.child);
    assert.equal(await timesHandled(eventId), 0, 'nothing was stored before the kill');
    assert.equal(fake.pendingUpdates().length, 1, 'Telegram still holds the update: it was never acknowledged');

    await second.go();
    try {
      await waitFor(async () => (await timesHandled(eventId)) === 1, 'the core to handle the redelivered message', 15_000);
      await waitFor(() => fake.pendingUpdates().length === 0, 'the acknowledgement after the restart');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await timesHandled(eventId), 1);
    } finally {
      await kill(second.child);
    }
  });

  test('killed after the event is stored but before acknowledgement: the redelivery is handled once, not twice', async () => {
    const [first, second] = await Promise.all([startChild('after'), startChild('', true)]);
    const { id } = await fake.injectMessage({ chat: G, user: { id: '2', name: 'Ben' }, text: 'second question' });
    const eventId = `telegram/message/${G}/${id}`;
    await waitFor(() => first.msgs.some((m) => typeof m === 'object' && m.stored?.includes(eventId)), 'the event stored by the child');
    // Let the core handle it before the crash, so the redelivery meets an already handled event.
    await waitFor(async () => (await timesHandled(eventId)) === 1, 'the core to handle it once');
    await kill(first.child);
    assert.equal(fake.pendingUpdates().length, 1, 'stored, but never acknowledged');

    await second.go();
    try {
      await waitFor(() => second.msgs.some((m) => typeof m === 'object' && m.stored?.includes(eventId)), 'the redelivery stored again');
      await waitFor(() => fake.pendingUpdates().length === 0, 'the acknowledgement after the restart');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await timesHandled(eventId), 1, 'the same event id makes the redelivery count once');
    } finally {
      await kill(second.child);
    }
  });
});
