/**
 * Slack's per-method rate limits, kept by the adapter before Slack sees a call. Slack limits each Web API method per
 * workspace by tier (Tier 1 ≈ 1/min, 2 ≈ 20/min, 3 ≈ 50/min, 4 ≈ 100/min); chat.postMessage instead allows about one
 * message per second per channel, which the outbound runner's per-chat budget keeps. The counts live in the adapter's
 * store, so every process that sends for the bot shares them; a 429 from Slack closes the method for its Retry-After.
 */
import type { AdapterStore } from '../../src/core/index.js';

/** A Web API method's tier; 'post' is chat.postMessage's per-channel limit (the runner's budget). */
export type Tier = 1 | 2 | 3 | 4 | 'post';

/** The methods the adapter calls, by tier (Slack's method reference pages). */
export const METHOD_TIERS: Readonly<Record<string, Tier>> = {
  'chat.postMessage': 'post',
  'chat.postEphemeral': 4,
  'chat.update': 3,
  'chat.delete': 3,
  'reactions.add': 3,
  'reactions.remove': 2,
  'pins.add': 2,
  'conversations.history': 3,
  'conversations.replies': 3,
  'conversations.info': 3,
  'conversations.open': 3,
  'conversations.join': 3,
  'conversations.kick': 3,
  'users.info': 4,
  'auth.test': 4,
};

/** Calls per minute the adapter allows itself per method: a little under Slack's documented floor for each tier. */
export const TIER_PER_MINUTE: Readonly<Record<1 | 2 | 3 | 4, number>> = { 1: 1, 2: 18, 3: 45, 4: 90 };

/**
 * One fixed window per method (started by its first call, a minute long), and a block set by a 429: returns 0 when the
 * call may go now, else the milliseconds until it may.
 */
const TAKE_LUA = `
local blocked = redis.call('pttl', KEYS[2])
if blocked > 0 then return blocked end
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('pexpire', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then
  redis.call('decr', KEYS[1])
  local left = redis.call('pttl', KEYS[1])
  if left < 0 then redis.call('pexpire', KEYS[1], ARGV[2]) left = tonumber(ARGV[2]) end
  return left
end
return 0`;

/** The per-method budgets of one Slack workspace, shared by every process through the adapter's store. */
export class MethodBudgets {
  constructor(
    private readonly store: AdapterStore,
    private readonly perMinute: Readonly<Record<1 | 2 | 3 | 4, number>> = TIER_PER_MINUTE,
    private readonly windowMs = 60_000,
  ) {}

  /** Takes one call of `method`; 0 when it may go now, else how long to wait (nothing is taken then). */
  async take(method: string): Promise<number> {
    const tier = METHOD_TIERS[method];
    if (tier === undefined || tier === 'post') return 0;
    const wait = Number(await this.store.eval(TAKE_LUA, 2, `tier:${method}`, `tier-block:${method}`, this.perMinute[tier], this.windowMs));
    return wait > 0 ? wait : 0;
  }

  /** Slack answered 429 for `method`: nobody calls it again before `ms` have passed. */
  async block(method: string, ms: number): Promise<void> {
    if (METHOD_TIERS[method] === 'post') return; // per channel: the runner holds that chat
    await this.store.set(`tier-block:${method}`, '1', 'PX', Math.max(1, Math.ceil(ms)));
  }
}
