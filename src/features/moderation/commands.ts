/** Moderator commands (contract §5) and the public `/hidden` tally; the router checks permissions before `run`. */
import type { CommandSpec } from '../../commands/router.js';
import { parseDuration } from '../../commands/parser.js';
import { needArgs } from '../../commands/router.js';
import { UserError } from '../../core/errors.js';
import type { EventContext } from '../../pipeline/context.js';
import { AUTOMATIC, audit, canModerate, deleteMessage, labelOf, modLogLine, restrict, tally } from './effects.js';
import { filterId, MAX_FILTERS, parseFilterArg, regexSizeWith, type FilterRecord } from './filters.js';
import { addWarning } from './hook.js';
import { dayOf, type ModKeys } from './keys.js';
import type { PolicyCache } from './policy.js';
import { listAudit, reverseEntry } from './reverse.js';
import { MAX_SET_SIZE, validatePattern } from './safe-regex.js';
import { checkSetting, describeSettings, formatDuration, isSettingKey, SETTING_SCHEMAS } from './settings.js';
import { checkActionable, takeTarget } from './targets.js';
import { safeEcho, truncate } from './unicode.js';
import { capabilitiesOf, platformInfo, type ModerationVerb } from '../../platform/index.js';

/** Most messages one /purge deletes. */
export const MAX_PURGE = 500;

/** What the command builders share. */
interface Ctx {
  mk: ModKeys;
  cache: PolicyCache;
}

function reasonOf(rest: string[]): string {
  return rest.join(' ').trim().slice(0, 500);
}

/** What a moderation verb means on the event's platform, or why it is missing there (the registry's few words). */
function verbNote(ctx: EventContext, verb: ModerationVerb): string | undefined {
  return platformInfo(ctx.event.platform).moderationNotes?.[verb];
}

/** Refuses, in one line, a moderation step the event's platform does not give bots. */
function needVerb(ctx: EventContext, verb: ModerationVerb, what: string): void {
  if (canModerate(ctx, verb)) return;
  const note = verbNote(ctx, verb);
  throw new UserError('unsupported', `${what} is not available on ${platformInfo(ctx.event.platform).name}${note ? `: ${note}` : ''}.`);
}

/** Bumps the chat's policy version so every process reloads it, and drops this process's copy now. */
function changed(ctx: EventContext, c: Ctx): void {
  ctx.writes.incr(c.mk.version(ctx.group));
  c.cache.forget(ctx.group);
}

/** Builds the moderation commands. */
export function moderationCommands(c: Ctx): CommandSpec[] {
  const { mk, cache } = c;

  const ban: CommandSpec = {
    name: 'ban',
    usage: '/ban <user> [reason]',
    description: 'ban a member (reply, @username or id)',
    permission: 'moderator',
    run: async (ctx, cmd) => {
      needVerb(ctx, 'ban', 'Banning');
      const e = ctx.event;
      const { target: t, rest } = await takeTarget(ctx, mk, cmd.args, ban.usage);
      const target = await checkActionable(ctx, mk, t, 'ban');
      const reason = reasonOf(rest);
      restrict(ctx, 'ban', target.id, { reason: reason || `banned by ${e.user.id}` });
      if (target.via === 'reply' && e.replyTo) deleteMessage(ctx, e.chat, e.replyTo);
      audit(ctx, { action: 'ban', by: e.user.id, target: target.id, reason: reason || 'no reason given', content: e.text ?? '', meta: target.via === 'reply' && e.replyTo ? { messageId: e.replyTo } : {} });
      tally(ctx, 'act:ban');
      const policy = await cache.get(ctx.group);
      await modLogLine(ctx, policy.settings, `${labelOf(e.user)} banned ${target.label} (${target.id})${reason ? `: ${safeEcho(reason, 200)}` : ''}`);
      const note = verbNote(ctx, 'ban');
      ctx.reply(`Banned ${target.label}${reason ? `: ${safeEcho(reason, 200)}` : ''}.${note ? ` Note: ${note}.` : ''}`);
    },
  };

  const unban: CommandSpec = {
    name: 'unban',
    usage: '/unban <user>',
    description: 'lift a ban',
    permission: 'moderator',
    run: async (ctx, cmd) => {
      needVerb(ctx, 'ban', 'Banning');
      const e = ctx.event;
      const { target: t } = await takeTarget(ctx, mk, cmd.args, unban.usage);
      const label = await labelFor(ctx, c, t.id);
      restrict(ctx, 'unban', t.id);
      audit(ctx, { action: 'unban', by: e.user.id, target: t.id, content: e.text ?? '' });
      ctx.reply(`Unbanned ${label}.`);
    },
  };

  const mute: CommandSpec = {
    name: 'mute',
    usage: '/mute <user> <duration> [reason]',
    description: 'mute a member for a while (10m, 2h, 1d)',
    permission: 'moderator',
    run: async (ctx, cmd) => {
      needVerb(ctx, 'mute', 'Muting');
      const e = ctx.event;
      const { target: t, rest } = await takeTarget(ctx, mk, cmd.args, mute.usage);
      const ms = rest[0] ? parseDuration(rest[0]) : null;
      if (ms === null) throw new UserError('usage', `Usage: ${mute.usage} (a duration like 10m, 2h or 1d)`);
      const target = await checkActionable(ctx, mk, t, 'mute');
      const reason = reasonOf(rest.slice(1));
      const until = ctx.deps.now() + ms;
      restrict(ctx, 'mute', target.id, { until, reason: reason || `muted by ${e.user.id}` });
      audit(ctx, { action: 'mute', by: e.user.id, target: target.id, reason: reason || 'no reason given', content: e.text ?? '', meta: { until, durationMs: ms } });
      tally(ctx, 'act:mute');
      const policy = await cache.get(ctx.group);
      await modLogLine(ctx, policy.settings, `${labelOf(e.user)} muted ${target.label} (${target.id}) for ${formatDuration(ms)}${reason ? `: ${safeEcho(reason, 200)}` : ''}`);
      const { name, maxMuteMs } = platformInfo(e.platform);
      const capped = maxMuteMs !== null && ms > maxMuteMs ? ` (${name} caps timeouts at ${formatDuration(maxMuteMs)})` : '';
      ctx.reply(`Muted ${target.label} for ${formatDuration(ms)}${capped}${reason ? `: ${safeEcho(reason, 200)}` : ''}.`);
    },
  };

  const unmute: CommandSpec = {
    name: 'unmute',
    usage: '/unmute <user>',
    description: 'lift a mute',
    permission: 'moderator',
    run: async (ctx, cmd) => {
      needVerb(ctx, 'mute', 'Muting');
      const e = ctx.event;
      const { target: t } = await takeTarget(ctx, mk, cmd.args, unmute.usage);
      const label = await labelFor(ctx, c, t.id);
      restrict(ctx, 'unmute', t.id);
      ctx.writes.del(mk.flooded(ctx.group, t.id));
      audit(ctx, { action: 'unmute', by: e.user.id, target: t.id, content: e.text ?? '' });
      ctx.reply(`Unmuted ${label}.`);
    },
  };

  const warn: CommandSpec = {
    name: 'warn',
    usage: '/warn <user> [reason]',
    description: 'warn a member; too many warnings mute them',
    permission: 'moderator',
    run: async (ctx, cmd) => {
      const e = ctx.event;
      const { target: t, rest } = await takeTarget(ctx, mk, cmd.args, warn.usage);
      const target = await checkActionable(ctx, mk, t, 'warn');
      const reason = reasonOf(rest);
      const s = (await cache.get(ctx.group)).settings;
      const w = await addWarning(ctx, mk, target.id, s);
      audit(ctx, { action: 'warn', by: e.user.id, target: target.id, reason: reason || 'no reason given', content: e.text ?? '', meta: { warnings: w.count, max: s.warnings.max, event: e.id } });
      tally(ctx, 'act:warn');
      const why = reason ? `: ${safeEcho(reason, 200)}` : '';
      if (w.escalate && canModerate(ctx, 'mute')) {
        const until = ctx.deps.now() + s.warnings.muteMs;
        restrict(ctx, 'mute', target.id, { until, reason: `${w.count} warnings` });
        audit(ctx, { action: 'mute', by: AUTOMATIC, target: target.id, reason: `${w.count} warnings (limit ${s.warnings.max})`, meta: { until, rule: 'warnings' } });
        tally(ctx, 'act:mute');
        ctx.reply(`Warned ${target.label} (${w.count}/${s.warnings.max})${why} — muted for ${formatDuration(s.warnings.muteMs)}.`);
      } else {
        ctx.reply(`Warned ${target.label} (${w.count}/${s.warnings.max})${why}.`);
      }
    },
  };

  const purge: CommandSpec = {
    name: 'purge',
    usage: `/purge <count>`,
    description: `delete the last messages of the chat (up to ${MAX_PURGE})`,
    permission: 'moderator',
    run: async (ctx, cmd) => {
      needVerb(ctx, 'delete', 'Purging');
      const e = ctx.event;
      needArgs(cmd, 1, purge.usage);
      const n = Number(cmd.args[0]);
      if (!Number.isInteger(n) || n < 1 || n > MAX_PURGE) throw new UserError('usage', `Usage: ${purge.usage} (1 to ${MAX_PURGE})`);
      // The adapters know the chat's recent messages (Telegram bots cannot read history); +1 takes the command too.
      ctx.act({ type: 'purge', platform: e.platform, chat: e.chat, count: n + 1, priority: 'moderation' });
      audit(ctx, { action: 'purge', by: e.user.id, reason: `${n} messages`, content: e.text ?? '', meta: { count: n } });
      tally(ctx, 'msg:moderator', n);
    },
  };

  const slowmode: CommandSpec = {
    name: 'slowmode',
    usage: '/slowmode <seconds|off>',
    description: 'one message per member every so many seconds',
    permission: 'moderator',
    run: async (ctx, cmd) => {
      needVerb(ctx, 'slowmode', 'Slow mode');
      const e = ctx.event;
      needArgs(cmd, 1, slowmode.usage);
      const a = cmd.args[0]!.toLowerCase();
      const seconds = a === 'off' || a === '0' ? 0 : /^\d+$/.test(a) ? Number(a) : Math.round((parseDuration(a) ?? -1000) / 1000);
      if (!Number.isInteger(seconds) || seconds < 0 || seconds > 21_600) throw new UserError('usage', `Usage: ${slowmode.usage} (0 to 21600 seconds)`);
      if (capabilitiesOf(e.platform).slowMode === 'api') ctx.act({ type: 'slowmode', platform: e.platform, chat: e.chat, seconds, priority: 'moderation' });
      // Elsewhere (Telegram gives bots no slow mode) the hook enforces it: it deletes a member's message sent too soon.
      ctx.writes.hset(mk.settings(ctx.group), 'slowmode', String(seconds));
      changed(ctx, c);
      audit(ctx, { action: 'slowmode', by: e.user.id, reason: seconds ? `${seconds}s` : 'off', meta: { seconds } });
      ctx.reply(seconds ? `Slow mode: one message every ${formatDuration(seconds * 1000)} per member.` : 'Slow mode is off.');
    },
  };

  const filter: CommandSpec = {
    name: 'filter',
    usage: '/filter add|remove|list [word, "a phrase" or /pattern/]',
    description: 'remove messages with a word, phrase or safe regular expression',
    permission: 'moderator',
    run: async (ctx, cmd) => {
      const e = ctx.event;
      const sub = cmd.args[0]?.toLowerCase();
      const arg = cmd.rest.replace(/^\S+\s*/, '');
      const key = mk.filters(ctx.group);
      if (sub === 'list' || sub === undefined) {
        const all = sortedFilters(await ctx.deps.redis.hgetall(key)).map(([, f]) => f);
        if (!all.length) return ctx.reply('No filters. Add one: /filter add <word> or /filter add /pattern/');
        const lines = all.slice(0, 50).map((f, i) => `${i + 1}. ${f.kind === 'word' ? safeEcho(f.pattern, 100) : `/${safeEcho(f.pattern, 200)}/`}`);
        return ctx.reply([`Filters (${all.length}):`, ...lines].join('\n'));
      }
      if (sub === 'add') {
        const f = parseFilterArg(arg);
        if (!f) throw new UserError('usage', 'Usage: /filter add <word>, /filter add "a phrase" or /filter add /pattern/');
        if (f.kind === 'regex') {
          const check = await validatePattern(f.pattern);
          if (!check.ok) {
            audit(ctx, { action: 'refused', by: e.user.id, reason: `/filter add: ${check.reason}`, content: e.text ?? '' });
            throw new UserError('unsafe-pattern', `Refused: ${check.reason}.`);
          }
          // The chat's patterns run as one set with a fixed budget per message: it must stay within MAX_SET_SIZE.
          const total = regexSizeWith(await ctx.deps.redis.hgetall(key), f.pattern);
          if (total > MAX_SET_SIZE) throw new UserError('unsafe-pattern', `Refused: this chat's patterns would be too large together (${total} steps; the limit is ${MAX_SET_SIZE}). Remove or simplify some first.`);
        }
        if ((await ctx.deps.redis.hlen(key)) >= MAX_FILTERS) throw new UserError('too-many', `This chat already has ${MAX_FILTERS} filters; remove some first.`);
        const rec: FilterRecord = { kind: f.kind, pattern: f.pattern, by: e.user.id, at: ctx.deps.now(), ...(f.kind === 'regex' ? { verified: true } : {}) };
        ctx.writes.hset(key, filterId(f.kind, f.pattern), JSON.stringify(rec));
        changed(ctx, c);
        audit(ctx, { action: 'filter', by: e.user.id, reason: `added ${f.kind} filter`, content: f.pattern, meta: { op: 'add', kind: f.kind } });
        return ctx.reply(`Filter added: ${f.kind === 'word' ? safeEcho(f.pattern, 100) : `/${safeEcho(f.pattern, 200)}/`}. Messages (and edits) that match are removed.`);
      }
      if (sub === 'remove' || sub === 'rm' || sub === 'del') {
        if (!arg) throw new UserError('usage', 'Usage: /filter remove <word, /pattern/ or its number in /filter list>');
        let id: string | undefined;
        if (/^\d{1,3}$/.test(arg.trim())) {
          id = sortedFilters(await ctx.deps.redis.hgetall(key))[Number(arg.trim()) - 1]?.[0];
        } else {
          const f = parseFilterArg(arg);
          if (f) id = filterId(f.kind, f.pattern);
        }
        if (!id || !(await ctx.deps.redis.hexists(key, id))) throw new UserError('no-filter', 'No such filter. See /filter list.');
        ctx.writes.hdel(key, id);
        changed(ctx, c);
        audit(ctx, { action: 'filter', by: e.user.id, reason: 'removed a filter', content: id.slice(2), meta: { op: 'remove' } });
        return ctx.reply('Filter removed.');
      }
      throw new UserError('usage', `Usage: ${filter.usage}`);
    },
  };

  const quiet: CommandSpec = {
    name: 'quiet',
    usage: '/quiet on [duration] | off',
    description: 'mute new members while a raid lasts',
    permission: 'moderator',
    run: async (ctx, cmd) => {
      const e = ctx.event;
      const key = mk.quiet(ctx.group);
      const sub = cmd.args[0]?.toLowerCase();
      if (sub === 'on') {
        const s = (await cache.get(ctx.group)).settings;
        const ms = cmd.args[1] ? parseDuration(cmd.args[1]) : s.raid.quietMs;
        if (ms === null) throw new UserError('usage', 'Usage: /quiet on [duration like 30m or 2h]');
        const until = ctx.deps.now() + ms;
        ctx.writes.set(key, JSON.stringify({ by: e.user.id, until, reason: 'by a moderator' }), 'PX', ms);
        audit(ctx, { action: 'quiet', by: e.user.id, reason: 'quiet mode on', meta: { on: true, until } });
        return ctx.reply(`Quiet mode is on for ${formatDuration(ms)}: new members are muted until it ends. /quiet off lifts it.`);
      }
      if (sub === 'off') {
        const was = await ctx.deps.redis.get(key);
        ctx.writes.del(key);
        audit(ctx, { action: 'quiet', by: e.user.id, reason: 'quiet mode off', meta: { on: false } });
        return ctx.reply(was ? 'Quiet mode is off: new members can talk again.' : 'Quiet mode was not on.');
      }
      if (sub === undefined || sub === 'status') {
        const raw = await ctx.deps.redis.get(key);
        if (!raw) return ctx.reply('Quiet mode is off.');
        const q = JSON.parse(raw) as { until?: number; by?: string };
        const left = Math.max(0, (q.until ?? 0) - ctx.deps.now());
        return ctx.reply(`Quiet mode is on (${q.by === AUTOMATIC ? 'raid detected' : 'by a moderator'}), about ${formatDuration(left)} left.`);
      }
      throw new UserError('usage', `Usage: ${quiet.usage}`);
    },
  };

  const modlog: CommandSpec = {
    name: 'modlog',
    usage: '/modlog [count] | /modlog undo <entry id>',
    description: 'recent moderation actions in this chat; undo a ban, mute or warning',
    permission: 'moderator',
    run: async (ctx, cmd) => {
      const e = ctx.event;
      if (cmd.args[0]?.toLowerCase() === 'undo') {
        const id = cmd.args[1];
        if (!id) throw new UserError('usage', 'Usage: /modlog undo <entry id> (the ids /modlog shows)');
        const r = await reverseEntry(ctx.deps, { group: ctx.group, id, by: e.user.id });
        if (!r.ok) throw new UserError('undo', `Cannot undo: ${r.reason}.`);
        return ctx.reply(`Done: ${r.type} ${await labelFor(ctx, c, r.entry.target!)} (reverses ${r.entry.id}).`);
      }
      const n = cmd.args[0] ? Number(cmd.args[0]) : 10;
      if (!Number.isInteger(n) || n < 1 || n > 25) throw new UserError('usage', 'Usage: /modlog [1-25]');
      const entries = await listAudit(ctx.deps.redis, ctx.deps.keys, ctx.group, { limit: n });
      if (!entries.length) return ctx.reply('The moderation log of this chat is empty.');
      // Content stays out of the chat (it is the spam itself); /api/modlog has it for moderators.
      const lines = entries.map((x) => {
        const when = new Date(x.at).toISOString().slice(5, 16).replace('T', ' ');
        const who = x.by === AUTOMATIC ? 'auto' : x.by;
        const undo = x.reversible ? ' [undo]' : x.reversed ? ' [reversed]' : '';
        return `${x.id} ${when} ${x.action}${x.target ? ` ${x.target}` : ''} by ${who}${x.reason ? ` — ${safeEcho(x.reason, 90)}` : ''}${undo}`;
      });
      ctx.reply(truncate(['Moderation log (newest first, UTC):', ...lines].join('\n'), 3500));
    },
  };

  const modset: CommandSpec = {
    name: 'modset',
    usage: '/modset [setting value]',
    description: 'show or change this chat\'s protection settings',
    permission: 'moderator',
    run: async (ctx, cmd) => {
      const e = ctx.event;
      if (!cmd.args.length) {
        const s = (await cache.get(ctx.group)).settings;
        return ctx.reply(['Protection settings:', ...describeSettings(s), 'Change one: /modset <setting> <value>'].join('\n'));
      }
      const key = cmd.args[0]!.toLowerCase();
      const value = cmd.args.slice(1).join(' ');
      if (!isSettingKey(key)) throw new UserError('usage', `Settings: ${Object.keys(SETTING_SCHEMAS).join(', ')}`);
      if (!value) throw new UserError('usage', `Usage: /modset ${key} <value>`);
      const r = checkSetting(key, value);
      if (!r.ok) throw new UserError('bad-value', `${key}: ${r.reason}.`);
      ctx.writes.hset(mk.settings(ctx.group), key, r.stored);
      changed(ctx, c);
      audit(ctx, { action: 'settings', by: e.user.id, reason: `${key} = ${r.stored}`, meta: { key } });
      ctx.reply(`${key} is now ${safeEcho(r.stored, 200)}.`);
    },
  };

  const hidden: CommandSpec = {
    name: 'hidden',
    usage: '/hidden',
    description: 'what moderation hid in this chat today, and why (no content)',
    permission: 'everyone',
    run: async (ctx) => {
      const counts = await ctx.deps.redis.hgetall(mk.hidden(ctx.group, dayOf(ctx.deps.now())));
      ctx.reply(describeTally(counts), { priority: 'ack' });
    },
  };

  return [ban, unban, mute, unmute, warn, purge, slowmode, filter, quiet, modlog, modset, hidden];
}

/** Stored filters oldest first (ties by id), the numbering `/filter list` shows and `/filter remove <n>` uses. */
function sortedFilters(raw: Record<string, string>): [string, FilterRecord][] {
  const out: [string, FilterRecord][] = [];
  for (const [id, json] of Object.entries(raw)) {
    try {
      out.push([id, JSON.parse(json) as FilterRecord]);
    } catch {
      // a corrupt entry is not listed (compileFilters skips it too)
    }
  }
  return out.sort((a, b) => a[1].at - b[1].at || (a[0] < b[0] ? -1 : 1));
}

async function labelFor(ctx: EventContext, c: Ctx, id: string): Promise<string> {
  const raw = await ctx.deps.redis.get(c.mk.who(id));
  let who: { name?: string; username?: string } = {};
  try {
    who = JSON.parse(raw ?? '{}') as typeof who;
  } catch {
    who = {};
  }
  return labelOf({ id, name: who.name, username: who.username });
}

const MSG_LABELS: Record<string, string> = {
  flood: 'flooding',
  scam: 'scams',
  filter: 'filtered words',
  impersonation: 'impersonating admins',
  slowmode: 'slow mode',
  moderator: 'removed by moderators',
};

/** The public tally in words: counts per reason, never content or names. */
export function describeTally(counts: Record<string, string>): string {
  const n = (k: string) => Number(counts[k] ?? 0);
  const msgs = Object.entries(counts).filter(([k]) => k.startsWith('msg:')).map(([k, v]) => [k.slice(4), Number(v)] as const).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  const total = msgs.reduce((a, [, v]) => a + v, 0);
  const parts: string[] = [];
  parts.push(total ? `Hidden today (UTC): ${total} message${total === 1 ? '' : 's'} — ${msgs.map(([k, v]) => `${v} ${MSG_LABELS[k] ?? k}`).join(', ')}.` : 'Nothing was hidden today (UTC).');
  const acts = [
    [n('act:mute'), 'muted'],
    [n('act:ban'), 'banned'],
    [n('act:warn'), 'warned'],
    [n('act:quiet-mute'), 'new members muted during a raid'],
  ].filter(([v]) => (v as number) > 0).map(([v, l]) => `${v} ${l}`);
  if (acts.length) parts.push(`Members: ${acts.join(', ')}.`);
  return parts.join(' ');
}
