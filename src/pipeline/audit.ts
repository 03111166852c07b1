/** The audit (mod) log: every moderation decision and refused attempt, in Redis streams per chat and overall. */
import type { ChainableCommander, Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';

/** How many entries each stream keeps. */
export const AUDIT_MAX = 50_000;

/** One audit entry. */
export interface AuditEntry {
  /** What happened: ban, unban, mute, unmute, warn, delete, purge, refused, quiet, filter, flag, … */
  action: string;
  /** Prefixed id of who did it, or `townhall` for automatic decisions. */
  by: string;
  /** Prefixed user id acted on, when any. */
  target?: string;
  /** Prefixed chat id where it happened. */
  chat: string;
  reason?: string;
  /** The message content that triggered it (kept for moderators; never shown in public tallies). */
  content?: string;
  /** Extra fields (duration, rule name, message id). */
  meta?: Record<string, string | number | boolean>;
  at: number;
}

/** A stored audit entry with its stream id. */
export type StoredAuditEntry = AuditEntry & { id: string };

/** Adds an entry to both streams inside an existing transaction (so it commits with the event's other writes). */
export function auditInto(tx: ChainableCommander, keys: Keys, group: string, e: AuditEntry): void {
  const fields = ['json', JSON.stringify({ ...e, content: e.content?.slice(0, 2000) })];
  tx.xadd(keys.k('modlog', group), 'MAXLEN', '~', AUDIT_MAX, '*', ...fields);
  tx.xadd(keys.k('modlog', '_all'), 'MAXLEN', '~', AUDIT_MAX, '*', ...fields);
}

/** Reads the newest entries of a chat's log (or every chat's when `group` is omitted), newest first. */
export async function readAudit(redis: Redis, keys: Keys, group?: string, limit = 50): Promise<StoredAuditEntry[]> {
  const rows = await redis.xrevrange(keys.k('modlog', group ?? '_all'), '+', '-', 'COUNT', limit);
  return rows.map(([id, f]) => ({ id, ...(JSON.parse(f[1] ?? '{}') as AuditEntry) }));
}
