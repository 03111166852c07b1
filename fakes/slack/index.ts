/**
 * A fake Slack on 127.0.0.1 for the real Slack libraries (@slack/web-api, @slack/socket-mode, @slack/bolt): the Web API
 * (point WebClient's `slackApiUrl` at `url`), Socket Mode (apps.connections.open returns this server's own ws:// URL),
 * and the Events API over HTTP (signed POSTs to a Request URL). Implements SandboxPlatform for `townhall sandbox`,
 * plus hooks for tests: people's messages, edits, deletes, reactions, joins, slash commands and button clicks; forced
 * failures (`failNext`), disconnects, and the record of every call.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutboxEntry, SandboxMessageInput, SandboxPlatform, SandboxUser } from '../../src/core/index.js';
import { findButton } from './blocks.js';
import { FakeEventsHttp, type EventsHttpOptions, type HttpDelivery } from './events-http.js';
import type { RateLimitOptions } from './limits.js';
import { FakeSocketMode, type Envelope, type SocketModeOptions } from './socket-mode.js';
import { reactionName, SlackState, typedToSlack, type SlackChannel, type SlackMessage } from './state.js';
import { FakeWebApi, type FailRule, type FakeToken, type WebApiCall } from './web-api.js';

export type { Envelope } from './socket-mode.js';
export type { HttpDelivery } from './events-http.js';
export type { FailRule, WebApiCall } from './web-api.js';
export { slackSignature } from './events-http.js';
export { EMOJI_NAMES } from './state.js';

/** Tokens the fake accepts unless told otherwise (look like Slack's, are not secrets). */
export const FAKE_SLACK_TOKENS = {
  bot: 'xoxb-0000000000-fake-townhall-bot',
  app: 'xapp-1-A0TOWNHALL-fake-townhall-app',
  signingSecret: 'fake-signing-secret-0123456789abcdef',
} as const;

/** The scopes a Townhall install asks for (README: Slack app manifest). */
export const BOT_SCOPES = [
  'app_mentions:read',
  'channels:history',
  'channels:join',
  'channels:manage',
  'channels:read',
  'chat:write',
  'commands',
  'groups:history',
  'groups:read',
  'groups:write',
  'im:history',
  'im:read',
  'im:write',
  'pins:write',
  'reactions:read',
  'reactions:write',
  'users:read',
];

/** Options of the fake Slack. */
export interface SlackFakeOptions {
  /** Port on 127.0.0.1 (0 = any free one). */
  port?: number;
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
  /** Scopes of the bot token (default BOT_SCOPES). */
  botScopes?: string[];
  /** A workspace admin's user token (xoxp-) with these scopes, for the moderation Slack keeps from bots. */
  adminUserToken?: { token: string; userId?: string; scopes: string[] };
  /** How events reach the app: over Socket Mode (default) or signed POSTs to `requestUrl`. */
  delivery?: 'socket' | 'http';
  requestUrl?: string;
  /** Rate limits per method tier (false turns them off). */
  rateLimits?: RateLimitOptions | false;
  socketMode?: SocketModeOptions;
  http?: EventsHttpOptions;
  /** The workspace lets only admins remove people from channels (conversations.kick answers restricted_action). */
  kickRestricted?: boolean;
  /** New channels have the bot as a member (default true, as if it was invited). */
  botJoinsNewChannels?: boolean;
}

/** What a slash command or a button click produced. */
export interface Interaction {
  triggerId: string;
  /** Set in Socket Mode. */
  envelope?: Envelope;
  /** Set over HTTP: resolves with the app's answer. */
  http?: Promise<HttpDelivery>;
}

/** The Events API event types a Townhall install subscribes to (bot events). */
const SUBSCRIBED = new Set(['message', 'app_mention', 'reaction_added', 'reaction_removed', 'member_joined_channel', 'member_left_channel']);
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;

/** The fake Slack. */
export class SlackFake implements SandboxPlatform {
  /** The Web API root to give WebClient as `slackApiUrl` (`http://127.0.0.1:PORT/api/`). */
  url = '';
  readonly state: SlackState;
  readonly web: FakeWebApi;
  readonly socket: FakeSocketMode;
  readonly tokens: { bot: string; app: string; signingSecret: string; verification: string };
  /** What the sandbox's adapter is given, by environment variable name (contract §4). */
  readonly credentials: Readonly<Record<string, string>>;
  /** Every Events API body sent to the app, in order. */
  readonly eventsSent: Record<string, unknown>[] = [];
  private http: FakeEventsHttp | undefined;
  private readonly server: Server;
  private origin = '';
  private readonly responseUrls = new Map<string, { channel: string; user: string; messageTs?: string; uses: number; expires: number }>();

  constructor(private readonly opts: SlackFakeOptions = {}) {
    this.state = new SlackState();
    this.tokens = {
      bot: opts.botToken ?? FAKE_SLACK_TOKENS.bot,
      app: opts.appToken ?? FAKE_SLACK_TOKENS.app,
      signingSecret: opts.signingSecret ?? FAKE_SLACK_TOKENS.signingSecret,
      verification: randomBytes(12).toString('base64url'),
    };
    this.credentials = { SLACK_BOT_TOKEN: this.tokens.bot, SLACK_APP_TOKEN: this.tokens.app, SLACK_SIGNING_SECRET: this.tokens.signingSecret };
    const tokens = new Map<string, FakeToken>([
      [this.tokens.bot, { kind: 'bot', userId: this.state.bot.id, scopes: opts.botScopes ?? BOT_SCOPES }],
      [this.tokens.app, { kind: 'app', userId: this.state.bot.id, scopes: ['connections:write'] }],
    ]);
    if (opts.adminUserToken) {
      const admin = this.state.ensureUser({ id: opts.adminUserToken.userId ?? 'U0ADMIN', name: 'Workspace Admin', admin: true });
      tokens.set(opts.adminUserToken.token, { kind: 'user', userId: admin.id, scopes: opts.adminUserToken.scopes });
    }
    this.socket = new FakeSocketMode(this.state.appId, opts.socketMode);
    this.socket.onAcknowledged((e) => this.onAck(e));
    this.web = new FakeWebApi(this.state, tokens, { dispatch: (ev) => this.dispatch(ev), openSocketUrl: () => this.socket.openUrl(this.origin.replace(/^http/, 'ws')), kickRestricted: () => opts.kickRestricted ?? false }, opts.rateLimits ?? {});
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const api = /^\/api\/([a-zA-Z.]+)$/.exec(path);
      const respond = /^\/response\/([\w-]+)$/.exec(path);
      const done = (p: Promise<void>) =>
        p.catch(() => {
          if (!res.headersSent) res.statusCode = 500;
          res.end();
        });
      if (api) return void done(this.web.handle(req, res, api[1]!));
      if (respond && req.method === 'POST') return void done(this.handleResponseUrl(respond[1]!, req, res));
      res.statusCode = 404;
      res.end();
    });
    this.server.on('upgrade', (req, socket, head) => this.socket.handleUpgrade(req, socket, head));
  }

  /** Starts listening on 127.0.0.1. */
  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
    this.url = `${this.origin}/api/`;
    if (this.opts.delivery === 'http') this.setRequestUrl(this.opts.requestUrl ?? '');
    return this;
  }

  /** Sends events over HTTP to this Request URL from now on (Socket Mode off, as in the app's settings). */
  setRequestUrl(url: string): FakeEventsHttp {
    if (!url) throw new Error('delivery "http" needs a requestUrl');
    this.http?.close();
    this.http = new FakeEventsHttp(this.tokens.signingSecret, url, this.opts.http);
    this.socket.enabled = false;
    return this.http;
  }

  /** The HTTP deliverer, once a Request URL is set. */
  get eventsHttp(): FakeEventsHttp | undefined {
    return this.http;
  }

  // ---- the workspace --------------------------------------------------------------------------------------

  /** The workspace (team) id. */
  get teamId(): string {
    return this.state.teamId;
  }

  /** The bot user's id. */
  get botUserId(): string {
    return this.state.bot.id;
  }

  /** Creates a channel; `botMember: false` leaves the bot outside (not_in_channel). */
  createChannel(id: string, opts: { kind?: 'public' | 'private'; name?: string; botMember?: boolean } = {}): SlackChannel {
    return this.state.ensureChannel(id, opts);
  }

  /** Archives a channel (posting answers is_archived). */
  archiveChannel(id: string): void {
    this.state.ensureChannel(id).isArchived = true;
  }

  /** True when the user is a workspace admin or owner (contract §7: `admin: true`). */
  isAdmin(userId: string, _chat?: string): boolean {
    const u = this.state.users.get(userId);
    return !!u && (u.isAdmin || u.isOwner);
  }

  private channel(chat: string): SlackChannel {
    return this.state.channels.get(chat) ?? this.state.ensureChannel(chat, { botMember: this.opts.botJoinsNewChannels ?? true });
  }

  // ---- people doing things ----------------------------------------------------------------------------------

  /**
   * A person writes in a channel, or in a thread (`thread` = the parent's ts; `replyTo` answers in that message's
   * thread). The text is what they typed: Slack escapes `&`, `<`, `>`; `<@U…>`, `<#C…>` and `<https://…>` pass as the
   * client would send them.
   */
  async injectMessage(input: SandboxMessageInput & { at?: number }): Promise<{ id: string }> {
    const ch = this.channel(input.chat);
    const user = this.state.ensureUser(input.user);
    ch.members.add(user.id);
    const parent = input.thread ?? input.replyTo;
    const msg = this.state.addMessage({ channel: ch, user, text: typedToSlack(input.text), ...(parent ? { threadTs: parent } : {}), ...(input.at ? { at: input.at } : {}) });
    this.messageEvents(ch, msg);
    return { id: msg.ts };
  }

  /** A person writes to the bot in its DM. */
  async injectDirectMessage(input: { user: SandboxUser; text: string }): Promise<{ id: string; channel: string }> {
    const user = this.state.ensureUser(input.user);
    const { channel } = this.state.dmWith(user.id);
    const msg = this.state.addMessage({ channel, user, text: typedToSlack(input.text) });
    this.messageEvents(channel, msg);
    return { id: msg.ts, channel: channel.id };
  }

  private messageEvents(ch: SlackChannel, msg: SlackMessage): void {
    const wire = this.state.wire(msg);
    this.dispatch({ ...wire, channel: ch.id, event_ts: msg.ts, channel_type: this.state.channelType(ch) });
    if (ch.kind !== 'im' && msg.text.includes(`<@${this.state.bot.id}>`)) {
      const { type: _t, ...rest } = wire;
      this.dispatch({ type: 'app_mention', ...rest, channel: ch.id, event_ts: msg.ts });
    }
  }

  /** A person edits their message. */
  async injectEdit(input: { chat: string; message: string; text: string }): Promise<void> {
    const ch = this.channel(input.chat);
    const msg = this.requireMessage(ch, input.message);
    const before = this.state.wire(msg);
    msg.text = typedToSlack(input.text);
    const ts = this.state.nextTs();
    msg.edited = { user: msg.user, ts };
    this.dispatch({ type: 'message', subtype: 'message_changed', hidden: true, channel: ch.id, ts, event_ts: ts, channel_type: this.state.channelType(ch), message: this.state.wire(msg), previous_message: before });
  }

  /** A person (or an admin in the client) deletes a message. */
  async injectDelete(input: { chat: string; message: string }): Promise<void> {
    const ch = this.channel(input.chat);
    const msg = this.requireMessage(ch, input.message);
    const before = this.state.wire(msg);
    this.state.removeMessage(msg);
    const ts = this.state.nextTs();
    this.dispatch({ type: 'message', subtype: 'message_deleted', hidden: true, channel: ch.id, ts, deleted_ts: msg.ts, event_ts: ts, channel_type: this.state.channelType(ch), previous_message: before });
  }

  /** A person reacts (contract §7); Unicode emoji are reported by their Slack name (👍 is `+1`). */
  async injectReaction(input: { chat: string; message: string; user: SandboxUser | string; emoji: string }): Promise<void> {
    this.react(input, true);
  }

  /** A person takes their reaction back. */
  async injectReactionRemove(input: { chat: string; message: string; user: SandboxUser | string; emoji: string }): Promise<void> {
    this.react(input, false);
  }

  private react(input: { chat: string; message: string; user: SandboxUser | string; emoji: string }, added: boolean): void {
    const ch = this.channel(input.chat);
    const msg = this.requireMessage(ch, input.message);
    const user = this.state.ensureUser(input.user);
    const name = reactionName(input.emoji);
    if (!name) throw new Error(`no Slack name for the emoji ${JSON.stringify(input.emoji)}`);
    const users = msg.reactions.get(name) ?? new Set<string>();
    if (added === users.has(user.id)) return;
    if (added) users.add(user.id);
    else users.delete(user.id);
    if (users.size) msg.reactions.set(name, users);
    else msg.reactions.delete(name);
    this.dispatch(this.state.reactionEvent(added, user.id, name, msg));
  }

  /** A person joins a channel (contract §7): member_joined_channel and the channel_join message. */
  async injectJoin(input: { chat: string; user: SandboxUser }): Promise<void> {
    const ch = this.channel(input.chat);
    const user = this.state.ensureUser(input.user);
    if (ch.members.has(user.id)) return;
    ch.members.add(user.id);
    this.dispatch({ type: 'member_joined_channel', user: user.id, channel: ch.id, channel_type: ch.kind === 'public' ? 'C' : 'G', team: this.state.teamId, event_ts: this.state.nextTs() });
    const msg = this.state.addMessage({ channel: ch, user, text: `<@${user.id}> has joined the channel`, subtype: 'channel_join' });
    this.dispatch({ ...this.state.wire(msg), channel: ch.id, event_ts: msg.ts, channel_type: this.state.channelType(ch) });
  }

  /** A person leaves a channel. */
  async injectLeave(input: { chat: string; user: string }): Promise<void> {
    const ch = this.channel(input.chat);
    if (!ch.members.delete(input.user)) return;
    this.dispatch({ type: 'member_left_channel', user: input.user, channel: ch.id, channel_type: ch.kind === 'public' ? 'C' : 'G', team: this.state.teamId, event_ts: this.state.nextTs() });
  }

  /** A person runs a slash command (`command` with its slash, e.g. `/ask`); the app must acknowledge within 3 s. */
  injectSlashCommand(input: { chat: string; user: SandboxUser; command: string; text: string }): Interaction {
    const ch = this.channel(input.chat);
    const user = this.state.ensureUser(input.user);
    ch.members.add(user.id);
    const triggerId = this.socket.triggerId();
    const fields: Record<string, string> = {
      token: this.tokens.verification,
      team_id: this.state.teamId,
      team_domain: this.state.teamDomain,
      channel_id: ch.id,
      channel_name: ch.kind === 'im' ? 'directmessage' : ch.name,
      user_id: user.id,
      user_name: user.name,
      command: input.command,
      text: input.text,
      api_app_id: this.state.appId,
      is_enterprise_install: 'false',
      response_url: this.responseUrl(ch.id, user.id),
      trigger_id: triggerId,
    };
    if (this.http) return { triggerId, http: this.http.deliverCommand(fields).then((d) => (this.replyFromAck(d.response, ch.id, user.id), d)) };
    return { triggerId, envelope: this.socket.deliver('slash_commands', fields) };
  }

  /** A person clicks a button under a message (found by its action id); block_actions goes to the app. */
  injectButton(input: { chat: string; message: string; user: SandboxUser; actionId: string }): Interaction {
    const ch = this.channel(input.chat);
    const msg = this.requireMessage(ch, input.message);
    const hit = findButton(msg.blocks, input.actionId);
    if (!hit) throw new Error(`no button ${input.actionId} under message ${input.message}`);
    const user = this.state.ensureUser(input.user);
    const triggerId = this.socket.triggerId();
    const payload: Record<string, unknown> = {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: this.state.teamId },
      api_app_id: this.state.appId,
      token: this.tokens.verification,
      container: { type: 'message', message_ts: msg.ts, channel_id: ch.id, is_ephemeral: false, ...(msg.threadTs && msg.threadTs !== msg.ts ? { thread_ts: msg.threadTs } : {}) },
      trigger_id: triggerId,
      team: { id: this.state.teamId, domain: this.state.teamDomain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: ch.id, name: ch.name },
      message: this.state.wire(msg),
      state: { values: {} },
      response_url: this.responseUrl(ch.id, user.id, msg.ts),
      actions: [{ action_id: input.actionId, block_id: hit.blockId, text: hit.button.text, ...(hit.button.value !== undefined ? { value: hit.button.value } : {}), ...(hit.button.style ? { style: hit.button.style } : {}), type: 'button', action_ts: this.state.nextTs() }],
    };
    if (this.http) return { triggerId, http: this.http.deliverInteraction(payload) };
    return { triggerId, envelope: this.socket.deliver('interactive', payload) };
  }

  private requireMessage(ch: SlackChannel, ts: string): SlackMessage {
    const msg = this.state.message(ch.id, ts);
    if (!msg) throw new Error(`no message ${ts} in ${ch.id}`);
    return msg;
  }

  // ---- delivery ---------------------------------------------------------------------------------------------

  /** Wraps an event in the Events API envelope and sends it, when the app subscribes to it and can see it. */
  dispatch(event: Record<string, unknown>): void {
    if (!SUBSCRIBED.has(String(event.type))) return;
    const channelId = typeof event.channel === 'string' ? event.channel : ((event.item as { channel?: string } | undefined)?.channel ?? '');
    const ch = this.state.channels.get(channelId);
    // Message and reaction events come only from conversations the bot is in; its own joins and leaves always come.
    const own = (event.type === 'member_joined_channel' || event.type === 'member_left_channel') && event.user === this.state.bot.id;
    if (ch && !ch.members.has(this.state.bot.id) && !own) return;
    const body = {
      token: this.tokens.verification,
      team_id: this.state.teamId,
      context_team_id: this.state.teamId,
      context_enterprise_id: null,
      api_app_id: this.state.appId,
      event,
      type: 'event_callback',
      event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ enterprise_id: null, team_id: this.state.teamId, user_id: this.state.bot.id, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
      event_context: `4-${randomBytes(24).toString('base64url')}`,
    };
    this.eventsSent.push(body);
    if (this.http) this.http.deliverEvent(body);
    else this.socket.deliver('events_api', body);
  }

  private onAck(e: Envelope): void {
    if (e.type !== 'slash_commands' || !e.ackPayload) return;
    const p = e.payload as Record<string, string>;
    this.reply(e.ackPayload, p.channel_id!, p.user_id!);
  }

  private replyFromAck(response: string | undefined, channel: string, user: string): void {
    if (!response) return;
    try {
      this.reply(JSON.parse(response) as Record<string, unknown>, channel, user);
    } catch {
      this.reply({ text: response }, channel, user);
    }
  }

  /** A slash command's or response_url's reply: ephemeral by default, a bot message when `in_channel`. */
  private reply(body: Record<string, unknown>, channel: string, user: string, messageTs?: string): void {
    const text = typeof body.text === 'string' ? body.text : '';
    const ch = this.channel(channel);
    if (body.delete_original === true && messageTs) {
      const msg = this.state.message(channel, messageTs);
      if (msg) this.state.removeMessage(msg);
      this.state.record({ type: 'delete', chat: channel, messageId: messageTs });
      return;
    }
    if (body.replace_original === true && messageTs) {
      const msg = this.state.message(channel, messageTs);
      if (msg) {
        msg.text = text;
        if (Array.isArray(body.blocks)) msg.blocks = body.blocks;
      }
      this.state.record({ type: 'edit', chat: channel, messageId: messageTs, text });
      return;
    }
    if (!text && !Array.isArray(body.blocks)) return;
    if (body.response_type === 'in_channel') {
      const msg = this.state.addMessage({ channel: ch, user: this.state.bot, text, ...(Array.isArray(body.blocks) ? { blocks: body.blocks } : {}) });
      this.state.record({ type: 'send', chat: channel, messageId: msg.ts, text });
      return;
    }
    this.state.record({ type: 'send', chat: channel, user, text });
  }

  private responseUrl(channel: string, user: string, messageTs?: string): string {
    const id = randomBytes(12).toString('hex');
    this.responseUrls.set(id, { channel, user, ...(messageTs ? { messageTs } : {}), uses: 0, expires: Date.now() + RESPONSE_URL_TTL_MS });
    return `${this.origin}/response/${id}`;
  }

  private async handleResponseUrl(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r = this.responseUrls.get(id);
    res.setHeader('content-type', 'application/json');
    // A response_url works up to five times within thirty minutes.
    if (!r || r.expires < Date.now() || r.uses >= RESPONSE_URL_USES) {
      res.statusCode = 404;
      return void res.end(JSON.stringify({ ok: false, error: r && r.uses >= RESPONSE_URL_USES ? 'used_url' : 'expired_url' }));
    }
    r.uses++;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      res.statusCode = 400;
      return void res.end(JSON.stringify({ ok: false, error: 'invalid_payload' }));
    }
    this.reply(body, r.channel, r.user, r.messageTs);
    res.end(JSON.stringify({ ok: true }));
  }

  // ---- looking at what the bot did ----------------------------------------------------------------------------

  /** Every call the bot made, in contract §7's terms; workspace-wide ones (admin removals) show under every chat. */
  outbox(chat?: string): OutboxEntry[] {
    const all = this.state.outboxEntries;
    return chat === undefined ? [...all] : all.filter((e) => e.chat === chat || e.chat === this.state.teamId);
  }

  /** Every Web API call, in order. */
  get calls(): WebApiCall[] {
    return this.web.calls;
  }

  /** Resolves with the first Web API call (past or future) that matches. */
  awaitCall(pred: (c: WebApiCall) => boolean, timeoutMs?: number): Promise<WebApiCall> {
    return this.web.awaitCall(pred, timeoutMs);
  }

  /** Fails the next matching Web API call(s): 429 with Retry-After, a 5xx, or `ok:false` with an error string. */
  failNext(rule: FailRule): void {
    this.web.failNext(rule);
  }

  /** A message by channel and ts (undefined once deleted). */
  message(chat: string, ts: string): SlackMessage | undefined {
    return this.state.message(chat, ts);
  }

  /** Top-level and thread messages of a channel, oldest first. */
  messagesIn(chat: string): SlackMessage[] {
    const ch = this.state.channels.get(chat);
    return (ch?.order ?? []).map((ts) => this.state.message(chat, ts)).filter((m): m is SlackMessage => !!m);
  }

  /** Sends `disconnect` to every Socket Mode connection (Slack refreshing or warning of a link). */
  disconnectSockets(reason: 'warning' | 'refresh_requested' | 'link_disabled' = 'refresh_requested', closeAfterMs?: number): void {
    this.socket.disconnect(reason, closeAfterMs);
  }

  /** Cuts every Socket Mode connection without a close frame. */
  dropSockets(): void {
    this.socket.drop();
  }

  /** Stops the server. */
  async close(): Promise<void> {
    this.http?.close();
    await this.socket.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Starts a fake Slack on 127.0.0.1. */
export async function startSlackFake(opts: SlackFakeOptions = {}): Promise<SlackFake> {
  return new SlackFake(opts).listen();
}
