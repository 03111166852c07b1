/**
 * The AMA engine: one ranked question queue across Telegram, Discord and X, answers threaded back everywhere.
 *
 * Wiring (see README.md in this folder):
 *   const ama = createAmaFeature(deps);
 *   registry.register(...ama.commands); registry.setHostCheck(ama.hostCheck);
 *   createHandleEvent(deps, [moderation, registry.feature(), ama.feature, threads, digest]);
 *   const scheduler = await startAmaScheduler({ url, keys, deps });   // in `start` and `worker --role scheduler`
 */
import type { CommandSpec, HostCheck } from '../../commands/router.js';
import type { CoreDeps } from '../../pipeline/context.js';
import type { Feature } from '../../pipeline/handle-event.js';
import type { Keys } from '../../redis/keys.js';
import type { Logger } from 'pino';
import { amaCommands } from './commands.js';
import { amaMiddleware, amaPrefetch } from './intake.js';
import type { CloseOptions } from './lifecycle.js';
import { startAmaScheduler as startScheduler, tickAmaScheduler, type AmaSchedulerHandle } from './scheduler.js';
import { amaEnv, type AmaEnv } from './store.js';

/** Options of the AMA feature. */
export interface AmaFeatureOptions {
  /** Ranking doubling time τ in ms (default 30 minutes; README.md). */
  rankDoublingMs?: number;
  /** The LLM provider key for the optional reward quality scorer (LLM_API_KEY; the provider is `digest.llm`). */
  llmApiKey?: string;
}

/** What createAmaFeature returns. */
export interface AmaFeature {
  /** The pipeline step (after the command router). */
  feature: Feature;
  /** The chat commands, for `CommandRegistry.register(...)`. */
  commands: CommandSpec[];
  /** Decides the `host` precondition, for `CommandRegistry.setHostCheck`. */
  hostCheck: HostCheck;
  /** The shared AMA environment (service functions accept it as well as CoreDeps). */
  env: AmaEnv;
  /** Runs the due scheduler tasks once (tests with a controllable clock). */
  tick(): Promise<number>;
}

/** Builds the AMA feature on the core's dependencies. */
export function createAmaFeature(deps: CoreDeps, opts: AmaFeatureOptions = {}): AmaFeature {
  const env = amaEnv(deps, opts.rankDoublingMs !== undefined ? { doublingMs: opts.rankDoublingMs } : {});
  const close: CloseOptions = opts.llmApiKey ? { llmApiKey: opts.llmApiKey } : {};
  const { commands, hostCheck } = amaCommands(env, close);
  return {
    feature: { name: 'ama', middleware: amaMiddleware(env), prefetch: amaPrefetch(env) },
    commands,
    hostCheck,
    env,
    tick: () => tickAmaScheduler(env, close),
  };
}

/** Starts the AMA scheduler (a `scheduler` BullMQ queue under `keys.prefix`, ticking every second); `close()` stops it. */
export async function startAmaScheduler(opts: { url: string; keys: Keys; deps: CoreDeps; tickMs?: number; log?: Logger; llmApiKey?: string; env?: AmaEnv }): Promise<AmaSchedulerHandle> {
  return startScheduler({
    url: opts.url,
    keys: opts.keys,
    deps: opts.deps,
    env: opts.env ?? amaEnv(opts.deps),
    ...(opts.tickMs !== undefined ? { tickMs: opts.tickMs } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    close: opts.llmApiKey ? { llmApiKey: opts.llmApiKey } : {},
  });
}

export type { AmaSchedulerHandle } from './scheduler.js';
export { SCHEDULER_QUEUE, tickAmaScheduler } from './scheduler.js';
export {
  amaSchedule,
  amaList,
  amaGet,
  amaStart,
  amaEnd,
  amaCancel,
  amaRecap,
  amaQuestions,
  amaAnswer,
  amaApprove,
  amaReject,
  amaMerge,
  amaSplit,
  questionNumber,
  type RecapFormat,
} from './service.js';
export { ScheduleInputSchema, type ScheduleInput, type AmaView } from './lifecycle.js';
export type { Ama, Ask, Question, QuestionStatus, AmaStatus } from './model.js';
export type { QuestionView } from './questions.js';
export type { AmaRecap } from './recap.js';
export { rankScore, RANK_DOUBLING_MS } from './rank.js';
export { amaEnv, type AmaEnv } from './store.js';
export { benchAmaIntake, type AmaIntakeBench } from './bench.js';
