/** The fake Discord REST API (v10) on 127.0.0.1: the routes Townhall and discord.js use, with Discord's error shapes. */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { THREAD_TYPES, type FakeState } from './state.js';
import { snowflake, snowflakeTime, type FakeChannel, type FakeMessage, type FakeUser } from './model.js';

/** One REST call the bot made. */
export interface RestCall {
  method: string;
  /** Path below the API version, e.g. `/channels/123/messages`. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The X-Audit-Log-Reason header, decoded. */
  reason?: string;
  status: number;
  at: number;
  /** Set when the call was failed on purpose by a `failNext` rule. */
  forced?: boolean;
}

/** A planned failure for the next matching call(s). */
export interface FailRule {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Substring or pattern the path must match (any when absent). */
  path?: string | RegExp;
  status: 429 | 403 | 404 | 500 | 502 | 400 | 401;
  /** For 429: how long the bot must wait. */
  retryAfterMs?: number;
  /** For 429: a global (whole-bot) limit. */
  global?: boolean;
  /** Discord's JSON error code in the body. */
  code?: number;
  /** How many calls to fail (default 1). */
  times?: number;
}

/** A real per-route budget the fake enforces (Discord's "5 messages per 5 s per channel"). */
export interface EnforcedLimit {
  method: string;
  /** Pattern with the channel id as its first group. */
  path: RegExp;
  points: number;
  windowMs: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const notFound = (what: string, code: number) => new HttpError(404, code, `Unknown ${what}`);
const MAX_BODY = 1024 * 1024;
const FOURTEEN_DAYS = 14 * 24 * 3600 * 1000;

/** The REST side of the fake. */
export class FakeRest {
  readonly calls: RestCall[] = [];
  private readonly rules: FailRule[] = [];
  private readonly waiters: { pred: (c: RestCall) => boolean; resolve: (c: RestCall) => void }[] = [];
  private readonly windows = new Map<string, { start: number; used: number }>();
  /** Budgets enforced like Discord's own buckets; a bot that exceeds them gets a real 429. */
  limits: EnforcedLimit[] = [];
  /** 429s the fake answered because a budget ran out (not forced ones). */
  limited = 0;

  constructor(
    private readonly state: FakeState,
    private readonly opts: { token: string | undefined; gatewayUrl: () => string; interactionWindowMs: number },
  ) {}

  /** Fails the next matching call(s). */
  failNext(rule: FailRule): void {
    this.rules.push({ times: 1, ...rule });
  }

  /** Resolves with the first call (past or future) that matches. */
  awaitCall(pred: (c: RestCall) => boolean, timeoutMs = 5000): Promise<RestCall> {
    const past = this.calls.find(pred);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (c: RestCall) => (clearTimeout(timer), resolve(c)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no matching REST call within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Handles one HTTP request under `/api`. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    // discord.js encodes `@me` as `%40me`; Discord accepts both.
    const path = url.pathname.replace(/^\/api(\/v\d+)?/, '').replace(/%40me(?=\/|$)/gi, '@me') || '/';
    const method = (req.method ?? 'GET').toUpperCase();
    const query = Object.fromEntries(url.searchParams);
    let body: unknown;
    const call: RestCall = { method, path, query, body: undefined, status: 0, at: Date.now() };
    const reasonHeader = req.headers['x-audit-log-reason'];
    if (typeof reasonHeader === 'string') call.reason = decodeURIComponent(reasonHeader);
    const headers: Record<string, string> = {};
    let status: number;
    let payload: unknown;
    try {
      body = await readBody(req);
      call.body = body;
      const webhookish = path.startsWith('/interactions/') || path.startsWith('/webhooks/');
      if (!webhookish && !this.authorized(req.headers.authorization)) throw new HttpError(401, 0, '401: Unauthorized');
      const forced = this.takeRule(method, path);
      if (forced) {
        call.forced = true;
        throw this.forcedError(forced, headers, method, path);
      }
      this.enforceLimits(method, path, headers);
      const out = this.route(method, path, query, body, call);
      status = out === undefined ? 204 : 200;
      payload = out;
      if (!headers['x-ratelimit-bucket']) Object.assign(headers, bucketHeaders(method, path, 49, 1));
    } catch (err) {
      if (err instanceof HttpError) {
        status = err.status;
        payload =
          status === 429
            ? { message: 'You are being rate limited.', retry_after: Number(headers['retry-after'] ?? 1), global: headers['x-ratelimit-global'] === 'true', code: err.code }
            : { message: err.message, code: err.code };
      } else {
        status = 500;
        payload = { message: '500: Internal Server Error', code: 0 };
      }
    }
    call.status = status;
    this.calls.push(call);
    for (const w of [...this.waiters]) {
      if (w.pred(call)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(call);
      }
    }
    res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (status === 204) return void res.end();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(payload));
  }

  private authorized(header: string | undefined): boolean {
    if (!header || !header.startsWith('Bot ')) return false;
    return this.opts.token === undefined ? header.length > 4 : header === `Bot ${this.opts.token}`;
  }

  private takeRule(method: string, path: string): FailRule | undefined {
    const i = this.rules.findIndex(
      (r) => (!r.method || r.method.toUpperCase() === method) && (!r.path || (typeof r.path === 'string' ? path.includes(r.path) : r.path.test(path))),
    );
    if (i < 0) return undefined;
    const rule = this.rules[i]!;
    rule.times = (rule.times ?? 1) - 1;
    if (rule.times <= 0) this.rules.splice(i, 1);
    return rule;
  }

  private forcedError(rule: FailRule, headers: Record<string, string>, method: string, path: string): HttpError {
    if (rule.status === 429) {
      const secs = (rule.retryAfterMs ?? 1000) / 1000;
      Object.assign(headers, bucketHeaders(method, path, 0, secs), { 'retry-after': String(secs), 'x-ratelimit-scope': rule.global ? 'global' : 'user' });
      if (rule.global) headers['x-ratelimit-global'] = 'true';
      return new HttpError(429, rule.code ?? 0, 'You are being rate limited.');
    }
    const messages: Record<number, string> = { 403: 'Missing Permissions', 404: 'Unknown Channel', 500: '500: Internal Server Error', 502: 'Bad Gateway', 400: 'Invalid Form Body', 401: '401: Unauthorized' };
    const codes: Record<number, number> = { 403: 50013, 404: 10003, 400: 50035 };
    return new HttpError(rule.status, rule.code ?? codes[rule.status] ?? 0, messages[rule.status] ?? 'Error');
  }

  private enforceLimits(method: string, path: string, headers: Record<string, string>): void {
    for (const l of this.limits) {
      const m = l.method === method ? l.path.exec(path) : null;
      if (!m) continue;
      const key = `${method}:${l.path.source}:${m[1] ?? ''}`;
      const now = Date.now();
      let w = this.windows.get(key);
      if (!w || now - w.start >= l.windowMs) {
        w = { start: now, used: 0 };
        this.windows.set(key, w);
      }
      const resetSecs = Math.max(0.001, (w.start + l.windowMs - now) / 1000);
      if (w.used >= l.points) {
        this.limited++;
        Object.assign(headers, bucketHeaders(method, key, 0, resetSecs, l.points), { 'retry-after': resetSecs.toFixed(3), 'x-ratelimit-scope': 'user' });
        throw new HttpError(429, 0, 'You are being rate limited.');
      }
      w.used++;
      Object.assign(headers, bucketHeaders(method, key, l.points - w.used, resetSecs, l.points));
    }
  }

  // ---- routes -------------------------------------------------------------------------------------------

  private route(method: string, path: string, query: Record<string, string>, body: unknown, call: RestCall): unknown {
    const s = this.state;
    const b = (body ?? {}) as Record<string, unknown>;
    let m: RegExpExecArray | null;
    const is = (verb: string, re: RegExp) => method === verb && (m = re.exec(path)) !== null;
    const g = (i: number) => decodeURIComponent(m![i]!);

    if (is('GET', /^\/gateway(\/bot)?$/)) {
      return { url: this.opts.gatewayUrl(), shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 } };
    }
    if (is('GET', /^\/users\/@me$/)) return s.bot;
    if (is('GET', /^\/users\/([^/]+)$/)) return s.users.get(g(1)) ?? thrown(notFound('User', 10013));
    if (is('GET', /^\/(oauth2\/)?applications\/@me$/)) return { id: s.applicationId, name: 'Townhall', description: '', bot_public: true, bot_require_code_grant: false, flags: 0, bot: s.bot };
    if (is('POST', /^\/users\/@me\/channels$/)) {
      const user = s.users.get(String(b.recipient_id ?? ''));
      if (!user) throw new HttpError(400, 50033, 'Invalid Recipient(s)');
      return s.dmChannel(user);
    }

    // Channels
    if (is('GET', /^\/channels\/([^/]+)$/)) return this.channel(g(1));
    if (is('PATCH', /^\/channels\/([^/]+)$/)) return this.editChannel(this.channel(g(1)), b);
    if (is('GET', /^\/channels\/([^/]+)\/messages$/)) return this.listMessages(this.channel(g(1)), query);
    if (is('GET', /^\/channels\/([^/]+)\/messages\/([^/]+)$/)) return s.wire(this.message(g(1), g(2)));
    if (is('POST', /^\/channels\/([^/]+)\/messages$/)) return s.wire(this.postMessage(this.channel(g(1)), b, s.bot));
    if (is('PATCH', /^\/channels\/([^/]+)\/messages\/([^/]+)$/)) return s.wire(this.editMessage(this.message(g(1), g(2)), b));
    if (is('DELETE', /^\/channels\/([^/]+)\/messages\/([^/]+)$/)) {
      const msg = this.message(g(1), g(2));
      s.removeMessage(msg);
      s.record({ type: 'delete', channelId: msg.channel_id, messageId: msg.id });
      return undefined;
    }
    if (is('POST', /^\/channels\/([^/]+)\/messages\/bulk-delete$/)) return this.bulkDelete(this.channel(g(1)), b);
    if (is('PUT', /^\/channels\/([^/]+)\/(?:messages\/)?pins\/([^/]+)$/)) {
      const msg = this.message(g(1), g(2));
      msg.pinned = true;
      s.record({ type: 'pin', channelId: msg.channel_id, messageId: msg.id });
      s.gateway.dispatch('CHANNEL_PINS_UPDATE', { guild_id: s.guildId, channel_id: msg.channel_id, last_pin_timestamp: new Date().toISOString() });
      return undefined;
    }
    if (is('DELETE', /^\/channels\/([^/]+)\/(?:messages\/)?pins\/([^/]+)$/)) {
      this.message(g(1), g(2)).pinned = false;
      return undefined;
    }
    if (is('PUT', /^\/channels\/([^/]+)\/messages\/([^/]+)\/reactions\/([^/]+)\/@me$/)) {
      const msg = this.message(g(1), g(2));
      const emoji = g(3);
      if (!emoji || emoji.length > 64) throw new HttpError(400, 10014, 'Unknown Emoji');
      const users = (msg.reactionUsers ??= new Map()).get(emoji) ?? new Set<string>();
      users.add(s.bot.id);
      msg.reactionUsers.set(emoji, users);
      s.record({ type: 'react', channelId: msg.channel_id, messageId: msg.id, text: emoji });
      s.gateway.dispatch('MESSAGE_REACTION_ADD', {
        user_id: s.bot.id, channel_id: msg.channel_id, message_id: msg.id, guild_id: msg.guild_id, emoji: { id: null, name: emoji }, burst: false, type: 0,
      });
      return undefined;
    }
    if (is('POST', /^\/channels\/([^/]+)\/messages\/([^/]+)\/threads$/)) return this.threadOnMessage(this.message(g(1), g(2)), b);
    if (is('POST', /^\/channels\/([^/]+)\/threads$/)) return this.threadInChannel(this.channel(g(1)), b);

    // Guild
    if (is('GET', /^\/guilds\/([^/]+)$/)) return this.guildWire(g(1));
    if (is('GET', /^\/guilds\/([^/]+)\/roles$/)) return this.guild(g(1)) && s.roles;
    if (is('GET', /^\/guilds\/([^/]+)\/channels$/)) return this.guild(g(1)) && [...s.channels.values()].filter((c) => c.guild_id && !THREAD_TYPES.has(c.type));
    if (is('GET', /^\/guilds\/([^/]+)\/members\/([^/]+)$/)) {
      this.guild(g(1));
      return s.memberWire(g(2)) ?? thrown(notFound('Member', 10007));
    }
    if (is('PATCH', /^\/guilds\/([^/]+)\/members\/([^/]+)$/)) return this.editMember(g(1), g(2), b, call);
    if (is('PUT', /^\/guilds\/([^/]+)\/bans\/([^/]+)$/)) {
      this.guild(g(1));
      const user = s.users.get(g(2)) ?? thrown(notFound('User', 10013));
      if (user.id === s.owner.id || user.id === s.bot.id) throw new HttpError(403, 50013, 'Missing Permissions');
      s.bans.set(user.id, { reason: call.reason ?? null });
      s.members.delete(user.id);
      s.record({ type: 'ban', channelId: s.guildId, user: user.id, ...(call.reason ? { text: call.reason } : {}) });
      s.gateway.dispatch('GUILD_BAN_ADD', { guild_id: s.guildId, user });
      s.gateway.dispatch('GUILD_MEMBER_REMOVE', { guild_id: s.guildId, user });
      return undefined;
    }
    if (is('DELETE', /^\/guilds\/([^/]+)\/bans\/([^/]+)$/)) {
      this.guild(g(1));
      if (!s.bans.delete(g(2))) throw notFound('Ban', 10026);
      s.record({ type: 'unban', channelId: s.guildId, user: g(2) });
      return undefined;
    }

    // Application commands
    if (is('GET', /^\/applications\/([^/]+)\/commands$/)) return this.app(g(1)) && s.globalCommands;
    if (is('PUT', /^\/applications\/([^/]+)\/commands$/)) {
      this.app(g(1));
      const cmds = validateCommands(body);
      s.globalCommands.splice(0, s.globalCommands.length, ...cmds);
      return cmds;
    }
    if (is('PUT', /^\/applications\/([^/]+)\/guilds\/([^/]+)\/commands$/)) {
      this.app(g(1));
      this.guild(g(2));
      const cmds = validateCommands(body);
      s.guildCommands.set(g(2), cmds);
      return cmds;
    }
    if (is('GET', /^\/applications\/([^/]+)\/guilds\/([^/]+)\/commands$/)) return this.app(g(1)) && (s.guildCommands.get(g(2)) ?? []);

    // Interactions
    if (is('POST', /^\/interactions\/([^/]+)\/([^/]+)\/callback$/)) return this.interactionCallback(g(1), g(2), b, query);
    if (is('POST', /^\/webhooks\/([^/]+)\/([^/]+)$/)) return s.wire(this.followup(g(1), g(2), b));
    if (is('PATCH', /^\/webhooks\/([^/]+)\/([^/]+)\/messages\/([^/]+)$/)) return s.wire(this.editWebhookMessage(g(1), g(2), g(3), b));

    throw new HttpError(404, 0, '404: Not Found');
  }

  private guild(id: string): true {
    if (id !== this.state.guildId) throw notFound('Guild', 10004);
    return true;
  }

  private app(id: string): true {
    if (id !== this.state.applicationId) throw notFound('Application', 10002);
    return true;
  }

  private guildWire(id: string): unknown {
    this.guild(id);
    const s = this.state;
    return { id: s.guildId, name: 'Townhall Fake Guild', owner_id: s.owner.id, roles: s.roles, system_channel_id: s.systemChannelId, features: [], emojis: [], stickers: [] };
  }

  private channel(id: string): FakeChannel {
    return this.state.channels.get(id) ?? thrown(notFound('Channel', 10003));
  }

  private message(channelId: string, id: string): FakeMessage {
    this.channel(channelId);
    const msg = this.state.messages.get(id);
    if (!msg || msg.channel_id !== channelId) throw notFound('Message', 10008);
    return msg;
  }

  private listMessages(ch: FakeChannel, query: Record<string, string>): unknown[] {
    const limit = Math.min(100, Math.max(1, Number(query.limit ?? 50) || 50));
    // REST message objects, unlike gateway dispatches, carry neither guild_id nor member.
    const wire = (id: string) => {
      const { guild_id: _g, member: _m, ...m } = this.state.wire(this.state.messages.get(id)!);
      return m;
    };
    let ids = [...(this.state.channelMessages.get(ch.id) ?? [])].reverse();
    if (query.after) {
      // As Discord: the `limit` messages right after that id, newest first.
      const newer = (a: string, b: string) => (a.length !== b.length ? a.length > b.length : a > b);
      return ids.filter((id) => newer(id, query.after!)).slice(-limit).map(wire);
    }
    if (query.before) {
      const i = ids.indexOf(query.before);
      ids = i >= 0 ? ids.slice(i + 1) : ids;
    }
    return ids.slice(0, limit).map(wire);
  }

  private editChannel(ch: FakeChannel, b: Record<string, unknown>): FakeChannel {
    if (b.rate_limit_per_user !== undefined) {
      const v = b.rate_limit_per_user;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 21600) throw new HttpError(400, 50035, 'Invalid Form Body');
      ch.rate_limit_per_user = v;
    }
    if (typeof b.name === 'string') ch.name = b.name.slice(0, 100);
    if (typeof b.topic === 'string' || b.topic === null) ch.topic = b.topic as string | null;
    this.state.gateway.dispatch(THREAD_TYPES.has(ch.type) ? 'THREAD_UPDATE' : 'CHANNEL_UPDATE', ch);
    return ch;
  }

  /** Who a message body actually pings, honoring allowed_mentions like Discord does. */
  private pings(content: string, b: Record<string, unknown>, replyTo: FakeMessage | undefined) {
    const am = b.allowed_mentions as { parse?: string[]; users?: string[]; roles?: string[]; replied_user?: boolean } | undefined;
    const parse = new Set(am ? (am.parse ?? []) : ['users', 'roles', 'everyone']);
    const users: FakeUser[] = [];
    for (const mm of content.matchAll(/<@!?([^>\s]+)>/g)) {
      const id = mm[1]!;
      const u = this.state.users.get(id);
      if (u && (parse.has('users') || am?.users?.includes(id)) && !users.includes(u)) users.push(u);
    }
    const repliedPing = am ? am.replied_user === true : true;
    if (replyTo && repliedPing && !users.includes(replyTo.author)) users.push(replyTo.author);
    const roles = [...content.matchAll(/<@&([^>\s]+)>/g)].map((x) => x[1]!).filter((id) => parse.has('roles') || am?.roles?.includes(id));
    const everyone = parse.has('everyone') && /@(everyone|here)\b/.test(content);
    return { users, roles, everyone };
  }

  private postMessage(ch: FakeChannel, b: Record<string, unknown>, author: FakeUser, extra: { webhookId?: string; flags?: number } = {}): FakeMessage {
    const s = this.state;
    if (ch.type === 15 || ch.type === 16) throw new HttpError(400, 50008, 'Cannot send messages in a non-text channel');
    const content = typeof b.content === 'string' ? b.content : '';
    if (content.length > 2000) throw new HttpError(400, 50035, 'Invalid Form Body: content: Must be 2000 or fewer in length.');
    const components = Array.isArray(b.components) ? b.components : [];
    if (!content && !components.length && !(Array.isArray(b.embeds) && b.embeds.length)) throw new HttpError(400, 50006, 'Cannot send an empty message');
    const nonce = typeof b.nonce === 'string' || typeof b.nonce === 'number' ? String(b.nonce) : undefined;
    if (nonce && b.enforce_nonce === true) {
      // Discord returns the earlier message for a repeated nonce instead of posting twice.
      for (const id of (s.channelMessages.get(ch.id) ?? []).slice(-200)) {
        const prior = s.messages.get(id);
        if (prior?.nonce === nonce && prior.author.id === author.id) return prior;
      }
    }
    const ref = b.message_reference as { message_id?: string; fail_if_not_exists?: boolean } | undefined;
    let replyTo: FakeMessage | undefined;
    if (ref?.message_id) {
      replyTo = s.messages.get(ref.message_id);
      if (!replyTo && ref.fail_if_not_exists !== false) throw new HttpError(400, 50035, 'Invalid Form Body: message_reference: Unknown message');
    }
    const p = this.pings(content, b, replyTo);
    const msg = s.addMessage({
      channel: ch,
      author,
      content,
      replyTo,
      mentions: p.users,
      mentionRoles: p.roles,
      mentionEveryone: p.everyone,
      components,
      ...(nonce ? { nonce } : {}),
      ...(extra.webhookId ? { webhookId: extra.webhookId } : {}),
      ...(extra.flags ?? (typeof b.flags === 'number' ? b.flags : 0) ? { flags: extra.flags ?? Number(b.flags) } : {}),
    });
    s.record({ type: 'send', channelId: ch.id, text: content, ...(replyTo ? { replyTo: replyTo.id } : {}), messageId: msg.id });
    return msg;
  }

  private editMessage(msg: FakeMessage, b: Record<string, unknown>): FakeMessage {
    const s = this.state;
    if (msg.author.id !== s.bot.id) throw new HttpError(403, 50005, 'Cannot edit a message authored by another user');
    if (typeof b.content === 'string') {
      if (b.content.length > 2000) throw new HttpError(400, 50035, 'Invalid Form Body: content: Must be 2000 or fewer in length.');
      msg.content = b.content;
      const p = this.pings(b.content, b, undefined);
      msg.mention_everyone = p.everyone;
      msg.mention_roles = p.roles;
      msg.mentions = p.users;
    }
    if (Array.isArray(b.components)) msg.components = b.components;
    msg.edited_timestamp = new Date().toISOString();
    s.record({ type: 'edit', channelId: msg.channel_id, messageId: msg.id, text: msg.content });
    s.gateway.dispatch('MESSAGE_UPDATE', s.wire(msg));
    return msg;
  }

  private bulkDelete(ch: FakeChannel, b: Record<string, unknown>): undefined {
    const s = this.state;
    const ids = Array.isArray(b.messages) ? b.messages.map(String) : [];
    if (ids.length < 2 || ids.length > 100) throw new HttpError(400, 50035, 'Invalid Form Body: messages: must have between 2 and 100 items');
    for (const id of ids) {
      const t = snowflakeTime(id);
      if (t !== null && Date.now() - t > FOURTEEN_DAYS) throw new HttpError(400, 50034, 'You can only bulk delete messages that are under 14 days old.');
    }
    const gone: string[] = [];
    for (const id of ids) {
      const msg = s.messages.get(id);
      if (!msg || msg.channel_id !== ch.id) continue;
      s.removeMessage(msg, false);
      s.record({ type: 'delete', channelId: ch.id, messageId: id });
      gone.push(id);
    }
    s.gateway.dispatch('MESSAGE_DELETE_BULK', { ids: gone, channel_id: ch.id, guild_id: s.guildId });
    return undefined;
  }

  private threadName(b: Record<string, unknown>): string {
    const name = typeof b.name === 'string' ? b.name.trim() : '';
    if (!name || name.length > 100) throw new HttpError(400, 50035, 'Invalid Form Body: name: Must be between 1 and 100 in length.');
    return name;
  }

  private threadOnMessage(msg: FakeMessage, b: Record<string, unknown>): FakeChannel {
    const s = this.state;
    const parent = this.channel(msg.channel_id);
    if (THREAD_TYPES.has(parent.type) || (parent.type !== 0 && parent.type !== 5)) throw new HttpError(400, 50024, 'Cannot execute action on this channel type');
    if (s.channels.has(msg.id)) throw new HttpError(400, 160004, 'A thread has already been created for this message');
    const th = s.createThread(parent.id, { id: msg.id, name: this.threadName(b), by: s.bot });
    msg.thread = th;
    s.record({ type: 'thread', channelId: parent.id, thread: th.id, messageId: msg.id, text: th.name ?? '' });
    return th;
  }

  private threadInChannel(parent: FakeChannel, b: Record<string, unknown>): unknown {
    const s = this.state;
    const name = this.threadName(b);
    if (parent.type === 15 || parent.type === 16) {
      const first = b.message as Record<string, unknown> | undefined;
      if (!first || (typeof first.content !== 'string' && !Array.isArray(first.embeds))) throw new HttpError(400, 50035, 'Invalid Form Body: message: required');
      const th = s.createThread(parent.id, { name, by: s.bot });
      s.record({ type: 'thread', channelId: parent.id, thread: th.id, text: name });
      const content = typeof first.content === 'string' ? first.content : '';
      if (content.length > 2000) throw new HttpError(400, 50035, 'Invalid Form Body');
      const p = this.pings(content, first, undefined);
      const msg = s.addMessage({ channel: th, author: s.bot, content, id: th.id, mentions: p.users, mentionRoles: p.roles, mentionEveryone: p.everyone });
      s.record({ type: 'send', channelId: th.id, text: content, messageId: msg.id });
      return { ...th, message: s.wire(msg) };
    }
    if (parent.type !== 0 && parent.type !== 5) throw new HttpError(400, 50024, 'Cannot execute action on this channel type');
    const th = s.createThread(parent.id, { name, by: s.bot });
    s.record({ type: 'thread', channelId: parent.id, thread: th.id, text: name });
    return th;
  }

  private editMember(guildId: string, userId: string, b: Record<string, unknown>, call: RestCall): unknown {
    const s = this.state;
    this.guild(guildId);
    const m = s.members.get(userId) ?? thrown(notFound('Member', 10007));
    if ('communication_disabled_until' in b) {
      const v = b.communication_disabled_until;
      if (v === null) {
        m.communication_disabled_until = null;
        s.record({ type: 'unmute', channelId: s.guildId, user: userId });
      } else {
        const t = typeof v === 'string' ? Date.parse(v) : NaN;
        if (!Number.isFinite(t) || t - Date.now() > 28 * 24 * 3600 * 1000 + 60_000) throw new HttpError(400, 50035, 'Invalid Form Body: communication_disabled_until');
        if (userId === s.owner.id) throw new HttpError(403, 50013, 'Missing Permissions');
        m.communication_disabled_until = new Date(t).toISOString();
        s.record({ type: 'mute', channelId: s.guildId, user: userId, until: t, ...(call.reason ? { text: call.reason } : {}) });
      }
    }
    if (typeof b.nick === 'string' || b.nick === null) m.nick = b.nick as string | null;
    s.gateway.dispatch('GUILD_MEMBER_UPDATE', { guild_id: s.guildId, ...m });
    return m;
  }

  private interactionByToken(appId: string, token: string) {
    this.app(appId);
    for (const i of this.state.interactions.values()) if (i.token === token) return i;
    throw notFound('Webhook', 10015);
  }

  private interactionCallback(id: string, token: string, b: Record<string, unknown>, query: Record<string, string>): unknown {
    const s = this.state;
    const it = s.interactions.get(id);
    if (!it || it.token !== token) throw notFound('interaction', 10062);
    if (it.respondedAt !== undefined) throw new HttpError(400, 40060, 'Interaction has already been acknowledged.');
    if (Date.now() - it.createdAt > this.opts.interactionWindowMs) throw notFound('interaction', 10062);
    const type = Number(b.type);
    if (![4, 5, 6, 7].includes(type)) throw new HttpError(400, 50035, 'Invalid Form Body: type');
    it.respondedAt = Date.now();
    it.responseType = type;
    const data = (b.data ?? {}) as Record<string, unknown>;
    if (type === 5) it.ephemeral = (Number(data.flags ?? 0) & 64) !== 0;
    if (type === 4) {
      const msg = this.postMessage(this.channel(it.channelId), data, s.bot, { webhookId: s.applicationId });
      it.followups.push(msg);
    }
    return query.with_response === 'true' ? { interaction: { id: it.id, type: it.type, response_message_loading: type === 5 } } : undefined;
  }

  private followup(appId: string, token: string, b: Record<string, unknown>): FakeMessage {
    const s = this.state;
    const it = this.interactionByToken(appId, token);
    if (it.respondedAt === undefined) throw notFound('Webhook', 10015);
    const flags = it.followups.length === 0 && it.ephemeral ? 64 : Number(b.flags ?? 0);
    const msg = this.postMessage(this.channel(it.channelId), b, s.bot, { webhookId: s.applicationId, flags });
    it.followups.push(msg);
    return msg;
  }

  private editWebhookMessage(appId: string, token: string, messageId: string, b: Record<string, unknown>): FakeMessage {
    const it = this.interactionByToken(appId, token);
    if (messageId === '@original' && it.followups.length === 0) return this.followup(appId, token, b);
    const msg = messageId === '@original' ? it.followups[0]! : it.followups.find((f) => f.id === messageId) ?? thrown(notFound('Message', 10008));
    return this.editMessage(msg, b);
  }
}

/** Checks application command definitions the way Discord does (names, lengths, required options first). */
function validateCommands(body: unknown): unknown[] {
  if (!Array.isArray(body) || body.length > 100) throw new HttpError(400, 50035, 'Invalid Form Body');
  const bad = (msg: string) => new HttpError(400, 50035, `Invalid Form Body: ${msg}`);
  const checkOptions = (opts: unknown, where: string) => {
    if (opts === undefined) return;
    if (!Array.isArray(opts) || opts.length > 25) throw bad(`${where}.options`);
    let optionalSeen = false;
    for (const o of opts as Record<string, unknown>[]) {
      if (typeof o.name !== 'string' || !/^[-_\p{Ll}\p{N}]{1,32}$/u.test(o.name)) throw bad(`${where}.options.name`);
      if (typeof o.description !== 'string' || o.description.length < 1 || o.description.length > 100) throw bad(`${where}.${o.name}.description`);
      if (o.type === 1 || o.type === 2) {
        checkOptions(o.options, `${where}.${o.name}`);
        continue;
      }
      if (o.required === true && optionalSeen) throw bad(`${where}.${o.name}: required options must be placed before non-required options`);
      if (o.required !== true) optionalSeen = true;
    }
  };
  const seen = new Set<string>();
  return body.map((c: Record<string, unknown>) => {
    if (typeof c.name !== 'string' || !/^[-_\p{Ll}\p{N}]{1,32}$/u.test(c.name)) throw bad('name');
    if (seen.has(c.name)) throw bad(`duplicate name ${c.name}`);
    seen.add(c.name);
    if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 100) throw bad(`${c.name}.description`);
    checkOptions(c.options, c.name);
    return { ...c, id: snowflake(), version: snowflake(), default_member_permissions: c.default_member_permissions ?? null };
  });
}

function bucketHeaders(method: string, route: string, remaining: number, resetAfterSecs: number, limit = 50): Record<string, string> {
  return {
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(Math.max(0, remaining)),
    'x-ratelimit-reset-after': resetAfterSecs.toFixed(3),
    'x-ratelimit-reset': ((Date.now() + resetAfterSecs * 1000) / 1000).toFixed(3),
    'x-ratelimit-bucket': createHash('sha1').update(`${method} ${route.replace(/\d{5,}/g, ':id')}`).digest('hex').slice(0, 16),
  };
}

function thrown(err: Error): never {
  throw err;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 40005, 'Request entity too large');
    chunks.push(c as Buffer);
  }
  if (!size) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  const type = req.headers['content-type'] ?? '';
  if (!type.includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 50109, 'The request body contains invalid JSON.');
  }
}
