/**
 * discord.js errors -> PlatformError, decided on Discord's codes: the HTTP status, the JSON error code, the rate
 * limit's retry-after and global flag. Never carries URLs: webhook URLs hold interaction tokens.
 */
import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { PlatformError, type PlatformErrorScope } from '../../src/core/index.js';
import { scopeOfStatus } from '../kit/index.js';

/** Discord error codes that mean "already done", for idempotent actions (unknown message/ban/member). */
export const ALREADY_GONE = new Set([10008, 10026, 10007]);

/** JSON codes that mean the chat itself is gone or closed to the bot: unknown channel, missing access, missing permissions. */
const CHAT_CODES = new Set([10003, 50001, 50013]);

/** True for an answer that the thing is gone or the bot may not see it (404, 403): an answer, not a failure. */
export function isGoneOrForbidden(e: unknown): e is PlatformError {
  return e instanceof PlatformError && e.final;
}

/** Maps an error from a REST call: a PlatformError (wait, fail the action, or stop the chat), or a retryable Error. */
export function toPlatformError(err: unknown, what: string): Error {
  if (err instanceof PlatformError) return err;
  if (err instanceof RateLimitError) {
    const wait = Math.max(1, Math.ceil(Math.max(err.retryAfter, err.timeToReset, err.sublimitTimeout ?? 0)));
    return new PlatformError({
      platform: 'discord',
      method: safeRoute(err.route),
      code: 429,
      scope: err.global ? 'global' : 'per-chat',
      retryAfterMs: wait,
      message: `discord rate limit on ${safeRoute(err.route)} for ${wait} ms (${what})`,
    });
  }
  if (err instanceof DiscordAPIError) {
    const code = typeof err.code === 'number' ? err.code : undefined;
    const message = `discord ${what}: ${err.status} ${code !== undefined ? `code ${code}: ` : ''}${err.message}`.slice(0, 300);
    const method = `${err.method.toUpperCase()} ${safeRoute(new URL(err.url, 'http://x').pathname.replace(/^\/api(\/v\d+)?/, ''))}`;
    if (err.status === 429) return new PlatformError({ platform: 'discord', method, code: 429, scope: 'per-chat', retryAfterMs: 1000, message });
    const scope: PlatformErrorScope | null = code !== undefined && CHAT_CODES.has(code) ? 'per-chat' : scopeOfStatus(err.status);
    if (scope) return new PlatformError({ platform: 'discord', method, code: code ?? err.status, scope, message });
    return new Error(message);
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

/** A refusal decided by the adapter itself before calling Discord (a malformed action, an impossible request). */
export function refused(method: string, message: string, scope: PlatformErrorScope = 'permanent'): PlatformError {
  return new PlatformError({ platform: 'discord', method, code: 'refused', scope, message: `discord ${method}: ${message}` });
}
