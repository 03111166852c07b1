/** The intake benchmark runs end to end on a small queue and leaves nothing behind. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchAmaIntake } from '../../../src/features/ama/index.js';
import { testCore } from '../../helpers/core.js';

test('benchAmaIntake reports µs per question for each queue size and deletes its AMA', async () => {
  const core = await testCore();
  try {
    const r = await benchAmaIntake(core.deps, { sizes: [100, 300], samples: 40 });
    assert.deepEqual(Object.keys(r), ['100', '300']);
    assert.ok(Object.values(r).every((us) => us > 0 && Number.isFinite(us)));
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
