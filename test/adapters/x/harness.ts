/** Test wiring for the X adapter: the fake, a recording sink on real Redis, and an adapter pointed at the fake. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AdapterDeps, InboundSink } from '../../../adapters/types.js';
import { createXAdapter, type XAdapter, type XAdapterOptions } from '../../../adapters/x/index.js';
import type { ChatEventInput } from '../../../src/core/events.js';
import type { Keys } from '../../../src/redis/keys.js';
import { quietLogger } from '../../../src/log.js';

/** Credentials the fake checks, so a test proves the adapter sends what it was given. */
export const FAKE_X_CREDENTIALS = {
  appKey: 'fake-app-key',
  appSecret: 'fake-app-secret-DO-NOT-LOG',
  accessToken: 'fake-access-token',
  accessSecret: 'fake-access-secret-DO-NOT-LOG',
} as const;

/**
 * An in-test InboundSink that behaves like the real one where it matters: publish resolves only after
 * Redis has the events, and an event id already stored is not stored again (the queue's job-id dedupe).
 */
export class RecordingSink implements InboundSink {
  /** Every event handed to publish, duplicates included, in order. */
  readonly received: ChatEventInput[] = [];
  /** Calls left that will fail before storing anything (a Redis outage). */
  failures = 0;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  async publish(events: ChatEventInput[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('sink unavailable');
    }
    const tx = this.redis.multi();
    for (const e of events) tx.hsetnx(this.key, e.id, JSON.stringify(e)).rpush(`${this.key}:order`, e.id);
    await tx.exec();
    this.received.push(...events);
    this.waiters = this.waiters.filter((w) => (this.received.length >= w.n ? (w.resolve(), false) : true));
  }

  /** Distinct events stored, by id. */
  async stored(): Promise<Map<string, ChatEventInput>> {
    const h = await this.redis.hgetall(this.key);
    return new Map(Object.entries(h).map(([k, v]) => [k, JSON.parse(v) as ChatEventInput]));
  }

  /** Resolves once `n` events were received in total (or rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs = 5000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${n} events, got ${this.received.length}`)), timeoutMs);
      this.waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
    });
  }
}

/** An adapter on the fake with fast timings; `extra` overrides any option. */
export function fakeXAdapter(
  fakeUrl: string,
  deps: { redis: Redis; keys: Keys; sink: InboundSink; log?: Logger },
  extra: Partial<XAdapterOptions> = {},
): XAdapter {
  const adapterDeps: AdapterDeps = { sink: deps.sink, redis: deps.redis, keys: deps.keys, log: deps.log ?? quietLogger() };
  return createXAdapter(
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
    adapterDeps,
  );
}
