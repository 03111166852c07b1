/**
 * Whether a grant still stands, re-checked on every use from what the bot knows — never from a platform SDK:
 *
 * - a moderator grant (`standing`) holds while, in each of its chats, the holder has a community role (admin,
 *   moderator, editor: changed at once by /role) or the adapters last reported them as a platform admin
 *   (`ChatEvent.user.isAdmin`) no longer ago than `http.standingMaxAge`. The record is written by this module's
 *   pipeline step from the holder's own events: a demoted admin's next message anywhere the bot reads ends their
 *   sessions and tokens at once; a demoted admin who stays silent keeps them at most `standingMaxAge` after their
 *   last message as an admin (that is the staleness bound; the adapters' own admin lists lag by at most their
 *   cache lifetime, Telegram's getChatAdministrators cache being dropped on every chat_member change).
 * - a host grant (`host`) holds, per AMA, while the AMA is scheduled or live and the holder still hosts it.
 * - every grant needs the current admin-token generation (auth.ts).
 */
import type { ChatEvent } from '../core/events.js';
import { onceEvery } from '../core/once-every.js';
import type { CoreDeps } from '../pipeline/context.js';
import type { Feature } from '../pipeline/handle-event.js';
import type { Keys } from '../redis/keys.js';
import { amaEnv, getAmas, type AmaEnv } from '../features/ama/store.js';
import { isAmaHost, levelOf, ROLE_LEVEL } from '../features/ama/roles.js';
import { groupOf } from './access.js';
import { authKeys, type Grant, type Principal } from './auth.js';

/** Community roles that make someone a moderator (as the command router decides it). */
const MODERATOR_ROLES = new Set(['admin', 'moderator', 'editor']);
/** How often one process rewrites an unchanged standing record of one holder in one chat. */
const REFRESH_MS = 60_000;

/** Keys of the standing records. */
export function standingKeys(keys: Keys) {
  return {
    /** Set while someone holds a grant; lets the pipeline step skip everyone else with no extra round trip. */
    holder: (user: string) => keys.k('auth', 'holder', user),
    /** `{admin, at}`: the adapters' last word on whether the holder is a platform admin of the group. */
    standing: (group: string, user: string) => keys.k('auth', 'standing', group, user),
  };
}

/** What is stored per holder and group. */
interface StandingRecord {
  admin: boolean;
  at: number;
}

function parseStanding(raw: string | null): StandingRecord | null {
  try {
    return raw ? (JSON.parse(raw) as StandingRecord) : null;
  } catch {
    return null;
  }
}

/** The record as JSON, for a write. */
export function standingValue(admin: boolean, at: number): string {
  return JSON.stringify({ admin, at } satisfies StandingRecord);
}

/**
 * The pipeline step that keeps standing records: for a grant holder's event in a group that says whether they are a
 * platform admin, the record is (re)written with the event's commit. Everyone else costs one prefetched key.
 */
export function standingFeature(deps: Pick<CoreDeps, 'keys' | 'now'>, maxAgeMs: number): Feature {
  const sk = standingKeys(deps.keys);
  const due = onceEvery(REFRESH_MS, deps.now);
  const concerns = (e: ChatEvent) => e.chatType !== 'private' && e.user.isAdmin !== undefined && e.source === 'live';
  return {
    name: 'standing',
    prefetch: (e) => (concerns(e) ? [sk.holder(e.user.id)] : []),
    middleware: async (ctx, next) => {
      const e = ctx.event;
      if (concerns(e) && (await ctx.mget([sk.holder(e.user.id)]))[0] !== null) {
        const admin = e.user.isAdmin === true;
        // A change (admin -> not) is written at once; an unchanged record at most once a minute per process.
        if (due(`${ctx.group}\u0000${e.user.id}\u0000${admin}`)) {
          ctx.writes.set(sk.standing(ctx.group, e.user.id), standingValue(admin, ctx.deps.now()), 'PX', maxAgeMs);
        }
      }
      await next();
    },
  };
}

/** Re-checks grants against what the bot knows now; the Principal for this request, or null when the grant no longer stands. */
export class StandingCheck {
  private readonly env: AmaEnv;
  private readonly sk: ReturnType<typeof standingKeys>;

  constructor(
    private readonly deps: CoreDeps,
    private readonly maxAgeMs: number,
  ) {
    this.env = amaEnv(deps);
    this.sk = standingKeys(deps.keys);
  }

  /** The principal a grant gives now, or null (another generation, demoted, or its AMAs are over). */
  async principal(grant: Grant): Promise<Principal | null> {
    const { redis, keys } = this.deps;
    const gen = await redis.get(authKeys(keys).gen);
    if (!gen || gen !== grant.gen) return null;
    const base = { subject: grant.subject, role: grant.role, admin: grant.role === 'admin' };
    if (grant.role === 'admin') return { ...base, chats: [], amas: [] };
    if (grant.role === 'moderator') {
      const chats = grant.basis === 'standing' ? await this.standingChats(grant.subject, grant.chats) : grant.chats;
      return chats.length ? { ...base, chats, amas: [] } : null;
    }
    return this.hostPrincipal(grant);
  }

  /** The chats (of those given) in which `user` is a moderator by what the bot knows now. */
  async standingChats(user: string, chats: string[]): Promise<string[]> {
    const groups = chats.map(groupOf);
    const p = this.deps.redis.pipeline();
    for (const g of groups) if (g) p.hget(this.deps.keys.k('roles', g), user).get(this.sk.standing(g, user));
    const res = (await p.exec()) ?? [];
    const now = this.deps.now();
    const out: string[] = [];
    let i = 0;
    chats.forEach((chat, k) => {
      if (!groups[k]) return;
      const role = res[i++]?.[1] as string | null;
      const rec = parseStanding(res[i++]?.[1] as string | null);
      if ((role && MODERATOR_ROLES.has(role)) || (rec?.admin === true && now - rec.at <= this.maxAgeMs)) out.push(chat);
    });
    return out;
  }

  private async hostPrincipal(grant: Grant): Promise<Principal | null> {
    const amas = await getAmas(this.env, grant.amas);
    const live = [];
    // The community the link was asked in: its host role counts as well as being named host.
    const community = groupOf(grant.chats[0] ?? '');
    for (const ama of amas) {
      if (ama.status !== 'scheduled' && ama.status !== 'live') continue;
      const group = community ?? groupOf(ama.chats[0] ?? '') ?? '';
      const user = { id: grant.subject };
      if ((await isAmaHost(this.env, ama, user, group)) || (await levelOf(this.env, user, group, ama)) >= ROLE_LEVEL.host) live.push(ama);
    }
    if (!live.length) return null;
    return { subject: grant.subject, role: 'host', admin: false, chats: [...new Set(live.flatMap((a) => a.chats))], amas: live.map((a) => a.id) };
  }
}
