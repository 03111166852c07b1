/**
 * One limiter for every credential check (bearer tokens on /api, /metrics and the queue board; tokens and codes at
 * /login), shared by every process through Redis. A check first takes a point from its source's bucket in one
 * atomic step (rate-limiter-flexible's Lua), so parallel guesses cannot all slip in before the count catches up;
 * a correct credential gives the point back. The admin token is compared right after the source's bucket: a
 * global bucket, taken before anything else is looked up, caps what all sources together may try, but it never
 * stands between the admin and their token — and neither does another source's lock-out.
 */
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Keys } from '../redis/keys.js';

/** Bucket sizes: failed checks allowed per window, per source and for all sources together. */
export interface CredentialLimits {
  perSource: { points: number; seconds: number };
  global: { points: number; seconds: number };
}

/** Defaults: 10 failures per source per 10 minutes; 600 per minute from everyone. */
export const DEFAULT_CREDENTIAL_LIMITS: CredentialLimits = { perSource: { points: 10, seconds: 600 }, global: { points: 600, seconds: 60 } };

/** A check's admission: go ahead (and `settle` afterwards), or refused with the seconds to wait. */
export type Admission = { ok: true } | { ok: false; retryAfterS: number };

/** The limiter. */
export class CredentialLimiter {
  private readonly perSource: RateLimiterRedis;
  private readonly global: RateLimiterRedis;

  constructor(redis: Redis, keys: Keys, limits: CredentialLimits = DEFAULT_CREDENTIAL_LIMITS) {
    this.perSource = new RateLimiterRedis({ storeClient: redis, keyPrefix: keys.k('rl', 'cred', 'src'), points: limits.perSource.points, duration: limits.perSource.seconds });
    this.global = new RateLimiterRedis({ storeClient: redis, keyPrefix: keys.k('rl', 'cred', 'all'), points: limits.global.points, duration: limits.global.seconds });
  }

  /** Takes a point from the source's bucket; refused (and nothing compared) when it is empty. */
  admitSource(source: string): Promise<Admission> {
    return take(this.perSource, source);
  }

  /** Takes a point from the global bucket, for checks that go past the admin token (a lookup in Redis). */
  admitGlobal(): Promise<Admission> {
    return take(this.global, 'all');
  }

  /** A correct credential: the points its check took are given back. */
  async succeeded(source: string, tookGlobal: boolean): Promise<void> {
    await Promise.all([this.perSource.reward(source, 1), tookGlobal ? this.global.reward('all', 1) : undefined]);
  }
}

async function take(limiter: RateLimiterRedis, key: string): Promise<Admission> {
  try {
    await limiter.consume(key, 1);
    return { ok: true };
  } catch (err) {
    if (err instanceof RateLimiterRes) return { ok: false, retryAfterS: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
    throw err;
  }
}
