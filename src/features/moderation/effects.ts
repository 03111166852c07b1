/** What a moderation decision does: platform actions, the audit entry, the public tally, rate-limited notices and mod-log lines. */
import { platformOf, parseUserKey } from '../../core/ids.js';
import { auditInto, type AuditEntry } from '../../pipeline/audit.js';
import type { EventContext } from '../../pipeline/context.js';
import { dayOf, modKeys } from './keys.js';
import type { ModSettings } from './settings.js';
import { safeEcho, truncate } from './unicode.js';
import { capabilitiesOf, platformInfo, type ModerationVerb } from '../../platform/index.js';

/** Who automatic decisions are recorded as. */
export const AUTOMATIC = 'townhall';
/** At most one public notice of a kind per chat in this long: during a raid the bot must not become the spam. */
export const NOTICE_GAP_MS = 60_000;
/** At most this many lines per minute go to a mod-log chat; the audit stream keeps everything regardless. */
export const MODLOG_LINES_PER_MIN = 30;
/** How long the daily tally is kept. */
const TALLY_TTL_S = 3 * 86_400;

/** Whether the platform of the event lets the bot take this moderation step (registry capabilities). */
export function canModerate(ctx: EventContext, verb: ModerationVerb): boolean {
  return capabilitiesOf(ctx.event.platform).moderation.includes(verb);
}

/**
 * Whether the bot can remove messages where the event happened. On X it cannot (other people's posts are theirs):
 * there moderation only keeps spam out of the AMA queue and digests, and records why.
 */
export function canEnforce(ctx: EventContext): boolean {
  return canModerate(ctx, 'delete');
}

/** Mutes, bans, unmutes or unbans a user in the event's group, at moderation priority (capped at the platform's longest mute). */
export function restrict(ctx: EventContext, type: 'mute' | 'ban' | 'unmute' | 'unban', user: string, opts: { until?: number; reason?: string } = {}): void {
  const e = ctx.event;
  if (!canModerate(ctx, type === 'mute' || type === 'unmute' ? 'mute' : 'ban')) return;
  let until = opts.until;
  const maxMuteMs = platformInfo(e.platform).maxMuteMs;
  if (until !== undefined && maxMuteMs !== null) until = Math.min(until, ctx.deps.now() + maxMuteMs);
  ctx.act({
    type,
    platform: e.platform,
    chat: ctx.group,
    user,
    priority: 'moderation',
    ...(until !== undefined ? { until } : {}),
    ...(opts.reason ? { reason: truncate(safeEcho(opts.reason, 500), 500) } : {}),
  });
}

/** Deletes one message (in the chat or topic it was posted in). */
export function deleteMessage(ctx: EventContext, chat: string, messageId: string): void {
  if (!canEnforce(ctx)) return;
  ctx.act({ type: 'delete', platform: ctx.event.platform, chat, messageId, priority: 'moderation' });
}

/** Records an entry in the chat's audit log, committed with the event's other writes. */
export function audit(ctx: EventContext, entry: Omit<AuditEntry, 'chat' | 'at'> & { chat?: string }): void {
  const e = ctx.event;
  auditInto(ctx.writes, ctx.deps.keys, ctx.group, {
    chat: e.chat,
    at: ctx.deps.now(),
    ...entry,
    ...(entry.content !== undefined ? { content: truncate(entry.content, 2000) } : {}),
  });
}

/** Counts one hidden message or action in today's public tally (`/hidden`): categories only, never content. */
export function tally(ctx: EventContext, category: string, by = 1): void {
  const key = modKeys(ctx.deps.keys).hidden(ctx.group, dayOf(ctx.deps.now()));
  ctx.writes.hincrby(key, category, by).expire(key, TALLY_TTL_S);
}

/** Posts a public line in the chat unless one of the same kind went out within NOTICE_GAP_MS (any process). */
export async function notice(ctx: EventContext, kind: string, text: string): Promise<boolean> {
  if (!canEnforce(ctx)) return false; // a public post on X spends the post budget and feeds the spammer attention
  const won = await ctx.deps.redis.set(modKeys(ctx.deps.keys).notice(ctx.group, kind), '1', 'PX', NOTICE_GAP_MS, 'NX');
  if (won !== 'OK') return false;
  ctx.act({ type: 'send', platform: ctx.event.platform, chat: ctx.event.chat, text, format: 'plain', priority: 'command' });
  return true;
}

/** Sends one line to the chat's mod-log chat, when it has one, within MODLOG_LINES_PER_MIN. */
export async function modLogLine(ctx: EventContext, settings: ModSettings, line: string): Promise<void> {
  const target = settings.modLogChat;
  if (!target) return;
  const now = ctx.deps.now();
  const key = modKeys(ctx.deps.keys).logRate(target, Math.floor(now / 60_000));
  const [[, n]] = (await ctx.deps.redis.multi().incr(key).expire(key, 120).exec()) as [[null, number], unknown];
  if (n > MODLOG_LINES_PER_MIN) return;
  let platform;
  try {
    platform = platformOf(target);
  } catch {
    return;
  }
  const where = ctx.event.chat;
  ctx.act({ type: 'send', platform, chat: target, text: truncate(`[${where}] ${line}`, 600), format: 'plain', priority: 'digest' });
}

/** How a user is named in bot messages: `@username` when known and plain, else a cleaned display name, else the native id. */
export function labelOf(user: { id: string; name?: string | undefined; username?: string | undefined }): string {
  if (user.username && /^[A-Za-z0-9_.]{1,64}$/.test(user.username)) return `@${user.username}`;
  const name = user.name ? safeEcho(user.name, 48) : '';
  if (name) return name;
  try {
    return `user ${parseUserKey(user.id).userId}`;
  } catch {
    return 'a user';
  }
}
