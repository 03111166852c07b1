/** Runs the core handler over the inbound queue: parse at the border, dead-letter what is malformed or keeps failing. */
import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { parseChatEvent, type ChatEvent } from '../core/events.js';
import { createRedis } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { DeadLetterStore } from './dead-letter.js';
import { INBOUND_QUEUE } from './names.js';

/** A running inbound worker. */
export interface InboundWorkerHandle {
  worker: Worker;
  close(): Promise<void>;
}

/** Starts a BullMQ worker on the inbound queue that calls `handle` for every valid event. */
export function startInboundWorker(opts: {
  url: string;
  keys: Keys;
  handle: (event: ChatEvent) => Promise<void>;
  log: Logger;
  concurrency?: number;
  onMalformed?: () => void;
  /** How long a job's lock lasts without renewal; a dead worker's job is retried after about this long. */
  lockDurationMs?: number;
}): InboundWorkerHandle {
  const connection = createRedis(opts.url, { forWorker: true, name: 'townhall-inbound-worker' });
  const side = createRedis(opts.url, { name: 'townhall-inbound-deadletter' });
  const deadLetters = new DeadLetterStore(side, opts.keys);
  const worker = new Worker(
    INBOUND_QUEUE,
    async (job: Job) => {
      const parsed = parseChatEvent(job.data);
      if (!parsed.ok) {
        // Malformed: retrying cannot help. Record it and complete the job so the queue moves on.
        opts.onMalformed?.();
        opts.log.warn({ job: job.id, reason: parsed.reason }, 'malformed inbound event dead-lettered');
        await deadLetters.add('inbound', parsed.reason, job.data);
        return;
      }
      await opts.handle(parsed.event);
    },
    {
      connection,
      prefix: opts.keys.prefix,
      concurrency: opts.concurrency ?? 50,
      // Completed jobs are removed at once; failed ones stay inspectable for `townhall status`.
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 10_000 },
      lockDuration: opts.lockDurationMs ?? 30_000,
      stalledInterval: Math.max(500, Math.floor((opts.lockDurationMs ?? 30_000) / 2)),
      maxStalledCount: 3,
    },
  );
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    opts.log.warn({ job: job.id, attempt: job.attemptsMade, final, err: err.message }, 'inbound event handler failed');
    if (final) void deadLetters.add('inbound', `handler failed ${job.attemptsMade}x: ${err.message}`, job.data).catch(() => undefined);
  });
  worker.on('error', (err) => opts.log.error({ err: err.message }, 'inbound worker error'));
  return {
    worker,
    close: async () => {
      await worker.close();
      connection.disconnect();
      side.disconnect();
    },
  };
}
