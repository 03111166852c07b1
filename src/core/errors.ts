/** Error kinds that carry what their handler needs: the person in the chat, the queue, or the operator. */

/** A refusal meant for the person in the chat ("only moderators can do that"); not an operator error. */
export class UserError extends Error {
  override name = 'UserError';
  /** Stable identifier for tests and translations. */
  readonly identifier: string;
  constructor(identifier: string, message: string) {
    super(message);
    this.identifier = identifier;
  }
}

/** The platform asked us to wait: the adapter's outbound queue pauses for `retryAfterMs`. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  readonly retryAfterMs: number;
  /** True when the limit is global to the bot rather than one chat/route. */
  readonly global: boolean;
  constructor(retryAfterMs: number, message = `rate limited for ${retryAfterMs} ms`, global = false) {
    super(message);
    this.retryAfterMs = retryAfterMs;
    this.global = global;
  }
}

/** The platform said no for good (403, chat gone, reply restricted): fail without retrying. */
export class PermanentPlatformError extends Error {
  override name = 'PermanentPlatformError';
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

/** A handler threw while handling an event; keeps the event id for the record. */
export class HandlerError extends Error {
  override name = 'HandlerError';
  readonly eventId: string;
  constructor(cause: unknown, eventId: string) {
    super(`handler failed for ${eventId}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.eventId = eventId;
  }
}
