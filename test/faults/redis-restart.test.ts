/**
 * Redis restarted (append-only file on) in the middle of a replay: the Telegram adapter, the core worker and the
 * outbound runner reconnect on their own, and nothing acknowledged is lost — every message the adapter confirmed to
 * Telegram is handled once and every command is answered.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { DeadLetterStore } from '../../src/queue/dead-letter.js';
import { spawnRedis, type SpawnedRedis } from '../../src/redis/connect.js';
import { Keys } from '../../src/redis/keys.js';
import { waitFor } from '../helpers/core.js';
import { startTelegramFake } from '../../fakes/telegram/index.js';
import { groups, historyCount, InProcessStack, LOCK_MS, repliesTo, writeTraffic } from './harness.js';

const N = 3000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'townhall-redis-restart-'));
let redis: SpawnedRedis = await spawnRedis({ persistent: true, dir });
const keys = new Keys(`{townhall-test-${randomUUID().slice(0, 8)}}`);
const fake = await startTelegramFake({ floodControl: false });
// Job locks (4 s) shorter than the outage: BullMQ hands jobs still being handled to a second run, and the commit's
// seen guard must keep their state changes to one.
const stack = new InProcessStack(redis.url, keys, LOCK_MS);

after(async () => {
  await stack.close();
  await fake.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('Redis restarted mid-replay: adapter, core and runner reconnect; every acknowledged message handled once, every command answered', async (t) => {
  const chats = groups(10);
  stack.startCore();
  await stack.startTelegram(fake, fake.url);
  const started = Date.now();
  let down = 0;
  let up = 0;
  const replay = writeTraffic(fake, {
    n: N,
    chats,
    users: 1000,
    rate: 300,
    commandEvery: 10,
    onProgress: async (i) => {
      if (i !== N / 3) return;
      // A third of the way in: a clean restart (SIGTERM: Redis writes its append-only file and exits), down for
      // longer than a job lock.
      await redis.stop();
      down = Date.now();
      await new Promise((r) => setTimeout(r, LOCK_MS + 1000));
      redis = await spawnRedis({ persistent: true, dir, port: redis.port });
      up = Date.now();
    },
  });
  const sent = await replay;
  assert.ok(up > down && down > 0, 'Redis went down and came back during the replay');

  await waitFor(async () => (await stack.handled()) >= N && (await stack.backlog('inbound')) === 0, 'every message handled after the restart', 60_000, 100);
  const commands = sent.filter((s) => s.command).map((s) => `${fake.chatId(s.chat)}/${s.id}`);
  await waitFor(async () => commands.every((k) => repliesTo(fake).has(k)) && (await stack.backlog('outbound')) === 0, 'every command answered', 60_000, 100);

  assert.equal(await stack.handled(), N, `each acknowledged message handled exactly once (Redis down ${up - down} ms)`);
  assert.equal(await historyCount(stack.redis, keys, chats), N - commands.length, 'every chat message is in the history');
  const replies = repliesTo(fake);
  const twice = commands.filter((k) => replies.get(k)! > 1);
  // A send that was in flight as Redis went down may have reached Telegram before its completion could be recorded.
  assert.ok(twice.length <= 8, `at most the runner's in-flight sends are repeated (${twice.length})`);
  assert.equal((await stack.inbound.queue.getJobCounts('failed')).failed, 0, 'no inbound job failed for good');
  assert.equal(await new DeadLetterStore(stack.redis, keys).count(), 0, 'nothing dead-lettered');
  t.diagnostic(`${N} messages in ${((Date.now() - started) / 1000).toFixed(1)} s; Redis down ${up - down} ms; replies repeated: ${twice.length}`);
});
