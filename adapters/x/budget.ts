/** X's two kinds of limit: rate-limit windows reported by every response, and monthly read/post budgets kept in Redis. */
import type { AdapterStore } from '../../src/core/index.js';
import type { RateLimitObservation } from './client.js';

/** One endpoint family's window as last reported. */
export interface RateWindow {
  limit: number;
  remaining: number;
  resetAt: number;
}

/** The UTC month a time falls in, as 'YYYY-MM' (X's budgets reset monthly). */
export function budgetPeriod(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}

/** Ms from `now` to the start of the next UTC month. */
export function msUntilNextPeriod(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - now;
}

/**
 * The next poll interval: the base, stretched so the monthly read budget lasts the month and the
 * rate-limit window lasts until its reset, then clamped. Polling faster than the base is never chosen.
 */
export function adaptivePollInterval(i: {
  baseMs: number;
  minMs: number;
  maxMs: number;
  now: number;
  /** Reads left this month; undefined = no budget configured. */
  readsLeft?: number | undefined;
  /** Average posts returned per poll (what a poll costs). */
  readsPerPoll: number;
  /** The polled endpoint's window, when known. */
  window?: RateWindow | undefined;
}): number {
  let ms = i.baseMs;
  if (i.readsLeft !== undefined) {
    if (i.readsLeft <= 0) return i.maxMs;
    const sustainable = (msUntilNextPeriod(i.now) * Math.max(i.readsPerPoll, 1)) / i.readsLeft;
    ms = Math.max(ms, sustainable);
  }
  if (i.window && i.window.resetAt > i.now && i.window.remaining > 0) {
    ms = Math.max(ms, (i.window.resetAt - i.now) / i.window.remaining);
  }
  return Math.round(Math.min(i.maxMs, Math.max(i.minMs, ms)));
}

/** Rate-limit windows (in memory, mirrored to Redis for other processes) and the monthly counters. */
export class XBudgets {
  private readonly windows = new Map<string, RateWindow>();
  private used = { reads: 0, posts: 0, requests: 0 };
  private period = '';
  private readonly windowsKey: string;

  constructor(
    private readonly redis: AdapterStore,
    private readonly monthly: { monthlyReads?: number | undefined; monthlyPosts?: number | undefined },
    private readonly marginMs: number,
  ) {
    this.windowsKey = 'ratelimit';
  }

  private periodKey(now = Date.now()): string {
    return `budget:${budgetPeriod(now)}`;
  }

  /** Records what a response said; best effort into Redis so every process sees the same window. */
  observe(obs: RateLimitObservation): void {
    const w = { limit: obs.limit, remaining: obs.remaining, resetAt: obs.resetAt };
    const prev = this.windows.get(obs.endpoint);
    // Responses can arrive out of order; within one window the lower remaining is the truth.
    if (prev && prev.resetAt === w.resetAt && prev.remaining < w.remaining) return;
    this.windows.set(obs.endpoint, w);
    const ttlMs = Math.max(1000, w.resetAt - Date.now() + 60_000);
    this.redis
      .multi()
      .hset(this.windowsKey, obs.endpoint, JSON.stringify(w))
      .pexpire(this.windowsKey, Math.min(ttlMs, 24 * 3600_000))
      .exec()
      .catch(() => undefined);
    this.used.requests++;
  }

  /** The last window seen for an endpoint family. */
  window(endpoint: string): RateWindow | undefined {
    return this.windows.get(endpoint);
  }

  /** Ms to wait before calling the endpoint again: > 0 only when its window is spent and not yet reset. */
  waitMs(endpoint: string, now = Date.now()): number {
    const w = this.windows.get(endpoint);
    if (!w || w.remaining > 0) return 0;
    const until = w.resetAt + this.marginMs;
    return until > now ? until - now : 0;
  }

  /** Like waitMs, but also reads the window another process may have seen (the outbound side runs anywhere). */
  async sharedWaitMs(endpoint: string, now = Date.now()): Promise<number> {
    const raw = await this.redis.hget(this.windowsKey, endpoint).catch(() => null);
    if (raw) {
      try {
        const w = JSON.parse(raw) as RateWindow;
        const mine = this.windows.get(endpoint);
        if (typeof w.resetAt === 'number' && typeof w.remaining === 'number' && (!mine || w.resetAt > mine.resetAt || (w.resetAt === mine.resetAt && w.remaining < mine.remaining))) {
          this.windows.set(endpoint, w);
        }
      } catch {
        // A corrupt mirror entry only loses the shared view; the local one still applies.
      }
    }
    return this.waitMs(endpoint, now);
  }

  /** Loads this month's counters (at start, and so status shows other processes' use). */
  async refresh(now = Date.now()): Promise<void> {
    const h = await this.redis.hgetall(this.periodKey(now));
    this.period = budgetPeriod(now);
    this.used.reads = Number(h.reads ?? 0) || 0;
    this.used.posts = Number(h.posts ?? 0) || 0;
  }

  /** Counts posts read (X bills per post returned). */
  async addReads(n: number, now = Date.now()): Promise<void> {
    if (n <= 0) return;
    const key = this.periodKey(now);
    const [[, reads]] = (await this.redis.multi().hincrby(key, 'reads', n).expire(key, 40 * 24 * 3600).exec()) as [[null, number]];
    this.period = budgetPeriod(now);
    this.used.reads = reads;
  }

  /** Months reads left, or undefined when unlimited. */
  readsLeft(): number | undefined {
    return this.monthly.monthlyReads === undefined ? undefined : Math.max(0, this.monthly.monthlyReads - this.used.reads);
  }

  /** Posts left this month, or undefined when unlimited. */
  postsLeft(): number | undefined {
    return this.monthly.monthlyPosts === undefined ? undefined : Math.max(0, this.monthly.monthlyPosts - this.used.posts);
  }

  /** Takes one post from the monthly budget atomically across processes; false when none is left. */
  async reservePost(now = Date.now()): Promise<boolean> {
    const key = this.periodKey(now);
    const [[, posts]] = (await this.redis.multi().hincrby(key, 'posts', 1).expire(key, 40 * 24 * 3600).exec()) as [[null, number]];
    if (this.monthly.monthlyPosts !== undefined && posts > this.monthly.monthlyPosts) {
      await this.redis.hincrby(key, 'posts', -1);
      this.used.posts = posts - 1;
      return false;
    }
    this.used.posts = posts;
    return true;
  }

  /** Gives back a reserved post that X did not publish. */
  async refundPost(now = Date.now()): Promise<void> {
    this.used.posts = await this.redis.hincrby(this.periodKey(now), 'posts', -1);
  }

  /** What /readyz and `townhall status` show. */
  snapshot(now = Date.now()): Record<string, unknown> {
    const windows: Record<string, RateWindow & { resetsInMs: number }> = {};
    for (const [k, w] of this.windows) windows[k] = { ...w, resetsInMs: Math.max(0, w.resetAt - now) };
    return {
      period: this.period || budgetPeriod(now),
      reads: { used: this.used.reads, budget: this.monthly.monthlyReads ?? null, left: this.readsLeft() ?? null },
      posts: { used: this.used.posts, budget: this.monthly.monthlyPosts ?? null, left: this.postsLeft() ?? null },
      requestsSeen: this.used.requests,
      rateLimits: windows,
    };
  }
}
