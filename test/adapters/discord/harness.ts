/** Test wiring: a fake Discord, a real Redis under a unique prefix, and the real adapter (discord.js) pointed at the fake. */
import type { Redis } from 'ioredis';
import { createDiscordAdapter, type DiscordAdapter, type DiscordAdapterOptions } from '../../../adapters/discord/index.js';
import type { InboundSink } from '../../../src/core/index.js';
import type { Keys } from '../../../src/redis/keys.js';
import { adapterDeps, durableSink, type TestSink } from '../../helpers/adapter.js';
import { isolatedRedis } from '../../helpers/redis.js';
import { startDiscordFake, type DiscordFake, type DiscordFakeOptions } from '../../../fakes/discord/index.js';

/** Everything a Discord adapter test needs. */
export interface DiscordHarness {
  fake: DiscordFake;
  adapter: DiscordAdapter;
  sink: InboundSink;
  /** The durable test sink (the adapter's sink unless the test gave its own). */
  recorder: TestSink;
  redis: Redis;
  keys: Keys;
  url: string;
  /** Stops the adapter, the fake and cleans Redis. */
  close(): Promise<void>;
}

/** Test timings: fast identify, short waits, so a test file takes seconds. */
export const FAST: Partial<DiscordAdapterOptions> = {
  identifyIntervalMs: 50,
  publishRetryMs: 50,
  stopTimeoutMs: 2000,
  readyTimeoutMs: 5000,
  inlineRateLimitWaitMs: 100,
  restRetries: 1,
  restTimeoutMs: 5000,
};

/** Starts the fake and the adapter (and its gateway connection unless `inbound: false`). */
export async function discordHarness(
  opts: { fake?: DiscordFakeOptions; adapter?: Partial<DiscordAdapterOptions>; inbound?: boolean; sink?: (h: { redis: Redis; keys: Keys; url: string }) => InboundSink; setup?: (fake: DiscordFake) => void } = {},
): Promise<DiscordHarness> {
  const fake = await startDiscordFake({ token: 'test-bot-token', ...opts.fake });
  opts.setup?.(fake);
  const r = await isolatedRedis();
  const recorder = durableSink(r.redis, r.keys);
  const sink = opts.sink ? opts.sink({ redis: r.redis, keys: r.keys, url: r.url }) : recorder;
  const deps = adapterDeps('discord', { keys: r.keys, redis: r.redis, sink });
  const adapter = createDiscordAdapter({ token: 'test-bot-token', apiBaseUrl: fake.url, registerCommands: 'global', ...FAST, ...opts.adapter }, deps);
  const close = async () => {
    await adapter.stop().catch(() => undefined);
    await fake.close();
    deps.close();
    await r.cleanup();
  };
  try {
    await adapter.init();
    if (opts.inbound !== false) await adapter.startInbound();
  } catch (err) {
    await close();
    throw err;
  }
  return {
    fake,
    adapter,
    sink,
    recorder,
    redis: r.redis,
    keys: r.keys,
    url: r.url,
    close,
  };
}
