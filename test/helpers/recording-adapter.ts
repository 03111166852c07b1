/** A PlatformAdapter for queue tests: records what it performed and can be told to fail. Not a platform fake: the
 * platform adapters have their own tests against fakes of the real APIs. */
import type { ActionResult, OutboundLimits, Platform, PlatformAction, PlatformAdapter } from '../../src/core/index.js';

/** The recording adapter. */
export class RecordingAdapter implements PlatformAdapter {
  readonly performed: { action: PlatformAction; at: number }[] = [];
  /** Errors to throw on the next calls, in order. */
  readonly failNext: Error[] = [];
  private n = 0;
  constructor(
    readonly platform: Platform,
    readonly limits: OutboundLimits = { perChat: [{ points: 1000, durationMs: 1000 }], global: [{ points: 10_000, durationMs: 1000 }] },
  ) {}
  async init(): Promise<void> {}
  async startInbound(): Promise<void> {}
  async stop(): Promise<void> {}
  status() {
    return { connected: true, problems: [] };
  }
  async perform(action: PlatformAction): Promise<ActionResult> {
    const err = this.failNext.shift();
    if (err) throw err;
    this.performed.push({ action, at: Date.now() });
    return { messageIds: [String(++this.n)] };
  }
}
