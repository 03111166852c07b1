/**
 * The adapter's intake: what Slack delivers goes in in arrival order, is published to the inbound sink in batches,
 * and only then acknowledged (the Socket Mode envelope acked, the HTTP request answered). While Redis is away the
 * events wait in order and publishing is retried with backoff; an envelope Slack sends again meanwhile joins the
 * one already waiting (same event id), and is acknowledged with it.
 */
import type { Logger } from 'pino';
import type { ChatEventInput, InboundSink } from '../../src/core/index.js';
import { backoffMs, sleep, type Backoff } from '../kit/index.js';

/** One delivery: its events (maybe still being prepared: a users.info lookup) and its acknowledgement. */
interface Slot {
  ready: boolean;
  events: ChatEventInput[];
  ack: (() => unknown) | undefined;
}

/** Figures for status(). */
export interface IntakeStats {
  published: number;
  duplicates: number;
  publishFailures: number;
  ackFailures: number;
  lastError: string | null;
}

/** Options of the intake. */
export interface IntakeOptions {
  sink: InboundSink;
  log: Logger;
  /** Most events in one publish. */
  batchMax: number;
  /** Waits between failed publishes. */
  retry: Backoff;
  /** Aborted when the adapter stops: a wait for Redis ends, what waits stays unacknowledged (Slack sends it again). */
  signal: AbortSignal;
  /** After a batch is in the sink, before its acknowledgements (the catch-up cursors move here). */
  afterPublish?: (published: readonly ChatEventInput[]) => Promise<void>;
}

/** Ordered, batched publishing; acknowledgement after publishing. */
export class Intake {
  private readonly slots: Slot[] = [];
  private readonly recent = new Set<string>();
  private draining: Promise<void> | null = null;
  readonly stats: IntakeStats = { published: 0, duplicates: 0, publishFailures: 0, ackFailures: 0, lastError: null };

  constructor(private readonly o: IntakeOptions) {}

  /** Takes one delivery: its events, or a promise of them, and what acknowledges it once they are in the sink. */
  push(events: ChatEventInput[] | Promise<ChatEventInput[]>, ack?: () => unknown): void {
    const slot: Slot = { ready: !(events instanceof Promise), events: events instanceof Promise ? [] : events, ack };
    this.slots.push(slot);
    if (events instanceof Promise) {
      events
        .then((ready) => {
          slot.events = ready;
        })
        .catch((err: unknown) => this.o.log.warn({ platform: 'slack', err: err instanceof Error ? err.message : String(err) }, 'could not prepare an inbound event; skipped'))
        .finally(() => {
          slot.ready = true;
          this.kick();
        });
    } else {
      this.kick();
    }
  }

  private kick(): void {
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
      if (this.slots[0]?.ready && !this.o.signal.aborted) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.slots[0]?.ready) {
      let n = 0;
      let count = 0;
      while (n < this.slots.length && this.slots[n]!.ready && (n === 0 || count + this.slots[n]!.events.length <= this.o.batchMax)) count += this.slots[n++]!.events.length;
      const batch = this.slots.slice(0, n);
      const events = this.fresh(batch.flatMap((s) => s.events));
      for (let attempt = 1; events.length; attempt++) {
        try {
          await this.o.sink.publish(events);
          break;
        } catch (err) {
          // Redis is away: keep the events (and their acknowledgements) in order and try again; nothing is dropped.
          this.stats.publishFailures++;
          this.stats.lastError = err instanceof Error ? err.message : String(err);
          if (attempt === 1 || attempt % 20 === 0) this.o.log.error({ platform: 'slack', waiting: this.pending, err: this.stats.lastError }, 'inbound publish failed; retrying');
          if (!(await sleep(backoffMs(attempt, this.o.retry), this.o.signal))) return;
        }
      }
      this.stats.lastError = null;
      this.stats.published += events.length;
      for (const e of events) this.remember(e.id);
      this.slots.splice(0, n);
      if (events.length && this.o.afterPublish) {
        await this.o.afterPublish(events).catch((err: unknown) => this.o.log.warn({ platform: 'slack', err: err instanceof Error ? err.message : String(err) }, 'could not move the catch-up cursors'));
      }
      for (const s of batch) void this.acknowledge(s);
    }
  }

  /** The events not already published (a redelivery published a moment ago, or twice in one batch). */
  private fresh(events: ChatEventInput[]): ChatEventInput[] {
    const seen = new Set<string>();
    const out = events.filter((e) => !this.recent.has(e.id) && !seen.has(e.id) && seen.add(e.id));
    this.stats.duplicates += events.length - out.length;
    return out;
  }

  private remember(id: string): void {
    this.recent.add(id);
    if (this.recent.size > 20_000) this.recent.delete(this.recent.values().next().value!);
  }

  private async acknowledge(s: Slot): Promise<void> {
    try {
      await s.ack?.();
    } catch (err) {
      // The connection went between publishing and acknowledging: Slack sends the envelope again, and it is dropped as
      // already published (its event id).
      this.stats.ackFailures++;
      this.o.log.info({ platform: 'slack', err: err instanceof Error ? err.message : String(err) }, 'could not acknowledge a delivery; Slack will send it again');
    }
  }

  /** Waits until everything pushed so far is published, or `timeoutMs`; true when nothing waits. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.slots.length && Date.now() < deadline && !this.o.signal.aborted) {
      await Promise.race([this.draining ?? Promise.resolve(), sleep(20)]);
    }
    return this.slots.length === 0;
  }

  /** Events waiting to be published. */
  get pending(): number {
    return this.slots.reduce((n, s) => n + s.events.length, 0);
  }
}
