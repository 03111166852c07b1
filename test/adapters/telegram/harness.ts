/** Test harness for the Telegram adapter tests: the fake, an isolated Redis prefix, a capturing logger. */
import { createTelegramAdapter, type TelegramAdapter, type TelegramAdapterOptions } from '../../../adapters/telegram/index.js';
import type { AdapterDeps, InboundSink } from '../../../src/core/index.js';
import { startTelegramFake, type TelegramFake, type TelegramFakeOptions } from '../../../fakes/telegram/index.js';
import type { Keys } from '../../../src/redis/keys.js';
import { adapterDeps, capturingLogger, TestSink } from '../../helpers/adapter.js';
import { isolatedRedis } from '../../helpers/redis.js';

/** One fake + adapter + Redis prefix; `close()` tears all of it down (safe to call when a start failed half way). */
export interface Rig {
  fake: TelegramFake;
  adapter: TelegramAdapter;
  deps: AdapterDeps;
  /** Where the adapter publishes (a TestSink unless the test passed its own). */
  sink: TestSink;
  keys: Keys;
  lines: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts a fake and an adapter pointed at it (polling with a 1 s hold unless options say otherwise). */
export async function rig(opts: { fake?: TelegramFakeOptions; adapter?: Partial<TelegramAdapterOptions>; sink?: InboundSink; start?: boolean } = {}): Promise<Rig> {
  const fake = await startTelegramFake(opts.fake);
  const iso = await isolatedRedis();
  const { log, lines } = capturingLogger();
  const sink = opts.sink ?? new TestSink();
  const deps = adapterDeps('telegram', { keys: iso.keys, redis: iso.redis, sink, log });
  const adapter = createTelegramAdapter({ token: fake.token, apiRoot: fake.url, pollTimeoutSeconds: 1, retryDelayMs: 50, adminCacheMs: 60_000, ...opts.adapter }, deps);
  const close = async () => {
    await adapter.stop().catch(() => undefined);
    await fake.close();
    deps.close();
    await iso.cleanup();
  };
  try {
    await adapter.init();
    if (opts.start !== false) await adapter.startInbound();
  } catch (err) {
    await close();
    throw err;
  }
  return { fake, adapter, deps, sink: sink instanceof TestSink ? sink : new TestSink(), keys: iso.keys, lines, close };
}
