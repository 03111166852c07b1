/** Test isolation on a real Redis: a unique hash-tagged prefix per test file, removed afterwards. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../src/redis/keys.js';
import { unlinkUnder } from '../../src/redis/scan.js';

/** The Redis the test runner found or started (bin/run-tests.js sets REDIS_URL). */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh prefix `{townhall-test-<uuid>}` and a connection; `cleanup()` deletes every key under it. */
export async function isolatedRedis(): Promise<{ redis: Redis; keys: Keys; url: string; cleanup: () => Promise<void> }> {
  const keys = new Keys(`{townhall-test-${randomUUID().slice(0, 8)}}`);
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  return {
    redis,
    keys,
    url: TEST_REDIS_URL,
    cleanup: async () => {
      await unlinkUnder(redis, keys.prefix);
      redis.disconnect();
    },
  };
}
