/** The fake Discord's world: one guild, its channels, threads, members and messages, and what the bot did to them. */
import { randomBytes } from 'node:crypto';
import type { OutboxEntry, SandboxUser } from '../../src/core/index.js';
import type { FakeGateway } from './gateway.js';
import {
  BOT_PERMISSIONS,
  CHAT_ADMIN_ALLOW,
  EVERYONE_PERMISSIONS,
  MODERATOR_PERMISSIONS,
  permissionsIn,
  role,
  snowflake,
  usernameOf,
  type FakeChannel,
  type FakeMember,
  type FakeMessage,
  type FakeRole,
  type FakeUser,
} from './model.js';

/** An interaction the fake handed to the bot, and how the bot answered it. */
export interface FakeInteraction {
  id: string;
  token: string;
  type: number;
  channelId: string;
  userId: string;
  createdAt: number;
  /** When the first callback (defer or reply) arrived, and its type. */
  respondedAt?: number;
  responseType?: number;
  ephemeral: boolean;
  /** Messages sent through the interaction's webhook (follow-ups and the edited original). */
  followups: FakeMessage[];
}

/** Thread and post channel types. */
export const THREAD_TYPES = new Set([10, 11, 12]);

/** The state of the fake platform. */
export class FakeState {
  readonly guildId = snowflake();
  readonly applicationId = snowflake();
  readonly bot: FakeUser;
  readonly owner: FakeUser;
  readonly roles: FakeRole[];
  readonly moderatorRoleId = snowflake();
  readonly botRoleId = snowflake();
  readonly users = new Map<string, FakeUser>();
  readonly members = new Map<string, FakeMember>();
  readonly channels = new Map<string, FakeChannel>();
  readonly messages = new Map<string, FakeMessage>();
  readonly channelMessages = new Map<string, string[]>();
  readonly bans = new Map<string, { reason: string | null }>();
  readonly interactions = new Map<string, FakeInteraction>();
  readonly dmChannels = new Map<string, string>();
  readonly globalCommands: unknown[] = [];
  readonly guildCommands = new Map<string, unknown[]>();
  readonly outboxEntries: OutboxEntry[] = [];
  systemChannelId: string | null = null;

  constructor(
    readonly gateway: FakeGateway,
    botUsername: string,
  ) {
    this.bot = { id: snowflake(), username: botUsername, global_name: 'Townhall', discriminator: '0', avatar: null, bot: true };
    this.owner = { id: snowflake(), username: 'server_owner', global_name: 'Server Owner', discriminator: '0', avatar: null };
    this.users.set(this.bot.id, this.bot);
    this.users.set(this.owner.id, this.owner);
    this.roles = [
      role(this.guildId, '@everyone', EVERYONE_PERMISSIONS, 0),
      role(this.moderatorRoleId, 'Moderators', MODERATOR_PERMISSIONS, 1),
      role(this.botRoleId, 'Townhall', BOT_PERMISSIONS, 2),
    ];
    this.members.set(this.bot.id, this.member(this.bot, [this.botRoleId]));
    this.members.set(this.owner.id, this.member(this.owner, []));
  }

  private member(user: FakeUser, roles: string[]): FakeMember {
    return { user, roles, joined_at: new Date().toISOString(), nick: null, deaf: false, mute: false, flags: 0, pending: false, communication_disabled_until: null };
  }

  /** A user, created on first use (a sandbox user or a bare id). */
  ensureUser(u: SandboxUser | string): FakeUser {
    const id = typeof u === 'string' ? u : u.id;
    const name = typeof u === 'string' ? u : u.name;
    let user = this.users.get(id);
    if (!user) {
      user = { id, username: usernameOf(name, id), global_name: name, discriminator: '0', avatar: null };
      this.users.set(id, user);
    } else if (typeof u !== 'string' && u.name && user.global_name !== u.name) {
      user.global_name = u.name;
    }
    return user;
  }

  /** A guild member, created on first use; `admin` makes them a moderator of that channel (or removes it). */
  ensureMember(u: SandboxUser | string, channelId?: string, admin?: boolean): FakeMember {
    const user = this.ensureUser(u);
    let m = this.members.get(user.id);
    if (!m) {
      m = this.member(user, []);
      this.members.set(user.id, m);
    }
    if (channelId && admin !== undefined) this.setChatAdmin(channelId, user.id, admin);
    return m;
  }

  /** Gives or takes moderator rights in one channel via a member overwrite (ManageMessages), as a server would. */
  setChatAdmin(channelId: string, userId: string, admin: boolean): void {
    const ch = this.ensureChannel(channelId);
    const target = ch.parent_id && THREAD_TYPES.has(ch.type) ? this.ensureChannel(ch.parent_id) : ch;
    const list = (target.permission_overwrites ??= []);
    const i = list.findIndex((o) => o.type === 1 && o.id === userId);
    const has = i >= 0 && (BigInt(list[i]!.allow) & CHAT_ADMIN_ALLOW) !== 0n;
    if (has === admin) return;
    if (i >= 0) list.splice(i, 1);
    if (admin) list.push({ id: userId, type: 1, allow: CHAT_ADMIN_ALLOW.toString(), deny: '0' });
    this.gateway.dispatch(THREAD_TYPES.has(target.type) ? 'THREAD_UPDATE' : 'CHANNEL_UPDATE', target);
  }

  /** Gives a member a role (the guild-wide "Moderators" one by default). */
  addRole(userId: string, roleId = this.moderatorRoleId): void {
    const m = this.ensureMember(userId);
    if (!m.roles.includes(roleId)) m.roles.push(roleId);
    this.gateway.dispatch('GUILD_MEMBER_UPDATE', { guild_id: this.guildId, ...m });
  }

  /** Creates a role with the given permissions. */
  createRole(name: string, permissions: bigint): FakeRole {
    const r = role(snowflake(), name, permissions, this.roles.length);
    this.roles.push(r);
    this.gateway.dispatch('GUILD_ROLE_CREATE', { guild_id: this.guildId, role: r });
    return r;
  }

  /** A guild channel, created on first use (text by default). */
  ensureChannel(id: string, opts: { type?: number; name?: string } = {}): FakeChannel {
    let ch = this.channels.get(id);
    if (ch) return ch;
    ch = {
      id,
      type: opts.type ?? 0,
      guild_id: this.guildId,
      name: opts.name ?? (/^\d+$/.test(id) ? `channel-${id.slice(-4)}` : id),
      parent_id: null,
      position: this.channels.size,
      permission_overwrites: [],
      rate_limit_per_user: 0,
      topic: null,
      nsfw: false,
      last_message_id: null,
      flags: 0,
      ...(opts.type === 15 || opts.type === 16 ? { available_tags: [] } : {}),
    };
    this.channels.set(id, ch);
    this.channelMessages.set(id, []);
    this.gateway.dispatch('CHANNEL_CREATE', ch);
    if (this.systemChannelId === null && ch.type === 0) {
      // The first text channel is where the server posts joins, as on a new Discord server.
      this.systemChannelId = id;
      this.gateway.dispatch('GUILD_UPDATE', { id: this.guildId, name: 'Townhall Fake Guild', owner_id: this.owner.id, system_channel_id: id, roles: this.roles, features: [] });
    }
    return ch;
  }

  /** A public thread under a channel (a forum post when the parent is a forum). */
  createThread(parentId: string, opts: { id?: string; name: string; by: FakeUser }): FakeChannel {
    const parent = this.ensureChannel(parentId);
    const id = opts.id ?? snowflake();
    const now = new Date().toISOString();
    const th: FakeChannel = {
      id,
      type: parent.type === 5 ? 10 : 11,
      guild_id: this.guildId,
      name: opts.name.slice(0, 100),
      parent_id: parent.id,
      owner_id: opts.by.id,
      rate_limit_per_user: 0,
      last_message_id: null,
      message_count: 0,
      member_count: 1,
      flags: 0,
      thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: now, locked: false, create_timestamp: now },
    };
    this.channels.set(id, th);
    this.channelMessages.set(id, []);
    this.gateway.dispatch('THREAD_CREATE', { ...th, newly_created: true });
    return th;
  }

  /** The DM channel between the bot and a user. */
  dmChannel(user: FakeUser): FakeChannel {
    const existing = this.dmChannels.get(user.id);
    if (existing) return this.channels.get(existing)!;
    const ch: FakeChannel = { id: snowflake(), type: 1, name: null, parent_id: null, recipients: [user], last_message_id: null, flags: 0 };
    this.channels.set(ch.id, ch);
    this.channelMessages.set(ch.id, []);
    this.dmChannels.set(user.id, ch.id);
    return ch;
  }

  /** Stores a message and dispatches MESSAGE_CREATE. */
  addMessage(input: {
    channel: FakeChannel;
    author: FakeUser;
    content: string;
    at?: number;
    id?: string;
    type?: number;
    replyTo?: FakeMessage | undefined;
    mentions?: FakeUser[];
    mentionRoles?: string[];
    mentionEveryone?: boolean;
    attachments?: { filename: string; url: string }[];
    components?: unknown[];
    nonce?: string;
    flags?: number;
    webhookId?: string;
  }): FakeMessage {
    const at = input.at ?? Date.now();
    const ch = input.channel;
    const msg: FakeMessage = {
      id: input.id ?? snowflake(at),
      type: input.type ?? (input.replyTo ? 19 : 0),
      channel_id: ch.id,
      ...(ch.guild_id ? { guild_id: ch.guild_id } : {}),
      author: input.author,
      content: input.content,
      timestamp: new Date(at).toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: input.mentionEveryone ?? false,
      mentions: input.mentions ?? [],
      mention_roles: input.mentionRoles ?? [],
      attachments: (input.attachments ?? []).map((a) => ({ id: snowflake(), filename: a.filename, size: 1000, url: a.url, proxy_url: a.url })),
      embeds: [],
      components: input.components ?? [],
      pinned: false,
      flags: input.flags ?? 0,
      ...(input.nonce ? { nonce: input.nonce } : {}),
      ...(input.webhookId ? { webhook_id: input.webhookId, application_id: this.applicationId } : {}),
    };
    if (input.replyTo) {
      const r = input.replyTo;
      msg.message_reference = { type: 0, message_id: r.id, channel_id: r.channel_id, ...(r.guild_id ? { guild_id: r.guild_id } : {}) };
      const { referenced_message: _drop, reactionUsers: _r, ...rest } = r;
      msg.referenced_message = rest;
    }
    if (THREAD_TYPES.has(ch.type)) {
      ch.message_count = (ch.message_count ?? 0) + 1;
      msg.position = ch.message_count;
    }
    ch.last_message_id = msg.id;
    this.messages.set(msg.id, msg);
    const list = this.channelMessages.get(ch.id);
    if (list) list.push(msg.id);
    else this.channelMessages.set(ch.id, [msg.id]);
    this.gateway.dispatch('MESSAGE_CREATE', this.wire(msg));
    return msg;
  }

  /** A message as the API returns it (with the author's member in guilds). */
  wire(m: FakeMessage): Record<string, unknown> {
    const { reactionUsers, ...rest } = m;
    const out: Record<string, unknown> = { ...rest };
    if (m.guild_id && !m.webhook_id) {
      const mem = this.members.get(m.author.id);
      if (mem) {
        const { user: _u, ...member } = mem;
        out.member = member;
      }
    }
    if (reactionUsers?.size) {
      out.reactions = [...reactionUsers].map(([emoji, users]) => ({ count: users.size, me: users.has(this.bot.id), emoji: { id: null, name: emoji } }));
    }
    return out;
  }

  /** The member object with its user, as gateway events carry it. */
  memberWire(userId: string): Record<string, unknown> | undefined {
    const m = this.members.get(userId);
    return m ? { ...m } : undefined;
  }

  /** A member's permissions in a channel (threads use their parent's overwrites). */
  permissionsOf(userId: string, channelId: string): bigint {
    const ch = this.channels.get(channelId);
    const base = ch && ch.parent_id && THREAD_TYPES.has(ch.type) ? this.channels.get(ch.parent_id) : ch;
    const member = this.members.get(userId) ?? { user: this.ensureUser(userId), roles: [] };
    return permissionsIn({ guildId: this.guildId, ownerId: this.owner.id, roles: this.roles, member, overwrites: base?.permission_overwrites ?? [] });
  }

  /** Removes a message (dispatching MESSAGE_DELETE unless told it is part of a bulk delete). */
  removeMessage(m: FakeMessage, dispatch = true): void {
    this.messages.delete(m.id);
    const list = this.channelMessages.get(m.channel_id);
    if (list) {
      const i = list.indexOf(m.id);
      if (i >= 0) list.splice(i, 1);
    }
    if (dispatch) this.gateway.dispatch('MESSAGE_DELETE', { id: m.id, channel_id: m.channel_id, ...(m.guild_id ? { guild_id: m.guild_id } : {}) });
  }

  /** Records what the bot did, in contract §7's terms (threads reported under their parent chat). */
  record(entry: Omit<OutboxEntry, 'at' | 'chat'> & { channelId: string }): void {
    const { channelId, ...rest } = entry;
    const ch = this.channels.get(channelId);
    const inThread = ch && ch.parent_id && THREAD_TYPES.has(ch.type);
    const e: OutboxEntry = { ...rest, chat: inThread ? ch.parent_id! : channelId, at: Date.now() };
    if (inThread && e.thread === undefined) e.thread = channelId;
    this.outboxEntries.push(e);
  }

  /** A fresh interaction token (secret-looking, URL-safe). */
  newToken(): string {
    return `aW50ZXJhY3Rpb24${randomBytes(24).toString('base64url')}`;
  }
}
