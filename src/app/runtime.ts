/** One process's shared parts: config, Redis (found or started), queues, logger, metrics. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config, Env } from '../../config/schema.js';
import type { AdapterDeps } from '../core/adapter.js';
import type { Platform } from '../core/ids.js';
import { loadConfig } from '../config/load.js';
import { TownhallMetrics } from '../http/metrics.js';
import { createLogger } from '../log.js';
import type { CoreDeps } from '../pipeline/context.js';
import { DeadLetterStore } from '../queue/dead-letter.js';
import { InboundQueue } from '../queue/inbound.js';
import { OutboundQueue, outboundControl } from '../queue/outbound.js';
import { createRedis, discoverRedis, redactUrl, type SpawnedRedis } from '../redis/connect.js';
import { adapterKeyPrefix, Keys } from '../redis/keys.js';

/** What every command that touches Redis shares. */
export interface Runtime {
  config: Config;
  env: Env;
  url: string;
  keys: Keys;
  redis: Redis;
  log: Logger;
  metrics: TownhallMetrics;
  inbound: InboundQueue;
  outbound: OutboundQueue;
  deadLetters: DeadLetterStore;
  deps: CoreDeps;
  spawned?: SpawnedRedis;
  /** What a platform's adapter gets: the inbound sink, a connection prefixed to its own keys, the runner's control, a logger. */
  adapterDeps(platform: Platform): AdapterDeps;
  close(): Promise<void>;
}

/** Opens the runtime; `spawn` says whether a missing default Redis may be started (start: persistent; sandbox: throwaway). */
export async function openRuntime(opts: {
  configFile?: string | undefined;
  spawn: 'persistent' | 'throwaway' | 'never';
  log?: Logger;
  overrides?: Partial<Config>;
  prefix?: string;
  now?: () => number;
}): Promise<Runtime> {
  const { config, env } = loadConfig({ file: opts.configFile, ...(opts.overrides ? { overrides: opts.overrides } : {}) });
  const log = opts.log ?? createLogger();
  let url: string;
  let spawned: SpawnedRedis | undefined;
  if (opts.spawn === 'never') {
    url = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  } else {
    const found = await discoverRedis({ url: env.REDIS_URL, persistent: opts.spawn === 'persistent' });
    url = found.url;
    spawned = found.spawned;
    if (spawned) log.info({ url: redactUrl(url), persistent: opts.spawn === 'persistent' }, 'started a local redis-server');
  }
  const keys = new Keys(opts.prefix ?? config.redis.prefix);
  const redis = createRedis(url, { name: 'townhall-state' });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const metrics = new TownhallMetrics();
  const inbound = new InboundQueue({ url, keys });
  const outbound = new OutboundQueue({ url, keys });
  const deadLetters = new DeadLetterStore(redis, keys);
  const deps: CoreDeps = { redis, keys, config, outbound, log, now: opts.now ?? Date.now, metrics };
  const stores: Redis[] = [];
  const adapterDeps = (platform: Platform): AdapterDeps => {
    const store = createRedis(url, { name: `townhall-adapter-${platform}`, keyPrefix: adapterKeyPrefix(keys, platform) });
    stores.push(store);
    return { sink: inbound, store, outbound: outboundControl(redis, keys, platform), log: log.child({ platform }) };
  };
  return {
    config,
    env,
    url,
    keys,
    redis,
    log,
    metrics,
    inbound,
    outbound,
    deadLetters,
    deps,
    ...(spawned ? { spawned } : {}),
    adapterDeps,
    close: async () => {
      await Promise.allSettled([inbound.close(), outbound.close()]);
      for (const s of stores) s.disconnect();
      redis.disconnect();
      await spawned?.stop();
    },
  };
}
