/**
 * The Telegram adapter on telegraf 4: its lifecycle (init checks the token, startInbound polls or sets the webhook,
 * stop, status) around the two halves, inbound.ts (receiving) and outbound.ts (performing actions).
 * Nothing is acknowledged to Telegram (next getUpdates offset, webhook 200) before its ChatEvents are in Redis.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Telegraf } from 'telegraf';
import { chatKey, type ActionResult, type AdapterDeps, type AdapterStatus, type OutboundLimits, type PlatformAction, type PlatformAdapter } from '../../src/core/index.js';
import { AdminCache, botRightsProblem, type AdminRecord } from './admins.js';
import { isApiError, redactToken, toPlatformError } from './errors.js';
import { TelegramInbound, type InboundStats, type TelegramInboundContext } from './inbound.js';
import { ALLOWED_UPDATES } from './normalize.js';
import { performTelegramAction } from './outbound.js';

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
  /** What receiving needs, ready after init; a TelegramInbound is made from it per start (a stopped one is done). */
  private inboundContext: TelegramInboundContext | undefined;
  private inbound: TelegramInbound | undefined;
  private readonly problems = new Map<string, string>();
  private readonly forbiddenLogged = new Set<string>();
  private readonly stats: InboundStats = { updates: 0, events: 0, rejected: 0, skipped: {}, unknownTypes: {}, refusedWebhooks: 0 };
  private inboundStarted = false;
  private server: http.Server | undefined;
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

  /** Creates the client and checks the token with getMe; registers the command menu; prepares receiving. */
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
    const admins = new AdminCache({
      fetch: async (chatId) => (await this.tg.getChatAdministrators(chatId)) as unknown as AdminRecord[],
      store: this.deps.store,
      key: (chatId) => `admins:${chatId}`,
      ttlMs: this.o.adminCacheMs,
      botId: me.id,
      log: this.deps.log,
      onBotRights: (chatId, bot) => this.setProblem(`rights:${chatId}`, botRightsProblem(chatKey('telegram', chatId), bot)),
    });
    this.inboundContext = {
      deps: this.deps,
      tg: this.tg,
      me: this.me,
      admins,
      log: this.deps.log,
      o: this.o,
      webhook: this.o.webhook && this.webhookPath ? { path: this.webhookPath, secret: this.o.webhook.secret } : undefined,
      setProblem: (key, text) => this.setProblem(key, text),
      redact: (text) => this.redact(text),
      forbiddenLogged: this.forbiddenLogged,
      stats: this.stats,
    };
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

  /** The receiving half of this start (a fresh one after a stop). */
  private requireInbound(): TelegramInbound {
    if (!this.inboundContext) throw new Error('telegram: init() has not run');
    this.inbound ??= new TelegramInbound(this.inboundContext);
    return this.inbound;
  }

  /** Starts long polling, or sets the webhook (and listens when asked to). */
  async startInbound(): Promise<void> {
    if (!this.bot) await this.init();
    const inbound = this.requireInbound();
    this.inboundStarted = true;
    if (this.o.webhook) {
      const hook = this.o.webhook;
      if (hook.listen) {
        const listen = hook.listen;
        const server = http.createServer(inbound.webhookCallback());
        this.server = server;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(listen.port, listen.host ?? '0.0.0.0', () => resolve());
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
      inbound.ok = true;
      return;
    }
    // A webhook left over from an earlier run would make getUpdates fail with 409; pending updates stay queued.
    await this.tg.deleteWebhook({ drop_pending_updates: false });
    inbound.startPolling();
  }

  /** Stops receiving; a batch being published finishes (or is left unacknowledged) first. */
  async stop(): Promise<void> {
    const stopping = this.inbound?.stop();
    if (this.server) {
      const server = this.server;
      this.server = undefined;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    }
    await stopping;
    this.inbound = undefined;
    this.inboundStarted = false;
  }

  /** Health for /readyz: connected, and the problems an operator must fix. */
  status(): AdapterStatus {
    const problems = [...this.problems.values()];
    const shown = problems.length > 20 ? [...problems.slice(0, 20), `telegram: and ${problems.length - 20} more`] : problems;
    return {
      connected: Boolean(this.me) && (!this.inboundStarted || (this.inbound?.ok ?? false)),
      problems: shown,
      details: {
        mode: this.o.webhook ? 'webhook' : 'polling',
        bot: this.me?.username,
        lastPollAt: this.inbound?.lastPollAt || undefined,
        ...this.stats,
      },
    };
  }

  /** The webhook endpoint as a node request handler, to mount on your own HTTP server (webhook mode without `listen`). */
  webhookCallback(): (req: IncomingMessage, res: ServerResponse) => void {
    return this.requireInbound().webhookCallback();
  }

  /** The port the adapter's own webhook server listens on (webhook.listen with port 0 picks one). */
  webhookPort(): number | undefined {
    const addr = this.server?.address() as AddressInfo | null | undefined;
    return addr?.port;
  }

  /** Performs one action (outbound.ts); throws PlatformError (429: wait; 403: the chat; 400: this action). */
  async perform(action: PlatformAction): Promise<ActionResult> {
    return performTelegramAction(action, {
      tg: this.tg,
      token: this.o.token,
      store: this.deps.store,
      log: this.deps.log,
      recentMessages: this.o.recentMessages,
      forbiddenLogged: this.forbiddenLogged,
    });
  }
}
