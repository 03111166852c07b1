/** discord.js errors -> the errors the outbound runner understands. Never carries URLs: webhook URLs hold interaction tokens. */
import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { PermanentPlatformError, RateLimitedError } from '../../src/core/errors.js';

/** Statuses retrying cannot fix: bad request, bad token, forbidden, gone. */
const PERMANENT = new Set([400, 401, 403, 404, 405, 413]);

/** Discord error codes that mean "already done", for idempotent actions (unknown message/ban/member). */
export const ALREADY_GONE = new Set([10008, 10026, 10007]);

/** True for an error that means the thing is gone or the bot may not see it (404, 403): an answer, not a failure. */
export function isGoneOrForbidden(e: Error): e is PermanentPlatformError {
  return e instanceof PermanentPlatformError && (e.status === 404 || e.status === 403);
}

/** Maps an error from a REST call to RateLimitedError, PermanentPlatformError, or a plain retryable Error. */
export function toPlatformError(err: unknown, what: string): Error {
  if (err instanceof RateLimitedError || err instanceof PermanentPlatformError) return err;
  if (err instanceof RateLimitError) {
    const wait = Math.max(1, Math.ceil(Math.max(err.retryAfter, err.timeToReset, err.sublimitTimeout ?? 0)));
    return new RateLimitedError(wait, `discord rate limit on ${safeRoute(err.route)} for ${wait} ms (${what})`, err.global);
  }
  if (err instanceof DiscordAPIError) {
    const msg = `discord ${what}: ${err.status} ${typeof err.code === 'number' ? `code ${err.code}: ` : ''}${err.message}`.slice(0, 300);
    if (err.status === 429) return new RateLimitedError(1000, msg);
    if (PERMANENT.has(err.status)) return new PermanentPlatformError(msg, err.status);
    return new Error(msg);
  }
  if (err instanceof HTTPError) return new Error(`discord ${what}: HTTP ${err.status}`);
  if (err instanceof Error) return new Error(`discord ${what}: ${err.message}`.slice(0, 300));
  return new Error(`discord ${what}: ${String(err).slice(0, 200)}`);
}

/** A bucket route with interaction and webhook tokens taken out (discord.js keeps them in interaction routes). */
export function safeRoute(route: string): string {
  return route.replace(/^\/(interactions|webhooks)\/([^/]+)\/[^/]+/, '/$1/$2/:token').slice(0, 120);
}

/** The Discord error code of a REST error, when there is one. */
export function discordCode(err: unknown): number | undefined {
  return err instanceof DiscordAPIError && typeof err.code === 'number' ? err.code : undefined;
}
