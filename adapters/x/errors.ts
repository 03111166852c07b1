/** twitter-api-v2 errors to what the runner needs, and to log lines that carry no secrets. */
import { ApiPartialResponseError, ApiRequestError, ApiResponseError } from 'twitter-api-v2';
import { PlatformError, type PlatformErrorScope } from '../../src/core/index.js';
import { scopeOfStatus } from '../kit/index.js';

/**
 * What is safe to log about a failed X call. Never log the library's error object itself: it holds the
 * ClientRequest, whose headers carry the OAuth signature or bearer token.
 */
export interface XErrorSummary {
  status?: number;
  title?: string;
  detail?: string;
  /** The problem type URI (`https://api.x.com/2/problems/…`), when the answer had one besides `about:blank`. */
  type?: string;
  /** Window reset, ms since the epoch, when the response said. */
  resetAt?: number;
  message: string;
}

/** One line's worth of facts about an error thrown by the client. */
export function summarizeXError(err: unknown): XErrorSummary {
  if (err instanceof ApiResponseError) {
    const data = (err.data ?? {}) as { title?: unknown; detail?: unknown; type?: unknown; errors?: { message?: unknown }[] };
    const title = typeof data.title === 'string' ? data.title.slice(0, 200) : undefined;
    const detail =
      typeof data.detail === 'string'
        ? data.detail.slice(0, 500)
        : typeof data.errors?.[0]?.message === 'string'
          ? String(data.errors[0].message).slice(0, 500)
          : undefined;
    const s: XErrorSummary = { status: err.code, message: `x ${err.code}${title ? ` ${title}` : ''}${detail ? `: ${detail}` : ''}` };
    if (title) s.title = title;
    if (typeof data.type === 'string' && data.type !== 'about:blank') s.type = data.type.slice(0, 200);
    if (detail) s.detail = detail;
    if (err.rateLimit?.reset) s.resetAt = err.rateLimit.reset * 1000;
    return s;
  }
  if (err instanceof ApiPartialResponseError) return { message: `x partial response: ${err.message.slice(0, 200)}` };
  if (err instanceof ApiRequestError) return { message: `x request failed: ${err.requestError?.message?.slice(0, 200) ?? 'network error'}` };
  if (err instanceof Error) return { message: err.message.slice(0, 300) };
  return { message: String(err).slice(0, 300) };
}

/**
 * The error `perform` throws for a failed call, decided on X's status and problem type: a 429 pauses the platform
 * (X's limits are per endpoint for the whole account) until the window's reset; 401 is the bot's credentials; 403
 * the conversation; other 4xx this action; anything else is retried.
 */
export function toPerformError(err: unknown, method = 'x', now = Date.now()): Error {
  const s = summarizeXError(err);
  if (s.status === 429) {
    const wait = s.resetAt && s.resetAt > now ? s.resetAt - now : 60_000;
    return new PlatformError({ platform: 'x', method, code: s.type ?? 429, scope: 'global', retryAfterMs: Math.max(wait, 1000), message: s.message });
  }
  const scope = s.status === undefined ? null : scopeOfStatus(s.status);
  if (scope) return new PlatformError({ platform: 'x', method, code: s.type ?? s.status, scope, message: s.message });
  return new Error(s.message);
}

/** A refusal decided by the adapter itself (a malformed action, what X's API cannot do, a post X refused as a duplicate). */
export function refused(method: string, message: string, scope: PlatformErrorScope = 'permanent'): PlatformError {
  return new PlatformError({ platform: 'x', method, code: 'refused', scope, message });
}
