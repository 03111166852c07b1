/** The AMA hashtags the X adapter searches: a Redis set any process may change, without importing the X SDK. */
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/redis/keys.js';

/** The Redis set of tracked hashtags (lowercase, no '#'); the adapter re-reads it every searchIntervalMs. */
export function xHashtagsKey(keys: Keys): string {
  return keys.k('adapter', 'x', 'hashtags');
}

/** Normalizes hashtags: no '#', lowercase, letters/digits/_ only; anything else is dropped. */
export function cleanHashtags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim().replace(/^#/, '').toLowerCase()).filter((t) => /^[\p{L}\p{N}_]{1,100}$/u.test(t)))];
}

/** Starts searching hashtags (an AMA began). */
export async function trackXHashtags(redis: Redis, keys: Keys, tags: string[]): Promise<void> {
  const clean = cleanHashtags(tags);
  if (clean.length) await redis.sadd(xHashtagsKey(keys), ...clean);
}

/** Stops searching hashtags (the AMA ended). */
export async function untrackXHashtags(redis: Redis, keys: Keys, tags: string[]): Promise<void> {
  const clean = cleanHashtags(tags);
  if (clean.length) await redis.srem(xHashtagsKey(keys), ...clean);
}
