/**
 * Roles beyond platform admins: host, editor and admin, per community (the router's `roles:<group>` hash) or per
 * AMA. Levels: host 1 < editor/moderator 2 < admin 3 < platform admin 4. Nobody changes their own role, and
 * nobody grants a role at or above their own level or changes someone at or above it.
 */
import { UserError } from '../../core/errors.js';
import type { ChatUser } from '../../core/events.js';
import { HOST_ID_FIELD, type Ama } from './model.js';
import { hostEntryOf, type AmaEnv } from './store.js';

/** A role that can be given. */
export type Role = 'host' | 'editor' | 'moderator' | 'admin';

/** The level of each role (0 = none). */
export const ROLE_LEVEL: Record<Role | 'none', number> = { none: 0, host: 1, editor: 2, moderator: 2, admin: 3 };

/** Level of platform admins (above every role the bot can give). */
export const PLATFORM_ADMIN_LEVEL = 4;

/** True for a role name. */
export function isRole(s: string): s is Role {
  return s === 'host' || s === 'editor' || s === 'moderator' || s === 'admin';
}

function level(role: string | null | undefined): number {
  return role && isRole(role) ? ROLE_LEVEL[role] : 0;
}

/** A person's level in a community, and in one AMA when given (the higher of the two). */
export async function levelOf(env: AmaEnv, user: Pick<ChatUser, 'id' | 'isAdmin'>, group: string, ama?: Ama | null): Promise<number> {
  if (user.isAdmin) return PLATFORM_ADMIN_LEVEL;
  const p = env.deps.redis.pipeline().hget(env.deps.keys.k('roles', group), user.id);
  if (ama) p.hget(env.k.roles(ama.id), user.id);
  const res = (await p.exec()) ?? [];
  return Math.max(level(res[0]?.[1] as string | null), level(res[1]?.[1] as string | null));
}

/**
 * True when the person hosts the AMA: named as host, or given the host role (for this AMA or the community). A host
 * named by username is resolved to this person's id the first time they show up, once: after that only that id is
 * the host, whoever takes the name later.
 */
export async function isAmaHost(env: AmaEnv, ama: Ama, user: Pick<ChatUser, 'id' | 'username'>, group: string): Promise<boolean> {
  const named = hostEntryOf(ama, user);
  if (named?.unresolved) {
    const pinned = await env.deps.redis.hsetnx(env.k.ama(ama.id), `${HOST_ID_FIELD}${named.entry}`, user.id);
    (ama.hostIds ??= {})[named.entry] = pinned ? user.id : ((await env.deps.redis.hget(env.k.ama(ama.id), `${HOST_ID_FIELD}${named.entry}`)) ?? user.id);
    if (ama.hostIds[named.entry] === user.id) return true;
  } else if (named) {
    return true;
  }
  const res = (await env.deps.redis.pipeline().hget(env.k.roles(ama.id), user.id).hget(env.deps.keys.k('roles', group), user.id).exec()) ?? [];
  return res.some(([, r]) => r === 'host');
}

/** True when the person may moderate the AMA's questions (approve, reject, merge, split): editor level or above. */
export async function canModerateAma(env: AmaEnv, ama: Ama, user: Pick<ChatUser, 'id' | 'isAdmin'>, group: string): Promise<boolean> {
  return (await levelOf(env, user, group, ama)) >= ROLE_LEVEL.editor;
}

/** Sets (or with 'none' removes) a role, for a community or one AMA; refuses raising one's own or anyone's above the actor. */
export async function setRole(
  env: AmaEnv,
  opts: { actor: Pick<ChatUser, 'id' | 'isAdmin'>; group: string; target: string; role: Role | 'none'; ama?: Ama | null },
): Promise<{ previous: string | null }> {
  if (opts.target === opts.actor.id) throw new UserError('role.self', 'Nobody can change their own role.');
  const key = opts.ama ? env.k.roles(opts.ama.id) : env.deps.keys.k('roles', opts.group);
  const actorLevel = await levelOf(env, opts.actor, opts.group, opts.ama);
  const previous = await env.deps.redis.hget(key, opts.target);
  const targetLevel = await levelOf(env, { id: opts.target }, opts.group, opts.ama);
  if (ROLE_LEVEL[opts.role] >= actorLevel) throw new UserError('role.above', `You cannot give the ${opts.role} role: it is not below your own.`);
  if (targetLevel >= actorLevel) throw new UserError('role.peer', 'You cannot change the role of someone at or above your level.');
  if (opts.role === 'none') await env.deps.redis.hdel(key, opts.target);
  else await env.deps.redis.hset(key, opts.target, opts.role);
  return { previous };
}
