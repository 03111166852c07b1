/** A real core on a real Redis for tests: config defaults, an isolated prefix, quiet logs. */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ConfigSchema, type Config } from '../../config/schema.js';
import { ActionSchema, type Action } from '../../src/core/actions.js';
import { parseChatEvent, type ChatEventInput } from '../../src/core/events.js';
import type { Platform } from '../../src/core/ids.js';
import { outboundQueueName } from '../../src/queue/names.js';
import type { CoreDeps } from '../../src/pipeline/context.js';
import type { HandleEvent } from '../../src/pipeline/handle-event.js';
import { OutboundQueue } from '../../src/queue/outbound.js';
import { InboundQueue } from '../../src/queue/inbound.js';
import { quietLogger } from '../../src/log.js';
import { isolatedRedis } from './redis.js';
import type { Keys } from '../../src/redis/keys.js';

/** Dependencies for createHandleEvent plus the queues, on an isolated prefix; `cleanup()` removes everything. */
export async function testCore(opts: { config?: Partial<Config>; now?: () => number } = {}): Promise<{
  deps: CoreDeps;
  redis: Redis;
  keys: Keys;
  url: string;
  inbound: InboundQueue;
  outbound: OutboundQueue;
  cleanup: () => Promise<void>;
}> {
  const iso = await isolatedRedis();
  const outbound = new OutboundQueue({ url: iso.url, keys: iso.keys });
  const inbound = new InboundQueue({ url: iso.url, keys: iso.keys });
  const deps: CoreDeps = { redis: iso.redis, keys: iso.keys, config: ConfigSchema.parse(opts.config ?? {}), outbound, log: quietLogger(), now: opts.now ?? Date.now };
  return {
    deps,
    redis: iso.redis,
    keys: iso.keys,
    url: iso.url,
    inbound,
    outbound,
    cleanup: async () => {
      await inbound.close();
      await outbound.close();
      await iso.cleanup();
    },
  };
}

/** Polls until `check` is true or the time runs out (then throws with `what`). */
export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `core.handleEvent` behind the queue border's parse, as a worker runs it: a malformed event throws its reason. */
export function parsedHandler(core: { handleEvent: HandleEvent }): (e: ChatEventInput) => Promise<void> {
  return (e) => {
    const p = parseChatEvent(e);
    if (!p.ok) throw new Error(p.reason);
    return core.handleEvent(p.event);
  };
}

type KeysOfUnion<T> = T extends unknown ? keyof T : never;
type ValueOfUnion<T, K extends PropertyKey> = T extends unknown ? (K extends keyof T ? T[K] : never) : never;
/** An action as tests read it: the union plus every type's fields as optional, so `a.text` reads whatever was queued. */
export type AnyAction = Action & { [K in KeysOfUnion<Action>]?: ValueOfUnion<Action, K> };

/** Every action on a platform's outbound queue (any state), oldest first. */
export async function queuedActions(redis: Redis, keys: Keys, platform: Platform): Promise<AnyAction[]> {
  const q = new Queue(outboundQueueName(platform), { connection: redis, prefix: keys.prefix });
  try {
    const jobs = await q.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed', 'waiting-children']);
    return jobs.sort((a, b) => a.timestamp - b.timestamp || String(a.id).localeCompare(String(b.id))).map((j) => j.data as AnyAction);
  } finally {
    await q.close();
  }
}

/** The fields of an action a test writes: its type and whatever that type carries (checked by the border's schema). */
export type ActionFields = { type: Action['type'] } & Record<string, unknown>;

/** Parses an action as the queue border does: a test cannot hand an adapter what the core could not send. */
export function parseAction(fields: Record<string, unknown>): AnyAction {
  return ActionSchema.parse(fields) as AnyAction;
}
