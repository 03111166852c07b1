/** Test harness for the Telegram adapter tests: the fake, an isolated Redis prefix, a capturing logger. */
import { pino, type Logger } from 'pino';
import type { AdapterDeps, InboundSink } from '../../../adapters/types.js';
import { createTelegramAdapter, type TelegramAdapter, type TelegramAdapterOptions } from '../../../adapters/telegram/index.js';
import type { ChatEventInput } from '../../../src/core/events.js';
import { startTelegramFake, type TelegramFake, type TelegramFakeOptions } from '../../../fakes/telegram/index.js';
import { isolatedRedis } from '../../helpers/redis.js';

/** A logger whose lines tests can read (JSON objects). */
export function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

/** A sink that keeps events in memory (and can be told to fail), for tests that look at normalization. */
export class MemorySink implements InboundSink {
  readonly events: ChatEventInput[] = [];
  failures = 0;
  hang = false;
  async publish(events: ChatEventInput[]): Promise<void> {
    if (this.hang) await new Promise(() => undefined);
    if (this.failures > 0) {
      this.failures--;
      throw new Error('redis is down (test)');
    }
    this.events.push(...events);
  }
}

/** Polls until `check` holds, or fails with `what`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One fake + adapter + Redis prefix; `close()` tears all of it down. */
export interface Rig {
  fake: TelegramFake;
  adapter: TelegramAdapter;
  deps: AdapterDeps;
  lines: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts a fake and an adapter pointed at it (polling with a 1 s hold unless options say otherwise). */
export async function rig(opts: { fake?: TelegramFakeOptions; adapter?: Partial<TelegramAdapterOptions>; sink?: InboundSink; start?: boolean } = {}): Promise<Rig> {
  const fake = await startTelegramFake(opts.fake);
  const iso = await isolatedRedis();
  const { log, lines } = capturingLogger();
  const deps: AdapterDeps = { sink: opts.sink ?? new MemorySink(), redis: iso.redis, keys: iso.keys, log };
  const adapter = createTelegramAdapter({ token: fake.token, apiRoot: fake.url, pollTimeoutSeconds: 1, retryDelayMs: 50, adminCacheMs: 60_000, ...opts.adapter }, deps);
  await adapter.init();
  if (opts.start !== false) await adapter.startInbound();
  return {
    fake,
    adapter,
    deps,
    lines,
    close: async () => {
      await adapter.stop();
      await fake.close();
      await iso.cleanup();
    },
  };
}
