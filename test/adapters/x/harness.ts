/** Test wiring for the X adapter: the fake, a durable test sink on real Redis, and adapters pointed at the fake. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createXAdapter, type XAdapter, type XAdapterOptions } from '../../../adapters/x/index.js';
import type { InboundSink } from '../../../src/core/index.js';
import type { Keys } from '../../../src/redis/keys.js';
import { startXFake, type XFake, type XFakeOptions } from '../../../fakes/x/index.js';
import { adapterDeps, durableSink, type TestSink } from '../../helpers/adapter.js';
import { isolatedRedis } from '../../helpers/redis.js';

/** Credentials the fake checks, so a test proves the adapter sends what it was given. */
export const FAKE_X_CREDENTIALS = {
  appKey: 'fake-app-key',
  appSecret: 'fake-app-secret-DO-NOT-LOG',
  accessToken: 'fake-access-token',
  accessSecret: 'fake-access-secret-DO-NOT-LOG',
} as const;

/** An adapter on the fake with fast timings; `extra` overrides any option. `closeStore()` drops its store's connection. */
export function fakeXAdapter(
  fakeUrl: string,
  deps: { redis: Redis; keys: Keys; sink: InboundSink; log?: Logger },
  extra: Partial<XAdapterOptions> = {},
): XAdapter & { closeStore(): void } {
  const d = adapterDeps('x', { keys: deps.keys, redis: deps.redis, sink: deps.sink, ...(deps.log ? { log: deps.log } : {}) });
  const adapter = createXAdapter(
    {
      credentials: { ...FAKE_X_CREDENTIALS },
      apiBaseUrl: fakeUrl,
      pollIntervalMs: 30,
      minPollIntervalMs: 10,
      maxPollIntervalMs: 5_000,
      searchIntervalMs: 30,
      likesIntervalMs: 30,
      errorBackoffMs: 20,
      maxErrorBackoffMs: 200,
      rateLimitMarginMs: 10,
      requestTimeoutMs: 3_000,
      pageSize: 10,
      ...extra,
    },
    d,
  );
  return Object.assign(adapter, { closeStore: () => d.close() });
}

/** One fake X, an isolated Redis prefix with a durable test sink, and `make()` for adapters on them; `close()` ends all. */
export interface XRig {
  fake: XFake;
  sink: TestSink;
  redis: Redis;
  keys: Keys;
  /** An adapter on the fake (not yet initialized); `extra` and `more` override the fast test timings. */
  make(more?: Partial<XAdapterOptions>): XAdapter;
  close(): Promise<void>;
}

/** Starts the fake (checking the test credentials) and the prefix; adapters come from `make`. */
export async function xRig(opts: { extra?: Partial<XAdapterOptions> | ((fake: XFake) => Partial<XAdapterOptions>); fakeOpts?: XFakeOptions; log?: Logger } = {}): Promise<XRig> {
  const fake = await startXFake({
    defaultRateLimit: { limit: 100_000, windowMs: 60_000 },
    credentials: { appKey: FAKE_X_CREDENTIALS.appKey, accessToken: FAKE_X_CREDENTIALS.accessToken },
    ...opts.fakeOpts,
  });
  const r = await isolatedRedis();
  const sink = durableSink(r.redis, r.keys);
  const adapters: ReturnType<typeof fakeXAdapter>[] = [];
  const extra = typeof opts.extra === 'function' ? opts.extra(fake) : opts.extra;
  return {
    fake,
    sink,
    redis: r.redis,
    keys: r.keys,
    make: (more = {}) => {
      const a = fakeXAdapter(fake.url, { redis: r.redis, keys: r.keys, sink, ...(opts.log ? { log: opts.log } : {}) }, { ...extra, ...more });
      adapters.push(a);
      return a;
    },
    close: async () => {
      for (const a of adapters) {
        await a.stop().catch(() => undefined);
        a.closeStore();
      }
      await fake.close();
      await r.cleanup();
    },
  };
}
