/**
 * The Telegram adapter on telegraf 4: long polling or webhook in, Bot API calls out.
 * Nothing is acknowledged to Telegram (next getUpdates offset, webhook 200) before its ChatEvents are in Redis.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InlineKeyboardMarkup, MessageEntity } from '@telegraf/types';
import { Telegraf } from 'telegraf';
import type { Action, ActionResult } from '../../src/core/actions.js';
import { PermanentPlatformError } from '../../src/core/errors.js';
import { ChatEventSchema, type ChatEventInput } from '../../src/core/events.js';
import { chatKey, parseChatKey, parseUserKey } from '../../src/core/ids.js';
import type { AdapterDeps, AdapterStatus, OutboundLimits, PlatformAdapter } from '../types.js';
import { AdminCache, botRightsProblem, type AdminRecord } from './admins.js';
import { isApiError, redactToken, toPlatformError } from './errors.js';
import { plainText, renderMarkdown, splitFormatted, truncateFormatted, type FormattedText } from './format.js';
import { ALLOWED_UPDATES, groupChatOf, normalizeUpdate, reactionCountEvents, type Normalized, type RawUpdate } from './normalize.js';

export { escapeHtml, escapeMarkdownV2, renderMarkdown, splitFormatted, MAX_MESSAGE_CHARS } from './format.js';
export { normalizeUpdate, ALLOWED_UPDATES } from './normalize.js';

/** Telegram's published limits: ~1 message a second per chat, 20 a minute per group, ~30 a second overall. */
export const TELEGRAM_LIMITS = {
  perChat: [
    { points: 1, durationMs: 1000 },
    { points: 20, durationMs: 60_000 },
  ],
  perPrivateChat: [{ points: 1, durationMs: 1000 }],
  global: [{ points: 30, durationMs: 1000 }],
} as const satisfies OutboundLimits;

/** How the adapter is set up; the caller reads secrets from the environment and passes them in. */
export interface TelegramAdapterOptions {
  /** The bot token (TELEGRAM_BOT_TOKEN). Never logged. */
  token: string;
  /** Bot API root: a fake's url in tests and `townhall sandbox`. Default https://api.telegram.org. */
  apiRoot?: string;
  /** Webhook mode (TELEGRAM_WEBHOOK_URL, TELEGRAM_WEBHOOK_SECRET); long polling when absent. */
  webhook?: {
    /** The public URL Telegram pushes to; its path is the path the adapter answers on. */
    url: string;
    /** Sent back by Telegram in X-Telegram-Bot-Api-Secret-Token; 1-256 of A-Z a-z 0-9 _ -. */
    secret: string;
    /** Listen here for pushes; leave out to mount `adapter.webhookCallback()` on your own HTTP server. */
    listen?: { port: number; host?: string };
    /** Parallel pushes Telegram may make (default 40). */
    maxConnections?: number;
  };
  /** How long one getUpdates may wait for news, seconds (default 30, Telegram allows up to 50). */
  pollTimeoutSeconds?: number;
  /** Updates per getUpdates (1-100, default 100). */
  pollLimit?: number;
  /** First wait after a failed poll or publish, doubling up to `maxRetryDelayMs` (default 1000). */
  retryDelayMs?: number;
  /** Longest wait between retries (default 30 000). */
  maxRetryDelayMs?: number;
  /** How long a group's administrator list is trusted (default 60 000 ms). */
  adminCacheMs?: number;
  /** Send budgets the outbound runner enforces; defaults are TELEGRAM_LIMITS (tests pass scaled-down ones). */
  limits?: Partial<OutboundLimits>;
  /** Largest webhook body accepted (default 1 MiB; real updates are a few KB). */
  maxUpdateBytes?: number;
  /** How long a webhook push waits for Redis before answering 503 so Telegram pushes it again (default 5000 ms). */
  webhookPublishTimeoutMs?: number;
  /** How long stop() waits for an in-flight publish before giving up on it (unacknowledged, so not lost). Default 10 000 ms. */
  stopTimeoutMs?: number;
  /** Register the chat commands (setMyCommands) at init. Default true. */
  registerCommands?: boolean;
  /** Messages remembered per group for `/purge <count>` (default 1000). */
  recentMessages?: number;
}

/** What the adapter counts, shown in status().details. */
interface Stats {
  updates: number;
  events: number;
  rejected: number;
  skipped: Record<string, number>;
  unknownTypes: Record<string, number>;
  refusedWebhooks: number;
}

const DAY_S = 86_400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The commands people see in Telegram's menu (contract §5). */
const COMMANDS = [
  ['ask', 'Ask a question for the AMA'],
  ['upvote', 'Upvote question n'],
  ['questions', 'The ranked questions'],
  ['ama', 'The current or next AMA'],
  ['summary', 'Summary of the recent conversation'],
  ['catchup', 'What you missed, in private'],
  ['help', 'What Townhall can do'],
] as const;
const MOD_COMMANDS = [
  ['answer', 'Answer question n (host)'],
  ['next', 'Next question (host)'],
  ['approve', 'Approve question n'],
  ['reject', 'Reject question n'],
  ['merge', 'Merge question n into m'],
  ['ban', 'Ban a user'],
  ['unban', 'Unban a user'],
  ['mute', 'Mute a user for a while'],
  ['unmute', 'Unmute a user'],
  ['warn', 'Warn a user'],
  ['purge', 'Delete the last n messages'],
  ['slowmode', 'Slow mode (set it in group settings on Telegram)'],
  ['filter', 'Word filters'],
  ['quiet', 'Quiet mode on or off'],
  ['modlog', 'Recent moderation'],
] as const;

/** Hashes before comparing so the comparison takes the same time whatever the lengths. */
function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A chat id as telegraf takes it: a number when it is one. */
function chatIdArg(id: string): number | string {
  return /^-?\d{1,15}$/.test(id) ? Number(id) : id;
}

/** The Telegram adapter (see createTelegramAdapter). */
export class TelegramAdapter implements PlatformAdapter {
  readonly platform = 'telegram' as const;
  readonly limits: OutboundLimits;
  private readonly o: Required<Omit<TelegramAdapterOptions, 'webhook' | 'limits' | 'apiRoot'>> & {
    webhook: TelegramAdapterOptions['webhook'] | undefined;
    apiRoot: string | undefined;
  };
  private bot: Telegraf | undefined;
  private me: { id: number; username: string; canReadAll: boolean } | undefined;
  private admins: AdminCache | undefined;
  private readonly problems = new Map<string, string>();
  private readonly stats: Stats = { updates: 0, events: 0, rejected: 0, skipped: {}, unknownTypes: {}, refusedWebhooks: 0 };
  private readonly forbiddenLogged = new Set<string>();
  private stopping = false;
  private stopStarted = 0;
  private inboundStarted = false;
  private inboundOk = false;
  private lastPollAt = 0;
  private pollAbort: AbortController | undefined;
  private pollLoop: Promise<void> | undefined;
  private server: http.Server | undefined;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly webhookPath: string | undefined;

  constructor(
    options: TelegramAdapterOptions,
    private readonly deps: AdapterDeps,
  ) {
    if (!options.token || !/^\d+:[A-Za-z0-9_-]+$/.test(options.token)) {
      throw new Error('telegram: the bot token is missing or malformed. Set TELEGRAM_BOT_TOKEN (from @BotFather, like 123456:ABC-...).');
    }
    if (options.webhook) {
      if (!/^[A-Za-z0-9_-]{1,256}$/.test(options.webhook.secret ?? '')) {
        throw new Error('telegram: TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ - (Telegram refuses others).');
      }
      try {
        this.webhookPath = new URL(options.webhook.url).pathname || '/';
      } catch {
        throw new Error('telegram: TELEGRAM_WEBHOOK_URL is not a URL.');
      }
    }
    this.o = {
      token: options.token,
      apiRoot: options.apiRoot,
      webhook: options.webhook,
      pollTimeoutSeconds: Math.min(50, Math.max(0, options.pollTimeoutSeconds ?? 30)),
      pollLimit: Math.min(100, Math.max(1, options.pollLimit ?? 100)),
      retryDelayMs: options.retryDelayMs ?? 1000,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
      adminCacheMs: options.adminCacheMs ?? 60_000,
      maxUpdateBytes: options.maxUpdateBytes ?? 1024 * 1024,
      webhookPublishTimeoutMs: options.webhookPublishTimeoutMs ?? 5000,
      stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
      registerCommands: options.registerCommands ?? true,
      recentMessages: options.recentMessages ?? 1000,
    };
    this.limits = {
      perChat: options.limits?.perChat ?? [...TELEGRAM_LIMITS.perChat],
      global: options.limits?.global ?? [...TELEGRAM_LIMITS.global],
      perPrivateChat: options.limits?.perPrivateChat ?? [...TELEGRAM_LIMITS.perPrivateChat],
    };
  }

  private k(...parts: (string | number)[]): string {
    return this.deps.keys.k('adapter', 'telegram', ...parts);
  }

  private get tg() {
    if (!this.bot) throw new Error('telegram: init() has not run');
    return this.bot.telegram;
  }

  /** Logs an operator problem once and keeps it for status(); undefined clears it. */
  private setProblem(key: string, text: string | undefined): void {
    if (text === undefined) {
      this.problems.delete(key);
      return;
    }
    if (this.problems.get(key) !== text) this.deps.log.warn({ platform: 'telegram' }, text);
    this.problems.set(key, text);
  }

  private redact(text: string): string {
    return redactToken(text, this.o.token);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Creates the client and checks the token with getMe; registers the command menu. */
  async init(): Promise<void> {
    this.bot = new Telegraf(this.o.token, { telegram: { ...(this.o.apiRoot ? { apiRoot: this.o.apiRoot } : {}), webhookReply: false } });
    let me;
    try {
      me = await this.bot.telegram.getMe();
    } catch (err) {
      if (isApiError(err, 401)) {
        this.setProblem('token', 'telegram: the bot token was refused (401): check TELEGRAM_BOT_TOKEN');
        throw new Error('telegram: the bot token was refused (401 Unauthorized)', { cause: err });
      }
      throw toPlatformError(err, 'getMe', this.o.token);
    }
    this.bot.botInfo = me;
    this.me = { id: me.id, username: me.username, canReadAll: me.can_read_all_group_messages === true };
    this.setProblem(
      'privacy',
      this.me.canReadAll
        ? undefined
        : 'telegram: privacy mode is on, so in groups where the bot is not an administrator it sees only commands, replies to it and mentions (BotFather: /setprivacy -> Disable, then add the bot again)',
    );
    this.setProblem('token', undefined);
    this.admins = new AdminCache({
      fetch: async (chatId) => (await this.tg.getChatAdministrators(chatId)) as unknown as AdminRecord[],
      redis: this.deps.redis,
      key: (chatId) => this.k('admins', chatId),
      ttlMs: this.o.adminCacheMs,
      botId: me.id,
      log: this.deps.log,
      onBotRights: (chatId, bot) => this.setProblem(`rights:${chatId}`, botRightsProblem(chatKey('telegram', chatId), bot)),
    });
    if (this.o.registerCommands) {
      try {
        const everyone = COMMANDS.map(([command, description]) => ({ command, description }));
        await this.tg.setMyCommands(everyone);
        await this.tg.setMyCommands([...everyone, ...MOD_COMMANDS.map(([command, description]) => ({ command, description }))], {
          scope: { type: 'all_chat_administrators' },
        });
      } catch (err) {
        this.deps.log.warn({ err: this.redact((err as Error).message) }, 'telegram: could not register the command menu');
      }
    }
    this.deps.log.info({ bot: me.username, mode: this.o.webhook ? 'webhook' : 'polling' }, 'telegram: connected');
  }

  /** Starts long polling, or sets the webhook (and listens when asked to). */
  async startInbound(): Promise<void> {
    if (!this.bot) await this.init();
    this.stopping = false;
    this.inboundStarted = true;
    if (this.o.webhook) {
      const hook = this.o.webhook;
      if (hook.listen) {
        this.server = http.createServer(this.webhookCallback());
        await new Promise<void>((resolve, reject) => {
          this.server!.once('error', reject);
          this.server!.listen(hook.listen!.port, hook.listen!.host ?? '0.0.0.0', () => resolve());
        });
      }
      try {
        await this.tg.setWebhook(hook.url, {
          secret_token: hook.secret,
          allowed_updates: [...ALLOWED_UPDATES],
          max_connections: hook.maxConnections ?? 40,
        });
      } catch (err) {
        this.setProblem('webhook', `telegram: setWebhook failed: ${this.redact((err as Error).message)}`);
        throw toPlatformError(err, 'setWebhook', this.o.token);
      }
      this.setProblem('webhook', undefined);
      this.inboundOk = true;
      return;
    }
    // A webhook left over from an earlier run would make getUpdates fail with 409; pending updates stay queued.
    await this.tg.deleteWebhook({ drop_pending_updates: false });
    this.pollLoop = this.poll();
  }

  /** Stops receiving; a batch being published finishes (or is left unacknowledged) first. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopStarted = Date.now();
    this.pollAbort?.abort();
    await this.pollLoop?.catch(() => undefined);
    this.pollLoop = undefined;
    if (this.server) {
      const server = this.server;
      this.server = undefined;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    }
    await Promise.allSettled([...this.inflight]);
    this.inboundOk = false;
    this.inboundStarted = false;
  }

  /** Health for /readyz: connected, and the problems an operator must fix. */
  status(): AdapterStatus {
    const problems = [...this.problems.values()];
    const shown = problems.length > 20 ? [...problems.slice(0, 20), `telegram: and ${problems.length - 20} more`] : problems;
    return {
      connected: Boolean(this.me) && (!this.inboundStarted || this.inboundOk),
      problems: shown,
      details: {
        mode: this.o.webhook ? 'webhook' : 'polling',
        bot: this.me?.username,
        lastPollAt: this.lastPollAt || undefined,
        ...this.stats,
      },
    };
  }

  // ------------------------------------------------------------------ inbound

  private async poll(): Promise<void> {
    let offset = 0;
    let published = false;
    let failures = 0;
    while (!this.stopping) {
      let updates: RawUpdate[];
      try {
        this.pollAbort = new AbortController();
        updates = (await this.tg.callApi(
          'getUpdates',
          { offset, timeout: this.o.pollTimeoutSeconds, limit: this.o.pollLimit, allowed_updates: [...ALLOWED_UPDATES] },
          // telegraf types the signal with the abort-controller polyfill; node-fetch accepts the built-in one.
          { signal: this.pollAbort.signal as never },
        )) as unknown as RawUpdate[];
        this.lastPollAt = Date.now();
        this.inboundOk = true;
        failures = 0;
        this.setProblem('poll', undefined);
      } catch (err) {
        if (this.stopping) break;
        failures++;
        this.inboundOk = false;
        let wait = Math.min(this.o.retryDelayMs * 2 ** Math.min(failures - 1, 10), this.o.maxRetryDelayMs);
        if (isApiError(err, 409)) this.setProblem('poll', 'telegram: getUpdates conflict (409): another process polls with this token, or a webhook is set');
        else if (isApiError(err, 401)) this.setProblem('poll', 'telegram: the bot token was refused (401) while polling');
        else if (isApiError(err, 429)) wait = ((err as { parameters?: { retry_after?: number } }).parameters?.retry_after ?? 1) * 1000;
        else if (failures === 3) this.deps.log.warn({ err: this.redact((err as Error).message) }, 'telegram: polling keeps failing; retrying');
        await this.sleepUnlessStopping(wait);
        continue;
      }
      if (!Array.isArray(updates) || updates.length === 0) continue;
      const last = updates[updates.length - 1];
      let ok: boolean;
      try {
        ok = await this.track(this.handleBatch(updates, Infinity));
      } catch (err) {
        // Unexpected, and nothing was acknowledged: fetch the same updates again after a pause.
        this.deps.log.error({ err: this.redact((err as Error).message) }, 'telegram: failed to handle a batch of updates; retrying it');
        await this.sleepUnlessStopping(this.o.retryDelayMs);
        continue;
      }
      // Only now may the next getUpdates confirm these: they are in Redis.
      if (ok && last && typeof last.update_id === 'number') {
        offset = last.update_id + 1;
        published = true;
      }
      if (!ok) break; // stopping while Redis would not take them: leave them unconfirmed for the next run
    }
    if (published) {
      // Confirm the last batch now rather than on the next run's first call.
      await this.tg.callApi('getUpdates', { offset, limit: 1, timeout: 0 }).catch(() => undefined);
    }
  }

  private async sleepUnlessStopping(ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!this.stopping && Date.now() < end) await sleep(Math.min(100, end - Date.now()));
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => undefined);
    return p;
  }

  private count(n: Normalized): void {
    this.stats.updates++;
    if (n.skipped) this.stats.skipped[n.skipped] = (this.stats.skipped[n.skipped] ?? 0) + 1;
    if (n.skipped === 'unknown') {
      const t = n.type.slice(0, 64);
      if (t in this.stats.unknownTypes || Object.keys(this.stats.unknownTypes).length < 50) {
        if (!(t in this.stats.unknownTypes)) this.deps.log.info({ type: t }, 'telegram: skipping an update type Townhall does not know');
        this.stats.unknownTypes[t] = (this.stats.unknownTypes[t] ?? 0) + 1;
      }
    }
  }

  /**
   * Normalizes and publishes a batch. Resolves true once every event is in Redis; false only when it gave up
   * (stopping, or the deadline passed): then nothing may be acknowledged.
   */
  private async handleBatch(updates: RawUpdate[], deadlineMs: number): Promise<boolean> {
    const me = this.me!;
    const admins = this.admins!;
    const groups = new Set<number>();
    for (const u of updates) {
      const g = typeof u === 'object' && u !== null ? groupChatOf(u) : undefined;
      if (g !== undefined) groups.add(g);
    }
    await Promise.all([...groups].map((g) => admins.get(g)));
    const topics = await this.topicsFor(updates);
    const ctx = {
      botId: me.id,
      botUsername: me.username,
      adminsOf: (chatId: number) => admins.peek(chatId),
      topicOf: (chatId: number, messageId: number) => topics.get(`${chatId}/${messageId}`),
    };
    const events: ChatEventInput[] = [];
    const after: (() => Promise<unknown>)[] = [];
    const batchCounts = new Map<string, Record<string, number>>();
    for (const update of updates) {
      let n: Normalized;
      try {
        if (typeof update !== 'object' || update === null || Array.isArray(update)) throw new Error('update is not an object');
        n = normalizeUpdate(update, ctx);
      } catch (err) {
        this.stats.rejected++;
        this.deps.log.warn({ err: (err as Error).message }, 'telegram: skipping an update that could not be read');
        continue;
      }
      this.count(n);
      if (n.reactionCounts) {
        const rc = n.reactionCounts;
        const key = this.k('rcount', rc.chatId, rc.messageId);
        // Totals from an earlier update of this same batch are not in Redis yet.
        const previous =
          batchCounts.get(key) ??
          Object.fromEntries(Object.entries(await this.deps.redis.hgetall(key).catch(() => ({}) as Record<string, string>)).map(([e, c]) => [e, Number(c)]));
        batchCounts.set(key, rc.counts);
        events.push(...reactionCountEvents(rc, previous, update.update_id as number, topics.get(`${rc.chatId}/${rc.messageId}`)));
        // The new totals are stored only after the events are: a crash in between recomputes the same events (same ids).
        after.push(() => {
          const tx = this.deps.redis.multi().del(key);
          if (Object.keys(rc.counts).length) tx.hset(key, rc.counts);
          return tx.expire(key, 30 * DAY_S).exec();
        });
      }
      if (n.adminsChanged !== undefined) {
        // Later updates of this batch must already see the new rights.
        await admins.invalidate(n.adminsChanged);
        const removed = n.botMembership && !['member', 'administrator', 'creator'].includes(n.botMembership.status);
        if (!removed) await admins.get(n.adminsChanged);
      }
      if (n.botMembership) after.push(() => this.onBotMembership(n.botMembership!));
      if (n.privateFrom !== undefined) {
        const userId = n.privateFrom;
        after.push(() => this.deps.redis.del(this.k('dmoff', userId)));
      }
      for (const e of n.events) {
        const r = ChatEventSchema.safeParse(e);
        if (r.success) events.push(e);
        else {
          this.stats.rejected++;
          const issue = r.error.issues[0];
          this.deps.log.warn({ type: n.type, field: issue?.path.join('.'), why: issue?.message }, 'telegram: rejecting an update that does not make a valid event');
        }
      }
    }
    const deadline = Date.now() + deadlineMs;
    let failures = 0;
    while (events.length > 0) {
      try {
        // A publish that hangs (Redis unreachable) must not hold stop() or a webhook push forever.
        const done = await this.publishWithin(events, deadline);
        if (!done) return false;
        break;
      } catch (err) {
        failures++;
        if (failures === 1) this.deps.log.warn({ err: (err as Error).message }, 'telegram: cannot store events yet; holding the acknowledgement and retrying');
        if ((this.stopping && Date.now() > this.stopDeadline()) || Date.now() > deadline) return false;
        await sleep(Math.min(this.o.retryDelayMs * 2 ** Math.min(failures - 1, 10), this.o.maxRetryDelayMs, Math.max(10, deadline - Date.now())));
      }
    }
    this.stats.events += events.length;
    this.remember(events);
    for (const f of after) await f().catch(() => undefined);
    return true;
  }

  private stopDeadline(): number {
    return this.stopStarted + this.o.stopTimeoutMs;
  }

  /** Publishes, or resolves false when waiting longer makes no sense: past `deadline`, or stop()'s grace ran out. */
  private async publishWithin(events: ChatEventInput[], deadline: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const giveUp = new Promise<false>((resolve) => {
      const tick = () => {
        if (settled) return;
        if (Date.now() >= deadline || (this.stopping && Date.now() > this.stopDeadline())) return resolve(false);
        timer = setTimeout(tick, 50);
      };
      tick();
    });
    try {
      return await Promise.race([this.deps.sink.publish(events).then(() => true as const), giveUp]);
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  /** Remembers recent message ids per group, for `/purge <count>` (bots cannot read history). */
  private remember(events: ChatEventInput[]): void {
    const tx = this.deps.redis.pipeline();
    let any = false;
    for (const e of events) {
      if ((e.kind !== 'message' && e.kind !== 'command') || !e.messageId || e.chatType === 'private') continue;
      const base = parseChatKey(e.chat).chatId;
      const key = this.k('recent', base);
      tx.lpush(key, e.messageId).ltrim(key, 0, this.o.recentMessages - 1).expire(key, 2 * DAY_S);
      any = true;
    }
    if (any) void tx.exec().catch(() => undefined);
  }

  /** Topics of the messages reacted to: reaction updates do not say, but we noted the topics of what the bot sent. */
  private async topicsFor(updates: RawUpdate[]): Promise<Map<string, number>> {
    const wanted: [number, number][] = [];
    for (const u of updates) {
      const body = (u as Record<string, unknown>)?.message_reaction ?? (u as Record<string, unknown>)?.message_reaction_count;
      if (!body || typeof body !== 'object') continue;
      const b = body as { chat?: { id?: unknown; type?: unknown }; message_id?: unknown };
      if (b.chat?.type === 'supergroup' && typeof b.chat.id === 'number' && typeof b.message_id === 'number') wanted.push([b.chat.id, b.message_id]);
    }
    const out = new Map<string, number>();
    if (!wanted.length) return out;
    try {
      const found = await Promise.all(wanted.map(([c, m]) => this.deps.redis.hget(this.k('topic', c), String(m))));
      wanted.forEach(([c, m], i) => {
        const t = found[i];
        if (t) out.set(`${c}/${m}`, Number(t));
      });
    } catch {
      // Without it, the reaction is reported on the group rather than the topic.
    }
    return out;
  }

  private async onBotMembership(change: NonNullable<Normalized['botMembership']>): Promise<void> {
    const key = chatKey('telegram', change.chatId);
    const present = change.status === 'member' || change.status === 'administrator' || change.status === 'creator';
    if (change.chatType === 'private') {
      if (present) await this.deps.redis.del(this.k('dmoff', change.chatId));
      else await this.deps.redis.set(this.k('dmoff', change.chatId), 'blocked', 'EX', 30 * DAY_S);
      return;
    }
    if (present) {
      // Back in the chat: lift the outbound runner's 403 block, and learn the bot's rights afresh.
      await this.deps.redis.srem(this.deps.keys.k('out', 'disabled', 'telegram'), key);
      this.forbiddenLogged.delete(key);
      await this.admins?.get(change.chatId);
      this.deps.log.info({ chat: key, status: change.status }, 'telegram: the bot was added to a chat');
    } else {
      this.setProblem(`rights:${change.chatId}`, undefined);
      this.deps.log.warn({ chat: key, status: change.status }, 'telegram: the bot was removed from a chat; sending there stops');
    }
  }

  /** The webhook endpoint as a node request handler: checks the secret, stores the update, then answers 200. */
  webhookCallback(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      void this.track(this.onWebhook(req, res)).catch((err: unknown) => {
        this.deps.log.error({ err: this.redact((err as Error).message) }, 'telegram: webhook handler failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    };
  }

  /** The port the adapter's own webhook server listens on (webhook.listen with port 0 picks one). */
  webhookPort(): number | undefined {
    const addr = this.server?.address() as AddressInfo | null | undefined;
    return addr?.port;
  }

  private async onWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hook = this.o.webhook;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!hook || path !== this.webhookPath) return void res.writeHead(404).end();
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    if (!sameSecret(req.headers['x-telegram-bot-api-secret-token'], hook.secret)) {
      if (this.stats.refusedWebhooks++ === 0) this.deps.log.warn({ from: req.socket.remoteAddress }, 'telegram: refused a webhook call without the right secret (further ones are only counted)');
      req.resume();
      return void res.writeHead(403).end();
    }
    if (this.stopping) return void res.writeHead(503).end();
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.o.maxUpdateBytes) {
      this.deps.log.warn({ bytes: declared }, 'telegram: refused an oversized webhook update');
      req.resume();
      return void res.writeHead(413).end();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.o.maxUpdateBytes) {
        this.deps.log.warn({ bytes: size }, 'telegram: refused an oversized webhook update');
        res.writeHead(413, { connection: 'close' }).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    }
    let update: unknown;
    try {
      update = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      this.deps.log.warn({ bytes: size }, 'telegram: refused a webhook update that is not JSON');
      return void res.writeHead(400).end();
    }
    if (typeof update !== 'object' || update === null || Array.isArray(update) || typeof (update as RawUpdate).update_id !== 'number') {
      this.deps.log.warn({ bytes: size }, 'telegram: refused a webhook body that is not an update');
      return void res.writeHead(400).end();
    }
    const ok = await this.handleBatch([update as RawUpdate], this.o.webhookPublishTimeoutMs);
    // 200 only once the event is stored; otherwise Telegram pushes the update again later.
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(ok ? '{}' : '');
  }

  // ------------------------------------------------------------------ outbound

  /** Performs one action; throws RateLimitedError on 429 and PermanentPlatformError on 400/403/404. */
  async perform(action: Action): Promise<ActionResult> {
    const target = await this.target(action);
    switch (action.type) {
      case 'send':
      case 'dm':
        return this.send(action, target);
      case 'edit':
        return this.edit(action, target);
      case 'delete': {
        const id = this.need(action.messageId, 'messageId');
        try {
          await this.call('deleteMessage', target, () => this.tg.deleteMessage(chatIdArg(target.chatId), Number(id)));
        } catch (err) {
          // Already gone is what we wanted.
          if (!(err instanceof PermanentPlatformError && /message to delete not found/i.test(err.message))) throw err;
        }
        return { messageIds: [id] };
      }
      case 'purge':
        return this.purge(action, target);
      case 'pin': {
        const id = this.need(action.messageId, 'messageId');
        await this.call('pinChatMessage', target, () => this.tg.pinChatMessage(chatIdArg(target.chatId), Number(id), { disable_notification: true }));
        return { messageIds: [id] };
      }
      case 'react': {
        const id = this.need(action.messageId, 'messageId');
        // Telegram's reaction list has no variation selectors (❤ not ❤️).
        const emoji = this.need(action.emoji, 'emoji').replace(/\uFE0F/g, '');
        await this.call('setMessageReaction', target, () =>
          this.tg.callApi('setMessageReaction', { chat_id: chatIdArg(target.chatId), message_id: Number(id), reaction: [{ type: 'emoji', emoji: emoji as never }] }),
        );
        return { messageIds: [id] };
      }
      case 'thread':
        return this.thread(action, target);
      case 'ban': {
        const user = this.userOf(action);
        await this.call('banChatMember', target, () =>
          this.tg.callApi('banChatMember', { chat_id: chatIdArg(target.chatId), user_id: Number(user), ...(action.until ? { until_date: this.untilDate(action.until) } : {}), revoke_messages: false }),
        );
        return {};
      }
      case 'unban': {
        const user = this.userOf(action);
        // only_if_banned: without it, Telegram removes a member who was not banned.
        await this.call('unbanChatMember', target, () => this.tg.callApi('unbanChatMember', { chat_id: chatIdArg(target.chatId), user_id: Number(user), only_if_banned: true }));
        return {};
      }
      case 'mute': {
        const user = this.userOf(action);
        const permissions = Object.fromEntries(PERMISSION_KEYS.map((k) => [k, false]));
        await this.call('restrictChatMember', target, () =>
          this.tg.callApi('restrictChatMember', {
            chat_id: chatIdArg(target.chatId),
            user_id: Number(user),
            permissions,
            use_independent_chat_permissions: true,
            ...(action.until ? { until_date: this.untilDate(action.until) } : {}),
          }),
        );
        return {};
      }
      case 'unmute': {
        const user = this.userOf(action);
        // "Pass True for all permissions to lift restrictions from a user" (Bot API docs); group defaults still apply.
        const permissions = Object.fromEntries(PERMISSION_KEYS.map((k) => [k, true]));
        await this.call('restrictChatMember', target, () =>
          this.tg.callApi('restrictChatMember', { chat_id: chatIdArg(target.chatId), user_id: Number(user), permissions, use_independent_chat_permissions: true }),
        );
        return {};
      }
      case 'slowmode':
        throw new PermanentPlatformError("telegram: the Bot API has no way to set slow mode; set it in the group's settings");
      case 'answer': {
        const handle = this.need(action.replyHandle, 'replyHandle');
        if (!handle.startsWith('cb:')) throw new PermanentPlatformError(`telegram: cannot answer handle ${handle.slice(0, 20)}`);
        await this.call('answerCallbackQuery', target, () =>
          this.tg.answerCbQuery(handle.slice(3), action.text ? plainText(action.text).text.slice(0, 200) : undefined),
        );
        return {};
      }
    }
    throw new PermanentPlatformError(`telegram: unknown action type ${String((action as { type: unknown }).type)}`);
  }

  private need<T>(v: T | undefined, what: string): T {
    if (v === undefined || v === null || v === '') throw new PermanentPlatformError(`telegram: the action has no ${what}`);
    return v;
  }

  private userOf(action: Action): string {
    const key = this.need(action.user, 'user');
    const { platform, userId } = parseUserKey(key);
    if (platform !== 'telegram') throw new PermanentPlatformError(`telegram: ${key} is not a Telegram user`);
    return userId;
  }

  /** A mute or ban end as until_date: Telegram reads under 30 s as "forever", so short ones are lengthened to 31 s. */
  private untilDate(untilMs: number): number {
    return Math.ceil(Math.max(untilMs, Date.now() + 31_000) / 1000);
  }

  /** Where an action goes: the chat (or the topic stored under inRef), its topic, or the user for a DM. */
  private async target(action: Action): Promise<{ chatId: string; topic?: number; key: string; dmUser?: string }> {
    if (action.type === 'dm') {
      const user = this.userOf(action);
      return { chatId: user, key: chatKey('telegram', user), dmUser: user };
    }
    let chat = action.chat;
    if (action.inRef) {
      // The outbound runner stores a created thread's chat under its ref; follow it when it is there.
      const stored = await this.deps.redis.hget(this.deps.keys.k('ref', action.inRef), 'chat').catch(() => null);
      if (stored) chat = stored;
      else this.deps.log.warn({ ref: action.inRef }, 'telegram: no chat stored under inRef; sending to the action chat');
    }
    let ref;
    try {
      ref = parseChatKey(chat);
    } catch {
      throw new PermanentPlatformError(`telegram: not a chat id: ${chat.slice(0, 80)}`);
    }
    if (ref.platform !== 'telegram') throw new PermanentPlatformError(`telegram: ${chat.slice(0, 80)} is not a Telegram chat`);
    // The "General" topic (id 1) is addressed by sending no thread id at all.
    const topic = ref.threadId && ref.threadId !== '1' && /^\d+$/.test(ref.threadId) ? Number(ref.threadId) : undefined;
    return { chatId: ref.chatId, key: chatKey('telegram', ref.chatId, topic), ...(topic !== undefined ? { topic } : {}) };
  }

  /** Runs one Bot API call, mapping its failure; a 403 is logged once per chat. */
  private async call<T>(method: string, target: { chatId: string; dmUser?: string }, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const mapped = toPlatformError(err, method, this.o.token);
      if (mapped instanceof PermanentPlatformError && mapped.status === 403) {
        if (target.dmUser) await this.deps.redis.set(this.k('dmoff', target.dmUser), 'forbidden', 'EX', 30 * DAY_S).catch(() => undefined);
        const key = chatKey('telegram', target.chatId);
        if (!this.forbiddenLogged.has(key)) {
          this.forbiddenLogged.add(key);
          this.deps.log.warn({ chat: key, why: mapped.message }, 'telegram: forbidden (bot removed or blocked); not sending there any more');
        }
      }
      throw mapped;
    }
  }

  private formatted(action: Action): FormattedText {
    const text = action.text ?? '';
    return action.format === 'markdown' ? renderMarkdown(text) : plainText(text);
  }

  private keyboard(action: Action): InlineKeyboardMarkup | undefined {
    if (!action.buttons?.length) return undefined;
    return { inline_keyboard: [action.buttons.map((b) => ({ text: b.label, callback_data: b.data }))] };
  }

  private async send(action: Action, target: { chatId: string; topic?: number; key: string; dmUser?: string }): Promise<ActionResult> {
    if (target.dmUser && (await this.deps.redis.exists(this.k('dmoff', target.dmUser)).catch(() => 0))) {
      throw new PermanentPlatformError('telegram: this user blocked the bot or never started a chat with it', 403);
    }
    const chunks = splitFormatted(this.formatted(action));
    if (chunks.length === 0) throw new PermanentPlatformError('telegram: nothing to send (empty text)', 400);
    const markup = this.keyboard(action);
    // Chunks already sent by an earlier attempt of this action are not sent again.
    const progressKey = this.k('progress', action.id);
    const sent = await this.deps.redis.lrange(progressKey, 0, -1).catch(() => [] as string[]);
    const ids = [...sent];
    for (let i = sent.length; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      const last = i === chunks.length - 1;
      const msg = await this.call('sendMessage', target, () =>
        this.tg.callApi('sendMessage', {
          chat_id: chatIdArg(target.chatId),
          text: chunk.text,
          ...(chunk.entities.length ? { entities: chunk.entities as MessageEntity[] } : {}),
          ...(target.topic !== undefined ? { message_thread_id: target.topic } : {}),
          ...(i === 0 && action.replyTo ? { reply_parameters: { message_id: Number(action.replyTo), allow_sending_without_reply: true } } : {}),
          ...(last && markup ? { reply_markup: markup } : {}),
          link_preview_options: { is_disabled: true },
        }),
      );
      const id = String(msg.message_id);
      ids.push(id);
      const tx = this.deps.redis.multi().rpush(progressKey, id).expire(progressKey, DAY_S);
      const topic = (msg as { is_topic_message?: boolean; message_thread_id?: number }).is_topic_message ? (msg as { message_thread_id?: number }).message_thread_id : undefined;
      if (topic !== undefined) tx.hset(this.k('topic', target.chatId), id, String(topic)).expire(this.k('topic', target.chatId), 30 * DAY_S);
      if (!target.dmUser) tx.lpush(this.k('recent', target.chatId), id).ltrim(this.k('recent', target.chatId), 0, this.o.recentMessages - 1);
      await tx.exec().catch(() => undefined);
    }
    return { messageIds: ids, chat: target.key };
  }

  private async edit(action: Action, target: { chatId: string; topic?: number; key: string }): Promise<ActionResult> {
    const id = this.need(action.messageId, 'messageId');
    const f = truncateFormatted(this.formatted(action));
    if (f.text.trim() === '') throw new PermanentPlatformError('telegram: cannot edit a message to empty text', 400);
    const markup = this.keyboard(action);
    try {
      await this.call('editMessageText', target, () =>
        this.tg.callApi('editMessageText', {
          chat_id: chatIdArg(target.chatId),
          message_id: Number(id),
          text: f.text,
          ...(f.entities.length ? { entities: f.entities } : {}),
          ...(markup ? { reply_markup: markup } : {}),
          link_preview_options: { is_disabled: true },
        }),
      );
    } catch (err) {
      // Same text again is success: the message already says it.
      if (!(err instanceof PermanentPlatformError && /message is not modified/i.test(err.message))) throw err;
    }
    return { messageIds: [id], chat: target.key };
  }

  private async purge(action: Action, target: { chatId: string; key: string }): Promise<ActionResult> {
    let ids = action.messageIds ?? [];
    if (!ids.length && action.count) ids = await this.deps.redis.lrange(this.k('recent', target.chatId), 0, action.count - 1);
    const numeric = [...new Set(ids)].map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
    for (let i = 0; i < numeric.length; i += 100) {
      const batch = numeric.slice(i, i + 100);
      // deleteMessages skips messages it cannot find or delete, so a retried purge is harmless.
      await this.call('deleteMessages', target, () => this.tg.callApi('deleteMessages', { chat_id: chatIdArg(target.chatId), message_ids: batch }));
    }
    if (numeric.length) {
      const key = this.k('recent', target.chatId);
      const tx = this.deps.redis.pipeline();
      for (const id of numeric) tx.lrem(key, 0, String(id));
      await tx.exec().catch(() => undefined);
    }
    return { messageIds: numeric.map(String) };
  }

  private async thread(action: Action, target: { chatId: string; key: string }): Promise<ActionResult> {
    const title = (action.title ?? action.text ?? 'Thread').slice(0, 128) || 'Thread';
    try {
      const topic = await this.call('createForumTopic', target, () => this.tg.callApi('createForumTopic', { chat_id: chatIdArg(target.chatId), name: title }));
      return { chat: chatKey('telegram', target.chatId, topic.message_thread_id), ...(action.messageId ? { messageIds: [action.messageId] } : {}) };
    } catch (err) {
      // Not a forum: there are no topics, so the "thread" is the group itself (replies keep it together).
      if (err instanceof PermanentPlatformError && /not a forum/i.test(err.message)) {
        this.deps.log.info({ chat: chatKey('telegram', target.chatId) }, 'telegram: the group is not a forum; using the group as the thread');
        return { chat: chatKey('telegram', target.chatId), ...(action.messageId ? { messageIds: [action.messageId] } : {}) };
      }
      throw err;
    }
  }
}

/** Every ChatPermissions field (Bot API 7): a mute sets all false, lifting it sets all true. */
const PERMISSION_KEYS = [
  'can_send_messages',
  'can_send_audios',
  'can_send_documents',
  'can_send_photos',
  'can_send_videos',
  'can_send_video_notes',
  'can_send_voice_notes',
  'can_send_polls',
  'can_send_other_messages',
  'can_add_web_page_previews',
  'can_change_info',
  'can_invite_users',
  'can_pin_messages',
  'can_manage_topics',
] as const;

/** Builds the Telegram adapter; `options.token` (and webhook secret) come from the caller, never from process.env here. */
export function createTelegramAdapter(options: TelegramAdapterOptions, deps: AdapterDeps): TelegramAdapter {
  return new TelegramAdapter(options, deps);
}

