/**
 * `/dashboard`: a moderator or the AMA's host asks for a sign-in link; it comes in a private message, never in the
 * group. The link carries a one-time code, not a credential: it signs in once (exchanged for a session) and is gone,
 * so the copy that sits in the outbound job (and the queue board's failed jobs) opens nothing once used. A moderator's
 * code grants the moderator role in this chat (re-checked against their standing on every request); a host's grants
 * reading and answering the AMAs they host here, until those end.
 */
import { isModerator, type CommandSpec } from '../../commands/router.js';
import { UserError } from '../../core/errors.js';
import type { EventContext } from '../../pipeline/context.js';
import { durationMs } from '../../config/load.js';
import { isAmaHost, levelOf, ROLE_LEVEL } from '../../features/ama/roles.js';
import { amaEnv, currentAmaOf, type AmaEnv } from '../../features/ama/store.js';
import { issueSignInCode, newGrant, SESSION_TTL_MS, type Grant } from '../auth.js';
import { standingKeys, standingValue } from '../standing.js';

/** How long a sign-in link (its one-time code) stays valid if unused. */
export const DASHBOARD_LINK_TTL_MS = 3600_000;

/** Options of the /dashboard command. */
export interface DashboardCommandOptions {
  /** Where people reach the dashboard (e.g. https://townhall.example.org); default http://localhost:<http.port>. */
  baseUrl?: string;
  /** Link lifetime (default 1 h). */
  ttlMs?: number;
}

/** The AMAs (this chat's current one) the sender hosts, while scheduled or live. */
async function hostedAmas(env: AmaEnv, ctx: EventContext): Promise<string[]> {
  const ama = await currentAmaOf(env, ctx.group);
  if (!ama || (ama.status !== 'live' && ama.status !== 'scheduled')) return [];
  const hosts = (await isAmaHost(env, ama, ctx.event.user, ctx.group)) || (await levelOf(env, ctx.event.user, ctx.group, ama)) >= ROLE_LEVEL.host;
  return hosts ? [ama.id] : [];
}

/** The `/dashboard` command spec: issues a one-time sign-in code with the sender's role in this chat and DMs the link. */
export function dashboardCommand(opts: DashboardCommandOptions = {}): CommandSpec {
  const ttlMs = opts.ttlMs ?? DASHBOARD_LINK_TTL_MS;
  let env: AmaEnv | undefined;
  return {
    name: 'dashboard',
    usage: '/dashboard',
    description: 'a private sign-in link to the web dashboard (moderators and the AMA host)',
    permission: 'host',
    run: async (ctx) => {
      const e = ctx.event;
      // The grant is limited to the chat it was asked in: a private chat names no community.
      if (e.chatType === 'private') throw new UserError('dashboard.private', 'Send /dashboard in the group you moderate; the link comes to you privately.');
      const { redis, keys, config } = ctx.deps;
      env ??= amaEnv(ctx.deps);
      const now = ctx.deps.now();
      const standingMs = durationMs(config.http.standingMaxAge);
      const sk = standingKeys(keys);
      let grant: Grant;
      if (await isModerator(ctx)) {
        grant = await newGrant(redis, keys, { subject: e.user.id, role: 'moderator', chats: [ctx.group], basis: 'standing' }, now);
        // This very event is the adapters' word that they are an admin (or the role hash is): the standing starts now.
        if (e.user.isAdmin === true) ctx.writes.set(sk.standing(ctx.group, e.user.id), standingValue(true, now), 'PX', standingMs);
      } else {
        const amas = await hostedAmas(env, ctx);
        if (!amas.length) throw new UserError('dashboard.none', 'Only moderators and the host of this chat’s AMA get a dashboard link.');
        grant = await newGrant(redis, keys, { subject: e.user.id, role: 'host', chats: [ctx.group], amas, basis: 'host' }, now);
      }
      const code = await issueSignInCode(redis, keys, grant, ttlMs);
      // Marks them as holding a grant, so the standing step records what adapters say about them from now on.
      ctx.writes.set(sk.holder(e.user.id), '1', 'PX', ttlMs + SESSION_TTL_MS);
      const base = (opts.baseUrl ?? `http://localhost:${config.http.port}`).replace(/\/+$/, '');
      const minutes = Math.round(ttlMs / 60_000);
      const life = minutes >= 120 ? `${Math.round(minutes / 60)} hours` : `${minutes} minutes`;
      const role = grant.role === 'host' ? `the AMA ${grant.amas.join(', ')} (read and answer questions)` : 'this chat';
      const text = `Your Townhall dashboard for ${role}. The link signs you in once; it is valid ${life} if unused, keep it private:\n${base}/login?token=${encodeURIComponent(code)}`;
      // Always a private message, even for a slash command: an in-place answer may be visible to the whole channel.
      ctx.act({ type: 'dm', platform: e.platform, chat: e.chat, user: e.user.id, text, priority: 'command' });
      if (e.replyHandle) ctx.reply('I sent you the dashboard link in a private message.');
      else if (e.messageId) ctx.act({ type: 'react', platform: e.platform, chat: e.chat, messageId: e.messageId, emoji: '👌', priority: 'ack' });
    },
  };
}
