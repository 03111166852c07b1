/** The hashtags the X adapter searches: a set in its own store that every process's adapter reads. */
import type { AdapterStore } from '../../src/core/index.js';

/** The set of tracked hashtags in the adapter's store (lowercase, no '#'); the adapter re-reads it every searchIntervalMs. */
export const HASHTAGS_KEY = 'hashtags';

/** Normalizes hashtags: no '#', lowercase, letters/digits/_ only; anything else is dropped. */
export function cleanHashtags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim().replace(/^#/, '').toLowerCase()).filter((t) => /^[\p{L}\p{N}_]{1,100}$/u.test(t)))];
}

/** Starts searching hashtags (an AMA began: the core's 'listen' action). */
export async function trackXHashtags(store: AdapterStore, tags: string[]): Promise<void> {
  const clean = cleanHashtags(tags);
  if (clean.length) await store.sadd(HASHTAGS_KEY, ...clean);
}

/** Stops searching hashtags (the AMA ended). */
export async function untrackXHashtags(store: AdapterStore, tags: string[]): Promise<void> {
  const clean = cleanHashtags(tags);
  if (clean.length) await store.srem(HASHTAGS_KEY, ...clean);
}
