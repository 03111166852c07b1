/**
 * Activity for the chats view's chart: messages per minute per platform, and questions per minute, over a window.
 * Read from the chat history the history feature already keeps, only when a dashboard asks — nothing extra is
 * written on the hot path.
 */
import type { Redis } from 'ioredis';
import { platformOf, PLATFORMS, type Platform } from '../../core/ids.js';
import { readHistory } from '../../features/history/store.js';
import { looksLikeQuestion } from '../../features/digest/digest.js';
import type { Keys } from '../../redis/keys.js';

/** Per-minute series aligned on `minutes` (epoch seconds of each minute's start, as uPlot wants). */
export interface Activity {
  from: number;
  to: number;
  minutes: number[];
  messages: Record<Platform, number[]>;
  questions: number[];
  /** Chats read (capped). */
  chats: string[];
}

/** Chats read per request at most, most recently active first. */
export const ACTIVITY_MAX_CHATS = 20;

/** Buckets the chats' messages in [from, to) per minute. */
export async function readActivity(redis: Redis, keys: Keys, chats: string[], from: number, to: number, cap: number): Promise<Activity> {
  const first = Math.floor(from / 60_000);
  const last = Math.floor((to - 1) / 60_000);
  const len = Math.max(1, last - first + 1);
  const minutes = Array.from({ length: len }, (_, i) => (first + i) * 60);
  const messages = Object.fromEntries(PLATFORMS.map((p) => [p, new Array<number>(len).fill(0)])) as Record<Platform, number[]>;
  const questions = new Array<number>(len).fill(0);
  const picked = chats.slice(0, ACTIVITY_MAX_CHATS);
  const histories = await Promise.all(picked.map((c) => readHistory(redis, keys, c, from, to, cap)));
  histories.forEach((list, i) => {
    const series = messages[platformOf(picked[i]!)];
    for (const m of list) {
      if (m.deleted) continue;
      const b = Math.floor(m.at / 60_000) - first;
      if (b < 0 || b >= len) continue;
      series[b]!++;
      // The chart reads up to 20 chats × 20,000 messages per request: the cheap question-mark test, not the full
      // multilingual detector the digests run (entries from earlier versions carry their stored flag).
      if (m.isQuestion ?? looksLikeQuestion(m.text)) questions[b]!++;
    }
  });
  return { from, to, minutes, messages, questions, chats: picked };
}
