/**
 * The whole AMA path in one process for end-to-end tests: fake Telegram and Discord servers, the real adapters
 * (telegraf, discord.js) pointed at them, the inbound queue and worker, the core pipeline with the AMA feature,
 * outbound runners per platform and the AMA scheduler, all on a real Redis under an isolated prefix.
 */
import type { Logger } from 'pino';
import { createDiscordAdapter } from '../../../adapters/discord/index.js';
import { createTelegramAdapter } from '../../../adapters/telegram/index.js';
import type { OutboundLimits, PlatformAdapter } from '../../../src/core/index.js';
import { ConfigSchema } from '../../../config/schema.js';
import { CommandRegistry } from '../../../src/commands/router.js';
import { createAmaFeature, startAmaScheduler, type AmaFeature, type AmaSchedulerHandle } from '../../../src/features/ama/index.js';
import { quietLogger } from '../../../src/log.js';
import type { CoreDeps } from '../../../src/pipeline/context.js';
import { createHandleEvent } from '../../../src/pipeline/handle-event.js';
import { InboundQueue } from '../../../src/queue/inbound.js';
import { startInboundWorker, type InboundWorkerHandle } from '../../../src/queue/inbound-worker.js';
import { OutboundQueue, startOutboundRunner, type OutboundRunnerHandle } from '../../../src/queue/outbound.js';
import { startDiscordFake, type DiscordFake } from '../../../fakes/discord/index.js';
import { FAST } from '../../adapters/discord/harness.js';
import { startTelegramFake, type TelegramFake } from '../../../fakes/telegram/index.js';
import { isolatedRedis } from '../../helpers/redis.js';
import { adapterDeps } from '../../helpers/adapter.js';

/** Budgets generous enough that tests are not paced like production, still enforced by the runner. */
export const TEST_LIMITS: OutboundLimits = { perChat: [{ points: 200, durationMs: 1000 }], global: [{ points: 1000, durationMs: 1000 }] };

/** Discord ids are snowflakes: the channel the tests use. */
export const DC_CHANNEL = '900000000000000555';

/** Everything running. */
export interface AmaStack {
  deps: CoreDeps;
  ama: AmaFeature;
  tg: TelegramFake;
  dc: DiscordFake;
  adapters: { telegram: PlatformAdapter; discord: PlatformAdapter };
  runners: Partial<Record<'telegram' | 'discord', OutboundRunnerHandle>>;
  url: string;
  log: Logger;
  /** Starts (again) the outbound runner of a platform in this process. */
  startRunner(p: 'telegram' | 'discord'): void;
  stop(): Promise<void>;
}

/** Starts the stack. */
export async function amaStack(): Promise<AmaStack> {
  const iso = await isolatedRedis();
  const log = quietLogger();
  const tg = await startTelegramFake({ floodControl: false });
  const dc = await startDiscordFake({ token: 'test-bot-token' });
  dc.createChannel(DC_CHANNEL, { name: 'ama' });
  const inbound = new InboundQueue({ url: iso.url, keys: iso.keys });
  const outbound = new OutboundQueue({ url: iso.url, keys: iso.keys });
  const deps: CoreDeps = { redis: iso.redis, keys: iso.keys, config: ConfigSchema.parse({}), outbound, log, now: Date.now };
  const tgDeps = adapterDeps('telegram', { keys: iso.keys, redis: iso.redis, sink: inbound, log });
  const dcDeps = adapterDeps('discord', { keys: iso.keys, redis: iso.redis, sink: inbound, log });
  const telegram = createTelegramAdapter({ token: tg.token, apiRoot: tg.url, pollTimeoutSeconds: 1, retryDelayMs: 50, limits: TEST_LIMITS, registerCommands: false }, tgDeps);
  const discord = createDiscordAdapter({ token: 'test-bot-token', apiBaseUrl: dc.url, registerCommands: 'global', ...FAST, limits: TEST_LIMITS }, dcDeps);
  await telegram.init();
  await discord.init();
  await telegram.startInbound();
  await discord.startInbound();
  const ama = createAmaFeature(deps);
  const registry = new CommandRegistry();
  registry.register(...ama.commands);
  registry.setHostCheck(ama.hostCheck);
  const handle = createHandleEvent(deps, [registry.feature(), ama.feature]);
  const worker: InboundWorkerHandle = startInboundWorker({ url: iso.url, keys: iso.keys, handle, log, lockDurationMs: 2000 });
  const scheduler: AmaSchedulerHandle = await startAmaScheduler({ url: iso.url, keys: iso.keys, deps, tickMs: 100, env: ama.env });
  const adapters = { telegram, discord };
  const runners: AmaStack['runners'] = {};
  const startRunner = (p: 'telegram' | 'discord') => {
    // A short lock: a job held by a runner that was killed is taken over within a couple of seconds.
    runners[p] = startOutboundRunner({ adapter: adapters[p], url: iso.url, keys: iso.keys, log, lockDurationMs: 2000 });
  };
  startRunner('telegram');
  startRunner('discord');
  return {
    deps,
    ama,
    tg,
    dc,
    adapters,
    runners,
    url: iso.url,
    log,
    startRunner,
    stop: async () => {
      await scheduler.close();
      await worker.close();
      for (const r of Object.values(runners)) await r?.close();
      await telegram.stop();
      await discord.stop();
      tgDeps.close();
      dcDeps.close();
      await inbound.close();
      await outbound.close();
      await tg.close();
      await dc.close();
      await iso.cleanup();
    },
  };
}
