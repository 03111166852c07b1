/**
 * The inbound pipeline: dispatches go in, in gateway order; their events are published in that order, in batches,
 * each once; what waits on an event (acknowledging an interaction) runs only after it is durably queued.
 */
import type { ChainableCommander } from 'ioredis';
import type { Logger } from 'pino';
import { type AdapterStore, type ChatEventInput, ChatEventSchema, type InboundSink } from '../../src/core/index.js';
import { Lru } from './lru.js';

/** One dispatch's worth of events, possibly still being prepared (a channel fetch). */
interface Slot {
  ready: boolean;
  events: ChatEventInput[];
  /** Runs once the events are in the queue. */
  after?: () => void;
}

/** Figures the adapter reports in status(). */
export interface InboundStats {
  published: number;
  duplicates: number;
  rejected: number;
  publishFailures: number;
  waiting: number;
  lastError: string | null;
}

/** Options of the pipeline. */
export interface InboundPipelineOptions {
  sink: InboundSink;
  /** The adapter's own keys: the seen marks of published events. */
  store: AdapterStore;
  log: Logger;
  batchMax: number;
  publishRetryMs: number;
  dedupeTtlMs: number;
  /** More writes for the pipeline that marks a published batch as seen (the catch-up cursors). */
  afterPublish?: (published: readonly ChatEventInput[], tx: ChainableCommander) => void;
}

/** Ordered, batched, deduplicated publishing with retry. */
export class InboundPipeline {
  private readonly slots: Slot[] = [];
  private readonly recent = new Lru<string, true>(20_000);
  private draining: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private closed = false;
  readonly stats: InboundStats = { published: 0, duplicates: 0, rejected: 0, publishFailures: 0, waiting: 0, lastError: null };

  constructor(private readonly o: InboundPipelineOptions) {}

  /** Queues events that are ready now. */
  push(events: ChatEventInput[], after?: () => void): void {
    this.slots.push({ ready: true, events, ...(after ? { after } : {}) });
    this.kick();
  }

  /** Reserves a place in the order for events still being prepared; later dispatches wait behind it. */
  pushLater(prepare: Promise<ChatEventInput[]>, after?: () => void): void {
    const slot: Slot = { ready: false, events: [], ...(after ? { after } : {}) };
    this.slots.push(slot);
    prepare
      .then((events) => {
        slot.events = events;
      })
      .catch((err: unknown) => {
        this.o.log.warn({ platform: 'discord', err: err instanceof Error ? err.message : String(err) }, 'could not prepare an inbound event; skipped');
      })
      .finally(() => {
        slot.ready = true;
        this.kick();
      });
  }

  private kick(): void {
    this.stats.waiting = this.slots.reduce((n, s) => n + s.events.length, 0);
    if (this.wake) {
      const w = this.wake;
      this.wake = null;
      w();
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
      if (this.slots[0]?.ready && !this.closed) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.slots.length && this.slots[0]!.ready) {
      let n = 0;
      let count = 0;
      while (n < this.slots.length && this.slots[n]!.ready && count < this.o.batchMax) count += this.slots[n++]!.events.length;
      const batch = this.slots.slice(0, n);
      const events = batch.flatMap((s) => s.events);
      for (;;) {
        try {
          await this.publish(events);
          break;
        } catch (err) {
          // Redis is away: keep the events in order and try again; nothing is dropped.
          this.stats.publishFailures++;
          this.stats.lastError = err instanceof Error ? err.message : String(err);
          if (this.stats.publishFailures === 1 || this.stats.publishFailures % 20 === 0) {
            this.o.log.error({ platform: 'discord', waiting: events.length, err: this.stats.lastError }, 'inbound publish failed; retrying');
          }
          if (this.closed) return;
          await new Promise<void>((r) => {
            const t = setTimeout(r, this.o.publishRetryMs);
            this.wake = () => (clearTimeout(t), r());
          });
        }
      }
      this.stats.lastError = null;
      this.slots.splice(0, n);
      this.stats.waiting = this.slots.reduce((k, s) => k + s.events.length, 0);
      for (const s of batch) {
        try {
          s.after?.();
        } catch (err) {
          this.o.log.warn({ platform: 'discord', err: err instanceof Error ? err.message : String(err) }, 'post-publish step failed');
        }
      }
    }
  }

  private seenKey(id: string): string {
    return `seen:${id}`;
  }

  private async publish(input: ChatEventInput[]): Promise<void> {
    const valid: ChatEventInput[] = [];
    const ids = new Set<string>();
    for (const e of input) {
      const r = ChatEventSchema.safeParse(e);
      if (!r.success) {
        this.stats.rejected++;
        const issue = r.error.issues[0];
        this.o.log.warn({ platform: 'discord', event: String(e.id).slice(0, 120), reason: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` }, 'inbound event rejected');
        continue;
      }
      if (this.recent.has(e.id) || ids.has(e.id)) {
        this.stats.duplicates++;
        continue;
      }
      ids.add(e.id);
      valid.push(e);
    }
    if (!valid.length) return;
    // A redelivered dispatch (RESUME replay, a second gateway connection) counts once, across processes too.
    const seen = (await this.o.store.pipeline(valid.map((e) => ['exists', this.seenKey(e.id)])).exec()) ?? [];
    const fresh = valid.filter((_, i) => seen[i]?.[1] !== 1);
    this.stats.duplicates += valid.length - fresh.length;
    if (fresh.length) await this.o.sink.publish(fresh);
    this.stats.published += fresh.length;
    for (const e of valid) this.recent.set(e.id, true);
    const tx = this.o.store.pipeline();
    for (const e of fresh) tx.set(this.seenKey(e.id), '1', 'PX', this.o.dedupeTtlMs);
    this.o.afterPublish?.(fresh, tx);
    await tx.exec().catch(() => undefined);
  }

  /** Waits until everything pushed so far is published (or the timeout); true when drained. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.slots.length && Date.now() < deadline) {
      await Promise.race([this.draining ?? Promise.resolve(), new Promise((r) => setTimeout(r, 20))]);
    }
    return this.slots.length === 0;
  }

  /** Stops retrying; what is still waiting is reported by the caller. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  /** Events waiting to be published. */
  get pending(): number {
    return this.slots.reduce((n, s) => n + s.events.length, 0);
  }
}
