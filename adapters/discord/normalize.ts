/** Gateway dispatches -> ChatEvents. Pure: everything it needs to look up comes through a NormalizeContext. */
import { type ChatEventInput, type ChatEventKind, chatKey, makeEventId, parseCommand, userKey } from '../../src/core/index.js';
import { VOTE_BUTTON_PREFIX, interactionToCommand } from './commands.js';
import { MODERATOR_PERMISSIONS, parsePermissionBits } from './permissions.js';

/** Discord's epoch for snowflake ids. */
const DISCORD_EPOCH = 1_420_070_400_000n;

/** Channel types that are threads (announcement, public, private). */
export const THREAD_TYPES = new Set([10, 11, 12]);
/** Channel types whose threads are posts (forum, media). */
export const POST_CHANNEL_TYPES = new Set([15, 16]);

/** What the normalizer needs to know about a channel. */
export interface ChannelInfo {
  id: string;
  type: number;
  guildId: string | null;
  /** For a thread, its parent channel. */
  parentId: string | null;
  /** For a thread, the type of its parent (forum posts read differently). */
  parentType?: number | null;
  name?: string | null;
}

/** A person as the cache remembers them. */
export interface KnownUser {
  id: string;
  name: string;
  username?: string;
  bot?: boolean;
}

/** Lookups the normalizer needs; the adapter backs them with discord.js's cache. */
export interface NormalizeContext {
  botUserId: string | null;
  botUsername: string;
  /** The gateway session, so events without their own id (reactions) get one that is stable across a RESUME replay. */
  sessionId: string;
  channel(id: string): ChannelInfo | undefined;
  /** Whether the user moderates this channel (permissions in the channel, or a configured role). */
  isAdmin(guildId: string, channel: ChannelInfo | undefined, userId: string, roles: readonly string[] | undefined, timedOutUntil?: number | null): boolean;
  cachedAuthor(channelId: string, messageId: string): KnownUser | undefined;
  cachedUser(guildId: string | null, userId: string): KnownUser | undefined;
  systemChannel(guildId: string): string | undefined;
  /** Commands answered privately (the deferral is ephemeral). */
  ephemeralCommands: ReadonlySet<string>;
  now(): number;
}

/** An interaction to acknowledge once its event is in the queue. */
export interface PendingInteraction {
  id: string;
  token: string;
  applicationId: string;
  /** 5 = deferred channel message ("thinking…"), 6 = deferred update (buttons). */
  callbackType: 5 | 6;
  ephemeral: boolean;
  /** When Discord created it (ms): the 3-second window runs from here. */
  at: number;
}

/** What one dispatch turned into. */
export interface Normalized {
  events: ChatEventInput[];
  /** Set when the dispatch is about a channel the cache does not know: fetch it, then normalize again. */
  needsChannel?: string;
  /** Why nothing came out, for the counters ('unknown:<t>' for types this adapter does not handle). */
  skipped?: string;
  interaction?: PendingInteraction;
}

/** Dispatch types that are only state for discord.js's cache: nothing for Townhall. */
const STATE_ONLY = new Set([
  'READY', 'RESUMED', 'GUILD_CREATE', 'GUILD_UPDATE', 'GUILD_DELETE', 'GUILD_ROLE_CREATE', 'GUILD_ROLE_UPDATE', 'GUILD_ROLE_DELETE',
  'CHANNEL_CREATE', 'CHANNEL_UPDATE', 'CHANNEL_DELETE', 'CHANNEL_PINS_UPDATE', 'THREAD_CREATE', 'THREAD_UPDATE', 'THREAD_DELETE',
  'THREAD_LIST_SYNC', 'THREAD_MEMBER_UPDATE', 'THREAD_MEMBERS_UPDATE', 'GUILD_MEMBER_UPDATE', 'GUILD_MEMBERS_CHUNK',
  'GUILD_BAN_ADD', 'GUILD_BAN_REMOVE', 'GUILD_EMOJIS_UPDATE', 'GUILD_STICKERS_UPDATE', 'GUILD_INTEGRATIONS_UPDATE',
  'MESSAGE_REACTION_REMOVE_ALL', 'MESSAGE_REACTION_REMOVE_EMOJI', 'TYPING_START', 'PRESENCE_UPDATE', 'USER_UPDATE',
  'VOICE_STATE_UPDATE', 'VOICE_SERVER_UPDATE', 'STAGE_INSTANCE_CREATE', 'STAGE_INSTANCE_UPDATE', 'STAGE_INSTANCE_DELETE',
  'APPLICATION_COMMAND_PERMISSIONS_UPDATE', 'INVITE_CREATE', 'INVITE_DELETE', 'WEBHOOKS_UPDATE', 'GUILD_AUDIT_LOG_ENTRY_CREATE',
  'MESSAGE_POLL_VOTE_ADD', 'MESSAGE_POLL_VOTE_REMOVE', 'GUILD_SCHEDULED_EVENT_CREATE', 'GUILD_SCHEDULED_EVENT_UPDATE',
  'GUILD_SCHEDULED_EVENT_DELETE', 'GUILD_SCHEDULED_EVENT_USER_ADD', 'GUILD_SCHEDULED_EVENT_USER_REMOVE', 'ENTITLEMENT_CREATE',
  'INTEGRATION_CREATE', 'INTEGRATION_UPDATE', 'INTEGRATION_DELETE', 'AUTO_MODERATION_ACTION_EXECUTION',
]);

/** Message types people write: DEFAULT and REPLY. Joins, pins, boosts and the like are system notices. */
const PERSON_MESSAGE_TYPES = new Set([0, 19]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : undefined);
const idOf = (v: unknown): string | undefined => {
  const s = typeof v === 'number' ? String(v) : str(v);
  return s && /^[^\s:/]{1,64}$/.test(s) ? s : undefined;
};

/** Milliseconds since the epoch encoded in a snowflake id, or null when it is not one. */
export function snowflakeTime(id: string): number | null {
  if (!/^\d{15,20}$/.test(id)) return null;
  try {
    return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
  } catch {
    return null;
  }
}

/** The prefixed chat id of a channel (with its thread when it is one). */
export function chatOf(channelId: string, info: ChannelInfo | undefined): string {
  if (info && THREAD_TYPES.has(info.type) && info.parentId) return chatKey('discord', info.parentId, channelId);
  return chatKey('discord', channelId);
}

function personName(user: Obj, member: Obj | undefined): string {
  return (str(member?.nick) ?? str(user.global_name) ?? str(user.username) ?? 'unknown').slice(0, 256);
}

function userFrom(user: Obj, member: Obj | undefined, isAdmin: boolean): ChatEventInput['user'] {
  const u: ChatEventInput['user'] = { id: userKey('discord', idOf(user.id) ?? 'unknown'), name: personName(user, member), isAdmin };
  const username = str(user.username);
  if (username) u.username = username;
  if (user.bot === true) u.isBot = true;
  return u;
}

const URL_IN_TEXT = /https?:\/\/[^\s<>]+[^\s<>.,;:!?'")\]]/g;

function linksOf(content: string, attachments: unknown): string[] {
  const links = new Set<string>();
  for (const m of content.matchAll(URL_IN_TEXT)) if (m[0].length <= 2048) links.add(m[0]);
  if (Array.isArray(attachments)) {
    for (const a of attachments) if (isObj(a) && typeof a.url === 'string' && a.url.length <= 2048) links.add(a.url);
  }
  return [...links].slice(0, 100);
}

function timedOutUntil(member: Obj | undefined): number | null {
  const t = typeof member?.communication_disabled_until === 'string' ? Date.parse(member.communication_disabled_until) : NaN;
  return Number.isFinite(t) ? t : null;
}

function rolesOf(member: Obj | undefined): string[] | undefined {
  return Array.isArray(member?.roles) ? member.roles.filter((r): r is string => typeof r === 'string') : undefined;
}

function messageUrl(guildId: string | undefined, channelId: string, messageId: string): string {
  return `https://discord.com/channels/${guildId ?? '@me'}/${channelId}/${messageId}`;
}

/** Turns one gateway dispatch into ChatEvents. Never throws on hostile payloads: it skips them with a reason. */
export function normalizeDispatch(t: string, d: unknown, seq: number | null, ctx: NormalizeContext): Normalized {
  if (STATE_ONLY.has(t)) return { events: [], skipped: 'state' };
  if (!isObj(d)) return { events: [], skipped: 'malformed' };
  switch (t) {
    case 'MESSAGE_CREATE':
    case 'MESSAGE_UPDATE':
      return message(t, d, ctx);
    case 'MESSAGE_DELETE':
      return deletes(d, [d.id], ctx);
    case 'MESSAGE_DELETE_BULK':
      return deletes(d, Array.isArray(d.ids) ? d.ids.slice(0, 1000) : [], ctx);
    case 'MESSAGE_REACTION_ADD':
    case 'MESSAGE_REACTION_REMOVE':
      return reaction(t === 'MESSAGE_REACTION_ADD', d, seq, ctx);
    case 'GUILD_MEMBER_ADD':
    case 'GUILD_MEMBER_REMOVE':
      return membership(t === 'GUILD_MEMBER_ADD', d, seq, ctx);
    case 'INTERACTION_CREATE':
      return interaction(d, ctx);
    default:
      return { events: [], skipped: `unknown:${t.slice(0, 64)}` };
  }
}

function message(t: string, d: Obj, ctx: NormalizeContext): Normalized {
  const id = idOf(d.id);
  const channelId = idOf(d.channel_id);
  const author = isObj(d.author) ? d.author : undefined;
  const authorId = idOf(author?.id);
  // An update without author or edit time is Discord filling in embeds, not a person editing.
  if (!id || !channelId) return { events: [], skipped: 'malformed' };
  if (!author || !authorId) return { events: [], skipped: t === 'MESSAGE_UPDATE' ? 'partial-update' : 'malformed' };
  if (authorId === ctx.botUserId) return { events: [], skipped: 'own' };
  if (typeof d.type === 'number' && !PERSON_MESSAGE_TYPES.has(d.type)) return { events: [], skipped: 'system' };
  const guildId = idOf(d.guild_id);
  const info = ctx.channel(channelId);
  if (guildId && !info) return { events: [], needsChannel: channelId };
  if (typeof d.content !== 'string') return { events: [], skipped: t === 'MESSAGE_UPDATE' ? 'partial-update' : 'malformed' };
  const edited = typeof d.edited_timestamp === 'string' ? d.edited_timestamp : null;
  if (t === 'MESSAGE_UPDATE' && !edited) return { events: [], skipped: 'partial-update' };

  let text = d.content;
  const hasAttachments = Array.isArray(d.attachments) && d.attachments.length > 0;
  if (!text.trim() && !hasAttachments) return { events: [], skipped: 'empty' };
  // A forum post's first message is the post: its title is part of what was asked.
  const isPostStart = !!info && THREAD_TYPES.has(info.type) && POST_CHANNEL_TYPES.has(info.parentType ?? -1) && id === channelId;
  if (isPostStart && info?.name) text = `${info.name}\n\n${text}`;

  const member = isObj(d.member) ? d.member : undefined;
  const isAdmin = guildId ? ctx.isAdmin(guildId, info, authorId, rolesOf(member), timedOutUntil(member)) : false;
  const command = t === 'MESSAGE_CREATE' && parseCommand(d.content, ctx.botUsername) !== null;
  const kind: ChatEventKind = t === 'MESSAGE_UPDATE' ? 'edit' : command ? 'command' : 'message';
  const at = Date.parse(edited ?? (typeof d.timestamp === 'string' ? d.timestamp : '')) || snowflakeTime(id) || ctx.now();

  const ev: ChatEventInput = {
    v: 1,
    id: t === 'MESSAGE_UPDATE' ? makeEventId('discord', 'edit', channelId, id, at) : makeEventId('discord', 'message', channelId, id),
    kind,
    platform: 'discord',
    chat: chatOf(channelId, info),
    chatType: guildId ? (info?.type === 5 ? 'channel' : 'group') : info?.type === 3 ? 'group' : 'private',
    messageId: id,
    user: userFrom(author, member, isAdmin),
    text,
    at,
    source: 'live',
    url: messageUrl(guildId, channelId, id),
    raw: { t, type: d.type, guild: guildId ?? null, channel: channelId },
  };
  const ref = isObj(d.message_reference) ? d.message_reference : undefined;
  // Only a reply (type 0 reference) is a reply; forwards carry a reference too.
  if (ref && (ref.type === undefined || ref.type === 0) && idOf(ref.message_id) && (d.type === 19 || d.type === undefined)) {
    ev.replyTo = idOf(ref.message_id)!;
    const refAuthor = isObj(d.referenced_message) && isObj(d.referenced_message.author) ? idOf(d.referenced_message.author.id) : undefined;
    if (refAuthor) ev.replyToUser = userKey('discord', refAuthor);
  }
  if (Array.isArray(d.mentions)) {
    const m = d.mentions.flatMap((u) => (isObj(u) && idOf(u.id) ? [userKey('discord', idOf(u.id)!)] : [])).slice(0, 100);
    if (m.length) ev.mentions = m;
  }
  const links = linksOf(d.content, d.attachments);
  if (links.length) ev.links = links;
  return { events: [ev] };
}

function deletes(d: Obj, ids: unknown[], ctx: NormalizeContext): Normalized {
  const channelId = idOf(d.channel_id);
  if (!channelId) return { events: [], skipped: 'malformed' };
  const guildId = idOf(d.guild_id);
  const info = ctx.channel(channelId);
  if (guildId && !info) return { events: [], needsChannel: channelId };
  const events: ChatEventInput[] = [];
  for (const raw of ids) {
    const id = idOf(raw);
    if (!id) continue;
    // The author is only known when the message is still in discord.js's cache (it is, at the time `raw` fires).
    const known = ctx.cachedAuthor(channelId, id);
    const user: ChatEventInput['user'] = known
      ? { id: userKey('discord', known.id), name: known.name, ...(known.username ? { username: known.username } : {}), isAdmin: false }
      : { id: userKey('discord', 'unknown'), name: 'unknown', isAdmin: false };
    if (known?.id === ctx.botUserId) continue;
    events.push({
      v: 1,
      id: makeEventId('discord', 'delete', channelId, id),
      kind: 'delete',
      platform: 'discord',
      chat: chatOf(channelId, info),
      chatType: guildId ? 'group' : 'private',
      messageId: id,
      user,
      at: ctx.now(),
      source: 'live',
    });
  }
  return events.length ? { events } : { events: [], skipped: 'empty' };
}

function emojiOf(e: unknown): string | undefined {
  if (!isObj(e)) return undefined;
  const name = typeof e.name === 'string' ? e.name.slice(0, 32) : undefined;
  const id = idOf(e.id);
  if (!name) return undefined;
  return id ? `${name}:${id}` : name;
}

function reaction(added: boolean, d: Obj, seq: number | null, ctx: NormalizeContext): Normalized {
  const channelId = idOf(d.channel_id);
  const messageId = idOf(d.message_id);
  const userId = idOf(d.user_id);
  const emoji = emojiOf(d.emoji);
  if (!channelId || !messageId || !userId || !emoji) return { events: [], skipped: 'malformed' };
  if (userId === ctx.botUserId) return { events: [], skipped: 'own' };
  const guildId = idOf(d.guild_id);
  const info = ctx.channel(channelId);
  if (guildId && !info) return { events: [], needsChannel: channelId };
  const member = isObj(d.member) ? d.member : undefined;
  const memberUser = member && isObj(member.user) ? member.user : undefined;
  const known = memberUser ? undefined : ctx.cachedUser(guildId ?? null, userId);
  const isAdmin = guildId ? ctx.isAdmin(guildId, info, userId, rolesOf(member), timedOutUntil(member)) : false;
  const user = memberUser
    ? userFrom(memberUser, member, isAdmin)
    : { id: userKey('discord', userId), name: known?.name ?? 'unknown', ...(known?.username ? { username: known.username } : {}), isAdmin };
  return {
    events: [
      {
        v: 1,
        // Reactions have no id of their own; the session and sequence are the same when a RESUME replays them.
        id: makeEventId('discord', 'reaction', channelId, messageId, userId, emoji, added ? 'add' : 'remove', `${ctx.sessionId}-${seq ?? 0}`),
        kind: 'reaction',
        platform: 'discord',
        chat: chatOf(channelId, info),
        chatType: guildId ? 'group' : 'private',
        messageId,
        user,
        reaction: { emoji, added },
        at: ctx.now(),
        source: 'live',
      },
    ],
  };
}

function membership(joined: boolean, d: Obj, seq: number | null, ctx: NormalizeContext): Normalized {
  const guildId = idOf(d.guild_id);
  const user = isObj(d.user) ? d.user : undefined;
  const userId = idOf(user?.id);
  if (!guildId || !user || !userId) return { events: [], skipped: 'malformed' };
  if (userId === ctx.botUserId) return { events: [], skipped: 'own' };
  // Joins are guild-wide on Discord; they are reported in the guild's system channel, where welcomes go.
  const channelId = ctx.systemChannel(guildId) ?? guildId;
  const joinedAt = typeof d.joined_at === 'string' ? Date.parse(d.joined_at) : NaN;
  return {
    events: [
      {
        v: 1,
        id: joined
          ? makeEventId('discord', 'join', guildId, userId, Number.isFinite(joinedAt) ? joinedAt : `${ctx.sessionId}-${seq ?? 0}`)
          : makeEventId('discord', 'leave', guildId, userId, `${ctx.sessionId}-${seq ?? 0}`),
        kind: joined ? 'join' : 'leave',
        platform: 'discord',
        chat: chatKey('discord', channelId),
        chatType: 'group',
        user: userFrom(user, d, false),
        at: joined && Number.isFinite(joinedAt) ? joinedAt : ctx.now(),
        source: 'live',
        raw: { t: joined ? 'GUILD_MEMBER_ADD' : 'GUILD_MEMBER_REMOVE', guild: guildId },
      },
    ],
  };
}

/** The reply handle of an interaction: what `answer` needs to follow up, for 15 minutes. */
export function encodeReplyHandle(applicationId: string, interactionId: string, token: string): string {
  return `${applicationId}:${interactionId}:${token}`;
}

/** Splits a reply handle; null when it is not one of ours. */
export function decodeReplyHandle(handle: string): { applicationId: string; interactionId: string; token: string } | null {
  const [applicationId, interactionId, ...rest] = handle.split(':');
  const token = rest.join(':');
  if (!applicationId || !interactionId || !token || !/^[\w-]+$/.test(applicationId) || !/^[\w.-]+$/.test(token)) return null;
  return { applicationId, interactionId, token };
}

function interaction(d: Obj, ctx: NormalizeContext): Normalized {
  const id = idOf(d.id);
  const token = typeof d.token === 'string' && /^[\w.-]{1,1000}$/.test(d.token) ? d.token : undefined;
  const applicationId = idOf(d.application_id);
  const channelObj = isObj(d.channel) ? d.channel : undefined;
  const channelId = idOf(d.channel_id) ?? idOf(channelObj?.id);
  const member = isObj(d.member) ? d.member : undefined;
  const person = member && isObj(member.user) ? member.user : isObj(d.user) ? d.user : undefined;
  const userId = idOf(person?.id);
  const data = isObj(d.data) ? d.data : undefined;
  if (!id || !token || !applicationId || !channelId || !person || !userId || !data) return { events: [], skipped: 'malformed' };
  const guildId = idOf(d.guild_id);
  // The interaction carries its channel; fall back to the cache, then to a fetch.
  let info = ctx.channel(channelId);
  if (!info && channelObj && typeof channelObj.type === 'number') {
    info = { id: channelId, type: channelObj.type, guildId: guildId ?? null, parentId: idOf(channelObj.parent_id) ?? null, name: str(channelObj.name) ?? null };
  }
  if (guildId && !info) return { events: [], needsChannel: channelId };
  // Discord computes the member's permissions in this channel for us.
  const perms = parsePermissionBits(member?.permissions);
  const isAdmin = guildId ? ctx.isAdmin(guildId, info, userId, rolesOf(member), timedOutUntil(member)) || hasModPerms(perms) : false;
  const at = snowflakeTime(id) ?? ctx.now();
  const base = {
    v: 1 as const,
    platform: 'discord' as const,
    chat: chatOf(channelId, info),
    chatType: guildId ? ('group' as const) : ('private' as const),
    user: userFrom(person, member, isAdmin),
    at,
    source: 'live' as const,
    replyHandle: encodeReplyHandle(applicationId, id, token),
  };
  if (d.type === 2 && (data.type === 1 || data.type === undefined)) {
    const cmd = interactionToCommand(data);
    if (!cmd) return { events: [], skipped: 'malformed' };
    const name = String(data.name);
    const ev: ChatEventInput = { ...base, id: makeEventId('discord', 'interaction', id), kind: 'command', text: cmd.text, raw: { t: 'INTERACTION_CREATE', type: 2, name } };
    if (cmd.mentionedUserIds.length) ev.mentions = cmd.mentionedUserIds.map((u) => userKey('discord', u));
    const ephemeral = ctx.ephemeralCommands.has(name);
    return { events: [ev], interaction: { id, token, applicationId, callbackType: 5, ephemeral, at } };
  }
  if (d.type === 3) {
    const customId = typeof data.custom_id === 'string' ? data.custom_id : '';
    const messageId = isObj(d.message) ? idOf(d.message.id) : undefined;
    const pending: PendingInteraction = { id, token, applicationId, callbackType: 6, ephemeral: false, at };
    if (!customId.startsWith(VOTE_BUTTON_PREFIX)) return { events: [], skipped: 'foreign-component', interaction: pending };
    const ev: ChatEventInput = {
      ...base,
      id: makeEventId('discord', 'interaction', id),
      kind: 'vote',
      vote: { target: customId.slice(VOTE_BUTTON_PREFIX.length).slice(0, 100), added: true },
      raw: { t: 'INTERACTION_CREATE', type: 3 },
    };
    if (messageId) ev.messageId = messageId;
    return { events: [ev], interaction: pending };
  }
  // Autocomplete, modals and context menus are not registered by Townhall.
  return { events: [], skipped: `interaction-type-${String(d.type).slice(0, 8)}` };
}

function hasModPerms(perms: bigint): boolean {
  return (perms & MODERATOR_PERMISSIONS) !== 0n;
}
