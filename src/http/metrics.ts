/** Prometheus metrics (prom-client): events in and handled, errors, latency, queue depths read at scrape time. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queue } from 'bullmq';
import type { CoreMetrics } from '../pipeline/context.js';
import { inboundBacklog } from '../queue/inbound.js';

/** The metrics of one process. */
export class TownhallMetrics implements CoreMetrics {
  readonly registry = new Registry();
  readonly eventsIn = new Counter({ name: 'townhall_events_in_total', help: 'Events published to the inbound queue', labelNames: ['platform'], registers: [this.registry] });
  readonly eventsHandled = new Counter({ name: 'townhall_events_handled_total', help: 'Events handled by the core', labelNames: ['kind'], registers: [this.registry] });
  readonly handlerErrors = new Counter({ name: 'townhall_handler_errors_total', help: 'Handler errors by pipeline step', labelNames: ['step'], registers: [this.registry] });
  readonly malformed = new Counter({ name: 'townhall_events_malformed_total', help: 'Malformed inbound events dead-lettered', registers: [this.registry] });
  readonly deferredWork = new Counter({ name: 'townhall_deferred_total', help: 'Non-essential work deferred by load shedding', labelNames: ['what'], registers: [this.registry] });
  readonly outbound = new Counter({ name: 'townhall_outbound_total', help: 'Outbound action outcomes', labelNames: ['platform', 'outcome'], registers: [this.registry] });
  readonly handling = new Histogram({
    name: 'townhall_handling_seconds',
    help: 'Time to handle one event in the core',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  private watched: { display: string; queue: Queue }[] = [];
  readonly queueDepth: Gauge<'queue' | 'state'>;

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: 'townhall_' });
    const watched = () => this.watched;
    const backlog = new Gauge({ name: 'townhall_inbound_backlog_messages', help: 'Messages waiting in the inbound queue (estimated from its jobs)', registers: [this.registry] });
    this.queueDepth = new Gauge({
      name: 'townhall_queue_depth',
      help: 'Jobs per queue and state, read at scrape time',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        await Promise.all(
          watched().map(async ({ display, queue }) => {
            const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
            for (const [state, n] of Object.entries(c)) this.set({ queue: display, state }, n);
            // Inbound jobs may carry batches: the backlog in messages is what load shedding compares.
            if (display === 'inbound') backlog.set((await inboundBacklog(queue)).messages);
          }),
        );
      },
    });
  }

  /** Reads these queues' depths at scrape time rather than on the hot path. */
  watchQueues(queues: { display: string; queue: Queue }[]): void {
    this.watched = queues;
  }

  handled(kind: string): void {
    this.eventsHandled.inc({ kind });
  }
  handlerError(step: string): void {
    this.handlerErrors.inc({ step });
  }
  latency(seconds: number): void {
    this.handling.observe(seconds);
  }
  deferred(what: string): void {
    this.deferredWork.inc({ what });
  }
}
