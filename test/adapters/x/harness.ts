/** Test wiring for the X adapter: the fake, a recording sink on real Redis, and an adapter pointed at the fake. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createXAdapter, type XAdapter, type XAdapterOptions } from '../../../adapters/x/index.js';
import type { InboundSink } from '../../../src/core/index.js';
import type { Keys } from '../../../src/redis/keys.js';
import { adapterDeps } from '../../helpers/adapter.js';

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
