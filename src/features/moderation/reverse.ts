/** Reading the audit log with paging, and reversing a ban, mute or warning from it (chat command and HTTP API share this). */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ActionInput } from '../../core/actions.js';
import { baseChat, platformOf } from '../../core/ids.js';
import { auditInto, type AuditEntry, type StoredAuditEntry } from '../../pipeline/audit.js';
import type { CoreDeps } from '../../pipeline/context.js';
import type { Keys } from '../../redis/keys.js';
import { modKeys } from './keys.js';
import { isUserId } from '../../platform/index.js';

/** The stream a group's entries live in (`_all` for every chat's). */
export function auditStream(group: string | undefined): string {
  return group ?? '_all';
}

/** An entry's identity across both streams: each entry is written to its chat's stream and to `_all` with different ids but the same text. */
export function entryDigest(json: string): string {
  return createHash('sha1').update(json).digest('hex').slice(0, 24);
}

/** An audit entry as the API shows it: with whether it can still be reversed. */
export type ListedEntry = StoredAuditEntry & { reversible: boolean; reversed: boolean };

/** Newest entries first, `limit` of them, older than `before` (a stream id) when given. */
export async function listAudit(redis: Redis, keys: Keys, group: string | undefined, opts: { limit?: number; before?: string } = {}): Promise<ListedEntry[]> {
  const stream = auditStream(group);
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 500);
  const end = opts.before ? `(${opts.before}` : '+';
  const rows = await redis.xrevrange(keys.k('modlog', stream), end, '-', 'COUNT', limit);
  const entries: StoredAuditEntry[] = [];
  const digests: string[] = [];
  for (const [id, f] of rows) {
    try {
      entries.push({ id, ...(JSON.parse(f[1] ?? '{}') as AuditEntry) });
      digests.push(entryDigest(f[1] ?? ''));
    } catch {
      // skip a corrupt entry rather than fail the whole page
    }
  }
  const reversed = entries.length ? await redis.smismember(modKeys(keys).reversed(), ...digests) : [];
  return entries.map((e, i) => ({ ...e, reversed: reversed[i] === 1, reversible: reversed[i] !== 1 && reversalOf(e) !== null }));
}

/** What undoes an entry: unban for a ban, unmute for a mute, unwarn for a warning (that names the event that gave it); null for anything else. */
export function reversalOf(e: AuditEntry): { type: 'unban' | 'unmute' | 'unwarn'; user: string } | null {
  if (!e.target || !isUserId(e.target)) return null;
  if (e.action === 'ban') return { type: 'unban', user: e.target };
  if (e.action === 'mute') return { type: 'unmute', user: e.target };
  // Warnings are kept as the set of events that gave them; entries written before they named it cannot say which.
  if (e.action === 'warn' && typeof e.meta?.event === 'string') return { type: 'unwarn', user: e.target };
  return null;
}

/** What reverseEntry did, or why it did not. */
export type ReverseResult = { ok: true; entry: StoredAuditEntry; type: 'unban' | 'unmute' | 'unwarn' } | { ok: false; reason: string; status: 400 | 404 | 409 };

/**
 * Reverses a ban or mute recorded in the log: enqueues the unban/unmute (with an id derived from the entry, so a
 * repeated request sends nothing twice) and records who reversed it. Each entry is reversed once, whichever stream it is reached through.
 */
export async function reverseEntry(deps: Pick<CoreDeps, 'redis' | 'keys' | 'outbound' | 'now'>, opts: { group?: string | undefined; id: string; by: string }): Promise<ReverseResult> {
  const { redis, keys } = deps;
  if (!/^\d{1,20}-\d{1,10}$/.test(opts.id)) return { ok: false, reason: 'not a log entry id (they look like 1732600000000-0)', status: 400 };
  const stream = auditStream(opts.group);
  const rows = await redis.xrange(keys.k('modlog', stream), opts.id, opts.id, 'COUNT', 1);
  const row = rows[0];
  if (!row) return { ok: false, reason: `no log entry ${opts.id}${opts.group ? ' in this chat' : ''}`, status: 404 };
  const json = row[1][1] ?? '{}';
  const entry: StoredAuditEntry = { id: row[0], ...(JSON.parse(json) as AuditEntry) };
  const plan = reversalOf(entry);
  if (!plan) return { ok: false, reason: `a ${entry.action} cannot be reversed (only bans, mutes and warnings)`, status: 400 };
  const digest = entryDigest(json);
  const reversedKey = modKeys(keys).reversed();
  if ((await redis.sadd(reversedKey, digest)) === 0) return { ok: false, reason: `entry ${entry.id} was already reversed`, status: 409 };
  const group = baseChat(entry.chat);
  if (plan.type === 'unwarn') {
    // Nothing to tell the platform: the warning no longer counts toward the chat's mute-after-N.
    const tx = redis.multi().srem(modKeys(keys).warns(group, plan.user), String(entry.meta!.event));
    auditInto(tx, keys, group, { action: 'unwarn', by: opts.by, target: plan.user, chat: entry.chat, reason: `reverses warn ${entry.id}`, meta: { reverses: entry.id }, at: deps.now() });
    await tx.exec();
    return { ok: true, entry, type: 'unwarn' };
  }
  const action: ActionInput = {
    v: 1,
    id: `undo/${digest}`,
    type: plan.type,
    platform: platformOf(entry.chat),
    chat: group,
    user: plan.user,
    reason: `reverses log entry ${entry.id}`,
    priority: 'moderation',
  };
  try {
    await deps.outbound.enqueue([action]);
  } catch (err) {
    await redis.srem(reversedKey, digest); // not done: let a retry claim it again
    throw err;
  }
  const tx = redis.multi();
  auditInto(tx, keys, group, { action: plan.type, by: opts.by, target: plan.user, chat: entry.chat, reason: `reverses ${entry.action} ${entry.id}`, meta: { reverses: entry.id }, at: deps.now() });
  await tx.exec();
  return { ok: true, entry, type: plan.type };
}
