/**
 * The protection hook: runs before the command router and every other feature on each event. One Redis call per
 * message (a script: policy version, role, flood counter, slow mode, cross-chat paste), pure checks after that; extra
 * round trips only when something is acted on. A removed message stops the pipeline (`ctx.stopped`, no `next()`).
 */
import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import { onceEvery } from '../../core/once-every.js';
import type { EventContext } from '../../pipeline/context.js';
import { evalCoalesced, evalScript } from '../../redis/scripts.js';
import type { Feature } from '../../pipeline/handle-event.js';
import { AUTOMATIC, audit, canEnforce, deleteMessage, labelOf, modLogLine, notice, restrict, tally } from './effects.js';
import { matchFilters } from './filters.js';
import { findImpersonation, type ImpersonationHit } from './impersonation.js';
import type { ModKeys } from './keys.js';
import type { ChatPolicy, PolicyCache } from './policy.js';
import { detectScam, extractHosts, SCAM_LABELS, type ScamHit } from './scam.js';
import { formatDuration } from './settings.js';
import { foldText, stripInvisible } from './unicode.js';
import { capabilitiesOf } from '../../platform/index.js';

/** Roles (in the `roles:<group>` hash) that make someone a moderator, as the router counts them. */
export const MODERATOR_ROLES = new Set(['admin', 'moderator', 'editor']);
/** The same text in this many chats within PASTE_WINDOW_MS is a cross-chat spam run. */
export const PASTE_CHATS = 3;
/** How long pastes are remembered. */
export const PASTE_WINDOW_MS = 15 * 60_000;
/** How many of a user's newest message ids are kept for deleting a whole flood. */
const RECENT_MAX = 50;
/** A user directory entry is rewritten by one process at most this often (its TTL is far longer). */
const DIRECTORY_REFRESH_MS = 10 * 60_000;
/** Directory entries (username -> id, id -> name) live this long after the user was last seen. */
const DIRECTORY_TTL_S = 30 * 86_400;

type Res = [Error | null, unknown][];

/**
 * The per-message Redis work as one script (an EVALSHA is one command for the client to encode, one for Redis to
 * parse; a pipeline of ten costs ten of each): policy version, role, flood counters (this bucket and the one before),
 * recent ids, slow-mode gate, paste hash. The key names are built here from KEYS[1], the deployment's prefix (it also
 * names the cluster slot every key shares), and the chat and user: key names were ~400 of the ~620 bytes this call
 * sent per message. They must stay equal to `modKeys` (keys.ts); a test in test/features/moderation/protection.test.ts checks it.
 * Messages under the flood limit are remembered in `recent`, so a detected flood is deleted whole (messages over the
 * limit are deleted as they come).
 * ARGV: group, user, flood bucket ('' = off), bucket before, counter TTL ms, flood limit, fraction of the window
 * gone, recent item ('' = none), slow-mode ms ('0' = off), chat, paste digest ('' = off), paste entry.
 */
const HOT_PATH_LUA = `
local P, group, user = KEYS[1], ARGV[1], ARGV[2]
local ver = redis.call('GET', P .. ':mod:ver:' .. group)
local role = redis.call('HGET', P .. ':roles:' .. group, user)
local cur, prev = 0, 0
if ARGV[3] ~= '' then
  local base = P .. ':mod:flood:' .. group .. ':' .. user .. ':'
  local k = base .. ARGV[3]
  cur = redis.call('INCR', k)
  if cur == 1 then redis.call('PEXPIRE', k, ARGV[5]) end
  prev = tonumber(redis.call('GET', base .. ARGV[4]) or '0')
  if ARGV[8] ~= '' and cur + prev * (1 - tonumber(ARGV[7])) <= tonumber(ARGV[6]) then
    local recent = P .. ':mod:recent:' .. group .. ':' .. user
    redis.call('LPUSH', recent, ARGV[8])
    redis.call('LTRIM', recent, 0, ${RECENT_MAX - 1})
    redis.call('PEXPIRE', recent, ARGV[5])
  end
end
local slow = 1
if ARGV[9] ~= '0' then
  if not redis.call('SET', P .. ':mod:slow:' .. ARGV[10] .. ':' .. user, '1', 'PX', ARGV[9], 'NX') then slow = 0 end
end
local paste = 0
if ARGV[11] ~= '' then
  local k = P .. ':mod:paste:' .. user .. ':' .. ARGV[11]
  redis.call('HSET', k, group, ARGV[12])
  redis.call('PEXPIRE', k, ${PASTE_WINDOW_MS})
  paste = redis.call('HLEN', k)
end
return {ver or false, role or false, cur, prev, slow, paste}
`;

/** Extends quiet mode to at least `ms` from now, never shortening a longer one (PEXPIRE GT needs Redis 7). */
const EXTEND_LUA = `
local t = redis.call('PTTL', KEYS[1])
if t >= 0 and t < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return t
`;

/** Runs the hot-path script: [version, role, flood count now, flood count before, slow-mode ok (1/0), chats the text was pasted into]. */
async function runHotPath(redis: Redis, keys: string[], args: string[]): Promise<[string | null, string | null, number, number, number, number]> {
  const [ver, role, cur, prev, slow, paste] = (await evalCoalesced(redis, HOT_PATH_LUA, keys, args)) as [string | null, string | null, number, number, number, number];
  return [ver ?? null, role ?? null, Number(cur), Number(prev), Number(slow), Number(paste)];
}

/** Builds the protection feature. */
export function createProtection(opts: { cache: PolicyCache; mk: ModKeys; now: () => number }): Feature {
  const { cache, mk } = opts;
  // Directory writes, at most once per DIRECTORY_REFRESH_MS per user and name per process: saves a write per message.
  const directoryDue = onceEvery(DIRECTORY_REFRESH_MS, opts.now);

  function recordUser(ctx: EventContext): void {
    const u = ctx.event.user;
    if (!directoryDue(`${u.id}\u0000${u.name}\u0000${u.username ?? ''}`)) return;
    const info = JSON.stringify({ name: u.name.slice(0, 128), ...(u.username ? { username: u.username.slice(0, 64) } : {}), ...(u.isBot ? { bot: true } : {}) });
    ctx.writes.set(mk.who(u.id), info, 'EX', DIRECTORY_TTL_S);
    if (u.username && /^[A-Za-z0-9_.]{1,64}$/.test(u.username)) ctx.writes.set(mk.username(ctx.event.platform, u.username), u.id, 'EX', DIRECTORY_TTL_S);
  }

  /** Keeps the chat's admin directory (for impersonation checks) in step with what the adapter reports. */
  function recordAdmin(ctx: EventContext, policy: ChatPolicy, isMod: boolean, role: string | null): void {
    const u = ctx.event.user;
    const known = policy.admins.get(u.id);
    const bump = (tx: ChainableCommander) => tx.incr(mk.version(ctx.group));
    if (isMod) {
      if (known && known.name === u.name && known.username === u.username) return;
      ctx.writes.hset(mk.admins(ctx.group), u.id, JSON.stringify({ name: u.name.slice(0, 128), ...(u.username ? { username: u.username.slice(0, 64) } : {}) }));
      bump(ctx.writes);
    } else if (known && u.isAdmin === false && !(role && MODERATOR_ROLES.has(role))) {
      ctx.writes.hdel(mk.admins(ctx.group), u.id);
      bump(ctx.writes);
    }
  }

  async function onMessage(ctx: EventContext, next: () => Promise<void>): Promise<void> {
    const e = ctx.event;
    const group = ctx.group;
    const redis = ctx.deps.redis;
    let policy = await cache.get(group);
    const s = policy.settings;
    const text = e.text ?? '';
    const isNew = e.kind !== 'edit';
    const clean = text ? stripInvisible(text) : '';
    const folded = text ? foldText(clean) : '';
    const hosts = text || e.links?.length ? extractHosts(clean, e.links ?? []) : [];

    const floodOn = isNew && s.flood.messages > 0;
    const windowMs = s.flood.seconds * 1000;
    const bucket = Math.floor(e.at / windowMs);
    const slowOn = isNew && policy.slowmodeSeconds > 0 && capabilitiesOf(e.platform).slowMode === 'enforced';
    // Only texts that carry a link or a handle are tracked across chats: "gm" is pasted everywhere honestly.
    const pasteOn = isNew && s.scam !== 'off' && folded.length >= 30 && (hosts.length > 0 || /@[a-z0-9_]{3,}/.test(folded)) && !!e.messageId;
    const digest = pasteOn ? createHash('sha1').update(folded).digest('hex').slice(0, 20) : '';

    // One round trip, one command: what the rest of the hook needs, and the counters it keeps.
    const frac = (e.at % windowMs) / windowMs;
    const [version, role, cur, prev, slowOk, pasteChats] = await runHotPath(
      redis,
      [ctx.deps.keys.prefix],
      [
        group,
        e.user.id,
        floodOn ? String(bucket) : '',
        String(bucket - 1),
        String(windowMs * 2),
        String(s.flood.messages),
        String(frac),
        floodOn && e.messageId ? `${e.chat}|${e.messageId}` : '',
        slowOn ? String(policy.slowmodeSeconds * 1000) : '0',
        e.chat,
        digest,
        pasteOn ? JSON.stringify({ chat: e.chat, messageId: e.messageId }) : '',
      ],
    );
    policy = await cache.current(group, version, policy);

    const isMod = e.user.isAdmin === true || (role !== null && MODERATOR_ROLES.has(role));
    ctx.moderator = isMod;
    recordUser(ctx);
    recordAdmin(ctx, policy, isMod, role);
    if (isMod) return next(); // moderators are not moderated automatically

    // Sliding-window estimate from two fixed buckets: a burst across a bucket edge still counts in full.
    const flood = floodOn ? cur + prev * (1 - frac) : 0;
    const slowBlocked = slowOn && slowOk === 0;

    if (floodOn && flood > policy.settings.flood.messages) return onFlood(ctx, policy, Math.ceil(flood), text);
    if (slowBlocked) {
      hide(ctx, 'slowmode', `slow mode: one message per ${policy.slowmodeSeconds}s`, text);
      return;
    }

    const imp = policy.settings.impersonation !== 'off' ? findImpersonation(e.user, policy.protected) : null;
    if (imp && (await onImpersonation(ctx, policy, imp, text))) return;

    if (policy.settings.scam !== 'off') {
      let hit: ScamHit | null = text || hosts.length ? detectScam({ folded, clean, hosts, allowlist: policy.settings.linkAllowlist }) : null;
      if (!hit && pasteChats >= PASTE_CHATS) hit = { kind: 'cross-chat-paste', reason: `the same text in ${pasteChats} chats within ${PASTE_WINDOW_MS / 60_000} minutes` };
      if (hit) return onScam(ctx, policy, hit, text, digest);
    }

    if (text && (policy.filters.words.length || policy.filters.regexes.length)) {
      const f = matchFilters(policy.filters, { folded, clean });
      if (f) {
        hide(ctx, 'filter', `filter: ${f.label}`, text, { meta: { filter: f.id } });
        await modLogLine(ctx, policy.settings, `removed a message from ${labelOf(e.user)} (${e.user.id}): filter ${f.label}`);
        return;
      }
    }
    return next();
  }

  /** Deletes the event's message, records why, counts it in the tally, and stops the pipeline. */
  function hide(ctx: EventContext, category: string, reason: string, content: string, opts: { meta?: Record<string, string | number | boolean> } = {}): void {
    const e = ctx.event;
    ctx.stopped = true;
    if (e.messageId) deleteMessage(ctx, e.chat, e.messageId);
    audit(ctx, { action: 'delete', by: AUTOMATIC, target: e.user.id, reason, content, meta: { rule: category, kind: e.kind, ...(e.messageId ? { messageId: e.messageId } : {}), ...opts.meta } });
    tally(ctx, `msg:${category}`);
  }

  async function onFlood(ctx: EventContext, policy: ChatPolicy, count: number, text: string): Promise<void> {
    const e = ctx.event;
    const s = policy.settings;
    const reason = `flood: ${count} messages in ${s.flood.seconds}s (limit ${s.flood.messages})`;
    hide(ctx, 'flood', reason, text);
    const recentKey = mk.recent(ctx.group, e.user.id);
    const [[, first], [, recent]] = (await ctx.deps.redis
      .multi()
      .set(mk.flooded(ctx.group, e.user.id), '1', 'PX', Math.max(s.flood.muteMs, s.flood.seconds * 1000), 'NX')
      .lrange(recentKey, '0', '-1')
      .exec()) as [[null, string | null], [null, string[]]];
    // The whole flood goes, not only what came after the limit.
    const byChat = new Map<string, string[]>();
    for (const item of recent) {
      const at = item.lastIndexOf('|');
      const chat = item.slice(0, at);
      const id = item.slice(at + 1);
      if (chat && id && id !== e.messageId) byChat.set(chat, [...(byChat.get(chat) ?? []), id]);
    }
    if (canEnforce(ctx)) for (const [chat, ids] of byChat) ctx.act({ type: 'purge', platform: e.platform, chat, messageIds: ids, count: ids.length, priority: 'moderation' });
    if (recent.length) ctx.writes.del(recentKey);
    if (first !== 'OK') return; // already muted for this flood: only delete
    const until = ctx.deps.now() + s.flood.muteMs;
    restrict(ctx, 'mute', e.user.id, { until, reason });
    audit(ctx, { action: 'mute', by: AUTOMATIC, target: e.user.id, reason, meta: { until, rule: 'flood' } });
    tally(ctx, 'act:mute');
    await notice(ctx, 'flood', `Muted ${labelOf(e.user)} for ${formatDuration(s.flood.muteMs)}: flooding.`);
    await modLogLine(ctx, s, `muted ${labelOf(e.user)} (${e.user.id}) for ${formatDuration(s.flood.muteMs)}: ${reason}`);
  }

  /** Returns true when the event was removed (the caller stops). */
  async function onImpersonation(ctx: EventContext, policy: ChatPolicy, hit: ImpersonationHit, text: string): Promise<boolean> {
    const e = ctx.event;
    const action = policy.settings.impersonation;
    const first = (await ctx.deps.redis.set(mk.flagged(ctx.group, e.user.id, hit.skel.slice(0, 64)), '1', 'EX', 86_400, 'NX')) === 'OK';
    if (first) {
      audit(ctx, { action: 'flag', by: AUTOMATIC, target: e.user.id, reason: `impersonation: ${hit.reason}`, content: `${e.user.name}${e.user.username ? ` @${e.user.username}` : ''}`, meta: { rule: 'impersonation', imitates: hit.owner } });
      await modLogLine(ctx, policy.settings, `flagged ${labelOf(e.user)} (${e.user.id}): ${hit.reason}`);
    }
    if (action === 'flag') return false;
    if (e.kind !== 'join') hide(ctx, 'impersonation', `impersonation: ${hit.reason}`, text);
    else ctx.stopped = true;
    if (action === 'mute' || action === 'ban') {
      if (!first && e.kind !== 'join') return true; // already restricted when first seen; this message slipped through
      const reason = `impersonating ${hit.owner === 'bot' ? 'the bot' : 'an admin'}`;
      const until = action === 'mute' ? ctx.deps.now() + policy.settings.warnings.muteMs : undefined;
      restrict(ctx, action, e.user.id, { reason, ...(until ? { until } : {}) });
      audit(ctx, { action, by: AUTOMATIC, target: e.user.id, reason: `impersonation: ${hit.reason}`, meta: { rule: 'impersonation', ...(until ? { until } : {}) } });
      tally(ctx, `act:${action}`);
      await notice(ctx, 'impersonation', `Removed ${labelOf(e.user)}: impersonating ${hit.owner === 'bot' ? 'Townhall' : `admin ${hit.imitates}`}. Admins never DM you first.`);
    }
    return true;
  }

  async function onScam(ctx: EventContext, policy: ChatPolicy, hit: ScamHit, text: string, digest: string): Promise<void> {
    const e = ctx.event;
    const s = policy.settings;
    const reason = `scam (${hit.kind}): ${hit.reason}`;
    hide(ctx, 'scam', reason, text, { meta: { scam: hit.kind } });
    if (hit.kind === 'cross-chat-paste' && digest) {
      // Every copy goes, in every chat it was pasted into.
      const copies = await ctx.deps.redis.hgetall(mk.paste(e.user.id, digest));
      for (const json of Object.values(copies)) {
        try {
          const c = JSON.parse(json) as { chat: string; messageId: string };
          if (c.messageId !== e.messageId && c.chat.startsWith(`${e.platform}:`)) deleteMessage(ctx, c.chat, c.messageId);
        } catch {
          // ignore a corrupt entry
        }
      }
    }
    // Each scam counts as a warning, so repeat offenders are muted by the usual escalation.
    const warned = await addWarning(ctx, mk, e.user.id, s);
    const action = s.scam === 'delete' && warned.escalate ? 'mute' : s.scam;
    if (action === 'mute' || action === 'ban') {
      const muteMs = s.warnings.muteMs;
      const until = action === 'mute' ? ctx.deps.now() + muteMs : undefined;
      restrict(ctx, action, e.user.id, { reason: `scam: ${SCAM_LABELS[hit.kind]}`, ...(until ? { until } : {}) });
      audit(ctx, { action, by: AUTOMATIC, target: e.user.id, reason, meta: { rule: 'scam', warnings: warned.count, ...(until ? { until } : {}) } });
      tally(ctx, `act:${action}`);
    } else {
      audit(ctx, { action: 'warn', by: AUTOMATIC, target: e.user.id, reason, meta: { rule: 'scam', warnings: warned.count, max: s.warnings.max, event: e.id } });
      tally(ctx, 'act:warn');
    }
    await notice(ctx, `scam`, `Removed a message from ${labelOf(e.user)}: ${SCAM_LABELS[hit.kind]}. Admins never DM you first or ask for your seed phrase.`);
    await modLogLine(ctx, s, `removed a message from ${labelOf(e.user)} (${e.user.id}): ${reason}${action === 'mute' || action === 'ban' ? ` — ${action}d` : ''}`);
  }

  async function onJoin(ctx: EventContext, next: () => Promise<void>): Promise<void> {
    const e = ctx.event;
    const group = ctx.group;
    const redis = ctx.deps.redis;
    let policy = await cache.get(group);
    const raid = policy.settings.raid;
    const raidOn = raid.joins > 0;
    const windowMs = raid.seconds * 1000;
    // A transaction, so that concurrent joins each see a count that includes exactly the joins before them.
    const p = redis.multi();
    p.get(mk.version(group)).hget(mk.roles(group), e.user.id).get(mk.quiet(group));
    if (raidOn) {
      const k = mk.joins(group);
      // Member = user id: leaving and re-joining does not inflate the count.
      p.zadd(k, e.at, e.user.id).zremrangebyscore(k, '-inf', e.at - windowMs).zcard(k).pexpire(k, windowMs * 2);
    }
    const res = (await p.exec()) as Res | null;
    if (!res) throw new Error('join transaction aborted');
    for (const [err] of res) if (err) throw err;
    policy = await cache.current(group, res[0]![1] as string | null, policy);
    const role = res[1]![1] as string | null;
    const isMod = e.user.isAdmin === true || (role !== null && MODERATOR_ROLES.has(role));
    ctx.moderator = isMod;
    recordUser(ctx);
    if (isMod) return next();
    let quiet = res[2]![1] !== null;
    const joins = raidOn ? Number(res[5]![1]) : 0;
    const s = policy.settings;

    if (raidOn && joins >= raid.joins) {
      const until = ctx.deps.now() + raid.quietMs;
      const value = JSON.stringify({ by: AUTOMATIC, until, reason: `raid: ${joins} joins in ${raid.seconds}s` });
      const won = quiet ? null : await redis.set(mk.quiet(group), value, 'PX', raid.quietMs, 'NX');
      if (won === 'OK') {
        // This process turned quiet mode on: it alone announces it and mutes the burst so far.
        const burst = await redis.zrange(mk.joins(group), '0', '-1');
        for (const uid of burst) if (!policy.admins.has(uid)) restrict(ctx, 'mute', uid, { until, reason: 'raid: quiet mode' });
        audit(ctx, { action: 'quiet', by: AUTOMATIC, reason: `raid: ${joins} joins in ${raid.seconds}s`, meta: { on: true, until, muted: burst.length } });
        tally(ctx, 'act:quiet-mute', burst.length);
        await notice(ctx, 'raid', `Raid detected (${joins} joins in ${raid.seconds}s): quiet mode is on for ${formatDuration(raid.quietMs)}. New members are muted until it ends; moderators can lift it with /quiet off.`);
        await modLogLine(ctx, s, `quiet mode on: ${joins} joins in ${raid.seconds}s; muted ${burst.length} new members`);
        ctx.stopped = true;
        return;
      }
      // The raid goes on: keep quiet mode on while joins keep coming (never shortening a longer manual quiet).
      await evalScript(redis, EXTEND_LUA, [mk.quiet(group)], [String(raid.quietMs)]);
      quiet = true;
    }

    if (quiet) {
      const until = ctx.deps.now() + raid.quietMs;
      restrict(ctx, 'mute', e.user.id, { until, reason: 'quiet mode' });
      audit(ctx, { action: 'mute', by: AUTOMATIC, target: e.user.id, reason: 'quiet mode: new members are muted', meta: { until, rule: 'quiet' } });
      tally(ctx, 'act:quiet-mute');
      ctx.stopped = true; // no welcome, nothing else: the bot must not add to a raid
      return;
    }

    const imp = s.impersonation !== 'off' ? findImpersonation(e.user, policy.protected) : null;
    if (imp && (await onImpersonation(ctx, policy, imp, ''))) return;
    return next();
  }

  return {
    name: 'moderation',
    middleware: async (ctx, next) => {
      const e = ctx.event;
      if (e.source === 'import' || e.chatType === 'private' || e.user.isBot) return next();
      if (e.kind === 'join') return onJoin(ctx, next);
      if (e.kind === 'message' || e.kind === 'edit' || e.kind === 'command') return onMessage(ctx, next);
      return next();
    },
  };
}

/** Adds a warning (idempotent per event); `escalate` when it reached the chat's maximum (the count then starts over). */
export async function addWarning(ctx: EventContext, mk: ModKeys, user: string, s: { warnings: { max: number } }): Promise<{ count: number; escalate: boolean }> {
  const k = mk.warns(ctx.group, user);
  const res = (await ctx.deps.redis.multi().sadd(k, ctx.event.id).scard(k).expire(k, 30 * 86_400).exec()) as [[null, number], [null, number], unknown];
  const count = res[1][1];
  if (count >= s.warnings.max) {
    ctx.writes.del(k);
    return { count, escalate: true };
  }
  return { count, escalate: false };
}
