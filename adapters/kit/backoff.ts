/** How long to wait before retrying something that failed: exponential, capped, with jitter. */

/** Backoff settings: the first wait, the longest, and how much of each wait is random (0 none, 1 all of it). */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /** Default 0.5: half of each wait is fixed, half random, so many clients that failed together do not retry together. */
  jitter?: number;
}

/** The wait before retry number `attempt` (1 = the first retry): base·2^(attempt-1), capped at max, part of it random. */
export function backoffMs(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const full = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  const jitter = Math.min(1, Math.max(0, b.jitter ?? 0.5));
  return Math.round(full * (1 - jitter) + random() * full * jitter);
}
