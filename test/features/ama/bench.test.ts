/** The intake benchmark runs end to end on a small queue and leaves nothing behind. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchAmaIntake } from '../../../src/features/ama/index.js';
import { testCore } from '../../helpers/core.js';

test('benchAmaIntake reports median µs and p99 ms per question for each queue size, the load cost, and deletes its AMA', async () => {
  const core = await testCore();
  try {
    const r = await benchAmaIntake(core.deps, { sizes: [100, 300], samples: 40 });
    assert.deepEqual(Object.keys(r.median_us), ['100', '300']);
    assert.ok(Object.values(r.median_us).every((us) => us > 0 && Number.isFinite(us)));
    assert.deepEqual(Object.keys(r.p99_ms), ['100', '300']);
    assert.ok(Object.entries(r.p99_ms).every(([size, ms]) => ms * 1000 >= r.median_us[size]!));
    assert.ok(r.load.resources_ms >= 0 && r.load.model_ms === null, JSON.stringify(r.load));
    const left: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await core.redis.scan(cursor, 'MATCH', `${core.keys.prefix}:ama:bench*`, 'COUNT', 1000);
      cursor = next;
      left.push(...found);
    } while (cursor !== '0');
    assert.deepEqual(left, []);
  } finally {
    await core.cleanup();
  }
});
