/**
 * Threading cost per new message as a chat's history grows (1k, 10k, 100k messages kept): the work a digest or a
 * threads refresh does to bring the window up to date after `fresh` new messages arrived — read the history (at most
 * the newest 50,000, as the product does), link what is not linked yet (the rest is linked and stored), store the links.
 */
import type { Redis } from 'ioredis';
import type { ChatEvent } from '../src/core/events.js';
import { assignThreads } from '../src/features/history/threads.js';
import { historyKeys, readHistory, recordMessage } from '../src/features/history/store.js';
import type { ChatLine } from '../src/perf/workload.js';
import type { Keys } from '../src/redis/keys.js';

/** Per size: µs per new message in total, and its parts (reading the window, linking). */
export interface ThreadingFigures {
  us_per_message: Record<string, number>;
  read_ms: Record<string, number>;
  link_us_per_message: Record<string, number>;
}

const NO_TRIM = { maxMessages: 1_000_000, maxAgeMs: 30 * 24 * 3600_000 };

/** Runs on one throwaway chat under `keys` (deleted afterwards). */
export async function benchThreading(redis: Redis, keys: Keys, lines: ChatLine[], sizes: number[], fresh = 500): Promise<ThreadingFigures> {
  const chat = 'telegram:-1008888888888';
  const hk = historyKeys(keys, chat);
  const out: ThreadingFigures = { us_per_message: {}, read_ms: {}, link_us_per_message: {} };
  let count = 0;
  const now = Date.now();
  const append = async (k: number) => {
    for (let done = 0; done < k; ) {
      const p = redis.pipeline();
      const batch = Math.min(2000, k - done);
      for (let j = 0; j < batch; j++) {
        const i = count++;
        const l = lines[i % lines.length]!;
        const e = { v: 1, id: `b/${i}`, kind: 'message', platform: 'telegram', chat, chatType: 'group', messageId: String(i + 1), user: { id: `telegram:user:${l.nick.replace(/[^A-Za-z0-9_]/g, '_') || 'u'}`, name: l.nick }, text: l.text, at: now - 3_600_000 + i, source: 'live' } as ChatEvent;
        recordMessage(p, keys, e, NO_TRIM);
      }
      await p.exec();
      done += batch;
    }
  };
  try {
    for (const size of [...new Set(sizes)].sort((a, b) => a - b)) {
      // Bring the chat to `size` messages, all linked (not measured: that is the steady state of a busy chat).
      if (count < size) await append(size - count);
      await assignThreads(redis, keys, chat, await readHistory(redis, keys, chat, 0, now + 1));
      await append(fresh);
      const t0 = performance.now();
      // As chatThreads and digests read: the window, at most readHistory's default cap (the newest 50,000).
      const msgs = await readHistory(redis, keys, chat, 0, now + 1);
      const t1 = performance.now();
      await assignThreads(redis, keys, chat, msgs);
      const t2 = performance.now();
      out.read_ms[String(size)] = Math.round(t1 - t0);
      out.link_us_per_message[String(size)] = Math.round(((t2 - t1) * 1000) / fresh);
      out.us_per_message[String(size)] = Math.round(((t2 - t0) * 1000) / fresh);
    }
  } finally {
    await redis.unlink(...Object.values(hk));
  }
  return out;
}
