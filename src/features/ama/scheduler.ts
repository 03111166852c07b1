/**
 * The AMA scheduler: a BullMQ job scheduler on the `scheduler` queue ticks every second; each tick runs the AMA
 * tasks due by `deps.now()` (tasks.ts). Any number of scheduler processes may run: BullMQ makes one job per tick
 * and each task is leased, so nothing runs twice at once, and every task is idempotent for the crash case.
 * Tests drive the same code with a controllable clock and `tick()`.
 */
import { Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { CoreDeps } from '../../pipeline/context.js';
import { createRedis } from '../../redis/connect.js';
import type { Keys } from '../../redis/keys.js';
import { runPlaceTask } from './answers.js';
import { announceOp, closeOp, notifyBatch, openOp, purgeAma, remindOp, runOp, schedulePendingPurges, spawnNext, type CloseOptions } from './lifecycle.js';
import { getAma, type AmaEnv } from './store.js';
import { runDueTasks, type AmaTask, type TaskOutcome } from './tasks.js';

/** The BullMQ queue name of the scheduler. */
export const SCHEDULER_QUEUE = 'scheduler';

/** A reminder more than this late (the scheduler was down) is skipped rather than posted out of date. */
const STALE_REMINDER_MS = 10 * 60_000;

/** Runs one AMA task. */
export async function handleAmaTask(env: AmaEnv, task: AmaTask, now: number, opts: CloseOptions = {}): Promise<TaskOutcome> {
  switch (task.type) {
    case 'spawn':
      await spawnNext(env, task.series);
      return;
    default:
      break;
  }
  const ama = await getAma(env, task.amaId);
  if (!ama) return;
  switch (task.type) {
    case 'announce':
      if (ama.status === 'scheduled') await runOp(env, announceOp(ama, now));
      return;
    case 'remind':
      if (ama.status === 'scheduled' && now < ama.startsAt && now - (ama.startsAt - task.offsetMs) < STALE_REMINDER_MS) await runOp(env, remindOp(ama, task.offsetMs, now));
      return;
    case 'notify': {
      if (ama.status !== 'scheduled' && ama.status !== 'live') return;
      const { actions, next } = await notifyBatch(env, ama, task.cursor, now);
      if (actions.length) await env.deps.outbound.enqueue(actions);
      if (!next) return;
      // The next batch is a new task payload (its cursor moved); it runs on the next tick.
      await env.deps.redis.hset(env.k.tasks(), `${ama.id}/notify`, JSON.stringify({ ...task, cursor: next }));
      return { retryAt: now };
    }
    case 'open':
      if (ama.status === 'scheduled') await runOp(env, openOp(env, ama, now));
      return;
    case 'close':
      if (ama.status === 'live') await runOp(env, await closeOp(env, ama, now, opts));
      return;
    case 'place':
      return runPlaceTask(env, task, ama, now);
    case 'purge':
      // Only what is over: an AMA re-opened or re-scheduled since keeps its data.
      if (ama.status === 'closed' || ama.status === 'cancelled') await purgeAma(env, ama);
      return;
  }
}

/** Runs every AMA task due now; returns how many ran (the scheduler's tick, callable directly in tests). */
export function tickAmaScheduler(env: AmaEnv, opts: CloseOptions = {}): Promise<number> {
  return runDueTasks(env, (task, now) => handleAmaTask(env, task, now, opts));
}

/** A running scheduler. */
export interface AmaSchedulerHandle {
  /** Runs what is due now, without waiting for the next tick. */
  tick(): Promise<number>;
  close(): Promise<void>;
}

/** Starts the scheduler: a BullMQ job scheduler ticking every `tickMs` on the `scheduler` queue under `keys.prefix`. */
export async function startAmaScheduler(opts: {
  url: string;
  keys: Keys;
  deps: CoreDeps;
  env: AmaEnv;
  tickMs?: number;
  log?: Logger;
  close?: CloseOptions;
}): Promise<AmaSchedulerHandle> {
  const log = opts.log ?? opts.deps.log;
  const purges = await schedulePendingPurges(opts.env).catch((err: unknown) => {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not schedule the purge of ended AMAs; retried at the next start');
    return 0;
  });
  if (purges) log.info({ amas: purges }, 'scheduled the deletion of ended AMAs (ama.retention)');
  const queueConn = createRedis(opts.url, { name: 'townhall-scheduler-queue' });
  const workerConn = createRedis(opts.url, { forWorker: true, name: 'townhall-scheduler-worker' });
  const queue = new Queue(SCHEDULER_QUEUE, { connection: queueConn, prefix: opts.keys.prefix });
  queue.on('error', () => undefined);
  await queue.upsertJobScheduler('ama-tick', { every: opts.tickMs ?? 1000 }, { name: 'tick', opts: { removeOnComplete: true, removeOnFail: 100 } });
  let running: Promise<number> | null = null;
  // One tick at a time per process: a slow tick (a big recap) is not overlapped by the next one.
  const tick = async (): Promise<number> => {
    if (running) return running;
    running = tickAmaScheduler(opts.env, opts.close ?? {}).finally(() => {
      running = null;
    });
    return running;
  };
  const worker = new Worker(
    SCHEDULER_QUEUE,
    async (job) => {
      if (job.name === 'tick') await tick();
    },
    { connection: workerConn, prefix: opts.keys.prefix, concurrency: 1 },
  );
  worker.on('error', (err) => log.error({ err: err.message }, 'AMA scheduler worker error'));
  worker.on('failed', (_job, err) => log.warn({ err: err.message }, 'AMA scheduler tick failed'));
  return {
    tick,
    close: async () => {
      await worker.close();
      await queue.close();
      await running?.catch(() => undefined);
      queueConn.disconnect();
      workerConn.disconnect();
    },
  };
}
