/** Test wiring: a fake Discord, a real Redis under a unique prefix, and the real adapter (discord.js) pointed at the fake. */
import type { Redis } from 'ioredis';
import { createDiscordAdapter, type DiscordAdapter, type DiscordAdapterOptions } from '../../../adapters/discord/index.js';
import type { InboundSink } from '../../../adapters/types.js';
import type { ChatEventInput } from '../../../src/core/events.js';
import { quietLogger } from '../../../src/log.js';
import type { Keys } from '../../../src/redis/keys.js';
import { isolatedRedis } from '../../helpers/redis.js';
import { startDiscordFake, type DiscordFake, type DiscordFakeOptions } from '../../../fakes/discord/index.js';

/** A sink that writes every event to a Redis list (durable, like the real queue) and remembers it for assertions. */
export class RecordingSink implements InboundSink {
  readonly events: ChatEventInput[] = [];
  /** Publishes to fail before succeeding again (Redis being away). */
  failures = 0;
  /** Extra latency per publish. */
  delayMs = 0;
  private waiters: { pred: (e: ChatEventInput) => boolean; resolve: (e: ChatEventInput) => void }[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async publish(events: ChatEventInput[]): Promise<void> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failures > 0) {
      this.failures--;
      throw new Error('redis unavailable (simulated)');
    }
    if (events.length) await this.redis.rpush(this.keys.k('test', 'events'), ...events.map((e) => JSON.stringify(e)));
    for (const e of events) {
      this.events.push(e);
      for (const w of [...this.waiters]) {
        if (w.pred(e)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
  }

  /** The first event (past or future) that matches. */
  waitFor(pred: (e: ChatEventInput) => boolean, timeoutMs = 5000): Promise<ChatEventInput> {
    const past = this.events.find(pred);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (e: ChatEventInput) => (clearTimeout(timer), resolve(e)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no matching event within ${timeoutMs} ms; got ${this.events.map((e) => `${e.kind}:${e.text ?? ''}`).join(' | ').slice(0, 500)}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Events stored in Redis, in order. */
  async stored(): Promise<ChatEventInput[]> {
    return (await this.redis.lrange(this.keys.k('test', 'events'), 0, -1)).map((s) => JSON.parse(s) as ChatEventInput);
  }
}

/** Everything a Discord adapter test needs. */
export interface DiscordHarness {
  fake: DiscordFake;
  adapter: DiscordAdapter;
  sink: InboundSink;
  recorder: RecordingSink;
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
  const recorder = new RecordingSink(r.redis, r.keys);
  const sink = opts.sink ? opts.sink({ redis: r.redis, keys: r.keys, url: r.url }) : recorder;
  const adapter = createDiscordAdapter(
    { token: 'test-bot-token', apiBaseUrl: fake.url, registerCommands: 'global', ...FAST, ...opts.adapter },
    { sink, redis: r.redis, keys: r.keys, log: quietLogger() },
  );
  try {
    await adapter.init();
    if (opts.inbound !== false) await adapter.startInbound();
  } catch (err) {
    await adapter.stop().catch(() => undefined);
    await fake.close();
    await r.cleanup();
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
    close: async () => {
      await adapter.stop();
      await fake.close();
      await r.cleanup();
    },
  };
}
