/**
 * Slack's Web API rate limits as the fake enforces them: per method per workspace, by tier (Tier 1: 1+/min,
 * Tier 2: 20+/min, Tier 3: 50+/min, Tier 4: 100+/min), and chat.postMessage's special limit of about one message
 * per second per channel with short bursts. A 429 carries `Retry-After` in whole seconds, as Slack sends it.
 */

/** A method's tier; 'post' is chat.postMessage's per-channel limit. */
export type Tier = 1 | 2 | 3 | 4 | 'post';

/** Budgets the fake enforces; every figure can be lowered for a test. */
export interface RateLimitOptions {
  /** Calls per minute per method for each tier (defaults: the documented floors, Tier 1 with a small burst). */
  perMinute?: Partial<Record<1 | 2 | 3 | 4, number>>;
  /** chat.postMessage per channel: a bucket of `burst` that refills `perSecond` (defaults 3 and 1). */
  post?: { burst?: number; perSecond?: number };
}

const DEFAULT_PER_MINUTE = { 1: 5, 2: 20, 3: 50, 4: 100 } as const;

/** The fake's limiter: fixed one-minute windows per method, a token bucket per channel for posting. */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; used: number }>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** 429s answered because a budget ran out (not forced ones). */
  limited = 0;

  constructor(private readonly opts: RateLimitOptions | false) {}

  /** Takes one call from the budget; returns the whole seconds to wait when there is none left. */
  take(method: string, tier: Tier, channel: string | undefined, now = Date.now()): number | undefined {
    if (this.opts === false) return undefined;
    if (tier === 'post') {
      const burst = this.opts.post?.burst ?? 3;
      const rate = this.opts.post?.perSecond ?? 1;
      const key = channel ?? '';
      const b = this.buckets.get(key) ?? { tokens: burst, at: now };
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
      b.at = now;
      this.buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return undefined;
      }
      this.limited++;
      return Math.max(1, Math.ceil((1 - b.tokens) / rate));
    }
    const limit = this.opts.perMinute?.[tier] ?? DEFAULT_PER_MINUTE[tier];
    let w = this.windows.get(method);
    if (!w || now - w.start >= 60_000) {
      w = { start: now, used: 0 };
      this.windows.set(method, w);
    }
    if (w.used < limit) {
      w.used++;
      return undefined;
    }
    this.limited++;
    return Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000));
  }
}
