/** Scheduled digests per chat (config `digest.schedule`), on BullMQ job schedulers; deferred under load. */
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { durationMs } from '../../config/load.js';
import { platformOf } from '../../core/ids.js';
import type { CoreDeps } from '../../pipeline/context.js';
import { inboundBacklog } from '../../queue/inbound.js';
import { INBOUND_QUEUE } from '../../queue/names.js';
import { createRedis } from '../../redis/connect.js';
import { chatDigest, digestOverview, renderForChat } from './service.js';

/** The queue scheduled digests run on. */
export const DIGEST_QUEUE = 'digests';

/** How long a deferred digest waits before it looks at the backlog again. */
export const DEFER_MS = 60_000;

/** True when the inbound backlog (messages waiting) is past the configured depth: non-essential work should wait. */
export async function overloaded(deps: CoreDeps, inbound: Queue): Promise<boolean> {
  return (await inboundBacklog(inbound)).messages > deps.config.core.shedBacklog;
}

/** Registers the configured schedules and runs their worker; one schedule per chat however many processes run this. */
export async function startDigestScheduler(opts: { url: string; deps: CoreDeps; deferMs?: number; llmApiKey?: string | undefined }): Promise<{ close(): Promise<void> }> {
  const { deps } = opts;
  const overview = digestOverview(deps, opts.llmApiKey);
  const connection = createRedis(opts.url, { name: 'townhall-digests' });
  const queue = new Queue(DIGEST_QUEUE, { connection, prefix: deps.keys.prefix });
  const inbound = new Queue(INBOUND_QUEUE, { connection, prefix: deps.keys.prefix });
  for (const s of deps.config.digest.schedule) {
    // Same scheduler id from every process: BullMQ keeps one schedule, not one per process.
    await queue.upsertJobScheduler(`digest:${s.chat}`, { every: durationMs(s.every) }, { name: 'digest', data: { chat: s.chat, window: s.window } });
  }
  const workerConnection = createRedis(opts.url, { forWorker: true, name: 'townhall-digests-worker' });
  const worker = new Worker(
    DIGEST_QUEUE,
    async (job: Job<{ chat: string; window: string }>, token?: string) => {
      if (await overloaded(deps, inbound)) {
        await deps.redis.hincrby(deps.keys.k('stats', 'deferred'), 'digest', 1);
        deps.metrics?.deferred?.('digest');
        deps.log.info({ chat: job.data.chat }, 'inbound backlog high: scheduled digest deferred');
        await job.moveToDelayed(Date.now() + (opts.deferMs ?? DEFER_MS), token);
        throw new DelayedError();
      }
      const now = deps.now();
      const win = durationMs(job.data.window);
      const { digest } = await chatDigest(deps.redis, deps.keys, job.data.chat, now - win, now + 1, { maxAgeMs: durationMs(deps.config.core.history.maxAge), threadWindow: deps.config.core.threadWindow, overview });
      if (!digest.totals.messages) return;
      await deps.outbound.enqueue([
        {
          v: 1,
          // One digest per schedule slot: a retried job posts nothing twice.
          id: `digest/${job.data.chat}/${job.id ?? job.timestamp}`,
          type: 'send',
          platform: platformOf(job.data.chat),
          chat: job.data.chat,
          text: renderForChat(digest, job.data.chat, `Digest of the last ${job.data.window}`),
          priority: 'digest',
        },
      ]);
    },
    { connection: workerConnection, prefix: deps.keys.prefix, concurrency: 2 },
  );
  worker.on('error', (err) => deps.log.warn({ err: err.message }, 'digest scheduler error'));
  worker.on('failed', (job, err) => deps.log.warn({ chat: job?.data.chat, err: err.message }, 'scheduled digest failed'));
  return {
    close: async () => {
      await worker.close();
      await queue.close();
      await inbound.close();
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}
