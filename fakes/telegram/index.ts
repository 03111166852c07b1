/**
 * A fake Telegram Bot API on 127.0.0.1 for tests and `townhall sandbox`: the real telegraf client talks HTTP to it.
 * It keeps Telegram's envelope, error texts, offsets, long polling, webhook pushes and moderation rules.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatPermissions, MessageEntity, ReactionType } from '@telegraf/types';
import type { OutboxEntry, SandboxMessageInput, SandboxPlatform, SandboxUser } from '../../src/core/index.js';
import { BodyError, boolParam, intParam, jsonParam, parseParams, readBody, strParam, type Params } from './body.js';
import { detectEntities, ParseEntitiesError, parseWithMode } from './parse-mode.js';
import {
  ALLOWED_REACTIONS,
  chatJson,
  DEFAULT_PERMISSIONS,
  entitiesFit,
  FULL_RIGHTS,
  memberJson,
  typeForId,
  type AdminRights,
  type ChatState,
  type FakeUser,
  type Json,
  type MemberState,
} from './state.js';

export type { AdminRights, FakeUser, Json } from './state.js';
export { FULL_RIGHTS } from './state.js';

/** The token the fake accepts unless told otherwise; its prefix is the bot's user id, as in real tokens. */
export const FAKE_TELEGRAM_TOKEN = '7000000001:AAFakeTownhallBotTokenForLocalTests0';

/** A send budget the fake enforces like Telegram's flood control: `points` sends per `windowMs`, sliding. */
export interface FloodBudget {
  points: number;
  windowMs: number;
}

/** Options for startTelegramFake; every one has a default that behaves like Telegram. */
export interface TelegramFakeOptions {
  /** The bot token the fake accepts (default FAKE_TELEGRAM_TOKEN); the part before ':' is the bot's id. */
  token?: string;
  /** The bot's username (default `townhall_bot`, contract §7). */
  botUsername?: string;
  /** Privacy mode on: in groups where the bot is not admin it sees only commands, replies to it and mentions. Default off. */
  privacyMode?: boolean;
  /** Whether the bot is an administrator (with every right) in chats created on first use. Default true. */
  botIsAdmin?: boolean;
  /** Flood control: per group (Telegram: 20 a minute), per chat, and for the whole bot (30 a second); `false` turns it off. */
  floodControl?: false | { perGroup?: FloodBudget | null; perChat?: FloodBudget | null; global?: FloodBudget | null };
  /** Bots cannot start private conversations: a DM to a user who never wrote to the bot is refused with 403. Default true. */
  dmRequiresStart?: boolean;
  /** Wait between webhook delivery attempts after a failure (default 1000 ms). */
  webhookRetryMs?: number;
  /** Largest request body accepted (default 50 MB, Telegram's upload cap). */
  maxBodyBytes?: number;
  /** Port to listen on (default: any free port). */
  port?: number;
}

/** One Bot API call the fake answered. */
export interface RecordedCall {
  method: string;
  params: Params;
  at: number;
  /** HTTP status of the answer. */
  status: number;
  result?: unknown;
  error?: string;
  /** True when the call came back in a webhook response body rather than as a request. */
  viaWebhook?: boolean;
}

/** A failure to answer with instead of performing a call (test hook). */
export interface InjectedFailure {
  /** HTTP status and error_code: 429, 500, 403, 400 ... */
  code: number;
  description?: string;
  /** For 429: seconds to wait (parameters.retry_after). */
  retryAfter?: number;
  /** How many calls fail this way (default 1). */
  times?: number;
  /** Only calls for this chat id fail. */
  chat?: string;
  /** Let this many matching calls succeed first (to fail, say, the second part of a split message). */
  skip?: number;
}

/** A user as tests and the sandbox give one: the SandboxUser plus optional Telegram fields. */
export interface FakeUserInput extends SandboxUser {
  username?: string;
  lang?: string;
  lastName?: string;
  isBot?: boolean;
}

/** What startTelegramFake returns: the sandbox surface plus test hooks. */
export interface TelegramFake extends SandboxPlatform {
  /** The API root to give telegraf (`telegram.apiRoot`). */
  readonly url: string;
  /** The token the fake accepts, as TELEGRAM_BOT_TOKEN. */
  readonly credentials: Readonly<Record<string, string>>;
  /** The token the fake accepts. */
  readonly token: string;
  /** The bot's own User object. */
  readonly bot: FakeUser;
  /** Every call answered so far (only `method`'s when given), oldest first. */
  calls(method?: string): RecordedCall[];
  /** Resolves with the first call (already made or future) of `method` that matches `match`. */
  waitForCall(method: string, match?: (c: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  /** Makes the next call(s) of `method` (`'*'`: any method but getUpdates) fail as described. */
  failNext(method: string, failure: InjectedFailure): void;
  /** Queues a raw update (update_id is assigned); `force` skips the allowed_updates filter. Returns the update_id, or null when filtered out. */
  injectUpdate(update: Json, opts?: { force?: boolean }): number | null;
  /** A person edits their message. */
  injectEdit(input: { chat: string; message: string; text: string }): Promise<void>;
  /** A person leaves a chat. */
  injectLeave(input: { chat: string; user: SandboxUser }): Promise<void>;
  /** A person presses an inline button; returns the callback query id. */
  injectCallbackQuery(input: { chat: string; message: string; user: FakeUserInput; data: string }): Promise<{ id: string }>;
  /** Anonymous reaction totals changed on a message (channels). */
  injectReactionCount(input: { chat: string; message: string; counts: Record<string, number> }): Promise<void>;
  /** The user creates a forum topic; the chat becomes a forum. Returns the topic (message thread) id. */
  createTopic(chat: string, name: string, user?: FakeUserInput): string;
  /** Makes a user an administrator (or takes it away). */
  setAdmin(chat: string, user: FakeUserInput, admin?: boolean): void;
  /** Makes a user the chat's owner. */
  setOwner(chat: string, user: FakeUserInput): void;
  /** Changes the bot's standing in a chat and sends the my_chat_member update Telegram would. */
  setBotStatus(chat: string, status: 'administrator' | 'member' | 'left' | 'kicked', rights?: Partial<AdminRights>): void;
  /** The user blocks the bot (DMs then fail with 403). */
  blockBot(user: string): void;
  /** Turns a supergroup into a forum (or back). */
  setForum(chat: string, on?: boolean): void;
  /** The numeric chat id the fake uses for a chat name or id. */
  chatId(chat: string): string;
  /** The numeric user id the fake uses for a user name or id. */
  userId(user: string): string;
  /** A stored message as Telegram would return it. */
  message(chat: string, id: string): Json | undefined;
  /** Updates not yet confirmed by an offset (or delivered to the webhook). */
  pendingUpdates(): Json[];
  /** The current webhook, if one is set. */
  webhook(): { url: string; secretToken?: string; lastError?: string; delivered: number } | undefined;
  /** How many sends flood control refused with 429. */
  floodRefusals(): number;
  /** The member status of a user in a chat. */
  memberStatus(chat: string, user: string): MemberState | undefined;
}

const ALL_UPDATE_TYPES = new Set([
  'message', 'edited_message', 'channel_post', 'edited_channel_post', 'business_connection', 'business_message', 'edited_business_message',
  'deleted_business_messages', 'message_reaction', 'message_reaction_count', 'inline_query', 'chosen_inline_result', 'callback_query',
  'shipping_query', 'pre_checkout_query', 'poll', 'poll_answer', 'my_chat_member', 'chat_member', 'chat_join_request', 'chat_boost',
  'removed_chat_boost',
]);
/** Update types Telegram sends only when asked for explicitly in allowed_updates. */
const OPT_IN_UPDATES = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: Json,
  ) {
    super(description);
  }
}
const badRequest = (d: string) => new ApiError(400, `Bad Request: ${d}`);
const forbidden = (d: string) => new ApiError(403, `Forbidden: ${d}`);

const nowSec = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Waiter = { offset: number; limit: number; resolve: (u: Json[]) => void; reject: (e: ApiError) => void; timer: NodeJS.Timeout };
type CallWaiter = { method: string; match: (c: RecordedCall) => boolean; resolve: (c: RecordedCall) => void };

class TelegramFakeServer implements TelegramFake {
  readonly token: string;
  readonly credentials: Readonly<Record<string, string>>;
  readonly bot: FakeUser;
  url = '';
  private readonly server: http.Server;
  private readonly opts: Required<Omit<TelegramFakeOptions, 'floodControl' | 'port'>> & { port: number };
  private readonly flood: { perGroup: FloodBudget | null; perChat: FloodBudget | null; global: FloodBudget | null };
  private readonly users = new Map<number, FakeUser>();
  private readonly chats = new Map<number, ChatState>();
  private readonly aliases = new Map<string, number>();
  private readonly recorded: RecordedCall[] = [];
  private readonly callWaiters = new Set<CallWaiter>();
  private readonly failures: { method: string; failure: InjectedFailure; left: number; skip: number }[] = [];
  private readonly outboxEntries: OutboxEntry[] = [];
  private readonly callbackIds = new Set<string>();
  private updates: Json[] = [];
  private nextUpdateId = 700_000_001;
  private allowedUpdates: Set<string> | null = null;
  private waiter: Waiter | undefined;
  private hook: { url: string; secretToken?: string; lastError?: string; lastErrorDate?: number; delivered: number; maxConnections: number } | undefined;
  private pumping = false;
  private closed = false;
  private globalSends: number[] = [];
  private floodCount = 0;
  private commands: unknown[] = [];
  private readonly reactionCounts = new Map<string, Map<string, number>>();

  constructor(opts: TelegramFakeOptions) {
    this.token = opts.token ?? FAKE_TELEGRAM_TOKEN;
    this.credentials = { TELEGRAM_BOT_TOKEN: this.token };
    const botId = Number(this.token.split(':')[0]);
    if (!Number.isSafeInteger(botId) || botId <= 0) throw new Error('fake token must look like <bot id>:<secret>');
    this.opts = {
      token: this.token,
      botUsername: opts.botUsername ?? 'townhall_bot',
      privacyMode: opts.privacyMode ?? false,
      botIsAdmin: opts.botIsAdmin ?? true,
      dmRequiresStart: opts.dmRequiresStart ?? true,
      webhookRetryMs: opts.webhookRetryMs ?? 1000,
      maxBodyBytes: opts.maxBodyBytes ?? 50 * 1024 * 1024,
      port: opts.port ?? 0,
    };
    const fc = opts.floodControl;
    this.flood =
      fc === false
        ? { perGroup: null, perChat: null, global: null }
        : {
            perGroup: fc?.perGroup === undefined ? { points: 20, windowMs: 60_000 } : fc.perGroup,
            perChat: fc?.perChat ?? null,
            global: fc?.global === undefined ? { points: 30, windowMs: 1000 } : fc.global,
          };
    this.bot = { id: botId, is_bot: true, first_name: 'Townhall', username: this.opts.botUsername };
    this.users.set(botId, this.bot);
    this.server = http.createServer((req, res) => void this.onRequest(req, res));
    this.server.keepAliveTimeout = 60_000;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${addr.port}`;
  }

  // ---------------------------------------------------------------- HTTP

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!m) return this.reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (m[1] !== this.token) return this.reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    let params: Params;
    try {
      const body = await readBody(req, this.opts.maxBodyBytes);
      params = parseParams(url, req.headers['content-type'], body);
    } catch (e) {
      const d = e instanceof BodyError ? e.message : 'Bad Request: invalid request';
      const code = d.includes('Too Large') ? 413 : 400;
      return this.reply(res, code, { ok: false, error_code: code, description: d });
    }
    let aborted = false;
    res.on('close', () => {
      if (!res.writableFinished) aborted = true;
    });
    const method = m[2]!;
    const answer = await this.call(method, params, () => aborted);
    if (!aborted) this.reply(res, answer.status, answer.body);
  }

  private reply(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** Runs one method and records it; returns the envelope and its HTTP status. */
  private async call(methodIn: string, params: Params, isAborted: () => boolean = () => false, viaWebhook = false): Promise<{ status: number; body: Json }> {
    const handler = this.handlerFor(methodIn);
    const method = handler?.name ?? methodIn;
    let status = 200;
    let body: Json;
    const rec: RecordedCall = { method, params, at: Date.now(), status, ...(viaWebhook ? { viaWebhook } : {}) };
    try {
      if (!handler) throw new ApiError(404, 'Not Found');
      this.injectedFailure(method, params);
      const result = await handler.fn(params, isAborted);
      body = { ok: true, result };
      rec.result = result;
    } catch (e) {
      const err = e instanceof ApiError ? e : e instanceof ParseEntitiesError ? badRequest(`can't parse entities: ${e.message}`) : new ApiError(500, 'Internal Server Error');
      status = err.code;
      body = { ok: false, error_code: err.code, description: err.description, ...(err.parameters ? { parameters: err.parameters } : {}) };
      rec.error = err.description;
      if (!(e instanceof ApiError) && !(e instanceof ParseEntitiesError)) rec.error += `: ${(e as Error).message}`;
    }
    rec.status = status;
    rec.at = Date.now();
    if (!(isAborted() && method === 'getUpdates')) this.record(rec);
    return { status, body };
  }

  private record(rec: RecordedCall): void {
    this.recorded.push(rec);
    if (this.recorded.length > 20_000) this.recorded.splice(0, 5_000);
    for (const w of this.callWaiters) {
      if (w.method === rec.method && w.match(rec)) {
        this.callWaiters.delete(w);
        w.resolve(rec);
      }
    }
  }

  private injectedFailure(method: string, params: Params): void {
    const chat = strParam(params, 'chat_id');
    const i = this.failures.findIndex(
      (f) => (f.method === method || (f.method === '*' && method !== 'getUpdates')) && (f.failure.chat === undefined || this.chatId(f.failure.chat) === chat),
    );
    if (i < 0) return;
    const f = this.failures[i]!;
    if (f.skip > 0) {
      f.skip--;
      return;
    }
    if (--f.left <= 0) this.failures.splice(i, 1);
    const { code, retryAfter } = f.failure;
    const description =
      f.failure.description ??
      (code === 429
        ? `Too Many Requests: retry after ${retryAfter ?? 1}`
        : code === 403
          ? 'Forbidden: bot was kicked from the supergroup chat'
          : code >= 500
            ? 'Internal Server Error'
            : code === 400
              ? 'Bad Request'
              : 'Error');
    throw new ApiError(code, description, code === 429 ? { retry_after: retryAfter ?? 1 } : undefined);
  }

  private handlerFor(method: string): { name: string; fn: (p: Params, aborted: () => boolean) => unknown } | undefined {
    // Bot API method names are case-insensitive.
    const key = method.toLowerCase();
    const table: Record<string, [string, (p: Params, aborted: () => boolean) => unknown]> = {
      getme: ['getMe', () => this.getMe()],
      logout: ['logOut', () => true],
      close: ['close', () => true],
      getupdates: ['getUpdates', (p, a) => this.getUpdates(p, a)],
      setwebhook: ['setWebhook', (p) => this.setWebhook(p)],
      deletewebhook: ['deleteWebhook', (p) => this.deleteWebhook(p)],
      getwebhookinfo: ['getWebhookInfo', () => this.getWebhookInfo()],
      sendmessage: ['sendMessage', (p) => this.sendMessage(p)],
      editmessagetext: ['editMessageText', (p) => this.editMessageText(p)],
      editmessagereplymarkup: ['editMessageReplyMarkup', (p) => this.editMessageReplyMarkup(p)],
      deletemessage: ['deleteMessage', (p) => this.deleteMessage(p)],
      deletemessages: ['deleteMessages', (p) => this.deleteMessages(p)],
      pinchatmessage: ['pinChatMessage', (p) => this.pinChatMessage(p)],
      unpinchatmessage: ['unpinChatMessage', (p) => this.unpinChatMessage(p)],
      setmessagereaction: ['setMessageReaction', (p) => this.setMessageReaction(p)],
      banchatmember: ['banChatMember', (p) => this.banChatMember(p)],
      unbanchatmember: ['unbanChatMember', (p) => this.unbanChatMember(p)],
      restrictchatmember: ['restrictChatMember', (p) => this.restrictChatMember(p)],
      getchatadministrators: ['getChatAdministrators', (p) => this.getChatAdministrators(p)],
      getchatmember: ['getChatMember', (p) => this.getChatMember(p)],
      getchat: ['getChat', (p) => this.getChat(p)],
      getchatmembercount: ['getChatMemberCount', (p) => this.memberChat(p).members.size],
      createforumtopic: ['createForumTopic', (p) => this.createForumTopic(p)],
      setmycommands: ['setMyCommands', (p) => this.setMyCommands(p)],
      getmycommands: ['getMyCommands', () => this.commands],
      deletemycommands: ['deleteMyCommands', () => ((this.commands = []), true)],
      answercallbackquery: ['answerCallbackQuery', (p) => this.answerCallbackQuery(p)],
      sendchataction: ['sendChatAction', (p) => (this.writableChat(p), true)],
    };
    const entry = table[key];
    return entry ? { name: entry[0], fn: entry[1] } : undefined;
  }

  // ---------------------------------------------------------------- updates

  private getMe(): Json {
    return {
      ...this.bot,
      can_join_groups: true,
      can_read_all_group_messages: !this.opts.privacyMode,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    };
  }

  private async getUpdates(p: Params, aborted: () => boolean): Promise<Json[]> {
    if (this.hook) throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    const allowed = jsonParam(p, 'allowed_updates');
    if (Array.isArray(allowed)) this.setAllowed(allowed);
    const offset = intParam(p, 'offset') ?? 0;
    const limit = Math.min(100, Math.max(1, intParam(p, 'limit') ?? 100));
    const timeout = Math.max(0, intParam(p, 'timeout') ?? 0);
    this.confirm(offset);
    // A newer getUpdates ends an older one that is still waiting, as Telegram does.
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.reject(new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'));
    }
    const ready = this.select(offset, limit);
    if (ready.length > 0 || timeout === 0) return ready;
    return new Promise<Json[]>((resolve, reject) => {
      const w: Waiter = {
        offset,
        limit,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (this.waiter === w) this.waiter = undefined;
          resolve([]);
        }, timeout * 1000),
      };
      this.waiter = w;
      // Drop the wait when the client goes away (aborted long poll); nothing is confirmed by that.
      const check = setInterval(() => {
        if (this.waiter !== w) return clearInterval(check);
        if (aborted() || this.closed) {
          clearInterval(check);
          clearTimeout(w.timer);
          this.waiter = undefined;
          resolve([]);
        }
      }, 50);
    });
  }

  private setAllowed(list: unknown[]): void {
    const names = list.filter((x): x is string => typeof x === 'string');
    this.allowedUpdates = names.length ? new Set(names) : null;
  }

  private confirm(offset: number): void {
    if (offset > 0) this.updates = this.updates.filter((u) => (u.update_id as number) >= offset);
    else if (offset < 0) this.updates = this.updates.slice(offset);
  }

  private select(offset: number, limit: number): Json[] {
    return this.updates.filter((u) => offset <= 0 || (u.update_id as number) >= offset).slice(0, limit);
  }

  private allowed(type: string): boolean {
    if (this.allowedUpdates) return this.allowedUpdates.has(type);
    return !OPT_IN_UPDATES.has(type);
  }

  injectUpdate(update: Json, opts: { force?: boolean } = {}): number | null {
    const type = Object.keys(update).find((k) => k !== 'update_id') ?? 'unknown';
    if (!opts.force && ALL_UPDATE_TYPES.has(type) && !this.allowed(type)) return null;
    const id = this.nextUpdateId++;
    this.updates.push({ update_id: id, ...update });
    this.wake();
    return id;
  }

  private wake(): void {
    const w = this.waiter;
    if (w) {
      const ready = this.select(w.offset, w.limit);
      if (ready.length) {
        this.waiter = undefined;
        clearTimeout(w.timer);
        w.resolve(ready);
      }
    }
    if (this.hook) void this.pump();
  }

  private setWebhook(p: Params): boolean {
    const url = strParam(p, 'url') ?? '';
    if (url === '') return this.deleteWebhook(p);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badRequest('bad webhook: Failed to resolve host: Name or service not known');
    }
    // Telegram only pushes to HTTPS; the fake also allows plain HTTP on loopback, where tests run.
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname))) {
      throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
    }
    const secret = strParam(p, 'secret_token');
    if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) throw badRequest('secret token contains unallowed characters');
    const allowed = jsonParam(p, 'allowed_updates');
    if (Array.isArray(allowed)) this.setAllowed(allowed);
    if (boolParam(p, 'drop_pending_updates')) this.updates = [];
    this.hook = { url, delivered: 0, maxConnections: intParam(p, 'max_connections') ?? 40, ...(secret ? { secretToken: secret } : {}) };
    this.wake();
    return true;
  }

  private deleteWebhook(p: Params): boolean {
    this.hook = undefined;
    if (boolParam(p, 'drop_pending_updates')) this.updates = [];
    return true;
  }

  private getWebhookInfo(): Json {
    const h = this.hook;
    return {
      url: h?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: this.updates.length,
      ...(h?.lastError ? { last_error_date: h.lastErrorDate, last_error_message: h.lastError } : {}),
      ...(h ? { max_connections: h.maxConnections } : {}),
      ...(this.allowedUpdates ? { allowed_updates: [...this.allowedUpdates] } : {}),
    };
  }

  /** Pushes pending updates to the webhook one at a time, in order; an update leaves the queue only on a 2xx. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.hook && this.updates.length > 0 && !this.closed) {
        const hook = this.hook;
        const update = this.updates[0]!;
        try {
          const res = await fetch(hook.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(hook.secretToken ? { 'x-telegram-bot-api-secret-token': hook.secretToken } : {}) },
            body: JSON.stringify(update),
            signal: AbortSignal.timeout(60_000),
          });
          const text = await res.text();
          if (res.ok) {
            if (this.updates[0] === update) this.updates.shift();
            hook.delivered++;
            await this.webhookReply(text);
            continue;
          }
          hook.lastError = `Wrong response from the webhook: ${res.status} ${res.statusText}`;
        } catch (e) {
          hook.lastError = `Connection refused (${(e as Error).message})`;
        }
        hook.lastErrorDate = nowSec();
        await sleep(this.opts.webhookRetryMs);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** A webhook may answer with a method call in its response body; Telegram performs it. */
  private async webhookReply(text: string): Promise<void> {
    if (!text.trim()) return;
    try {
      const body = JSON.parse(text) as Json;
      if (body && typeof body.method === 'string') {
        const { method, ...params } = body;
        await this.call(method as string, params, () => false, true);
      }
    } catch {
      // Not JSON: Telegram ignores the body.
    }
  }

  // ---------------------------------------------------------------- chats and users

  chatId(chat: string): string {
    return String(this.resolveChatId(chat));
  }

  userId(user: string): string {
    return String(this.resolveUserId(user));
  }

  private resolveChatId(chat: string | number): number {
    if (typeof chat === 'number') return chat;
    const t = chat.trim();
    if (/^-?\d+$/.test(t)) return Number(t);
    if (t.startsWith('@')) {
      const found = [...this.chats.values()].find((c) => c.username?.toLowerCase() === t.slice(1).toLowerCase());
      if (found) return found.id;
    }
    let id = this.aliases.get(`chat:${t}`);
    if (id === undefined) {
      id = -1_009_000_000_000 - this.aliases.size;
      this.aliases.set(`chat:${t}`, id);
    }
    return id;
  }

  private resolveUserId(user: string | number): number {
    if (typeof user === 'number') return user;
    const t = user.trim();
    if (/^\d+$/.test(t)) return Number(t);
    let id = this.aliases.get(`user:${t}`);
    if (id === undefined) {
      id = 900_000_000 + this.aliases.size;
      this.aliases.set(`user:${t}`, id);
    }
    return id;
  }

  private ensureUser(input: FakeUserInput | string): FakeUser {
    const u = typeof input === 'string' ? { id: input, name: input } : input;
    const id = this.resolveUserId(u.id);
    let user = this.users.get(id);
    if (!user) {
      user = { id, is_bot: u.isBot ?? false, first_name: u.name || `User ${id}` };
      this.users.set(id, user);
    } else if (typeof input !== 'string' && u.name) {
      user.first_name = u.name;
    }
    if (typeof input !== 'string') {
      if (input.username) user.username = input.username;
      if (input.lang) user.language_code = input.lang;
      if (input.lastName) user.last_name = input.lastName;
    }
    return user;
  }

  private ensureChat(chat: string, privateUser?: FakeUser): ChatState {
    const id = this.resolveChatId(chat);
    let state = this.chats.get(id);
    if (state) return state;
    const type = typeForId(id);
    const isName = !/^-?\d+$/.test(chat.trim());
    state = {
      id,
      type,
      title: type === 'private' ? (privateUser?.first_name ?? `User ${id}`) : isName ? chat : `Chat ${id}`,
      isForum: false,
      members: new Map(),
      bot: type === 'private' ? { status: 'member' } : this.opts.botIsAdmin ? { status: 'administrator', rights: { ...FULL_RIGHTS } } : { status: 'member' },
      topics: new Map(),
      messages: new Map(),
      // In supergroups message 1 is the creation notice, and in forums 1 is the "General" topic's id.
      nextMessageId: type === 'supergroup' ? 2 : 1,
      pinned: [],
      reactions: new Map(),
      started: false,
      blocked: false,
      permissions: { ...DEFAULT_PERMISSIONS },
      sends: [],
    };
    this.chats.set(id, state);
    return state;
  }

  private member(chat: ChatState, userId: number): MemberState {
    let m = chat.members.get(userId);
    if (!m) {
      m = { status: chat.type === 'private' ? 'member' : 'left' };
      chat.members.set(userId, m);
    }
    return m;
  }

  private joinIfAbsent(chat: ChatState, user: FakeUser): void {
    const m = this.member(chat, user.id);
    if (m.status === 'left') m.status = 'member';
  }

  setAdmin(chat: string, input: FakeUserInput, admin = true): void {
    const c = this.ensureChat(chat);
    const user = this.ensureUser(input);
    const m = this.member(c, user.id);
    if (m.status === 'creator') return;
    const before = memberJson(user, { ...m });
    if (admin) {
      m.status = 'administrator';
      m.rights = { ...FULL_RIGHTS };
    } else if (m.status === 'administrator') {
      m.status = 'member';
      delete m.rights;
    }
    this.injectUpdate({ chat_member: { chat: chatJson(c, this.users), from: user, date: nowSec(), old_chat_member: before, new_chat_member: memberJson(user, m) } });
  }

  setOwner(chat: string, input: FakeUserInput): void {
    const c = this.ensureChat(chat);
    const user = this.ensureUser(input);
    for (const m of c.members.values()) if (m.status === 'creator') m.status = 'member';
    c.members.set(user.id, { status: 'creator' });
  }

  setBotStatus(chat: string, status: 'administrator' | 'member' | 'left' | 'kicked', rights?: Partial<AdminRights>): void {
    const c = this.ensureChat(chat);
    const before = memberJson(this.bot, c.bot);
    c.bot = status === 'administrator' ? { status, rights: { ...FULL_RIGHTS, ...rights } } : { status };
    const actor = [...c.members.entries()].find(([, m]) => m.status === 'creator' || m.status === 'administrator')?.[0];
    this.injectUpdate({
      my_chat_member: {
        chat: chatJson(c, this.users),
        from: (actor !== undefined ? this.users.get(actor) : undefined) ?? this.bot,
        date: nowSec(),
        old_chat_member: before,
        new_chat_member: memberJson(this.bot, c.bot),
      },
    });
  }

  blockBot(user: string): void {
    const u = this.ensureUser(user);
    const c = this.ensureChat(String(u.id), u);
    c.blocked = true;
    this.injectUpdate({
      my_chat_member: { chat: chatJson(c, this.users), from: u, date: nowSec(), old_chat_member: memberJson(this.bot, { status: 'member' }), new_chat_member: memberJson(this.bot, { status: 'kicked' }) },
    });
  }

  setForum(chat: string, on = true): void {
    const c = this.ensureChat(chat);
    if (c.type !== 'supergroup') throw new Error('only supergroups can be forums');
    c.isForum = on;
  }

  createTopic(chat: string, name: string, userInput?: FakeUserInput): string {
    const c = this.ensureChat(chat);
    if (c.type !== 'supergroup') throw new Error('only supergroups can have topics');
    c.isForum = true;
    const from = userInput ? this.ensureUser(userInput) : this.bot;
    return String(this.addTopic(c, name, from).id);
  }

  /** A topic is the service message that created it: its id is that message's id. */
  private addTopic(chat: ChatState, name: string, from: FakeUser, wantedId?: number): { id: number; message: Json } {
    const id = wantedId ?? chat.nextMessageId;
    if (id >= chat.nextMessageId) chat.nextMessageId = id + 1;
    const topic = { id, name, icon_color: 7322096 };
    chat.topics.set(id, topic);
    const message: Json = {
      message_id: id,
      from,
      chat: chatJson(chat, this.users),
      date: nowSec(),
      message_thread_id: id,
      is_topic_message: true,
      forum_topic_created: { name, icon_color: topic.icon_color },
    };
    chat.messages.set(id, message);
    return { id, message };
  }

  memberStatus(chat: string, user: string): MemberState | undefined {
    return this.chats.get(this.resolveChatId(chat))?.members.get(this.resolveUserId(user));
  }

  message(chat: string, id: string): Json | undefined {
    return this.chats.get(this.resolveChatId(chat))?.messages.get(Number(id));
  }

  pendingUpdates(): Json[] {
    return [...this.updates];
  }

  webhook(): { url: string; secretToken?: string; lastError?: string; delivered: number } | undefined {
    if (!this.hook) return undefined;
    const { url, secretToken, lastError, delivered } = this.hook;
    return { url, delivered, ...(secretToken ? { secretToken } : {}), ...(lastError ? { lastError } : {}) };
  }

  floodRefusals(): number {
    return this.floodCount;
  }

  // ---------------------------------------------------------------- messages

  /** Builds, stores and returns a message with Telegram's thread and reply rules. */
  private createMessage(chat: ChatState, from: FakeUser, o: { text?: string; entities?: MessageEntity[]; thread?: number; replyTo?: Json; markup?: unknown; extra?: Json }): Json {
    let thread = o.thread;
    // A reply goes where the replied-to message is (its topic, or its comment thread).
    if (thread === undefined && o.replyTo) {
      const t = o.replyTo.message_thread_id as number | undefined;
      if (t !== undefined) thread = t;
      else if (chat.type === 'supergroup' && !chat.isForum) thread = o.replyTo.message_id as number;
    }
    const inTopic = chat.isForum && thread !== undefined && chat.topics.has(thread);
    const id = chat.nextMessageId++;
    const msg: Json = { message_id: id, from, chat: chatJson(chat, this.users), date: nowSec() };
    if (thread !== undefined && chat.type === 'supergroup') {
      msg.message_thread_id = thread;
      if (inTopic) msg.is_topic_message = true;
    }
    const replied = o.replyTo ?? (inTopic ? chat.messages.get(thread!) : undefined);
    if (replied) {
      const { reply_to_message: _drop, ...shallow } = replied;
      msg.reply_to_message = shallow;
    }
    if (o.text !== undefined) {
      msg.text = o.text;
      const entities = [...(o.entities ?? [])];
      entities.push(...detectEntities(o.text, entities));
      if (entities.length) msg.entities = entities.sort((a, b) => a.offset - b.offset);
    }
    if (o.markup) msg.reply_markup = o.markup;
    Object.assign(msg, o.extra ?? {});
    chat.messages.set(id, msg);
    return msg;
  }

  /** Privacy mode: a non-admin bot in a group sees only commands, replies to it and mentions of it. */
  private botSees(chat: ChatState, msg: Json): boolean {
    if (!this.opts.privacyMode || chat.type === 'private' || chat.type === 'channel') return true;
    if (chat.bot.status === 'administrator') return true;
    const text = (msg.text as string | undefined) ?? '';
    const reply = msg.reply_to_message as Json | undefined;
    const replyFrom = reply?.from as FakeUser | undefined;
    if (text.startsWith('/')) return true;
    if (replyFrom?.id === this.bot.id && !(reply?.forum_topic_created)) return true;
    if (text.toLowerCase().includes(`@${this.bot.username!.toLowerCase()}`)) return true;
    return Boolean(msg.new_chat_members || msg.left_chat_member);
  }

  private botPresent(chat: ChatState): boolean {
    return chat.bot.status === 'administrator' || chat.bot.status === 'member' || chat.bot.status === 'creator';
  }

  async injectMessage(input: SandboxMessageInput & { user: FakeUserInput }): Promise<{ id: string }> {
    const user = this.ensureUser(input.user);
    const chat = this.ensureChat(input.chat, user);
    if (chat.type === 'private') {
      chat.started = true;
      chat.blocked = false;
    }
    this.joinIfAbsent(chat, user);
    if (input.user.admin && chat.type !== 'private') {
      const m = this.member(chat, user.id);
      if (m.status !== 'creator' && m.status !== 'administrator') this.setAdmin(input.chat, input.user, true);
    }
    let thread: number | undefined;
    if (input.thread !== undefined && input.thread !== '' && chat.type === 'supergroup') {
      const t = Number(input.thread);
      if (!Number.isInteger(t) || t <= 0) throw new Error(`thread must be a topic id, got ${input.thread}`);
      chat.isForum = true;
      // Topic 1 is "General": its messages carry no thread id.
      if (t !== 1) {
        if (!chat.topics.has(t)) this.addTopic(chat, `Topic ${t}`, user, t);
        thread = t;
      }
    }
    const replyTo = input.replyTo !== undefined ? chat.messages.get(Number(input.replyTo)) : undefined;
    const msg = this.createMessage(chat, user, { text: input.text, ...(thread !== undefined ? { thread } : {}), ...(replyTo ? { replyTo } : {}) });
    if (this.botPresent(chat) && this.botSees(chat, msg)) this.injectUpdate(chat.type === 'channel' ? { channel_post: msg } : { message: msg });
    return { id: String(msg.message_id) };
  }

  async injectEdit(input: { chat: string; message: string; text: string }): Promise<void> {
    const chat = this.chats.get(this.resolveChatId(input.chat));
    const msg = chat?.messages.get(Number(input.message));
    if (!chat || !msg) throw new Error(`no message ${input.message} in chat ${input.chat}`);
    msg.text = input.text;
    const entities = detectEntities(input.text);
    if (entities.length) msg.entities = entities;
    else delete msg.entities;
    msg.edit_date = nowSec();
    if (this.botPresent(chat) && this.botSees(chat, msg)) this.injectUpdate(chat.type === 'channel' ? { edited_channel_post: { ...msg } } : { edited_message: { ...msg } });
  }

  async injectReaction(input: { chat: string; message: string; user: SandboxUser | string; emoji: string }): Promise<void> {
    const user = this.ensureUser(input.user);
    const chat = this.ensureChat(input.chat, user);
    const messageId = Number(input.message);
    if (!chat.messages.has(messageId)) throw new Error(`no message ${input.message} in chat ${input.chat}`);
    const byUser = chat.reactions.get(messageId) ?? new Map<number, ReactionType[]>();
    chat.reactions.set(messageId, byUser);
    const old = byUser.get(user.id) ?? [];
    // Without Premium a person has one reaction per message: a new one replaces the old; '' takes it back.
    const next: ReactionType[] = input.emoji ? [{ type: 'emoji', emoji: input.emoji as never }] : [];
    byUser.set(user.id, next);
    // Telegram sends reaction updates only to administrators.
    if (chat.bot.status !== 'administrator') return;
    this.injectUpdate({ message_reaction: { chat: chatJson(chat, this.users), message_id: messageId, user, date: nowSec(), old_reaction: old, new_reaction: next } });
  }

  async injectReactionCount(input: { chat: string; message: string; counts: Record<string, number> }): Promise<void> {
    const chat = this.ensureChat(input.chat);
    const key = `${chat.id}/${input.message}`;
    this.reactionCounts.set(key, new Map(Object.entries(input.counts)));
    if (chat.bot.status !== 'administrator') return;
    this.injectUpdate({
      message_reaction_count: {
        chat: chatJson(chat, this.users),
        message_id: Number(input.message),
        date: nowSec(),
        reactions: Object.entries(input.counts)
          .filter(([, n]) => n > 0)
          .map(([emoji, n]) => ({ type: { type: 'emoji', emoji }, total_count: n })),
      },
    });
  }

  async injectJoin(input: { chat: string; user: SandboxUser }): Promise<void> {
    const user = this.ensureUser(input.user);
    const chat = this.ensureChat(input.chat);
    const m = this.member(chat, user.id);
    const before = memberJson(user, { ...m });
    if (m.status === 'left' || m.status === 'kicked') m.status = 'member';
    if (input.user.admin) this.setAdmin(input.chat, input.user, true);
    if (!this.botPresent(chat)) return;
    const msg = this.createMessage(chat, user, { extra: { new_chat_members: [user], new_chat_member: user, new_chat_participant: user } });
    this.injectUpdate({ message: msg });
    if (chat.bot.status === 'administrator') {
      this.injectUpdate({ chat_member: { chat: chatJson(chat, this.users), from: user, date: nowSec(), old_chat_member: before, new_chat_member: memberJson(user, m) } });
    }
  }

  async injectLeave(input: { chat: string; user: SandboxUser }): Promise<void> {
    const user = this.ensureUser(input.user);
    const chat = this.ensureChat(input.chat);
    const m = this.member(chat, user.id);
    const before = memberJson(user, { ...m });
    m.status = 'left';
    if (!this.botPresent(chat)) return;
    const msg = this.createMessage(chat, user, { extra: { left_chat_member: user, left_chat_participant: user } });
    this.injectUpdate({ message: msg });
    if (chat.bot.status === 'administrator') {
      this.injectUpdate({ chat_member: { chat: chatJson(chat, this.users), from: user, date: nowSec(), old_chat_member: before, new_chat_member: memberJson(user, m) } });
    }
  }

  async injectCallbackQuery(input: { chat: string; message: string; user: FakeUserInput; data: string }): Promise<{ id: string }> {
    const user = this.ensureUser(input.user);
    const chat = this.ensureChat(input.chat);
    const msg = chat.messages.get(Number(input.message));
    if (!msg) throw new Error(`no message ${input.message} in chat ${input.chat}`);
    const id = BigInt(`0x${randomBytes(7).toString('hex')}`).toString();
    this.callbackIds.add(id);
    this.injectUpdate({ callback_query: { id, from: user, message: msg, chat_instance: String(chat.id * 7), data: input.data } });
    return { id };
  }

  // ---------------------------------------------------------------- methods the bot calls

  /** The chat a method names; unknown chats are "not found", as for a bot that was never there. */
  private knownChat(p: Params): ChatState {
    const raw = strParam(p, 'chat_id');
    if (raw === undefined || raw === '') throw badRequest('chat_id is empty');
    const id = /^-?\d+$/.test(raw) ? Number(raw) : raw.startsWith('@') ? this.resolveChatId(raw) : NaN;
    const chat = this.chats.get(id);
    if (chat) return chat;
    const user = this.users.get(id);
    if (user && id > 0 && !user.is_bot) return this.ensureChat(String(id), user);
    throw badRequest('chat not found');
  }

  /** A chat the bot may act in: present in the group, or started and not blocked in private. */
  private memberChat(p: Params): ChatState {
    const chat = this.knownChat(p);
    const kind = chat.type === 'private' ? '' : chat.type === 'group' ? 'group chat' : chat.type === 'channel' ? 'channel chat' : 'supergroup chat';
    if (chat.type === 'private') {
      if (chat.blocked) throw forbidden('bot was blocked by the user');
      if (!chat.started && this.opts.dmRequiresStart) throw forbidden("bot can't initiate conversation with a user");
      return chat;
    }
    if (chat.bot.status === 'kicked') throw forbidden(`bot was kicked from the ${kind}`);
    if (chat.bot.status === 'left') throw forbidden(`bot is not a member of the ${kind}`);
    return chat;
  }

  private writableChat(p: Params): ChatState {
    return this.memberChat(p);
  }

  private requireRight(chat: ChatState, right: keyof AdminRights, error: string): void {
    if (chat.type === 'private') return;
    if (chat.bot.status !== 'administrator' || !chat.bot.rights?.[right]) throw badRequest(error);
  }

  private checkFlood(chat: ChatState): void {
    const now = Date.now();
    const over = (log: number[], b: FloodBudget | null): number => {
      if (!b) return 0;
      while (log.length && log[0]! <= now - b.windowMs) log.shift();
      return log.length >= b.points ? Math.max(1, Math.ceil((log[0]! + b.windowMs - now) / 1000)) : 0;
    };
    const isGroup = chat.type === 'group' || chat.type === 'supergroup';
    const wait = Math.max(over(this.globalSends, this.flood.global), over(chat.sends, isGroup ? this.flood.perGroup : null), this.flood.perChat ? over([...chat.sends], this.flood.perChat) : 0);
    if (wait > 0) {
      this.floodCount++;
      throw new ApiError(429, `Too Many Requests: retry after ${wait}`, { retry_after: wait });
    }
    this.globalSends.push(now);
    chat.sends.push(now);
    const keep = Math.max(this.flood.perGroup?.windowMs ?? 0, this.flood.perChat?.windowMs ?? 0);
    while (chat.sends.length && chat.sends[0]! <= now - keep) chat.sends.shift();
  }

  private formatted(p: Params, key = 'text'): { text: string; entities: MessageEntity[] } {
    const raw = strParam(p, key) ?? '';
    const mode = strParam(p, 'parse_mode');
    const given = jsonParam(p, key === 'text' ? 'entities' : 'caption_entities');
    const { text, entities } = parseWithMode(raw, mode);
    const list = mode ? entities : Array.isArray(given) ? (given as MessageEntity[]) : [];
    if (!entitiesFit(text, list)) throw badRequest("can't parse entities: entity is out of the text bounds");
    return { text, entities: list };
  }

  private markup(p: Params): unknown {
    const markup = jsonParam(p, 'reply_markup') as Json | undefined;
    if (!markup) return undefined;
    const rows = markup.inline_keyboard;
    if (rows !== undefined) {
      if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r))) throw badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
      for (const row of rows as Json[][]) {
        for (const b of row) {
          if (typeof b.text !== 'string' || b.text === '') throw badRequest('BUTTON_TEXT_EMPTY');
          if (b.callback_data !== undefined && (typeof b.callback_data !== 'string' || Buffer.byteLength(b.callback_data) < 1 || Buffer.byteLength(b.callback_data) > 64)) {
            throw badRequest('BUTTON_DATA_INVALID');
          }
        }
      }
    }
    return markup;
  }

  private sendMessage(p: Params): Json {
    const chat = this.writableChat(p);
    const { text, entities } = this.formatted(p);
    if (text.trim() === '') throw badRequest('message text is empty');
    if (text.length > 4096) throw badRequest('message is too long');
    let thread = intParam(p, 'message_thread_id');
    if (thread !== undefined) {
      // Topic ids exist only in forums, and "General" (1) is addressed by leaving the id out.
      if (!chat.isForum || !chat.topics.has(thread)) throw badRequest('message thread not found');
    }
    const rp = (jsonParam(p, 'reply_parameters') as Json | undefined) ?? {};
    const replyId = (typeof rp.message_id === 'number' ? rp.message_id : undefined) ?? intParam(p, 'reply_to_message_id');
    const allowWithout = rp.allow_sending_without_reply === true || boolParam(p, 'allow_sending_without_reply') === true;
    let replyTo: Json | undefined;
    if (replyId !== undefined) {
      replyTo = chat.messages.get(replyId);
      if (!replyTo && !allowWithout) throw badRequest('message to be replied not found');
      if (replyTo && thread !== undefined && replyTo.message_thread_id !== undefined && replyTo.message_thread_id !== thread && chat.isForum) {
        throw badRequest('message to be replied not found');
      }
    }
    const markup = this.markup(p);
    this.checkFlood(chat);
    if (thread === undefined && replyTo?.is_topic_message) thread = replyTo.message_thread_id as number;
    const msg = this.createMessage(chat, this.bot, {
      text,
      entities,
      ...(thread !== undefined ? { thread } : {}),
      ...(replyTo ? { replyTo } : {}),
      ...(markup ? { markup } : {}),
    });
    const lp = jsonParam(p, 'link_preview_options');
    if (lp && typeof lp === 'object') msg.link_preview_options = lp;
    this.outboxEntries.push({
      type: 'send',
      chat: String(chat.id),
      ...(msg.is_topic_message ? { thread: String(msg.message_thread_id) } : {}),
      ...(replyTo ? { replyTo: String(replyTo.message_id) } : {}),
      messageId: String(msg.message_id),
      text,
      at: Date.now(),
    });
    return msg;
  }

  private ownMessage(chat: ChatState, p: Params, notFound: string): Json {
    const id = intParam(p, 'message_id');
    const msg = id === undefined ? undefined : chat.messages.get(id);
    if (!msg) throw badRequest(notFound);
    return msg;
  }

  private editMessageText(p: Params): Json {
    if (strParam(p, 'inline_message_id')) throw badRequest('inline messages are not supported by this fake');
    const chat = this.writableChat(p);
    const msg = this.ownMessage(chat, p, 'message to edit not found');
    if ((msg.from as FakeUser).id !== this.bot.id || msg.text === undefined) throw badRequest("message can't be edited");
    const { text, entities } = this.formatted(p);
    if (text.trim() === '') throw badRequest('message text is empty');
    if (text.length > 4096) throw badRequest('message is too long');
    const markup = this.markup(p);
    const allEntities = [...entities, ...detectEntities(text, entities)].sort((a, b) => a.offset - b.offset);
    const same = msg.text === text && JSON.stringify(msg.entities ?? []) === JSON.stringify(allEntities) && JSON.stringify(msg.reply_markup ?? null) === JSON.stringify(markup ?? null);
    if (same) {
      throw badRequest('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
    }
    msg.text = text;
    if (allEntities.length) msg.entities = allEntities;
    else delete msg.entities;
    if (markup) msg.reply_markup = markup;
    else delete msg.reply_markup;
    msg.edit_date = nowSec();
    this.outboxEntries.push({ type: 'edit', chat: String(chat.id), ...(msg.is_topic_message ? { thread: String(msg.message_thread_id) } : {}), messageId: String(msg.message_id), text, at: Date.now() });
    return { ...msg };
  }

  private editMessageReplyMarkup(p: Params): Json {
    const chat = this.writableChat(p);
    const msg = this.ownMessage(chat, p, 'message to edit not found');
    if ((msg.from as FakeUser).id !== this.bot.id) throw badRequest("message can't be edited");
    const markup = this.markup(p);
    if (JSON.stringify(msg.reply_markup ?? null) === JSON.stringify(markup ?? null)) {
      throw badRequest('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
    }
    if (markup) msg.reply_markup = markup;
    else delete msg.reply_markup;
    msg.edit_date = nowSec();
    return { ...msg };
  }

  private deleteOne(chat: ChatState, id: number, strict: boolean): boolean {
    const msg = chat.messages.get(id);
    if (!msg) {
      if (strict) throw badRequest('message to delete not found');
      return false;
    }
    const mine = (msg.from as FakeUser | undefined)?.id === this.bot.id;
    if (!mine && chat.type !== 'private' && !(chat.bot.status === 'administrator' && chat.bot.rights?.can_delete_messages)) {
      if (strict) throw badRequest("message can't be deleted");
      return false;
    }
    chat.messages.delete(id);
    this.outboxEntries.push({ type: 'delete', chat: String(chat.id), ...(msg.is_topic_message ? { thread: String(msg.message_thread_id) } : {}), messageId: String(id), at: Date.now() });
    return true;
  }

  private deleteMessage(p: Params): boolean {
    const chat = this.memberChat(p);
    const id = intParam(p, 'message_id');
    if (id === undefined) throw badRequest('message identifier is not specified');
    return this.deleteOne(chat, id, true);
  }

  private deleteMessages(p: Params): boolean {
    const chat = this.memberChat(p);
    const ids = jsonParam(p, 'message_ids');
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 100) throw badRequest('message identifiers are not specified');
    // Telegram skips the ones it cannot find or delete.
    for (const id of ids) if (typeof id === 'number') this.deleteOne(chat, id, false);
    return true;
  }

  private pinChatMessage(p: Params): boolean {
    const chat = this.memberChat(p);
    this.requireRight(chat, 'can_pin_messages', 'not enough rights to manage pinned messages in the chat');
    const msg = this.ownMessage(chat, p, 'message to pin not found');
    chat.pinned.push(msg.message_id as number);
    this.outboxEntries.push({ type: 'pin', chat: String(chat.id), ...(msg.is_topic_message ? { thread: String(msg.message_thread_id) } : {}), messageId: String(msg.message_id), at: Date.now() });
    return true;
  }

  private unpinChatMessage(p: Params): boolean {
    const chat = this.memberChat(p);
    this.requireRight(chat, 'can_pin_messages', 'not enough rights to manage pinned messages in the chat');
    const id = intParam(p, 'message_id') ?? chat.pinned[chat.pinned.length - 1];
    chat.pinned = chat.pinned.filter((x) => x !== id);
    return true;
  }

  private setMessageReaction(p: Params): boolean {
    const chat = this.memberChat(p);
    const msg = this.ownMessage(chat, p, 'MESSAGE_ID_INVALID');
    const reaction = (jsonParam(p, 'reaction') as Json[] | undefined) ?? [];
    if (!Array.isArray(reaction) || reaction.length > 1) throw badRequest('REACTIONS_TOO_MANY');
    for (const r of reaction) {
      if (r.type !== 'emoji' || typeof r.emoji !== 'string' || !ALLOWED_REACTIONS.has(r.emoji)) throw badRequest('REACTION_INVALID');
    }
    const emoji = (reaction[0]?.emoji as string | undefined) ?? '';
    this.outboxEntries.push({ type: 'react', chat: String(chat.id), ...(msg.is_topic_message ? { thread: String(msg.message_thread_id) } : {}), messageId: String(msg.message_id), text: emoji, at: Date.now() });
    return true;
  }

  private targetUser(chat: ChatState, p: Params): { user: FakeUser; m: MemberState } {
    const id = intParam(p, 'user_id');
    if (id === undefined) throw badRequest('user_id is empty');
    if (id === this.bot.id) throw badRequest("can't restrict self");
    const user = this.users.get(id) ?? this.ensureUser(String(id));
    return { user, m: this.member(chat, id) };
  }

  /** until_date as Telegram reads it: under 30 s or over 366 days from now means forever (0). */
  private untilDate(p: Params): number {
    const u = intParam(p, 'until_date') ?? 0;
    const now = nowSec();
    return u - now < 30 || u - now > 366 * 86_400 ? 0 : u;
  }

  private banChatMember(p: Params): boolean {
    const chat = this.memberChat(p);
    if (chat.type === 'private') throw badRequest("can't remove members from private chats");
    this.requireRight(chat, 'can_restrict_members', 'not enough rights to restrict/ban chat member');
    const { user, m } = this.targetUser(chat, p);
    if (m.status === 'creator') throw badRequest("can't remove chat owner");
    if (m.status === 'administrator') throw badRequest('user is an administrator of the chat');
    const until = this.untilDate(p);
    m.status = 'kicked';
    m.until = until;
    if (boolParam(p, 'revoke_messages')) {
      for (const [id, msg] of chat.messages) if ((msg.from as FakeUser | undefined)?.id === user.id) chat.messages.delete(id);
    }
    this.outboxEntries.push({ type: 'ban', chat: String(chat.id), user: String(user.id), ...(until ? { until: until * 1000 } : {}), at: Date.now() });
    return true;
  }

  private unbanChatMember(p: Params): boolean {
    const chat = this.memberChat(p);
    if (chat.type === 'private') throw badRequest("can't remove members from private chats");
    this.requireRight(chat, 'can_restrict_members', 'not enough rights to restrict/ban chat member');
    const { user, m } = this.targetUser(chat, p);
    if (m.status === 'creator') throw badRequest("can't remove chat owner");
    if (m.status === 'administrator') throw badRequest('user is an administrator of the chat');
    if (m.status === 'kicked') {
      m.status = 'left';
      delete m.until;
    } else if (!boolParam(p, 'only_if_banned') && (m.status === 'member' || m.status === 'restricted')) {
      // Documented: without only_if_banned, unbanning a member removes them from the chat.
      m.status = 'left';
    } else {
      return true;
    }
    this.outboxEntries.push({ type: 'unban', chat: String(chat.id), user: String(user.id), at: Date.now() });
    return true;
  }

  private restrictChatMember(p: Params): boolean {
    const chat = this.memberChat(p);
    if (chat.type !== 'supergroup') throw badRequest('method is available only for supergroups');
    this.requireRight(chat, 'can_restrict_members', 'not enough rights to restrict/ban chat member');
    const { user, m } = this.targetUser(chat, p);
    if (m.status === 'creator') throw badRequest("can't remove chat owner");
    if (m.status === 'administrator') throw badRequest('user is an administrator of the chat');
    const perms = jsonParam(p, 'permissions') as ChatPermissions | undefined;
    if (!perms || typeof perms !== 'object') throw badRequest('permissions are not specified');
    const until = this.untilDate(p);
    const lifted = Object.keys(DEFAULT_PERMISSIONS).every((k) => (perms as Record<string, unknown>)[k] === true || (DEFAULT_PERMISSIONS as Record<string, unknown>)[k] === false);
    if (lifted) {
      if (m.status === 'restricted') m.status = 'member';
      delete m.permissions;
      delete m.until;
      this.outboxEntries.push({ type: 'unmute', chat: String(chat.id), user: String(user.id), at: Date.now() });
    } else {
      m.status = 'restricted';
      m.permissions = { ...DEFAULT_PERMISSIONS, ...perms };
      m.until = until;
      this.outboxEntries.push({ type: 'mute', chat: String(chat.id), user: String(user.id), ...(until ? { until: until * 1000 } : {}), at: Date.now() });
    }
    return true;
  }

  private getChatAdministrators(p: Params): Json[] {
    const chat = this.knownChat(p);
    if (chat.type === 'private') throw badRequest('there are no administrators in the private chat');
    if (chat.bot.status === 'kicked' || chat.bot.status === 'left') throw forbidden(`bot is not a member of the ${chat.type === 'group' ? 'group' : 'supergroup'} chat`);
    const out: Json[] = [];
    for (const [id, m] of chat.members) {
      if (m.status === 'creator' || m.status === 'administrator') out.push(memberJson(this.users.get(id)!, m));
    }
    if (chat.bot.status === 'administrator') out.push(memberJson(this.bot, chat.bot));
    return out;
  }

  private getChatMember(p: Params): Json {
    const chat = this.knownChat(p);
    const id = intParam(p, 'user_id');
    if (id === undefined) throw badRequest('user_id is empty');
    if (id === this.bot.id) return memberJson(this.bot, chat.bot);
    const user = this.users.get(id);
    if (!user) throw badRequest('user not found');
    return memberJson(user, chat.members.get(id) ?? { status: 'left' });
  }

  private getChat(p: Params): Json {
    const chat = this.knownChat(p);
    return {
      ...chatJson(chat, this.users),
      accent_color_id: 0,
      max_reaction_count: 11,
      ...(chat.type !== 'private' ? { permissions: chat.permissions } : {}),
    };
  }

  private createForumTopic(p: Params): Json {
    const chat = this.memberChat(p);
    if (chat.type !== 'supergroup' || !chat.isForum) throw badRequest('the chat is not a forum');
    this.requireRight(chat, 'can_manage_topics', 'not enough rights to create a topic');
    const name = strParam(p, 'name') ?? '';
    if (name.length < 1 || name.length > 128) throw badRequest('TOPIC_NAME_INVALID');
    const { id } = this.addTopic(chat, name, this.bot);
    const icon = intParam(p, 'icon_color') ?? 7322096;
    chat.topics.get(id)!.icon_color = icon;
    this.outboxEntries.push({ type: 'thread', chat: String(chat.id), thread: String(id), text: name, at: Date.now() });
    return { message_thread_id: id, name, icon_color: icon };
  }

  private setMyCommands(p: Params): boolean {
    const commands = jsonParam(p, 'commands');
    if (!Array.isArray(commands) || commands.length > 100) throw badRequest('commands must be an array of at most 100 BotCommand');
    for (const c of commands as Json[]) {
      if (typeof c.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) throw badRequest('BOT_COMMAND_INVALID');
      if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 256) throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
    }
    this.commands = commands;
    return true;
  }

  private answerCallbackQuery(p: Params): boolean {
    const id = strParam(p, 'callback_query_id') ?? '';
    if (!this.callbackIds.delete(id)) throw badRequest('query is too old and response timeout expired or query ID is invalid');
    return true;
  }

  // ---------------------------------------------------------------- hooks

  calls(method?: string): RecordedCall[] {
    return method ? this.recorded.filter((c) => c.method === method) : [...this.recorded];
  }

  waitForCall(method: string, match: (c: RecordedCall) => boolean = () => true, timeoutMs = 10_000): Promise<RecordedCall> {
    const found = this.recorded.find((c) => c.method === method && match(c));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w: CallWaiter = {
        method,
        match,
        resolve: (c) => {
          clearTimeout(timer);
          resolve(c);
        },
      };
      const timer = setTimeout(() => {
        this.callWaiters.delete(w);
        reject(new Error(`no ${method} call matched within ${timeoutMs} ms`));
      }, timeoutMs);
      this.callWaiters.add(w);
    });
  }

  failNext(method: string, failure: InjectedFailure): void {
    this.failures.push({ method, failure, left: failure.times ?? 1, skip: failure.skip ?? 0 });
  }

  outbox(chat?: string): OutboxEntry[] {
    if (chat === undefined) return [...this.outboxEntries];
    const id = String(this.resolveChatId(chat));
    return this.outboxEntries.filter((e) => e.chat === id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hook = undefined;
    const w = this.waiter;
    this.waiter = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.resolve([]);
    }
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** Starts a fake Telegram Bot API on 127.0.0.1; give `fake.url` to telegraf as `telegram.apiRoot`. */
export async function startTelegramFake(opts: TelegramFakeOptions = {}): Promise<TelegramFake> {
  const fake = new TelegramFakeServer(opts);
  await fake.listen();
  return fake;
}

/** Permissions that lift a restriction (all true), as restrictChatMember documents. */
export const ALL_PERMISSIONS: ChatPermissions = Object.fromEntries(Object.keys(DEFAULT_PERMISSIONS).map((k) => [k, true])) as ChatPermissions;
