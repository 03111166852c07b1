/** Chat history in Redis for threads and digests: a capped list per chat, plus deletions, edits and reactions. */
import type { ChainableCommander, Redis } from 'ioredis';
import type { ChatEvent } from '../../core/events.js';
import { platformOf } from '../../core/ids.js';
import type { Keys } from '../../redis/keys.js';
import { scanPages } from '../../redis/scan.js';
import type { StoredMessage } from '../digest/digest.js';

/** The compact form kept per message (short field names: this is most of Redis's memory). */
interface Entry {
  i: string;
  u: string;
  n: string;
  t: string;
  a: number;
  r?: string;
  /** Written by earlier versions: the message was a question (now decided when read). */
  q?: 1;
  l?: string;
  m?: 1;
  w?: string;
}

/** Keys of one chat's history. */
export function historyKeys(keys: Keys, chat: string) {
  return {
    list: keys.k('hist', chat),
    deleted: keys.k('hist', chat, 'del'),
    edits: keys.k('hist', chat, 'edit'),
    reactions: keys.k('hist', chat, 'react'),
    threads: keys.k('hist', chat, 'thr'),
    lastSeen: keys.k('hist', chat, 'seen'),
    /** Held (2 min at most) by the one process pruning the side tables. */
    pruning: keys.k('hist', chat, 'pruning'),
  };
}

/** Retention of a chat's history. */
export interface Retention {
  maxMessages: number;
  maxAgeMs: number;
}

/**
 * Appends a message to its chat's history inside the event's transaction; O(1) per message. `trim` (default on)
 * cuts the list back to the cap; `refresh` (default on) renews its expiry and the chat's place in the chat index. A
 * busy chat needs those once in a while, not per message (see `createHistory`).
 */
export function recordMessage(tx: ChainableCommander, keys: Keys, e: ChatEvent, retention: Retention, refresh = true, trim = true): void {
  if (!e.messageId || !e.text) return;
  const k = historyKeys(keys, e.chat);
  const entry: Entry = { i: e.messageId, u: e.user.id, n: e.user.name.slice(0, 64), t: e.text.slice(0, 4000), a: e.at };
  if (e.replyTo) entry.r = e.replyTo;
  if (e.user.lang) entry.l = e.user.lang.slice(0, 8);
  if (e.user.isAdmin) entry.m = 1;
  if (e.url) entry.w = e.url;
  tx.rpush(k.list, JSON.stringify(entry));
  // Trim by count on write (cheap: Redis drops from the head); age is trimmed when the history is read.
  if (trim) tx.ltrim(k.list, -retention.maxMessages, -1);
  if (!refresh) return;
  tx.pexpire(k.list, retention.maxAgeMs);
  tx.zadd(keys.k('chats'), e.at, e.chat);
}

/** Records a deletion so the message never appears in a digest. */
export function recordDeletion(tx: ChainableCommander, keys: Keys, chat: string, messageId: string, retention: Retention): void {
  const k = historyKeys(keys, chat);
  tx.sadd(k.deleted, messageId).pexpire(k.deleted, retention.maxAgeMs);
}

/** Records an edit's new text. */
export function recordEdit(tx: ChainableCommander, keys: Keys, chat: string, messageId: string, text: string, retention: Retention): void {
  const k = historyKeys(keys, chat);
  tx.hset(k.edits, messageId, text.slice(0, 4000)).pexpire(k.edits, retention.maxAgeMs);
}

/** Counts a reaction on a message (or takes one away). */
export function recordReaction(tx: ChainableCommander, keys: Keys, chat: string, messageId: string, added: boolean, retention: Retention): void {
  const k = historyKeys(keys, chat);
  tx.hincrby(k.reactions, messageId, added ? 1 : -1).pexpire(k.reactions, retention.maxAgeMs);
}

/**
 * The side tables (thread links, edits, reactions, deletions) are keyed by message id and, in a chat that stays
 * active, never expire — while the list they annotate is capped. This drops every id the list no longer holds, so
 * they stay as bounded as the list. One read of the list and a SCAN of each table (pages of 1,000): O(list), run
 * rarely (`sideTablesOverdue`). Returns how many entries went. Something that arrives during the prune for a message
 * newer than the snapshot can be dropped with it: a link is then made again, a reaction count starts over.
 */
export async function pruneSideTables(redis: Redis, keys: Keys, chat: string): Promise<number> {
  const k = historyKeys(keys, chat);
  const kept = new Set<string>();
  for (const line of await redis.lrange(k.list, '0', '-1')) {
    try {
      kept.add((JSON.parse(line) as Entry).i);
    } catch {
      // a corrupt entry annotates nothing
    }
  }
  let removed = 0;
  for (const key of [k.threads, k.edits, k.reactions]) {
    await scanPages(
      (cursor) => redis.hscan(key, cursor, 'COUNT', 1000),
      async (flat) => {
        const gone = flat.filter((field, i) => i % 2 === 0 && !kept.has(field)); // [field, value, field, value, …]
        if (gone.length) removed += await redis.hdel(key, ...gone);
      },
    );
  }
  await scanPages(
    (cursor) => redis.sscan(k.deleted, cursor, 'COUNT', 1000),
    async (members) => {
      const gone = members.filter((m) => !kept.has(m));
      if (gone.length) removed += await redis.srem(k.deleted, ...gone);
    },
  );
  return removed;
}

/** True when a side table holds clearly more ids than the list (five O(1) commands): time to prune. */
export async function sideTablesOverdue(redis: Redis, keys: Keys, chat: string): Promise<boolean> {
  const k = historyKeys(keys, chat);
  const res = (await redis.multi().llen(k.list).hlen(k.threads).hlen(k.edits).hlen(k.reactions).scard(k.deleted).exec()) ?? [];
  const [len = 0, ...sides] = res.map(([, n]) => Number(n ?? 0));
  const limit = len + Math.max(100, len / 2);
  return sides.some((n) => n > limit);
}

/** The messages of a chat in [from, to), oldest first, with edits applied and deletions marked. */
export async function readHistory(redis: Redis, keys: Keys, chat: string, from: number, to: number, cap = 50_000): Promise<StoredMessage[]> {
  const k = historyKeys(keys, chat);
  const [[, raw], [, deleted], [, edits], [, reactions]] = (await redis
    .multi()
    .lrange(k.list, String(-cap), '-1')
    .smembers(k.deleted)
    .hgetall(k.edits)
    .hgetall(k.reactions)
    .exec()) as [[null, string[]], [null, string[]], [null, Record<string, string>], [null, Record<string, string>]];
  const del = new Set(deleted);
  const platform = platformOf(chat);
  const out: StoredMessage[] = [];
  for (const line of raw) {
    const e = JSON.parse(line) as Entry;
    if (e.a < from || e.a >= to) continue;
    const m: StoredMessage = { id: e.i, chat, platform, user: e.u, userName: e.n, text: edits[e.i] ?? e.t, at: e.a };
    if (e.r) m.replyTo = e.r;
    if (e.q) m.isQuestion = true;
    if (e.l) m.lang = e.l;
    if (e.m) m.isAdmin = true;
    if (e.w) m.url = e.w;
    if (del.has(e.i)) m.deleted = true;
    const r = Number(reactions[e.i] ?? 0);
    if (r > 0) m.reactions = r;
    out.push(m);
  }
  return out;
}

/** Drops entries older than the retention age from the head of the list (called off the hot path). */
export async function trimByAge(redis: Redis, keys: Keys, chat: string, maxAgeMs: number, now: number): Promise<number> {
  const k = historyKeys(keys, chat);
  let dropped = 0;
  for (;;) {
    const head = await redis.lrange(k.list, '0', '99');
    const old = head.findIndex((l) => (JSON.parse(l) as Entry).a >= now - maxAgeMs);
    const n = old === -1 ? head.length : old;
    if (n === 0) return dropped;
    await redis.ltrim(k.list, String(n), '-1');
    dropped += n;
    if (n < 100) return dropped;
  }
}
