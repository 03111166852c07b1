/**
 * The X adapter on twitter-api-v2: its lifecycle (init checks the credentials and finds the bot account, startInbound
 * polls or streams, stop, status) around inbound.ts (mentions and hashtags), stream.ts (the filtered stream),
 * likes.ts (likes as votes) and outbound.ts (replies and threads, budgets that pause instead of hammering).
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import type { ActionResult, AdapterDeps, AdapterStatus, OutboundLimits, PlatformAction, PlatformAdapter } from '../../src/core/index.js';
import { XBudgets } from './budget.js';
import { createXClient } from './client.js';
import { USER_FIELDS, X_ENDPOINTS, type XBotUser, type XContext, type XCounters } from './context.js';
import { summarizeXError } from './errors.js';
import { XInbound } from './inbound.js';
import { hasUserContext, resolveXOptions, type ResolvedXOptions, type XAdapterOptions } from './options.js';
import { XOutbound } from './outbound.js';

export { X_ENDPOINTS, type XCounters } from './context.js';

/** The X adapter, with the extras tests and the CLI use beyond PlatformAdapter. */
export interface XAdapter extends PlatformAdapter {
  /** The bot account, known after init. */
  readonly botUser: XBotUser | undefined;
  /** Runs every poll that is due now (mentions, hashtags, likes) and returns; for tests and one-shot runs. */
  pollOnce(): Promise<void>;
  /** Starts searching these hashtags (an AMA's), shared through the adapter's store with every process. */
  trackHashtags(tags: string[]): Promise<void>;
  /** Stops searching these hashtags. */
  untrackHashtags(tags: string[]): Promise<void>;
  /** Counters since start. */
  readonly counters: Readonly<XCounters>;
}

/** The parts that exist once init() has found the bot account. */
interface Ready {
  ctx: XContext;
  inbound: XInbound;
  outbound: XOutbound;
}

class XAdapterImpl implements XAdapter {
  readonly platform = 'x' as const;
  readonly limits: OutboundLimits;
  readonly counters: XCounters = { polls: 0, published: 0, malformed: 0, ownPosts: 0, reposts: 0, pollErrors: 0, streamed: 0, streamErrors: 0 };
  private readonly opts: ResolvedXOptions;
  private readonly log: Logger;
  private readonly budgets: XBudgets;
  private readonly adminSet: Set<string>;
  private ready: Ready | undefined;
  private agent: http.Agent | undefined;
  /** Initialized and not stopped. */
  private live = false;
  /** Why init failed (credentials refused, account not found). */
  private fatal: string | undefined;

  constructor(
    options: XAdapterOptions,
    private readonly deps: AdapterDeps,
  ) {
    this.opts = resolveXOptions(options);
    this.limits = this.opts.limits;
    this.log = deps.log.child({ adapter: 'x' });
    this.budgets = new XBudgets(deps.store, this.opts.budgets ?? {}, this.opts.rateLimitMarginMs);
    this.adminSet = new Set(this.opts.admins.map((a) => a.replace(/^@/, '').toLowerCase()));
  }

  get botUser(): XBotUser | undefined {
    return this.ready?.ctx.me;
  }

  private requireReady(): Ready {
    if (!this.ready) throw new Error('x adapter: init() first');
    return this.ready;
  }

  private isAdmin(userId: string, username: string | undefined, conversationId: string): boolean {
    if (this.adminSet.has(userId.toLowerCase()) || (username && this.adminSet.has(username.toLowerCase()))) return true;
    return this.opts.isAdmin?.(userId, username, conversationId) ?? false;
  }

  /** Creates the clients and finds the bot account (which also checks the credentials). */
  async init(): Promise<void> {
    const { client, appOnly, agent } = createXClient({
      credentials: this.opts.credentials,
      apiBaseUrl: this.opts.apiBaseUrl,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      onRateLimit: (obs) => this.budgets.observe(obs),
    });
    this.agent = agent;
    let me: XBotUser;
    try {
      let u;
      if (this.opts.botUserId) u = await client.v2.user(this.opts.botUserId, { 'user.fields': USER_FIELDS });
      else if (!hasUserContext(this.opts.credentials)) {
        // App-only auth has no "me": the account must be named.
        if (!this.opts.botUsername) throw new Error('x adapter: with a bearer token, botUsername (or botUserId) is required');
        u = await client.v2.userByUsername(this.opts.botUsername.replace(/^@/, ''), { 'user.fields': USER_FIELDS });
      } else u = await client.v2.me({ 'user.fields': USER_FIELDS });
      me = { id: u.data.id, username: u.data.username, name: u.data.name };
    } catch (err) {
      const s = summarizeXError(err);
      this.fatal = s.status === 401 ? 'x rejected the credentials (401): check X_APP_KEY/X_ACCESS_TOKEN or X_BEARER_TOKEN' : `x account lookup failed: ${s.message}`;
      this.log.error({ status: s.status }, this.fatal);
      // No `cause`: the library's error holds the request and its Authorization header.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(this.fatal);
    }
    await this.budgets.refresh();
    const ctx: XContext = {
      opts: this.opts,
      deps: this.deps,
      log: this.log,
      budgets: this.budgets,
      counters: this.counters,
      client,
      appOnly,
      me,
      isAdmin: (userId, username, conversationId) => this.isAdmin(userId, username, conversationId),
    };
    const inbound = new XInbound(ctx);
    this.ready = { ctx, inbound, outbound: new XOutbound(ctx, (tags, on) => (on ? inbound.trackHashtags(tags) : inbound.untrackHashtags(tags))) };
    this.live = true;
    this.log.info({ bot: me.username, botId: me.id, base: this.opts.apiBaseUrl ?? 'https://api.x.com' }, 'x adapter ready');
  }

  /** Starts polling (and the filtered stream when configured). */
  async startInbound(): Promise<void> {
    await this.requireReady().inbound.start();
  }

  /** Stops receiving; the current poll and the stream's current publish finish first. */
  async stop(): Promise<void> {
    await this.ready?.inbound.stop();
    this.agent?.destroy();
    this.live = false;
  }

  /** Health for /readyz: credentials, polling, the stream, likes, and the monthly budgets. */
  status(): AdapterStatus {
    const inbound = this.ready?.inbound;
    const problems: string[] = [];
    for (const p of [this.fatal, inbound?.fatal, inbound?.lastPollError, inbound?.streamNote, inbound?.likesOff]) if (p) problems.push(p);
    if (this.budgets.readsLeft() === 0) problems.push('x monthly read budget exhausted: mention polling paused until next month');
    if (this.budgets.postsLeft() === 0) problems.push('x monthly post budget exhausted: replies paused until next month');
    if (!hasUserContext(this.opts.credentials)) problems.push('x credentials are read-only (bearer token): replies need X_APP_KEY, X_APP_SECRET, X_ACCESS_TOKEN, X_ACCESS_SECRET');
    return {
      connected: this.live && (inbound?.connected ?? true),
      problems,
      details: {
        bot: this.ready?.ctx.me.username ?? null,
        inbound: inbound?.stream ? 'stream' : 'poll',
        streamConnected: inbound?.stream?.up ?? false,
        lastPollAt: inbound?.lastPollAt ?? null,
        pollIntervalMs: inbound?.pollIntervalMs ?? this.opts.pollIntervalMs,
        mentionsPausedForMs: this.budgets.waitMs(X_ENDPOINTS.mentions),
        counters: { ...this.counters },
        ...this.budgets.snapshot(),
      },
    };
  }

  async pollOnce(): Promise<void> {
    await this.requireReady().inbound.pollOnce();
  }

  async trackHashtags(tags: string[]): Promise<void> {
    await this.requireReady().inbound.trackHashtags(tags);
  }

  async untrackHashtags(tags: string[]): Promise<void> {
    await this.requireReady().inbound.untrackHashtags(tags);
  }

  /** Performs one action (outbound.ts). */
  async perform(action: PlatformAction): Promise<ActionResult> {
    return this.requireReady().outbound.perform(action);
  }
}

/** Creates the X adapter; nothing connects until `init()`. */
export function createXAdapterImpl(options: XAdapterOptions, deps: AdapterDeps): XAdapter {
  return new XAdapterImpl(options, deps);
}
