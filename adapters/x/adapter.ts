/** The X adapter: mention/hashtag polling with Redis cursors, replies and numbered threads, budgets that pause instead of hammering. */
import type http from 'node:http';
import { ETwitterStreamEvent, type TweetStream, type TwitterApi } from 'twitter-api-v2';
import type { Logger } from 'pino';
import {
  chatKey,
  ChatEventSchema,
  parseChatKey,
  parseUserKey,
  PlatformError,
  type ActionOf,
  type ActionResult,
  type AdapterDeps,
  type AdapterStatus,
  type ChatEventInput,
  type OutboundLimits,
  type PlatformAction,
  type PlatformAdapter,
} from '../../src/core/index.js';
import { XBudgets, adaptivePollInterval, msUntilNextPeriod } from './budget.js';
import { createXClient } from './client.js';
import { cleanHashtags, HASHTAGS_KEY, trackXHashtags, untrackXHashtags } from './hashtags.js';
import { refused, summarizeXError, toPerformError } from './errors.js';
import { XPostSchema, XUserSchema, normalizeLike, normalizePost, type XPost, type XSource, type XUser } from './normalize.js';
import { hasUserContext, resolveXOptions, type ResolvedXOptions, type XAdapterOptions } from './options.js';
import { distinctVariant, markdownToPlain, neutralizeMentions, splitThread } from './text.js';

/** Endpoint families whose rate-limit windows gate calls. */
export const X_ENDPOINTS = {
  mentions: 'GET /2/users/:id/mentions',
  search: 'GET /2/tweets/search/recent',
  post: 'POST /2/tweets',
  likingUsers: 'GET /2/tweets/:id/liking_users',
} as const;

const TWEET_FIELDS = ['author_id', 'conversation_id', 'created_at', 'lang', 'in_reply_to_user_id', 'referenced_tweets', 'entities', 'note_tweet'];
const EXPANSIONS = ['author_id', 'referenced_tweets.id'];
const USER_FIELDS: ('name' | 'username')[] = ['name', 'username'];
/** Rule tags the adapter owns on the app's filtered stream (rules are per app, shared with anything else). */
const RULE_TAG = 'townhall:';

/** Moves a cursor forward to an id, unless a paged sweep is half done (its `token` would then skip posts). */
const ADVANCE_CURSOR_LUA = `
if redis.call('hexists', KEYS[1], 'token') == 1 then return 0 end
local cur = redis.call('hget', KEYS[1], 'since')
local id = ARGV[1]
if cur and (#cur > #id or (#cur == #id and cur >= id)) then return 0 end
redis.call('hset', KEYS[1], 'since', id)
redis.call('hdel', KEYS[1], 'start')
return 1`;

/** Half-sent threads are remembered this long so a retried action resumes instead of reposting. */
const PROGRESS_TTL_S = 7 * 24 * 3600;

/** Counts of what inbound saw, for status and tests. */
export interface XCounters {
  polls: number;
  published: number;
  malformed: number;
  ownPosts: number;
  reposts: number;
  pollErrors: number;
  /** Posts received over the filtered stream. */
  streamed: number;
  /** Error and unknown payloads on the filtered stream. */
  streamErrors: number;
}

/** The X adapter, with the extras tests and the CLI use beyond PlatformAdapter. */
export interface XAdapter extends PlatformAdapter {
  /** The bot account, known after init. */
  readonly botUser: { id: string; username: string; name: string } | undefined;
  /** Runs every poll that is due now (mentions, hashtags, likes) and returns; for tests and one-shot runs. */
  pollOnce(): Promise<void>;
  /** Starts searching these hashtags (an AMA's), shared through Redis with every process. */
  trackHashtags(tags: string[]): Promise<void>;
  /** Stops searching these hashtags. */
  untrackHashtags(tags: string[]): Promise<void>;
  /** Counters since start. */
  readonly counters: Readonly<XCounters>;
}

interface Task {
  name: 'mentions' | 'search' | 'likes';
  nextAt: number;
  failures: number;
}

/** A page of a v2 timeline after validation. */
interface Page {
  posts: XPost[];
  users: Map<string, XUser>;
  newestId?: string;
  nextToken?: string;
}

class XAdapterImpl implements XAdapter {
  readonly platform = 'x' as const;
  readonly limits: OutboundLimits;
  readonly counters: XCounters = { polls: 0, published: 0, malformed: 0, ownPosts: 0, reposts: 0, pollErrors: 0, streamed: 0, streamErrors: 0 };
  private readonly opts: ResolvedXOptions;
  private readonly log: Logger;
  private readonly budgets: XBudgets;
  private client: TwitterApi | undefined;
  private appOnly: TwitterApi | undefined;
  private stream: TweetStream | undefined;
  private streamUp = false;
  private streamNote: string | undefined;
  private streamChain: Promise<void> = Promise.resolve();
  /** Tasks whose cursors the stream may not move until their catch-up sweep after a (re)connect has finished. */
  private readonly frozen = new Set<Task['name']>();
  /** The hashtag list the stream rules were last made to match. */
  private syncedTags: string | undefined;
  private readonly tagSweptAt = new Map<string, number>();
  /** Set when X refused to list likers (access level): likes stop counting as votes. */
  private likesOff: string | undefined;
  private agent: http.Agent | undefined;
  private me: { id: string; username: string; name: string } | undefined;
  private connected = false;
  private fatal: string | undefined;
  private lastPollError: string | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readsPerPoll = 1;
  private pollIntervalMs: number;
  private lastPollAt: number | undefined;
  private readonly tasks: Task[] = [
    { name: 'mentions', nextAt: 0, failures: 0 },
    { name: 'search', nextAt: 0, failures: 0 },
    { name: 'likes', nextAt: 0, failures: 0 },
  ];
  private readonly adminSet: Set<string>;

  constructor(
    options: XAdapterOptions,
    private readonly deps: AdapterDeps,
  ) {
    this.opts = resolveXOptions(options);
    this.limits = this.opts.limits;
    this.log = deps.log.child({ adapter: 'x' });
    this.budgets = new XBudgets(deps.store, this.opts.budgets ?? {}, this.opts.rateLimitMarginMs);
    this.pollIntervalMs = this.opts.pollIntervalMs;
    this.adminSet = new Set(this.opts.admins.map((a) => a.replace(/^@/, '').toLowerCase()));
  }

  get botUser() {
    return this.me;
  }

  /** A key in the adapter's own store. */
  private k(...parts: (string | number)[]): string {
    return parts.join(':');
  }

  async init(): Promise<void> {
    const { client, appOnly, agent } = createXClient({
      credentials: this.opts.credentials,
      apiBaseUrl: this.opts.apiBaseUrl,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      onRateLimit: (obs) => this.budgets.observe(obs),
    });
    this.client = client;
    this.appOnly = appOnly;
    this.agent = agent;
    try {
      if (this.opts.botUserId) {
        const u = await client.v2.user(this.opts.botUserId, { 'user.fields': USER_FIELDS });
        this.me = { id: u.data.id, username: u.data.username, name: u.data.name };
      } else if (!hasUserContext(this.opts.credentials)) {
        // App-only auth has no "me": the account must be named.
        if (!this.opts.botUsername) throw new Error('x adapter: with a bearer token, botUsername (or botUserId) is required');
        const u = await client.v2.userByUsername(this.opts.botUsername.replace(/^@/, ''), { 'user.fields': USER_FIELDS });
        this.me = { id: u.data.id, username: u.data.username, name: u.data.name };
      } else {
        const u = await client.v2.me({ 'user.fields': USER_FIELDS });
        this.me = { id: u.data.id, username: u.data.username, name: u.data.name };
      }
    } catch (err) {
      const s = summarizeXError(err);
      this.fatal = s.status === 401 ? 'x rejected the credentials (401): check X_APP_KEY/X_ACCESS_TOKEN or X_BEARER_TOKEN' : `x account lookup failed: ${s.message}`;
      this.log.error({ status: s.status }, this.fatal);
      // No `cause`: the library's error holds the request and its Authorization header.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(this.fatal);
    }
    await this.budgets.refresh();
    this.connected = true;
    this.log.info({ bot: this.me.username, botId: this.me.id, base: this.opts.apiBaseUrl ?? 'https://api.x.com' }, 'x adapter ready');
  }

  async startInbound(): Promise<void> {
    if (!this.client || !this.me) throw new Error('x adapter: init() first');
    if (this.loop) return;
    this.stopped = false;
    if (this.opts.inbound === 'stream') await this.startStream();
    this.loop = this.runLoop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.stream?.destroy();
    this.stream = undefined;
    this.streamUp = false;
    // The loop finishes its current poll, and the stream its current publish, before they end.
    await this.loop;
    await this.streamChain;
    this.loop = undefined;
    this.agent?.destroy();
    this.connected = false;
  }

  status(): AdapterStatus {
    const problems: string[] = [];
    if (this.fatal) problems.push(this.fatal);
    if (this.lastPollError) problems.push(this.lastPollError);
    if (this.streamNote) problems.push(this.streamNote);
    if (this.likesOff) problems.push(this.likesOff);
    if (this.budgets.readsLeft() === 0) problems.push('x monthly read budget exhausted: mention polling paused until next month');
    if (this.budgets.postsLeft() === 0) problems.push('x monthly post budget exhausted: replies paused until next month');
    if (!hasUserContext(this.opts.credentials)) problems.push('x credentials are read-only (bearer token): replies need X_APP_KEY, X_APP_SECRET, X_ACCESS_TOKEN, X_ACCESS_SECRET');
    const mentionsWait = this.budgets.waitMs(X_ENDPOINTS.mentions);
    return {
      connected: this.connected,
      problems,
      details: {
        bot: this.me?.username ?? null,
        inbound: this.stream ? 'stream' : 'poll',
        streamConnected: this.streamUp,
        lastPollAt: this.lastPollAt ?? null,
        pollIntervalMs: this.pollIntervalMs,
        mentionsPausedForMs: mentionsWait,
        counters: { ...this.counters },
        ...this.budgets.snapshot(),
      },
    };
  }

  // ---------------------------------------------------------------- inbound

  private async runLoop(): Promise<void> {
    while (!this.stopped) {
      await this.pollOnce();
      if (this.stopped) break;
      const next = Math.min(...this.tasks.map((t) => t.nextAt));
      await this.sleep(Math.max(0, next - Date.now()));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  async pollOnce(): Promise<void> {
    if (!this.client || !this.me) throw new Error('x adapter: init() first');
    const now = Date.now();
    for (const task of this.tasks) {
      if (this.stopped || task.nextAt > now) continue;
      try {
        const interval = await this.runTask(task);
        task.failures = 0;
        task.nextAt = Date.now() + interval;
        if (task.name === 'mentions') {
          this.connected = true;
          this.lastPollError = undefined;
        }
      } catch (err) {
        task.failures++;
        this.counters.pollErrors++;
        const s = summarizeXError(err);
        const backoff = Math.min(this.opts.errorBackoffMs * 2 ** (task.failures - 1), this.opts.maxErrorBackoffMs);
        // After a 429 the window's reset decides; otherwise back off exponentially.
        const gate = s.status === 429 ? this.budgets.waitMs(this.endpointOf(task)) : 0;
        task.nextAt = Date.now() + Math.max(backoff, gate);
        this.log.warn({ task: task.name, status: s.status, failures: task.failures, retryInMs: task.nextAt - Date.now() }, `x poll failed: ${s.message}`);
        if (s.status === 401) this.fatal = 'x rejected the credentials (401) while polling';
        if (task.name === 'likes' && s.status === 403) {
          // The access level does not include liking users: stop asking rather than fail every interval.
          this.likesOff = `x does not list likes at this access level (${s.message}): likes no longer count as votes`;
          task.nextAt = Date.now() + 24 * 3600_000;
        }
        // A 429 is X working as intended; anything else three times in a row means X is not reachable for us.
        if (task.name === 'mentions' && s.status !== 429 && task.failures >= 3) {
          this.connected = false;
          this.lastPollError = `x mention polling failing (${task.failures}x): ${s.message}`;
        }
      }
    }
  }

  private endpointOf(task: Task): string {
    return task.name === 'mentions' ? X_ENDPOINTS.mentions : task.name === 'search' ? X_ENDPOINTS.search : X_ENDPOINTS.likingUsers;
  }

  /** Runs one task; returns ms until it is due again. */
  private async runTask(task: Task): Promise<number> {
    if (task.name === 'mentions') return this.pollMentions();
    if (task.name === 'search') return this.pollSearches();
    return this.pollLikes();
  }

  private async pollMentions(): Promise<number> {
    const me = this.me!;
    const client = this.client!;
    const readsBefore = this.budgets.readsLeft();
    const result = await this.sweep('mentions', this.k('cursor', 'mentions'), X_ENDPOINTS.mentions, async (q) => {
      const p = await client.v2.userMentionTimeline(me.id, {
        ...q,
        expansions: EXPANSIONS,
        'tweet.fields': TWEET_FIELDS,
        'user.fields': USER_FIELDS,
        max_results: this.opts.pageSize,
      } as Parameters<TwitterApi['v2']['userMentionTimeline']>[1]);
      return p.data as unknown;
    });
    this.counters.polls++;
    this.lastPollAt = Date.now();
    this.readsPerPoll = 0.8 * this.readsPerPoll + 0.2 * Math.max(1, result.posts);
    const now = Date.now();
    this.pollIntervalMs = adaptivePollInterval({
      baseMs: this.opts.pollIntervalMs,
      minMs: Math.min(this.opts.minPollIntervalMs, this.opts.pollIntervalMs),
      maxMs: this.opts.maxPollIntervalMs,
      now,
      readsLeft: readsBefore === undefined ? undefined : this.budgets.readsLeft(),
      readsPerPoll: this.readsPerPoll,
      window: this.budgets.window(X_ENDPOINTS.mentions),
    });
    // A backlog left by maxPagesPerPoll is fetched at the next allowed moment, not a full interval later.
    // While the stream is up, polling is only a safety net.
    const interval = result.backlog ? this.opts.minPollIntervalMs : this.streamUp ? this.opts.maxPollIntervalMs : this.pollIntervalMs;
    if (!result.backlog && result.waitMs === 0) this.frozen.delete('mentions');
    return Math.max(interval, result.waitMs);
  }

  private async hashtags(): Promise<string[]> {
    const tracked = await this.deps.store.smembers(HASHTAGS_KEY);
    return [...new Set([...this.opts.hashtags, ...tracked].map((t) => t.toLowerCase()))].sort();
  }

  /**
   * Searches the tracked hashtags. The tag list is re-read from Redis every searchIntervalMs (free: no X call),
   * so an AMA started by any process is picked up. With the stream up, a tag is swept only when new, after a
   * (re)connect, or as the maxPollIntervalMs safety net: the stream delivers the rest.
   */
  private async pollSearches(): Promise<number> {
    const client = this.client!;
    const tags = await this.hashtags();
    if (this.stream && tags.join(',') !== this.syncedTags) await this.syncRulesQuietly();
    for (const t of this.tagSweptAt.keys()) if (!tags.includes(t)) this.tagSweptAt.delete(t);
    if (tags.length === 0) {
      this.frozen.delete('search');
      return this.opts.searchIntervalMs;
    }
    let wait = 0;
    let backlog = false;
    const now = Date.now();
    for (const tag of tags) {
      if (this.stopped) break;
      const swept = this.tagSweptAt.get(tag);
      if (this.streamUp && !this.frozen.has('search') && swept !== undefined && swept > now - this.opts.maxPollIntervalMs) continue;
      const r = await this.sweep('search', this.k('cursor', 'search', tag), X_ENDPOINTS.search, async (q) => {
        const { pagination_token: token, ...rest } = q;
        const p = await client.v2.search(`#${tag} -is:retweet`, {
          ...rest,
          ...(token ? { next_token: token } : {}),
          expansions: EXPANSIONS,
          'tweet.fields': TWEET_FIELDS,
          'user.fields': USER_FIELDS,
          max_results: Math.max(10, this.opts.pageSize),
        } as Parameters<TwitterApi['v2']['search']>[1]);
        return p.data as unknown;
      });
      wait = Math.max(wait, r.waitMs);
      backlog ||= r.backlog;
      if (!r.backlog && r.waitMs === 0) this.tagSweptAt.set(tag, now);
    }
    if (!backlog && wait === 0 && !this.stopped) this.frozen.delete('search');
    if (backlog) return Math.max(this.opts.minPollIntervalMs, wait);
    return Math.max(this.opts.searchIntervalMs, wait);
  }

  /**
   * Pages a timeline from the stored cursor and publishes each page before moving the cursor past it:
   * a crash re-reads at most one page (same event ids, deduplicated), and never skips one.
   * Cursor hash: `since` (newest id handled), or `start` (time, before any post was seen);
   * `token`/`newest` while a sweep through several polls is unfinished.
   */
  private async sweep(
    source: XSource,
    key: string,
    endpoint: string,
    fetch: (q: { since_id?: string; start_time?: string; pagination_token?: string }) => Promise<unknown>,
  ): Promise<{ posts: number; waitMs: number; backlog: boolean }> {
    const redis = this.deps.store;
    const cur = await redis.hgetall(key);
    const startedAt = Date.now();
    let token = cur.token;
    let newest = cur.newest;
    const since = cur.since;
    const start = cur.start ?? new Date(startedAt - this.opts.firstPollLookbackMs).toISOString();
    let total = 0;
    for (let page = 0; page < this.opts.maxPagesPerPoll; page++) {
      const wait = await this.budgets.sharedWaitMs(endpoint);
      if (wait > 0) {
        this.log.info({ endpoint, waitMs: wait }, 'x rate-limit window spent: pausing until its reset');
        return { posts: total, waitMs: wait, backlog: Boolean(token) };
      }
      const left = this.budgets.readsLeft();
      if (left !== undefined && left <= 0) return { posts: total, waitMs: Math.min(msUntilNextPeriod(Date.now()), this.opts.maxPollIntervalMs), backlog: Boolean(token) };
      const q: { since_id?: string; start_time?: string; pagination_token?: string } = since ? { since_id: since } : { start_time: start };
      if (token) q.pagination_token = token;
      const body = await fetch(q);
      const parsed = this.parsePage(body);
      total += parsed.posts.length;
      await this.budgets.addReads(parsed.posts.length);
      const events = this.toEvents(parsed, source);
      if (events.length) {
        await this.deps.sink.publish(events);
        this.counters.published += events.length;
      }
      // The first page of a sweep carries the newest id; later pages are older.
      if (!token && parsed.newestId) newest = maxId(newest, parsed.newestId);
      if (parsed.nextToken) {
        token = parsed.nextToken;
        await redis.hset(key, { token, ...(newest ? { newest } : {}) });
        continue;
      }
      const tx = redis.multi().hdel(key, 'token', 'newest');
      // Forward only: the stream may have moved the cursor past `newest` meanwhile.
      if (newest) tx.eval(ADVANCE_CURSOR_LUA, 1, key, newest);
      // Nothing seen yet: remember when we looked, so a restart does not look further back than needed.
      else if (!since) tx.hset(key, 'start', new Date(startedAt - 60_000).toISOString());
      await tx.exec();
      return { posts: total, waitMs: 0, backlog: false };
    }
    return { posts: total, waitMs: 0, backlog: true };
  }

  /** Validates a page; bad posts are counted and skipped with one log line, a bad page throws (retried with backoff). */
  private parsePage(body: unknown): Page {
    if (!body || typeof body !== 'object') throw new Error('x returned a page that is not an object');
    const b = body as { data?: unknown; includes?: { users?: unknown }; meta?: { newest_id?: unknown; next_token?: unknown } };
    if (b.data !== undefined && !Array.isArray(b.data)) throw new Error('x returned a page whose data is not a list');
    const users = new Map<string, XUser>();
    if (Array.isArray(b.includes?.users)) {
      for (const u of b.includes.users) {
        const r = XUserSchema.safeParse(u);
        if (r.success) users.set(r.data.id, r.data);
      }
    }
    const posts: XPost[] = [];
    for (const item of (b.data as unknown[] | undefined) ?? []) {
      const r = XPostSchema.safeParse(item);
      if (r.success) posts.push(r.data);
      else {
        this.counters.malformed++;
        const id = typeof (item as { id?: unknown })?.id === 'string' ? (item as { id: string }).id.slice(0, 40) : undefined;
        this.log.warn({ id, reason: `${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? 'invalid'}` }, 'x post skipped: malformed');
      }
    }
    const page: Page = { posts, users };
    const newest = b.meta?.newest_id;
    if (typeof newest === 'string' && /^\d{1,40}$/.test(newest)) page.newestId = newest;
    else if (posts.length) page.newestId = posts.map((p) => p.id).reduce((a, c) => maxId(a, c));
    const next = b.meta?.next_token;
    if (typeof next === 'string' && next.length > 0 && next.length < 512) page.nextToken = next;
    return page;
  }

  private isAdmin(userId: string, username: string | undefined, conversationId: string): boolean {
    if (this.adminSet.has(userId.toLowerCase()) || (username && this.adminSet.has(username.toLowerCase()))) return true;
    return this.opts.isAdmin?.(userId, username, conversationId) ?? false;
  }

  private toEvents(page: Page, source: XSource): ChatEventInput[] {
    const me = this.me!;
    const now = Date.now();
    const events: ChatEventInput[] = [];
    // Oldest first: the order people wrote in.
    for (const post of [...page.posts].sort((a, b) => cmpId(a.id, b.id))) {
      if (post.author_id === me.id) {
        this.counters.ownPosts++;
        continue;
      }
      if (post.referenced_tweets?.some((r) => r.type === 'retweeted')) {
        this.counters.reposts++;
        continue;
      }
      const event = normalizePost(post, { users: page.users, botUserId: me.id, isAdmin: (u, n, c) => this.isAdmin(u, n, c), source, now });
      const check = ChatEventSchema.safeParse(event);
      if (!check.success) {
        this.counters.malformed++;
        this.log.warn({ id: post.id, reason: check.error.issues[0]?.message }, 'x post skipped: not a valid event');
        continue;
      }
      events.push(event);
    }
    return events;
  }

  async trackHashtags(tags: string[]): Promise<void> {
    if (cleanHashtags(tags).length === 0) return;
    await trackXHashtags(this.deps.store, tags);
    if (this.stream) await this.syncRulesQuietly();
    const search = this.tasks.find((t) => t.name === 'search')!;
    search.nextAt = 0;
    this.wake?.();
  }

  async untrackHashtags(tags: string[]): Promise<void> {
    await untrackXHashtags(this.deps.store, tags);
    if (this.stream) await this.syncRulesQuietly();
  }

  // ---------------------------------------------------------------- filtered stream

  /**
   * Connects the filtered stream. The first connect decides whether the access level has it: any failure
   * there falls back to polling (logged, shown in status). Later drops reconnect on their own.
   */
  private async startStream(): Promise<void> {
    const app = this.appOnly!;
    let stream: TweetStream | undefined;
    try {
      await this.syncRules();
      stream = app.v2.searchStream({ expansions: EXPANSIONS, 'tweet.fields': TWEET_FIELDS, 'user.fields': USER_FIELDS, autoConnect: false } as Parameters<TwitterApi['v2']['searchStream']>[0] & { autoConnect: false });
      this.bindStream(stream);
      await stream.connect({ autoReconnect: false, keepAliveTimeout: this.opts.streamKeepAliveMs });
      stream.autoReconnect = true;
      stream.autoReconnectRetries = Infinity;
      stream.nextRetryTimeout = (n: number) => Math.min(this.opts.errorBackoffMs * 2 ** Math.max(0, n - 1), this.opts.maxErrorBackoffMs);
      this.stream = stream;
      this.streamNote = undefined;
      this.log.info('x filtered stream connected');
    } catch (err) {
      stream?.destroy();
      this.streamUp = false;
      const s = summarizeXError(err);
      this.streamNote = `x filtered stream unavailable (${s.message}): polling instead`;
      this.log.warn({ status: s.status }, this.streamNote);
    }
  }

  private bindStream(stream: TweetStream): void {
    const onUp = () => {
      this.streamUp = true;
      // Whatever was posted while disconnected comes from a catch-up sweep; until it is done the stream
      // must not move the cursors past it.
      this.frozen.add('mentions').add('search');
      for (const t of this.tasks) if (t.name !== 'likes') t.nextAt = 0;
      this.wake?.();
    };
    const onDown = (what: string) => () => {
      if (!this.streamUp) return;
      this.streamUp = false;
      this.log.warn(`x filtered stream ${what}: polling until it is back`);
      const soon = Date.now() + this.pollIntervalMs;
      for (const t of this.tasks) if (t.name !== 'likes') t.nextAt = Math.min(t.nextAt, soon);
      this.wake?.();
    };
    stream.on(ETwitterStreamEvent.Connected, onUp);
    stream.on(ETwitterStreamEvent.Reconnected, onUp);
    stream.on(ETwitterStreamEvent.ConnectionLost, onDown('lost (no keep-alive)'));
    stream.on(ETwitterStreamEvent.ConnectionError, onDown('dropped'));
    stream.on(ETwitterStreamEvent.ConnectionClosed, onDown('closed'));
    stream.on(ETwitterStreamEvent.Data, (payload: unknown) => {
      this.streamChain = this.streamChain.then(() => this.onStreamData(payload));
    });
    stream.on(ETwitterStreamEvent.DataError, (payload: unknown) => {
      this.counters.streamErrors++;
      const first = (payload as { errors?: { title?: unknown; detail?: unknown }[] })?.errors?.[0];
      this.log.warn({ title: String(first?.title ?? '').slice(0, 100), detail: String(first?.detail ?? '').slice(0, 200) }, 'x stream error payload skipped');
    });
    stream.on(ETwitterStreamEvent.TweetParseError, () => {
      this.counters.streamErrors++;
      this.log.warn('x stream payload that is not JSON skipped');
    });
    // The library also emits a generic Error for each of the above; they are handled there.
    stream.on(ETwitterStreamEvent.Error, () => undefined);
  }

  /** One streamed post: validate, publish, then move the matching cursors (never the frozen ones). */
  private async onStreamData(payload: unknown): Promise<void> {
    try {
      const b = payload as { data?: unknown; includes?: unknown; matching_rules?: unknown };
      if (!b || typeof b !== 'object' || !b.data || typeof b.data !== 'object' || Array.isArray(b.data)) {
        this.counters.streamErrors++;
        this.log.warn('x stream payload of unknown shape skipped');
        return;
      }
      const page = this.parsePage({ data: [b.data], includes: b.includes });
      const post = page.posts[0];
      if (!post) return;
      this.counters.streamed++;
      const events = this.toEvents(page, 'stream');
      if (events.length) {
        await this.deps.sink.publish(events);
        this.counters.published += events.length;
      }
      const tags = Array.isArray(b.matching_rules) ? (b.matching_rules as { tag?: unknown }[]).map((r) => (typeof r?.tag === 'string' ? r.tag : '')) : [];
      const keys: string[] = [];
      if (tags.includes(`${RULE_TAG}mentions`) && !this.frozen.has('mentions')) keys.push(this.k('cursor', 'mentions'));
      if (!this.frozen.has('search')) {
        for (const t of tags) if (t.startsWith(`${RULE_TAG}tag:`)) keys.push(this.k('cursor', 'search', t.slice(RULE_TAG.length + 4)));
      }
      for (const key of keys) await this.deps.store.eval(ADVANCE_CURSOR_LUA, 1, key, post.id);
    } catch (err) {
      // Not published, or not recorded: the cursors stay behind it and a catch-up sweep fetches it again.
      this.frozen.add('mentions').add('search');
      for (const t of this.tasks) if (t.name !== 'likes') t.nextAt = Math.min(t.nextAt, Date.now() + this.opts.errorBackoffMs);
      this.wake?.();
      this.log.warn(`x streamed post not delivered, catching up by polling: ${summarizeXError(err).message}`);
    }
  }

  /** Makes the app's stream rules match the bot's mentions and the tracked hashtags; leaves others' rules alone. */
  private async syncRules(): Promise<void> {
    const app = this.appOnly!;
    const want = new Map<string, string>([[`@${this.me!.username} -is:retweet`, `${RULE_TAG}mentions`]]);
    const tags = await this.hashtags();
    for (const t of tags) want.set(`#${t} -is:retweet`, `${RULE_TAG}tag:${t}`);
    const current = (await app.v2.streamRules()).data ?? [];
    const stale = current.filter((r) => r.tag?.startsWith(RULE_TAG) && want.get(r.value) !== r.tag);
    const missing = [...want].filter(([value, tag]) => !current.some((r) => r.value === value && r.tag === tag));
    if (stale.length) await app.v2.updateStreamRules({ delete: { ids: stale.map((r) => r.id) } });
    if (missing.length) await app.v2.updateStreamRules({ add: missing.map(([value, tag]) => ({ value, tag })) });
    this.syncedTags = tags.join(',');
  }

  private async syncRulesQuietly(): Promise<void> {
    try {
      await this.syncRules();
    } catch (err) {
      // The search sweeps still cover the hashtag; the rules are fixed on the next change or restart.
      this.log.warn(`x stream rules not updated: ${summarizeXError(err).message}`);
    }
  }

  /** Reads who liked each tracked question post and publishes the difference as votes. */
  private async pollLikes(): Promise<number> {
    if (!this.opts.likesAsVotes || this.likesOff) return 24 * 3600_000;
    const redis = this.deps.store;
    const tracked = await redis.hgetall(this.k('votes', 'posts'));
    const now = Date.now();
    for (const [postId, rawInfo] of Object.entries(tracked)) {
      if (this.stopped) break;
      let info: { target: string; chat: string; until: number };
      try {
        info = JSON.parse(rawInfo) as typeof info;
      } catch {
        await redis.hdel(this.k('votes', 'posts'), postId);
        continue;
      }
      if (info.until < now) {
        await redis.multi().hdel(this.k('votes', 'posts'), postId).del(this.k('votes', 'likers', postId), this.k('votes', 'gen', postId)).exec();
        continue;
      }
      const wait = await this.budgets.sharedWaitMs(X_ENDPOINTS.likingUsers);
      if (wait > 0) return Math.max(wait, this.opts.likesIntervalMs);
      const likers = new Map<string, XUser>();
      let token: string | undefined;
      for (let page = 0; page < this.opts.maxPagesPerPoll; page++) {
        const res = (await this.client!.v2.get(`tweets/${encodeURIComponent(postId)}/liking_users`, {
          max_results: 100,
          'user.fields': USER_FIELDS.join(','),
          ...(token ? { pagination_token: token } : {}),
        })) as { data?: unknown[]; meta?: { next_token?: string } };
        for (const u of res.data ?? []) {
          const r = XUserSchema.safeParse(u);
          if (r.success) likers.set(r.data.id, r.data);
        }
        await this.budgets.addReads(res.data?.length ?? 0);
        token = typeof res.meta?.next_token === 'string' ? res.meta.next_token : undefined;
        if (!token) break;
      }
      const likersKey = this.k('votes', 'likers', postId);
      const genKey = this.k('votes', 'gen', postId);
      const known = new Set(await redis.smembers(likersKey));
      const added = [...likers.keys()].filter((id) => !known.has(id));
      const removed = [...known].filter((id) => !likers.has(id));
      if (added.length === 0 && removed.length === 0) continue;
      const changed = [...added, ...removed];
      const gens = changed.length ? await redis.hmget(genKey, ...changed) : [];
      const events = changed.map((uid, i) =>
        normalizeLike({
          postId,
          chat: info.chat,
          target: info.target,
          user: likers.get(uid) ?? { id: uid, name: uid, username: uid },
          added: i < added.length,
          generation: Number(gens[i] ?? 0) || 0,
          isAdmin: this.isAdmin(uid, likers.get(uid)?.username, parseChatKey(info.chat).chatId),
          now,
        }),
      );
      await this.deps.sink.publish(events);
      this.counters.published += events.length;
      // State moves only after the votes are durable; a crash before this re-publishes the same ids.
      const tx = redis.multi();
      if (added.length) tx.sadd(likersKey, ...added);
      if (removed.length) tx.srem(likersKey, ...removed);
      for (const uid of changed) tx.hincrby(genKey, uid, 1);
      tx.expire(likersKey, Math.ceil(this.opts.likesTrackForMs / 1000) + 86_400).expire(genKey, Math.ceil(this.opts.likesTrackForMs / 1000) + 86_400);
      await tx.exec();
    }
    return this.opts.likesIntervalMs;
  }

  // ---------------------------------------------------------------- outbound

  async perform(action: PlatformAction): Promise<ActionResult> {
    if (!this.client || !this.me) throw new Error('x adapter: init() first');
    switch (action.type) {
      case 'send':
      case 'answer':
        return this.send(action);
      case 'thread':
        return this.thread(action);
      case 'dm':
        return this.dm(action);
      case 'delete':
      case 'purge':
        return this.remove(action);
      case 'react':
        return this.call(action, () => this.client!.v2.like(this.me!.id, action.messageId));
      case 'ban':
        return this.call(action, () => this.client!.v2.block(this.me!.id, this.nativeUser(action.user)));
      case 'unban':
        return this.call(action, () => this.client!.v2.unblock(this.me!.id, this.nativeUser(action.user)));
      case 'mute':
        return this.call(action, () => this.client!.v2.mute(this.me!.id, this.nativeUser(action.user)));
      case 'unmute':
        return this.call(action, () => this.client!.v2.unmute(this.me!.id, this.nativeUser(action.user)));
      case 'listen':
        if (action.on) await this.trackHashtags(action.hashtags);
        else await this.untrackHashtags(action.hashtags);
        return {};
      case 'edit':
      case 'pin':
      case 'slowmode':
        // X's API has none of them. Permanent for the action only: the conversation stays usable.
        throw refused(action.type, `x cannot ${action.type}`);
    }
  }

  private nativeUser(user: string): string {
    const { platform, userId } = parseUserKey(user);
    if (platform !== 'x') throw refused('user', `not an x user: ${platform}`);
    return userId;
  }

  private conversationOf(action: PlatformAction): string {
    let ref;
    try {
      ref = parseChatKey(action.chat);
    } catch {
      throw refused('chat', `not an x chat id: ${action.chat.slice(0, 80)}`);
    }
    if (ref.platform !== 'x') throw refused('chat', `not an x chat: ${action.chat.slice(0, 80)}`);
    return ref.chatId;
  }

  private async call(action: PlatformAction, fn: () => Promise<unknown>): Promise<ActionResult> {
    try {
      await fn();
      return {};
    } catch (err) {
      const e = toPerformError(err);
      this.log.warn({ action: action.type, id: action.id }, `x ${action.type} failed: ${e.message}`);
      throw e;
    }
  }

  private outgoingText(action: ActionOf<'send'> | ActionOf<'answer'> | ActionOf<'dm'>): string {
    const raw = action.text ?? '';
    const plain = action.format === 'markdown' ? markdownToPlain(raw) : raw;
    return this.opts.neutralizeMentions ? neutralizeMentions(plain) : plain;
  }

  /** Throws a global rate limit when the post window or the monthly post budget is spent: pause, don't hammer. */
  private async gatePost(): Promise<void> {
    const wait = await this.budgets.sharedWaitMs(X_ENDPOINTS.post);
    const pause = (retryAfterMs: number, message: string) => new PlatformError({ platform: 'x', method: X_ENDPOINTS.post, code: 429, scope: 'global', retryAfterMs, message });
    if (wait > 0) throw pause(wait, `x post window spent; resets in ${wait} ms`);
    if (!(await this.budgets.reservePost())) throw pause(msUntilNextPeriod(Date.now()), 'x monthly post budget exhausted');
  }

  /** One post, with the budget reserved before and given back when X did not publish it. */
  private async post(payload: { text: string; reply?: { in_reply_to_tweet_id: string }; quote_tweet_id?: string }): Promise<string> {
    // Read-only credentials stay read-only until an operator changes them: the action fails now, nothing is retried.
    if (!hasUserContext(this.opts.credentials)) throw refused(X_ENDPOINTS.post, 'x credentials are read-only (bearer token): cannot post');
    await this.gatePost();
    try {
      const res = await this.client!.v2.tweet(payload);
      return res.data.id;
    } catch (err) {
      await this.budgets.refundPost().catch(() => undefined);
      throw err;
    }
  }

  /**
   * A reply, or a numbered thread of replies each answering the previous post. Progress is kept per action id,
   * so a retry after a failure halfway resumes at the first unsent post instead of posting the thread twice.
   */
  private async send(action: ActionOf<'send'> | ActionOf<'answer'>): Promise<ActionResult> {
    const conversation = this.conversationOf(action);
    const target = (action.type === 'answer' ? action.replyHandle : action.replyTo) ?? conversation;
    const parts = splitThread(this.outgoingText(action), { numbered: this.opts.numberThreads });
    if (parts.length === 0) throw refused(X_ENDPOINTS.post, 'x send without text');
    const progressKey = this.k('progress', action.id);
    const saved = await this.deps.store.hgetall(progressKey);
    const ids: string[] = saved.ids ? (JSON.parse(saved.ids) as string[]) : [];
    let chat = saved.chat ?? chatKey('x', conversation);
    for (let i = ids.length; i < parts.length; i++) {
      const text = parts[i]!;
      const prev = ids[i - 1] ?? target;
      let id: string;
      try {
        id = await this.post({ text, reply: { in_reply_to_tweet_id: prev } });
      } catch (err) {
        if (err instanceof PlatformError) throw err;
        const s = summarizeXError(err);
        // X says 403 for three reasons with one status and one problem type; which one is read from the posts.
        const why = s.status === 403 ? await this.whyReplyRefused(prev) : undefined;
        if (why === 'gone') throw refused(X_ENDPOINTS.post, `x post ${prev} is deleted or not visible: not answered`);
        if (why === 'restricted') {
          if (this.opts.onReplyRestricted === 'skip') {
            this.log.warn({ action: action.id, target: prev }, 'x reply restricted by the author: skipped, not retried');
            throw refused(X_ENDPOINTS.post, `x reply to ${prev} restricted by its author: skipped`, 'per-chat');
          }
          this.log.warn({ action: action.id, target: prev }, 'x reply restricted by the author: answering with a quote post');
          try {
            id = await this.post({ text, quote_tweet_id: prev });
          } catch (qerr) {
            throw qerr instanceof PlatformError ? qerr : toPerformError(qerr);
          }
          // A quote starts its own conversation; the rest of the thread continues there.
          chat = chatKey('x', id);
        } else if (why === 'duplicate') {
          // X refuses words the account already posted; the asker still gets them, marked as another post (once:
          // a variant refused again is a real duplicate of this very action and fails for good).
          this.log.info({ action: action.id, part: i + 1 }, 'x refused a duplicate post: sending it marked as another');
          try {
            id = await this.post({ text: distinctVariant(text, `${action.id}#${i}`), reply: { in_reply_to_tweet_id: prev } });
          } catch (derr) {
            if (derr instanceof PlatformError) throw derr;
            // The variant too: a duplicate of this very action. Permanent for it, not for the conversation.
            if (summarizeXError(derr).status === 403) throw refused(X_ENDPOINTS.post, 'x refused the post as duplicate content twice');
            throw toPerformError(derr, X_ENDPOINTS.post);
          }
        } else {
          const e = toPerformError(err);
          this.log.warn({ action: action.id, part: i + 1, of: parts.length, status: s.status }, `x post failed: ${e.message}`);
          throw e;
        }
      }
      ids.push(id);
      await this.deps.store.multi().hset(progressKey, 'ids', JSON.stringify(ids), 'chat', chat).expire(progressKey, PROGRESS_TTL_S).exec();
    }
    const buttons = action.type === 'send' ? action.buttons : undefined;
    if (this.opts.likesAsVotes && buttons?.length && ids[0]) {
      // X has no buttons: a like on the question post is the upvote.
      const until = Date.now() + this.opts.likesTrackForMs;
      await this.deps.store.hset(this.k('votes', 'posts'), ids[0], JSON.stringify({ target: buttons[0]!.data, chat, until }));
    }
    return { messageIds: ids, chat };
  }

  /**
   * Why X refused (403) a reply to `postId`, read from the posts rather than the refusal's wording: the post (or its
   * conversation's root) is gone; its author limited replies to people it mentions and the bot is not one
   * (`reply_settings`); or, replies being open, the text duplicates one the account posted.
   */
  private async whyReplyRefused(postId: string): Promise<'gone' | 'restricted' | 'duplicate'> {
    type Looked = { author_id?: string; reply_settings?: string; conversation_id?: string; entities?: { mentions?: { username?: string }[] } };
    const fields = { 'tweet.fields': ['author_id', 'reply_settings', 'conversation_id', 'entities'] } as Parameters<TwitterApi['v2']['singleTweet']>[1];
    const look = async (id: string): Promise<Looked | undefined> => {
      try {
        return ((await this.client!.v2.singleTweet(id, fields)).data as Looked | undefined) ?? undefined;
      } catch {
        return undefined;
      }
    };
    const parent = await look(postId);
    if (!parent) return 'gone';
    const root = parent.conversation_id && parent.conversation_id !== postId ? await look(parent.conversation_id) : undefined;
    const me = this.me!;
    for (const p of [parent, root]) {
      if (!p || p.author_id === me.id || (p.reply_settings ?? 'everyone') === 'everyone') continue;
      const mentioned = (p.entities?.mentions ?? []).some((m) => m.username?.toLowerCase() === me.username.toLowerCase());
      if (!mentioned) return 'restricted';
    }
    return 'duplicate';
  }

  /** On X a conversation is the thread: on a post, its conversation; otherwise a new root post titled `title`. */
  private async thread(action: ActionOf<'thread'>): Promise<ActionResult> {
    const title = action.title ?? action.text;
    if (action.messageId) {
      const sent = title ? await this.send({ v: action.v, id: action.id, platform: action.platform, chat: action.chat, priority: action.priority, format: action.format, type: 'send', text: title, replyTo: action.messageId }) : undefined;
      try {
        const t = await this.client!.v2.singleTweet(action.messageId, { 'tweet.fields': ['conversation_id'] });
        // X answers a missing post with 200 and an `errors` list, not a 404.
        if (!t.data) throw new PlatformError({ platform: 'x', method: 'GET /2/tweets/:id', code: 'https://api.twitter.com/2/problems/resource-not-found', scope: 'permanent', message: `x post ${action.messageId} not found` });
        return { chat: chatKey('x', t.data.conversation_id ?? action.messageId), ...(sent?.messageIds ? { messageIds: sent.messageIds } : {}) };
      } catch (err) {
        throw err instanceof PlatformError ? err : toPerformError(err);
      }
    }
    if (!title) throw refused(X_ENDPOINTS.post, 'x thread needs a title or a messageId');
    const text = this.opts.neutralizeMentions ? neutralizeMentions(markdownToPlain(title)) : markdownToPlain(title);
    const parts = splitThread(text, { numbered: false });
    // A retry after a crash finds the root it already posted.
    const progressKey = this.k('progress', action.id);
    const done = await this.deps.store.hget(progressKey, 'root');
    if (done) return { chat: chatKey('x', done), messageIds: [done] };
    try {
      const id = await this.post({ text: parts[0]! });
      await this.deps.store.multi().hset(progressKey, 'root', id).expire(progressKey, PROGRESS_TTL_S).exec();
      return { chat: chatKey('x', id), messageIds: [id] };
    } catch (err) {
      throw err instanceof PlatformError ? err : toPerformError(err);
    }
  }

  private async dm(action: ActionOf<'dm'>): Promise<ActionResult> {
    const userId = this.nativeUser(action.user);
    // X DMs take 10,000 characters; longer answers are cut rather than split into a burst of DMs.
    const text = this.outgoingText(action).slice(0, 10_000);
    if (!text.trim()) throw refused('POST /2/dm_conversations/with/:id/messages', 'x dm without text');
    try {
      // X wraps the result in `data`; the library's type says it does not. Accept both.
      const raw = (await this.client!.v2.sendDmToParticipant(userId, { text })) as unknown as { data?: { dm_conversation_id?: string; dm_event_id?: string } } & { dm_conversation_id?: string; dm_event_id?: string };
      const res = raw.data ?? raw;
      if (!res.dm_event_id || !res.dm_conversation_id) throw new Error('x dm answer without ids');
      return { messageIds: [res.dm_event_id], chat: chatKey('x', res.dm_conversation_id) };
    } catch (err) {
      const e = toPerformError(err);
      this.log.warn({ action: action.id }, `x dm failed: ${e.message}`);
      throw e;
    }
  }

  private async remove(action: ActionOf<'delete'> | ActionOf<'purge'>): Promise<ActionResult> {
    const ids = action.type === 'purge' ? (action.messageIds ?? []) : [action.messageId];
    for (const id of ids) {
      try {
        await this.client!.v2.deleteTweet(id);
      } catch (err) {
        const e = toPerformError(err);
        // Purge goes on past posts that are already gone or not the bot's.
        if (action.type === 'purge' && e instanceof PlatformError && e.final) continue;
        throw e;
      }
    }
    return {};
  }
}

/** Compares numeric X ids (snowflakes exceed 2^53: compare as strings by length, then lexically). */
export function cmpId(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

function maxId(a: string | undefined, b: string): string {
  return a === undefined || cmpId(b, a) > 0 ? b : a;
}

/** Creates the X adapter; nothing connects until `init()`. */
export function createXAdapterImpl(options: XAdapterOptions, deps: AdapterDeps): XAdapter {
  return new XAdapterImpl(options, deps);
}
