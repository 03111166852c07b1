/** The inbound queue: adapters publish ChatEvents here; a write resolves only once Redis has them. */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { InboundSink } from '../../adapters/types.js';
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

/** The job name carried by every inbound job. */
export const INBOUND_JOB = 'event';

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

  /** Validates and enqueues; the job id is the event id, so the same platform update enqueued twice is one job. */
  async publish(events: ChatEventInput[]): Promise<void> {
    const good: ChatEvent[] = [];
    const bad: Promise<void>[] = [];
    for (const input of events) {
      const r = parseChatEvent(input);
      if (r.ok) good.push(r.event);
      else bad.push(this.deadLetters.add('inbound', r.reason, input));
    }
    if (good.length) {
      await this.queue.addBulk(
        good.map((event) => ({ name: INBOUND_JOB, data: event, opts: { ...INBOUND_JOB_OPTIONS, jobId: toJobId(event.id) } })),
      );
    }
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
