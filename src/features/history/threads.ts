/** Threads on demand: the linker runs over messages not yet assigned, warmed up on the ones before, results kept in Redis. */
import type { Redis } from 'ioredis';
import type { Keys } from '../../redis/keys.js';
import type { StoredMessage } from '../digest/digest.js';
import { ThreadLinker } from '../threads/model.js';
import { historyKeys } from './store.js';

/** Messages of the past the linker replays before the first unassigned one (its look-back window). */
export const WARMUP = 100;

/**
 * Assigns a conversation to every message (oldest first) and returns them with `thread` set. Work is bounded by the
 * new messages plus WARMUP: assignments are stored, so the next call only links what arrived since.
 */
export async function assignThreads(redis: Redis, keys: Keys, chat: string, messages: StoredMessage[], window = 50): Promise<StoredMessage[]> {
  if (!messages.length) return messages;
  const k = historyKeys(keys, chat);
  const stored = await redis.hmget(k.threads, ...messages.map((m) => m.id));
  const first = stored.findIndex((s) => s === null);
  if (first === -1) {
    messages.forEach((m, i) => (m.thread = stored[i]!.split('|')[1] ?? m.id));
    return messages;
  }
  const linker = new ThreadLinker({ window });
  for (let i = Math.max(0, first - WARMUP); i < first; i++) {
    const [parent] = stored[i]!.split('|');
    const m = messages[i]!;
    linker.observe(linker.prepare({ id: m.id, user: m.userName, text: m.text, at: m.at, ...(m.replyTo ? { replyTo: m.replyTo } : {}) }), parent || null);
  }
  const updates: string[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (i < first) {
      m.thread = stored[i]!.split('|')[1] ?? m.id;
      continue;
    }
    const r = linker.add({ id: m.id, user: m.userName, text: m.text, at: m.at, ...(m.replyTo ? { replyTo: m.replyTo } : {}) });
    m.thread = r.conversation;
    updates.push(m.id, `${r.parent ?? ''}|${r.conversation}`);
  }
  if (updates.length) await redis.multi().hset(k.threads, ...updates).expire(k.threads, 30 * 24 * 3600).exec();
  return messages;
}

/** Conversations of a window: each with its messages (deleted ones left out), largest first. */
export function groupThreads(messages: StoredMessage[]): { id: string; messages: StoredMessage[] }[] {
  const by = new Map<string, StoredMessage[]>();
  for (const m of messages) {
    if (m.deleted) continue;
    const id = m.thread ?? m.id;
    const list = by.get(id) ?? [];
    list.push(m);
    by.set(id, list);
  }
  return [...by].map(([id, msgs]) => ({ id, messages: msgs })).sort((a, b) => b.messages.length - a.messages.length);
}
