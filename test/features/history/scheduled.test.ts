import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { buildCore } from '../../../src/app/core.js';
import { parseChatEvent } from '../../../src/core/events.js';
import { startDigestScheduler } from '../../../src/features/history/scheduled.js';
import { readStatus } from '../../../src/cli/status.js';
import { messageEvent } from '../../helpers/events.js';
import { testCore, waitFor } from '../../helpers/core.js';

test('a scheduled digest is posted to its chat, and deferred (counted in status) while the inbound backlog is too deep', async () => {
  const t = await testCore({ config: { digest: { schedule: [{ chat: 'telegram:-77', every: '1s', window: '1h' }] }, core: { shedBacklog: 100 } } as never });
  after(t.cleanup);
  const core = buildCore(t.deps);
  for (const text of ['Is the bridge open again?', 'yes since 10:00, see https://example.org/status', 'great, thanks']) {
    const p = parseChatEvent(messageEvent({ chatId: '-77', text }));
    assert.ok(p.ok);
    await core.handleEvent(p.event);
  }
  // A backlog of 150 unhandled events (no core worker runs in this test).
  await t.inbound.publish(Array.from({ length: 150 }, (_, i) => messageEvent({ chatId: '-78', messageId: `bl-${i}` })));
  const sched = await startDigestScheduler({ url: t.url, deps: t.deps, deferMs: 500 });
  try {
    await waitFor(async () => Number((await t.redis.hget(t.keys.k('stats', 'deferred'), 'digest')) ?? 0) >= 1, 'the digest to be deferred', 10_000);
    const status = await readStatus(t.redis, t.keys);
    assert.ok((status.deferred.digest ?? 0) >= 1, 'status shows the deferred digest');
    assert.equal((await t.outbound.queue('telegram').getJobs(['waiting', 'prioritized'])).length, 0, 'nothing posted while overloaded');
    await t.inbound.queue.obliterate({ force: true });
    await waitFor(async () => (await t.outbound.queue('telegram').getJobs(['waiting', 'prioritized'])).length > 0, 'the digest once the backlog is gone', 20_000, 200);
    const [job] = await t.outbound.queue('telegram').getJobs(['waiting', 'prioritized']);
    assert.equal(job?.data.chat, 'telegram:-77');
    assert.match(job?.data.text ?? '', /bridge/);
  } finally {
    await sched.close();
  }
});
