/** Walking keys and collections with SCAN cursors, in pages, so no single command holds Redis for long. */
import type { Redis } from 'ioredis';

/** One SCAN-family call: the next cursor and this page's items. */
export type ScanStep = (cursor: string) => Promise<[cursor: string, items: string[]]>;

/** Runs `step` from cursor 0 until Redis says the walk is over, handing each non-empty page to `page`. */
export async function scanPages(step: ScanStep, page: (items: string[]) => Promise<void>): Promise<void> {
  let cursor = '0';
  do {
    const [next, items] = await step(cursor);
    cursor = next;
    if (items.length) await page(items);
  } while (cursor !== '0');
}

/** Deletes every key that starts with `prefix` (glob characters in it are taken literally); returns how many went. */
export async function unlinkUnder(redis: Redis, prefix: string, count = 1000): Promise<number> {
  const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let removed = 0;
  await scanPages(
    (cursor) => redis.scan(cursor, 'MATCH', match, 'COUNT', count),
    async (keys) => {
      removed += await redis.unlink(...keys);
    },
  );
  return removed;
}
