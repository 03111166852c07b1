/**
 * No loss, no double handling when the process dies: the Slack adapter runs in a child process that is SIGKILLed
 * after an event is in Redis but before Slack got its acknowledgement (and before its catch-up cursor moved); while
 * it is down Slack gives up on what is said. The restarted adapter reads it all back, and the core handles every
 * message exactly once.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startSlackFake, type SlackFake } from '../../../fakes/slack/index.js';
import { quietLogger } from '../../../src/log.js';
import { createHandleEvent } from '../../../src/pipeline/handle-event.js';
import { startInboundWorker, type InboundWorkerHandle } from '../../../src/queue/inbound-worker.js';
import { testCore, waitFor } from '../../helpers/core.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), './adapter-process.ts');
const C = 'C0CRASH';

type Msg = 'ready' | { stored?: string[] };

describe('slack: the adapter process killed between storing and acknowledging', { timeout: 90_000 }, () => {
  let fake: SlackFake;
  let core: Awaited<ReturnType<typeof testCore>>;
  let worker: InboundWorkerHandle;
  const children: ChildProcess[] = [];

  before(async () => {
    // Slack does not retry here: an event nobody acknowledged is gone, only the catch-up can bring it back.
    fake = await startSlackFake({ rateLimits: false, socketMode: { retryDelaysMs: [] } });
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
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await worker?.close();
    await fake?.close();
    await core?.cleanup();
  });

  const timesHandled = async (id: string) => Number((await core.redis.hget(core.keys.k('test', 'handled'), id)) ?? 0);
  const eventId = (ts: string) => `slack/message/${fake.teamId}/${C}/${ts}`;

  async function startChild(hang: boolean): Promise<{ child: ChildProcess; msgs: Msg[] }> {
    const child = fork(CHILD, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, SL_PREFIX: core.keys.prefix, REDIS_URL: core.url, SL_BOT_TOKEN: fake.tokens.bot, SL_APP_TOKEN: fake.tokens.app, SL_API_URL: fake.url, SL_HANG: hang ? '1' : '' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    const msgs: Msg[] = [];
    child.on('message', (m) => msgs.push(m as Msg));
    await waitFor(() => msgs.includes('ready'), 'the adapter process to connect', 20_000);
    return { child, msgs };
  }

  async function kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  test('what was stored but not acknowledged, and what was said while no process listened, are each handled once', async () => {
    const first = await startChild(true);
    const { id: m0 } = await fake.injectMessage({ chat: C, user: { id: 'U0ANN', name: 'Ann' }, text: 'hello' });
    await waitFor(async () => (await timesHandled(eventId(m0))) === 1, 'the first message handled');
    const { id: m1 } = await fake.injectMessage({ chat: C, user: { id: 'U0BEN', name: 'Ben' }, text: 'please hang here' });
    await waitFor(() => first.msgs.some((m) => typeof m === 'object' && m.stored?.includes(eventId(m1))), 'the second message stored by the child');
    await waitFor(async () => (await timesHandled(eventId(m1))) === 1, 'the core to handle it before the crash');
    await kill(first.child);
    const env1 = fake.socket.envelopes.find((e) => (e.payload.event as { ts?: string }).ts === m1 && (e.payload.event as { type?: string }).type === 'message')!;
    assert.equal(env1.ackedAt, undefined, 'stored, but never acknowledged');

    const { id: m2 } = await fake.injectMessage({ chat: C, user: { id: 'U0CAT', name: 'Cat' }, text: 'said while no process listened' });
    await waitFor(() => fake.socket.envelopes.some((e) => (e.payload.event as { ts?: string }).ts === m2 && e.timedOut), 'Slack to give up on it');

    const second = await startChild(false);
    await waitFor(async () => (await timesHandled(eventId(m2))) === 1, 'the message of the downtime read back and handled', 20_000);
    assert.ok(second.msgs.some((m) => typeof m === 'object' && m.stored?.includes(eventId(m1))), 'the unacknowledged one was read back (its cursor had not moved)');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual([await timesHandled(eventId(m0)), await timesHandled(eventId(m1)), await timesHandled(eventId(m2))], [1, 1, 1]);
    await kill(second.child);
  });
});
