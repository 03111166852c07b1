/**
 * A fake Discord on 127.0.0.1 for the real discord.js: REST (point `rest.api` at `url`) whose `GET /gateway/bot`
 * leads to a fake gateway WebSocket. Implements SandboxPlatform for `townhall sandbox`, plus hooks for tests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutboxEntry, SandboxMessageInput, SandboxPlatform, SandboxUser } from '../../src/core/index.js';
import { FakeGateway } from './gateway.js';
import { snowflake, type FakeChannel, type FakeMessage, type FakeUser } from './model.js';
import { FakeRest, type EnforcedLimit, type FailRule, type RestCall } from './rest.js';
import { FakeState, THREAD_TYPES, type FakeInteraction } from './state.js';

export type { EnforcedLimit, FailRule, RestCall } from './rest.js';
export type { FakeInteraction } from './state.js';
export type { FakeChannel, FakeMessage, FakeUser } from './model.js';

/** Options of the fake Discord. */
export interface DiscordFakeOptions {
  /** Port on 127.0.0.1 (0 = any free one). */
  port?: number;
  /** When set, only this bot token is accepted (REST 401, gateway close 4004 otherwise); any token when absent. */
  token?: string;
  /** HELLO's heartbeat interval (Discord: ~41 s). */
  heartbeatIntervalMs?: number;
  /** How many dispatches a session keeps for RESUME. */
  resumeBufferSize?: number;
  /** How long the bot has to acknowledge an interaction (Discord: 3 s). */
  interactionWindowMs?: number;
  /** Budgets enforced like Discord's buckets (none by default). */
  limits?: EnforcedLimit[];
}

/** A slash command option as the gateway delivers it. */
export interface FakeCommandOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: FakeCommandOption[];
}

const CHANNEL_TYPES = { text: 0, announcement: 5, stage: 13, forum: 15, media: 16, voice: 2 } as const;

/** The fake Discord: sandbox surface plus test hooks. */
export class DiscordFake implements SandboxPlatform {
  /** The REST API root to give discord.js as `rest.api` (`http://127.0.0.1:PORT/api`). */
  url = '';
  /** The gateway URL `GET /gateway/bot` hands out. */
  gatewayUrl = '';
  /** What the sandbox gives the adapter: the configured token, else one the fake takes (any token when none is set). */
  readonly credentials: Readonly<Record<string, string>>;
  readonly state: FakeState;
  readonly gateway: FakeGateway;
  readonly rest: FakeRest;
  private readonly server: Server;

  constructor(private readonly opts: DiscordFakeOptions = {}) {
    this.credentials = { DISCORD_BOT_TOKEN: opts.token ?? 'sandbox.discord.token-not-a-real-secret-000000' };
    this.gateway = new FakeGateway(
      {
        checkToken: (t) => typeof t === 'string' && t.length > 0 && (opts.token === undefined || t === opts.token),
        readyPayload: (sessionId, resumeUrl) => this.readyPayload(sessionId, resumeUrl),
        guildCreatePayloads: () => [this.guildCreatePayload()],
        membersChunk: (guildId) => ({ guild_id: guildId, members: [...this.state.members.values()], chunk_index: 0, chunk_count: 1 }),
      },
      { heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 41_250, bufferSize: opts.resumeBufferSize ?? 1000 },
    );
    this.state = new FakeState(this.gateway, 'townhall_bot');
    this.rest = new FakeRest(this.state, { token: opts.token, gatewayUrl: () => this.gatewayUrl, interactionWindowMs: opts.interactionWindowMs ?? 3000 });
    this.rest.limits = opts.limits ?? [];
    this.server = createServer((req, res) => {
      if (!(req.url ?? '').startsWith('/api')) {
        res.statusCode = 404;
        res.end();
        return;
      }
      this.rest.handle(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    this.server.on('upgrade', (req, socket, head) => this.gateway.handleUpgrade(req, socket, head));
  }

  /** Starts listening on 127.0.0.1. */
  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/api`;
    this.gatewayUrl = `ws://127.0.0.1:${port}/gateway`;
    this.gateway.url = this.gatewayUrl;
    return this;
  }

  // ---- what the bot sees on IDENTIFY ------------------------------------------------------------------

  private readyPayload(sessionId: string, resumeUrl: string): unknown {
    const s = this.state;
    return {
      v: 10,
      user: { ...s.bot, verified: true, mfa_enabled: false, flags: 0 },
      guilds: [{ id: s.guildId, unavailable: true }],
      session_id: sessionId,
      session_type: 'normal',
      resume_gateway_url: resumeUrl,
      shard: [0, 1],
      application: { id: s.applicationId, flags: 0 },
      user_settings: {},
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
    };
  }

  private guildCreatePayload(): unknown {
    const s = this.state;
    const all = [...s.channels.values()].filter((c) => c.guild_id);
    return {
      id: s.guildId,
      name: 'Townhall Fake Guild',
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: s.owner.id,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      premium_subscription_count: 0,
      premium_progress_bar_enabled: false,
      preferred_locale: 'en-US',
      system_channel_id: s.systemChannelId,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      vanity_url_code: null,
      application_id: null,
      features: [],
      roles: s.roles,
      emojis: [],
      stickers: [],
      joined_at: new Date().toISOString(),
      large: false,
      unavailable: false,
      member_count: s.members.size,
      max_members: 500_000,
      max_video_channel_users: 25,
      voice_states: [],
      members: [...s.members.values()],
      channels: all.filter((c) => !THREAD_TYPES.has(c.type)),
      threads: all.filter((c) => THREAD_TYPES.has(c.type)),
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  // ---- setup ------------------------------------------------------------------------------------------

  /** The guild every chat lives in. */
  get guildId(): string {
    return this.state.guildId;
  }

  /** The application (bot) id. */
  get applicationId(): string {
    return this.state.applicationId;
  }

  /** The bot user (`townhall_bot`). */
  get botUser(): FakeUser {
    return this.state.bot;
  }

  /** Creates a channel of a kind (text by default); an existing one is returned as is. */
  createChannel(id: string, opts: { type?: keyof typeof CHANNEL_TYPES; name?: string } = {}): FakeChannel {
    return this.state.ensureChannel(id, { type: CHANNEL_TYPES[opts.type ?? 'text'], ...(opts.name ? { name: opts.name } : {}) });
  }

  /** Gives a user the guild-wide "Moderators" role (ban, timeout, manage messages). */
  addModerator(user: SandboxUser | string): void {
    const u = this.state.ensureUser(user);
    this.state.addRole(u.id);
  }

  /** Creates a role (no permissions by default) and returns its id. */
  createRole(name: string, permissions = 0n): string {
    return this.state.createRole(name, permissions).id;
  }

  /** Gives a user a role. */
  assignRole(user: SandboxUser | string, roleId: string): void {
    const u = this.state.ensureUser(user);
    this.state.addRole(u.id, roleId);
  }

  // ---- people doing things (SandboxPlatform and more) ---------------------------------------------------

  private channelFor(chat: string, thread?: string): FakeChannel {
    const parent = this.state.channels.get(chat) ?? this.state.ensureChannel(chat);
    if (!thread) return parent;
    return this.state.channels.get(thread) ?? this.state.createThread(parent.id, { id: thread, name: `thread-${thread}`, by: this.state.owner });
  }

  /** A person writes in a chat (or a thread of it). Extra fields: attachments and a past time. */
  async injectMessage(input: SandboxMessageInput & { attachments?: { filename: string; url: string }[]; at?: number }): Promise<{ id: string }> {
    const s = this.state;
    const channel = this.channelFor(input.chat, input.thread);
    const baseId = channel.parent_id && THREAD_TYPES.has(channel.type) ? channel.parent_id : channel.id;
    s.ensureMember(input.user, baseId, input.user.admin);
    const author = s.ensureUser(input.user);
    const replyTo = input.replyTo ? s.messages.get(input.replyTo) : undefined;
    const mentions = [...input.text.matchAll(/<@!?([^>\s]+)>/g)].map((m) => s.users.get(m[1]!)).filter((u): u is FakeUser => !!u);
    if (replyTo && !mentions.includes(replyTo.author)) mentions.push(replyTo.author);
    const msg = s.addMessage({
      channel,
      author,
      content: input.text,
      replyTo,
      mentions,
      mentionEveryone: /@(everyone|here)\b/.test(input.text),
      ...(input.attachments ? { attachments: input.attachments } : {}),
      ...(input.at ? { at: input.at } : {}),
    });
    return { id: msg.id };
  }

  /** A person writes to the bot privately. */
  async injectDirectMessage(input: { user: SandboxUser; text: string }): Promise<{ id: string; channel: string }> {
    const author = this.state.ensureUser(input.user);
    const ch = this.state.dmChannel(author);
    const msg = this.state.addMessage({ channel: ch, author, content: input.text });
    return { id: msg.id, channel: ch.id };
  }

  /** A person opens a post in a forum channel: the thread, then its first message (same id). */
  async injectForumPost(input: { forum: string; user: SandboxUser; title: string; text: string }): Promise<{ id: string; thread: string }> {
    const s = this.state;
    const forum = s.channels.get(input.forum) ?? s.ensureChannel(input.forum, { type: 15 });
    s.ensureMember(input.user, forum.id, input.user.admin);
    const author = s.ensureUser(input.user);
    const th = s.createThread(forum.id, { name: input.title, by: author });
    const msg = s.addMessage({ channel: th, author, content: input.text, id: th.id });
    return { id: msg.id, thread: th.id };
  }

  /** A person edits their message. */
  async injectEdit(input: { message: string; text: string }): Promise<void> {
    const s = this.state;
    const msg = s.messages.get(input.message);
    if (!msg) throw new Error(`no message ${input.message}`);
    msg.content = input.text;
    msg.edited_timestamp = new Date().toISOString();
    s.gateway.dispatch('MESSAGE_UPDATE', s.wire(msg));
  }

  /** A person (or a moderator) deletes a message. */
  async injectDelete(input: { message: string }): Promise<void> {
    const msg = this.state.messages.get(input.message);
    if (!msg) throw new Error(`no message ${input.message}`);
    this.state.removeMessage(msg);
  }

  /** A person reacts to a message (contract §7). */
  async injectReaction(input: { chat: string; message: string; user: SandboxUser | string; emoji: string }): Promise<void> {
    const s = this.state;
    const msg = s.messages.get(input.message);
    const channelId = msg?.channel_id ?? input.chat;
    const member = s.ensureMember(input.user);
    const users = msg ? ((msg.reactionUsers ??= new Map()).get(input.emoji) ?? new Set<string>()) : new Set<string>();
    users.add(member.user.id);
    msg?.reactionUsers?.set(input.emoji, users);
    s.gateway.dispatch('MESSAGE_REACTION_ADD', {
      user_id: member.user.id,
      channel_id: channelId,
      message_id: input.message,
      guild_id: s.guildId,
      member: s.memberWire(member.user.id),
      emoji: { id: null, name: input.emoji },
      ...(msg ? { message_author_id: msg.author.id } : {}),
      burst: false,
      type: 0,
    });
  }

  /** A person takes their reaction back (Discord sends no member with it). */
  async injectReactionRemove(input: { chat: string; message: string; user: SandboxUser | string; emoji: string }): Promise<void> {
    const s = this.state;
    const msg = s.messages.get(input.message);
    const user = s.ensureUser(input.user);
    msg?.reactionUsers?.get(input.emoji)?.delete(user.id);
    s.gateway.dispatch('MESSAGE_REACTION_REMOVE', {
      user_id: user.id, channel_id: msg?.channel_id ?? input.chat, message_id: input.message, guild_id: s.guildId, emoji: { id: null, name: input.emoji }, burst: false, type: 0,
    });
  }

  /** A person joins the server (contract §7; Discord reports joins guild-wide). */
  async injectJoin(input: { chat: string; user: SandboxUser }): Promise<void> {
    const s = this.state;
    s.ensureChannel(input.chat);
    const existed = s.members.has(input.user.id);
    const m = s.ensureMember(input.user, input.chat, input.user.admin);
    if (!existed) m.joined_at = new Date().toISOString();
    s.gateway.dispatch('GUILD_MEMBER_ADD', { guild_id: s.guildId, ...m });
  }

  /** A person leaves the server. */
  async injectLeave(input: { user: string }): Promise<void> {
    const s = this.state;
    const user = s.ensureUser(input.user);
    s.members.delete(user.id);
    s.gateway.dispatch('GUILD_MEMBER_REMOVE', { guild_id: s.guildId, user });
  }

  /** A person runs a slash command; the bot must acknowledge within the interaction window. */
  async injectSlashCommand(input: { chat: string; thread?: string; user: SandboxUser; name: string; options?: FakeCommandOption[] }): Promise<{ id: string; token: string }> {
    const s = this.state;
    const channel = this.channelFor(input.chat, input.thread);
    s.ensureMember(input.user, channel.parent_id ?? channel.id, input.user.admin);
    const registered = [...s.globalCommands, ...(s.guildCommands.get(s.guildId) ?? [])].find((c) => (c as { name?: string }).name === input.name) as { id?: string } | undefined;
    const users: Record<string, FakeUser> = {};
    const members: Record<string, unknown> = {};
    const walk = (opts: FakeCommandOption[] | undefined) => {
      for (const o of opts ?? []) {
        if (o.type === 6 && typeof o.value === 'string') {
          const u = s.ensureUser(o.value);
          users[u.id] = u;
          const mem = s.members.get(u.id);
          if (mem) {
            const { user: _u, ...rest } = mem;
            members[u.id] = { ...rest, permissions: s.permissionsOf(u.id, channel.id).toString() };
          }
        }
        walk(o.options);
      }
    };
    walk(input.options);
    const data = {
      id: registered?.id ?? snowflake(),
      name: input.name,
      type: 1,
      guild_id: s.guildId,
      ...(input.options?.length ? { options: input.options } : {}),
      ...(Object.keys(users).length ? { resolved: { users, members } } : {}),
    };
    return this.interaction(2, channel, input.user, data);
  }

  /** A person clicks a button under a message. */
  async injectButton(input: { message: string; user: SandboxUser; customId: string }): Promise<{ id: string; token: string }> {
    const s = this.state;
    const msg = s.messages.get(input.message);
    if (!msg) throw new Error(`no message ${input.message}`);
    const channel = s.channels.get(msg.channel_id)!;
    s.ensureMember(input.user, channel.parent_id ?? channel.id, input.user.admin);
    return this.interaction(3, channel, input.user, { custom_id: input.customId, component_type: 2 }, s.wire(msg));
  }

  private interaction(type: number, channel: FakeChannel, person: SandboxUser, data: unknown, message?: unknown): { id: string; token: string } {
    const s = this.state;
    const user = s.ensureUser(person);
    const mem = s.members.get(user.id)!;
    const perms = s.permissionsOf(user.id, channel.id).toString();
    const it: FakeInteraction = { id: snowflake(), token: s.newToken(), type, channelId: channel.id, userId: user.id, createdAt: Date.now(), ephemeral: false, followups: [] };
    s.interactions.set(it.id, it);
    s.gateway.dispatch('INTERACTION_CREATE', {
      id: it.id,
      application_id: s.applicationId,
      type,
      token: it.token,
      version: 1,
      data,
      guild_id: s.guildId,
      guild: { id: s.guildId, locale: 'en-US', features: [] },
      channel_id: channel.id,
      channel: { ...channel, permissions: perms },
      member: { ...mem, avatar: null, permissions: perms },
      ...(message ? { message } : {}),
      app_permissions: s.permissionsOf(s.bot.id, channel.id).toString(),
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': s.guildId },
      context: 0,
      attachment_size_limit: 10_485_760,
    });
    return { id: it.id, token: it.token };
  }

  /** Dispatches any event as is (unknown types, hostile payloads). */
  dispatch(t: string, d: unknown): void {
    this.gateway.dispatch(t, d);
  }

  // ---- looking at what the bot did ------------------------------------------------------------------------

  /** Every call the bot made, in contract §7's terms; guild-wide ones (bans, timeouts) show under every chat of the guild. */
  outbox(chat?: string): OutboxEntry[] {
    const s = this.state;
    if (chat === undefined) return [...s.outboxEntries];
    const inGuild = s.channels.get(chat)?.guild_id === s.guildId;
    return s.outboxEntries.filter((e) => e.chat === chat || e.thread === chat || (inGuild && e.chat === s.guildId));
  }

  /** Every REST call, in order. */
  get calls(): RestCall[] {
    return this.rest.calls;
  }

  /** Resolves with the first REST call (past or future) that matches. */
  awaitCall(pred: (c: RestCall) => boolean, timeoutMs?: number): Promise<RestCall> {
    return this.rest.awaitCall(pred, timeoutMs);
  }

  /** Fails the next matching REST call(s) with 429 (retry_after and bucket headers), 403, 404 or 5xx. */
  failNext(rule: FailRule): void {
    this.rest.failNext(rule);
  }

  /** A message by id (undefined once deleted). */
  message(id: string): FakeMessage | undefined {
    return this.state.messages.get(id);
  }

  /** Messages of a channel, oldest first. */
  messagesIn(channelId: string): FakeMessage[] {
    return (this.state.channelMessages.get(channelId) ?? []).map((id) => this.state.messages.get(id)!).filter(Boolean);
  }

  /** A channel or thread by id. */
  channel(id: string): FakeChannel | undefined {
    return this.state.channels.get(id);
  }

  /** An interaction and how it was answered. */
  interactionById(id: string): FakeInteraction | undefined {
    return this.state.interactions.get(id);
  }

  /** Application commands registered globally and for the guild. */
  commands(): { global: unknown[]; guild: unknown[] } {
    return { global: [...this.state.globalCommands], guild: [...(this.state.guildCommands.get(this.state.guildId) ?? [])] };
  }

  // ---- the gateway --------------------------------------------------------------------------------------

  /** Sends RECONNECT (op 7); what is dispatched until the client resumes waits for the RESUME. */
  forceReconnect(): void {
    this.gateway.forceReconnect();
  }

  /** Sends INVALID_SESSION (op 9). */
  invalidateSession(resumable = false): void {
    this.gateway.invalidateSessions(resumable);
  }

  /** Cuts connections without a close frame. */
  dropConnection(): void {
    this.gateway.dropConnections();
  }

  /** Sends a raw frame on live connections (an object is JSON-encoded). */
  sendFrame(frame: unknown): void {
    this.gateway.sendFrame(frame);
  }

  /** Replays this many already-delivered dispatches on the next RESUME (Discord may redeliver). */
  redeliverOnResume(n: number): void {
    this.gateway.resumeOverlap = n;
  }

  /** Resolves on the next IDENTIFY that got a READY. */
  nextIdentify(timeoutMs = 10_000): Promise<void> {
    return waitEvent(this.gateway, 'identify', timeoutMs);
  }

  /** Resolves on the next successful RESUME. */
  nextResume(timeoutMs = 10_000): Promise<void> {
    return waitEvent(this.gateway, 'resume', timeoutMs);
  }

  /** Stops the servers. */
  async close(): Promise<void> {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function waitEvent(em: FakeGateway, name: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      em.off(name, on);
      reject(new Error(`no ${name} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = () => {
      clearTimeout(timer);
      resolve();
    };
    em.once(name, on);
  });
}

/** Starts a fake Discord on 127.0.0.1. */
export async function startDiscordFake(opts: DiscordFakeOptions = {}): Promise<DiscordFake> {
  return new DiscordFake(opts).listen();
}
