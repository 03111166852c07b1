/** The inbound queue: adapters publish ChatEvents here; a write resolves only once Redis has them. */
import { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { InboundSink } from '../core/adapter.js';
import { parseChatEvent, type ChatEvent, type ChatEventInput } from '../core/events.js';
import { createRedis } from '../redis/connect.js';
import { toJobId, type Keys } from '../redis/keys.js';
import { DeadLetterStore } from './dead-letter.js';
import { INBOUND_QUEUE } from './names.js';

/** Job options for inbound events: retried with backoff, removed when done so Redis stays small. */
export const INBOUND_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: { count: 10_000 },
} as const;

/** The job name of an inbound job that carries one event (its data is the event). */
export const INBOUND_JOB = 'event';
/** The job name of an inbound job that carries several events received together (`{v: 1, events: [...]}`). */
export const INBOUND_BATCH_JOB = 'events';
/**
 * Most events one job carries. What an adapter receives together (a getUpdates page, a burst of gateway events, a
 * page of mentions) travels as one job: the queue's own cost — three Lua scripts and a job hash per job, about half
 * of Redis's CPU per message when every message is a job — is paid once per batch. The handler still takes each
 * event on its own, with its own "already handled" mark.
 */
export const MAX_EVENTS_PER_JOB = 50;

/** The events an inbound job carries (raw, not yet validated): one, or a batch. */
export function eventsOfJob(job: { name: string; data: unknown }): unknown[] {
  if (job.name !== INBOUND_BATCH_JOB) return [job.data];
  const events = (job.data as { events?: unknown } | null)?.events;
  return Array.isArray(events) ? events : [];
}

/**
 * Messages waiting in the inbound queue. Jobs are counted exactly; a job carries one event or a batch, so the count
 * is scaled by the mean batch size of the oldest waiting jobs (a sample of 20: under load, batches are alike).
 */
export async function inboundBacklog(queue: Queue): Promise<{ jobs: number; messages: number }> {
  const c = await queue.getJobCounts('waiting', 'prioritized');
  const jobs = (c.waiting ?? 0) + (c.prioritized ?? 0);
  if (!jobs) return { jobs, messages: 0 };
  const sample = (await queue.getJobs(['waiting'], 0, 19)).filter(Boolean);
  const mean = sample.length ? sample.reduce((a, j) => a + eventsOfJob(j).length, 0) / sample.length : 1;
  return { jobs, messages: Math.round(jobs * mean) };
}

/** The job id of a batch: the same events published again are the same job (BullMQ keeps one). */
function batchJobId(events: ChatEvent[]): string {
  const h = createHash('sha1');
  for (const e of events) h.update(e.id).update('\n');
  return toJobId(`batch/${events.length}/${h.digest('hex').slice(0, 24)}`);
}

/** Publishes ChatEvents onto the inbound BullMQ queue; malformed ones go to the dead-letter place instead. */
export class InboundQueue implements InboundSink {
  /** The underlying BullMQ queue (status and tests read it). */
  readonly queue: Queue;
  private readonly connection: Redis;
  private readonly deadLetters: DeadLetterStore;
  private readonly ownsConnection: boolean;

  constructor(opts: { url?: string; connection?: Redis; keys: Keys }) {
    if (!opts.connection && !opts.url) throw new Error('InboundQueue needs a url or a connection');
    this.ownsConnection = !opts.connection;
    this.connection = opts.connection ?? createRedis(opts.url!, { name: 'townhall-inbound-producer' });
    this.queue = new Queue(INBOUND_QUEUE, { connection: this.connection, prefix: opts.keys.prefix });
    this.queue.on('error', () => undefined); // connection errors surface through publish() rejections
    this.deadLetters = new DeadLetterStore(this.connection, opts.keys);
  }

  /**
   * Validates and enqueues what was received together, up to MAX_EVENTS_PER_JOB events per job. A single event is a
   * job of its own whose id is the event id; a batch's id is derived from its events' ids. Either way the same
   * platform update enqueued twice is handled once: the handler keeps an "already handled" mark per event.
   */
  async publish(events: ChatEventInput[]): Promise<void> {
    const good: ChatEvent[] = [];
    const bad: Promise<void>[] = [];
    for (const input of events) {
      const r = parseChatEvent(input);
      if (r.ok) good.push(r.event);
      else bad.push(this.deadLetters.add('inbound', r.reason, input));
    }
    const jobs = [];
    // Spread evenly: 60 events become two jobs of 30, not 50 and 10, so workers share the work.
    const count = Math.ceil(good.length / MAX_EVENTS_PER_JOB);
    for (let j = 0; j < count; j++) {
      const part = good.slice(Math.floor((j * good.length) / count), Math.floor(((j + 1) * good.length) / count));
      if (part.length === 1) jobs.push({ name: INBOUND_JOB, data: part[0] as unknown, opts: { ...INBOUND_JOB_OPTIONS, jobId: toJobId(part[0]!.id) } });
      else jobs.push({ name: INBOUND_BATCH_JOB, data: { v: 1, events: part } as unknown, opts: { ...INBOUND_JOB_OPTIONS, jobId: batchJobId(part) } });
    }
    if (jobs.length) await this.queue.addBulk(jobs);
    await Promise.all(bad);
  }

  /** Puts raw, unvalidated payloads on the queue as they are (tests and replay of foreign data). */
  async publishRaw(items: { id: string; data: unknown }[]): Promise<void> {
    await this.queue.addBulk(items.map((it) => ({ name: INBOUND_JOB, data: it.data, opts: { ...INBOUND_JOB_OPTIONS, jobId: toJobId(it.id) } })));
  }

  /** Closes the queue (and the connection when this object made it). */
  async close(): Promise<void> {
    await this.queue.close();
    if (this.ownsConnection) this.connection.disconnect();
  }
}
