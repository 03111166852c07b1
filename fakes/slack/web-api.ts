/**
 * The fake Slack Web API (`POST /api/<method>`): the methods Townhall and Bolt call, with Slack's token types, scopes,
 * `ok:false` error strings, rate-limit tiers and HTTP 429 `Retry-After`. Method facts (arguments, errors, tiers) follow
 * Slack's method reference pages and slackapi/slack-api-specs (web-api/slack_web_openapi_v2.json).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { blockErrors } from './blocks.js';
import { RateLimiter, type RateLimitOptions, type Tier } from './limits.js';
import { reactionName, type SlackChannel, type SlackMessage, type SlackState, type SlackUser } from './state.js';

/** Which kind of token made a call. */
export type TokenKind = 'bot' | 'user' | 'app';

/** A token the fake accepts. */
export interface FakeToken {
  kind: TokenKind;
  /** The user behind a user token (the bot user for a bot token). */
  userId: string;
  scopes: string[];
}

/** One Web API call the fake answered. */
export interface WebApiCall {
  method: string;
  params: Record<string, unknown>;
  token?: TokenKind;
  status: number;
  /** The `error` of an `ok:false` answer. */
  error?: string;
  at: number;
  /** Failed on purpose by a `failNext` rule. */
  forced?: boolean;
}

/** A planned failure for the next matching call(s). */
export interface FailRule {
  /** Method name to match (any when absent). */
  method?: string;
  /** 429 (with Retry-After), or a 5xx; absent means HTTP 200 with `ok:false` and `error`. */
  status?: 429 | 500 | 502 | 503;
  /** The `error` string for an `ok:false` answer (default `internal_error`). */
  error?: string;
  /** For 429: whole seconds in Retry-After (default 1). */
  retryAfterSec?: number;
  /** How many calls to fail (default 1). */
  times?: number;
  /** Fail only after the call did its work (the answer is lost on the way back: a 5xx after the post landed). */
  afterRun?: boolean;
}

/** What the Web API needs from the rest of the fake. */
export interface WebApiHooks {
  /** Delivers an Events API event (the inner `event`) to the app. */
  dispatch(event: Record<string, unknown>): void;
  /** A fresh Socket Mode URL for apps.connections.open. */
  openSocketUrl(): string;
  /** Whether conversations.kick is limited to admins by the workspace's settings. */
  kickRestricted(): boolean;
}

class SlackApiError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

interface Ctx {
  p: Record<string, unknown>;
  token: FakeToken;
}

interface MethodSpec {
  tier: Tier;
  tokens: TokenKind[];
  /** Any one of these scopes is enough (none needed when empty). */
  scopes: string[];
  run(ctx: Ctx): Record<string, unknown>;
}

/** Slack's documented ceiling for a message's text; longer text is cut and a warning returned. */
export const MAX_TEXT = 40_000;
const MAX_BODY = 2 * 1024 * 1024;

/** The Web API side of the fake. */
export class FakeWebApi {
  readonly calls: WebApiCall[] = [];
  readonly limiter: RateLimiter;
  private readonly rules: FailRule[] = [];
  private readonly waiters: { pred: (c: WebApiCall) => boolean; resolve: (c: WebApiCall) => void }[] = [];
  private readonly methods: Record<string, MethodSpec>;

  constructor(
    private readonly state: SlackState,
    private readonly tokens: Map<string, FakeToken>,
    private readonly hooks: WebApiHooks,
    limits: RateLimitOptions | false,
  ) {
    this.limiter = new RateLimiter(limits);
    this.methods = this.table();
  }

  /** Fails the next matching call(s). */
  failNext(rule: FailRule): void {
    this.rules.push({ times: 1, ...rule });
  }

  /** Resolves with the first call (past or future) that matches. */
  awaitCall(pred: (c: WebApiCall) => boolean, timeoutMs = 5000): Promise<WebApiCall> {
    const past = this.calls.find(pred);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (c: WebApiCall) => (clearTimeout(timer), resolve(c)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no matching Web API call within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Handles one request under `/api/`. */
  async handle(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    const call: WebApiCall = { method, params: {}, status: 200, at: Date.now() };
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    let body: Record<string, unknown>;
    try {
      const { params, json } = await readParams(req);
      call.params = redact(params);
      body = this.answer(method, params, json, req.headers.authorization, call, headers);
    } catch (err) {
      body = { ok: false, error: err instanceof SlackApiError ? err.code : 'invalid_form_data' };
    }
    if (body.ok === false) call.error = String(body.error);
    this.finish(call);
    res.statusCode = call.status;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.end(call.status >= 500 ? `${call.status} Service Unavailable` : JSON.stringify(body));
  }

  private finish(call: WebApiCall): void {
    this.calls.push(call);
    for (const w of [...this.waiters]) {
      if (w.pred(call)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(call);
      }
    }
  }

  private answer(method: string, p: Record<string, unknown>, json: boolean, auth: string | undefined, call: WebApiCall, headers: Record<string, string>): Record<string, unknown> {
    const forced = this.takeRule(method);
    if (forced?.afterRun) {
      this.perform(method, p, json, auth, call, headers);
      call.forced = true;
      call.status = forced.status && forced.status !== 429 ? forced.status : 503;
      return { ok: false, error: 'service_unavailable' };
    }
    if (forced) {
      call.forced = true;
      if (forced.status === 429) {
        call.status = 429;
        headers['retry-after'] = String(forced.retryAfterSec ?? 1);
        return { ok: false, error: 'ratelimited' };
      }
      if (forced.status) {
        call.status = forced.status;
        return { ok: false, error: 'service_unavailable' };
      }
      return { ok: false, error: forced.error ?? 'internal_error' };
    }
    return this.perform(method, p, json, auth, call, headers);
  }

  /** Checks the token, its type and scopes and the method's budget, then runs the method. */
  private perform(method: string, p: Record<string, unknown>, json: boolean, auth: string | undefined, call: WebApiCall, headers: Record<string, string>): Record<string, unknown> {
    const spec = this.methods[method];
    if (!spec) return { ok: false, error: 'unknown_method' };
    // A JSON body must carry its token in the Authorization header; a form body may carry it as a parameter.
    const headerToken = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const raw = headerToken ?? (json || method === 'apps.connections.open' ? undefined : typeof p.token === 'string' ? p.token : undefined);
    if (!raw) return { ok: false, error: 'not_authed' };
    const token = this.tokens.get(raw);
    if (!token) return { ok: false, error: 'invalid_auth' };
    call.token = token.kind;
    headers['x-oauth-scopes'] = token.scopes.join(',');
    headers['x-accepted-oauth-scopes'] = spec.scopes.join(',');
    if (!spec.tokens.includes(token.kind)) return { ok: false, error: 'not_allowed_token_type' };
    if (spec.scopes.length && !spec.scopes.some((s) => token.scopes.includes(s))) {
      return { ok: false, error: 'missing_scope', needed: spec.scopes[0], provided: token.scopes.join(',') };
    }
    const wait = this.limiter.take(method, spec.tier, typeof p.channel === 'string' ? p.channel : undefined);
    if (wait !== undefined) {
      call.status = 429;
      headers['retry-after'] = String(wait);
      return { ok: false, error: 'ratelimited' };
    }
    try {
      return { ok: true, ...spec.run({ p, token }) };
    } catch (err) {
      if (err instanceof SlackApiError) return { ok: false, error: err.code, ...err.extra };
      throw err;
    }
  }

  private takeRule(method: string): FailRule | undefined {
    const i = this.rules.findIndex((r) => !r.method || r.method === method);
    if (i < 0) return undefined;
    const rule = this.rules[i]!;
    rule.times = (rule.times ?? 1) - 1;
    if (rule.times <= 0) this.rules.splice(i, 1);
    return rule;
  }

  // ---- shared checks ----------------------------------------------------------------------------------------

  private channelFor(p: Record<string, unknown>, token: FakeToken, opts: { write?: boolean; allowUserId?: boolean } = {}): SlackChannel {
    const id = str(p.channel);
    if (!id) throw new SlackApiError('channel_not_found');
    // Posting to a user id opens (or reuses) the app's DM with them, as Slack does.
    if (opts.allowUserId && /^[UW]/.test(id) && this.state.users.has(id) && !this.state.channels.has(id)) return this.state.dmWith(id).channel;
    const ch = this.state.channels.get(id);
    if (!ch) throw new SlackApiError('channel_not_found');
    const member = ch.members.has(token.userId);
    if (ch.kind !== 'public' && !member) throw new SlackApiError('channel_not_found');
    if (opts.write && ch.isArchived) throw new SlackApiError('is_archived');
    // A person can act in public channels they have not joined; a bot must be in them (or hold chat:write.public to post).
    if (ch.kind === 'public' && !member && token.kind === 'bot' && !(opts.write && token.scopes.includes('chat:write.public'))) throw new SlackApiError('not_in_channel');
    return ch;
  }

  private messageFor(ch: SlackChannel, ts: unknown): SlackMessage {
    const t = str(ts);
    if (!t || !/^\d+\.\d+$/.test(t)) throw new SlackApiError(t ? 'bad_timestamp' : 'no_item_specified');
    const msg = this.state.message(ch.id, t);
    if (!msg) throw new SlackApiError('message_not_found');
    return msg;
  }

  private content(p: Record<string, unknown>, onTooLong: 'truncate' | 'refuse'): { text: string; blocks?: unknown[]; warnings: string[] } {
    let blocks: unknown[] | undefined;
    if (p.blocks !== undefined && p.blocks !== '') {
      let parsed: unknown = p.blocks;
      if (typeof parsed === 'string') {
        try {
          parsed = JSON.parse(parsed);
        } catch {
          throw new SlackApiError('invalid_blocks_format');
        }
      }
      const errors = blockErrors(parsed);
      if (errors.length) throw new SlackApiError('invalid_blocks', { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });
      blocks = parsed as unknown[];
    }
    let text = str(p.text) ?? '';
    if (!text && !blocks) throw new SlackApiError('no_text');
    const warnings: string[] = [];
    if (text.length > MAX_TEXT) {
      // Slack cuts posted text at 40,000 characters and says so (changelog 2018-04 "Truncating really long messages").
      if (onTooLong === 'refuse') throw new SlackApiError('msg_too_long');
      text = text.slice(0, MAX_TEXT);
      warnings.push('message_truncated');
    }
    return blocks ? { text, blocks, warnings } : { text, warnings };
  }

  private withWarnings(out: Record<string, unknown>, warnings: string[]): Record<string, unknown> {
    if (!warnings.length) return out;
    return { ...out, warning: warnings.join(','), response_metadata: { warnings, messages: ['[WARN] Your message was truncated but still posted. The `text` field accepts up to 40,000 characters.'] } };
  }

  private actor(token: FakeToken): SlackUser {
    return this.state.users.get(token.userId)!;
  }

  private changed(ch: SlackChannel, before: Record<string, unknown>, msg: SlackMessage): void {
    const ts = this.state.nextTs();
    this.hooks.dispatch({ type: 'message', subtype: 'message_changed', hidden: true, channel: ch.id, ts, event_ts: ts, channel_type: this.state.channelType(ch), message: this.state.wire(msg), previous_message: before });
  }

  // ---- the methods ------------------------------------------------------------------------------------------

  private table(): Record<string, MethodSpec> {
    const s = this.state;
    const bot: TokenKind[] = ['bot', 'user'];
    return {
      'auth.test': {
        tier: 4,
        tokens: bot,
        scopes: [],
        run: ({ token }) => {
          const u = this.actor(token);
          return { url: `https://${s.teamDomain}.slack.com/`, team: 'Townhall Fake', user: u.name, team_id: s.teamId, user_id: u.id, ...(u.botId ? { bot_id: u.botId } : {}), is_enterprise_install: false };
        },
      },
      'apps.connections.open': { tier: 1, tokens: ['app'], scopes: ['connections:write'], run: () => ({ url: this.hooks.openSocketUrl() }) },
      'chat.postMessage': {
        tier: 'post',
        tokens: bot,
        scopes: ['chat:write'],
        run: ({ p, token }) => {
          const ch = this.channelFor(p, token, { write: true, allowUserId: true });
          const { text, blocks, warnings } = this.content(p, 'truncate');
          // An unknown thread_ts posts to the channel itself; Slack does not refuse it.
          const threadTs = str(p.thread_ts);
          const broadcast = p.reply_broadcast === true || p.reply_broadcast === 'true';
          const metadata = metadataOf(p.metadata);
          const msg = s.addMessage({ channel: ch, user: this.actor(token), text, ...(blocks ? { blocks } : {}), ...(threadTs ? { threadTs } : {}), ...(broadcast && threadTs ? { subtype: 'thread_broadcast' } : {}), ...(metadata ? { metadata } : {}) });
          // A reply in a message's thread is the bot answering that message (contract §7's replyTo).
          s.record({ type: 'send', chat: ch.id, messageId: msg.ts, text, ...(msg.threadTs ? { thread: msg.threadTs } : {}), ...(threadTs && msg.threadTs ? { replyTo: threadTs } : {}), ...(ch.kind === 'im' && ch.user ? { user: ch.user } : {}) });
          this.hooks.dispatch({ ...s.wire(msg), channel: ch.id, event_ts: msg.ts, channel_type: s.channelType(ch) });
          return this.withWarnings({ channel: ch.id, ts: msg.ts, message: s.wire(msg) }, warnings);
        },
      },
      'chat.postEphemeral': {
        tier: 4,
        tokens: bot,
        scopes: ['chat:write'],
        run: ({ p, token }) => {
          const ch = this.channelFor(p, token, { write: true });
          const user = str(p.user);
          if (!user || !ch.members.has(user)) throw new SlackApiError('user_not_in_channel');
          const { text, warnings } = this.content(p, 'truncate');
          const ts = s.nextTs();
          const thread = str(p.thread_ts);
          s.record({ type: 'send', chat: ch.id, user, text, messageId: ts, ...(thread ? { thread } : {}) });
          return this.withWarnings({ message_ts: ts }, warnings);
        },
      },
      'chat.update': {
        tier: 3,
        tokens: bot,
        scopes: ['chat:write'],
        run: ({ p, token }) => {
          const ch = this.channelFor(p, token, { write: true });
          const msg = this.messageFor(ch, p.ts);
          if (msg.user !== token.userId) throw new SlackApiError('cant_update_message');
          const before = s.wire(msg);
          const { text, blocks } = this.content(p, 'refuse');
          msg.text = text;
          if (blocks) msg.blocks = blocks;
          msg.edited = { user: token.userId, ts: s.nextTs() };
          s.record({ type: 'edit', chat: ch.id, messageId: msg.ts, text, ...(msg.threadTs && msg.threadTs !== msg.ts ? { thread: msg.threadTs } : {}) });
          this.changed(ch, before, msg);
          return { channel: ch.id, ts: msg.ts, text, message: s.wire(msg) };
        },
      },
      'chat.delete': {
        tier: 3,
        tokens: bot,
        scopes: ['chat:write'],
        run: ({ p, token }) => {
          const ch = this.channelFor(p, token);
          const msg = this.messageFor(ch, p.ts);
          // A bot token deletes only the bot's own messages; a user token what that person may delete in Slack.
          const actor = this.actor(token);
          const mayDelete = msg.user === actor.id || (token.kind === 'user' && (actor.isAdmin || actor.isOwner));
          if (!mayDelete) throw new SlackApiError('cant_delete_message');
          const before = s.wire(msg);
          s.removeMessage(msg);
          s.record({ type: 'delete', chat: ch.id, messageId: msg.ts });
          const ts = s.nextTs();
          this.hooks.dispatch({ type: 'message', subtype: 'message_deleted', hidden: true, channel: ch.id, ts, deleted_ts: msg.ts, event_ts: ts, channel_type: s.channelType(ch), previous_message: before });
          return { channel: ch.id, ts: msg.ts };
        },
      },
      'reactions.add': {
        tier: 3,
        tokens: bot,
        scopes: ['reactions:write'],
        run: ({ p, token }) => {
          const ch = this.channelFor(p, token);
          const msg = this.messageFor(ch, p.timestamp);
          const name = reactionName(str(p.name) ?? '');
          if (!name || /[^\x20-\x7e]/.test(str(p.name) ?? '')) throw new SlackApiError('invalid_name');
          const users = msg.reactions.get(name) ?? new Set<string>();
          if (users.has(token.userId)) throw new SlackApiError('already_reacted');
          if (!users.size && msg.reactions.size >= 23) throw new SlackApiError('too_many_emoji');
          users.add(token.userId);
          msg.reactions.set(name, users);
          s.record({ type: 'react', chat: ch.id, messageId: msg.ts, text: name });
          this.hooks.dispatch(s.reactionEvent(true, token.userId, name, msg));
          return {};
        },
      },
      'reactions.remove': {
        tier: 2,
        tokens: bot,
        scopes: ['reactions:write'],
        run: ({ p, token }) => {
          const ch = this.channelFor(p, token);
          const msg = this.messageFor(ch, p.timestamp);
          const name = reactionName(str(p.name) ?? '');
          if (!name) throw new SlackApiError('invalid_name');
          const users = msg.reactions.get(name);
          if (!users?.delete(token.userId)) throw new SlackApiError('no_reaction');
          if (!users.size) msg.reactions.delete(name);
          this.hooks.dispatch(s.reactionEvent(false, token.userId, name, msg));
          return {};
        },
      },
      'pins.add': {
        tier: 2,
        tokens: bot,
        scopes: ['pins:write'],
        run: ({ p, token }) => {
          const ch = this.channelFor(p, token);
          const msg = this.messageFor(ch, p.timestamp);
          if (msg.pinned) throw new SlackApiError('already_pinned');
          msg.pinned = true;
          s.record({ type: 'pin', chat: ch.id, messageId: msg.ts });
          return {};
        },
      },
      'conversations.info': {
        tier: 3,
        tokens: bot,
        scopes: ['channels:read', 'groups:read', 'im:read', 'mpim:read'],
        run: ({ p, token }) => {
          const ch = s.channels.get(str(p.channel) ?? '');
          if (!ch || (ch.kind !== 'public' && !ch.members.has(token.userId))) throw new SlackApiError('channel_not_found');
          const wire = s.channelWire(ch, token.userId);
          if (p.include_num_members === true || p.include_num_members === 'true') wire.num_members = ch.members.size;
          return { channel: wire };
        },
      },
      'conversations.history': {
        tier: 3,
        tokens: bot,
        scopes: ['channels:history', 'groups:history', 'im:history', 'mpim:history'],
        run: ({ p, token }) => {
          const ch = this.channelFor(p, token);
          const top = ch.order.map((t) => s.message(ch.id, t)!).filter((m) => !m.threadTs || m.threadTs === m.ts || m.subtype === 'thread_broadcast');
          return this.page(top.reverse(), p, (m) => s.wire(m, { withReactions: true, withMetadata: flag(p.include_all_metadata) }));
        },
      },
      'conversations.replies': {
        tier: 3,
        tokens: bot,
        scopes: ['channels:history', 'groups:history', 'im:history', 'mpim:history'],
        run: ({ p, token }) => {
          const ch = this.channelFor(p, token);
          const root = s.message(ch.id, str(p.ts) ?? '');
          if (!root) throw new SlackApiError('thread_not_found');
          const parent = root.threadTs && root.threadTs !== root.ts ? s.message(ch.id, root.threadTs) ?? root : root;
          const replies = parent.replyTs.map((t) => s.message(ch.id, t)).filter((m): m is SlackMessage => !!m);
          return this.page([parent, ...replies], p, (m) => s.wire(m, { withReactions: true, withMetadata: flag(p.include_all_metadata) }));
        },
      },
      'conversations.members': {
        tier: 4,
        tokens: bot,
        scopes: ['channels:read', 'groups:read', 'im:read', 'mpim:read'],
        run: ({ p, token }) => {
          const ch = s.channels.get(str(p.channel) ?? '');
          if (!ch || (ch.kind !== 'public' && !ch.members.has(token.userId))) throw new SlackApiError('channel_not_found');
          return { members: [...ch.members], response_metadata: { next_cursor: '' } };
        },
      },
      'conversations.open': {
        tier: 3,
        tokens: bot,
        scopes: ['im:write', 'mpim:write'],
        run: ({ p, token }) => {
          const users = (str(p.users) ?? '').split(',').map((u) => u.trim()).filter(Boolean);
          if (!users.length && !p.channel) throw new SlackApiError('users_list_not_supplied');
          if (users.length > 8) throw new SlackApiError('too_many_users');
          for (const u of users) if (!s.users.has(u) || s.removed.has(u)) throw new SlackApiError('user_not_found');
          if (users.length > 1) throw new SlackApiError('method_not_supported_for_channel_type');
          const { channel, created } = s.dmWith(users[0] ?? '');
          const full = p.return_im === true || p.return_im === 'true';
          return { ...(created ? {} : { no_op: true, already_open: true }), channel: full ? s.channelWire(channel, token.userId) : { id: channel.id } };
        },
      },
      'conversations.join': {
        tier: 3,
        tokens: bot,
        scopes: ['channels:join', 'channels:write'],
        run: ({ p, token }) => {
          const ch = s.channels.get(str(p.channel) ?? '');
          if (!ch) throw new SlackApiError('channel_not_found');
          if (ch.kind !== 'public') throw new SlackApiError('method_not_supported_for_channel_type');
          if (ch.isArchived) throw new SlackApiError('is_archived');
          const already = ch.members.has(token.userId);
          ch.members.add(token.userId);
          if (!already) this.hooks.dispatch({ type: 'member_joined_channel', user: token.userId, channel: ch.id, channel_type: 'C', team: s.teamId, event_ts: s.nextTs() });
          const out: Record<string, unknown> = { channel: s.channelWire(ch, token.userId) };
          return already ? { ...out, warning: 'already_in_channel', response_metadata: { warnings: ['already_in_channel'] } } : out;
        },
      },
      'conversations.kick': {
        tier: 3,
        tokens: bot,
        scopes: ['channels:manage', 'groups:write'],
        run: ({ p, token }) => {
          const ch = this.channelFor(p, token);
          const user = str(p.user) ?? '';
          if (!s.users.has(user)) throw new SlackApiError('user_not_found');
          if (user === token.userId) throw new SlackApiError('cant_kick_self');
          if (ch.isGeneral) throw new SlackApiError('cant_kick_from_general');
          if (!ch.members.has(user)) throw new SlackApiError('not_in_channel');
          if (this.hooks.kickRestricted() && !(token.kind === 'user' && this.actor(token).isAdmin)) throw new SlackApiError('restricted_action');
          ch.members.delete(user);
          // The nearest thing to a ban a bot token can do: out of this channel (a public one can be rejoined).
          s.record({ type: 'ban', chat: ch.id, user });
          this.hooks.dispatch({ type: 'member_left_channel', user, channel: ch.id, channel_type: ch.kind === 'public' ? 'C' : 'G', team: s.teamId, event_ts: s.nextTs() });
          return {};
        },
      },
      'users.info': {
        tier: 4,
        tokens: bot,
        scopes: ['users:read'],
        run: ({ p }) => {
          const u = s.users.get(str(p.user) ?? '');
          if (!u) throw new SlackApiError('user_not_found');
          return { user: s.userWire(u, p.include_locale === true || p.include_locale === 'true') };
        },
      },
      // Removing someone from the workspace is an Enterprise Grid admin method: a bot token is refused outright.
      'admin.users.remove': {
        tier: 2,
        tokens: ['user'],
        scopes: ['admin.users:write'],
        run: ({ p, token }) => {
          if (!this.actor(token).isAdmin && !this.actor(token).isOwner) throw new SlackApiError('not_an_admin');
          const user = str(p.user_id) ?? '';
          if (!s.users.has(user)) throw new SlackApiError('user_not_found');
          s.removed.add(user);
          for (const ch of s.channels.values()) ch.members.delete(user);
          s.record({ type: 'ban', chat: s.teamId, user });
          return {};
        },
      },
    };
  }

  /** One page of a history-style list: `limit` (default 100, at most 999), `oldest`/`latest`/`inclusive`, an opaque cursor. */
  private page(list: SlackMessage[], p: Record<string, unknown>, render: (m: SlackMessage) => Record<string, unknown>): Record<string, unknown> {
    const limit = Math.min(999, Math.max(1, Number(p.limit ?? 100) || 100));
    const inclusive = p.inclusive === true || p.inclusive === 'true' || p.inclusive === '1';
    const oldest = str(p.oldest);
    const latest = str(p.latest);
    if (oldest && !/^\d+(\.\d+)?$/.test(oldest)) throw new SlackApiError('invalid_ts_oldest');
    if (latest && !/^\d+(\.\d+)?$/.test(latest)) throw new SlackApiError('invalid_ts_latest');
    const cmp = (a: string, b: string) => Number(a) - Number(b);
    let items = list.filter((m) => (!oldest || (inclusive ? cmp(m.ts, oldest) >= 0 : cmp(m.ts, oldest) > 0)) && (!latest || (inclusive ? cmp(m.ts, latest) <= 0 : cmp(m.ts, latest) < 0)));
    const cursor = str(p.cursor);
    if (cursor) {
      const offset = decodeCursor(cursor);
      if (offset === undefined) throw new SlackApiError('invalid_cursor');
      items = items.slice(offset);
      const start = offset;
      const page = items.slice(0, limit);
      const more = items.length > limit;
      return { messages: page.map(render), has_more: more, response_metadata: { next_cursor: more ? encodeCursor(start + limit) : '' } };
    }
    const page = items.slice(0, limit);
    const more = items.length > limit;
    return { messages: page.map(render), has_more: more, pin_count: list.filter((m) => m.pinned).length, response_metadata: { next_cursor: more ? encodeCursor(limit) : '' } };
  }
}

function encodeCursor(offset: number): string {
  return Buffer.from(`next_ts:${offset}`).toString('base64');
}

function decodeCursor(cursor: string): number | undefined {
  const m = /^next_ts:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString());
  return m ? Number(m[1]) : undefined;
}

function flag(v: unknown): boolean {
  return v === true || v === 'true' || v === '1';
}

/** chat.postMessage's `metadata` (JSON in a form body): an `event_type` and an `event_payload` object, or Slack refuses it. */
function metadataOf(v: unknown): { event_type: string; event_payload: Record<string, unknown> } | undefined {
  if (v === undefined || v === '') return undefined;
  let m: unknown = v;
  if (typeof m === 'string') {
    try {
      m = JSON.parse(m);
    } catch {
      throw new SlackApiError('invalid_metadata_format');
    }
  }
  const o = m as { event_type?: unknown; event_payload?: unknown } | null;
  if (!o || typeof o.event_type !== 'string' || !/^[a-z0-9_]{1,255}$/i.test(o.event_type) || !o.event_payload || typeof o.event_payload !== 'object') throw new SlackApiError('invalid_metadata_format');
  return { event_type: o.event_type, event_payload: o.event_payload as Record<string, unknown> };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function redact(p: Record<string, unknown>): Record<string, unknown> {
  const { token: _t, ...rest } = p;
  return rest;
}

/** Reads a Web API body: form-urlencoded or JSON (GET query parameters too). */
async function readParams(req: IncomingMessage): Promise<{ params: Record<string, unknown>; json: boolean }> {
  const url = new URL(req.url ?? '/', 'http://fake');
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new SlackApiError('request_too_large');
    chunks.push(c as Buffer);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/json')) {
    try {
      const parsed: unknown = JSON.parse(raw || '{}');
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SlackApiError('json_not_object');
      return { params: { ...params, ...(parsed as Record<string, unknown>) }, json: true };
    } catch (err) {
      throw err instanceof SlackApiError ? err : new SlackApiError('invalid_json');
    }
  }
  if (raw) Object.assign(params, Object.fromEntries(new URLSearchParams(raw)));
  return { params, json: false };
}
