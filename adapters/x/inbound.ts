/**
 * Receiving from X: mentions of the bot and the tracked hashtags, polled (or streamed, see stream.ts) from cursors in
 * the adapter's store, and likes on question posts (likes.ts). Each page is published before its cursor moves past
 * it: a crash re-reads at most one page (same event ids) and never skips one. Polling adapts to the read budget.
 */
import type { TwitterApi } from 'twitter-api-v2';
import { ChatEventSchema, type AdapterStore, type ChatEventInput } from '../../src/core/index.js';
import { backoffMs, sleep } from '../kit/index.js';
import { adaptivePollInterval, msUntilNextPeriod } from './budget.js';
import { cmpId, EXPANSIONS, maxId, storeKey, TWEET_FIELDS, USER_FIELDS, X_ENDPOINTS, type XContext } from './context.js';
import { summarizeXError } from './errors.js';
import { cleanHashtags, HASHTAGS_KEY, trackXHashtags, untrackXHashtags } from './hashtags.js';
import { pollLikes } from './likes.js';
import { normalizePost, XPostSchema, XUserSchema, type XPost, type XSource, type XUser } from './normalize.js';
import { XStream } from './stream.js';

/**
 * Moves a sweep's cursor (a hash: `since`, `start`, and `token`/`newest` while a paged sweep is unfinished) forward to
 * an id — unless a paged sweep is half done, whose `token` would then skip posts. The kit's CursorStore has no such
 * guard, which is why X keeps this one.
 */
const ADVANCE_CURSOR_LUA = `
if redis.call('hexists', KEYS[1], 'token') == 1 then return 0 end
local cur = redis.call('hget', KEYS[1], 'since')
local id = ARGV[1]
if cur and (#cur > #id or (#cur == #id and cur >= id)) then return 0 end
redis.call('hset', KEYS[1], 'since', id)
redis.call('hdel', KEYS[1], 'start')
return 1`;

/** Moves the sweep cursor at `key` forward to `id` (see ADVANCE_CURSOR_LUA). */
export async function advanceCursor(store: AdapterStore, key: string, id: string): Promise<void> {
  await store.eval(ADVANCE_CURSOR_LUA, 1, key, id);
}

/** One of the polls, with when it is due and how often it failed in a row. */
export interface XTask {
  name: 'mentions' | 'search' | 'likes';
  nextAt: number;
  failures: number;
}

/** A page of a v2 timeline after validation. */
export interface Page {
  posts: XPost[];
  users: Map<string, XUser>;
  newestId?: string;
  nextToken?: string;
}

/** The polls (and the stream, when configured) that publish what X says to the bot. */
export class XInbound {
  readonly tasks: XTask[] = [
    { name: 'mentions', nextAt: 0, failures: 0 },
    { name: 'search', nextAt: 0, failures: 0 },
    { name: 'likes', nextAt: 0, failures: 0 },
  ];
  /** Tasks whose cursors the stream may not move until their catch-up sweep after a (re)connect has finished. */
  readonly frozen = new Set<XTask['name']>();
  /** The filtered stream, when configured and available. */
  stream: XStream | undefined;
  /** Mention polling works (X answered); false after three failures in a row. */
  connected = true;
  /** Set when X refused the credentials while polling. */
  fatal: string | undefined;
  lastPollError: string | undefined;
  lastPollAt: number | undefined;
  /** Set when X refused to list likers (access level): likes stop counting as votes. */
  likesOff: string | undefined;
  /** Why the stream is not used, when it was asked for. */
  streamNote: string | undefined;
  pollIntervalMs: number;
  private readonly tagSweptAt = new Map<string, number>();
  private readsPerPoll = 1;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private waking: AbortController | undefined;

  constructor(private readonly ctx: XContext) {
    this.pollIntervalMs = ctx.opts.pollIntervalMs;
  }

  /** Starts the stream (when configured) and the poll loop. */
  async start(): Promise<void> {
    if (this.loop) return;
    this.stopped = false;
    if (this.ctx.opts.inbound === 'stream') {
      const stream = new XStream(this.ctx, this);
      await stream.start();
      if (stream.connected) this.stream = stream;
      else this.streamNote = stream.note;
    }
    this.loop = this.runLoop();
  }

  /** Stops: the current poll and the stream's current publish finish first. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.stream?.stop();
    this.stream = undefined;
    await this.loop;
    this.loop = undefined;
  }

  /** Cuts the loop's wait short (a task became due). */
  wake(): void {
    this.waking?.abort();
  }

  private async runLoop(): Promise<void> {
    while (!this.stopped) {
      await this.pollOnce();
      if (this.stopped) break;
      const next = Math.min(...this.tasks.map((t) => t.nextAt));
      // wake() cuts the wait short: a new hashtag, the stream going up or down, stop().
      this.waking = new AbortController();
      await sleep(Math.max(0, next - Date.now()), this.waking.signal);
    }
  }

  /** Runs every poll that is due now (mentions, hashtags, likes) and returns. */
  async pollOnce(): Promise<void> {
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
        this.ctx.counters.pollErrors++;
        const s = summarizeXError(err);
        const backoff = backoffMs(task.failures, { baseMs: this.ctx.opts.errorBackoffMs, maxMs: this.ctx.opts.maxErrorBackoffMs });
        // After a 429 the window's reset decides; otherwise back off exponentially.
        const gate = s.status === 429 ? this.ctx.budgets.waitMs(this.endpointOf(task)) : 0;
        task.nextAt = Date.now() + Math.max(backoff, gate);
        this.ctx.log.warn({ task: task.name, status: s.status, failures: task.failures, retryInMs: task.nextAt - Date.now() }, `x poll failed: ${s.message}`);
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

  private endpointOf(task: XTask): string {
    return task.name === 'mentions' ? X_ENDPOINTS.mentions : task.name === 'search' ? X_ENDPOINTS.search : X_ENDPOINTS.likingUsers;
  }

  /** Runs one task; returns ms until it is due again. */
  private async runTask(task: XTask): Promise<number> {
    if (task.name === 'mentions') return this.pollMentions();
    if (task.name === 'search') return this.pollSearches();
    if (!this.ctx.opts.likesAsVotes || this.likesOff) return 24 * 3600_000;
    return pollLikes(this.ctx, () => this.stopped);
  }

  private async pollMentions(): Promise<number> {
    const me = this.ctx.me;
    const client = this.ctx.client;
    const readsBefore = this.ctx.budgets.readsLeft();
    const result = await this.sweep('mentions', storeKey('cursor', 'mentions'), X_ENDPOINTS.mentions, async (q) => {
      const p = await client.v2.userMentionTimeline(me.id, {
        ...q,
        expansions: EXPANSIONS,
        'tweet.fields': TWEET_FIELDS,
        'user.fields': USER_FIELDS,
        max_results: this.ctx.opts.pageSize,
      } as Parameters<TwitterApi['v2']['userMentionTimeline']>[1]);
      return p.data as unknown;
    });
    this.ctx.counters.polls++;
    this.lastPollAt = Date.now();
    this.readsPerPoll = 0.8 * this.readsPerPoll + 0.2 * Math.max(1, result.posts);
    const now = Date.now();
    this.pollIntervalMs = adaptivePollInterval({
      baseMs: this.ctx.opts.pollIntervalMs,
      minMs: Math.min(this.ctx.opts.minPollIntervalMs, this.ctx.opts.pollIntervalMs),
      maxMs: this.ctx.opts.maxPollIntervalMs,
      now,
      readsLeft: readsBefore === undefined ? undefined : this.ctx.budgets.readsLeft(),
      readsPerPoll: this.readsPerPoll,
      window: this.ctx.budgets.window(X_ENDPOINTS.mentions),
    });
    // A backlog left by maxPagesPerPoll is fetched at the next allowed moment, not a full interval later.
    // While the stream is up, polling is only a safety net.
    const interval = result.backlog ? this.ctx.opts.minPollIntervalMs : this.stream?.up ? this.ctx.opts.maxPollIntervalMs : this.pollIntervalMs;
    if (!result.backlog && result.waitMs === 0) this.frozen.delete('mentions');
    return Math.max(interval, result.waitMs);
  }

  /** The hashtags searched: configured ones and those an AMA follows (any process's 'listen' action), lowercase. */
  async hashtags(): Promise<string[]> {
    const tracked = await this.ctx.deps.store.smembers(HASHTAGS_KEY);
    return [...new Set([...this.ctx.opts.hashtags, ...tracked].map((t) => t.toLowerCase()))].sort();
  }

  /**
   * Searches the tracked hashtags. The tag list is re-read from Redis every searchIntervalMs (free: no X call),
   * so an AMA started by any process is picked up. With the stream up, a tag is swept only when new, after a
   * (re)connect, or as the maxPollIntervalMs safety net: the stream delivers the rest.
   */
  private async pollSearches(): Promise<number> {
    const client = this.ctx.client;
    const tags = await this.hashtags();
    if (this.stream && tags.join(',') !== this.stream.syncedTags) await this.stream.syncRulesQuietly();
    for (const t of this.tagSweptAt.keys()) if (!tags.includes(t)) this.tagSweptAt.delete(t);
    if (tags.length === 0) {
      this.frozen.delete('search');
      return this.ctx.opts.searchIntervalMs;
    }
    let wait = 0;
    let backlog = false;
    const now = Date.now();
    for (const tag of tags) {
      if (this.stopped) break;
      const swept = this.tagSweptAt.get(tag);
      if (this.stream?.up && !this.frozen.has('search') && swept !== undefined && swept > now - this.ctx.opts.maxPollIntervalMs) continue;
      const r = await this.sweep('search', storeKey('cursor', 'search', tag), X_ENDPOINTS.search, async (q) => {
        const { pagination_token: token, ...rest } = q;
        const p = await client.v2.search(`#${tag} -is:retweet`, {
          ...rest,
          ...(token ? { next_token: token } : {}),
          expansions: EXPANSIONS,
          'tweet.fields': TWEET_FIELDS,
          'user.fields': USER_FIELDS,
          max_results: Math.max(10, this.ctx.opts.pageSize),
        } as Parameters<TwitterApi['v2']['search']>[1]);
        return p.data as unknown;
      });
      wait = Math.max(wait, r.waitMs);
      backlog ||= r.backlog;
      if (!r.backlog && r.waitMs === 0) this.tagSweptAt.set(tag, now);
    }
    if (!backlog && wait === 0 && !this.stopped) this.frozen.delete('search');
    if (backlog) return Math.max(this.ctx.opts.minPollIntervalMs, wait);
    return Math.max(this.ctx.opts.searchIntervalMs, wait);
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
    const redis = this.ctx.deps.store;
    const cur = await redis.hgetall(key);
    const startedAt = Date.now();
    let token = cur.token;
    let newest = cur.newest;
    const since = cur.since;
    const start = cur.start ?? new Date(startedAt - this.ctx.opts.firstPollLookbackMs).toISOString();
    let total = 0;
    for (let page = 0; page < this.ctx.opts.maxPagesPerPoll; page++) {
      const wait = await this.ctx.budgets.sharedWaitMs(endpoint);
      if (wait > 0) {
        this.ctx.log.info({ endpoint, waitMs: wait }, 'x rate-limit window spent: pausing until its reset');
        return { posts: total, waitMs: wait, backlog: Boolean(token) };
      }
      const left = this.ctx.budgets.readsLeft();
      if (left !== undefined && left <= 0) return { posts: total, waitMs: Math.min(msUntilNextPeriod(Date.now()), this.ctx.opts.maxPollIntervalMs), backlog: Boolean(token) };
      const q: { since_id?: string; start_time?: string; pagination_token?: string } = since ? { since_id: since } : { start_time: start };
      if (token) q.pagination_token = token;
      const body = await fetch(q);
      const parsed = this.parsePage(body);
      total += parsed.posts.length;
      await this.ctx.budgets.addReads(parsed.posts.length);
      const events = this.toEvents(parsed, source);
      if (events.length) {
        await this.ctx.deps.sink.publish(events);
        this.ctx.counters.published += events.length;
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
  parsePage(body: unknown): Page {
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
        this.ctx.counters.malformed++;
        const id = typeof (item as { id?: unknown })?.id === 'string' ? (item as { id: string }).id.slice(0, 40) : undefined;
        this.ctx.log.warn({ id, reason: `${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? 'invalid'}` }, 'x post skipped: malformed');
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

  /** Normalized, valid events of a page, oldest first, without the bot's own posts and reposts. */
  toEvents(page: Page, source: XSource): ChatEventInput[] {
    const me = this.ctx.me;
    const now = Date.now();
    const events: ChatEventInput[] = [];
    // Oldest first: the order people wrote in.
    for (const post of [...page.posts].sort((a, b) => cmpId(a.id, b.id))) {
      if (post.author_id === me.id) {
        this.ctx.counters.ownPosts++;
        continue;
      }
      if (post.referenced_tweets?.some((r) => r.type === 'retweeted')) {
        this.ctx.counters.reposts++;
        continue;
      }
      const event = normalizePost(post, { users: page.users, botUserId: me.id, isAdmin: (u, n, c) => this.ctx.isAdmin(u, n, c), source, now });
      const check = ChatEventSchema.safeParse(event);
      if (!check.success) {
        this.ctx.counters.malformed++;
        this.ctx.log.warn({ id: post.id, reason: check.error.issues[0]?.message }, 'x post skipped: not a valid event');
        continue;
      }
      events.push(event);
    }
    return events;
  }

  /** Starts searching these hashtags (an AMA's), shared through the store with every process. */
  async trackHashtags(tags: string[]): Promise<void> {
    if (cleanHashtags(tags).length === 0) return;
    await trackXHashtags(this.ctx.deps.store, tags);
    if (this.stream) await this.stream.syncRulesQuietly();
    for (const t of this.tasks) if (t.name === 'search') t.nextAt = 0;
    this.wake();
  }

  /** Stops searching these hashtags. */
  async untrackHashtags(tags: string[]): Promise<void> {
    await untrackXHashtags(this.ctx.deps.store, tags);
    if (this.stream) await this.stream.syncRulesQuietly();
  }
}
