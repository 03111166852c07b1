/** The fake Discord's data: API-shaped objects, snowflakes and the permission rules it needs to hand out. */

/** Discord's epoch for snowflake ids. */
export const DISCORD_EPOCH = 1_420_070_400_000n;

let increment = 0;
/** A real-looking snowflake for the given time, so 14-day rules work on the fake's ids. */
export function snowflake(at = Date.now()): string {
  increment = (increment + 1) & 0xfff;
  return (((BigInt(Math.floor(at)) - DISCORD_EPOCH) << 22n) | (1n << 17n) | BigInt(increment)).toString();
}

/** The time a snowflake encodes, or null for ids that are not snowflakes (sandbox ids like "general"). */
export function snowflakeTime(id: string): number | null {
  if (!/^\d{15,20}$/.test(id)) return null;
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

/** Permission bits the fake uses. */
export const P = {
  CreateInstantInvite: 1n << 0n,
  KickMembers: 1n << 1n,
  BanMembers: 1n << 2n,
  Administrator: 1n << 3n,
  ManageChannels: 1n << 4n,
  ManageGuild: 1n << 5n,
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  MentionEveryone: 1n << 17n,
  UseApplicationCommands: 1n << 31n,
  ManageThreads: 1n << 34n,
  CreatePublicThreads: 1n << 35n,
  SendMessagesInThreads: 1n << 38n,
  ModerateMembers: 1n << 40n,
} as const;

/** What @everyone may do in the fake guild. */
export const EVERYONE_PERMISSIONS =
  P.ViewChannel | P.SendMessages | P.ReadMessageHistory | P.AddReactions | P.EmbedLinks | P.AttachFiles | P.UseApplicationCommands | P.CreatePublicThreads | P.SendMessagesInThreads;

/** What the "Moderators" role adds. */
export const MODERATOR_PERMISSIONS = P.KickMembers | P.BanMembers | P.ManageMessages | P.ModerateMembers | P.ManageThreads;

/** What the bot's role may do (enough for every Townhall action). */
export const BOT_PERMISSIONS = EVERYONE_PERMISSIONS | MODERATOR_PERMISSIONS | P.ManageChannels | P.MentionEveryone;

/** What a sandbox `admin: true` user gets on their chat (a member overwrite, so it is per channel). */
export const CHAT_ADMIN_ALLOW = P.ManageMessages | P.ManageThreads;

/** Gateway intents (bits) and the dispatches that need them. */
export const INTENTS = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildModeration: 1 << 2,
  GuildMessages: 1 << 9,
  GuildMessageReactions: 1 << 10,
  DirectMessages: 1 << 12,
  DirectMessageReactions: 1 << 13,
  MessageContent: 1 << 15,
} as const;

/** An API user. */
export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: null;
  bot?: boolean;
}

/** An API role. */
export interface FakeRole {
  id: string;
  name: string;
  permissions: string;
  position: number;
  color: number;
  hoist: boolean;
  managed: boolean;
  mentionable: boolean;
  icon: null;
  unicode_emoji: null;
  flags: number;
}

/** A channel permission overwrite (type 0 role, 1 member). */
export interface FakeOverwrite {
  id: string;
  type: 0 | 1;
  allow: string;
  deny: string;
}

/** An API channel (guild text/forum/stage, thread, or DM). */
export interface FakeChannel {
  id: string;
  type: number;
  guild_id?: string;
  name: string | null;
  parent_id: string | null;
  position?: number;
  permission_overwrites?: FakeOverwrite[];
  rate_limit_per_user?: number;
  topic?: string | null;
  nsfw?: boolean;
  last_message_id?: string | null;
  recipients?: FakeUser[];
  owner_id?: string;
  message_count?: number;
  member_count?: number;
  thread_metadata?: { archived: boolean; auto_archive_duration: number; archive_timestamp: string; locked: boolean; create_timestamp?: string };
  flags?: number;
  available_tags?: unknown[];
}

/** A guild member. */
export interface FakeMember {
  user: FakeUser;
  roles: string[];
  joined_at: string;
  nick: string | null;
  deaf: boolean;
  mute: boolean;
  flags: number;
  pending: boolean;
  communication_disabled_until: string | null;
}

/** An API message as the fake stores it. */
export interface FakeMessage {
  id: string;
  type: number;
  channel_id: string;
  guild_id?: string;
  author: FakeUser;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  tts: boolean;
  mention_everyone: boolean;
  mentions: FakeUser[];
  mention_roles: string[];
  attachments: { id: string; filename: string; size: number; url: string; proxy_url: string; content_type?: string }[];
  embeds: unknown[];
  components: unknown[];
  pinned: boolean;
  flags: number;
  nonce?: string;
  message_reference?: { type: number; message_id: string; channel_id: string; guild_id?: string };
  referenced_message?: Omit<FakeMessage, 'referenced_message'> | null;
  webhook_id?: string;
  application_id?: string;
  position?: number;
  thread?: FakeChannel;
  /** Emoji -> user ids (not sent as is; `reactions` is computed). */
  reactionUsers?: Map<string, Set<string>>;
}

/** Computes a member's permissions in a channel (owner, roles, administrator, overwrites), as Discord documents. */
export function permissionsIn(opts: {
  guildId: string;
  ownerId: string;
  roles: FakeRole[];
  member: Pick<FakeMember, 'roles' | 'user'>;
  overwrites: FakeOverwrite[];
}): bigint {
  const all = (1n << 53n) - 1n;
  if (opts.member.user.id === opts.ownerId) return all;
  const byId = new Map(opts.roles.map((r) => [r.id, BigInt(r.permissions)]));
  let perms = byId.get(opts.guildId) ?? 0n;
  for (const r of opts.member.roles) perms |= byId.get(r) ?? 0n;
  if (perms & P.Administrator) return all;
  const everyone = opts.overwrites.find((o) => o.id === opts.guildId);
  if (everyone) perms = (perms & ~BigInt(everyone.deny)) | BigInt(everyone.allow);
  let allow = 0n;
  let deny = 0n;
  for (const o of opts.overwrites) {
    if (o.type === 0 && o.id !== opts.guildId && opts.member.roles.includes(o.id)) {
      allow |= BigInt(o.allow);
      deny |= BigInt(o.deny);
    }
  }
  perms = (perms & ~deny) | allow;
  const own = opts.overwrites.find((o) => o.type === 1 && o.id === opts.member.user.id);
  if (own) perms = (perms & ~BigInt(own.deny)) | BigInt(own.allow);
  return perms;
}

/** A role object with the given permissions. */
export function role(id: string, name: string, permissions: bigint, position: number): FakeRole {
  return { id, name, permissions: permissions.toString(), position, color: 0, hoist: false, managed: false, mentionable: false, icon: null, unicode_emoji: null, flags: 0 };
}

/** A username from a display name ("Ada Lovelace" -> "ada_lovelace"). */
export function usernameOf(name: string, fallback: string): string {
  const u = name.toLowerCase().replace(/[^a-z0-9_.]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 32);
  return u.length >= 2 ? u : `user_${fallback}`.slice(0, 32);
}
