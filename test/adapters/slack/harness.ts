/** Test wiring: a fake Slack, a real Redis under a unique prefix, and the real adapter (WebClient, SocketModeClient) pointed at it. */
import type { Redis } from 'ioredis';
import { createSlackAdapter, type SlackAdapter, type SlackAdapterOptions } from '../../../adapters/slack/index.js';
import { startSlackFake, type SlackFake, type SlackFakeOptions } from '../../../fakes/slack/index.js';
import type { AdapterDeps, InboundSink } from '../../../src/core/index.js';
import type { Keys } from '../../../src/redis/keys.js';
import { adapterDeps, durableSink, type TestSink } from '../../helpers/adapter.js';
import { isolatedRedis } from '../../helpers/redis.js';

/** Everything a Slack adapter test needs. */
export interface SlackHarness {
  fake: SlackFake;
  adapter: SlackAdapter;
  /** The durable test sink (the adapter's sink unless the test gave its own). */
  recorder: TestSink;
  deps: AdapterDeps;
  redis: Redis;
  keys: Keys;
  url: string;
  /** The team id of the fake workspace, for chat ids. */
  team: string;
  /** Stops the adapter and starts a new one on the same store and sink (a restart). */
  restart(adapter?: Partial<SlackAdapterOptions>): Promise<SlackAdapter>;
  /** Stops the adapter, the fake and cleans Redis. */
  close(): Promise<void>;
}

/** Test timings: quick publish retries and stops. */
export const FAST: Partial<SlackAdapterOptions> = {
  publishRetry: { baseMs: 20, maxMs: 100 },
  stopTimeoutMs: 2000,
  requestTimeoutMs: 5000,
};

/** Starts the fake and the adapter (receiving through Socket Mode unless `inbound: false`). */
export async function slackHarness(
  opts: { fake?: SlackFakeOptions; adapter?: Partial<SlackAdapterOptions>; inbound?: boolean; sink?: (h: { redis: Redis; keys: Keys; url: string }) => InboundSink; setup?: (fake: SlackFake) => void } = {},
): Promise<SlackHarness> {
  const fake = await startSlackFake(opts.fake);
  opts.setup?.(fake);
  const r = await isolatedRedis();
  const recorder = durableSink(r.redis, r.keys);
  const sink = opts.sink ? opts.sink({ redis: r.redis, keys: r.keys, url: r.url }) : recorder;
  const deps = adapterDeps('slack', { keys: r.keys, redis: r.redis, sink });
  const make = (extra: Partial<SlackAdapterOptions> = {}) => createSlackAdapter({ botToken: fake.tokens.bot, appToken: fake.tokens.app, apiUrl: fake.url, ...FAST, ...opts.adapter, ...extra }, deps);
  const h: SlackHarness = {
    fake,
    adapter: make(),
    recorder,
    deps,
    redis: r.redis,
    keys: r.keys,
    url: r.url,
    team: fake.teamId,
    restart: async (extra) => {
      await h.adapter.stop();
      h.adapter = make(extra);
      await h.adapter.init();
      if (opts.inbound !== false) await h.adapter.startInbound();
      return h.adapter;
    },
    close: async () => {
      await h.adapter.stop().catch(() => undefined);
      await fake.close();
      deps.close();
      await r.cleanup();
    },
  };
  try {
    await h.adapter.init();
    if (opts.inbound !== false) await h.adapter.startInbound();
  } catch (err) {
    await h.close();
    throw err;
  }
  return h;
}
