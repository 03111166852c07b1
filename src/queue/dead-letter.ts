/** The dead-letter place: events and actions that could not be handled, with the reason, kept for inspection. */
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';

/** How many dead letters are kept (oldest trimmed first). */
export const DEAD_LETTER_MAX = 10_000;

/** One dead letter as stored. */
export interface DeadLetter {
  id: string;
  source: string;
  reason: string;
  payload: string;
  at: number;
}

/** A Redis stream of dead letters plus a lifetime counter. */
export class DeadLetterStore {
  private readonly stream: string;
  private readonly counter: string;
  constructor(
    private readonly redis: Redis,
    keys: Keys,
  ) {
    this.stream = keys.k('deadletter');
    this.counter = keys.k('stats', 'deadletter');
  }

  /** Records an item that failed for good; the payload is cut to 8 KB so hostile input cannot bloat Redis. */
  async add(source: string, reason: string, payload: unknown): Promise<void> {
    let text: string;
    try {
      text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    } catch {
      text = String(payload);
    }
    await this.redis
      .multi()
      .xadd(this.stream, 'MAXLEN', '~', DEAD_LETTER_MAX, '*', 'source', source, 'reason', reason.slice(0, 500), 'payload', (text ?? '').slice(0, 8192), 'at', String(Date.now()))
      .incr(this.counter)
      .exec();
  }

  /** How many dead letters were ever recorded. */
  async count(): Promise<number> {
    return Number((await this.redis.get(this.counter)) ?? 0);
  }

  /** The newest dead letters, newest first. */
  async latest(limit = 20): Promise<DeadLetter[]> {
    const rows = await this.redis.xrevrange(this.stream, '+', '-', 'COUNT', limit);
    return rows.map(([id, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return { id, source: f.source ?? '', reason: f.reason ?? '', payload: f.payload ?? '', at: Number(f.at ?? 0) };
    });
  }
}
