/** Error kinds that carry what their handler needs: the person in the chat, the queue, or the operator. */
import type { Platform } from '../platform/index.js';

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

/**
 * How far a platform's refusal reaches, so the outbound runner knows what to do with the action and the chat:
 * - `permanent`: this action can never succeed (a bad request, a message that is gone): fail it, retry nothing;
 * - `per-chat`: the chat refuses the bot (removed, blocked, forbidden): fail it and stop sending there; with
 *   `retryAfterMs`, the chat is rate limited: that chat waits;
 * - `global`: the whole bot is refused or limited: with `retryAfterMs` the platform's queue pauses; without, the
 *   action is retried with backoff (an operator has to fix the token or the outage).
 */
export type PlatformErrorScope = 'permanent' | 'per-chat' | 'global';

/** What went wrong on a platform, decided by the adapter from the platform's own codes (never its wording). */
export class PlatformError extends Error {
  override name = 'PlatformError';
  /** The platform that answered. */
  readonly platform: Platform;
  /** The API method or route called (`sendMessage`, `POST /channels/:id/messages`). */
  readonly method: string;
  /** The platform's code: an HTTP status, a Telegram error_code, a Discord JSON code, an X problem type. */
  readonly code: string | number | undefined;
  /** How long the platform asked us to wait, when it did. */
  readonly retryAfterMs: number | undefined;
  /** What the refusal reaches. */
  readonly scope: PlatformErrorScope;

  constructor(o: { platform: Platform; method: string; code?: string | number | undefined; scope: PlatformErrorScope; retryAfterMs?: number | undefined; message: string; cause?: unknown }) {
    super(o.message, o.cause === undefined ? undefined : { cause: o.cause });
    this.platform = o.platform;
    this.method = o.method;
    this.code = o.code;
    this.scope = o.scope;
    this.retryAfterMs = o.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(o.retryAfterMs));
  }

  /** True when the platform asked us to wait (a 429): waiting is the answer, not failing. */
  get rateLimited(): boolean {
    return this.retryAfterMs !== undefined;
  }

  /** True for a refusal retrying cannot change (permanent or per-chat, no wait asked). */
  get final(): boolean {
    return this.retryAfterMs === undefined && this.scope !== 'global';
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
