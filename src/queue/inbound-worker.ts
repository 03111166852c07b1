/** Runs the core handler over the inbound queue: parse at the border, dead-letter what is malformed or keeps failing. */
import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { parseChatEvent, type ChatEvent } from '../core/events.js';
import { createRedis } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { DeadLetterStore } from './dead-letter.js';
import { eventsOfJob, INBOUND_BATCH_JOB } from './inbound.js';
import { INBOUND_QUEUE } from './names.js';

/** A batch job is never longer than this (publish makes at most 50); anything beyond is hostile and cut. */
const MAX_BATCH_ACCEPTED = 1000;

/** A counting semaphore: at most `size` tasks run at once, the rest wait in order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = Math.max(1, size);
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

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
  // Events in flight across all jobs: `concurrency` jobs of up to 50 events would otherwise be thousands at once,
  // each holding its objects across several Redis round trips — the young generation then promotes them and GC
  // climbs (measured: 21 % of the worker's CPU at 2,500 in flight).
  const slots = new Slots((opts.concurrency ?? 50) * 2);

  /**
   * A job of several events: each is handled on its own, all at once (their Redis calls coalesce). A malformed one is
   * dead-lettered alone. If some fail, the job is retried (with backoff) and the events already handled are skipped
   * by their marks; after the last attempt only the events that still fail are dead-lettered.
   */
  async function handleBatch(job: Job): Promise<void> {
    const raw = eventsOfJob(job);
    const good: ChatEvent[] = [];
    for (const item of raw.slice(0, MAX_BATCH_ACCEPTED)) {
      const parsed = parseChatEvent(item);
      if (parsed.ok) good.push(parsed.event);
      else {
        opts.onMalformed?.();
        opts.log.warn({ job: job.id, reason: parsed.reason }, 'malformed inbound event dead-lettered');
        await deadLetters.add('inbound', parsed.reason, item);
      }
    }
    if (raw.length > MAX_BATCH_ACCEPTED) await deadLetters.add('inbound', `batch of ${raw.length} events cut to ${MAX_BATCH_ACCEPTED}`, { job: job.id });
    const results = await Promise.allSettled(good.map((e) => slots.run(() => opts.handle(e))));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ event: good[i]!, err: r.reason as Error }] : []));
    if (!failed.length) return;
    const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (!final) throw new Error(`${failed.length} of ${good.length} events failed, first: ${failed[0]!.err?.message ?? failed[0]!.err}`);
    for (const f of failed) {
      opts.log.warn({ job: job.id, event: f.event.id, err: f.err?.message }, 'inbound event failed for good');
      await deadLetters.add('inbound', `handler failed ${job.attemptsMade + 1}x: ${f.err?.message ?? f.err}`, f.event);
    }
  }
  const worker = new Worker(
    INBOUND_QUEUE,
    async (job: Job) => {
      if (job.name === INBOUND_BATCH_JOB) return handleBatch(job);
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
    // A batch dead-letters its failing events itself on the last attempt; only a single event's job gets here.
    if (final && job.name !== INBOUND_BATCH_JOB) void deadLetters.add('inbound', `handler failed ${job.attemptsMade}x: ${err.message}`, job.data).catch(() => undefined);
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
