/** A member's permissions in a channel, computed the way Discord documents it, and who counts as a moderator. */
import { PermissionFlagsBits } from 'discord.js';

/** Every permission bit set. */
export const ALL_PERMISSIONS = (1n << 64n) - 1n;

/** Permissions that make a member a Townhall moderator in a channel (any one is enough). */
export const MODERATOR_PERMISSIONS =
  PermissionFlagsBits.Administrator |
  PermissionFlagsBits.BanMembers |
  PermissionFlagsBits.ModerateMembers |
  PermissionFlagsBits.ManageMessages |
  PermissionFlagsBits.ManageGuild;

/** A channel permission overwrite: type 0 is a role, 1 a member. */
export interface Overwrite {
  id: string;
  type: number;
  allow: bigint;
  deny: bigint;
}

/** What the computation needs to know about the guild, the channel and the member. */
export interface PermissionInput {
  guildId: string;
  ownerId: string | null;
  /** Role id -> its permission bits; must include @everyone (the role whose id is the guild id). */
  rolePermissions: ReadonlyMap<string, bigint>;
  /** Overwrites of the channel (for a thread: of its parent). */
  overwrites: readonly Overwrite[];
  userId: string;
  memberRoles: readonly string[];
  /** Milliseconds since the epoch until which the member is timed out, when they are. */
  timedOutUntil?: number | null;
  now?: number;
}

/** The member's permissions in the channel (Discord's documented algorithm, including timeouts). */
export function computeChannelPermissions(p: PermissionInput): bigint {
  if (p.ownerId !== null && p.userId === p.ownerId) return ALL_PERMISSIONS;
  let base = p.rolePermissions.get(p.guildId) ?? 0n;
  for (const r of p.memberRoles) base |= p.rolePermissions.get(r) ?? 0n;
  if (base & PermissionFlagsBits.Administrator) return ALL_PERMISSIONS;

  let perms = base;
  const everyone = p.overwrites.find((o) => o.id === p.guildId);
  if (everyone) perms = (perms & ~everyone.deny) | everyone.allow;
  let allow = 0n;
  let deny = 0n;
  for (const o of p.overwrites) {
    if (o.type === 0 && o.id !== p.guildId && p.memberRoles.includes(o.id)) {
      allow |= o.allow;
      deny |= o.deny;
    }
  }
  perms = (perms & ~deny) | allow;
  const own = p.overwrites.find((o) => o.type === 1 && o.id === p.userId);
  if (own) perms = (perms & ~own.deny) | own.allow;

  // A timed-out member keeps only reading rights (Discord's rule), so a timed-out moderator cannot moderate.
  if (p.timedOutUntil && p.timedOutUntil > (p.now ?? Date.now())) {
    perms &= PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ReadMessageHistory;
  }
  return perms;
}

/** True when the permissions or one of the member's roles make them a moderator. */
export function isModerator(perms: bigint, memberRoles: readonly string[], moderatorRoleIds: ReadonlySet<string>): boolean {
  if ((perms & MODERATOR_PERMISSIONS) !== 0n) return true;
  return memberRoles.some((r) => moderatorRoleIds.has(r));
}

/** Parses a permission bit string from the API ("8", "1099511627775"); 0 on garbage. */
export function parsePermissionBits(s: unknown): bigint {
  if (typeof s !== 'string' && typeof s !== 'number') return 0n;
  try {
    return BigInt(s);
  } catch {
    return 0n;
  }
}
