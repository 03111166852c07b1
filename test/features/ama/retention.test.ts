/** AMA retention: a closed AMA's data is deleted when `ama.retention` is over, and nothing else is touched. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConfigSchema } from '../../../config/schema.js';
import { amaGet, amaList, amaSchedule } from '../../../src/features/ama/index.js';
import { schedulePendingPurges } from '../../../src/features/ama/lifecycle.js';
import { cancelTask } from '../../../src/features/ama/tasks.js';
import { amaHarness, T0, type AmaHarness } from './harness.js';

const H = 3_600_000;
const D = 24 * H;
let h: AmaHarness;

before(async () => {
  h = await amaHarness({ config: { ama: ConfigSchema.parse({ ama: { retention: '2d' } }).ama } });
});
after(() => h.cleanup());

/** Every key of an AMA under the deployment's prefix (its hash and everything below it). */
async function keysOf(id: string): Promise<string[]> {
  const below = await h.redis.keys(`${h.env.k.ama(id)}:*`);
  return (await h.redis.exists(h.env.k.ama(id))) ? [h.env.k.ama(id), ...below] : below;
}

test("a closed AMA's questions, votes, index and lists are deleted when its retention is over; a live one is untouched", async () => {
  h.setClock(T0);
  const old = await amaSchedule(h.deps, { title: 'Old AMA', startsAt: T0 + 60_000, durationMinutes: 60, chats: ['telegram:-71'] });
  const live = await amaSchedule(h.deps, { title: 'Later AMA', startsAt: T0 + D, durationMinutes: 60 * 72, chats: ['telegram:-72'] });
  h.setClock(T0 + 60_000);
  await h.runDue();
  for (const [i, text] of ['When does staking launch?', 'Which chains are supported next?', 'Is there a bug bounty?'].entries()) {
    await h.say({ platform: 'telegram', id: String(100 + i) }, '-71', `/ask ${text}`);
  }
  await h.say({ platform: 'telegram', id: '200' }, '-71', '/upvote 1');
  h.setClock(T0 + 61 * 60_000);
  await h.runDue();
  assert.equal((await amaGet(h.deps, old.id)).status, 'closed');
  const before = await keysOf(old.id);
  assert.ok(before.length > 10, `the closed AMA has its data (${before.length} keys)`);

  h.setClock(T0 + D);
  await h.runDue();
  for (const text of ['What is the roadmap?', 'Will fees go down?']) await h.say({ platform: 'telegram', id: '300' }, '-72', `/ask ${text}`);
  const liveKeys = (await keysOf(live.id)).length;

  // A day after the close: still kept.
  h.setClock(T0 + 61 * 60_000 + D);
  await h.runDue();
  assert.deepEqual((await keysOf(old.id)).sort(), before.sort());

  // Two days after the close: gone, everywhere.
  h.setClock(T0 + 61 * 60_000 + 2 * D);
  await h.runDue();
  assert.deepEqual(await keysOf(old.id), []);
  await assert.rejects(amaGet(h.deps, old.id));
  assert.ok(!(await amaList(h.deps)).some((a) => a.id === old.id), 'not listed');
  assert.ok(!(await amaList(h.deps, { chat: 'telegram:-71' })).some((a) => a.id === old.id), "not in its chat's list");
  assert.equal((await amaGet(h.deps, live.id)).status, 'live');
  assert.equal((await keysOf(live.id)).length, liveKeys, 'the live AMA keeps every key');
});

test('an AMA that ended before retention existed gets its purge when a scheduler starts, once', async () => {
  h.setClock(T0 + 10 * D);
  const ama = await amaSchedule(h.deps, { title: 'Legacy AMA', startsAt: T0 + 10 * D + 60_000, durationMinutes: 30, chats: ['telegram:-73'] });
  h.setClock(T0 + 10 * D + 60_000);
  await h.runDue();
  await h.say({ platform: 'telegram', id: '400' }, '-73', '/ask Is the old AMA still here?');
  h.setClock(T0 + 10 * D + 31 * 60_000);
  await h.runDue();
  const closedAt = (await amaGet(h.deps, ama.id)).closedAt!;
  // As an AMA closed by an earlier version: no purge task.
  await cancelTask(h.env, `${ama.id}/purge`);
  assert.equal(await h.redis.zscore(h.env.k.due(), `${ama.id}/purge`), null);

  assert.ok((await schedulePendingPurges(h.env)) >= 1);
  assert.equal(Number(await h.redis.zscore(h.env.k.due(), `${ama.id}/purge`)), closedAt + 2 * D, 'due at its end plus the retention');
  assert.equal(await schedulePendingPurges(h.env), 0, 'a second start adds nothing');

  h.setClock(closedAt + 2 * D);
  await h.runDue();
  assert.deepEqual(await keysOf(ama.id), []);
});
