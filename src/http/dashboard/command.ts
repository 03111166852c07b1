/** `/dashboard`: a moderator or the AMA's host asks for a sign-in link; it comes in a private message, never in the group. */
import type { CommandSpec } from '../../commands/router.js';
import { UserError } from '../../core/errors.js';
import { issueToken } from '../auth.js';

/** How long a sign-in link (and the token in it) stays valid. */
export const DASHBOARD_LINK_TTL_MS = 24 * 3600_000;

/** Options of the /dashboard command. */
export interface DashboardCommandOptions {
  /** Where people reach the dashboard (e.g. https://townhall.example.org); default http://localhost:<http.port>. */
  baseUrl?: string;
  /** Link lifetime (default 24 h). */
  ttlMs?: number;
}

/** The `/dashboard` command spec: issues a per-moderator token limited to this chat and DMs the link. */
export function dashboardCommand(opts: DashboardCommandOptions = {}): CommandSpec {
  const ttlMs = opts.ttlMs ?? DASHBOARD_LINK_TTL_MS;
  return {
    name: 'dashboard',
    usage: '/dashboard',
    description: 'a private sign-in link to the web dashboard (moderators and the AMA host)',
    permission: 'host',
    run: async (ctx) => {
      const e = ctx.event;
      // The token is limited to the chat it was asked in: a private chat names no community.
      if (e.chatType === 'private') throw new UserError('dashboard.private', 'Send /dashboard in the group you moderate; the link comes to you privately.');
      const { redis, keys, config } = ctx.deps;
      const token = await issueToken(redis, keys, e.user.id, [ctx.group], ttlMs);
      const base = (opts.baseUrl ?? `http://localhost:${config.http.port}`).replace(/\/+$/, '');
      const hours = Math.round(ttlMs / 3600_000);
      const life = hours >= 1 ? `${hours} hour${hours === 1 ? '' : 's'}` : `${Math.round(ttlMs / 60_000)} minutes`;
      const text = `Your Townhall dashboard for this chat (valid ${life}, keep it private):\n${base}/login?token=${encodeURIComponent(token)}`;
      // Always a private message, even for a slash command: an in-place answer may be visible to the whole channel.
      ctx.act({ type: 'dm', platform: e.platform, chat: e.chat, user: e.user.id, text, priority: 'command' });
      if (e.replyHandle) ctx.reply('I sent you the dashboard link in a private message.');
      else if (e.messageId) ctx.act({ type: 'react', platform: e.platform, chat: e.chat, messageId: e.messageId, emoji: '👌', priority: 'ack' });
    },
  };
}
