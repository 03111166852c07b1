/**
 * What adapter tests give an adapter, the way the runtime does: a store of the adapter's own keys (a connection with
 * the `{…}:adapter:<platform>:` key prefix on the test's isolated prefix), the outbound runner's control, a logger,
 * and one test sink that keeps what was published (optionally durable in Redis) and can be told to fail or hang.
 */
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { AdapterDeps, ChatEventInput, InboundSink, Platform } from '../../src/core/index.js';
import { quietLogger } from '../../src/log.js';
import { outboundControl } from '../../src/queue/outbound.js';
import { createRedis } from '../../src/redis/connect.js';
import { adapterKeyPrefix, type Keys } from '../../src/redis/keys.js';
import { waitFor } from './core.js';
import { TEST_REDIS_URL } from './redis.js';

/**
 * The one sink adapter tests use. `events`: every event handed to publish, duplicates included, in order. With a
 * Redis `list` key it stores each batch there before resolving (durable, as the real queue is); `failures` makes
 * the next publishes throw (Redis away), `hang` makes them never resolve, `delayMs` slows each one.
 */
export class TestSink implements InboundSink {
  readonly events: ChatEventInput[] = [];
  failures = 0;
  hang = false;
  delayMs = 0;

  constructor(private readonly durable?: { redis: Redis; key: string }) {}

  async publish(events: ChatEventInput[]): Promise<void> {
    if (this.hang) await new Promise(() => undefined);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failures > 0) {
      this.failures--;
      throw new Error('redis is down (test)');
    }
    if (this.durable && events.length) await this.durable.redis.rpush(this.durable.key, ...events.map((e) => JSON.stringify(e)));
    this.events.push(...events);
  }

  /** The first event (published already or later) that matches, or a failure naming what did arrive. */
  async next(pred: (e: ChatEventInput) => boolean, timeoutMs = 10_000, what = 'a matching event'): Promise<ChatEventInput> {
    let found: ChatEventInput | undefined;
    await waitFor(() => (found = this.events.find(pred)) !== undefined, `${what}; got ${this.events.map((e) => `${e.kind}:${e.text ?? ''}`).join(' | ').slice(0, 400)}`, timeoutMs);
    return found!;
  }

  /** Resolves once `n` events were published in total. */
  async count(n: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.events.length >= n, `${n} events (got ${this.events.length})`, timeoutMs);
  }

  /** The events stored in Redis, in order (durable sinks only). */
  async stored(): Promise<ChatEventInput[]> {
    if (!this.durable) return [...this.events];
    return (await this.durable.redis.lrange(this.durable.key, 0, -1)).map((s) => JSON.parse(s) as ChatEventInput);
  }

  /** Distinct stored events by id: what the real queue would hold (it drops a job id it already has). */
  async storedById(): Promise<Map<string, ChatEventInput>> {
    return new Map((await this.stored()).map((e) => [e.id, e]));
  }
}

/** A durable test sink under the isolated prefix. */
export function durableSink(redis: Redis, keys: Keys): TestSink {
  return new TestSink({ redis, key: keys.k('test', 'events') });
}

/** A logger whose lines tests can read (JSON objects). */
export function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

/** An adapter's deps on the test's prefix; `close()` drops the store's connection. */
export function adapterDeps(platform: Platform, opts: { keys: Keys; redis: Redis; sink?: InboundSink; log?: Logger }): AdapterDeps & { close(): void } {
  const store = createRedis(TEST_REDIS_URL, { name: `test-adapter-${platform}`, keyPrefix: adapterKeyPrefix(opts.keys, platform) });
  return {
    sink: opts.sink ?? new TestSink(),
    store,
    outbound: outboundControl(opts.redis, opts.keys, platform),
    log: opts.log ?? quietLogger(),
    close: () => store.disconnect(),
  };
}

/** A key of the adapter's own store, as the core's connection sees it (for tests that look inside). */
export function adapterKey(keys: Keys, platform: Platform, key: string): string {
  return `${adapterKeyPrefix(keys, platform)}${key}`;
}
