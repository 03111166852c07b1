/** A core worker SIGKILLed in the middle of a live AMA: after a restart no question and no vote is lost or counted twice. */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { makeEventId } from '../../../src/core/index.js';
import type { ChatEventInput } from '../../../src/core/events.js';
import { CommandRegistry } from '../../../src/commands/router.js';
import { amaQuestions, amaSchedule, amaStart, createAmaFeature } from '../../../src/features/ama/index.js';
import { createHandleEvent } from '../../../src/pipeline/handle-event.js';
import { startInboundWorker, type InboundWorkerHandle } from '../../../src/queue/inbound-worker.js';
import { testCore, waitFor } from '../../helpers/core.js';

type Core = Awaited<ReturnType<typeof testCore>>;
let core: Core;
let amaId: string;
const CHATS = ['telegram:-100', 'discord:200'] as const;

before(async () => {
  core = await testCore();
  const ama = await amaSchedule(core.deps, { title: 'Restart AMA', startsAt: Date.now(), durationMinutes: 60, chats: [...CHATS] });
  amaId = ama.id;
  await amaStart(core.deps, amaId);
});
after(() => core.cleanup());

function startChild(): Promise<ChildProcess> {
  const child = fork(new URL('./core-child.ts', import.meta.url), [core.url, core.keys.prefix, '10'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`core child exited ${code}`)));
  });
}

function inProcessWorker(): InboundWorkerHandle {
  const ama = createAmaFeature(core.deps);
  const registry = new CommandRegistry().register(...ama.commands);
  registry.setHostCheck(ama.hostCheck);
  return startInboundWorker({ url: core.url, keys: core.keys, log: core.deps.log, lockDurationMs: 1000, handle: createHandleEvent(core.deps, [registry.feature(), ama.feature]) });
}

const handled = () => core.redis.get(core.keys.k('stats', 'handled')).then(Number);

async function killMidway(events: ChatEventInput[], killAfter: number): Promise<void> {
  const child = await startChild();
  const before0 = await handled();
  // One job per event (as a chat's messages arrive one by one): a single batch job would be handled all at once.
  for (const e of events) await core.inbound.publish([e]);
  try {
    await waitFor(async () => (await handled()) >= before0 + killAfter, `${killAfter} events handled by the child`, 20_000, 5);
  } finally {
    // Killed on failure too: a child left running would keep the test file from ever finishing.
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
  assert.ok((await handled()) < before0 + events.length, 'killed before every event was handled');
  const worker = inProcessWorker();
  try {
    await waitFor(async () => (await core.inbound.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized').then((c) => Object.values(c).reduce((a, b) => a + b, 0))) === 0, 'the backlog drained after the restart', 30_000, 50);
  } finally {
    await worker.close();
  }
}

const TOPICS = ['staking', 'bridging', 'governance', 'vesting', 'audits', 'grants', 'validators', 'oracles', 'liquidity', 'treasury', 'burns', 'wallets', 'explorers', 'sdks', 'apis', 'testnets', 'airdrops', 'listings', 'insurance', 'lending'];
const VERBS = ['change', 'expand'];

test('asks and votes sent while the core worker is SIGKILLed and restarted all count, exactly once', async () => {
  const asks: ChatEventInput[] = [];
  let i = 0;
  for (const topic of TOPICS) {
    for (const verb of VERBS) {
      const platform = i % 2 ? 'discord' : 'telegram';
      const chat = CHATS[i % 2]!;
      const mid = String(10_000 + i);
      asks.push({ v: 1, id: makeEventId(platform, 'msg', chat.split(':')[1]!, mid), kind: 'message', platform, chat, messageId: mid, user: { id: `${platform}:user:${1000 + i}`, name: `Asker ${i}` }, text: `/ask How will ${topic} ${verb} next year?`, at: Date.now(), source: 'live' });
      i++;
    }
  }
  await killMidway(asks, 8);
  const qs = await amaQuestions(core.deps, amaId, { status: 'all', limit: 1000 });
  const total = qs.reduce((n, q) => n + q.asks.length, 0);
  assert.equal(total, asks.length, 'every ask is in the queue once');
  assert.ok(qs.every((q) => new Set(q.asks.map((a) => a.messageId)).size === q.asks.length), 'no ask recorded twice');

  const votes: ChatEventInput[] = [];
  for (const q of qs) {
    for (let v = 0; v < 3; v++) {
      votes.push({ v: 1, id: `test/vote/${q.n}/${v}`, kind: 'vote', platform: 'discord', chat: 'discord:200', user: { id: `discord:user:${5000 + v}`, name: `Voter ${v}` }, vote: { target: `up:${amaId}:${q.n}`, added: true }, at: Date.now(), source: 'live' });
    }
  }
  await killMidway(votes, 10);
  const after2 = await amaQuestions(core.deps, amaId, { status: 'all', limit: 1000 });
  for (const q of after2) assert.equal(q.votes, q.asks.length + 3, `Q${q.n}: its askers plus three voters`);
});
