/** Who a moderator command is about: by reply, mention, username or id; and whether they may be acted on at all. */
import { BOT_USERNAME, parseUserArg } from '../../commands/parser.js';
import { UserError } from '../../core/errors.js';
import { userKey } from '../../core/ids.js';
import type { EventContext } from '../../pipeline/context.js';
import { audit, labelOf } from './effects.js';
import { MODERATOR_ROLES } from './hook.js';
import type { ModKeys } from './keys.js';
import { safeEcho } from './unicode.js';

/** A resolved target. */
export interface Target {
  /** Prefixed user id. */
  id: string;
  /** How bot messages name them. */
  label: string;
  via: 'reply' | 'mention' | 'username' | 'id';
  /** The username it was named by, when it was. */
  username?: string;
}

/**
 * Takes the target from the command: an explicit first argument (`@name`, `<@id>`, a prefixed or numeric id, a known
 * bare username), else the author of the replied-to message, else a mention the adapter resolved to an id.
 * Returns the remaining arguments.
 */
export async function takeTarget(ctx: EventContext, mk: ModKeys, args: string[], usage: string): Promise<{ target: Omit<Target, 'label'>; rest: string[] }> {
  const e = ctx.event;
  const first = args[0];
  if (first !== undefined) {
    const ref = parseUserArg(first);
    if (ref && 'id' in ref) {
      const id = /^\d+$/.test(ref.id) ? userKey(e.platform, ref.id) : ref.id;
      if (!id.startsWith(`${e.platform}:user:`)) throw new UserError('wrong-platform', `That user is not on ${e.platform}.`);
      return { target: { id, via: /^\d+$/.test(ref.id) ? 'id' : 'mention' }, rest: args.slice(1) };
    }
    const bare = !ref && !e.replyToUser && /^[A-Za-z][A-Za-z0-9_.]{2,63}$/.test(first) ? first.toLowerCase() : null;
    const username = ref && 'username' in ref ? ref.username : bare;
    if (username) {
      const id = await ctx.deps.redis.get(mk.username(e.platform, username));
      if (id) return { target: { id, via: 'username', username }, rest: args.slice(1) };
      // A Telegram text mention ("Dave", no username) arrives as a name in the text and the id in `mentions`.
      const mentioned = resolvedMention(ctx);
      if (mentioned) return { target: { id: mentioned, via: 'mention' }, rest: args.slice(1) };
      if (username === BOT_USERNAME) throw new UserError('protected-target', 'I will not do that to myself.');
      throw new UserError('unknown-user', `I don't know ${safeEcho(`@${username}`, 70)} yet: reply to one of their messages, or use their numeric id.`);
    }
  }
  if (e.replyToUser) return { target: { id: e.replyToUser, via: 'reply' }, rest: args };
  const mentioned = resolvedMention(ctx);
  if (mentioned) return { target: { id: mentioned, via: 'mention' }, rest: args };
  throw new UserError('usage', `Reply to a message or name the user: ${usage}`);
}

/** A mention the adapter already resolved to a prefixed id (a Telegram text mention of a user without a username). */
function resolvedMention(ctx: EventContext): string | undefined {
  const prefix = `${ctx.event.platform}:user:`;
  return ctx.event.mentions?.find((m) => m.startsWith(prefix) && m !== ctx.event.user.id);
}

/**
 * Refuses (UserError) to act on the sender themself, the bot, or an admin/moderator of the chat, and records the
 * refused attempt; otherwise returns the target with its label.
 */
export async function checkActionable(ctx: EventContext, mk: ModKeys, t: Omit<Target, 'label'>, command: string): Promise<Target> {
  const e = ctx.event;
  const p = ctx.deps.redis.pipeline().hget(mk.roles(ctx.group), t.id).hexists(mk.admins(ctx.group), t.id).get(mk.who(t.id));
  if (t.via === 'reply' && e.replyTo) p.exists(ctx.deps.keys.k('sent', e.platform, ctx.group, e.replyTo));
  const res = (await p.exec()) as [Error | null, unknown][];
  const role = res[0]?.[1] as string | null;
  const isAdmin = res[1]?.[1] === 1;
  let who: { name?: string; username?: string; bot?: boolean } = {};
  try {
    who = JSON.parse((res[2]?.[1] as string | null) ?? '{}') as typeof who;
  } catch {
    who = {};
  }
  const repliedToBot = res[3]?.[1] === 1;
  const target: Target = { ...t, label: labelOf({ id: t.id, name: who.name, username: who.username }) };
  const refuse = (why: string, line: string): never => {
    audit(ctx, { action: 'refused', by: e.user.id, target: t.id, reason: `/${command}: ${why}`, content: e.text ?? '' });
    throw new UserError('protected-target', line);
  };
  if (t.id === e.user.id) throw new UserError('self', 'You cannot do that to yourself.');
  if (repliedToBot || who.bot || [who.username, t.username].some((u) => u?.toLowerCase() === BOT_USERNAME)) refuse('target is the bot', 'I will not do that to myself.');
  if (isAdmin || (role !== null && MODERATOR_ROLES.has(role))) refuse('target is an admin or moderator', `${target.label} is an admin or moderator: moderators cannot act on each other.`);
  return target;
}
